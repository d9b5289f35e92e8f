from odoo import _, api, fields, models
from odoo.exceptions import ValidationError
from odoo.fields import Domain
from odoo.tools.safe_eval import safe_eval


class CollectionPartnerRuleMixin(models.AbstractModel):
    """A rule on customers (a res.partner domain), as policies and teams have."""

    _name = "collection.partner.rule.mixin"
    _description = "Collections: customer rule"

    partner_domain = fields.Char(string="Customer Rule", default="[]")

    @api.constrains("partner_domain")
    def _check_partner_domain(self):
        for record in self:
            try:
                self.env["res.partner"].search_count(record._get_partner_domain(), limit=1)
            except Exception as error:
                raise ValidationError(
                    _(
                        "The customer rule of %(record)s is not a valid domain: %(error)s",
                        record=record.display_name,
                        error=error,
                    )
                ) from error

    def _get_partner_domain(self):
        self.ensure_one()
        return Domain(safe_eval(self.partner_domain or "[]"))

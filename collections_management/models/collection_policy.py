from odoo import api, fields, models
from odoo.fields import Domain

WEEKDAY_FIELDS = (
    "contact_monday",
    "contact_tuesday",
    "contact_wednesday",
    "contact_thursday",
    "contact_friday",
    "contact_saturday",
    "contact_sunday",
)


class CollectionPolicy(models.Model):
    _name = "collection.policy"
    _description = "Collection Policy"
    _inherit = ["collection.partner.rule.mixin"]
    _order = "sequence, id"

    name = fields.Char(required=True, translate=True)
    active = fields.Boolean(default=True)
    sequence = fields.Integer(
        default=10,
        help="Policies with a partner rule are tried in this order; the first that matches applies.",
    )
    company_id = fields.Many2one("res.company", required=True, index=True, default=lambda self: self.env.company)
    currency_id = fields.Many2one(related="company_id.currency_id")
    level_ids = fields.One2many("collection.level", "policy_id", string="Levels", copy=True)
    partner_domain = fields.Char(
        string="Applies to",
        default="[]",
        help="Customers this policy covers when none is chosen on the customer. "
        "An empty rule matches nobody unless the policy is the company's default.",
    )
    is_company_default = fields.Boolean(compute="_compute_is_company_default", string="Company Default")
    minimum_amount = fields.Monetary(
        string="Minimum Overdue Amount",
        currency_field="currency_id",
        help="Customers whose overdue total (in company currency) is below this amount are not reminded.",
    )
    min_days_between_contacts = fields.Integer(
        string="Days Between Contacts",
        default=3,
        help="Minimum number of days between two reminders to the same customer.",
    )
    max_contacts_per_week = fields.Integer(
        string="Contacts per 7 Days",
        default=2,
        help="Maximum number of reminders to the same customer in any 7 days. 0 means no limit.",
    )
    contact_hour_from = fields.Float(string="Contact From", default=8.0)
    contact_hour_to = fields.Float(string="Contact Until", default=20.0)
    contact_monday = fields.Boolean(string="Monday", default=True)
    contact_tuesday = fields.Boolean(string="Tuesday", default=True)
    contact_wednesday = fields.Boolean(string="Wednesday", default=True)
    contact_thursday = fields.Boolean(string="Thursday", default=True)
    contact_friday = fields.Boolean(string="Friday", default=True)
    contact_saturday = fields.Boolean(string="Saturday")
    contact_sunday = fields.Boolean(string="Sunday")
    promise_grace_days = fields.Integer(
        default=3,
        help="Days after a promised date before an unpaid promise counts as broken.",
    )
    promise_max_days = fields.Integer(
        string="Promise Horizon (days)",
        default=30,
        help="How far in the future a customer may promise to pay from the portal.",
    )
    level_count = fields.Integer(compute="_compute_level_count")

    _check_contact_hours = models.Constraint(
        "CHECK(contact_hour_from >= 0 AND contact_hour_to <= 24 AND contact_hour_from < contact_hour_to)",
        "Contact hours must be between 0 and 24, the start before the end.",
    )
    _check_limits = models.Constraint(
        "CHECK(min_days_between_contacts >= 0 AND max_contacts_per_week >= 0 "
        "AND promise_grace_days >= 0 AND promise_max_days >= 0 AND minimum_amount >= 0)",
        "Contact limits, grace days and the minimum amount cannot be negative.",
    )

    @api.depends("company_id.collection_policy_id")
    def _compute_is_company_default(self):
        for policy in self:
            policy.is_company_default = policy.company_id.collection_policy_id == policy

    @api.depends("level_ids")
    def _compute_level_count(self):
        for policy in self:
            policy.level_count = len(policy.level_ids)

    def _allowed_weekdays(self):
        """Weekday numbers (Monday = 0) on which this policy may contact customers."""
        self.ensure_one()
        return {day for day, field in enumerate(WEEKDAY_FIELDS) if self[field]}

    def _get_level_for_days(self, days_late):
        """The highest level of this policy due for an instalment ``days_late`` days past its
        due date (negative before it), or an empty recordset. Levels on or before the due date
        (preventive) only apply while the instalment is not overdue yet."""
        self.ensure_one()
        due = self.level_ids.filtered(lambda level: level.days <= days_late and (level.days > 0 or days_late <= 0))
        return due[-1:] if due else self.env["collection.level"]

    def _policies_for_partners(self, partners):
        """Map each commercial partner to its policy in this company (``self`` is the company's
        active policies): the one chosen on the partner, else the first whose rule matches, else
        the company's default. One query per policy with a rule, not per partner."""
        company = self.env.company
        result = {}
        chosen = partners.with_company(company)
        for partner in chosen:
            if partner.collection_policy_id and partner.collection_policy_id.company_id == company:
                result[partner.id] = partner.collection_policy_id
        remaining = partners.filtered(lambda p: p.id not in result)
        for policy in self.filtered(lambda p: p.partner_domain and p.partner_domain.strip() != "[]"):
            if not remaining:
                break
            matched = self.env["res.partner"].search(Domain("id", "in", remaining.ids) & policy._get_partner_domain())
            for partner in matched:
                result[partner.id] = policy
            remaining -= matched
        default = company.collection_policy_id
        if default:
            for partner in remaining:
                result[partner.id] = default
        return result

    def action_view_levels(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id("collections_management.collection_level_action")
        action["domain"] = [("policy_id", "=", self.id)]
        action["context"] = {"default_policy_id": self.id}
        return action

import re

from odoo import _, api, fields, models
from odoo.exceptions import ValidationError
from odoo.tools import format_date

from .res_partner import CONSENT_SOURCES

E164_RE = re.compile(r"\+[1-9]\d{6,14}")


class CollectionWhatsappOptout(models.Model):
    """A phone number that asked not to receive WhatsApp reminders. Opt-outs belong to the
    number, not to a customer: every customer and contact sharing the number is left alone
    (a family phone, a bookkeeper who handles several companies). A number that opts back in
    is archived, so its history is kept."""

    _name = "collection.whatsapp.optout"
    _description = "WhatsApp Opt-out"
    _order = "date desc, id desc"
    _rec_name = "number"

    number = fields.Char(required=True, index=True, help="The number in E.164 format (+5215512345678).")
    active = fields.Boolean(default=True)
    date = fields.Datetime(default=fields.Datetime.now, required=True)
    source = fields.Selection(CONSENT_SOURCES, default="manual", required=True)
    partner_id = fields.Many2one(
        "res.partner", string="Asked By", ondelete="set null", help="The contact who asked, when known."
    )

    _unique_number = models.UniqueIndex("(number) WHERE active IS TRUE", "This number has already opted out.")

    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:
            if vals.get("number"):
                vals["number"] = self._format_typed(vals["number"])
        return super().create(vals_list)

    def write(self, vals):
        if vals.get("number"):
            vals = dict(vals, number=self._format_typed(vals["number"]))
        return super().write(vals)

    @api.model
    def _format_typed(self, number):
        """A number as a user types it (national or international) in E.164, read in the
        company's country; a clear error when it is not a phone number. Numbers already in
        E.164 (from WhatsApp) are kept as they are."""
        if E164_RE.fullmatch(number):
            return number
        formatted = self._phone_format(number=number, country=self.env.company.country_id, force_format="E164")
        if not formatted:
            raise ValidationError(
                _(
                    "%(number)s is not a valid phone number in %(country)s.",
                    number=number,
                    country=self.env.company.country_id.name or _("any country"),
                )
            )
        return formatted

    @api.model
    def _normalize(self, number):
        """+digits of a number already in E.164 (as WhatsApp ids and sanitised phones are)."""
        digits = "".join(ch for ch in str(number or "") if ch.isdigit())
        return f"+{digits}" if digits else False

    @api.model
    def _optout_numbers(self, numbers):
        """{E.164 number: opt-out} of the opted-out numbers among ``numbers`` (one query)."""
        numbers = {self._normalize(n) for n in numbers if n} - {False}
        if not numbers:
            return {}
        return {optout.number: optout for optout in self.sudo().search([("number", "in", list(numbers))])}

    def _reason(self):
        self.ensure_one()
        return _(
            "The number %(number)s asked not to receive reminders by WhatsApp (on %(date)s).",
            number=self.number,
            date=format_date(self.env, self.date),
        )

    @api.model
    def _opt_out(self, numbers, source="manual", partner=None):
        """Opt ``numbers`` out (those already out stay as they are)."""
        numbers = {self._normalize(n) for n in numbers if n} - {False}
        known = self._optout_numbers(numbers)
        return self.sudo().create(
            [
                {"number": number, "source": source, "partner_id": partner.id if partner else False}
                for number in sorted(numbers - set(known))
            ]
        )

    @api.model
    def _opt_in(self, numbers):
        """Opt ``numbers`` back in: their opt-outs are archived."""
        optouts = self._optout_numbers(numbers)
        if optouts:
            self.sudo().browse([o.id for o in optouts.values()]).write({"active": False})

from odoo import _, fields, models


class CollectionCase(models.Model):
    _inherit = "collection.case"

    whatsapp_window_open = fields.Boolean(
        string="WhatsApp Window Open",
        compute="_compute_whatsapp_window",
        help="The customer wrote on WhatsApp in the last 24 hours: a free-text reply is allowed.",
    )
    whatsapp_last_inbound_date = fields.Datetime(related="partner_id.whatsapp_last_inbound_date")

    def _compute_whatsapp_window(self):
        Communication = self.env["collection.communication"]
        now = fields.Datetime.now()
        for case in self:
            case.whatsapp_window_open = Communication._whatsapp_window_open(case.partner_id, now)

    def _whatsapp_numbers(self):
        """{E.164 number: contact} the case may be written to on WhatsApp: the customer's and its
        contacts' numbers, and the number the customer last wrote from."""
        self.ensure_one()
        partner = self.partner_id.commercial_partner_id
        contacts = self.env["res.partner"].sudo().search([("id", "child_of", partner.id), ("phone", "!=", False)])
        numbers = {}
        for contact in contacts.sorted(lambda c: (c != partner, c.id)):
            if contact.phone_sanitized:
                numbers.setdefault(contact.phone_sanitized, contact)
        if partner.whatsapp_last_inbound_number:
            numbers.setdefault(partner.whatsapp_last_inbound_number, partner)
        return {number: contact.with_env(self.env) for number, contact in numbers.items()}

    def action_whatsapp_reply(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "name": _("WhatsApp"),
            "res_model": "collection.whatsapp.reply",
            "view_mode": "form",
            "target": "new",
            "context": {"default_case_id": self.id},
        }

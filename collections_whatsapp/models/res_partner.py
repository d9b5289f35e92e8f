from odoo import api, fields, models

CONSENT_SOURCES = [
    ("manual", "Recorded by a user"),
    ("keyword", "Keyword sent on WhatsApp"),
    ("portal", "Customer portal"),
    ("contract", "Contract or signed form"),
    ("import", "Import"),
]


class ResPartner(models.Model):
    _inherit = "res.partner"

    whatsapp_optin = fields.Boolean(
        string="WhatsApp Opt-in",
        copy=False,
        help="The customer agreed to receive payment reminders on WhatsApp.",
    )
    whatsapp_optin_date = fields.Datetime(string="Opt-in Date", copy=False)
    whatsapp_optin_source = fields.Selection(CONSENT_SOURCES, string="Opt-in Source", copy=False)
    whatsapp_optout = fields.Boolean(
        string="No Reminders by WhatsApp",
        copy=False,
        help="The customer asked not to receive payment reminders on WhatsApp.",
    )
    whatsapp_optout_date = fields.Datetime(string="Opt-out Date", copy=False)
    whatsapp_optout_source = fields.Selection(CONSENT_SOURCES, string="Opt-out Source", copy=False)
    whatsapp_last_inbound_date = fields.Datetime(
        string="Last WhatsApp Message",
        readonly=True,
        copy=False,
        help="When the customer last wrote on WhatsApp: free-text replies are allowed for 24 hours.",
    )
    whatsapp_last_inbound_number = fields.Char(string="Last WhatsApp Number", readonly=True, copy=False)
    whatsapp_user_id = fields.Char(
        string="WhatsApp User ID",
        readonly=True,
        copy=False,
        index="btree_not_null",
        help="Meta's business-scoped id of this contact: it identifies messages that come without a phone number.",
    )
    whatsapp_proof_requested_date = fields.Datetime(
        string="Proof of Payment Requested",
        readonly=True,
        copy=False,
        help='The customer pressed "I already paid" on WhatsApp: the next file they send is a proof to verify.',
    )
    whatsapp_proof_reminder_id = fields.Many2one(
        "collection.communication",
        string="Reminder Answered with 'I already paid'",
        readonly=True,
        copy=False,
        ondelete="set null",
        help="The proof the customer sends next covers this reminder's invoices.",
    )

    @api.onchange("whatsapp_optin")
    def _onchange_whatsapp_optin(self):
        for partner in self:
            if partner.whatsapp_optin and not partner.whatsapp_optin_date:
                partner.whatsapp_optin_date = fields.Datetime.now()
                partner.whatsapp_optin_source = partner.whatsapp_optin_source or "manual"

    @api.onchange("whatsapp_optout")
    def _onchange_whatsapp_optout(self):
        for partner in self:
            if partner.whatsapp_optout and not partner.whatsapp_optout_date:
                partner.whatsapp_optout_date = fields.Datetime.now()
                partner.whatsapp_optout_source = partner.whatsapp_optout_source or "manual"

    def write(self, vals):
        now = fields.Datetime.now()
        if vals.get("whatsapp_optin") and "whatsapp_optin_date" not in vals:
            vals = dict(vals, whatsapp_optin_date=now)
            vals.setdefault("whatsapp_optin_source", "manual")
        if vals.get("whatsapp_optout") and "whatsapp_optout_date" not in vals:
            vals = dict(vals, whatsapp_optout_date=now)
            vals.setdefault("whatsapp_optout_source", "manual")
        result = super().write(vals)
        if "whatsapp_optout" in vals:
            self._whatsapp_sync_number_optout(vals["whatsapp_optout"], vals.get("whatsapp_optout_source") or "manual")
        return result

    @api.model_create_multi
    def create(self, vals_list):
        partners = super().create(vals_list)
        partners.filtered("whatsapp_optout")._whatsapp_sync_number_optout(True, "manual")
        return partners

    def _whatsapp_sync_number_optout(self, optout, source):
        """An opt-out recorded on a customer is kept on their number too (and an opt-in lifts
        the number's opt-out): whoever else has the number is left alone as well."""
        numbers = [partner.phone_sanitized for partner in self if partner.phone_sanitized]
        Optout = self.env["collection.whatsapp.optout"]
        if optout:
            Optout._opt_out(numbers, source=source, partner=self[:1] if len(self) == 1 else None)
        else:
            Optout._opt_in(numbers)

    @api.model
    def _collections_whatsapp_demo_optin(self):
        """Demo: the demo customers with a phone agreed to WhatsApp reminders."""
        partners = self.search(
            [
                ("phone", "!=", False),
                ("is_company", "=", True),
                ("customer_rank", ">", 0),
                ("whatsapp_optout", "=", False),
            ]
        )
        partners.write({"whatsapp_optin": True, "whatsapp_optin_source": "contract"})

from markupsafe import Markup

from odoo import _, api, fields, models
from odoo.exceptions import UserError
from odoo.fields import Domain
from odoo.tools import plaintext2html

from ..tools import WhatsAppApiError


class CollectionWhatsappReply(models.TransientModel):
    _name = "collection.whatsapp.reply"
    _description = "WhatsApp Reply from a Case"

    case_id = fields.Many2one("collection.case", required=True, ondelete="cascade")
    partner_id = fields.Many2one(related="case_id.partner_id")
    window_open = fields.Boolean(compute="_compute_window")
    last_inbound_date = fields.Datetime(related="case_id.partner_id.whatsapp_last_inbound_date")
    recipient_id = fields.Many2one(
        "res.partner",
        string="Contact",
        compute="_compute_recipient",
        store=True,
        readonly=False,
        domain="[('id', 'child_of', partner_id), ('phone', '!=', False)]",
        help="The customer or one of its contacts: replies only go to their numbers.",
    )
    number = fields.Char(compute="_compute_number", store=True, readonly=True)
    account_id = fields.Many2one(
        "collection.whatsapp.account",
        compute="_compute_account",
        store=True,
        readonly=False,
        domain="[('company_id', '=', company_id)]",
    )
    company_id = fields.Many2one(related="case_id.company_id")
    body = fields.Text(string="Message")
    template_id = fields.Many2one(
        "collection.whatsapp.template",
        domain="[('status', '=', 'approved'), ('account_id', '=', account_id)]",
        help="Outside the 24-hour window WhatsApp only accepts templates approved by Meta.",
    )

    @api.depends("case_id")
    def _compute_window(self):
        Communication = self.env["collection.communication"]
        for wizard in self:
            partner = wizard.case_id.partner_id
            wizard.window_open = Communication._whatsapp_window_open(partner)

    @api.depends("case_id")
    def _compute_recipient(self):
        for wizard in self:
            numbers = wizard.case_id._whatsapp_numbers()
            last = wizard.case_id.partner_id.whatsapp_last_inbound_number
            wizard.recipient_id = numbers.get(last) or wizard.case_id.partner_id

    @api.depends("recipient_id")
    def _compute_number(self):
        for wizard in self:
            partner = wizard.case_id.partner_id
            last = partner.whatsapp_last_inbound_number
            numbers = wizard.case_id._whatsapp_numbers()
            if last and numbers.get(last) == wizard.recipient_id:
                wizard.number = last
            else:
                wizard.number = wizard.recipient_id.phone_sanitized

    def _check_number(self):
        """The number is one of the case's customer or its contacts, and has not opted out.
        Returns the contact it belongs to."""
        self.ensure_one()
        contact = self.case_id._whatsapp_numbers().get(self.number)
        if not self.number or not contact:
            raise UserError(
                _(
                    "WhatsApp replies only go to the numbers of %(customer)s and its contacts; "
                    "%(number)s is not one of them.",
                    customer=self.case_id.partner_id.display_name,
                    number=self.number or _("(no number)"),
                )
            )
        optouts = self.env["collection.whatsapp.optout"]._optout_numbers([self.number])
        if optouts:
            raise UserError(optouts[self.number]._reason())
        return contact

    @api.depends("case_id")
    def _compute_account(self):
        for wizard in self:
            wizard.account_id = self.env["collection.whatsapp.account"]._get_default(wizard.case_id.company_id)

    def action_send(self):
        self.ensure_one()
        case = self.case_id
        if not self.account_id:
            raise UserError(_("No WhatsApp account is configured for %s.", case.company_id.name))
        if self.template_id:
            return self._send_template()
        if not (self.body or "").strip():
            raise UserError(_("Write a message or choose a template."))
        if not self.env["collection.communication"]._whatsapp_window_open(case.partner_id):
            raise UserError(
                _(
                    "The customer has not written on WhatsApp in the last 24 hours: WhatsApp only "
                    "allows templates approved by Meta. Choose a template."
                )
            )
        contact = self._check_number()
        account = self.account_id.sudo()
        try:
            message_id = account._send_text(self.number, self.body.strip())
        except WhatsAppApiError as error:
            raise UserError(account._error_message(error)) from error
        communication_sudo = (
            self.env["collection.communication"]
            .sudo()
            .create(
                {
                    "subject": _("WhatsApp reply"),
                    "company_id": case.company_id.id,
                    "partner_id": case.partner_id.id,
                    "recipient_id": contact.id,
                    "channel": "whatsapp",
                    "state": "sent",
                    "external_id": message_id,
                    "whatsapp_account_id": account.id,
                    "whatsapp_number": self.number,
                    "whatsapp_text": self.body.strip(),
                    "whatsapp_sent_date": fields.Datetime.now(),
                    "body": plaintext2html(self.body.strip()),
                }
            )
        )
        message_sudo = (
            self.env["collection.whatsapp.message"]
            .sudo()
            .create(
                {
                    "communication_id": communication_sudo.id,
                    "account_id": account.id,
                    "number": self.number,
                    "body": self.body.strip(),
                    "wamid": message_id,
                    "state": "sent",
                    "sent_date": fields.Datetime.now(),
                }
            )
        )
        communication_sudo.whatsapp_message_id = message_sudo
        case.message_post(
            body=Markup("<p><b>%s</b></p>%s")
            % (_("WhatsApp reply to %s", self.number), plaintext2html(self.body.strip())),
            message_type="comment",
            subtype_xmlid="mail.mt_note",
        )
        return {"type": "ir.actions.act_window_close"}

    def _send_template(self):
        """Queue a template reminder covering the customer's open instalments."""
        case = self.case_id
        contact = self._check_number()
        lines = (
            self.env["account.move.line"]
            .sudo()
            .search(
                Domain(
                    [
                        ("partner_id", "child_of", case.partner_id.id),
                        ("company_id", "=", case.company_id.id),
                    ]
                )
                & self.env["account.move.line"]._collection_open_domain()
            )
        )
        communication = (
            self.env["collection.communication"]
            .sudo()
            .create(
                {
                    "subject": _("WhatsApp reminder"),
                    "company_id": case.company_id.id,
                    "partner_id": case.partner_id.id,
                    "recipient_id": contact.id,
                    "channel": "whatsapp",
                    "level_id": case.level_id.id,
                    "line_ids": [fields.Command.set(lines.ids)],
                    "amount_total": sum(lines.mapped("amount_residual")),
                    "whatsapp_template_id": self.template_id.id,
                }
            )
        )
        communication._send_whatsapp()
        if communication.state == "failed":
            raise UserError(communication.failure_reason)
        case.message_post(
            body=_("WhatsApp template %s queued.", self.template_id.display_name),
            message_type="comment",
            subtype_xmlid="mail.mt_note",
        )
        return {"type": "ir.actions.act_window_close"}

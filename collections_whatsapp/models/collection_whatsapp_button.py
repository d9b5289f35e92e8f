from markupsafe import Markup

from odoo import _, api, fields, models
from odoo.fields import Domain

BUTTON_ACTIONS = [
    ("pay_link", "Answer with the customer's payment link"),
    ("plan_link", "Answer with the payment plan form"),
    ("talk", "Give the collector a task"),
    ("already_paid", "Ask for the proof of payment"),
    ("none", "Nothing (log the answer only)"),
]
# Shipped with every account: the buttons of the collections reply templates.
DEFAULT_BUTTONS = [
    ("PAY_NOW", "Pagar ahora", "pay_link"),
    ("PAYMENT_PLAN", "Plan de pagos", "plan_link"),
    ("TALK_TO_SOMEONE", "Hablar con alguien", "talk"),
    ("ALREADY_PAID", "Ya pagué", "already_paid"),
]
PLAN_ANCHOR = "#o_collections_plan_form"


class CollectionWhatsappButton(models.Model):
    """What happens when a customer presses a quick-reply button of a template. A button is
    known by the payload we send with the template (or, when Meta gets none, by its text);
    a mapping on a template wins over the account's mapping for the same payload."""

    _name = "collection.whatsapp.button"
    _description = "WhatsApp Reply Button"
    _order = "account_id, template_id, index, id"

    account_id = fields.Many2one("collection.whatsapp.account", required=True, index=True, ondelete="cascade")
    company_id = fields.Many2one(related="account_id.company_id", store=True, index=True)
    template_id = fields.Many2one(
        "collection.whatsapp.template",
        index="btree_not_null",
        ondelete="cascade",
        domain="[('account_id', '=', account_id)]",
        help="Empty: the mapping holds for every template of the account.",
    )
    index = fields.Integer(help="Position of the button in the template (0 is the first).")
    name = fields.Char(string="Button Text", required=True, translate=False)
    payload = fields.Char(required=True, help="Sent with the template; Meta returns it when the button is pressed.")
    action = fields.Selection(BUTTON_ACTIONS, required=True, default="none")

    _unique_payload = models.UniqueIndex(
        "(account_id, COALESCE(template_id, 0), payload)", "A payload is mapped once per template."
    )

    @api.onchange("template_id")
    def _onchange_template_id(self):
        for button in self.filtered("template_id"):
            button.account_id = button.template_id.account_id

    @api.model
    def _create_defaults(self, accounts):
        return self.sudo().create(
            [
                {"account_id": account.id, "index": index, "payload": payload, "name": name, "action": action}
                for account in accounts
                for index, (payload, name, action) in enumerate(DEFAULT_BUTTONS)
            ]
        )

    @api.model
    def _match(self, account, template, payload, label):
        """The mapping of a pressed button: by payload, then by text; the template's first."""
        Account = self.env["collection.whatsapp.account"]
        keys = [str(v) for v in (payload, label) if v]
        if not keys:
            return self.browse()
        buttons = self.sudo().search(
            Domain("account_id", "=", account.id)
            & Domain("template_id", "in", [template.id if template else False, False])
        )
        normalized = {Account._normalize_keyword(k) for k in keys}
        for candidates in (buttons.filtered("template_id"), buttons.filtered(lambda b: not b.template_id)):
            for button in candidates:
                if button.payload in keys:
                    return button
            for button in candidates:
                if Account._normalize_keyword(button.name) in normalized:
                    return button
        return self.browse()

    def _apply(self, communication, contact, number, case, replied_to=None):
        """Do what the button is mapped to for the customer who pressed it (on ``replied_to``,
        the reminder it answers, when known). Returns True."""
        self.ensure_one()
        Communication = communication.env["collection.communication"]
        account = communication.whatsapp_account_id
        partner = contact.commercial_partner_id
        env = Communication._whatsapp_partner_env(partner).env
        if self.action in ("pay_link", "plan_link"):
            reply = Communication._whatsapp_queue_text(account, contact, number, "-", _("WhatsApp payment link"))
            url = reply.portal_url or ""
            if self.action == "pay_link":
                text = env._("Here is your link to see and pay what you owe: %s", url)
            else:
                text = env._("Here you can propose a payment plan: %s", url + PLAN_ANCHOR)
            reply.whatsapp_text = text
            reply.body = Markup("<p>%s</p>") % text
        elif self.action == "already_paid":
            Communication._whatsapp_queue_text(
                account,
                contact,
                number,
                env._(
                    "Thank you. Please send a photo or a PDF of your proof of payment here, "
                    "so that we can match it with your invoices."
                ),
                _("WhatsApp: proof of payment requested"),
            )
            partner.sudo().write(
                {
                    "whatsapp_proof_requested_date": fields.Datetime.now(),
                    "whatsapp_proof_reminder_id": replied_to.id if replied_to else False,
                }
            )
        elif self.action == "talk":
            target = case or partner
            user = case.user_id or partner.with_company(account.company_id).collection_user_id or self.env.user
            summary = _("%s asked to talk to someone", partner.display_name)
            if not target.activity_ids.filtered(lambda a: a.user_id == user and a.summary == summary):
                target.activity_schedule(
                    "mail.mail_activity_data_call",
                    user_id=user.id,
                    summary=summary,
                    note=Markup("<p>%s</p>")
                    % _('Pressed "%(button)s" on WhatsApp from %(number)s.', button=self.name, number=number or ""),
                )
        return True

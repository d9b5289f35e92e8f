from odoo import _, api, fields, models
from odoo.exceptions import UserError
from odoo.fields import Domain


class CollectionLevelPreview(models.TransientModel):
    """What a level sends, for one customer in one language, rendered by the engine's own
    renderer (the preview is what is sent); and the e-mail sent to oneself as a test. Nothing is
    recorded on the customer: the communication rendered is never saved."""

    _name = "collection.level.preview"
    _description = "Preview of a Collection Level"

    level_id = fields.Many2one("collection.level", required=True, ondelete="cascade")
    company_id = fields.Many2one(related="level_id.company_id")
    partner_id = fields.Many2one(
        "res.partner",
        string="Customer",
        domain="[('parent_id', '=', False)]",
        default=lambda self: self._default_partner(),
        help="Whose instalments the message speaks about; by default a customer with overdue instalments.",
    )
    lang = fields.Selection(
        "_selection_lang",
        string="Language",
        default=lambda self: self.env.lang or self.env.user.lang,
        required=True,
    )
    channel = fields.Selection([("email", "E-mail"), ("sms", "SMS")], required=True, default="email")
    subject = fields.Char(compute="_compute_preview")
    body_html = fields.Html(string="Body", compute="_compute_preview", sanitize=True)
    sms_body = fields.Text(string="SMS Text", compute="_compute_preview")
    error = fields.Char(compute="_compute_preview")

    @api.model
    def _selection_lang(self):
        return self.env["res.lang"].get_installed()

    @api.model
    def _default_partner(self):
        """A customer of the company with an overdue open instalment, the most overdue first."""
        level = self.env["collection.level"].browse(self.env.context.get("default_level_id"))
        company = level.company_id or self.env.company
        line = self.env["account.move.line"].search(
            Domain([("company_id", "=", company.id), ("date_maturity", "<", fields.Date.context_today(self))])
            & self.env["account.move.line"]._collection_open_domain(),
            order="date_maturity, id",
            limit=1,
        )
        return line.move_id.commercial_partner_id

    def _preview_communication(self):
        """The communication the engine would create for this customer at this level (not saved):
        every open instalment of the customer in the level's company."""
        self.ensure_one()
        partner = self.partner_id.commercial_partner_id
        Line = self.env["account.move.line"]
        lines = Line.search(
            Domain([("company_id", "=", self.company_id.id), ("move_id.commercial_partner_id", "=", partner.id)])
            & Line._collection_open_domain()
        )
        chain = partner._get_collection_recipient_chains().get(partner.id) or [partner]
        return self.env["collection.communication"].new(
            {
                "subject": self.level_id.name,
                "company_id": self.company_id.id,
                "partner_id": partner.id,
                "recipient_id": chain[0].id,
                "channel": self.channel,
                "level_id": self.level_id.id,
                "line_ids": [fields.Command.set(lines.ids)],
                "amount_total": sum(lines.mapped("amount_residual")),
                "user_id": self.env.uid,
            }
        )

    def _render(self, channel=None):
        """{"subject", "body", "email_from", "sms"} rendered by the engine in the chosen language
        for ``channel`` (default: the chosen one)."""
        self.ensure_one()
        communication = self._preview_communication().with_context(template_preview_lang=self.lang)
        if (channel or self.channel) == "sms":
            template = self.level_id.sms_template_id
            if not template:
                raise UserError(_("Level %s has no SMS template.", self.level_id.name))
            body = template.with_context(template_preview_lang=self.lang)._render_field(
                "body", list(communication._ids), compute_lang=True
            )[communication.id]
            return {"sms": body}
        template = self.level_id.mail_template_id
        if not template:
            raise UserError(_("Level %s has no e-mail template.", self.level_id.name))
        rendered, bodies = communication._render_email(template.with_context(template_preview_lang=self.lang))
        return {
            "subject": rendered[communication.id].get("subject"),
            "email_from": rendered[communication.id].get("email_from"),
            "body": bodies[communication.id],
        }

    @api.depends("level_id", "partner_id", "lang", "channel")
    def _compute_preview(self):
        for preview in self:
            preview.update({"subject": False, "body_html": False, "sms_body": False, "error": False})
            if not preview.level_id or not preview.partner_id:
                continue
            try:
                rendered = preview._render()
            except UserError as error:
                preview.error = error.args[0]
                continue
            preview.subject = rendered.get("subject")
            preview.body_html = rendered.get("body")
            preview.sms_body = rendered.get("sms")

    def action_send_test(self):
        """Send the rendered e-mail to the current user only: no communication, no level recorded,
        nothing in the customer's chatter."""
        self.ensure_one()
        user = self.env.user
        if not user.email:
            raise UserError(_("Set an e-mail address on your user to receive the test."))
        if not self.partner_id:
            raise UserError(_("Choose a customer whose instalments the test speaks about."))
        rendered = self._render(channel="email")
        mail_sudo = (
            self.env["mail.mail"]
            .sudo()
            .create(
                {
                    "subject": _("[Test] %s", rendered["subject"] or self.level_id.name),
                    "body_html": rendered["body"],
                    "email_from": rendered["email_from"] or user.email_formatted,
                    "email_to": user.email_formatted,
                    "auto_delete": True,
                }
            )
        )
        mail_sudo.send(raise_exception=False)
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "type": "success",
                "message": _("Test e-mail sent to %s.", user.email),
                "next": {"type": "ir.actions.act_window_close"},
            },
        }

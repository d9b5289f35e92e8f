from odoo import _, api, fields, models
from odoo.exceptions import ValidationError

STAGES = [
    ("preventive", "Preventive"),
    ("administrative", "Administrative"),
    ("prelegal", "Pre-legal"),
    ("legal", "Legal"),
]


class CollectionLevel(models.Model):
    _name = "collection.level"
    _description = "Collection Level"
    _order = "policy_id, days, id"

    name = fields.Char(required=True, translate=True)
    policy_id = fields.Many2one("collection.policy", required=True, index=True, ondelete="cascade")
    company_id = fields.Many2one(related="policy_id.company_id", store=True, index=True)
    days = fields.Integer(
        string="Days After Due Date",
        required=True,
        help="Days relative to the instalment's due date when this level becomes due; "
        "negative for a reminder before the due date.",
    )
    stage = fields.Selection(STAGES, required=True, default="administrative")
    # E-mail
    channel_email = fields.Boolean(string="E-mail", default=True)
    mail_template_id = fields.Many2one(
        "mail.template",
        string="E-mail Template",
        domain=[("model", "=", "collection.communication")],
    )
    attach_invoices = fields.Boolean(
        string="Attach Invoice PDFs",
        help="Attach the PDF of every invoice the reminder e-mail lists.",
    )
    attach_statement = fields.Boolean(
        string="Attach Statement of Account",
        help="Attach the statement of the instalments the reminder e-mail lists (the reminder letter) as a PDF.",
    )
    # SMS
    channel_sms = fields.Boolean(string="SMS")
    sms_template_id = fields.Many2one(
        "sms.template",
        string="SMS Template",
        domain=[("model", "=", "collection.communication")],
    )
    # Letter
    channel_letter = fields.Boolean(string="Letter")
    letter_report_id = fields.Many2one(
        "ir.actions.report",
        string="Letter Layout",
        domain=[("model", "=", "collection.communication")],
        default=lambda self: self.env.ref(
            "collections_management.action_report_collection_letter", raise_if_not_found=False
        ),
    )
    # Call task
    channel_call = fields.Boolean(string="Call Task")
    call_activity_type_id = fields.Many2one(
        "mail.activity.type",
        string="Task Type",
        default=lambda self: self.env.ref("mail.mail_activity_data_call", raise_if_not_found=False),
    )
    call_user_mode = fields.Selection(
        [
            ("collector", "The customer's collector"),
            ("manager", "The team manager"),
            ("user", "A specific user"),
        ],
        string="Task For",
        default="collector",
    )
    call_user_id = fields.Many2one("res.users", string="Task User")
    fallback = fields.Selection(
        [
            ("none", "Nothing"),
            ("email", "Send an e-mail"),
            ("sms", "Send an SMS"),
            ("letter", "Print a letter"),
            ("task", "Create a task for the collector"),
        ],
        string="If Unreachable",
        default="task",
        required=True,
        help="What to do when a channel of this level cannot reach the customer "
        "(no e-mail, invalid mobile, opted out...).",
    )
    # Escalation
    case_stage_id = fields.Many2one(
        "collection.case.stage",
        string="Move Case To",
        help="Stage the customer's case moves to when this level is reached.",
    )
    assign_to_manager = fields.Boolean(
        string="Assign to Team Manager",
        help="Give the case to the team's manager when this level is reached.",
    )

    _check_unique_days = models.Constraint(
        "UNIQUE(policy_id, days)", "Two levels of a policy cannot start on the same day."
    )

    @api.constrains(
        "channel_email",
        "mail_template_id",
        "channel_sms",
        "sms_template_id",
        "channel_letter",
        "letter_report_id",
        "channel_call",
        "call_user_mode",
        "call_user_id",
    )
    def _check_channel_settings(self):
        for level in self:
            if level.channel_email and not level.mail_template_id:
                raise ValidationError(_("Level %s sends e-mails: choose its e-mail template.", level.name))
            if level.channel_sms and not level.sms_template_id:
                raise ValidationError(_("Level %s sends SMS: choose its SMS template.", level.name))
            if level.channel_letter and not level.letter_report_id:
                raise ValidationError(_("Level %s prints letters: choose its letter layout.", level.name))
            if level.channel_call and level.call_user_mode == "user" and not level.call_user_id:
                raise ValidationError(_("Level %s creates call tasks for a user: choose the user.", level.name))

    def _get_channels(self):
        """Channels this level sends through, in order. Channel modules extend this list;
        the engine hands each communication to ``collection.communication._send_<channel>``."""
        self.ensure_one()
        channels = []
        if self.channel_email:
            channels.append("email")
        if self.channel_sms:
            channels.append("sms")
        if self.channel_letter:
            channels.append("letter")
        if self.channel_call:
            channels.append("call")
        return channels

    def action_preview(self):
        """Open the preview of this level's messages for a customer, in a chosen language."""
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "name": _("Preview of %s", self.name),
            "res_model": "collection.level.preview",
            "view_mode": "form",
            "target": "new",
            "context": {"default_level_id": self.id},
        }

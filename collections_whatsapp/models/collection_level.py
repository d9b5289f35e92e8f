from odoo import _, api, fields, models
from odoo.exceptions import ValidationError


class CollectionLevel(models.Model):
    _inherit = "collection.level"

    channel_whatsapp = fields.Boolean(string="WhatsApp")
    whatsapp_template_id = fields.Many2one(
        "collection.whatsapp.template",
        string="WhatsApp Template",
        domain="[('status', '=', 'approved'), ('company_id', 'in', [company_id, False])]",
        help="A template approved by Meta; the customer's language picks the variant of the same name.",
    )
    whatsapp_template_warning = fields.Char(
        string="WhatsApp Template Warning",
        compute="_compute_whatsapp_template_warning",
        help="Why the WhatsApp template of this level cannot be sent right now.",
    )
    fallback = fields.Selection(
        selection_add=[("whatsapp", "Send a WhatsApp message")], ondelete={"whatsapp": "set default"}
    )

    @api.depends("channel_whatsapp", "fallback", "whatsapp_template_id.status", "whatsapp_template_id.rejected_reason")
    def _compute_whatsapp_template_warning(self):
        for level in self:
            template = level.whatsapp_template_id
            reason = (
                template.sudo()._check_sendable()
                if template and (level.channel_whatsapp or level.fallback == "whatsapp")
                else False
            )
            level.whatsapp_template_warning = (
                _("%s Reminders of this level will not go out on WhatsApp until it is usable again.", reason)
                if reason
                else False
            )

    @api.constrains("channel_whatsapp", "whatsapp_template_id")
    def _check_whatsapp_template(self):
        for level in self:
            if level.channel_whatsapp and not level.whatsapp_template_id:
                raise ValidationError(_("Level %s sends WhatsApp messages: choose its template.", level.name))
            if level.whatsapp_template_id and level.whatsapp_template_id.status != "approved":
                raise ValidationError(
                    _(
                        "Level %(level)s: the WhatsApp template %(template)s is not approved by Meta.",
                        level=level.name,
                        template=level.whatsapp_template_id.display_name,
                    )
                )

    @api.constrains("fallback", "whatsapp_template_id")
    def _check_whatsapp_fallback(self):
        for level in self:
            if level.fallback == "whatsapp" and not level.whatsapp_template_id:
                raise ValidationError(_("Level %s falls back to WhatsApp: choose its WhatsApp template.", level.name))

    def _get_channels(self):
        channels = super()._get_channels()
        if self.channel_whatsapp:
            channels.append("whatsapp")
        return channels

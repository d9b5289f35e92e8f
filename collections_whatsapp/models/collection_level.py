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
    fallback = fields.Selection(
        selection_add=[("whatsapp", "Send a WhatsApp message")], ondelete={"whatsapp": "set default"}
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

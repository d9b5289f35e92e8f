from odoo import _, api, models
from odoo.exceptions import ValidationError


class BaseAutomation(models.Model):
    _inherit = "base.automation"

    @api.constrains("active", "action_server_ids")
    def _check_collection_whatsapp_template(self):
        """The shipped WhatsApp rules come without a template (templates belong to a WhatsApp
        account): a rule is switched on only once its WhatsApp actions have one."""
        for automation in self.filtered("active"):
            missing = automation.action_server_ids.filtered(
                lambda action: action.state == "collection_whatsapp" and not action.collection_whatsapp_template_id
            )
            if missing:
                raise ValidationError(
                    _(
                        "Choose the WhatsApp template of the action %(actions)s before switching on the "
                        "automation rule %(rule)s.",
                        actions=", ".join(missing.mapped("name")),
                        rule=automation.name,
                    )
                )

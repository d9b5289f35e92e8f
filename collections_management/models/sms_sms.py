from odoo import _, models


class SmsSms(models.Model):
    _inherit = "sms.sms"

    def _handle_call_result_hook(self, results):
        """Report the provider's answer on the reminders these SMS carry."""
        res = super()._handle_call_result_hook(results)
        state_by_uuid = {result["uuid"]: result for result in results}
        for sms in self.filtered(lambda s: s.mail_message_id.collection_communication_id):
            communication = sms.mail_message_id.collection_communication_id
            result = state_by_uuid.get(sms.uuid, {})
            if result.get("state") in self.IAP_TO_SMS_STATE_SUCCESS:
                if communication.state == "queued":
                    communication.state = "sent"
            elif communication.state in ("queued", "sent"):
                communication._mark_failed(
                    _("The SMS provider refused the message: %s",
                      result.get("failure_reason") or result.get("state") or _("unknown error"))
                )
        return res

from collections import defaultdict

from odoo import _, models


class SmsSms(models.Model):
    _inherit = "sms.sms"

    def _handle_call_result_hook(self, results):
        """Report the provider's answer on the reminders these SMS carry: sent, or failed with the
        provider's reason (and the level's fallback, once for the whole batch)."""
        res = super()._handle_call_result_hook(results)
        result_by_uuid = {result["uuid"]: result for result in results}
        sent = self.env["collection.communication"]
        failed_by_reason = defaultdict(lambda: self.env["collection.communication"])
        for sms in self.filtered(lambda s: s.mail_message_id.collection_communication_id):
            communication = sms.mail_message_id.collection_communication_id
            result = result_by_uuid.get(sms.uuid, {})
            if result.get("state") in self.IAP_TO_SMS_STATE_SUCCESS:
                sent |= communication.filtered(lambda c: c.state == "queued")
            elif communication.state in ("queued", "sent"):
                reason = _(
                    "The SMS provider refused the message: %s",
                    result.get("failure_reason") or result.get("state") or _("unknown error"),
                )
                failed_by_reason[reason] |= communication
        sent.write({"state": "sent"})
        self.env["collection.communication"]._mark_failed_by_reason(failed_by_reason)
        return res

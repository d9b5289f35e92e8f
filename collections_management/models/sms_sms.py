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
                failed_by_reason[sms._collection_failure_reason(result)] |= communication
        sent.write({"state": "sent"})
        self.env["collection.communication"]._mark_failed_by_reason(failed_by_reason)
        return res

    def _collection_failure_reason(self, result):
        """The provider's reason for refusing this SMS: the failure type Odoo recorded
        (translated) and the provider's own words when it gave some."""
        self.ensure_one()
        label = dict(self._fields["failure_type"]._description_selection(self.env)).get(self.failure_type)
        detail = result.get("failure_reason")
        reason = label or result.get("state") or _("unknown error")
        if detail and detail != reason:
            reason = f"{reason} ({detail})"
        return _("The SMS provider refused the message: %s", reason)

from odoo import models


class MailMail(models.Model):
    _inherit = "mail.mail"

    def _postprocess_sent_message(self, success_pids, success_emails, failure_reason=False, failure_type=None):
        reminders = self.filtered(lambda mail: mail.mail_message_id.collection_communication_id)
        if reminders:
            self.env["collection.communication"].sudo()._update_from_mail(
                reminders, success=not failure_type, failure_reason=failure_reason
            )
        return super()._postprocess_sent_message(
            success_pids, success_emails, failure_reason=failure_reason, failure_type=failure_type
        )

from odoo import _, models


class MailMail(models.Model):
    _inherit = "mail.mail"

    def _postprocess_sent_message(self, success_pids, success_emails, failure_reason=False, failure_type=None):
        reminders = self.filtered(lambda mail: mail.mail_message_id.collection_communication_id)
        if reminders:
            self.env["collection.communication"].sudo()._update_from_mail(
                reminders, success=not failure_type, failure_reason=failure_reason, failure_type=failure_type
            )
        return super()._postprocess_sent_message(
            success_pids, success_emails, failure_reason=failure_reason, failure_type=failure_type
        )

    def _collection_failure_reason(self, failure_reason=False, failure_type=False):
        """Why this e-mail failed, as the transport says: the kind of failure (translated) and the
        server's own error. A refused connection is reported without a reason, which is written
        on the e-mail itself."""
        self.ensure_one()
        failure_type = failure_type or self.failure_type
        detail = failure_reason or self.failure_reason
        label = dict(self._fields["failure_type"]._description_selection(self.env)).get(failure_type)
        if label and detail:
            return _("%(failure)s: %(detail)s", failure=label, detail=detail)
        return label or detail or _("The e-mail could not be sent.")

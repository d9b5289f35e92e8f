import socket
from contextlib import contextmanager
from unittest.mock import patch

from aiosmtpd.controller import Controller

from odoo.exceptions import AccessError, UserError
from odoo.tests import Form, tagged

from odoo.addons.mail.tests.common import MockEmail
from odoo.addons.sms.tests.common import MockSMS

from .common_casework import CaseworkCommon


def _free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class _RefusingSmtp:
    """A real SMTP server that refuses every recipient, as a mailbox that does not exist."""

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: N802 - aiosmtpd hook
        return f"550 5.1.1 <{address}>: Recipient address rejected: mailbox unavailable"


class OutcomesCommon(CaseworkCommon, MockEmail, MockSMS):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.team = cls._team("Bajío", cls.collector_1)
        cls.manager.email = "marta@collections.example.com"

    @contextmanager
    def _smtp_server(self, port):
        """Odoo sends for real, through an outgoing server on 127.0.0.1:``port`` (tests otherwise
        never open a connection)."""
        self.env["ir.mail_server"].create(
            {"name": "Local", "smtp_host": "127.0.0.1", "smtp_port": port, "smtp_encryption": "none"}
        )
        with patch.object(type(self.env["ir.mail_server"]), "_disable_send", lambda *args: False):
            yield

    def _customer_mails(self):
        """E-mails sent to the customer (collectors also hear of their tasks by e-mail)."""
        return [mail for mail in self._mails if "abarrotes" in str(mail["email_to"])]

    def _send_queue_through(self, port):
        with self._smtp_server(port):
            self.env["mail.mail"].sudo().process_email_queue()


@tagged("post_install", "-at_install")
class TestReadableCommunication(OutcomesCommon):
    def test_collector_reads_the_email_as_sent_escaped(self):
        self.customer.name = "Abarrotes <script>alert(1)</script>"
        self._invoice(self.customer, 300.0, days_late=8)
        self._run()
        email = self._communications(channel="email")
        form = Form(email.with_user(self.collector_1))
        body = str(form.message_body)
        self.assertIn("300.00", body)
        self.assertIn("First reminder", form.subject)
        self.assertNotIn("<script>", body)
        self.assertIn("&lt;script&gt;", body)

    def test_sms_text_is_shown(self):
        self._invoice(self.customer, 300.0, days_late=16)
        self._run()
        sms = self._communications(channel="sms")
        self.assertEqual(sms.state, "queued")
        text = self.env["sms.sms"].sudo().search([("mail_message_id.collection_communication_id", "=", sms.id)]).body
        self.assertTrue(text)
        self.assertIn(text.splitlines()[0][:30], str(sms.with_user(self.manager).message_body))

    def test_letter_content_is_shown(self):
        self.level_first.write({"channel_letter": True})
        self._invoice(self.customer, 300.0, days_late=8)
        self._run()
        letter = self._communications(channel="letter")
        self.assertEqual(letter.state, "queued")
        body = str(letter.with_user(self.collector_1).message_body)
        self.assertIn("300.00", body)
        self.assertIn(self.customer.name, body)


@tagged("post_install", "-at_install")
class TestExactFailureReason(OutcomesCommon):
    def test_refused_connection_is_the_reason_and_the_run_counts_it(self):
        self._invoice(self.customer, 300.0, days_late=8)
        run = self._run()
        email = self._communications(channel="email")
        self.assertRecordValues(run, [{"outcome_queued_count": 1, "outcome_failed_count": 0, "error_count": 0}])
        # Nothing listens on this port: the server refuses the connection after the run.
        self._send_queue_through(_free_port())
        self.assertEqual(email.state, "failed")
        self.assertIn("Connection failed (outgoing mail server problem)", email.failure_reason)
        self.assertIn("Connection refused", email.failure_reason)
        run.invalidate_recordset()
        self.assertRecordValues(run, [{"outcome_queued_count": 0, "outcome_failed_count": 1}])
        form = Form(run.with_user(self.manager))
        self.assertEqual((form.outcome_failed_count, form.error_count), (1, 0))

    def test_mailbox_refused_by_a_real_smtp_server(self):
        self._invoice(self.customer, 300.0, days_late=8)
        run = self._run()
        port = _free_port()
        controller = Controller(_RefusingSmtp(), hostname="127.0.0.1", port=port)
        controller.start()
        try:
            self._send_queue_through(port)
        finally:
            controller.stop()
        email = self._communications(channel="email")
        self.assertEqual(email.state, "failed")
        self.assertIn("550", email.failure_reason)
        self.assertIn("mailbox unavailable", email.failure_reason)
        self.assertEqual(run.outcome_failed_count, 1)

    def test_sms_provider_reason_is_the_failure_type(self):
        self._invoice(self.customer_b, 400.0, days_late=16)
        self._run()
        with self.mockSMSGateway(nbr_t_error={"+12065550142": "wrong_number_format"}):
            self.env["sms.sms"].sudo().search([("state", "=", "outgoing")])._send()
        refused = self._communications(self.customer_b, channel="sms")
        self.assertEqual(refused.state, "failed")
        self.assertEqual(refused.failure_reason, "The SMS provider refused the message: Wrong Number Format")


@tagged("post_install", "-at_install")
class TestRetry(OutcomesCommon):
    def _failed_email(self):
        self.customer.email = False
        invoice = self._invoice(self.customer, 300.0, days_late=8)
        self._run()
        email = self._communications(channel="email")
        self.assertEqual(email.state, "failed")
        self.assertFalse(self._instalments(invoice).collection_level_id, "nothing reached the customer")
        return invoice, email

    def test_retry_after_fixing_the_address_records_the_level_and_sends_once(self):
        invoice, email = self._failed_email()
        self.customer.email = "pagos@abarrotes.example.com"
        case = self._case()
        self.assertEqual(case.user_id, self.collector_1)
        email.with_user(self.collector_1).action_retry()
        self.assertRecordValues(email, [{"state": "queued", "failure_reason": False}])
        self.assertEqual(self._instalments(invoice).collection_level_id, self.level_first)
        self.assertEqual(case.level_id, self.level_first)
        self.assertEqual(len(self._communications(channel="email")), 1, "the same communication is sent again")
        with self.mock_mail_gateway():
            self.env["mail.mail"].sudo().process_email_queue()
        self.assertEqual(
            [mail["email_to"] for mail in self._customer_mails()],
            [['"Abarrotes del Bajío" <pagos@abarrotes.example.com>']],
        )
        self.assertEqual(email.state, "sent")
        # No second fallback task for the customer.
        self.assertEqual(len(self._communications(channel="call")), 1)

    def test_retry_that_fails_again_keeps_the_level_and_says_why(self):
        invoice, email = self._failed_email()
        Form(email.with_user(self.manager))  # the manager opens it
        email.with_user(self.manager).action_retry()
        self.assertEqual(email.state, "failed")
        self.assertIn("has no e-mail address", email.failure_reason)
        self.assertFalse(self._instalments(invoice).collection_level_id)
        self.assertEqual(len(self._communications(channel="call")), 1, "no new task")

    def test_retry_of_a_letter_once_the_address_is_known(self):
        self.level_first.write({"channel_letter": True})
        self.customer.write({"street": False, "city": False})
        self._invoice(self.customer, 300.0, days_late=8)
        self._run()
        letter = self._communications(channel="letter")
        self.assertEqual(letter.state, "failed")
        self.assertIn("no postal address", letter.failure_reason)
        self.customer.write({"street": "Blvd. López Mateos 1520", "city": "León"})
        letter.with_user(self.collector_1).action_retry()
        self.assertRecordValues(letter, [{"state": "queued", "failure_reason": False}])
        self.assertIn("300.00", str(letter.message_body))

    def test_retry_of_a_delivered_message_is_refused(self):
        self._invoice(self.customer, 300.0, days_late=8)
        self._run()
        email = self._communications(channel="email")
        for state in ("queued", "sent", "delivered", "read"):
            email.state = state
            with self.assertRaisesRegex(UserError, "only a failed message can be sent again"):
                email.with_user(self.manager).action_retry()
        with self.mock_mail_gateway():
            self.env["mail.mail"].sudo().process_email_queue()
        self.assertEqual(len(self._customer_mails()), 1)

    def test_collector_outside_their_scope_cannot_retry(self):
        __, email = self._failed_email()
        self.customer.email = "pagos@abarrotes.example.com"
        with self.assertRaises(AccessError):
            email.with_user(self.collector_2).action_retry()
        self.assertEqual(email.state, "failed")

    def test_nobody_points_a_retry_at_other_instalments(self):
        """The levels a retry records are the run's (applied as superuser): not even a manager
        sets them by hand, e.g. to instalments of another customer."""
        invoice, email = self._failed_email()
        kept = email.pending_level_lines
        self.assertIn(self._instalments(invoice).id, kept[str(self.level_first.id)])
        other = self._instalments(self._invoice(self.customer_b, 500.0, days_late=30))
        with self.assertRaises(AccessError):
            email.with_user(self.manager).write({"pending_level_lines": {str(self.level_first.id): other.ids}})
        self.assertEqual(email.pending_level_lines, kept)


@tagged("post_install", "-at_install")
class TestLevelPreview(OutcomesCommon):
    def _preview(self, user, **values):
        wizard = Form(
            self.env["collection.level.preview"].with_user(user).with_context(default_level_id=self.level_first.id)
        )
        for name, value in values.items():
            setattr(wizard, name, value)
        return wizard

    def test_preview_in_spanish_for_a_customer_with_overdue_instalments(self):
        self.env["res.lang"]._activate_lang("es_ES")
        self.env["ir.module.module"]._load_module_terms(["collections_management"], ["es_ES"], overwrite=True)
        self._invoice(self.customer, 300.0, days_late=8)
        english = self._preview(self.manager)
        self.assertEqual(english.partner_id, self.customer)
        self.assertIn("Reminder", english.subject)
        self.assertIn("300.00", str(english.body_html))
        spanish = self._preview(self.manager, lang="es_ES")
        self.assertFalse(spanish.error)
        self.assertNotEqual(spanish.subject, english.subject)
        self.assertIn("Recordatorio", spanish.subject)
        spanish.channel = "sms"
        self.assertIn("300", spanish.sms_body)
        self.assertFalse(self.env["collection.communication"].search([]))

    def test_collectors_do_not_preview_levels(self):
        """A preview shows any customer's instalments: it is a manager's tool, like the levels."""
        self._invoice(self.customer, 300.0, days_late=8)
        with self.assertRaises(AccessError):
            self._preview(self.collector_1)

    def test_send_test_to_me_sends_only_to_me_and_records_nothing(self):
        invoice = self._invoice(self.customer, 300.0, days_late=8)
        messages_before = self.customer.message_ids
        wizard = self._preview(self.manager).save()
        with self.mock_mail_gateway():
            wizard.action_send_test()
        self.assertEqual(len(self._mails), 1)
        self.assertEqual(self._mails[0]["email_to"], ['"Marta Manager" <marta@collections.example.com>'])
        self.assertIn("[Test]", self._mails[0]["subject"])
        self.assertIn("300.00", self._mails[0]["body"])
        self.assertFalse(self.env["collection.communication"].search([]))
        self.assertFalse(self._instalments(invoice).collection_level_id)
        self.assertEqual(self.customer.message_ids, messages_before)


@tagged("post_install", "-at_install")
class TestLevelAttachments(OutcomesCommon):
    def test_reminder_attaches_invoices_and_statement(self):
        self.level_first.write({"attach_invoices": True, "attach_statement": True})
        first = self._invoice(self.customer, 300.0, days_late=8)
        second = self._invoice(self.customer, 200.0, days_late=9)
        other = self._invoice(self.customer_b, 100.0, days_late=6)
        self._run()
        report = self.env["ir.actions.report"]._get_report("account.account_invoices")
        mail = (
            self.env["mail.mail"]
            .sudo()
            .search([("mail_message_id.collection_communication_id.partner_id", "=", self.customer.id)])
        )
        self.assertEqual(
            sorted(mail.attachment_ids.mapped("name")),
            sorted(
                [
                    first._get_invoice_report_filename(report=report),
                    second._get_invoice_report_filename(report=report),
                    f"Statement of account - {self.customer.name}.pdf",
                ]
            ),
        )
        other_mail = (
            self.env["mail.mail"]
            .sudo()
            .search([("mail_message_id.collection_communication_id.partner_id", "=", self.customer_b.id)])
        )
        self.assertEqual(
            sorted(other_mail.attachment_ids.mapped("name")),
            sorted(
                [
                    other._get_invoice_report_filename(report=report),
                    f"Statement of account - {self.customer_b.name}.pdf",
                ]
            ),
        )

    def test_levels_without_the_options_attach_nothing(self):
        self._invoice(self.customer, 300.0, days_late=8)
        self._run()
        mail = (
            self.env["mail.mail"]
            .sudo()
            .search([("mail_message_id.collection_communication_id.partner_id", "=", self.customer.id)])
        )
        self.assertEqual(len(mail), 1)
        self.assertFalse(mail.attachment_ids)

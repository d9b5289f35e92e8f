from datetime import datetime, timedelta

from odoo import Command
from odoo.exceptions import ValidationError
from odoo.tests import freeze_time, tagged
from odoo.tools import SQL

from odoo.addons.mail.tests.common import MockEmail
from odoo.addons.sms.tests.common import MockSMS

from ..models.collection_contact_window_mixin import WEEKDAY_FIELDS
from ..models.collection_run import RUN_LOCK_KEY
from .common import CollectionsCommon


@tagged("post_install", "-at_install")
class TestDunningLevels(CollectionsCommon):
    def test_preventive_reminder_before_due_date(self):
        invoice = self._invoice(self.customer, 500.0, days_late=-2)
        self._run()
        reminder = self._communications(channel="email")
        self.assertRecordValues(
            reminder,
            [
                {
                    "level_id": self.level_preventive.id,
                    "state": "queued",
                    "recipient_id": self.customer.id,
                    "amount_total": 500.0,
                }
            ],
        )
        self.assertEqual(reminder.line_ids, self._instalments(invoice))
        self.assertEqual(self._instalments(invoice).collection_level_id, self.level_preventive)

    def test_nothing_before_the_preventive_window(self):
        self._invoice(self.customer, 500.0, days_late=-10)
        self._invoice(self.customer, 500.0, days_late=2)  # overdue but before the first level (+5)
        run = self._run()
        self.assertFalse(self._communications())
        self.assertEqual(run.reminded_count, 0)

    def test_first_reminder_then_escalation(self):
        invoice = self._invoice(self.customer, 800.0, days_late=6)
        self._run()
        self.assertRecordValues(self._communications(), [{"level_id": self.level_first.id, "channel": "email"}])
        # Ten days later the instalment reaches the second level, which also sends an SMS.
        self._run(date=self.today + timedelta(days=10))
        second = self._communications(level_id=self.level_second.id)
        self.assertEqual(sorted(second.mapped("channel")), ["email", "sms"])
        self.assertEqual(self._instalments(invoice).collection_level_id, self.level_second)
        self.assertEqual(self._instalments(invoice).collection_level_date, self.today + timedelta(days=10))

    def test_one_message_for_all_overdue_instalments_at_highest_level(self):
        old = self._invoice(self.customer, 300.0, days_late=35)
        recent = self._invoice(self.customer, 200.0, days_late=7)
        upcoming = self._invoice(self.customer, 100.0, days_late=-1)
        self._run()
        emails = self._communications(channel="email")
        self.assertEqual(len(emails), 1, "one e-mail per customer and run")
        self.assertEqual(emails.level_id, self.level_final)
        self.assertEqual(emails.line_ids, self._instalments(old + recent + upcoming))
        self.assertEqual(emails.amount_total, 600.0)
        # Each instalment records its own level.
        self.assertEqual(self._instalments(old).collection_level_id, self.level_final)
        self.assertEqual(self._instalments(recent).collection_level_id, self.level_first)
        self.assertEqual(self._instalments(upcoming).collection_level_id, self.level_preventive)

    def test_each_customer_gets_its_own_message(self):
        self._invoice(self.customer, 300.0, days_late=8)
        self._invoice(self.customer_b, 400.0, days_late=8)
        self._run()
        emails = self.env["collection.communication"].search([("channel", "=", "email")])
        self.assertEqual(sorted(emails.partner_id.ids), sorted((self.customer | self.customer_b).ids))

    def test_several_instalments_of_one_invoice(self):
        invoice = self._invoice_in_two_instalments(self.customer, 1000.0, days_since_invoice=10)
        self._run()
        email = self._communications(channel="email")
        first_half = self._instalments(invoice).filtered(lambda line: line.date_maturity < self.today)
        self.assertEqual(email.line_ids, first_half, "only the instalment that is due is reminded")
        self.assertEqual(email.amount_total, 500.0)


@tagged("post_install", "-at_install")
class TestDunningRecipients(CollectionsCommon):
    def test_collections_contact_receives_the_reminder(self):
        self.env["res.partner"].create(
            {
                "name": "Invoice desk",
                "parent_id": self.customer.id,
                "type": "invoice",
                "email": "facturas@abarrotes.example.com",
            }
        )
        contact = self.env["res.partner"].create(
            {
                "name": "María Collections",
                "parent_id": self.customer.id,
                "collection_contact": True,
                "email": "maria@abarrotes.example.com",
            }
        )
        self._invoice(self.customer, 300.0, days_late=8)
        self._run()
        self.assertEqual(self._communications(channel="email").recipient_id, contact)

    def test_invoice_address_without_collections_contact(self):
        invoice_desk = self.env["res.partner"].create(
            {
                "name": "Invoice desk",
                "parent_id": self.customer.id,
                "type": "invoice",
                "email": "facturas@abarrotes.example.com",
            }
        )
        self._invoice(self.customer, 300.0, days_late=8)
        self._run()
        self.assertEqual(self._communications(channel="email").recipient_id, invoice_desk)

    def test_email_goes_out_in_the_chatter_of_the_customer(self):
        self._invoice(self.customer, 300.0, days_late=8)
        self._run()
        email = self._communications(channel="email")
        message = email.mail_message_ids
        self.assertEqual(len(message), 1)
        self.assertRecordValues(message, [{"model": "res.partner", "res_id": self.customer.id}])
        self.assertIn(self.customer, message.partner_ids)
        self.assertIn("300.00", message.body)
        self.assertIn(self.company.name, message.subject)

    def test_reminder_in_the_language_of_the_recipient(self):
        self.env["res.lang"]._activate_lang("es_ES")
        self.env["ir.module.module"]._load_module_terms(["collections_management"], ["es_ES"], overwrite=True)
        self.customer.lang = "es_ES"
        self._invoice(self.customer, 300.0, days_late=8)
        self._invoice(self.customer_b, 300.0, days_late=8)
        self._run()
        spanish = self._communications(channel="email").mail_message_ids
        english = self._communications(self.customer_b, channel="email").mail_message_ids
        self.assertIn("Recordatorio", spanish.subject)
        self.assertIn("Estimado", spanish.body)
        self.assertIn("Reminder", english.subject)
        self.assertIn("Dear", english.body)

    def test_amounts_shown_in_the_invoice_currency(self):
        eur = self.setup_other_currency("EUR", rates=[("2000-01-01", 2.0)])
        invoice = self._invoice(self.customer, 1000.0, days_late=8, currency=eur)
        self._run()
        email = self._communications(channel="email")
        self.assertEqual(email.amount_total, 500.0, "company currency")
        self.assertEqual(self._instalments(invoice).amount_residual_currency, 1000.0)
        self.assertIn("1,000.00", email.mail_message_ids.body)
        self.assertIn("€", email.mail_message_ids.body)

    def test_minimum_amount_compares_company_currency(self):
        eur = self.setup_other_currency("EUR", rates=[("2000-01-01", 2.0)])
        self.policy.minimum_amount = 600.0
        self._invoice(self.customer, 1000.0, days_late=8, currency=eur)  # 500.0 in company currency
        self._run()
        self.assertFalse(self._communications())


@tagged("post_install", "-at_install")
class TestDunningExclusions(CollectionsCommon):
    def test_excluded_customer_is_not_contacted_until_exclusion_ends(self):
        self._invoice(self.customer, 300.0, days_late=8)
        self.customer.collection_excluded = True
        self._run()
        self.assertFalse(self._communications())
        self.customer.collection_excluded = False
        self._run()
        self.assertEqual(self._communications(channel="email").level_id, self.level_first)

    def test_excluded_invoice_and_instalment(self):
        excluded_invoice = self._invoice(self.customer, 300.0, days_late=8)
        excluded_invoice.collection_excluded = True
        excluded_line_invoice = self._invoice(self.customer, 200.0, days_late=8)
        self._instalments(excluded_line_invoice).collection_excluded = True
        kept = self._invoice(self.customer, 100.0, days_late=8)
        self._run()
        self.assertEqual(self._communications(channel="email").line_ids, self._instalments(kept))
        excluded_invoice.collection_excluded = False
        self._run(date=self.today + timedelta(days=1))
        later = self._communications(channel="email")[-1]
        self.assertEqual(later.line_ids, self._instalments(excluded_invoice + kept))

    def test_disputed_instalment_leaves_dunning_until_dispute_ends(self):
        disputed = self._invoice(self.customer, 300.0, days_late=8)
        dispute = self.env["collection.dispute"].create(
            {
                "partner_id": self.customer.id,
                "line_ids": [Command.set(self._instalments(disputed).ids)],
                "reason_id": self.env["collection.dispute.reason"].create({"name": "Goods damaged"}).id,
            }
        )
        self._run()
        self.assertFalse(self._communications())
        dispute.state = "rejected"
        self._run()
        self.assertEqual(self._communications(channel="email").line_ids, self._instalments(disputed))

    def test_promised_instalment_is_not_reminded_while_promise_is_open(self):
        promised = self._invoice(self.customer, 300.0, days_late=8)
        other = self._invoice(self.customer, 200.0, days_late=8)
        promise = self.env["collection.promise"].create(
            {
                "partner_id": self.customer.id,
                "date": self.today + timedelta(days=5),
                "amount": 300.0,
                "scope": "lines",
                "line_ids": [Command.set(self._instalments(promised).ids)],
            }
        )
        self._run()
        self.assertEqual(self._communications(channel="email").line_ids, self._instalments(other))
        promise.state = "broken"
        self._run(date=self.today + timedelta(days=1))
        later = self._communications(channel="email")[-1]
        self.assertEqual(later.line_ids, self._instalments(promised + other), "every overdue instalment is listed")
        self.assertEqual(self._instalments(promised).collection_level_id, self.level_first)

    def test_paid_invoice_is_not_reminded(self):
        invoice = self._invoice(self.customer, 300.0, days_late=8)
        self._register_payment(invoice)
        self._run()
        self.assertFalse(self._communications())

    def test_partly_paid_invoice_reminds_the_residual(self):
        invoice = self._invoice(self.customer, 300.0, days_late=8)
        self._register_payment(invoice, amount=100.0)
        self._run()
        self.assertEqual(self._communications(channel="email").amount_total, 200.0)

    def test_minimum_amount_in_company_currency(self):
        self.policy.minimum_amount = 250.0
        self._invoice(self.customer, 200.0, days_late=8)
        self._run()
        self.assertFalse(self._communications())
        self._invoice(self.customer, 100.0, days_late=9)
        self._run()
        self.assertEqual(self._communications(channel="email").amount_total, 300.0)

    def test_unapplied_credit_counts_against_the_minimum(self):
        self.policy.minimum_amount = 100.0
        self._invoice(self.customer, 300.0, days_late=8)
        refund = self.env["account.move"].create(
            {
                "move_type": "out_refund",
                "partner_id": self.customer.id,
                "invoice_date": self.today,
                "invoice_line_ids": [Command.create({"name": "credit", "price_unit": 250.0, "tax_ids": []})],
            }
        )
        refund.action_post()
        self._run()
        self.assertFalse(self._communications(), "300 overdue minus 250 of credit is under the minimum")

    def test_blacklisted_email_falls_back_to_a_task(self):
        self.env["mail.blacklist"].create({"email": self.customer.email})
        self._invoice(self.customer, 300.0, days_late=8)
        self._run()
        email = self._communications(channel="email")
        self.assertEqual(email.state, "failed")
        self.assertIn("blacklisted", email.failure_reason)
        task = self._communications(channel="call")
        self.assertEqual(task.fallback_of_id, email)
        self.assertEqual(len(task.activity_ids), 1)

    def test_email_opt_out(self):
        self.customer.collection_optout_email = True
        self._invoice(self.customer, 300.0, days_late=8)
        self._run()
        email = self._communications(channel="email")
        self.assertEqual(email.state, "failed")
        self.assertFalse(email.mail_message_ids, "nothing was e-mailed")
        self.assertEqual(self._communications(channel="call").state, "queued")


@tagged("post_install", "-at_install")
class TestDunningChannels(CollectionsCommon):
    def test_sms_to_the_e164_number(self):
        self._invoice(self.customer, 300.0, days_late=16)
        self._run()
        sms_communication = self._communications(channel="sms")
        self.assertEqual(sms_communication.state, "queued")
        sms = self.env["sms.sms"].search([("mail_message_id", "in", sms_communication.mail_message_ids.ids)])
        self.assertEqual(sms.number, "+524771234567")
        self.assertIn("300.00", sms.body)

    def test_invalid_phone_fails_and_falls_back(self):
        self.customer.phone = "12"
        self._invoice(self.customer, 300.0, days_late=16)
        self._run()
        sms_communication = self._communications(channel="sms")
        self.assertEqual(sms_communication.state, "failed")
        self.assertIn("not valid", sms_communication.failure_reason)
        self.assertTrue(self._communications(channel="call").activity_ids)
        self.assertEqual(self._communications(channel="email").state, "queued", "the e-mail still goes")

    def test_phone_reported_wrong_is_not_texted(self):
        self.customer.collection_phone_wrong = True
        self._invoice(self.customer, 300.0, days_late=16)
        self._run()
        sms_communication = self._communications(channel="sms")
        self.assertEqual(sms_communication.state, "failed")
        self.assertIn("reported as wrong", sms_communication.failure_reason)
        self.assertFalse(self.env["sms.sms"].search([("partner_id", "=", self.customer.id)]))

    def test_missing_email_falls_back_to_sms(self):
        self.level_first.fallback = "sms"
        self.customer.email = False
        self._invoice(self.customer, 300.0, days_late=8)
        self._run()
        self.assertEqual(self._communications(channel="email").state, "failed")
        self.assertIn("no e-mail", self._communications(channel="email").failure_reason)
        self.assertEqual(self._communications(channel="sms").state, "queued")

    def test_letter_waits_to_be_printed(self):
        self.level_first.channel_letter = True
        self._invoice(self.customer, 300.0, days_late=8)
        self._run()
        letter = self._communications(channel="letter")
        self.assertEqual(letter.state, "queued")

    def test_printing_letters_renders_one_pdf_and_marks_them_done(self):
        self.company.external_report_layout_id = self.env.ref("web.external_layout_standard")
        self.level_first.channel_letter = True
        self._invoice(self.customer, 300.0, days_late=8)
        self._invoice(self.customer_b, 450.0, days_late=8)
        self._run()
        letters = self.env["collection.communication"].search([("channel", "=", "letter")])
        self.assertEqual(len(letters), 2)
        action = letters.action_print_letters()
        self.assertEqual(action["report_name"], "collections_management.report_collection_letter")
        pdf, content_type = (
            self.env["ir.actions.report"]
            .with_context(force_report_rendering=True)
            ._render_qweb_pdf("collections_management.action_report_collection_letter", letters[:1].ids)
        )
        self.assertEqual(content_type, "pdf")
        self.assertTrue(pdf.startswith(b"%PDF"))
        self.assertEqual(set(letters.mapped("state")), {"done"})

    def test_sms_opt_out_and_phone_blacklist(self):
        self.customer.collection_optout_sms = True
        self.env["phone.blacklist"].sudo().add(self.customer_b.phone)
        self._invoice(self.customer, 300.0, days_late=16)
        self._invoice(self.customer_b, 300.0, days_late=16)
        self._run()
        mine = self._communications(channel="sms")
        theirs = self._communications(self.customer_b, channel="sms")
        self.assertEqual((mine | theirs).mapped("state"), ["failed", "failed"])
        self.assertIn("asked not to receive", mine.failure_reason)
        self.assertIn("blacklisted", theirs.failure_reason)
        self.assertFalse(self.env["sms.sms"].search([("partner_id", "in", (self.customer | self.customer_b).ids)]))

    def test_letter_without_address_falls_back(self):
        self.level_first.channel_letter = True
        self.customer.street = False
        self._invoice(self.customer, 300.0, days_late=8)
        self._run()
        self.assertEqual(self._communications(channel="letter").state, "failed")

    def test_call_task_for_the_collector(self):
        collector = self.env["res.users"].create({"name": "Carla Collector", "login": "carla"})
        self.level_first.write({"channel_call": True, "call_user_mode": "user", "call_user_id": collector.id})
        self._invoice(self.customer, 300.0, days_late=8)
        self._run()
        call = self._communications(channel="call")
        self.assertEqual(call.activity_ids.user_id, collector)
        self.assertEqual(call.activity_ids.activity_type_id, self.env.ref("mail.mail_activity_data_call"))

    def test_template_error_skips_only_that_customer(self):
        template = self.env.ref("collections_management.mail_template_collection_first").copy(
            {
                "subject": "{{ object.partner_id.ref.upper() }}",
            }
        )
        self.level_first.mail_template_id = template
        self.customer_b.ref = "nw-001"
        self._invoice(self.customer, 300.0, days_late=8)
        self._invoice(self.customer_b, 300.0, days_late=8)
        run = self._run()
        self.assertEqual(self._communications(channel="email").state, "failed")
        self.assertIn("Could not be sent", self._communications(channel="email").failure_reason)
        self.assertEqual(self._communications(self.customer_b, channel="email").state, "queued")
        self.assertEqual(run.state, "done")
        self.assertEqual(run.error_count, 1)


@tagged("post_install", "-at_install")
class TestDunningMailDelivery(CollectionsCommon, MockEmail):
    def test_sent_email_marks_the_communication_sent(self):
        self._invoice(self.customer, 300.0, days_late=8)
        self._run()
        email = self._communications(channel="email")
        with self.mock_mail_gateway():
            self.env["mail.mail"].sudo().process_email_queue()
        self.assertEqual(email.state, "sent")
        self.assertEqual(len(self._mails), 1)
        self.assertEqual(self._mails[0]["email_to"], ['"Abarrotes del Bajío" <cuentas@abarrotes.example.com>'])


@tagged("post_install", "-at_install")
class TestDunningSmsDelivery(CollectionsCommon, MockSMS):
    def test_provider_answer_marks_the_reminders_sent_or_failed(self):
        self._invoice(self.customer, 300.0, days_late=16)
        self._invoice(self.customer_b, 400.0, days_late=16)
        self._run()
        with self.mockSMSGateway(nbr_t_error={"+12065550142": "wrong_number_format"}):
            self.env["sms.sms"].sudo().search([("state", "=", "outgoing")])._send()
        self.assertEqual([sms["number"] for sms in self._sms], ["+524771234567"])
        self.assertEqual(self._communications(channel="sms").state, "sent")
        refused = self._communications(self.customer_b, channel="sms")
        self.assertEqual(refused.state, "failed")
        self.assertIn("refused", refused.failure_reason)
        self.assertEqual(self._communications(self.customer_b, channel="call").fallback_of_id, refused)


@tagged("post_install", "-at_install")
class TestDunningContactRules(CollectionsCommon):
    def test_second_run_on_the_same_day_sends_nothing(self):
        self._invoice(self.customer, 300.0, days_late=8)
        self._run()
        second = self._run()
        self.assertEqual(len(self._communications()), 1)
        self.assertEqual(second.reminded_count, 0)

    def test_minimum_days_between_contacts(self):
        self.policy.min_days_between_contacts = 5
        self._invoice(self.customer, 300.0, days_late=8)
        self._run()
        # A new invoice becomes due for the first level the next day: too soon to write again.
        self._invoice(self.customer, 100.0, days_late=4)
        with freeze_time(datetime.now() + timedelta(days=1)):
            self._run(date=self.today + timedelta(days=1))
        self.assertEqual(len(self._communications(channel="email")), 1)
        with freeze_time(datetime.now() + timedelta(days=6)):
            self._run(date=self.today + timedelta(days=6))
        self.assertEqual(len(self._communications(channel="email")), 2)

    def test_maximum_contacts_in_seven_days(self):
        self.policy.max_contacts_per_week = 1
        self._invoice(self.customer, 300.0, days_late=8)
        self._run()
        self._invoice(self.customer, 100.0, days_late=4)
        with freeze_time(datetime.now() + timedelta(days=2)):
            self._run(date=self.today + timedelta(days=2))
        self.assertEqual(len(self._communications(channel="email")), 1)

    def test_quiet_hours_in_company_time_zone(self):
        self.env.company.partner_id.tz = "America/Mexico_City"
        self.policy.write({"contact_hour_from": 9.0, "contact_hour_to": 19.0})
        self._invoice(self.customer, 300.0, days_late=8)
        # 03:00 in Mexico City (UTC-6) is 09:00 UTC: still night for the customer.
        with freeze_time(datetime.combine(self.today, datetime.min.time()) + timedelta(hours=9)):
            self._run()
        self.assertFalse(self._communications())
        with freeze_time(datetime.combine(self.today, datetime.min.time()) + timedelta(hours=16)):
            self._run()
        self.assertEqual(len(self._communications(channel="email")), 1)

    def test_allowed_weekdays(self):
        weekday = self.today.weekday()
        self.policy.write(dict.fromkeys(WEEKDAY_FIELDS, False))
        self._invoice(self.customer, 300.0, days_late=8)
        self._run()
        self.assertFalse(self._communications())
        self.policy[WEEKDAY_FIELDS[weekday]] = True
        self._run()
        self.assertEqual(len(self._communications(channel="email")), 1)


@tagged("post_install", "-at_install")
class TestDunningRuns(CollectionsCommon):
    def test_dry_run_shows_what_would_go_out_and_sends_nothing(self):
        invoice = self._invoice(self.customer, 300.0, days_late=-10)
        run = self._run(run_type="dry_run", date=self.today + timedelta(days=26))
        preview = run.communication_ids
        self.assertEqual(sorted(preview.mapped("channel")), ["email", "sms"])
        self.assertEqual(set(preview.mapped("state")), {"simulated"})
        self.assertEqual(preview.level_id, self.level_second)
        self.assertFalse(preview.mail_message_ids)
        self.assertFalse(self._instalments(invoice).collection_level_id)
        # The real run is not held back by the preview.
        self._invoice(self.customer, 300.0, days_late=8)
        self._run()
        self.assertEqual(len(self._communications(state="queued", channel="email")), 1)

    def test_run_records_its_counts(self):
        self._invoice(self.customer, 300.0, days_late=8)
        self._invoice(self.customer, 100.0, days_late=9)
        self._invoice(self.customer_b, 100.0, days_late=-20)
        run = self._run()
        self.assertRecordValues(
            run,
            [
                {
                    "state": "done",
                    "partner_count": 1,
                    "line_count": 2,
                    "reminded_count": 1,
                    "error_count": 0,
                }
            ],
        )
        self.assertGreater(run.duration, 0)

    def test_second_run_while_one_holds_the_company_lock(self):
        self._invoice(self.customer, 300.0, days_late=8)
        with self.registry.cursor() as other:
            other.execute(SQL("SELECT pg_advisory_lock(%s, %s)", RUN_LOCK_KEY, self.company.id))
            try:
                run = self._run()
            finally:
                other.execute(SQL("SELECT pg_advisory_unlock(%s, %s)", RUN_LOCK_KEY, self.company.id))
        self.assertEqual(run.state, "cancelled")
        self.assertIn("in progress", run.log)
        self.assertFalse(self._communications())

    def _four_customers(self):
        customers = self.env["res.partner"].create(
            [{"name": f"Customer {i}", "email": f"c{i}@example.com", "is_company": True} for i in range(4)]
        )
        for customer in customers:
            self._invoice(customer, 100.0, days_late=8)
        return customers.sorted("id")

    def test_database_error_for_one_customer_skips_only_that_customer(self):
        customers = self._four_customers()
        crashing = customers[2]
        # The database refuses the reminder of the third customer, in the middle of a batch.
        self.env.cr.execute(
            SQL(
                """
            CREATE FUNCTION collection_test_crash() RETURNS trigger AS $$
            BEGIN RAISE EXCEPTION 'disk full'; END $$ LANGUAGE plpgsql;
            CREATE TRIGGER collection_test_crash BEFORE INSERT ON collection_communication
            FOR EACH ROW WHEN (NEW.partner_id = %s) EXECUTE FUNCTION collection_test_crash();
        """,
                crashing.id,
            )
        )
        run = self.env["collection.run"].create({"company_id": self.company.id})
        run._execute(batch_size=2)
        self.assertRecordValues(run, [{"state": "done", "error_count": 1, "reminded_count": 3}])
        self.assertIn("disk full", run.log)
        self.assertIn(crashing.name, run.log)
        sent = self.env["collection.communication"].search([("partner_id", "in", customers.ids)])
        self.assertEqual(sent.partner_id, customers - crashing)
        self.assertFalse(
            self._instalments(self.env["account.move"].search([("partner_id", "=", crashing.id)])).collection_level_id,
            "nothing recorded for the skipped one",
        )
        self.env.cr.execute("DROP TRIGGER collection_test_crash ON collection_communication")
        resumed = self._run()
        everything = self.env["collection.communication"].search([("partner_id", "in", customers.ids)])
        self.assertEqual(len(everything), 4, "one reminder per customer, none twice")
        self.assertEqual(resumed.communication_ids.partner_id, crashing)

    def test_run_killed_after_its_first_batch_then_started_again_sends_nothing_twice(self):
        customers = self._four_customers()
        killed = self.env["collection.run"].create({"company_id": self.company.id})
        killed.write({"state": "running"})
        # What a run had committed when its worker died: its first batch.
        killed._process_batch(customers[:2].ids)
        self.assertEqual(killed.communication_ids.partner_id, customers[:2])
        again = self._run()
        self.assertEqual(again.communication_ids.partner_id, customers[2:])
        everything = self.env["collection.communication"].search([("partner_id", "in", customers.ids)])
        self.assertEqual(len(everything), 4)

    def test_scheduler_closes_interrupted_runs(self):
        stale = self.env["collection.run"].create({"company_id": self.company.id})
        stale.write({"state": "running", "started_at": datetime.now() - timedelta(hours=7)})
        self.env["collection.run"]._cron_run()
        self.assertEqual(stale.state, "failed")
        self.assertIn("Interrupted", stale.log)

    def test_letter_opt_out_falls_back(self):
        self.level_first.channel_letter = True
        self.customer.collection_optout_letter = True
        self._invoice(self.customer, 300.0, days_late=8)
        self._run()
        letter = self._communications(channel="letter")
        self.assertEqual(letter.state, "failed")
        self.assertIn("by letter", letter.failure_reason)
        self.assertEqual(self._communications(channel="call").fallback_of_id, letter)

    def test_scheduled_run_covers_every_company(self):
        other = self.setup_other_company(name="Andes SpA")["company"]
        self._create_policy(other)
        self._invoice(self.customer, 300.0, days_late=8)
        customer_other = self.customer_b.with_company(other)
        self._invoice(customer_other, 700.0, days_late=8, company=other)
        self.env["collection.run"]._cron_run()
        runs = self.env["collection.run"].search([("run_type", "=", "scheduled")])
        self.assertEqual(runs.company_id, self.company | other)
        mine = self.env["collection.communication"].search([("company_id", "=", self.company.id)])
        theirs = self.env["collection.communication"].search([("company_id", "=", other.id)])
        self.assertEqual(mine.partner_id, self.customer)
        self.assertEqual(theirs.partner_id, self.customer_b)
        self.assertEqual(theirs.level_id.policy_id.company_id, other)

    def test_policy_chosen_on_customer_then_by_rule_then_default(self):
        strict = self._create_policy(self.company, name="Strict", partner_domain="[]")
        strict.level_ids.filtered(lambda level: level.days == 5).days = 1
        self.company.collection_policy_id = self.policy
        by_rule = self._create_policy(
            self.company, name="Mexico", partner_domain=f"[('country_id', '=', {self.env.ref('base.mx').id})]"
        )
        self.company.collection_policy_id = self.policy
        self.customer_b.collection_policy_id = strict
        mapping = (
            self.env["collection.policy"]
            .search([("company_id", "=", self.company.id)])
            ._policies_for_partners(self.customer | self.customer_b | self.env["res.partner"].create({"name": "Other"}))
        )
        self.assertEqual(mapping[self.customer.id], by_rule)
        self.assertEqual(mapping[self.customer_b.id], strict)
        self.assertEqual(list(mapping.values())[-1], self.policy)

    def test_invalid_customer_rule_is_refused_with_a_clear_message(self):
        with self.assertRaisesRegex(ValidationError, "customer rule of Broken rule is not a valid domain"):
            self._create_policy(self.company, name="Broken rule", partner_domain="[('no_such_field', '=', 1)]")
        with self.assertRaisesRegex(ValidationError, "customer rule of Team X is not a valid domain"):
            self.env["collection.team"].create({"name": "Team X", "partner_domain": "[('country_id', '=='"})

    def test_run_opens_a_case(self):
        self._invoice(self.customer, 300.0, days_late=8)
        self._run()
        case = self.env["collection.case"].search([("partner_id", "=", self.customer.id)])
        self.assertEqual(case.level_id, self.level_first)

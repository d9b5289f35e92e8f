import io
from datetime import date, datetime, timedelta

from psycopg2.errors import CheckViolation

from odoo import Command
from odoo.exceptions import AccessError, ValidationError
from odoo.tests import Form, freeze_time, tagged
from odoo.tools import mute_logger
from odoo.tools.pdf import PdfFileReader

from .test_dunning_decisions import DecisionCommon


class CustomerCommon(DecisionCommon):
    """A customer with an open balance in two currencies, a payment on account and a credit
    note; its case belongs to the first collector."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.eur = cls.setup_other_currency("EUR", rates=[("2000-01-01", 2.0)])
        # Collectors who may edit contacts (the pause is a contact fact of their cases' customers).
        partner_manager = cls.env.ref("base.group_partner_manager")
        (cls.collector_1 | cls.collector_2).write({"group_ids": [Command.link(partner_manager.id)]})
        cls.case = cls.env["collection.case"].create(
            {"partner_id": cls.customer.id, "company_id": cls.company.id, "user_id": cls.collector_1.id}
        )

    def _balance(self):
        """The customer's own balance: 300 and 400 EUR (200) overdue, 100 not due yet, 60 paid
        on account and a credit note of 40."""
        self._invoice(self.customer, 300.0, days_late=8)
        self._invoice(self.customer, 400.0, days_late=9, currency=self.eur)
        self._invoice(self.customer, 100.0, days_late=-10)
        self._payment_on_account(self.customer, 60.0)
        self._credit_note(self.customer, 40.0)


@tagged("post_install", "-at_install")
class TestCustomerFormSummary(CustomerCommon):
    def test_collector_reads_balance_net_of_credits_in_company_currency(self):
        self._balance()
        form = Form(self.customer.with_user(self.collector_1))
        self.assertEqual(form.collection_amount_due, 600.0)
        self.assertEqual(form.collection_amount_credit, 100.0)
        self.assertEqual(form.collection_balance, 500.0)
        self.assertEqual(form.collection_amount_overdue, 400.0, "500 overdue less 100 of credits")
        self.assertEqual(form.collection_currency_id, self.company.currency_id)
        self.assertEqual(form.collection_case_id, self.case)

    def test_credits_covering_everything_overdue(self):
        self._invoice(self.customer, 50.0, days_late=8)
        self._payment_on_account(self.customer, 80.0)
        customer = self.customer.with_user(self.manager)
        self.assertRecordValues(
            customer,
            [
                {
                    "collection_amount_due": 50.0,
                    "collection_amount_credit": 80.0,
                    "collection_balance": -30.0,
                    "collection_amount_overdue": 0.0,
                }
            ],
        )
        self.assertFalse(customer.collection_next_level_id)
        self.assertIn("Credits of", customer.collection_next_note)

    def test_amounts_of_many_customers_in_one_query(self):
        self._balance()
        self._invoice(self.customer_b, 70.0, days_late=3)

        def read_balances(count):
            others = self.env["res.partner"].create(
                [{"name": f"Cliente {n}", "is_company": True} for n in range(count)]
            )
            partners = (self.customer | self.customer_b | others).with_user(self.manager)
            self.env.flush_all()
            self.env.invalidate_all()
            queries = self.env.cr.sql_log_count
            balances = {partner: partner.collection_balance for partner in partners}
            return balances, self.env.cr.sql_log_count - queries

        read_balances(1)  # access rights and rules read once per user
        few, few_queries = read_balances(2)
        many, many_queries = read_balances(40)
        self.assertEqual(few_queries, many_queries, "the same queries for 4 or 42 customers")
        self.assertEqual(many[self.customer], 500.0)
        self.assertEqual(many[self.customer_b], 70.0)
        self.assertEqual(
            {amount for partner, amount in many.items() if partner not in self.customer | self.customer_b}, {0.0}
        )

    def test_current_level_and_next_reminder(self):
        self._balance()
        self._run()
        customer = self.customer.with_user(self.collector_1)
        self.assertEqual(customer.collection_level_id, self.level_first)
        # The EUR invoice, 9 days late today, is due for the second reminder (15 days) in 6 days.
        self.assertEqual(customer.collection_next_level_id, self.level_second)
        self.assertEqual(customer.collection_next_date, self.today + timedelta(days=6))
        self.assertFalse(customer.collection_next_note)

    def test_next_reminder_waits_for_the_days_between_contacts(self):
        self._invoice(self.customer, 300.0, days_late=14)
        self._run()
        self.policy.min_days_between_contacts = 3
        customer = self.customer.with_user(self.manager)
        # Due for the second reminder tomorrow, but the last contact was today.
        self.assertEqual(customer.collection_next_level_id, self.level_second)
        self.assertEqual(customer.collection_next_date, self.today + timedelta(days=3))

    def test_smart_button_opens_the_case_of_the_collector(self):
        action = self.customer.with_user(self.collector_1).action_collection_view_case()
        self.assertEqual((action["res_model"], action["res_id"]), ("collection.case", self.case.id))
        # Another collector does not see the case: no button.
        self.assertFalse(self.customer.with_user(self.collector_2).collection_case_id)

    def test_send_reminder_now_from_the_form_is_for_managers(self):
        self._invoice(self.customer, 300.0, days_late=8)
        with self.assertRaises(AccessError):
            self.customer.with_user(self.collector_1).action_collection_send_now()
        self.assertFalse(self._communications())
        action = self.customer.with_user(self.manager).action_collection_send_now()
        decision = self.env["collection.run.decision"].search(action["domain"])
        self.assertRecordValues(decision, [{"partner_id": self.customer.id, "reason": "send"}])
        self.assertTrue(self._communications(channel="email"))


@tagged("post_install", "-at_install")
class TestPauseReminders(CustomerCommon):
    def test_collector_pauses_a_customer_of_their_case(self):
        with Form(self.customer.with_user(self.collector_1)) as form:
            form.collection_paused_until = self.today + timedelta(days=3)
        self.assertEqual(self.customer.collection_paused_until, self.today + timedelta(days=3))

    def test_pause_outside_ones_scope_is_refused(self):
        with self.assertRaises(AccessError):
            self.customer.with_user(self.collector_2).write({"collection_paused_until": self.today})
        self.assertFalse(self.customer.collection_paused_until)
        self.customer_b.sudo().collection_paused_until = False
        self.manager.group_ids = [Command.link(self.env.ref("base.group_partner_manager").id)]
        self.customer_b.with_user(self.manager).collection_paused_until = self.today
        self.assertEqual(self.customer_b.collection_paused_until, self.today)

    def test_run_honours_the_pause_and_resumes_after_the_date(self):
        self._invoice(self.customer, 300.0, days_late=8)
        until = self.today + timedelta(days=3)
        self.customer.with_user(self.collector_1).collection_paused_until = until
        run = self._run()
        decision = self._decisions(run)
        self.assertEqual(decision.reason, "paused")
        self.assertIn("paused until", decision.detail)
        self.assertFalse(self._communications())
        customer = self.customer.with_user(self.collector_1)
        self.assertEqual(customer.collection_next_date, until + timedelta(days=1), "the day after the pause")
        # The last day of the pause still sends nothing; the day after, the reminder goes.
        self.assertEqual(self._decisions(self._run(date=until)).reason, "paused")
        run = self._run(date=until + timedelta(days=1))
        self.assertEqual(self._decisions(run).reason, "send")
        self.assertEqual(self._communications(channel="email").level_id, self.level_first)


@tagged("post_install", "-at_install")
class TestContactRulesByCountry(CustomerCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company.partner_id.tz = "America/Bogota"

    def _apply_colombia(self):
        with Form(self.policy.with_user(self.manager)) as form:
            form.contact_preset_id = self.env.ref("collections_management.collection_contact_preset_co")
        self.policy.with_user(self.manager).action_apply_contact_preset()

    def _run_at(self, utc_moment, local_day):
        with freeze_time(utc_moment):
            run = self._run(date=local_day)
            return self._decisions(run)

    def test_presets_cite_their_source(self):
        presets = self.env["collection.contact.preset"].with_user(self.manager).search([])
        by_country = {preset.country_id.code: preset for preset in presets}
        self.assertIn("Ley 2300 de 2023", by_country["CO"].description)
        self.assertIn("CONDUSEF", by_country["MX"].description)
        self.assertIn("96.2", by_country["ES"].description)
        self.assertRecordValues(
            by_country["CO"],
            [
                {
                    "contact_hour_from": 7.0,
                    "contact_hour_to": 19.0,
                    "contact_weekend_hours": True,
                    "contact_weekend_hour_from": 8.0,
                    "contact_weekend_hour_to": 15.0,
                    "contact_saturday": True,
                    "contact_sunday": False,
                }
            ],
        )

    def test_manager_applies_a_preset_to_a_policy(self):
        self._apply_colombia()
        preset = self.env.ref("collections_management.collection_contact_preset_co")
        self.assertRecordValues(
            self.policy,
            [
                {
                    "contact_hour_from": 7.0,
                    "contact_hour_to": 19.0,
                    "contact_weekend_hours": True,
                    "contact_weekend_hour_from": 8.0,
                    "contact_weekend_hour_to": 15.0,
                    "contact_saturday": True,
                    "contact_sunday": False,
                    "contact_calendar_id": preset.calendar_id.id,
                }
            ],
        )

    def test_preset_refuses_impossible_hours_like_a_policy(self):
        preset = self.env.ref("collections_management.collection_contact_preset_co").with_user(self.manager)
        errors = []
        for record in (preset, self.policy.with_user(self.manager)):
            for hours in ({"contact_hour_from": 20.0, "contact_hour_to": 7.0}, {"contact_hour_to": 25.0}):
                with (
                    self.subTest(model=record._name, hours=hours),
                    self.assertRaises(ValidationError) as caught,
                    self.env.cr.savepoint(),
                ):
                    form = Form(record)
                    for name, value in hours.items():
                        form[name] = value
                    form.save()
                errors.append(str(caught.exception))
        self.assertEqual(set(errors), {"Contact hours must be between 0 and 24, the start before the end."})
        self.assertRecordValues(preset, [{"contact_hour_from": 7.0, "contact_hour_to": 19.0}])
        # A new preset with such hours is refused by the database, with the same message.
        form = Form(self.env["collection.contact.preset"].with_user(self.manager))
        form.name = "Night shift"
        form.country_id = self.env.ref("base.co")
        form.contact_weekend_hours = True
        form.contact_weekend_hour_from = 22.0
        form.contact_weekend_hour_to = 6.0
        with self.assertRaises(CheckViolation) as caught, mute_logger("odoo.sql_db"), self.env.cr.savepoint():
            form.save()
        self.assertEqual(
            self.env["collection.contact.preset"]._sql_error_to_message(caught.exception),
            "Contact hours must be between 0 and 24, the start before the end.",
        )

    def test_apply_copies_every_contact_window_field(self):
        names = self.env["collection.contact.window.mixin"]._collection_contact_window_fields()
        self.assertTrue({"contact_hour_from", "contact_sunday", "max_contacts_per_week"} <= set(names))
        # A preset whose every contact-window value differs from the policy's: booleans the other
        # way, numbers one more, hours chosen here (a new hour field must be given one below).
        hours = {
            "contact_hour_from": 6.5,
            "contact_hour_to": 21.5,
            "contact_weekend_hour_from": 9.25,
            "contact_weekend_hour_to": 13.75,
        }
        form = Form(self.env["collection.contact.preset"].with_user(self.manager))
        form.name = "Every field"
        form.country_id = self.env.ref("base.co")
        for name in names:
            field_type = self.policy._fields[name].type
            if field_type == "boolean":
                form[name] = not self.policy[name]
            elif field_type == "integer":
                form[name] = self.policy[name] + 1
            elif name in hours:
                form[name] = hours[name]
        preset = form.save()
        for name in names:
            self.assertNotEqual(preset[name], self.policy[name], f"the preset must differ from the policy on {name}")
        with Form(self.policy.with_user(self.manager)) as policy_form:
            policy_form.contact_preset_id = preset
        self.policy.with_user(self.manager).action_apply_contact_preset()
        for name in names:
            with self.subTest(field=name):
                self.assertEqual(self.policy[name], preset[name])
        self.assertEqual(self.policy.contact_preset_id, preset)

    def test_colombian_company_on_saturday_sunday_holiday_and_monday(self):
        self._apply_colombia()
        with freeze_time(datetime(2026, 11, 14, 21, 0)):  # Saturday 16:00 in Bogotá
            self._invoice_due(self.customer, 300.0, date(2026, 11, 5))
        decision = self._run_at(datetime(2026, 11, 14, 21, 0), date(2026, 11, 14))
        self.assertEqual(decision.reason, "outside_window")
        self.assertIn("08:00 and 15:00", decision.detail)
        decision = self._run_at(datetime(2026, 11, 15, 15, 0), date(2026, 11, 15))  # Sunday 10:00
        self.assertEqual(decision.reason, "outside_window")
        self.assertIn("Sunday", decision.detail)
        decision = self._run_at(datetime(2026, 11, 16, 14, 0), date(2026, 11, 16))  # Monday 9:00, a holiday
        self.assertEqual(decision.reason, "outside_window")
        self.assertIn("public holiday", decision.detail)
        self.assertFalse(self._communications())
        decision = self._run_at(datetime(2026, 11, 23, 14, 0), date(2026, 11, 23))  # Monday 9:00
        self.assertEqual(decision.reason, "send")
        self.assertEqual(len(self._communications(channel="email")), 1)

    def test_next_reminder_skips_sunday_and_the_holiday(self):
        self._apply_colombia()
        with freeze_time(datetime(2026, 11, 14, 21, 0)):  # Saturday 16:00 in Bogotá
            self._invoice_due(self.customer, 300.0, date(2026, 11, 5))
            customer = self.customer.with_user(self.collector_1)
            self.assertEqual(customer.collection_next_level_id, self.level_first, customer.collection_next_note)
            self.assertEqual(customer.collection_next_date, date(2026, 11, 17), "Tuesday, after the Monday holiday")

    def test_shipped_default_policy_contacts_on_weekdays_in_office_hours(self):
        policy = self.env.ref("collections_management.collection_policy_default").sudo()
        self.assertRecordValues(
            policy,
            [
                {
                    "contact_hour_from": 8.0,
                    "contact_hour_to": 19.0,
                    "contact_saturday": False,
                    "contact_sunday": False,
                    "contact_monday": True,
                    "contact_friday": True,
                }
            ],
        )


@tagged("post_install", "-at_install")
class TestReminderLetter(CustomerCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company.write(
            {
                "street": "Carrera 7 # 71-21",
                "city": "Bogotá",
                "vat": "900123456-7",
            }
        )
        bank = cls.env["res.bank"].create({"name": "Banco de Prueba", "bic": "BPRUCOBB"})
        cls.bank_account = cls.env["res.partner.bank"].create(
            {
                "acc_number": "ES91 2100 0418 4502 0005 1332",
                "partner_id": cls.company.partner_id.id,
                "bank_id": bank.id,
                "company_id": cls.company.id,
            }
        )
        cls.env["account.journal"].search(
            [("type", "=", "bank"), ("company_id", "=", cls.company.id)], limit=1
        ).bank_account_id = cls.bank_account
        cls.level_first.write({"channel_letter": True, "channel_sms": True})

    def _letter(self):
        self._invoice(self.customer, 300.0, days_late=8)
        self._payment_on_account(self.customer, 60.0)
        self._run()
        return self._communications(channel="letter")

    def test_letter_shows_company_bank_account_credits_and_net(self):
        letter = self._letter()
        self.assertRecordValues(letter, [{"amount_total": 300.0, "amount_credit": 60.0, "amount_net": 240.0}])
        html = (
            self.env["ir.actions.report"]
            .with_user(self.collector_1)
            ._render_qweb_html("collections_management.action_report_collection_letter", letter.ids)[0]
            .decode()
        )
        for text in (self.company.name, "Carrera 7 # 71-21", "900123456-7", "ES91 2100 0418 4502 0005 1332"):
            self.assertIn(text, html)
        self.assertIn("Banco de Prueba", html)
        self.assertIn("Net amount due", html)
        self.assertIn("240.00", html)
        self.assertIn("60.00", html)
        self.assertNotIn('class="header', html, "nothing left for a separate wkhtmltopdf header")

    def test_letter_pdf_through_wkhtmltopdf(self):
        letter = self._letter()
        pdf, kind = (
            self.env["ir.actions.report"]
            .with_context(force_report_rendering=True)
            ._render_qweb_pdf("collections_management.action_report_collection_letter", letter.ids)
        )
        self.assertEqual(kind, "pdf")
        self.assertTrue(pdf.startswith(b"%PDF"))
        text = " ".join(page.extract_text() for page in PdfFileReader(io.BytesIO(pdf)).pages)
        text = " ".join(text.split())
        for expected in (self.company.name, "Carrera 7 # 71-21", "900123456-7", "ES91 2100 0418 4502 0005 1332"):
            self.assertIn(expected, text)
        self.assertIn("Net amount due", text)
        self.assertIn("240.00", text)

    def test_sms_states_credits_and_net_amount_due(self):
        self._letter()
        sms = self.env["sms.sms"].search([("partner_id", "=", self.customer.id)])
        self.assertEqual(len(sms), 1)
        self.assertIn("Credits in your favour:", sms.body)
        self.assertIn("60.00; net amount due:", sms.body)
        self.assertIn("240.00", sms.body)

    def test_sms_in_spanish_states_credits(self):
        self.env["res.lang"]._activate_lang("es_ES")
        self.env["ir.module.module"]._load_module_terms(["collections_management"], ["es_ES"], overwrite=True)
        self.customer.lang = "es_ES"
        self._letter()
        sms = self.env["sms.sms"].search([("partner_id", "=", self.customer.id)])
        self.assertIn("Saldo a su favor", sms.body)
        self.assertIn("importe neto adeudado", sms.body)

from datetime import date, datetime, timedelta

from odoo import Command, fields
from odoo.exceptions import AccessError, UserError
from odoo.tests import Form, freeze_time, tagged
from odoo.tools import SQL

from ..models.collection_policy import CustomerFacts, OpenItem
from ..models.collection_run import RUN_LOCK_KEY
from .common_casework import MANAGER_GROUP, CaseworkCommon


class DecisionCommon(CaseworkCommon):
    """Real invoices, payments on account and credit notes of a month of collections."""

    def _payment_on_account(self, partner, amount, currency=None, company=None, pay_date=None):
        """A posted customer payment left on account (applied to no invoice)."""
        company = company or self.company
        payment = (
            self.env["account.payment"]
            .with_company(company)
            .create(
                {
                    "payment_type": "inbound",
                    "partner_type": "customer",
                    "partner_id": partner.id,
                    "amount": amount,
                    "date": pay_date or fields.Date.context_today(self.env["collection.run"]),
                    "currency_id": (currency or company.currency_id).id,
                    "journal_id": self.env["account.journal"]
                    .search([("type", "=", "bank"), ("company_id", "=", company.id)], limit=1)
                    .id,
                }
            )
        )
        payment.action_post()
        return payment

    def _credit_note(self, partner, amount):
        refund = self.env["account.move"].create(
            {
                "move_type": "out_refund",
                "partner_id": partner.id,
                "invoice_date": self.today,
                "invoice_line_ids": [Command.create({"name": "credit", "price_unit": amount, "tax_ids": []})],
            }
        )
        refund.action_post()
        return refund

    def _invoice_due(self, partner, amount, due):
        """An invoice falling due on ``due`` (a date), built under the current clock."""
        move = self.env["account.move"].create(
            {
                "move_type": "out_invoice",
                "partner_id": partner.id,
                "invoice_date": min(due, fields.Date.today()),
                "invoice_date_due": due,
                "invoice_payment_term_id": False,
                "invoice_line_ids": [
                    Command.create({"name": "Services", "quantity": 1, "price_unit": amount, "tax_ids": []})
                ],
            }
        )
        move.action_post()
        return move

    def _decisions(self, run, partner=None):
        return run.decision_ids.filtered(lambda d: d.partner_id == (partner or self.customer))


@tagged("post_install", "-at_install")
class TestWhatACustomerOwes(DecisionCommon):
    def test_domain_and_sql_select_the_same_items(self):
        """Instalments, partial payments, in-payment, credit notes, payments on account, two
        currencies and another company: the Domain and its SQL twin agree."""
        eur = self.setup_other_currency("EUR", rates=[("2000-01-01", 2.0)])
        other = self.setup_other_company(name="Pampa SA")["company"]
        split = self._invoice_in_two_instalments(self.customer, 1000.0, days_since_invoice=40)
        partly = self._invoice(self.customer, 300.0, days_late=20)
        self._register_payment(partly, amount=100.0)
        paid = self._invoice(self.customer, 200.0, days_late=10)
        self._register_payment(paid)
        in_payment = self._invoice(self.customer_b, 400.0, days_late=12)
        self._invoice(self.customer_b, 900.0, days_late=12, currency=eur)
        self._credit_note(self.customer, 50.0)
        self._payment_on_account(self.customer_b, 70.0)
        self._invoice(self.customer.with_company(other), 650.0, days_late=9, company=other)
        self._invoice(self.customer, 80.0, days_late=5, post=False)
        self.env.flush_all()
        self.env.cr.execute(SQL("UPDATE account_move SET payment_state = 'in_payment' WHERE id = %s", in_payment.id))
        self.env.invalidate_all()
        AML = self.env["account.move.line"]
        for domain, query in (
            (AML._collection_open_domain(), AML._collection_open_query("aml")),
            (AML._collection_credit_domain(), AML._collection_credit_query("aml")),
            (AML._collection_owed_domain(), AML._collection_owed_query("aml")),
        ):
            self.env.cr.execute(SQL("SELECT aml.id FROM %s WHERE %s", query.from_clause, query.where_clause))
            by_sql = {row[0] for row in self.env.cr.fetchall()}
            by_domain = set(AML.with_context(active_test=False).search(domain).ids)
            self.assertEqual(by_sql, by_domain)
            self.assertTrue(by_sql)
        open_lines = AML.search(AML._collection_open_domain())
        self.assertIn(self._instalments(split)[0], open_lines)
        self.assertIn(self._instalments(partly), open_lines)
        self.assertNotIn(self._instalments(paid), open_lines)
        self.assertNotIn(self._instalments(in_payment), open_lines, "in payment counts as settled")
        credits = AML.search(AML._collection_credit_domain())
        self.assertEqual(
            sorted(credits.filtered(lambda line: line.partner_id in self.customer | self.customer_b).mapped("balance")),
            [-70.0, -50.0],
        )

    def test_payment_on_account_nets_the_overdue_invoice(self):
        """Seen: 500 paid on account, 300 overdue, still reminded."""
        self._invoice(self.customer, 300.0, days_late=8)
        self._payment_on_account(self.customer, 500.0)
        run = self._run()
        self.assertFalse(self._communications())
        self.assertRecordValues(
            self._decisions(run),
            [{"reason": "credit", "amount_due": 300.0, "amount_credit": 500.0, "amount_net": -200.0}],
        )

    def test_reminder_shows_credits_and_net_amount_due(self):
        """Seen: the reminder asks 300 and never shows the 100 of credit nor the net due.
        Several credits (a payment on account and a credit note) in two currencies."""
        eur = self.setup_other_currency("EUR", rates=[("2000-01-01", 2.0)])
        self._invoice(self.customer, 300.0, days_late=8)
        self._invoice(self.customer, 400.0, days_late=9, currency=eur)  # 200 in company currency
        self._payment_on_account(self.customer, 60.0)
        self._credit_note(self.customer, 40.0)
        run = self._run()
        email = self._communications(channel="email")
        self.assertRecordValues(email, [{"amount_total": 500.0, "amount_credit": 100.0, "amount_net": 400.0}])
        body = email.mail_message_ids.body
        self.assertIn("Net amount due", body)
        self.assertIn("100.00", body)
        self.assertIn("400.00", body)
        self.assertRecordValues(self._decisions(run), [{"reason": "send", "amount_net": 400.0}])


@tagged("post_install", "-at_install")
class TestDecisionWithoutRun(DecisionCommon):
    def test_decision_is_plain_python_on_what_the_run_read(self):
        facts = CustomerFacts(
            partner=self.customer,
            items=[
                OpenItem(1, self.customer.id, self.today - timedelta(days=40), 300.0, False),
                OpenItem(2, self.customer.id, self.today - timedelta(days=6), 200.0, False, disputed=True),
                OpenItem(3, self.customer.id, self.today, -50.0, False),
            ],
            date=self.today,
            local_now=datetime(2026, 6, 3, 12, 0, tzinfo=None).astimezone(),
            recipients=[self.customer],
        )
        decision = self.policy._collection_decide(facts)
        self.assertEqual(decision.reason, "send")
        self.assertEqual(decision.level, self.level_final)
        self.assertEqual(decision.line_ids, [1], "the disputed instalment is left out")
        self.assertEqual((decision.amount_due, decision.amount_credit, decision.amount_net), (300.0, 50.0, 250.0))
        self.assertEqual([channel for channel, __ in decision.channels], ["email", "sms"])
        self.policy.minimum_amount = 260.0
        self.assertEqual(self.policy._collection_decide(facts).reason, "below_minimum")
        self.assertEqual(self.env["collection.policy"]._collection_decide(facts).reason, "no_policy")


@tagged("post_install", "-at_install")
class TestLevelsNeverSofter(DecisionCommon):
    def test_second_and_third_run_after_a_final_notice(self):
        """Seen: after a Final notice, a new invoice at +5 days gave a First reminder."""
        old = self._invoice(self.customer, 300.0, days_late=40)
        self._run()
        case = self._case()
        self.assertEqual(case.level_id, self.level_final)
        recent = self._invoice(self.customer, 100.0, days_late=6)
        second = self._run()
        reminder = second.communication_ids.filtered(lambda c: c.channel == "email")
        self.assertEqual(reminder.level_id, self.level_final, "never softer than the Final notice")
        self.assertEqual(reminder.line_ids, self._instalments(old + recent))
        self.assertEqual(self._instalments(recent).collection_level_id, self.level_first)
        self.assertEqual(self._instalments(old).collection_level_id, self.level_final)
        self.assertEqual(case.level_id, self.level_final)
        # Ten days later the recent invoice reaches the second level: still a Final notice.
        third = self._run(date=self.today + timedelta(days=10))
        self.assertEqual(third.communication_ids.filtered(lambda c: c.channel == "email").level_id, self.level_final)
        self.assertEqual(self._instalments(recent).collection_level_id, self.level_second)
        self.assertEqual(case.level_id, self.level_final)

    def _case(self):
        return self.env["collection.case"].search([("partner_id", "=", self.customer.id)])


@tagged("post_install", "-at_install")
class TestFirstContact(DecisionCommon):
    def test_first_message_ever_does_not_claim_repeated_reminders(self):
        """Seen: a portfolio never reminded got the Pre-legal notice "despite our repeated
        reminders" as its first message."""
        self._invoice(self.customer, 900.0, days_late=70)
        self._run()
        email = self._communications(channel="email")
        self.assertEqual(email.level_id, self.level_prelegal)
        self.assertFalse(email.is_follow_up)
        self.assertNotIn("repeated reminders", email.mail_message_ids.body)
        self.assertNotIn("previous reminder", email.mail_message_ids.body)

    def test_follow_up_says_so(self):
        self._invoice(self.customer, 900.0, days_late=20)
        self._run(date=self.today - timedelta(days=10))  # first reminder ten days ago
        self._run()
        second = self._communications(channel="email", level_id=self.level_second.id)
        self.assertTrue(second.is_follow_up)
        self.assertIn("previous reminder", second.mail_message_ids.body)

    def test_spanish_template_first_message(self):
        self.env["res.lang"]._activate_lang("es_ES")
        self.env["ir.module.module"]._load_module_terms(["collections_management"], ["es_ES"], overwrite=True)
        self.customer.lang = "es_ES"
        self._invoice(self.customer, 900.0, days_late=70)
        self._payment_on_account(self.customer, 100.0)
        self._run()
        body = self._communications(channel="email").mail_message_ids.body
        self.assertNotIn("reiterados", body)
        self.assertIn("Importe neto adeudado", body)

    def test_ladder_mode_enters_one_level_per_contact(self):
        self.policy.first_contact_mode = "ladder"
        invoice = self._invoice(self.customer, 900.0, days_late=70)
        preview = self._run(run_type="dry_run")
        self.assertEqual(preview.decision_ids.level_id, self.level_first, "the preview shows the ladder too")
        self._run()
        self.assertEqual(self._instalments(invoice).collection_level_id, self.level_first)
        self._run(date=self.today + timedelta(days=1))
        self.assertEqual(self._instalments(invoice).collection_level_id, self.level_second)
        self._run(date=self.today + timedelta(days=2))
        self.assertEqual(self._instalments(invoice).collection_level_id, self.level_final)
        self.assertEqual(
            self._communications(channel="email").mapped("level_id").sorted("days"),
            self.level_first | self.level_second | self.level_final,
        )


@tagged("post_install", "-at_install")
class TestOneClock(DecisionCommon):
    def test_quiet_hours_of_a_company_far_from_utc(self):
        """Seen: the scheduled run wrote at 22:00 in Buenos Aires."""
        self.company.partner_id.tz = "America/Argentina/Buenos_Aires"
        self.policy.write({"contact_hour_from": 8.0, "contact_hour_to": 20.0})
        day = date(2026, 6, 10)
        with freeze_time(datetime(2026, 6, 11, 1, 0)):  # 22:00 on June 10th in Buenos Aires
            self._invoice_due(self.customer, 300.0, day - timedelta(days=8))
            self.env["collection.run"]._cron_run()
            run = self.env["collection.run"].search(
                [("run_type", "=", "scheduled"), ("company_id", "=", self.company.id)], limit=1
            )
            self.assertEqual(run.date, day, "the company's day")
            self.assertFalse(self._communications())
            self.assertEqual(self._decisions(run).reason, "outside_window")
            self.assertIn("22:00", self._decisions(run).detail)
        with freeze_time(datetime(2026, 6, 11, 13, 30)):  # 10:30 in Buenos Aires
            self.env["collection.run"]._cron_run()
            email = self._communications(channel="email")
            self.assertEqual(email.date, datetime(2026, 6, 11, 13, 30), "the real send time")

    def test_contact_window_across_a_daylight_saving_change(self):
        """Santiago de Chile moves from UTC-4 to UTC-3 on September 6th, 2026."""
        self.company.partner_id.tz = "America/Santiago"
        self.policy.write({"contact_hour_from": 8.0, "contact_hour_to": 20.0})
        with freeze_time(datetime(2026, 9, 5, 11, 30)):  # 07:30 in Santiago (UTC-4)
            self._invoice_due(self.customer, 300.0, date(2026, 8, 25))
            run = self._run(date=date(2026, 9, 5))
            self.assertEqual(self._decisions(run).reason, "outside_window")
        with freeze_time(datetime(2026, 9, 7, 11, 30)):  # 08:30 in Santiago (UTC-3)
            run = self._run(date=date(2026, 9, 7))
            self.assertEqual(self._decisions(run).reason, "send")
            self.assertEqual(len(self._communications(channel="email")), 1)

    def test_real_run_happens_today_only(self):
        """Seen: a manual run dated in the future sent future levels today."""
        self._invoice(self.customer, 300.0, days_late=-10)
        run = self.env["collection.run"].create(
            {"company_id": self.company.id, "run_type": "manual", "date": self.today + timedelta(days=26)}
        )
        with self.assertRaisesRegex(UserError, "dry run"):
            run.action_execute()
        self.assertFalse(self._communications())
        preview = self._run(run_type="dry_run", date=self.today + timedelta(days=26))
        self.assertEqual(preview.decision_ids.reason, "simulated")


@tagged("post_install", "-at_install")
class TestStateOnlyAfterReaching(DecisionCommon):
    def test_nothing_reached_keeps_levels_failures_and_one_task(self):
        """Seen: every channel failed, yet the level was recorded and nobody was told."""
        self.customer.write({"email": False, "phone": False})
        invoice = self._invoice(self.customer, 300.0, days_late=16)
        run = self._run()
        communications = self._communications()
        self.assertEqual(sorted(communications.mapped("channel")), ["call", "email", "sms"])
        self.assertEqual(
            sorted(communications.filtered(lambda c: c.channel != "call").mapped("state")), ["failed", "failed"]
        )
        tasks = communications.activity_ids
        self.assertEqual(len(tasks), 1, "one task for a person")
        self.assertNotEqual(tasks.user_id, self.env.ref("base.user_root"))
        self.assertFalse(self._instalments(invoice).collection_level_id)
        decision = self._decisions(run)
        self.assertEqual(decision.reason, "failed")
        self.assertIn("no e-mail address", decision.detail)
        self.assertEqual(run.reminded_count, 0)
        # Once the address is fixed, the next run tries again.
        self.customer.email = "pagos@abarrotes.example.com"
        again = self._run()
        self.assertEqual(self._decisions(again).reason, "send")
        self.assertEqual(self._instalments(invoice).collection_level_id, self.level_second)
        self.assertEqual(len(self._communications().activity_ids), 1, "still one open call task")

    def test_fallback_never_repeats_a_channel(self):
        """Seen: SMS fails, fallback is e-mail, e-mail was already sent: two identical e-mails."""
        self.level_second.fallback = "email"
        self.customer.phone = "12"
        self._invoice(self.customer, 300.0, days_late=16)
        self._run()
        self.assertEqual(len(self._communications(channel="email")), 1)
        self.assertEqual(self._communications(channel="email").state, "queued")
        self.assertFalse(self._communications(channel="call"), "the e-mail reached the customer")

    def test_default_collections_user_gets_tasks_of_the_scheduled_run(self):
        """Seen: fallback call tasks of the scheduled run went to OdooBot."""
        self.company.collection_default_user_id = self.collector_3
        self.customer.email = False
        self._invoice(self.customer, 300.0, days_late=8)
        self.env["collection.run"]._cron_run()
        task = self._communications(channel="call").activity_ids
        self.assertEqual(task.user_id, self.collector_3)

    def test_task_notes_and_chatter_escape_customer_names(self):
        """Seen: <b> rendered and & showed as &amp; in task notes; letters and tasks left no
        entry in the customer's chatter."""
        self.customer.write({"name": "Smith & <b>Sons</b>", "email": False})
        self.level_first.channel_letter = True
        self._invoice(self.customer, 300.0, days_late=8)
        self._run()
        task = self._communications(channel="call").activity_ids
        self.assertIn("Smith &amp; &lt;b&gt;Sons&lt;/b&gt;", str(task.note))
        self.assertNotIn("<b>Sons", str(task.note))
        chatter = self.env["mail.message"].search(
            [
                ("model", "=", "res.partner"),
                ("res_id", "=", self.customer.id),
                ("collection_communication_id", "!=", False),
            ]
        )
        self.assertEqual(
            sorted(chatter.collection_communication_id.mapped("channel")), ["call", "letter"], "letter and task"
        )
        self.assertNotIn("<b>Sons", "".join(chatter.mapped("body")))


@tagged("post_install", "-at_install")
class TestRecipients(DecisionCommon):
    def test_each_channel_takes_the_first_address_that_can_carry_it(self):
        """Seen: a collections contact without e-mail made the e-mail fail."""
        contact = self.env["res.partner"].create(
            {
                "name": "Lucía Cobranza",
                "parent_id": self.customer.id,
                "collection_contact": True,
                "phone": "+52 477 765 4321",
            }
        )
        invoice_desk = self.env["res.partner"].create(
            {
                "name": "Facturas",
                "parent_id": self.customer.id,
                "type": "invoice",
                "email": "facturas@abarrotes.example.com",
            }
        )
        self._invoice(self.customer, 300.0, days_late=16)
        self._run()
        self.assertEqual(self._communications(channel="email").recipient_id, invoice_desk)
        self.assertEqual(self._communications(channel="email").state, "queued")
        self.assertEqual(self._communications(channel="sms").recipient_id, contact)

    def test_several_comma_separated_emails(self):
        self.customer.email = "cuentas@abarrotes.example.com, tesoreria@abarrotes.example.com"
        self._invoice(self.customer, 300.0, days_late=8)
        self._run()
        self.assertEqual(self._communications(channel="email").state, "queued")


@tagged("post_install", "-at_install")
class TestNothingSilentlyDropped(DecisionCommon):
    def test_archived_customer_with_debt_appears_with_its_reason(self):
        self._invoice(self.customer, 300.0, days_late=8)
        self.customer.action_archive()
        run = self._run()
        self.assertFalse(self._communications())
        self.assertEqual(self._decisions(run).reason, "archived")

    def test_every_reason_is_recorded(self):
        excluded, disputed, promised, small = (self._customer(name) for name in ("Excl", "Disp", "Prom", "Small"))
        excluded.collection_excluded = True
        self._invoice(excluded, 300.0, days_late=8)
        invoice = self._invoice(disputed, 300.0, days_late=8)
        self.env["collection.dispute"].create(
            {
                "partner_id": disputed.id,
                "line_ids": [Command.set(self._instalments(invoice).ids)],
                "reason_id": self.reason_price.id,
            }
        )
        invoice = self._invoice(promised, 300.0, days_late=8)
        self.env["collection.promise"].create(
            {
                "partner_id": promised.id,
                "date": self.today + timedelta(days=5),
                "amount": 300.0,
                "line_ids": [Command.set(self._instalments(invoice).ids)],
            }
        )
        self.policy.minimum_amount = 50.0
        self._invoice(small, 20.0, days_late=8)
        self._invoice(self.customer, 300.0, days_late=2)
        run = self._run()
        reasons = {d.partner_id: d.reason for d in run.decision_ids}
        self.assertEqual(
            reasons,
            {
                excluded: "excluded",
                disputed: "disputed",
                promised: "promised",
                small: "below_minimum",
                self.customer: "nothing_new",
            },
        )


@tagged("post_install", "-at_install")
class TestRunLife(DecisionCommon):
    def test_dead_run_is_closed_at_once(self):
        dead = self.env["collection.run"].create({"company_id": self.company.id})
        dead.write({"state": "running", "started_at": fields.Datetime.now() - timedelta(minutes=5)})
        self.env["collection.run"]._cron_run()
        self.assertEqual(dead.state, "failed")
        self.assertIn("Interrupted", dead.log)

    def test_live_run_holding_its_lock_is_left_alone(self):
        alive = self.env["collection.run"].create({"company_id": self.company.id})
        alive.write({"state": "running", "started_at": fields.Datetime.now()})
        with self.registry.cursor() as other:
            other.execute(SQL("SELECT pg_advisory_lock(%s, %s)", RUN_LOCK_KEY, self.company.id))
            try:
                self.env["collection.run"]._close_dead_runs()
            finally:
                other.execute(SQL("SELECT pg_advisory_unlock(%s, %s)", RUN_LOCK_KEY, self.company.id))
        self.assertEqual(alive.state, "running")

    def test_run_whose_customers_all_fail_ends_failed(self):
        customers = self.env["res.partner"].create(
            [{"name": f"Crash {i}", "email": f"crash{i}@example.com", "is_company": True} for i in range(2)]
        )
        for customer in customers:
            self._invoice(customer, 100.0, days_late=8)
        self.env.cr.execute(
            """
            CREATE FUNCTION collection_test_crash_all() RETURNS trigger AS $$
            BEGIN RAISE EXCEPTION 'could not serialize access'; END $$ LANGUAGE plpgsql;
            CREATE TRIGGER collection_test_crash_all BEFORE INSERT ON collection_communication
            FOR EACH ROW EXECUTE FUNCTION collection_test_crash_all();
            """
        )
        run = self._run()
        self.assertEqual(run.state, "failed")
        self.assertIn("Every customer of the run failed", run.log)
        self.assertIn("could not serialize", run.log)
        self.assertEqual(set(run.decision_ids.mapped("reason")), {"error"})

    def test_paused_run_resumes_after_the_last_customer_handled(self):
        customers = (
            self.env["res.partner"]
            .create([{"name": f"Lote {i}", "email": f"lote{i}@example.com", "is_company": True} for i in range(4)])
            .sorted("id")
        )
        for customer in customers:
            self._invoice(customer, 100.0, days_late=8)
        paused = self.env["collection.run"].create(
            {"company_id": self.company.id, "run_type": "scheduled", "date": self.today}
        )
        paused.write({"state": "running", "paused": True, "cursor_partner_id": customers[1].id})
        self.env["collection.run"]._cron_run()
        self.assertEqual(paused.state, "done")
        self.assertEqual(paused.decision_ids.partner_id, customers[2:])
        self.assertEqual(
            self.env["collection.run"].search_count(
                [("run_type", "=", "scheduled"), ("company_id", "=", self.company.id)]
            ),
            1,
        )


@tagged("post_install", "-at_install")
class TestSendReminderNow(DecisionCommon):
    def _send_now(self, records, user):
        action = self.env.ref(
            "collections_management.collection_run_action_send_now_partner"
            if records._name == "res.partner"
            else "collections_management.collection_run_action_send_now_case"
        )
        return (
            action.with_user(user)
            .with_context(active_model=records._name, active_ids=records.ids, active_id=records[:1].id)
            .run()
        )

    def test_manager_reminds_chosen_customers_now(self):
        far = self._customer("Lejano SA")
        self._invoice(self.customer, 300.0, days_late=8)
        self._invoice(self.customer_b, 300.0, days_late=8)
        self._invoice(far, 300.0, days_late=2)
        result = self._send_now(self.customer | far, self.manager)
        decisions = self.env["collection.run.decision"].search(result["domain"])
        self.assertEqual({d.partner_id: d.reason for d in decisions}, {self.customer: "send", far: "nothing_new"})
        self.assertTrue(self._communications(channel="email"))
        self.assertFalse(self._communications(self.customer_b), "only the chosen customers")
        # Pressed again: the rules still hold, nothing is sent twice.
        result = self._send_now(self.customer, self.manager)
        self.assertEqual(self.env["collection.run.decision"].search(result["domain"]).reason, "nothing_new")
        self.assertEqual(len(self._communications(channel="email")), 1)

    def test_from_a_case_with_quiet_hours(self):
        self._invoice(self.customer, 300.0, days_late=8)
        self._run(run_type="dry_run")
        self.policy.write({"contact_hour_from": 0.0, "contact_hour_to": 0.5})
        case = self.env["collection.case"].create({"partner_id": self.customer.id, "company_id": self.company.id})
        with freeze_time(datetime.combine(self.today, datetime.min.time()) + timedelta(hours=12)):
            result = self._send_now(case, self.manager)
        decision = self.env["collection.run.decision"].search(result["domain"])
        self.assertEqual(decision.reason, "outside_window")
        self.assertFalse(self._communications(state="queued"))

    def test_collector_cannot_use_it(self):
        self._invoice(self.customer, 300.0, days_late=8)
        with self.assertRaises(AccessError):
            self._send_now(self.customer, self.collector_1)
        self.assertFalse(self._communications())
        self.assertIn(self.manager, self.env.ref(MANAGER_GROUP).all_user_ids)

    def test_manager_runs_and_reads_decisions_from_the_run_form(self):
        self._invoice(self.customer, 300.0, days_late=8)
        self._invoice(self.customer_b, 300.0, days_late=2)
        form = Form(self.env["collection.run"].with_user(self.manager))
        form.run_type = "dry_run"
        run = form.save()
        run.action_execute()
        action = run.action_view_decisions()
        decisions = self.env["collection.run.decision"].with_user(self.manager).search(action["domain"])
        self.assertEqual(
            {d.partner_id: d.reason for d in decisions}, {self.customer: "simulated", self.customer_b: "nothing_new"}
        )


@tagged("post_install", "-at_install")
class TestPromiseJudgedOnPaymentDates(DecisionCommon):
    def test_paid_after_date_plus_grace_is_broken_even_if_checked_later(self):
        """Seen: paid after its date plus grace, the promise was marked kept."""
        invoice = self._invoice(self.customer, 300.0, days_late=30)
        promise = self.env["collection.promise"].create(
            {
                "partner_id": self.customer.id,
                "date": self.today - timedelta(days=10),
                "date_made": self.today - timedelta(days=20),
                "amount": 300.0,
                "line_ids": [Command.set(self._instalments(invoice).ids)],
            }
        )
        self._register_payment(invoice, payment_date=self.today - timedelta(days=2))
        promise._check_promises()
        self.assertEqual(promise.state, "broken")

    def test_grace_days_come_from_the_customer_policy(self):
        lenient = self._create_policy(self.company, name="Lenient", promise_grace_days=10)
        self.company.collection_policy_id = self.policy
        self.customer.collection_policy_id = lenient
        invoice = self._invoice(self.customer, 300.0, days_late=30)
        promise = self.env["collection.promise"].create(
            {
                "partner_id": self.customer.id,
                "date": self.today - timedelta(days=10),
                "date_made": self.today - timedelta(days=20),
                "amount": 300.0,
                "line_ids": [Command.set(self._instalments(invoice).ids)],
            }
        )
        self.assertEqual(promise.grace_days, 10)
        self._register_payment(invoice, payment_date=self.today - timedelta(days=2))
        promise._check_promises()
        self.assertEqual(promise.state, "kept")


@tagged("post_install", "-at_install")
class TestManagerRunsTheEngine(DecisionCommon):
    def test_manager_presses_run_and_nobody_reachable_gets_one_task(self):
        """Through the buttons as a collections manager: a real run whose customer cannot be
        reached records no level, keeps the failure and gives one task to a person."""
        self.customer.write({"email": False})
        invoice = self._invoice(self.customer, 300.0, days_late=8)
        self._invoice(self.customer_b, 300.0, days_late=8)
        form = Form(self.env["collection.run"].with_user(self.manager))
        self.assertEqual(form.date, self.today)
        run = form.save()
        run.action_execute()
        self.assertEqual(run.state, "done")
        decisions = {d.partner_id: d for d in run.decision_ids}
        self.assertEqual(decisions[self.customer].reason, "failed")
        self.assertIn("no e-mail address", decisions[self.customer].detail)
        self.assertEqual(decisions[self.customer_b].reason, "send")
        self.assertFalse(self._instalments(invoice).collection_level_id)
        task = self._communications(channel="call").activity_ids
        self.assertEqual(len(task), 1)
        self.assertEqual(task.user_id, self.manager, "the person at work, never OdooBot")
        self.assertEqual(run.reminded_count, 1)

    def test_manager_cannot_send_on_another_date(self):
        self._invoice(self.customer, 300.0, days_late=8)
        form = Form(self.env["collection.run"].with_user(self.manager))
        form.date = self.today + timedelta(days=3)
        run = form.save()
        with self.assertRaises(UserError):
            run.action_execute()
        self.assertEqual(run.state, "draft")

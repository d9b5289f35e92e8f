from datetime import timedelta

from odoo.tests import freeze_time, tagged

from .common_casework import CaseworkCommon


@tagged("post_install", "-at_install")
class TestCaseOpening(CaseworkCommon):
    def test_run_opens_case_with_amounts_from_the_receivable(self):
        old = self._invoice(self.customer, 700.0, days_late=40)
        recent = self._invoice(self.customer, 300.0, days_late=8)
        self._invoice(self.customer, 150.0, days_late=-10)  # not due yet
        self._run()
        case = self._case()
        self.assertRecordValues(
            case,
            [
                {
                    "stage_id": self.stage_new.id,
                    "is_closed": False,
                    "level_id": self.level_final.id,
                    "amount_overdue": 1000.0,
                    "amount_due": 1150.0,
                    "overdue_line_count": 2,
                    "days_late": 40,
                    "oldest_due_date": self.today - timedelta(days=40),
                }
            ],
        )
        self.assertEqual(case.overdue_line_ids, self._instalments(old + recent))
        self.assertEqual(len(case.open_line_ids), 3)

    def test_preventive_reminder_opens_no_case(self):
        self._invoice(self.customer, 500.0, days_late=-2)
        self._run()
        self.assertTrue(self._communications(channel="email"))
        self.assertFalse(self._case())

    def test_overdue_per_currency(self):
        eur = self.setup_other_currency("EUR", rates=[("2000-01-01", 2.0)])
        self._invoice(self.customer, 400.0, days_late=20, currency=eur)
        self._invoice(self.customer, 100.0, days_late=10)
        case = self._open_case(self.customer)
        self.assertAlmostEqual(case.amount_overdue, 300.0, msg="200 in company currency for 400 EUR, plus 100")
        summary = str(case.overdue_summary)
        self.assertIn("EUR", summary)
        self.assertIn("USD", summary)
        self.assertIn("20 days late", summary)
        self.assertIn("10 days late", summary)

    def test_days_late_is_searchable(self):
        self._invoice(self.customer, 100.0, days_late=45)
        self._invoice(self.customer_b, 100.0, days_late=10)
        late = self._open_case(self.customer)
        recent = self._open_case(self.customer_b)
        Case = self.env["collection.case"]
        self.assertEqual(Case.search([("id", "in", (late + recent).ids), ("days_late", ">", 30)]), late)
        self.assertEqual(Case.search([("id", "in", (late + recent).ids), ("days_late", "<=", 30)]), recent)


@tagged("post_install", "-at_install")
class TestCaseClosing(CaseworkCommon):
    def test_partial_payment_keeps_the_case_open(self):
        invoice = self._invoice(self.customer, 1000.0, days_late=10)
        self._run()
        case = self._case()
        self._register_payment(invoice, amount=400.0)
        self.assertRecordValues(case, [{"amount_overdue": 600.0, "is_closed": False, "stage_id": self.stage_new.id}])

    def test_full_payment_closes_the_case(self):
        first = self._invoice(self.customer, 1000.0, days_late=10)
        second = self._invoice(self.customer, 500.0, days_late=20)
        self._run()
        case = self._case()
        case.stage_id = self.stage_contacted
        self._register_payment(first)
        self.assertFalse(case.is_closed, "the second invoice is still overdue")
        self._register_payment(second)
        self.assertRecordValues(
            case,
            [
                {
                    "stage_id": self.stage_closed.id,
                    "is_closed": True,
                    "amount_overdue": 0.0,
                    "date_closed": self.today,
                    "days_late": 0,
                }
            ],
        )

    def test_credit_note_closes_the_case(self):
        invoice = self._invoice(self.customer, 800.0, days_late=12)
        self._run()
        case = self._case()
        self._credit_note(invoice)
        self.assertTrue(case.is_closed)
        self.assertEqual(case.stage_id, self.stage_closed)

    def test_write_off_closes_the_case(self):
        invoice = self._invoice(self.customer, 800.0, days_late=12)
        self._run()
        case = self._case()
        self._register_payment(
            invoice,
            amount=790.0,
            payment_difference_handling="reconcile",
            writeoff_account_id=self.company_data["default_account_expense"].id,
            writeoff_label="Bank fees",
        )
        self.assertTrue(case.is_closed)

    def test_not_yet_due_balance_does_not_keep_the_case_open(self):
        overdue = self._invoice(self.customer, 300.0, days_late=10)
        self._invoice(self.customer, 200.0, days_late=-15)
        self._run()
        case = self._case()
        self._register_payment(overdue)
        self.assertRecordValues(case, [{"is_closed": True, "amount_due": 200.0, "amount_overdue": 0.0}])


@tagged("post_install", "-at_install")
class TestCaseReopening(CaseworkCommon):
    def test_new_overdue_invoice_reopens_through_the_engine(self):
        invoice = self._invoice(self.customer, 300.0, days_late=10)
        self._run()
        case = self._case()
        case.user_id = self.collector_1
        self._register_payment(invoice)
        self.assertTrue(case.is_closed)
        self._invoice(self.customer, 450.0, days_late=7)
        self._run()
        self.assertEqual(self._case(), case, "one case per customer and company")
        self.assertRecordValues(
            case,
            [
                {
                    "is_closed": False,
                    "stage_id": self.stage_new.id,
                    "amount_overdue": 450.0,
                    "user_id": self.collector_1.id,
                    "date_closed": False,
                }
            ],
        )

    def test_instalment_falling_overdue_reopens_through_the_daily_refresh(self):
        paid = self._invoice(self.customer, 300.0, days_late=10)
        self._invoice(self.customer, 200.0, days_late=-3)
        self._run()
        case = self._case()
        self._register_payment(paid)
        self.assertTrue(case.is_closed)
        with freeze_time(self.today + timedelta(days=5)):
            self.env["collection.case"]._cron_refresh_cases()
            self.assertRecordValues(
                case,
                [
                    {
                        "is_closed": False,
                        "stage_id": self.stage_new.id,
                        "amount_overdue": 200.0,
                        "days_late": 2,
                    }
                ],
            )

    def test_daily_refresh_follows_days_late_and_priority(self):
        self._invoice(self.customer, 5000.0, days_late=10)
        self._run()
        case = self._case()
        score = case.priority_score
        with freeze_time(self.today + timedelta(days=60)):
            self.env["collection.case"]._cron_refresh_cases()
            self.assertEqual(case.days_late, 70)
            self.assertGreater(case.priority_score, score)
            self.assertAlmostEqual(case.score_days, 70 / 3.0, places=1)


@tagged("post_install", "-at_install")
class TestPriorityScore(CaseworkCommon):
    def test_score_is_the_sum_of_its_explained_parts(self):
        self._invoice(self.customer, 10000.0, days_late=90)
        case = self._open_case(self.customer)
        self.assertRecordValues(
            case,
            [
                {
                    "score_amount": 40.0,
                    "score_days": 30.0,
                    "score_promises": 0.0,
                    "score_reliability": 5.0,  # no payment history
                    "priority_score": 75.0,
                    "priority": "3",
                    "payment_on_time_rate": -1.0,
                }
            ],
        )

    def test_small_recent_debt_is_low_priority(self):
        self._invoice(self.customer, 100.0, days_late=3)
        case = self._open_case(self.customer)
        self.assertRecordValues(case, [{"score_amount": 20.0, "score_days": 1.0, "priority": "1"}])

    def test_payment_habits_count(self):
        late_payer, good_payer = self.customer, self.customer_b
        for partner, pay_days_late in ((late_payer, 10), (good_payer, -5)):
            for __ in range(2):
                invoice = self._invoice(partner, 100.0, days_late=30)
                self._register_payment(invoice, payment_date=self.today - timedelta(days=30 - pay_days_late))
            self._invoice(partner, 1000.0, days_late=20)
        bad, good = self._open_case(late_payer), self._open_case(good_payer)
        self.assertRecordValues(
            bad + good,
            [
                {"payment_on_time_rate": 0.0, "score_reliability": 10.0},
                {"payment_on_time_rate": 100.0, "score_reliability": 0.0},
            ],
        )
        self.assertGreater(bad.priority_score, good.priority_score)
        Case = self.env["collection.case"]
        self.assertEqual(Case.search([("id", "in", (bad + good).ids)]), bad + good, "worklists sort by score")
        self.assertEqual(Case.search([("id", "in", (bad + good).ids)])[0], bad)

    def test_broken_promises_raise_the_priority(self):
        invoice = self._invoice(self.customer, 1000.0, days_late=20)
        case = self._open_case(self.customer)
        before = case.priority_score
        promise = self.env["collection.promise"].create(
            {
                "partner_id": self.customer.id,
                "date_made": self.today - timedelta(days=10),
                "date": self.today - timedelta(days=5),
                "amount": 1000.0,
                "line_ids": [(6, 0, self._instalments(invoice).ids)],
            }
        )
        promise._check_promises()
        self.assertEqual(promise.state, "broken")
        self.assertRecordValues(case, [{"broken_promise_count": 1, "score_promises": 10.0}])
        self.assertEqual(case.priority_score, before + 10.0)


@tagged("post_install", "-at_install")
class TestEscalation(CaseworkCommon):
    def test_level_moves_case_assigns_manager_and_creates_task(self):
        team = self._team("Mexico", self.collector_1, manager=self.manager)
        self.level_second.write({"case_stage_id": self.stage_escalated.id, "assign_to_manager": True})
        self._invoice(self.customer, 900.0, days_late=20)
        # Ten days ago the invoice was at the first reminder: the case opens with a collector.
        self._run(date=self.today - timedelta(days=10))
        case = self._case()
        self.assertRecordValues(
            case,
            [
                {
                    "level_id": self.level_first.id,
                    "team_id": team.id,
                    "user_id": self.collector_1.id,
                    "stage_id": self.stage_new.id,
                }
            ],
        )
        self.assertFalse(self._activities(case).filtered(lambda a: a.summary and "Escalated" in a.summary))
        self._run()
        self.assertRecordValues(
            case,
            [
                {
                    "level_id": self.level_second.id,
                    "stage_id": self.stage_escalated.id,
                    "user_id": self.manager.id,
                }
            ],
        )
        task = self._activities(case, self.manager).filtered(lambda a: "Escalated" in (a.summary or ""))
        self.assertEqual(len(task), 1)
        self.assertIn(self.level_second.name, task.summary)
        self.assertIn("Escalated at level Second reminder", case.message_ids[:1].body)
        # The same level reached again does not escalate twice.
        self._run(date=self.today + timedelta(days=1))
        self.assertEqual(len(self._activities(case).filtered(lambda a: "Escalated" in (a.summary or ""))), 1)

    def test_new_case_at_a_legal_level_starts_escalated(self):
        self.level_prelegal.case_stage_id = self.stage_legal
        self._invoice(self.customer, 900.0, days_late=70)
        self._run()
        self.assertEqual(self._case().stage_id, self.stage_legal)


@tagged("post_install", "-at_install")
class TestCaseViews(CaseworkCommon):
    def test_case_views_load(self):
        views = self.env["collection.case"].get_views(
            [
                (False, "kanban"),
                (False, "list"),
                (False, "form"),
                (False, "pivot"),
                (False, "graph"),
                (False, "activity"),
                (False, "search"),
            ]
        )
        self.assertEqual(set(views["views"]), {"kanban", "list", "form", "pivot", "graph", "activity", "search"})
        self.assertIn("amount_overdue", views["views"]["kanban"]["arch"])
        self.assertIn("priority_score", views["views"]["form"]["arch"])

    def test_other_views_load(self):
        for model, types in (
            ("collection.team", ["list", "form", "search"]),
            ("collection.promise", ["list", "form", "pivot", "search"]),
            ("collection.dispute", ["list", "form", "pivot", "search", "activity"]),
            ("collection.log.contact", ["form"]),
            ("collection.case.reassign", ["form"]),
        ):
            views = self.env[model].get_views([(False, view_type) for view_type in types])
            self.assertEqual(set(views["views"]), set(types), model)

    def test_kanban_groups_by_stage_with_every_stage(self):
        self._invoice(self.customer, 100.0, days_late=10)
        self._open_case(self.customer)
        groups = (
            self.env["collection.case"]
            .with_context(read_group_expand=True)
            .formatted_read_group([], ["stage_id"], ["amount_overdue:sum"])
        )
        stages = [group["stage_id"][0] for group in groups]
        self.assertIn(self.stage_broken.id, stages, "empty stages are shown as columns")
        self.assertIn(self.stage_new.id, stages)

    def test_collector_opens_the_form_of_own_case(self):
        self._invoice(self.customer, 100.0, days_late=10)
        case = self._open_case(self.customer, user_id=self.collector_1.id)
        as_collector = case.with_user(self.collector_1)
        as_collector.invalidate_recordset()
        data = as_collector.web_read(
            {
                "amount_overdue": {},
                "overdue_line_ids": {"fields": {"amount_residual": {}}},
                "communication_ids": {"fields": {"subject": {}}},
                "overdue_summary": {},
                "priority_score": {},
            }
        )
        self.assertEqual(data[0]["amount_overdue"], 100.0)
        self.assertEqual(len(data[0]["overdue_line_ids"]), 1)


@tagged("post_install", "-at_install")
class TestCaseBatching(CaseworkCommon):
    def _count_update_queries(self, size, offset):
        customers = self.env["res.partner"].create(
            [{"name": f"Lote {offset + index}", "is_company": True} for index in range(size)]
        )
        for customer in customers:
            self._invoice(customer, 100.0, days_late=20)
        run = self.env["collection.run"].create({"company_id": self.company.id})
        self.env.flush_all()
        before = self.env.cr.sql_log_count
        self.env["collection.case"]._collection_update_from_run(run, dict.fromkeys(customers.ids, self.level_second))
        self.env.flush_all()
        return self.env.cr.sql_log_count - before

    def test_opening_cases_costs_the_same_queries_for_3_or_12_customers(self):
        self._team("Everyone", self.collector_1 | self.collector_2, method="open_cases")
        self.level_second.write({"case_stage_id": self.stage_escalated.id, "assign_to_manager": True})
        self._count_update_queries(2, 200)  # warm the caches (stages, references, models)
        self.assertEqual(self._count_update_queries(3, 0), self._count_update_queries(12, 100))
        cases = self.env["collection.case"].search([("partner_id.name", "like", "Lote ")])
        self.assertEqual(len(cases), 17)
        self.assertEqual(cases.stage_id, self.stage_escalated)
        self.assertEqual(cases.user_id, self.manager)

from datetime import timedelta

from odoo import Command
from odoo.tests import freeze_time, tagged

from .common_casework import CaseworkCommon


@tagged("post_install", "-at_install")
class TestPromise(CaseworkCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.policy.promise_grace_days = 3
        cls.team = cls._team("Everyone", cls.collector_1)

    def setUp(self):
        super().setUp()
        self.invoice = self._invoice(self.customer, 1000.0, days_late=20)
        self._run(date=self.today - timedelta(days=12))
        self.case = self._case()

    def _days(self, days):
        return self.today + timedelta(days=days)

    def _promise(self, **values):
        return self.env["collection.promise"].create(
            {
                "partner_id": self.customer.id,
                "date_made": self._days(-10),
                "date": self._days(-5),
                "amount": 1000.0,
                **values,
            }
        )

    def _pay(self, amount, days):
        return self._register_payment(self.invoice, amount=amount, payment_date=self._days(days))

    def test_promise_covers_the_whole_overdue_and_moves_the_case(self):
        self._invoice(self.customer, 300.0, days_late=-5)  # not due: not part of the promise
        promise = self._promise(date_made=self.today, date=self._days(7), amount=0.0)
        self.assertRecordValues(
            promise,
            [
                {
                    "state": "open",
                    "case_id": self.case.id,
                    "amount": 1000.0,
                    "scope": "all",
                }
            ],
        )
        self.assertEqual(promise.line_ids, self._instalments(self.invoice))
        self.assertEqual(self.case.stage_id, self.stage_promise)
        self.assertEqual(self.case.promise_id, promise)
        self.assertEqual(self.case.promise_state, "open")

    def test_kept_when_paid_by_the_date(self):
        promise = self._promise()
        self._pay(1000.0, -6)
        promise._check_promises()
        self.assertRecordValues(promise, [{"state": "kept", "amount_paid": 1000.0, "date_settled": self.today}])
        self.assertTrue(self.case.is_closed, "nothing overdue any more")

    def test_kept_as_soon_as_paid_even_before_the_date(self):
        self._invoice(self.customer, 500.0, days_late=10)  # keeps the case open
        promise = self._promise(
            date_made=self.today, date=self._days(10), line_ids=[Command.set(self._instalments(self.invoice).ids)]
        )
        self._pay(1000.0, 0)
        promise._check_promises()
        self.assertEqual(promise.state, "kept")
        self.assertEqual(self.case.stage_id, self.stage_contacted, "back to work on what is left")

    def test_payment_within_the_grace_days_keeps_it(self):
        promise = self._promise()
        self._pay(1000.0, -3)  # two days after the promised date, grace is three
        promise._check_promises()
        self.assertEqual(promise.state, "kept")

    def test_payment_before_the_promise_does_not_count(self):
        self._pay(200.0, -15)
        promise = self._promise(amount=800.0)
        promise._check_promises()
        self.assertRecordValues(promise, [{"state": "broken", "amount_paid": 0.0}])

    def test_partly_kept(self):
        promise = self._promise()
        self._pay(400.0, -7)
        promise._check_promises()
        self.assertRecordValues(promise, [{"state": "partial", "amount_paid": 400.0}])
        self.assertEqual(self.case.stage_id, self.stage_broken)
        activity = self._activities(self.case, self.collector_1)
        self.assertEqual(len(activity), 1)
        self.assertIn("partly kept", activity.summary)

    def test_broken_moves_the_case_and_tells_the_collector(self):
        promise = self._promise()
        promise._check_promises()
        self.assertRecordValues(promise, [{"state": "broken", "amount_paid": 0.0}])
        self.assertRecordValues(self.case, [{"stage_id": self.stage_broken.id, "promise_state": "broken"}])
        activity = self._activities(self.case, self.collector_1)
        self.assertEqual(activity.activity_type_id, self.env.ref("mail.mail_activity_data_call"))
        self.assertIn("broken", activity.summary)
        self.assertIn("Reminders resume", self.case.message_ids[:1].body)

    def test_open_until_the_grace_days_are_over(self):
        promise = self._promise(date_made=self.today, date=self._days(-0))
        promise._check_promises()
        self.assertEqual(promise.state, "open")
        promise._check_promises(today=self._days(3))
        self.assertEqual(promise.state, "open")
        promise._check_promises(today=self._days(4))
        self.assertEqual(promise.state, "broken")

    def test_daily_cron_decides(self):
        promise = self._promise(date_made=self.today, date=self._days(2))
        self.env["collection.promise"]._cron_check_promises()
        self.assertEqual(promise.state, "open")
        with freeze_time(self._days(6)):
            self.env["collection.promise"]._cron_check_promises()
        self.assertEqual(promise.state, "broken")

    def test_payment_plan_with_several_dates(self):
        promise = self._promise(
            date_made=self._days(-30),
            amount=0.0,
            plan_line_ids=[
                Command.create({"date": self._days(-20), "amount": 300.0}),
                Command.create({"date": self._days(-10), "amount": 300.0}),
                Command.create({"date": self._days(10), "amount": 400.0}),
            ],
        )
        self.assertRecordValues(promise, [{"is_plan": True, "amount": 1000.0, "date": self._days(10)}])
        self._pay(300.0, -22)
        self._pay(300.0, -8)  # two days late, inside the grace days
        promise._check_promises()
        self.assertEqual(promise.state, "open", "the last amount is not due yet")
        self.assertEqual(promise.plan_line_ids.mapped("state"), ["paid", "paid", "pending"])
        self._pay(400.0, 0)
        promise._check_promises()
        self.assertEqual(promise.state, "kept")

    def test_payment_plan_missed_step_is_partly_kept(self):
        promise = self._promise(
            date_made=self._days(-30),
            amount=0.0,
            plan_line_ids=[
                Command.create({"date": self._days(-20), "amount": 300.0}),
                Command.create({"date": self._days(-10), "amount": 300.0}),
                Command.create({"date": self._days(10), "amount": 400.0}),
            ],
        )
        self._pay(300.0, -21)
        self.assertEqual(promise.plan_line_ids.mapped("state"), ["paid", "late", "pending"])
        promise._check_promises()
        self.assertEqual(promise.state, "partial", "the second amount was not paid by its date")
        self.assertEqual(self.case.stage_id, self.stage_broken)

    def test_promise_kept_rate_of_the_customer(self):
        kept = self._promise()
        self._pay(1000.0, -6)
        kept._check_promises()
        invoice = self._invoice(self.customer, 500.0, days_late=20)
        broken = self._promise(line_ids=[Command.set(self._instalments(invoice).ids)], amount=500.0)
        broken._check_promises()
        self.assertEqual(broken.state, "broken")
        self.customer.invalidate_recordset(["collection_promise_kept_rate"])
        self.assertEqual(self.customer.collection_promise_kept_rate, 50.0)

    def test_cancelled_promise_resumes_dunning(self):
        promise = self._promise(date_made=self.today, date=self._days(10))
        promise.action_cancel()
        self.assertEqual(promise.state, "cancelled")
        self._run(date=self._days(1))
        self.assertTrue(self._communications(run_id=self.env["collection.run"].search([], limit=1).id))


@tagged("post_install", "-at_install")
class TestPromisePausesDunning(CaseworkCommon):
    def test_open_promise_pauses_then_broken_promise_resumes(self):
        promised = self._invoice(self.customer, 600.0, days_late=8)
        promise = self.env["collection.promise"].create(
            {
                "partner_id": self.customer.id,
                "date": self.today + timedelta(days=2),
                "amount": 600.0,
            }
        )
        self.assertEqual(promise.line_ids, self._instalments(promised), "the whole overdue")
        self._run()
        self.assertFalse(self._communications(), "no reminder while the promise is open")
        promise._check_promises(today=self.today + timedelta(days=6))
        self.assertEqual(promise.state, "broken")
        self._run(date=self.today + timedelta(days=6))
        reminder = self._communications(channel="email")
        self.assertEqual(len(reminder), 1)
        self.assertEqual(reminder.line_ids, self._instalments(promised))

    def test_promise_of_some_instalments_lets_the_others_be_reminded(self):
        promised = self._invoice(self.customer, 600.0, days_late=8)
        other = self._invoice(self.customer, 200.0, days_late=8)
        self.env["collection.promise"].create(
            {
                "partner_id": self.customer.id,
                "date": self.today + timedelta(days=2),
                "amount": 600.0,
                "scope": "lines",
                "line_ids": [Command.set(self._instalments(promised).ids)],
            }
        )
        self._run()
        self.assertEqual(self._communications(channel="email").line_ids, self._instalments(other))

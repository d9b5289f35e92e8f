from contextlib import contextmanager
from datetime import timedelta

from odoo import Command
from odoo.exceptions import AccessError, ValidationError
from odoo.tests import Form, tagged

from .common_casework import CaseworkCommon


@tagged("post_install", "-at_install")
class TestPromiseDisputeRules(CaseworkCommon):
    """The rules of promises and disputes belong to their models: a collector cannot record in the
    back office (the log-contact wizard, the promise and dispute forms) what a customer could not
    online, and cannot move a promise or dispute to a customer outside their cases."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.policy.promise_max_days = 30
        cls.team = cls._team("Team A", cls.collector_1)
        cls.team_b = cls._team("Team B", cls.collector_2, domain="[('id', '=', -1)]", sequence=20)
        cls.invoice = cls._invoice(cls.customer, 1000.0, 20)
        cls.invoice_b = cls._invoice(cls.customer_b, 700.0, 20)
        cls.case = cls.env["collection.case"].create(
            {"partner_id": cls.customer.id, "company_id": cls.company.id, "user_id": cls.collector_1.id}
        )
        cls.case_b = cls.env["collection.case"].create(
            {
                "partner_id": cls.customer_b.id,
                "company_id": cls.company.id,
                "user_id": cls.collector_2.id,
                "team_id": cls.team_b.id,
            }
        )

    @contextmanager
    def _refused(self, message, exception=ValidationError):
        """Refused with ``message``; nothing the refused call did is kept (a savepoint, as the
        request's transaction in real life)."""
        with self.assertRaises(exception) as context:
            yield
        self.assertIn(message, str(context.exception))

    def _days(self, days):
        return self.today + timedelta(days=days)

    def _log_promise(self, date, amount):
        """The collector logs a call whose outcome is a promise, through the wizard's form."""
        action = self.case.with_user(self.collector_1).action_log_contact()
        wizard_form = Form(self.env[action["res_model"]].with_user(self.collector_1).with_context(**action["context"]))
        wizard_form.outcome = "promise"
        wizard_form.promise_date = date
        wizard_form.promise_amount = amount
        return wizard_form.save().action_log()

    def _promises(self, partner=None):
        return self.env["collection.promise"].search([("partner_id", "=", (partner or self.customer).id)])

    # Promise: horizon, amount, one under way -----------------------------------------------

    def test_collector_promise_within_the_rules(self):
        self._log_promise(self._days(10), 800.0)
        self.assertRecordValues(
            self._promises(), [{"state": "open", "amount": 800.0, "date": self._days(10), "case_id": self.case.id}]
        )

    def test_collector_cannot_promise_beyond_the_horizon(self):
        with self._refused("must be between"):
            self._log_promise(self._days(31), 800.0)
        self.assertFalse(self._promises())

    def test_collector_cannot_promise_more_than_the_overdue(self):
        with self._refused("more than what is overdue"):
            self._log_promise(self._days(10), 1000.01)
        self.assertFalse(self._promises())

    def test_one_promise_under_way_per_customer(self):
        self._log_promise(self._days(10), 500.0)
        with self._refused("already under way"):
            self._log_promise(self._days(12), 300.0)
        self.assertEqual(len(self._promises()), 1)
        # Once settled (here: cancelled), the next one may be recorded.
        self._promises().with_user(self.collector_1).action_cancel()
        self._log_promise(self._days(12), 300.0)
        self.assertEqual(self._promises().mapped("state"), ["open", "cancelled"])

    def test_promise_form_obeys_the_same_rules(self):
        action = self.case.with_user(self.collector_1).action_new_promise()
        promise_form = Form(
            self.env["collection.promise"].with_user(self.collector_1).with_context(**action["context"])
        )
        promise_form.date = self._days(45)
        with self._refused("must be between"):
            promise_form.save()
        self.assertFalse(self._promises())

    def test_editing_a_promise_is_checked_again(self):
        self._log_promise(self._days(10), 500.0)
        promise = self._promises().with_user(self.collector_1)
        with self._refused("more than what is overdue"):
            promise.amount = 5000.0
        with self._refused("must be between"):
            promise.date = self._days(90)

    def test_payment_plan_lines_are_checked(self):
        promise = self.env["collection.promise"].create(
            {
                "partner_id": self.customer.id,
                "plan_line_ids": [
                    Command.create({"date": self._days(5), "amount": 400.0}),
                    Command.create({"date": self._days(20), "amount": 400.0}),
                ],
            }
        )
        line = promise.plan_line_ids[:1].with_user(self.collector_1)
        with self._refused("more than what is owed"):
            line.amount = 900.0
        with self._refused("one payment per date"):
            line.date = self._days(20)
        self.assertRecordValues(promise, [{"amount": 800.0, "date": self._days(20)}])

    # Scope: a promise or dispute stays with the customers of the collector's cases ---------------

    def test_collector_cannot_move_a_promise_to_another_teams_customer(self):
        self._log_promise(self._days(10), 500.0)
        promise = self._promises().with_user(self.collector_1)
        with self.assertRaises(AccessError):
            promise.write({"partner_id": self.customer_b.id})
        # The promise's own rule refuses another customer's case, for a collector as for a manager.
        with self._refused("case of its own customer"):
            promise.write({"case_id": self.case_b.id})
        with self._refused("case of its own customer"):
            promise.with_user(self.manager).write({"case_id": self.case_b.id})
        self.assertEqual(promise.sudo().partner_id, self.customer)

    def test_collector_cannot_move_a_plan_line_to_another_teams_promise(self):
        promise_a, promise_b = self.env["collection.promise"].create(
            [
                {
                    "partner_id": partner.id,
                    "plan_line_ids": [
                        Command.create({"date": self._days(5), "amount": 100.0}),
                        Command.create({"date": self._days(10), "amount": 100.0}),
                    ],
                }
                for partner in (self.customer, self.customer_b)
            ]
        )
        line = promise_a.plan_line_ids[:1].with_user(self.collector_1)
        with self.assertRaises(AccessError):
            line.promise_id = promise_b
        self.assertEqual(len(promise_b.plan_line_ids), 2)

    def test_promise_covers_its_own_customers_instalments_only(self):
        with self._refused("own customer only"):
            self.env["collection.promise"].create(
                {
                    "partner_id": self.customer.id,
                    "date": self._days(5),
                    "amount": 100.0,
                    "line_ids": [Command.set(self._instalments(self.invoice_b).ids)],
                }
            )

    # Dispute: at most one open per invoice -------------------------------------------------

    def test_an_invoice_has_at_most_one_open_dispute(self):
        Dispute = self.env["collection.dispute"].with_user(self.collector_1)
        values = {
            "partner_id": self.customer.id,
            "reason_id": self.reason_price.id,
            "move_ids": [Command.set(self.invoice.ids)],
        }
        first = Dispute.create(values)
        with self._refused("already under dispute"):
            Dispute.create(values)
        first.action_reject()
        self.assertEqual(first.state, "rejected")
        second = Dispute.create(values)
        with self._refused("already under dispute"):
            first.action_reopen()
        self.assertEqual((first | second).mapped("state"), ["rejected", "open"])

    def test_collector_cannot_move_a_dispute_to_another_teams_customer(self):
        dispute = (
            self.env["collection.dispute"]
            .with_user(self.collector_1)
            .create({"partner_id": self.customer.id, "move_ids": [Command.set(self.invoice.ids)]})
        )
        self.assertEqual(dispute.user_id, self.collector_1, "its owner sees it whatever the customer")
        with self.assertRaises(AccessError):
            dispute.write({"partner_id": self.customer_b.id})
        with self.assertRaises(AccessError):
            dispute.write({"move_ids": [Command.set(self.invoice_b.ids)]})
        with self.assertRaises(AccessError):
            self.env["collection.dispute"].with_user(self.collector_1).create({"partner_id": self.customer_b.id})
        # Even a manager keeps a dispute on its own customer's invoices.
        with self._refused("own customer only"):
            dispute.with_user(self.manager).write({"move_ids": [Command.set(self.invoice_b.ids)]})
        dispute.invalidate_recordset()
        self.assertRecordValues(dispute, [{"partner_id": self.customer.id}])
        self.assertEqual(dispute.line_ids, self._instalments(self.invoice))

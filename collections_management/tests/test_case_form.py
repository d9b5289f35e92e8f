from datetime import timedelta

from odoo import Command, fields
from odoo.tests import Form, tagged

from .common_casework import CaseworkCommon


@tagged("post_install", "-at_install")
class TestCaseForm(CaseworkCommon):
    """Issue 13: what the case form shows to the collector who opens it."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.team = cls._team("North", cls.collector_1)
        cls.overdue = cls._invoice(cls.customer, 300.0, days_late=10)
        cls.overdue_yesterday = cls._invoice(cls.customer, 50.0, days_late=1)
        cls.due_today = cls._invoice(cls.customer, 70.0, days_late=0)
        cls.not_yet_due = cls._invoice(cls.customer, 400.0, days_late=-15)
        cls.case = cls.env["collection.case"].create(
            {
                "partner_id": cls.customer.id,
                "company_id": cls.company.id,
                "user_id": cls.collector_1.id,
                "team_id": cls.team.id,
            }
        )

    def _form(self):
        return Form(self.case.with_user(self.collector_1))

    def test_overdue_tab_and_smart_button_agree(self):
        """Overdue means due before today: the tab, the count and the invoices opened agree."""
        form = self._form()
        overdue_lines = self._instalments(self.overdue | self.overdue_yesterday)
        self.assertEqual(form.overdue_line_count, 2)
        self.assertEqual(self.env["account.move.line"].union(*form.overdue_line_ids), overdue_lines)
        self.assertEqual(
            self.env["account.move.line"].union(*form.upcoming_line_ids),
            self._instalments(self.due_today | self.not_yet_due),
        )
        action = self.case.with_user(self.collector_1).action_view_invoices()
        opened = self.env["account.move"].with_user(self.collector_1).search(action["domain"])
        self.assertEqual(opened, self.overdue | self.overdue_yesterday)
        self.assertEqual(form.amount_overdue, 350.0)

    def test_last_contact_is_the_latest_contact(self):
        Communication = self.env["collection.communication"]
        now = fields.Datetime.now().replace(microsecond=0)
        Communication.create(
            [
                {
                    "partner_id": self.customer.id,
                    "channel": "email",
                    "state": "queued",
                    "date": now - timedelta(days=1),
                },
                {
                    "partner_id": self.customer.id,
                    "channel": "call",
                    "state": "done",
                    "date": now - timedelta(days=3),
                },
                {  # failed attempts and dry runs are no contact
                    "partner_id": self.customer.id,
                    "channel": "sms",
                    "state": "failed",
                    "date": now,
                },
                {
                    "partner_id": self.customer.id,
                    "channel": "email",
                    "state": "simulated",
                    "date": now,
                },
            ]
        )
        form = self._form()
        self.assertEqual(fields.Datetime.to_datetime(form.last_contact_date), now - timedelta(days=1))
        self.assertEqual(form.communication_count, 3)

    def test_promises_kept_rate(self):
        Promise = self.env["collection.promise"]
        broken = Promise.create(
            {
                "partner_id": self.customer.id,
                "company_id": self.company.id,
                "line_ids": [Command.set(self._instalments(self.overdue).ids)],
                "date_made": self.today - timedelta(days=40),
                "date": self.today - timedelta(days=30),
            }
        )
        broken._check_promises()
        kept = Promise.create(
            {
                "partner_id": self.customer.id,
                "company_id": self.company.id,
                "line_ids": [Command.set(self._instalments(self.overdue_yesterday).ids)],
                "date": self.today + timedelta(days=3),
            }
        )
        self.env["account.payment.register"].with_context(
            active_model="account.move", active_ids=self.overdue_yesterday.ids
        ).create({})._create_payments()
        kept._check_promises()
        Promise.create(  # still open: not counted either way
            {"partner_id": self.customer.id, "company_id": self.company.id, "date": self.today + timedelta(days=9)}
        )
        self.assertRecordValues(broken | kept, [{"state": "broken"}, {"state": "kept"}])
        form = self._form()
        self.assertTrue(form.has_settled_promise)
        self.assertEqual(form.promise_kept_rate, 50.0)
        self.assertEqual(form.promise_count, 3)

    def test_no_kept_rate_before_a_promise_is_settled(self):
        self.env["collection.promise"].create(
            {"partner_id": self.customer.id, "company_id": self.company.id, "date": self.today + timedelta(days=9)}
        )
        form = self._form()
        self.assertEqual(form.promise_count, 1)
        self.assertFalse(form.has_settled_promise)

from datetime import timedelta

from odoo import Command
from odoo.tests import freeze_time, tagged

from .common_casework import CaseworkCommon


@tagged("post_install", "-at_install")
class TestDispute(CaseworkCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.team = cls._team("Everyone", cls.collector_1)
        cls.owner = cls.collector_2

    def setUp(self):
        super().setUp()
        self.disputed = self._invoice(self.customer, 700.0, days_late=10)
        self.other = self._invoice(self.customer, 300.0, days_late=10)

    def _dispute(self, moves=None, **values):
        return self.env["collection.dispute"].create(
            {
                "partner_id": self.customer.id,
                "reason_id": self.reason_price.id,
                "move_ids": [Command.set((moves or self.disputed).ids)],
                "user_id": self.owner.id,
                **values,
            }
        )

    def test_dispute_from_invoices_covers_their_instalments(self):
        dispute = self._dispute()
        self.assertRecordValues(
            dispute,
            [
                {
                    "state": "open",
                    "amount_disputed": 700.0,
                    "deadline": self.today + timedelta(days=self.reason_price.resolution_days),
                }
            ],
        )
        self.assertTrue(dispute.name.startswith("DSP/"))
        self.assertEqual(dispute.line_ids, self._instalments(self.disputed))
        case = self._case()
        self.assertEqual(dispute.case_id, case)
        self.assertEqual(case.stage_id, self.stage_dispute)
        self.assertEqual(case.open_dispute_count, 1)
        self.assertTrue(self._activities(dispute, self.owner), "the owner is told to investigate")

    def test_disputed_invoice_leaves_dunning_and_comes_back_when_rejected(self):
        dispute = self._dispute()
        self._run()
        self.assertEqual(self._communications(channel="email").line_ids, self._instalments(self.other))
        dispute.action_reject()
        self.assertEqual(dispute.state, "rejected")
        self.assertEqual(self._case().stage_id, self.stage_contacted)
        self._run(date=self.today + timedelta(days=1))
        later = self._communications(channel="email")[-1]
        self.assertEqual(later.line_ids, self._instalments(self.disputed + self.other))

    def test_fully_disputed_customer_is_not_reminded(self):
        self._dispute(self.disputed + self.other)
        self._run()
        self.assertFalse(self._communications())

    def test_credit_note_closes_the_dispute_for_the_customer(self):
        dispute = self._dispute()
        credit_note = self._credit_note(self.disputed)
        self.assertRecordValues(dispute, [{"state": "accepted", "date_resolved": self.today}])
        self.assertEqual(dispute.credit_note_ids, credit_note)
        self.assertIn(credit_note.name, dispute.resolution)
        case = self._case()
        self.assertRecordValues(case, [{"amount_overdue": 300.0, "stage_id": self.stage_contacted.id}])

    def test_partial_credit_note_on_one_of_two_invoices_keeps_it_open(self):
        dispute = self._dispute(self.disputed + self.other)
        self._credit_note(self.disputed)
        self.assertEqual(dispute.state, "open", "the other invoice is still disputed")
        self._credit_note(self.other)
        self.assertEqual(dispute.state, "accepted")
        self.assertTrue(self._case().is_closed)

    def test_payment_does_not_close_a_dispute(self):
        dispute = self._dispute()
        self._register_payment(self.disputed)
        self.assertEqual(dispute.state, "open")

    def test_deadline_alert_to_the_owner_once(self):
        dispute = self._dispute()
        alert_type = self.env.ref("collections_management.mail_activity_type_dispute_deadline")
        Dispute = self.env["collection.dispute"]
        Dispute._cron_deadline_alerts()
        self.assertFalse(self._activities(dispute).filtered(lambda a: a.activity_type_id == alert_type))
        with freeze_time(dispute.deadline + timedelta(days=1)):
            self.assertTrue(dispute.is_late)
            self.assertEqual(Dispute.search([("is_late", "=", True)]), dispute)
            Dispute._cron_deadline_alerts()
            Dispute._cron_deadline_alerts()
        alert = self._activities(dispute).filtered(lambda a: a.activity_type_id == alert_type)
        self.assertEqual(len(alert), 1)
        self.assertEqual(alert.user_id, self.owner)
        self.assertIn("past its deadline", alert.summary)

    def test_resolved_dispute_gets_no_alert(self):
        dispute = self._dispute(deadline=self.today - timedelta(days=2))
        dispute.action_accept()
        self.env["collection.dispute"]._cron_deadline_alerts()
        alert_type = self.env.ref("collections_management.mail_activity_type_dispute_deadline")
        self.assertFalse(self._activities(dispute).filtered(lambda a: a.activity_type_id == alert_type))

    def test_reopened_dispute_pauses_again(self):
        dispute = self._dispute()
        dispute.action_reject()
        dispute.action_reopen()
        self.assertEqual(dispute.state, "open")
        self._run()
        self.assertEqual(self._communications(channel="email").line_ids, self._instalments(self.other))

    def test_credit_note_button_opens_the_reversal_wizard(self):
        action = self._dispute().action_credit_note()
        self.assertEqual(action["res_model"], "account.move.reversal")
        self.assertEqual(action["context"]["active_ids"], self.disputed.ids)

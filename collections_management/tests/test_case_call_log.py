from datetime import timedelta

from odoo import fields
from odoo.exceptions import UserError
from odoo.tests import Form, tagged

from .common_casework import CaseworkCommon


@tagged("post_install", "-at_install")
class TestCallLog(CaseworkCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.team = cls._team("Everyone", cls.collector_1, manager=cls.manager)
        cls.customer.phone = "+52 477 123 4567"

    def setUp(self):
        super().setUp()
        self.invoice = self._invoice(self.customer, 900.0, days_late=12)
        self._run()
        self.case = self._case()
        self.assertEqual(self.case.user_id, self.collector_1)

    def _log(self, outcome, **values):
        """Log a call as the collector, through the form the collector fills in."""
        action = self.case.with_user(self.collector_1).action_log_contact()
        wizard_form = Form(self.env[action["res_model"]].with_user(self.collector_1).with_context(**action["context"]))
        wizard_form.outcome = outcome
        for name, value in values.items():
            setattr(wizard_form, name, value)
        wizard = wizard_form.save()
        return wizard.action_log()

    def _logged(self):
        return self._communications(channel="call", state="done")

    def test_reached(self):
        result = self._log("reached", note="Spoke with accounts payable; invoice approved.")
        self.assertEqual(result["type"], "ir.actions.act_window_close")
        self.assertRecordValues(
            self._logged(),
            [
                {
                    "call_outcome": "reached",
                    "direction": "outbound",
                    "user_id": self.collector_1.id,
                    "note": "Spoke with accounts payable; invoice approved.",
                    "amount_total": 900.0,
                }
            ],
        )
        self.assertEqual(self._logged().line_ids, self._instalments(self.invoice))
        self.assertEqual(self.case.stage_id, self.stage_contacted)
        self.assertIn("Reached", self.case.message_ids[:1].body)
        self.assertTrue(self.case.last_contact_date)

    def test_no_answer_schedules_a_new_call_tomorrow(self):
        self._log("no_answer")
        self.assertEqual(self._logged().call_outcome, "no_answer")
        self.assertEqual(self.case.stage_id, self.stage_new, "nobody was reached")
        call = self._activities(self.case, self.collector_1).filtered(
            lambda a: a.activity_type_id == self.env.ref("mail.mail_activity_data_call")
        )
        self.assertEqual(len(call), 1)
        self.assertEqual(call.date_deadline, self.today + timedelta(days=1))

    def test_asked_to_call_back(self):
        when = fields.Datetime.now() + timedelta(days=3)
        self._log("callback", callback_at=when)
        call = self._activities(self.case, self.collector_1)
        self.assertEqual(call.date_deadline, self.today + timedelta(days=3))
        self.assertEqual(call.summary, "Call back as asked")
        self.assertEqual(self.case.stage_id, self.stage_contacted)

    def test_wrong_number_flags_the_phone(self):
        self._log("wrong_number")
        self.assertTrue(self.customer.collection_phone_wrong)
        self.assertTrue(self.case.phone_wrong)
        task = self._activities(self.case, self.collector_1)
        self.assertIn("correct phone number", task.summary)
        self.customer.phone = "+52 477 765 4321"
        self.assertFalse(self.customer.collection_phone_wrong, "a new number clears the flag")

    def test_promised_to_pay_opens_the_promise(self):
        promised_date = self.today + timedelta(days=5)
        result = self._log("promise", promise_date=promised_date, promise_amount=900.0)
        promise = self.env["collection.promise"].browse(result["res_id"])
        self.assertEqual(result["res_model"], "collection.promise")
        self.assertRecordValues(
            promise,
            [
                {
                    "state": "open",
                    "date": promised_date,
                    "amount": 900.0,
                    "channel": "call",
                    "case_id": self.case.id,
                    "user_id": self.collector_1.id,
                }
            ],
        )
        self.assertEqual(promise.line_ids, self._instalments(self.invoice))
        self.assertEqual(self.case.stage_id, self.stage_promise)
        self.assertEqual(self._logged().call_outcome, "promise")

    def test_promised_to_pay_needs_a_date(self):
        with self.assertRaises(UserError):
            self.env["collection.log.contact"].with_user(self.collector_1).create(
                {
                    "case_id": self.case.id,
                    "outcome": "promise",
                }
            ).action_log()

    def test_disputed_opens_the_dispute(self):
        result = self._log("dispute", dispute_reason_id=self.reason_price, note="Price list of last year")
        dispute = self.env["collection.dispute"].browse(result["res_id"])
        self.assertRecordValues(
            dispute,
            [
                {
                    "state": "open",
                    "reason_id": self.reason_price.id,
                    "case_id": self.case.id,
                    "user_id": self.collector_1.id,
                    "description": "Price list of last year",
                }
            ],
        )
        self.assertEqual(dispute.line_ids, self._instalments(self.invoice))
        self.assertEqual(self.case.stage_id, self.stage_dispute)

    def test_refused_escalates_to_the_manager(self):
        self._log("refused", note="Says they will not pay.")
        self.assertEqual(self.case.stage_id, self.stage_escalated)
        task = self._activities(self.case, self.manager)
        self.assertEqual(len(task), 1)
        self.assertIn("refused to pay", task.summary)

    def test_visit_and_inbound_message(self):
        self._log("reached", channel="visit")
        self._log("reached", channel="note", direction="inbound")
        logged = self._communications(state="done")
        self.assertEqual(sorted(logged.mapped("channel")), ["note", "visit"])
        self.assertEqual(logged.filtered(lambda c: c.channel == "note").direction, "inbound")

    def test_logging_a_call_completes_the_call_task(self):
        self.case._schedule_collector_activity(
            "Call", activity_xmlid="mail.mail_activity_data_call", user=self.collector_1
        )
        self._log("reached")
        self.assertFalse(self._activities(self.case, self.collector_1))

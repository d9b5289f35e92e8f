from datetime import timedelta

from odoo import Command
from odoo.tests import Form, tagged

from .common_casework import CaseworkCommon

ROLES = ("new", "contacted", "promise", "broken_promise", "dispute", "escalated", "closed")


class StageRolesCommon(CaseworkCommon):
    """The main company has its own stage for every role; a second company uses the shipped ones."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.own = {
            role: cls.env["collection.case.stage"].create(
                {
                    "name": f"MX {role}",
                    "role": role,
                    "company_id": cls.company.id,
                    "sequence": 20 + index,
                    "is_closed": role == "closed",
                }
            )
            for index, role in enumerate(ROLES)
        }
        cls.team = cls._team("North", cls.collector_1)
        cls.invoice = cls._invoice(cls.customer, 500.0, days_late=20)
        cls.case = cls.env["collection.case"].create(
            {
                "partner_id": cls.customer.id,
                "company_id": cls.company.id,
                "user_id": cls.collector_1.id,
                "team_id": cls.team.id,
            }
        )
        cls.other_company = cls.setup_other_company(name="Andes SpA")["company"]
        cls.invoice_other_company = cls._invoice(cls.customer, 700.0, days_late=20, company=cls.other_company)
        cls.case_other_company = cls.env["collection.case"].create(
            {"partner_id": cls.customer.id, "company_id": cls.other_company.id}
        )

    def _call_task(self, case):
        """The engine's call task of ``case``, as a run schedules it."""
        call = self.env["collection.communication"].create(
            {
                "partner_id": case.partner_id.id,
                "company_id": case.company_id.id,
                "channel": "call",
                "state": "queued",
                "subject": "Call",
            }
        )
        return self.env["collection.case"]._collection_schedule_calls(call)

    def _callback(self, case):
        """A call the collector scheduled for herself."""
        return case.with_user(self.collector_1)._schedule_collector_activity(
            "Call back", activity_xmlid="mail.mail_activity_data_call", user=self.collector_1
        )


@tagged("post_install", "-at_install")
class TestMoveTo(StageRolesCommon):
    def test_shipped_stages_have_their_role(self):
        self.assertRecordValues(
            self.stage_new | self.stage_contacted | self.stage_promise | self.stage_closed,
            [{"role": "new"}, {"role": "contacted"}, {"role": "promise"}, {"role": "closed"}],
        )
        self.assertFalse(self.stage_legal.role)

    def test_new_cases_open_in_their_companys_stage(self):
        self.assertEqual(self.case.stage_id, self.own["new"])
        self.assertEqual(self.case_other_company.stage_id, self.stage_new)

    def test_moves_to_the_companys_stage_else_the_shared_one(self):
        cases = self.case | self.case_other_company
        moved = cases._collection_move_to("escalated")
        self.assertEqual(moved, cases)
        self.assertEqual(self.case.stage_id, self.own["escalated"])
        self.assertEqual(self.case_other_company.stage_id, self.stage_escalated)

    def test_only_from_and_closed_cases_stay(self):
        self.case._collection_move_to("dispute")
        self.assertFalse(self.case._collection_move_to("contacted", only_from=("new", "escalated")))
        self.assertEqual(self.case.stage_id, self.own["dispute"])
        self.case._collection_move_to("closed")
        self.assertFalse(self.case._collection_move_to("promise"))
        self.assertRecordValues(self.case, [{"stage_id": self.own["closed"].id, "is_closed": True}])

    def test_promise_or_dispute_cancels_the_call_task(self):
        self._call_task(self.case)
        self._call_task(self.case_other_company)
        callbacks = self._callback(self.case) | self._callback(self.case_other_company)
        self.case._collection_move_to("contacted")
        self.assertEqual(len(self._activities(self.case)), 2)
        self.case._collection_move_to("promise")
        self.assertEqual(self._activities(self.case), callbacks[0], "the collector's callback stays")
        self.case_other_company._collection_move_to("dispute")
        self.assertEqual(self._activities(self.case_other_company), callbacks[1])


@tagged("post_install", "-at_install")
class TestCallersUseRoles(StageRolesCommon):
    """Every transition of promises, disputes and the contact log lands on the company's stage."""

    def _log(self, outcome, **values):
        wizard = Form(
            self.env["collection.log.contact"].with_user(self.collector_1).with_context(default_case_id=self.case.id)
        )
        wizard.outcome = outcome
        for name, value in values.items():
            setattr(wizard, name, value)
        return wizard.save().action_log()

    def test_contact_log(self):
        self._log("reached")
        self.assertEqual(self.case.stage_id, self.own["contacted"])
        self._log("refused")
        self.assertEqual(self.case.stage_id, self.own["escalated"])
        self._log("reached")
        self.assertEqual(self.case.stage_id, self.own["contacted"])

    def test_promise_kept_and_broken(self):
        self._call_task(self.case)
        self._log("promise", promise_date=self.today + timedelta(days=5))
        self.assertEqual(self.case.stage_id, self.own["promise"])
        self.assertFalse(self._activities(self.case).filtered("collection_engine_task"))
        promise = self.case.promise_ids
        promise.write({"date_made": self.today - timedelta(days=40), "date": self.today - timedelta(days=30)})
        promise._check_promises()
        self.assertRecordValues(promise, [{"state": "broken"}])
        self.assertEqual(self.case.stage_id, self.own["broken_promise"])
        kept = self.env["collection.promise"].create(
            {"partner_id": self.customer.id, "company_id": self.company.id, "date": self.today}
        )
        self.assertEqual(self.case.stage_id, self.own["promise"])
        self.env["account.payment.register"].with_context(
            active_model="account.move", active_ids=self.invoice.ids
        ).create({"amount": 100.0})._create_payments()
        kept.amount = 100.0
        kept._check_promises()
        self.assertRecordValues(kept, [{"state": "kept"}])
        self.assertEqual(self.case.stage_id, self.own["contacted"])

    def test_dispute_opened_and_resolved(self):
        self._call_task(self.case)
        dispute = (
            self.env["collection.dispute"]
            .with_user(self.collector_1)
            .create(
                {
                    "partner_id": self.customer.id,
                    "company_id": self.company.id,
                    "reason_id": self.reason_price.id,
                    "move_ids": [Command.set(self.invoice.ids)],
                }
            )
        )
        self.assertEqual(self.case.stage_id, self.own["dispute"])
        self.assertFalse(self._activities(self.case).filtered("collection_engine_task"))
        dispute.action_reject()
        self.assertEqual(self.case.stage_id, self.own["contacted"])

    def test_paid_in_full_closes_in_the_companys_closing_stage(self):
        self.env["account.payment.register"].with_context(
            active_model="account.move", active_ids=self.invoice.ids
        ).create({})._create_payments()
        self.case._refresh_amounts()
        self.assertRecordValues(self.case, [{"stage_id": self.own["closed"].id, "is_closed": True}])

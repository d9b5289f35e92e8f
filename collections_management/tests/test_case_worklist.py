import ast
from datetime import timedelta

from lxml import etree

from odoo import fields
from odoo.tests import Form, tagged
from odoo.tools import format_date

from ..models.collection_case import WORKLIST_ORDER
from .common_worklist import WorklistCommon


@tagged("post_install", "-at_install")
class TestWorklist(WorklistCommon):
    """Who is on a collector's worklist, why, and in which order."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        ana, beto, carla = cls.collector_1, cls.collector_2, cls.collector_3
        case = cls._worklist_case
        # On Ana's worklist (her own cases and her teammate Beto's), each for one reason.
        cls.task_case = case("Ferretería Hidalgo", 2000.0, ana, cls.north, "3", phone="+52 33 1111 2222")
        cls.broken_case = case("Papelería Juárez", 9000.0, ana, cls.north, "2")
        cls.silent_case = case("Tlapalería Morelos", 3000.0, beto, cls.north, "2")
        cls.promise_case = case("Dulcería Allende", 1500.0, ana, cls.north, "1")
        cls.never_case = case("Farmacia Zaragoza", 800.0, ana, cls.north, "1")
        # Carla's (team South): on her worklist, not on Ana's.
        cls.south_case = case("Abarrotes Guerrero", 500.0, carla, cls.south, "3")
        # Ana's, but off the worklist.
        cls.closed_case = case("Mueblería Obregón", 7000.0, ana, cls.north, "3")
        cls.excluded_case = case("Panadería Madero", 7000.0, ana, cls.north, "3")
        cls.dispute_case = case("Carnicería Villa", 7000.0, ana, cls.north, "3")
        cls.recent_case = case("Librería Carranza", 7000.0, ana, cls.north, "3")
        cls.worked_case = case("Zapatería Zapata", 7000.0, ana, cls.north, "3")
        cls.later_case = case("Florería Bravo", 7000.0, ana, cls.north, "3")

        cls._engine_call_task(cls.task_case, cls.level_prelegal)
        cls._contact(cls.broken_case, 5)
        cls.broken_case.stage_id = cls.stage_broken
        cls._contact(cls.silent_case, 40)
        cls._contact(cls.promise_case, 3)
        cls.promise = cls.env["collection.promise"].create(
            {
                "partner_id": cls.promise_case.partner_id.id,
                "company_id": cls.company.id,
                "case_id": cls.promise_case.id,
                "date": cls.today,
            }
        )
        cls.closed_case.stage_id = cls.stage_closed
        cls.excluded_case.partner_id.collection_excluded = True
        cls.dispute_case.stage_id = cls.stage_dispute
        cls._contact(cls.recent_case, 3)
        cls._engine_call_task(cls.worked_case, cls.level_final)
        cls._contact(cls.worked_case, 0, channel="call", state="done", call_outcome="no_answer", user_id=ana.id)
        cls._contact(cls.later_case, 2)
        cls.later_case._schedule_collector_activity(
            "Call back as asked",
            activity_xmlid="mail.mail_activity_data_call",
            date_deadline=cls.today + timedelta(days=1),
            user=ana,
        )
        # The priority is the collector's to set (a promise recomputes the score): set it last.
        for worklist_case, stars in (
            (cls.task_case, "3"),
            (cls.broken_case, "2"),
            (cls.silent_case, "2"),
            (cls.promise_case, "1"),
            (cls.never_case, "1"),
            (cls.south_case, "3"),
        ):
            worklist_case.priority = stars

    def _worklist(self, user):
        return self.env["collection.case"].with_user(user)._collection_worklist()

    def test_collector_worklist_order_and_reasons(self):
        worklist = self._worklist(self.collector_1)
        self.assertEqual(
            worklist.ids,
            [self.task_case.id, self.broken_case.id, self.silent_case.id, self.promise_case.id, self.never_case.id],
            "priority first, then the largest overdue amount",
        )
        self.assertRecordValues(
            worklist,
            [
                {"worklist_reason": "Call task due: Pre-legal notice", "amount_overdue": 2000.0, "promise_date": False},
                {"worklist_reason": "Promise broken", "amount_overdue": 9000.0, "promise_date": False},
                {"worklist_reason": "No contact for 40 days", "amount_overdue": 3000.0, "promise_date": False},
                {"worklist_reason": "Promise due today", "amount_overdue": 1500.0, "promise_date": self.today},
                {"worklist_reason": "Never contacted", "amount_overdue": 800.0, "promise_date": False},
            ],
        )
        self.assertEqual(worklist[0].phone, "+52 33 1111 2222")
        self.assertFalse(worklist[4].last_contact_date)
        self.assertTrue(all(worklist[:4].mapped("last_contact_date")))

    def test_worklist_menu_lists_the_same_cases(self):
        """The menu's domain (``worklist_reason`` set) is the worklist, read as the collector."""
        action = self.env.ref("collections_management.collection_case_action_worklist")
        cases = self.env["collection.case"].with_user(self.collector_1).search(ast.literal_eval(action.domain))
        self.assertEqual(cases, self._worklist(self.collector_1))
        not_listed = self.env["collection.case"].with_user(self.collector_1).search([("worklist_reason", "=", False)])
        self.assertIn(self.closed_case, not_listed)
        self.assertNotIn(self.task_case, not_listed)

    def test_list_view_follows_the_worklist_order(self):
        view = self.env.ref("collections_management.collection_case_view_list_worklist")
        self.assertEqual(etree.fromstring(view.arch).get("default_order"), WORKLIST_ORDER)
        self.assertEqual(self.env.ref("collections_management.collection_case_action_worklist").view_id, view)

    def test_list_fields_are_read_in_one_batch(self):
        """The worklist's columns cost the same queries for five cases as for the first four (which
        already have every kind of reason: the fifth one adds a case, not a query)."""
        view = self.env.ref("collections_management.collection_case_view_list_worklist")
        columns = [field.get("name") for field in etree.fromstring(view.arch).iter("field")]
        worklist = self._worklist(self.collector_1)
        self.assertEqual(len(worklist), 5)

        def queries(cases):
            self.env.invalidate_all()
            before = self.env.cr.sql_log_count
            cases.read(columns)
            return self.env.cr.sql_log_count - before

        queries(worklist)  # warm the caches that do not depend on the cases (ir.model, activity types)
        self.assertEqual(queries(worklist[:4]), queries(worklist))

    def test_other_team_cases_are_not_shown(self):
        self.assertEqual(self._worklist(self.collector_3), self.south_case)
        self.assertNotIn(self.south_case, self._worklist(self.collector_1))
        self.assertEqual(self.south_case.with_user(self.collector_3).worklist_reason, "Never contacted")

    def test_manager_sees_every_team(self):
        self.assertEqual(
            self._worklist(self.manager).ids,
            [
                self.task_case.id,
                self.south_case.id,
                self.broken_case.id,
                self.silent_case.id,
                self.promise_case.id,
                self.never_case.id,
            ],
        )

    def test_closed_paused_and_recently_worked_cases_are_left_out(self):
        off_list = (
            self.closed_case | self.excluded_case | self.dispute_case | self.recent_case | self.worked_case
        ) | self.later_case
        self.assertFalse(off_list & self._worklist(self.collector_1))
        self.assertFalse(any(off_list.with_user(self.collector_1).mapped("worklist_reason")))
        # The same cases come back as soon as their reason does.
        self.dispute_case.stage_id = self.stage_new
        self.excluded_case.partner_id.collection_excluded = False
        self.assertEqual(
            (self.dispute_case | self.excluded_case) & self._worklist(self.collector_1),
            self.dispute_case | self.excluded_case,
        )

    def test_a_callback_due_puts_the_case_back(self):
        self.later_case.activity_ids.date_deadline = self.today
        self.assertIn(self.later_case, self._worklist(self.collector_1))
        self.assertEqual(self.later_case.worklist_reason, "Call task due: Call back as asked")


@tagged("post_install", "-at_install")
class TestWorklistFlow(WorklistCommon):
    """A collector starts the worklist and logs contacts: each one takes her to the next customer."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        ana = cls.collector_1
        cls.first = cls._worklist_case("Ferretería Hidalgo", 5000.0, ana, cls.north, "3")
        cls.second = cls._worklist_case("Papelería Juárez", 4000.0, ana, cls.north, "2")
        cls.third = cls._worklist_case("Dulcería Allende", 9000.0, ana, cls.north, "1")
        for case, stars in ((cls.first, "3"), (cls.second, "2"), (cls.third, "1")):
            case.priority = stars
        cls.Case = cls.env["collection.case"].with_user(ana)

    def _log_from(self, action, outcome, **values):
        """Open the case ``action`` shows, as the collector, and log a contact from it."""
        self.assertEqual(action["res_model"], "collection.case")
        case = self.Case.with_context(**action["context"]).browse(action["res_id"])
        wizard_action = case.action_log_contact()
        wizard_form = Form(
            self.env[wizard_action["res_model"]].with_user(self.collector_1).with_context(**wizard_action["context"])
        )
        wizard_form.outcome = outcome
        for name, value in values.items():
            setattr(wizard_form, name, value)
        return wizard_form.save().action_log()

    def test_start_then_each_outcome_opens_the_next_customer(self):
        action = self.Case.action_collection_worklist_start()
        self.assertEqual((action["res_id"], action["context"]), (self.first.id, {"collection_worklist": True}))
        action = self._log_from(action, "no_answer")
        self.assertEqual(action["res_id"], self.second.id)
        promise_date = self.today + timedelta(days=5)
        action = self._log_from(action, "promise", promise_amount=1000.0, promise_date=promise_date)
        self.assertEqual(action["res_id"], self.third.id)
        action = self._log_from(action, "reached")
        self.assertEqual(action["xml_id"], "collections_management.collection_case_action_worklist")
        self.assertFalse(self.Case._collection_worklist(), "everyone was called today")
        self.assertRecordValues(
            self.second.promise_ids, [{"amount": 1000.0, "date": promise_date, "state": "open", "channel": "call"}]
        )
        self.assertEqual(self.second.stage_id, self.stage_promise)
        self.assertEqual(self.third.stage_id, self.stage_contacted)

    def test_outside_the_worklist_the_log_keeps_its_own_result(self):
        action = self.first.with_user(self.collector_1).action_log_contact()
        self.assertFalse(action["context"]["collection_worklist"])
        result = self._log_from({"res_model": "collection.case", "res_id": self.first.id, "context": {}}, "reached")
        self.assertEqual(result, {"type": "ir.actions.act_window_close"})

    def test_next_customer_skips_without_logging(self):
        action = self.first.with_user(self.collector_1).action_collection_worklist_skip()
        self.assertEqual(action["res_id"], self.second.id)
        self.assertFalse(self._communications(partner=self.first.partner_id), "skipping logs nothing")

    def test_next_in_worklist_is_one_method(self):
        self.assertEqual(self.first.with_user(self.collector_1)._collection_next_in_worklist(), self.second)
        self.assertEqual(
            (self.first | self.second).with_user(self.collector_1)._collection_next_in_worklist(), self.third
        )


@tagged("post_install", "-at_install")
class TestCallTaskPrecision(WorklistCommon):
    """A promise or a dispute ends the engine's call task; the collector's own callbacks stay."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.case = cls._worklist_case("Ferretería Hidalgo", 5000.0, cls.collector_1, cls.north, "3")
        cls.call_type = cls.env.ref("mail.mail_activity_data_call")

    def setUp(self):
        super().setUp()
        self.engine_task = self._engine_call_task(self.case, self.level_final)
        self.callback = self.case._schedule_collector_activity(
            "Call back after their board meeting",
            activity_xmlid="mail.mail_activity_data_call",
            date_deadline=self.today + timedelta(days=2),
            user=self.collector_1,
        )

    def _calls(self):
        return self._activities(self.case).filtered(lambda a: a.activity_type_id == self.call_type)

    def test_promise_keeps_the_collectors_callback(self):
        promise_form = Form(
            self.env["collection.promise"]
            .with_user(self.collector_1)
            .with_context(
                default_case_id=self.case.id,
                default_partner_id=self.case.partner_id.id,
                default_company_id=self.company.id,
            )
        )
        promise_form.date = self.today + timedelta(days=3)
        promise_form.save()
        self.assertFalse(self.engine_task.exists(), "the engine's call task is cancelled")
        self.assertEqual(self._calls(), self.callback, "the collector's callback stays")

    def test_dispute_keeps_the_collectors_callback(self):
        lines = self.case.overdue_line_ids
        self.env["collection.dispute"].with_user(self.collector_1).create(
            {
                "partner_id": self.case.partner_id.id,
                "company_id": self.company.id,
                "case_id": self.case.id,
                "reason_id": self.reason_price.id,
                "move_ids": [fields.Command.set(lines.move_id.ids)],
                "line_ids": [fields.Command.set(lines.ids)],
            }
        )
        self.assertEqual(self.case.stage_id, self.stage_dispute)
        self.assertFalse(self.engine_task.exists())
        self.assertEqual(self._calls(), self.callback)

    def test_engine_keeps_one_call_task_beside_the_callback(self):
        again = self._engine_call_task(self.case, self.level_prelegal)
        self.assertEqual(again, self.engine_task, "the open engine task is updated, not doubled")
        self.assertEqual(self._calls(), self.engine_task | self.callback)
        self.assertEqual(self._calls().filtered("collection_engine_task"), self.engine_task)
        self.assertIn("Pre-legal notice", self.engine_task.summary)


@tagged("post_install", "-at_install")
class TestDatesInTheUsersLanguage(WorklistCommon):
    def test_promise_note_shows_the_date_in_spanish_format(self):
        self.env["res.lang"]._activate_lang("es_ES")
        case = self._worklist_case("Ferretería Hidalgo", 5000.0, self.collector_1, self.north, "3")
        # A day after the 12th, so that day/month and month/day cannot be mistaken.
        promise_date = next(
            self.today + timedelta(days=n) for n in range(31) if (self.today + timedelta(days=n)).day > 12
        )
        self.env["collection.promise"].with_user(self.collector_1).with_context(lang="es_ES").create(
            {"partner_id": case.partner_id.id, "company_id": self.company.id, "case_id": case.id, "date": promise_date}
        )
        spanish = promise_date.strftime("%d/%m/%Y")
        self.assertEqual(format_date(self.env(context={"lang": "es_ES"}), promise_date), spanish)
        note = case.message_ids.filtered(lambda m: spanish in (m.body or ""))
        self.assertEqual(len(note), 1, case.message_ids.mapped("body"))
        self.assertNotIn(str(promise_date), note.body, "not the ISO date")
        self.assertNotIn(promise_date.strftime("%m/%d/%Y"), note.body, "not the US format")

from datetime import timedelta

from odoo import Command
from odoo.exceptions import AccessError
from odoo.tests import Form, freeze_time, new_test_user, tagged

from .common_casework import MANAGER_GROUP, CaseworkCommon


class AutomationCommon(CaseworkCommon):
    """The casework world plus a collections manager who may build automation rules: creating
    ``base.automation`` and ``ir.actions.server`` records takes Odoo's Settings rights
    (``base.group_system``), on top of the Collections Manager group."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.admin_manager = new_test_user(
            cls.env,
            login="rosa",
            name="Rosa Manager",
            groups=f"{MANAGER_GROUP},base.group_system",
            company_id=cls.company.id,
            company_ids=[Command.set(cls.company.ids)],
        )
        cls.team = cls._team("Everyone", cls.collector_1)
        cls.contact = cls.env["res.partner"].create(
            {
                "name": "Lucía Pagos",
                "parent_id": cls.customer.id,
                "type": "invoice",
                "email": "lucia@abarrotes.example.com",
                "collection_contact": True,
            }
        )
        cls.thanks_template = cls.env.ref("collections_management.mail_template_collection_case_paid")
        cls.model_case = cls.env["ir.model"]._get("collection.case")

    def _rule(self, name, model, trigger="on_create_or_write", **values):
        """An automation rule built in its form, as the manager does."""
        with Form(self.env["base.automation"].with_user(self.admin_manager)) as form:
            form.name = name
            form.model_id = self.env["ir.model"]._get(model)
            form.trigger = trigger
            for field, value in values.items():
                setattr(form, field, value)
        return form.record

    def _action(self, rule, name, **values):
        """A server action of ``rule``, built in the action form the rule opens."""
        Action = self.env["ir.actions.server"].with_user(self.admin_manager)
        context = {
            "default_usage": "base_automation",
            "default_base_automation_id": rule.id,
            "default_model_id": rule.model_id.id,
        }
        with Form(Action.with_context(**context)) as form:
            form.name = name
            for field, value in values.items():
                setattr(form, field, value)
        return form.record

    def _messages(self, record, subject_part):
        return record.message_ids.filtered(lambda m: subject_part in (m.subject or ""))

    def _switch_on(self, xmlid):
        rule = self.env.ref(xmlid).with_user(self.admin_manager)
        self.assertFalse(rule.active, "shipped rules come switched off")
        rule.active = True
        return rule


@tagged("post_install", "-at_install")
class TestAutomationRules(AutomationCommon):
    """Managers plug collections events into Odoo's automation rules: each event is a stored field
    a standard trigger watches, whoever changes it (a user, the engine, a daily check)."""

    def test_only_settings_administrators_build_rules(self):
        with self.assertRaises(AccessError):
            self.env["base.automation"].with_user(self.manager).create(
                {"name": "Not allowed", "model_id": self.model_case.id, "trigger": "on_create_or_write"}
            )
        rule = self._rule("Allowed", "collection.case")
        self.assertEqual(rule.create_uid, self.admin_manager)

    def _thanks_rule(self):
        rule = self._rule(
            "Thank paying customers",
            "collection.case",
            filter_domain=repr([("close_reason", "=", "paid"), ("partner_id.collection_optout_email", "=", False)]),
        )
        rule.trigger_field_ids = self.env["ir.model.fields"]._get("collection.case", "close_reason")
        action = self._action(rule, "Thank you e-mail", state="mail_post", template_id=self.thanks_template)
        self.assertEqual(rule.action_server_ids, action)
        return rule

    def test_case_closed_by_payment_thanks_the_collections_contact_once(self):
        self._thanks_rule()
        invoice = self._invoice(self.customer, 1000.0, days_late=10)
        other = self._invoice(self.customer, 500.0, days_late=20)
        self._run()
        case = self._case()
        self._register_payment(invoice)
        self.assertFalse(self._messages(case, "Thank you"), "still 500 overdue: not closed")
        self.assertRecordValues(case, [{"last_payment_amount": 1000.0, "close_reason": False}])
        self._register_payment(other)
        self.assertRecordValues(case, [{"is_closed": True, "close_reason": "paid", "last_payment_amount": 500.0}])
        message = self._messages(case, "Thank you for your payment")
        self.assertEqual(len(message), 1)
        self.assertEqual(message.partner_ids, self.contact, "sent to the collections contact")
        mail = self.env["mail.mail"].search([("mail_message_id", "=", message.id)])
        self.assertIn(self.contact, mail.recipient_ids, "e-mailed (the collector following the case gets a copy)")
        self.assertIn("nothing is overdue on your account any more", str(mail[:1].body_html))
        # The same event again (refresh, another run, a later payment) sends nothing more.
        self.env["collection.case"]._cron_refresh_cases()
        self._run()
        self._register_payment(self._invoice(self.customer, 50.0, days_late=-10))
        self.assertEqual(len(self._messages(case, "Thank you")), 1)

    def test_case_closed_again_after_reopening_thanks_again(self):
        self._thanks_rule()
        first = self._invoice(self.customer, 1000.0, days_late=10)
        self._run()
        case = self._case()
        self._register_payment(first)
        self.assertEqual(case.close_reason, "paid")
        second = self._invoice(self.customer, 200.0, days_late=8)
        self._run()
        self.assertRecordValues(case, [{"is_closed": False, "close_reason": False}])
        self._register_payment(second)
        self.assertEqual(len(self._messages(case, "Thank you")), 2, "a second closing is a second event")

    def test_opted_out_or_credited_customers_get_no_thanks(self):
        self._thanks_rule()
        self.customer_b.collection_optout_email = True
        paid = self._invoice(self.customer_b, 400.0, days_late=10)
        credited = self._invoice(self.customer, 300.0, days_late=10)
        self._run()
        self._register_payment(paid)
        self._credit_note(credited)
        case_b, case = self._case(self.customer_b), self._case()
        self.assertRecordValues(
            case_b | case,
            [{"close_reason": "paid", "is_closed": True}, {"close_reason": "credited", "is_closed": True}],
        )
        self.assertFalse(self._messages(case_b, "Thank you"), "opted out of e-mail")
        self.assertFalse(self._messages(case, "Thank you"), "a credit note is no payment")

    def test_case_closed_by_hand_is_not_closed_by_payment(self):
        self._invoice(self.customer, 1000.0, days_late=10)
        self._run()
        case = self._case()
        case.with_user(self.manager).stage_id = self.stage_closed
        self.assertEqual(case.close_reason, "manual")

    def test_sms_action_with_our_template(self):
        rule = self._rule(
            "SMS thanks",
            "collection.case",
            filter_domain=repr([("close_reason", "=", "paid")]),
        )
        rule.trigger_field_ids = self.env["ir.model.fields"]._get("collection.case", "close_reason")
        sms_template = self.env.ref("collections_management.sms_template_collection_case_paid")
        self._action(rule, "SMS thanks", state="sms", sms_template_id=sms_template)
        invoice = self._invoice(self.customer, 1000.0, days_late=10)
        self._run()
        self._register_payment(invoice)
        sms = self.env["sms.sms"].search([("body", "ilike", "we received your payment")])
        self.assertEqual(len(sms), 1)
        self.assertEqual(sms.number, "+524771234567")

    def test_promise_broken_by_the_daily_check_creates_a_task_once(self):
        broken = self.env["ir.model.fields.selection"].search(
            [("field_id.model", "=", "collection.promise"), ("field_id.name", "=", "state"), ("value", "=", "broken")]
        )
        rule = self._rule(
            "Broken promises", "collection.promise", trigger="on_state_set", trg_selection_field_id=broken
        )
        self.assertEqual(rule.filter_domain, repr([("state", "=", "broken")]))
        self._action(
            rule,
            "Tell the team manager",
            state="next_activity",
            activity_type_id=self.env.ref("mail.mail_activity_data_todo"),
            activity_summary="Broken promise: review",
            activity_user_type="specific",
            activity_user_id=self.manager,
        )
        self._invoice(self.customer, 1000.0, days_late=20)
        self._run()
        promise = self.env["collection.promise"].create(
            {"partner_id": self.customer.id, "date_made": self.today, "date": self.today + timedelta(days=2)}
        )
        Promise = self.env["collection.promise"]
        Promise._cron_check_promises()
        self.assertFalse(self._activities(promise), "not due yet")
        with freeze_time(self.today + timedelta(days=10)):
            Promise._cron_check_promises()
            Promise._cron_check_promises()
        self.assertEqual(promise.state, "broken")
        task = self._activities(promise)
        self.assertRecordValues(task, [{"summary": "Broken promise: review", "user_id": self.manager.id}])

    def test_level_reached_by_an_instalment_reaches_rules_despite_the_sql_update(self):
        rule = self._rule(
            "Second level reached",
            "account.move.line",
            filter_domain=repr([("collection_level_id", "=", self.level_second.id)]),
        )
        rule.trigger_field_ids = self.env["ir.model.fields"]._get("account.move.line", "collection_level_id")
        self._action(
            rule,
            "Note on the invoice",
            state="code",
            code="for line in records:\n    line.move_id.message_post(body='Second level reached')",
        )
        invoice = self._invoice(self.customer, 1000.0, days_late=16)
        self._run()
        instalment = self._instalments(invoice)
        self.assertEqual(instalment.collection_level_id, self.level_second)
        self.assertEqual(len(invoice.message_ids.filtered(lambda m: "Second level reached" in str(m.body))), 1)
        self._run()
        self.assertEqual(len(invoice.message_ids.filtered(lambda m: "Second level reached" in str(m.body))), 1)

    def test_dispute_opened_and_resolved_by_a_credit_note(self):
        todo = self.env.ref("mail.mail_activity_data_todo")
        opened = self._rule("Dispute opened", "collection.dispute", trigger="on_create")
        self._action(
            opened,
            "Tell the manager",
            state="next_activity",
            activity_type_id=todo,
            activity_summary="New dispute",
            activity_user_type="specific",
            activity_user_id=self.manager,
        )
        accepted = self.env["ir.model.fields.selection"].search(
            [("field_id.model", "=", "collection.dispute"), ("field_id.name", "=", "state"), ("value", "=", "accepted")]
        )
        resolved = self._rule(
            "Dispute resolved", "collection.dispute", trigger="on_state_set", trg_selection_field_id=accepted
        )
        self._action(
            resolved,
            "Tell the owner",
            state="next_activity",
            # Resolving a dispute clears its to-dos (the investigation is over): a call survives.
            activity_type_id=self.env.ref("mail.mail_activity_data_call"),
            activity_summary="Dispute resolved for the customer",
            activity_user_type="generic",
            activity_user_field_name="user_id",
        )
        invoice = self._invoice(self.customer, 700.0, days_late=10)
        self._run()
        dispute = (
            self.env["collection.dispute"]
            .with_user(self.collector_1)
            .create({"partner_id": self.customer.id, "move_ids": [Command.set(invoice.ids)]})
        )
        self.assertEqual(self._activities(dispute).mapped("summary"), ["New dispute"])
        self._credit_note(invoice)
        self.assertEqual(dispute.state, "accepted")
        resolved_tasks = self._activities(dispute).filtered(lambda a: a.summary == "Dispute resolved for the customer")
        self.assertRecordValues(resolved_tasks, [{"user_id": self.collector_1.id}])

    def test_case_level_reached_by_the_engine(self):
        rule = self._rule(
            "Final notice reached",
            "collection.case",
            filter_domain=repr([("level_id", "=", self.level_final.id)]),
        )
        self.assertEqual(rule.trigger_field_ids.mapped("name"), ["level_id"])
        self._action(
            rule,
            "Tell the manager",
            state="next_activity",
            activity_type_id=self.env.ref("mail.mail_activity_data_todo"),
            activity_summary="Final notice sent",
            activity_user_type="specific",
            activity_user_id=self.manager,
        )
        self._invoice(self.customer, 1000.0, days_late=32)
        self._run(date=self.today - timedelta(days=25))
        case = self._case()
        self.assertEqual(case.level_id, self.level_first)
        self.assertFalse(self._activities(case).filtered(lambda a: a.summary == "Final notice sent"))
        self._run()
        self._run()
        self.assertEqual(case.level_id, self.level_final)
        self.assertEqual(len(self._activities(case).filtered(lambda a: a.summary == "Final notice sent")), 1)


@tagged("post_install", "-at_install")
class TestShippedRules(AutomationCommon):
    """The example rules shipped switched off do their job once a manager switches them on."""

    def test_dispute_past_its_deadline_emails_the_team_manager_once(self):
        self._switch_on("collections_management.base_automation_dispute_late_email")
        invoice = self._invoice(self.customer, 700.0, days_late=10)
        self._run()
        dispute = self.env["collection.dispute"].create(
            {
                "partner_id": self.customer.id,
                "reason_id": self.reason_price.id,
                "move_ids": [Command.set(invoice.ids)],
                "user_id": self.collector_2.id,
            }
        )
        Dispute = self.env["collection.dispute"]
        Dispute._cron_deadline_alerts()
        self.assertFalse(dispute.deadline_passed)
        with freeze_time(dispute.deadline + timedelta(days=1)):
            Dispute._cron_deadline_alerts()
            Dispute._cron_deadline_alerts()
        self.assertTrue(dispute.deadline_passed)
        message = self._messages(dispute, "is past its deadline")
        self.assertEqual(len(message), 1)
        self.assertEqual(message.partner_ids, self.manager.partner_id, "the team manager, not the customer")
        # More time: the flag clears; passing the new deadline is a new event.
        dispute.deadline = dispute.deadline + timedelta(days=10)
        with freeze_time(dispute.deadline - timedelta(days=1)):
            Dispute._cron_deadline_alerts()
        self.assertFalse(dispute.deadline_passed)
        with freeze_time(dispute.deadline + timedelta(days=1)):
            Dispute._cron_deadline_alerts()
        self.assertEqual(len(self._messages(dispute, "is past its deadline")), 2)

    def test_resolved_dispute_is_not_reported(self):
        self._switch_on("collections_management.base_automation_dispute_late_email")
        invoice = self._invoice(self.customer, 700.0, days_late=10)
        dispute = self.env["collection.dispute"].create(
            {"partner_id": self.customer.id, "move_ids": [Command.set(invoice.ids)], "user_id": self.collector_2.id}
        )
        dispute.action_reject()
        with freeze_time(dispute.deadline + timedelta(days=1)):
            self.env["collection.dispute"]._cron_deadline_alerts()
        self.assertFalse(self._messages(dispute, "is past its deadline"))

    def test_partial_payment_on_an_open_promise_makes_a_task_for_the_collector(self):
        self._switch_on("collections_management.base_automation_promise_partial_payment_task")
        invoice = self._invoice(self.customer, 1000.0, days_late=20)
        self._run()
        case = self._case()
        self.assertEqual(case.user_id, self.collector_1)
        self.env["collection.promise"].create(
            {"partner_id": self.customer.id, "date_made": self.today, "date": self.today + timedelta(days=5)}
        )
        summary = "Partial payment on a promise: call the customer"
        self._register_payment(invoice, amount=300.0)
        tasks = self._activities(case).filtered(lambda a: a.summary == summary)
        self.assertRecordValues(tasks, [{"user_id": self.collector_1.id}])
        self._register_payment(invoice, amount=700.0)
        tasks = self._activities(case).filtered(lambda a: a.summary == summary)
        self.assertEqual(len(tasks), 1, "paying the rest is no partial payment")

    def test_partial_payment_without_a_promise_makes_no_task(self):
        self._switch_on("collections_management.base_automation_promise_partial_payment_task")
        invoice = self._invoice(self.customer, 1000.0, days_late=20)
        self._run()
        self._register_payment(invoice, amount=300.0)
        self.assertFalse(
            self._activities(self._case()).filtered(lambda a: a.summary.startswith("Partial payment on a promise"))
        )

    def test_thank_you_email_rule(self):
        self._switch_on("collections_management.base_automation_case_paid_thanks_email")
        invoice = self._invoice(self.customer, 1000.0, days_late=20)
        self._run()
        self._register_payment(invoice)
        message = self._messages(self._case(), "Thank you for your payment")
        self.assertEqual(message.partner_ids, self.contact)
        self.assertFalse(self._case().message_partner_ids & self.contact, "the customer does not follow the case")

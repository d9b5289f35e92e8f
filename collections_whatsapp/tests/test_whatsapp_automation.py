from datetime import timedelta

from odoo import Command, fields
from odoo.exceptions import ValidationError
from odoo.tests import Form, freeze_time, new_test_user, tagged

from .common import WhatsappCommon

MANAGER_GROUP = "collections_management.collections_management_group_manager"
COLLECTOR_GROUP = "collections_management.collections_management_group_collector"


class WhatsappAutomationCommon(WhatsappCommon):
    """A manager who may build automation rules, a collector in a team, and an approved template
    carrying the customer's link."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        company_ids = [Command.set(cls.company.ids)]
        # Building automation rules takes Settings rights on top of Collections Manager.
        cls.admin_manager = new_test_user(
            cls.env,
            login="rosa",
            name="Rosa Manager",
            groups=f"{MANAGER_GROUP},base.group_system",
            company_id=cls.company.id,
            company_ids=company_ids,
        )
        cls.collector = new_test_user(
            cls.env,
            login="ana",
            name="Ana Collector",
            groups=COLLECTOR_GROUP,
            company_id=cls.company.id,
            company_ids=company_ids,
        )
        cls.env["collection.team"].create(
            {
                "name": "Everyone",
                "company_id": cls.company.id,
                "member_ids": [Command.set(cls.collector.ids)],
                "user_id": cls.admin_manager.id,
            }
        )
        cls.template_link = cls.env["collection.whatsapp.template"].create(
            {
                "account_id": cls.account.id,
                "name": "promesa_incumplida",
                "language": "en_US",
                "status": "approved",
                "body": "Hello {{1}}, your promise was not kept: {{2}} is overdue. Pay here: {{3}}",
                "variable_ids": [
                    Command.create({"placeholder": "1", "sequence": 1, "value_type": "customer_name"}),
                    Command.create({"placeholder": "2", "sequence": 2, "value_type": "total_overdue"}),
                    Command.create({"placeholder": "3", "sequence": 3, "value_type": "portal_url"}),
                ],
            }
        )
        cls.level_first.write({"channel_whatsapp": False})

    def _rule(self, name, model, template, **values):
        """A rule and its WhatsApp action, built in their forms as a manager does."""
        with Form(self.env["base.automation"].with_user(self.admin_manager)) as form:
            form.name = name
            form.model_id = self.env["ir.model"]._get(model)
            form.trigger = values.pop("trigger", "on_create_or_write")
            for field, value in values.items():
                setattr(form, field, value)
        rule = form.record
        context = {
            "default_usage": "base_automation",
            "default_base_automation_id": rule.id,
            "default_model_id": rule.model_id.id,
        }
        with Form(self.env["ir.actions.server"].with_user(self.admin_manager).with_context(**context)) as action:
            action.state = "collection_whatsapp"
            action.collection_whatsapp_template_id = template
        return rule

    def _promise(self, partner=None, days=2):
        return self.env["collection.promise"].create(
            {
                "partner_id": (partner or self.customer).id,
                "date_made": self.today,
                "date": self.today + timedelta(days=days),
            }
        )

    def _broken_promise_rule(self):
        broken = self.env["ir.model.fields.selection"].search(
            [("field_id.model", "=", "collection.promise"), ("field_id.name", "=", "state"), ("value", "=", "broken")]
        )
        return self._rule(
            "Broken promise: WhatsApp",
            "collection.promise",
            self.template_link,
            trigger="on_state_set",
            trg_selection_field_id=broken,
        )

    def _sent_texts(self):
        return [
            [p["text"] for p in request["body"]["template"]["components"][0]["parameters"]]
            for request in self.fake.message_sends()
        ]


@tagged("post_install", "-at_install")
class TestWhatsappAutomation(WhatsappAutomationCommon):
    """The "Send WhatsApp (collections)" action in Odoo's automation rules and contextual actions: an approved
    template filled from the record, sent to the customer's collections contact through the queue,
    logged as a communication, opt-outs honoured, and sent once per event."""

    def test_action_form_offers_approved_templates_on_our_models(self):
        with Form(self.env["ir.actions.server"].with_user(self.admin_manager)) as form:
            form.name = "WhatsApp the customer"
            form.model_id = self.env["ir.model"]._get("account.move")
            form.state = "collection_whatsapp"
            form.collection_whatsapp_template_id = self.template_en
        action = form.record
        self.assertEqual(
            set(action.available_model_ids.mapped("model")),
            {"res.partner", "account.move", "collection.case", "collection.promise", "collection.dispute"},
        )
        self.assertFalse(action.warning)

    def test_broken_promise_by_the_daily_check_sends_the_link_once(self):
        self._broken_promise_rule()
        self._invoice(self.customer, 1000.0, 20)
        promise = self._promise()
        self.env["collection.promise"]._cron_check_promises()
        self.assertFalse(self._whatsapp(), "not broken yet")
        with freeze_time(self.today + timedelta(days=10)):
            self.env["collection.promise"]._cron_check_promises()
            self.env["collection.promise"]._cron_check_promises()
        self.assertEqual(promise.state, "broken")
        communication = self._whatsapp()
        self.assertRecordValues(
            communication,
            [
                {
                    "state": "queued",
                    "recipient_id": self.customer.id,
                    "whatsapp_template_id": self.template_link.id,
                    "line_ids": promise.line_ids.ids,
                }
            ],
        )
        self._send_queue()
        self.assertEqual(communication.state, "sent")
        [texts] = self._sent_texts()
        self.assertEqual(texts[0], "Abarrotes del Bajío")
        self.assertIn("1,000.00", texts[1])
        self.assertTrue(communication.portal_url)
        self.assertEqual(texts[2], communication.portal_url, "the customer's own link")
        self.assertIn(communication.portal_url, communication.body)
        # The check running again the next day sends nothing more.
        with freeze_time(self.today + timedelta(days=11)):
            self.env["collection.promise"]._cron_check_promises()
        self._send_queue()
        self.assertEqual(len(self.fake.message_sends()), 1)

    def test_opted_out_customer_gets_nothing_and_the_reason_is_kept(self):
        self._broken_promise_rule()
        self.customer.whatsapp_optout = True
        self._invoice(self.customer, 1000.0, 20)
        self._promise()
        with freeze_time(self.today + timedelta(days=10)):
            self.env["collection.promise"]._cron_check_promises()
        self._send_queue()
        communication = self._whatsapp()
        self.assertEqual(communication.state, "failed")
        self.assertIn("asked not to receive reminders by WhatsApp", communication.failure_reason)
        self.assertFalse(self.fake.message_sends())
        self.assertFalse(self._communications(fallback_of_id=communication.id), "no fallback from an automation")

    def test_goes_to_the_collections_contact_in_their_language(self):
        self.env["res.lang"]._activate_lang("es_MX")
        contact = self.env["res.partner"].create(
            {
                "name": "María Cuentas",
                "parent_id": self.customer.id,
                "collection_contact": True,
                "phone": "+52 33 1234 5678",
                "lang": "es_MX",
            }
        )
        rule = self._rule("Thank on WhatsApp", "collection.case", self.template_en)
        rule.filter_domain = repr([("close_reason", "=", "paid")])
        rule.trigger_field_ids = self.env["ir.model.fields"]._get("collection.case", "close_reason")
        invoice = self._invoice(self.customer, 1000.0, 10)
        self._run()
        self._register_payment(invoice)
        self._send_queue()
        communication = self._whatsapp()
        self.assertRecordValues(
            communication,
            [
                {
                    "recipient_id": contact.id,
                    "whatsapp_number": "+523312345678",
                    "whatsapp_template_id": self.template_es.id,
                    "state": "sent",
                }
            ],
        )

    def test_customer_opting_out_by_keyword_is_an_event(self):
        with Form(self.env["base.automation"].with_user(self.admin_manager)) as form:
            form.name = "Opt-out: tell the collector"
            form.model_id = self.env["ir.model"]._get("res.partner")
            form.trigger = "on_create_or_write"
            form.filter_domain = repr([("whatsapp_optout", "=", True)])
        rule = form.record
        self.assertEqual(rule.trigger_field_ids.mapped("name"), ["whatsapp_optout"])
        context = {
            "default_usage": "base_automation",
            "default_base_automation_id": rule.id,
            "default_model_id": rule.model_id.id,
        }
        with Form(self.env["ir.actions.server"].with_user(self.admin_manager).with_context(**context)) as action:
            action.state = "next_activity"
            action.activity_type_id = self.env.ref("mail.mail_activity_data_todo")
            action.activity_summary = "Opted out of WhatsApp"
            action.activity_user_type = "specific"
            action.activity_user_id = self.collector
        message = {
            "from": "524771234567",
            "id": "wamid.STOP1",
            "timestamp": str(int(fields.Datetime.now().timestamp())),
            "type": "text",
            "text": {"body": "BAJA"},
        }
        contacts = [{"wa_id": "524771234567", "profile": {"name": "Cliente"}}]
        self.Communication._whatsapp_process_inbound(self.account, [message], contacts)
        self.Communication._whatsapp_process_inbound(self.account, [dict(message, id="wamid.STOP2")], contacts)
        self.assertTrue(self.customer.whatsapp_optout)
        tasks = self.env["mail.activity"].search(
            [
                ("res_model", "=", "res.partner"),
                ("res_id", "=", self.customer.id),
                ("summary", "=", "Opted out of WhatsApp"),
            ]
        )
        self.assertEqual(len(tasks), 1, "opting out twice is one event")

    def test_contextual_action_on_invoices_one_message_per_customer(self):
        action = self.env["ir.actions.server"].create(
            {
                "name": "WhatsApp reminder",
                "model_id": self.env["ir.model"]._get_id("account.move"),
                "state": "collection_whatsapp",
                "collection_whatsapp_template_id": self.template_en.id,
                # Collectors may run it on invoices they can only read.
                "group_ids": [Command.set(self.env.ref(COLLECTOR_GROUP).ids)],
            }
        )
        action.create_action()
        self.assertEqual(action.binding_model_id.model, "account.move")
        first = self._invoice(self.customer, 1000.0, 10)
        second = self._invoice(self.customer, 500.0, 20)
        other = self._invoice(self.customer_b, 300.0, 10)
        self.customer_b.whatsapp_optout = True
        self._run()
        moves = first | second | other
        result = (
            action.with_user(self.collector)
            .with_context(active_model="account.move", active_ids=moves.ids, active_id=first.id)
            .run()
        )
        self.assertEqual(result["params"]["type"], "warning")
        self.assertIn("1 WhatsApp message(s) queued.", result["params"]["message"])
        self.assertIn("Northwind Traders: The customer asked not to receive", result["params"]["message"])
        communication = self._whatsapp()
        self.assertEqual(communication.line_ids, self._instalments(first | second))
        self._send_queue()
        [texts] = self._sent_texts()
        self.assertIn("1,500.00", texts[1])
        self.assertEqual(
            texts[3], ", ".join(self._instalments(first | second).sorted("date_maturity").move_id.mapped("name"))
        )

    def test_record_of_another_company_uses_that_company_template(self):
        other_company = self.env["res.company"].create({"name": "Other Co", "country_id": self.env.ref("base.mx").id})
        case = self.env["collection.case"].create({"partner_id": self.customer.id, "company_id": other_company.id})
        action = self.env["ir.actions.server"].create(
            {
                "name": "WhatsApp",
                "model_id": self.env["ir.model"]._get_id("collection.case"),
                "state": "collection_whatsapp",
                "collection_whatsapp_template_id": self.template_en.id,
            }
        )
        action.with_context(active_model="collection.case", active_ids=case.ids, active_id=case.id).run()
        communication = self._whatsapp()
        self.assertEqual(communication.state, "failed")
        self.assertIn("No approved WhatsApp template recordatorio_pago for Other Co", communication.failure_reason)


@tagged("post_install", "-at_install")
class TestWhatsappShippedRules(WhatsappAutomationCommon):
    """The shipped WhatsApp rules: switched off, switched on only with a template."""

    def _switch_on(self, xmlid, template):
        rule = self.env.ref(xmlid).with_user(self.admin_manager)
        self.assertFalse(rule.active)
        with self.assertRaises(ValidationError):
            rule.active = True
        rule.action_server_ids.collection_whatsapp_template_id = template
        rule.active = True
        return rule

    def test_thanks_by_whatsapp_when_opted_in_else_by_email(self):
        self._switch_on("collections_whatsapp.base_automation_case_paid_thanks_whatsapp", self.template_en)
        self.env.ref("collections_whatsapp.base_automation_case_paid_thanks_email_not_whatsapp").with_user(
            self.admin_manager
        ).active = True
        self.customer_b.whatsapp_optin = False
        paid = self._invoice(self.customer, 1000.0, 10)
        paid_b = self._invoice(self.customer_b, 400.0, 10)
        self._run()
        self._register_payment(paid)
        self._register_payment(paid_b)
        self._send_queue()
        self.assertEqual(len(self._whatsapp()), 1)
        self.assertEqual(self._whatsapp().state, "sent")
        self.assertFalse(self._whatsapp(self.customer_b))
        case, case_b = (
            self.env["collection.case"].search([("partner_id", "=", partner.id)])
            for partner in (self.customer, self.customer_b)
        )
        subject = "Thank you for your payment"
        self.assertFalse(case.message_ids.filtered(lambda m: subject in (m.subject or "")), "thanked on WhatsApp")
        self.assertEqual(len(case_b.message_ids.filtered(lambda m: subject in (m.subject or ""))), 1)

    def test_broken_promise_rule(self):
        self._switch_on("collections_whatsapp.base_automation_promise_broken_whatsapp", self.template_link)
        self._invoice(self.customer, 1000.0, 20)
        promise = self._promise()
        with freeze_time(self.today + timedelta(days=10)):
            self.env["collection.promise"]._cron_check_promises()
        self._send_queue()
        self.assertEqual(promise.state, "broken")
        self.assertEqual(self._whatsapp().state, "sent")
        [texts] = self._sent_texts()
        self.assertEqual(texts[2], self._whatsapp().portal_url)

from unittest.mock import patch

from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tests import Form, HttpCase, new_test_user, tagged

from odoo.addons.collections_whatsapp.tools.whatsapp_api import WhatsAppClient

from .common import WhatsappCommon

WEBHOOK = "/collections_whatsapp/webhook"


class _Killed(BaseException):
    """The process dies (SIGKILL, out of memory): nothing after this point runs."""


@tagged("post_install", "-at_install")
class TestWhatsappOptoutByNumber(WhatsappCommon, HttpCase):
    """An opt-out belongs to the number: whoever else has it is not written to either."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # A second company of the same family, sharing the owner's mobile.
        cls.sibling = cls.env["res.partner"].create(
            {
                "name": "Abarrotes del Bajío Sucursal Centro",
                "is_company": True,
                "phone": "477 123 4567",
                "country_id": cls.env.ref("base.mx").id,
                "lang": "en_US",
                "whatsapp_optin": True,
            }
        )
        cls.collector = new_test_user(
            cls.env,
            login="cobrador_optout",
            groups="base.group_user,collections_management.collections_management_group_collector",
        )
        # The owner writes STOP: the message lands in the first customer's case.
        cls.env["collection.case"].create(
            {"partner_id": cls.customer.id, "company_id": cls.company.id, "user_id": cls.collector.id}
        )
        cls.case = cls.env["collection.case"].create(
            {"partner_id": cls.sibling.id, "company_id": cls.company.id, "user_id": cls.collector.id}
        )

    def _stop(self, text="STOP", message_id="wamid.STOP1"):
        body = self._json(
            self._message_payload("5214771234567", text, self.account.phone_number_id, message_id=message_id)
        )
        response = self.url_open(
            WEBHOOK, data=body, headers={"Content-Type": "application/json", "X-Hub-Signature-256": self._sign(body)}
        )
        self.assertEqual(response.status_code, 200)
        self.env.invalidate_all()

    def test_stop_from_a_number_stops_reminders_to_another_customer_with_it(self):
        self._stop()
        optout = self.env["collection.whatsapp.optout"].search([("number", "=", "+524771234567")])
        self.assertRecordValues(optout, [{"source": "keyword", "active": True}])
        self.fake.reset()  # the confirmation of the opt-out is not what this test is about
        self._invoice(self.sibling, 700.0, 10)
        self._run()
        self._send_queue()
        reminder = self._whatsapp(self.sibling, level_id=self.level_first.id)
        self.assertEqual(reminder.state, "failed")
        self.assertIn("+524771234567 asked not to receive reminders by WhatsApp", reminder.failure_reason)
        [confirmation] = self.fake.message_sends()
        self.assertEqual(confirmation["body"]["type"], "text", "only the opt-out confirmation went out")
        self.assertEqual(self._communications(self.sibling, fallback_of_id=reminder.id).channel, "call")

    def test_stop_after_queueing_stops_the_queued_reminder_of_another_customer(self):
        self._invoice(self.sibling, 700.0, 10)
        self._run()
        reminder = self._whatsapp(self.sibling, level_id=self.level_first.id)
        self.assertEqual(reminder.state, "queued")
        self._stop()
        self._send_queue()
        self.assertEqual(reminder.state, "failed")
        self.assertIn("asked not to receive reminders by WhatsApp", reminder.failure_reason)
        [confirmation] = self.fake.message_sends()
        self.assertEqual(confirmation["body"]["type"], "text", "only the opt-out confirmation went out")

    def test_start_lifts_the_number_opt_out(self):
        self._stop()
        self._stop("START", message_id="wamid.START1")
        self.assertFalse(self.env["collection.whatsapp.optout"].search([("number", "=", "+524771234567")]))
        self.fake.reset()
        self._invoice(self.sibling, 700.0, 10)
        self._run()
        self._send_queue()
        self.assertEqual(self._whatsapp(self.sibling, level_id=self.level_first.id).state, "sent")

    def test_manual_opt_out_of_a_customer_holds_for_the_number(self):
        self.customer.whatsapp_optout = True
        self._invoice(self.sibling, 700.0, 10)
        self._run()
        self._send_queue()
        self.assertEqual(self._whatsapp(self.sibling, level_id=self.level_first.id).state, "failed")
        self.customer.whatsapp_optout = False
        self.assertFalse(self.env["collection.whatsapp.optout"]._optout_numbers(["+524771234567"]))

    def test_reply_wizard_refuses_an_opted_out_number(self):
        self._stop()
        # The sibling wrote too (from the shared number): free text would be allowed.
        self.sibling.write({"whatsapp_last_inbound_date": self._hours_ago(1)})
        wizard = self.env["collection.whatsapp.reply"].with_user(self.collector).create({"case_id": self.case.id})
        self.assertEqual(wizard.number, "+524771234567")
        wizard.body = "Hola"
        self.fake.reset()
        with self.assertRaisesRegex(UserError, "asked not to receive reminders"):
            wizard.action_send()
        self.assertFalse(self.fake.message_sends())


@tagged("post_install", "-at_install")
class TestWhatsappReplyNumbers(WhatsappCommon):
    """A collector replies only to the numbers of the case's customer and its contacts."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.collector = new_test_user(
            cls.env,
            login="cobrador_reply",
            groups="base.group_user,collections_management.collections_management_group_collector",
        )
        cls.case = cls.env["collection.case"].create(
            {"partner_id": cls.customer.id, "company_id": cls.company.id, "user_id": cls.collector.id}
        )
        cls.bookkeeper = cls.env["res.partner"].create(
            {"name": "Contadora Ruiz", "parent_id": cls.customer.id, "phone": "+52 33 3616 1234", "type": "contact"}
        )
        cls.customer.write(
            {"whatsapp_last_inbound_date": cls._hours_ago(1), "whatsapp_last_inbound_number": "+524771234567"}
        )

    def _wizard(self, **values):
        return (
            self.env["collection.whatsapp.reply"]
            .with_user(self.collector)
            .create({"case_id": self.case.id, "body": "Le envío el enlace", **values})
        )

    def test_another_number_is_refused(self):
        wizard = self._wizard()
        wizard.number = "+525598765432"  # written over RPC: the field is not editable in the form
        with self.assertRaisesRegex(UserError, "only go to the numbers of Abarrotes del Bajío"):
            wizard.action_send()
        self.assertFalse(self.fake.message_sends())
        self.assertFalse(self._whatsapp(direction="outbound"))

    def test_another_customer_as_contact_is_refused(self):
        wizard = self._wizard(recipient_id=self.customer_b.id)
        self.assertEqual(wizard.number, "+12065550142")
        with self.assertRaisesRegex(UserError, "is not one of them"):
            wizard.action_send()
        self.assertFalse(self.fake.message_sends())

    def test_a_contact_of_the_customer_is_allowed(self):
        wizard = self._wizard(recipient_id=self.bookkeeper.id)
        self.assertEqual(wizard.number, "+523336161234")
        wizard.action_send()
        [request] = self.fake.message_sends()
        self.assertEqual(request["body"]["to"], "523336161234")
        reply = self._whatsapp(direction="outbound")
        self.assertRecordValues(reply, [{"state": "sent", "recipient_id": self.bookkeeper.id}])
        self.assertRecordValues(reply.whatsapp_message_id, [{"state": "sent", "number": "+523336161234"}])

    def test_template_to_another_number_is_refused(self):
        self._invoice(self.customer, 800.0, 12)
        wizard = self._wizard(template_id=self.template_es.id)
        wizard.number = "+525598765432"
        with self.assertRaisesRegex(UserError, "is not one of them"):
            wizard.action_send()
        self._send_queue()
        self.assertFalse(self.fake.message_sends())


@tagged("post_install", "-at_install")
class TestWhatsappCrashSafeQueue(WhatsappCommon):
    """A sender killed in the middle of a batch: what reached Meta is recorded, the message in
    flight is never sent again, everything untouched is sent by the next run, nobody twice."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        mx = cls.env.ref("base.mx")
        cls.partners = cls.env["res.partner"].create(
            [
                {
                    "name": f"Cliente {index:02d}",
                    "is_company": True,
                    "country_id": mx.id,
                    "phone": f"55 2000 {index:04d}",
                    "whatsapp_optin": True,
                    "lang": "en_US",
                }
                for index in range(40)
            ]
        )
        cls.lines = cls._instalments(cls._invoice(cls.customer, 500.0, 20))

    def _queue(self):
        communications = self.Communication.create(
            [
                {
                    "subject": "First reminder",
                    "company_id": self.company.id,
                    "partner_id": partner.id,
                    "recipient_id": partner.id,
                    "channel": "whatsapp",
                    "level_id": self.level_first.id,
                    "line_ids": [(6, 0, self.lines.ids)],
                    "amount_total": 500.0,
                }
                for partner in self.partners
            ]
        )
        communications._send_whatsapp()
        return communications

    def test_killed_after_six_messages(self):
        communications = self._queue()
        original = WhatsAppClient.send_message
        calls = []

        def send_then_die(client, phone_number_id, payload):
            message_id = original(client, phone_number_id, payload)
            calls.append(message_id)
            if len(calls) == 7:
                raise _Killed  # Meta accepted the 7th message; the process died before hearing it
            return message_id

        # Not assertRaises: Odoo's rolls back to a savepoint, a dead process rolls back nothing it
        # committed (outside tests the queue commits each step it records).
        killed = False
        with patch.object(WhatsAppClient, "send_message", send_then_die):
            try:
                self._send_queue()
            except _Killed:
                killed = True
        self.assertTrue(killed)
        messages = communications.whatsapp_message_id
        self.assertEqual(len(messages.filtered(lambda m: m.state == "sent")), 6, "six outcomes were recorded")
        self.assertEqual(len(messages.filtered("sending")), 1, "one message was in flight")
        self.assertEqual(len(messages.filtered(lambda m: m.state == "queued" and not m.sending)), 33)
        in_flight = messages.filtered("sending").communication_id
        self.assertEqual(in_flight, communications[6])
        # The next run.
        self._send_queue()
        self.assertRecordValues(in_flight, [{"state": "failed"}])
        self.assertIn("interrupted", in_flight.failure_reason)
        self.assertFalse(self._communications(fallback_of_id=in_flight.id), "no fallback: it may have arrived")
        self.assertEqual(in_flight.whatsapp_message_id.state, "uncertain")
        others = communications - in_flight
        self.assertEqual(set(others.mapped("state")), {"sent"}, "the 6 sent and the 33 untouched")
        self.assertEqual(len(self.fake.sent), 40, "every customer got the reminder")
        self.assertEqual(set(self.fake.sent.values()), {1}, "nobody twice")
        self.assertEqual(len(set(others.mapped("external_id"))), 39)

    def test_connection_closed_mid_batch(self):
        communications = self._queue()
        self.fake.inject = lambda index, payload: "close" if index == 3 else None
        self._send_queue()
        broken = communications[3]
        self.assertEqual(broken.state, "failed")
        self.assertIn("may or may not have reached", broken.failure_reason)
        self.assertEqual(set((communications - broken).mapped("state")), {"sent"})
        self._send_queue()
        self.assertEqual(len(self.fake.message_sends()), 40, "nothing is sent twice")


@tagged("post_install", "-at_install")
class TestWhatsappWebhookHostileBodies(WhatsappCommon, HttpCase):
    def _post_signed(self, body):
        return self.url_open(
            WEBHOOK, data=body, headers={"Content-Type": "application/json", "X-Hub-Signature-256": self._sign(body)}
        )

    def test_deeply_nested_body_is_refused_with_a_short_log_line(self):
        count = self.Communication.search_count([])
        for body in (b"[" * 100000 + b"]" * 100000, b'{"entry": ' + b'{"a": ' * 50000 + b"1" + b"}" * 50001):
            with self.assertLogs("odoo.addons.collections_whatsapp.controllers.main", "WARNING") as logs:
                response = self._post_signed(body)
            self.assertEqual(response.status_code, 400)
            self.assertEqual(response.json(), {"error": "malformed body"})
            self.assertEqual(len(logs.output), 1)
            self.assertLess(len(logs.output[0]), 200, "a short line, no traceback")
        self.assertEqual(self.Communication.search_count([]), count, "nothing changed")

    def test_body_that_is_not_utf8_is_refused(self):
        with self.assertLogs("odoo.addons.collections_whatsapp.controllers.main", "WARNING"):
            self.assertEqual(self._post_signed(b"\xff\xfe{}").status_code, 400)


@tagged("post_install", "-at_install")
class TestWhatsappRoles(WhatsappCommon):
    """Who may change what a WhatsApp answer does and who is left alone."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.manager = new_test_user(
            cls.env,
            login="jefa_cobranza",
            groups="base.group_user,collections_management.collections_management_group_manager",
        )
        cls.collector = new_test_user(
            cls.env,
            login="cobrador_roles",
            groups="base.group_user,collections_management.collections_management_group_collector",
        )

    def test_manager_maps_a_template_button_and_collector_cannot(self):
        with Form(self.template_es.with_user(self.manager)) as template:
            with template.button_ids.new() as button:
                button.index = 0
                button.name = "Pagar ahora"
                button.payload = "PAGAR"
                button.action = "pay_link"
        self.assertRecordValues(
            self.template_es.button_ids, [{"payload": "PAGAR", "action": "pay_link", "account_id": self.account.id}]
        )
        self.assertEqual(len(self.account.with_user(self.collector).button_ids), 5, "4 shipped, 1 of the template")
        with self.assertRaises(AccessError):
            self.template_es.button_ids.with_user(self.collector).action = "talk"

    def test_manager_records_a_typed_number_as_opted_out(self):
        optout = self.env["collection.whatsapp.optout"].with_user(self.manager).create({"number": "477 123 4567"})
        self.assertEqual(optout.number, "+524771234567", "read in the company's country (Mexico)")
        self._invoice(self.customer, 1000.0, 10)
        self._run()
        self._send_queue()
        self.assertIn("asked not to receive reminders", self._whatsapp().failure_reason)
        with self.assertRaisesRegex(ValidationError, "not a valid phone number"):
            self.env["collection.whatsapp.optout"].with_user(self.manager).create({"number": "12"})
        with self.assertRaises(AccessError):
            self.env["collection.whatsapp.optout"].with_user(self.collector).create({"number": "477 123 9999"})

    def test_collector_reads_the_transport_of_their_customers_only(self):
        case = self.env["collection.case"].create(
            {"partner_id": self.customer.id, "company_id": self.company.id, "user_id": self.collector.id}
        )
        self.assertTrue(case)
        mine = self._make_communication(self.customer)
        other = self._make_communication(self.customer_b)
        (mine | other)._send_whatsapp()
        self._send_queue()
        Message = self.env["collection.whatsapp.message"].with_user(self.collector)
        self.assertEqual(Message.search([]), mine.whatsapp_message_id)
        with self.assertRaises(AccessError):
            mine.whatsapp_message_id.with_user(self.collector).state = "queued"

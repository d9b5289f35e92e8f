from datetime import timedelta
from unittest.mock import patch

from psycopg2.errors import UniqueViolation

from odoo import fields
from odoo.exceptions import UserError
from odoo.tests import HttpCase, new_test_user, tagged
from odoo.tools import mute_logger

from .common import WhatsappCommon

WEBHOOK = "/collections_whatsapp/webhook"


@tagged("post_install", "-at_install")
class TestWhatsappWebhook(WhatsappCommon, HttpCase):
    """Meta's webhook, driven over HTTP: the subscription handshake, signed notifications only,
    delivery statuses, customers' messages, keywords and the 24-hour window."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.collector = new_test_user(
            cls.env,
            login="cobrador",
            name="Cobrador",
            groups="base.group_user,collections_management.collections_management_group_collector",
        )
        cls.case = cls.env["collection.case"].create(
            {
                "partner_id": cls.customer.id,
                "company_id": cls.company.id,
                "user_id": cls.collector.id,
            }
        )

    def _post(self, payload=None, body=None, signature=None, secret="test-app-secret"):
        body = body if body is not None else self._json(payload)
        headers = {"Content-Type": "application/json"}
        signature = signature if signature is not None else self._sign(body, secret)
        if signature:
            headers["X-Hub-Signature-256"] = signature
        response = self.url_open(WEBHOOK, data=body, headers=headers)
        self.env.invalidate_all()
        return response

    def _sent_reminder(self):
        communication = self._remind()
        self.assertEqual(communication.state, "sent")
        return communication

    def _status(self, communication, status, errors=None, timestamp=None):
        return self._post(
            self._status_payload(
                communication.external_id, status, self.account.phone_number_id, errors=errors, timestamp=timestamp
            )
        )

    # Handshake ------------------------------------------------------------------------------------

    def test_verification_handshake(self):
        ok = self.url_open(f"{WEBHOOK}?hub.mode=subscribe&hub.verify_token=test-verify-token&hub.challenge=1158201444")
        self.assertEqual((ok.status_code, ok.text), (200, "1158201444"))
        wrong = self.url_open(f"{WEBHOOK}?hub.mode=subscribe&hub.verify_token=nope&hub.challenge=1158201444")
        self.assertEqual(wrong.status_code, 403)
        self.assertNotIn("1158201444", wrong.text)
        mode = self.url_open(f"{WEBHOOK}?hub.mode=unsubscribe&hub.verify_token=test-verify-token&hub.challenge=1")
        self.assertEqual(mode.status_code, 403)

    # Signature ------------------------------------------------------------------------------------

    def test_unsigned_and_wrongly_signed_bodies_are_rejected(self):
        communication = self._sent_reminder()
        payload = self._status_payload(communication.external_id, "delivered", self.account.phone_number_id)
        self.assertEqual(self._post(payload, signature="").status_code, 403)
        self.assertEqual(self._post(payload, secret="someone-else").status_code, 403)
        self.assertEqual(self._post(payload, signature="sha256=zz").status_code, 403)
        self.assertEqual(self._post(payload, signature="sha1=" + "0" * 40).status_code, 403)
        # Signed, then altered on the way.
        body = self._json(payload)
        self.assertEqual(
            self._post(body=body.replace(b"delivered", b"read"), signature=self._sign(body)).status_code, 403
        )
        self.assertEqual(communication.state, "sent", "nothing changed")

    def test_malformed_bodies(self):
        communication = self._sent_reminder()
        self.assertEqual(self._post(body=b"{not json").status_code, 400)
        self.assertEqual(self._post({"object": "whatsapp_business_account", "entry": "x"}).status_code, 400)
        self.assertEqual(self._post({"entry": [{"changes": [{"field": "messages", "value": []}]}]}).status_code, 400)
        # A good status followed by a broken entry: the whole notification is refused, nothing changes.
        good = self._status_payload(communication.external_id, "delivered", self.account.phone_number_id)
        good["entry"].append({"changes": "broken"})
        self.assertEqual(self._post(good).status_code, 400)
        self.assertEqual(communication.state, "sent")
        # Other webhook fields are acknowledged and ignored.
        other = {
            "object": "whatsapp_business_account",
            "entry": [{"changes": [{"field": "message_template_status_update", "value": {"event": "APPROVED"}}]}],
        }
        self.assertEqual(self._post(other).status_code, 200)

    # Statuses -------------------------------------------------------------------------------------

    def test_statuses_move_the_communication_forward(self):
        communication = self._sent_reminder()
        now = int(fields.Datetime.now().timestamp())
        self.assertEqual(self._status(communication, "sent", timestamp=now).status_code, 200)
        self.assertEqual(communication.state, "sent")
        self._status(communication, "delivered", timestamp=now + 5)
        self.assertEqual(communication.state, "delivered")
        self.assertTrue(communication.whatsapp_delivered_date)
        self._status(communication, "read", timestamp=now + 60)
        self.assertEqual(communication.state, "read")
        self.assertTrue(communication.whatsapp_read_date)
        # Late and repeated statuses never move it back.
        self._status(communication, "delivered", timestamp=now + 5)
        self._status(communication, "sent", timestamp=now)
        self.assertEqual(communication.state, "read")

    def test_failed_status_keeps_meta_error_and_falls_back(self):
        communication = self._sent_reminder()
        errors = [
            {
                "code": 131047,
                "title": "Re-engagement message",
                "message": "Re-engagement message",
                "error_data": {"details": "Message failed to send because more than 24 hours have passed"},
            }
        ]
        self.assertEqual(self._status(communication, "failed", errors=errors).status_code, 200)
        self.assertRecordValues(
            communication,
            [
                {
                    "state": "failed",
                    "whatsapp_error_code": 131047,
                    "whatsapp_error_title": "Re-engagement message",
                }
            ],
        )
        self.assertIn("24 hours", communication.failure_reason)
        fallback = self._communications(fallback_of_id=communication.id)
        self.assertEqual(fallback.channel, "call")
        # The same failure again changes nothing and does not fall back twice.
        self._status(communication, "failed", errors=errors)
        self.assertEqual(len(self._communications(fallback_of_id=communication.id)), 1)

    def test_unknown_message_id_is_acknowledged_and_ignored(self):
        communication = self._sent_reminder()
        payload = self._status_payload("wamid.UNKNOWN", "read", self.account.phone_number_id)
        self.assertEqual(self._post(payload).status_code, 200)
        self.assertEqual(communication.state, "sent")

    def test_other_phone_number_is_ignored(self):
        communication = self._sent_reminder()
        payload = self._status_payload(communication.external_id, "read", "000000")
        self.assertEqual(self._post(payload).status_code, 200)
        self.assertEqual(communication.state, "sent")

    # Inbound messages -----------------------------------------------------------------------------

    def _inbound(self, text, wa_id="5214771234567", message_id="wamid.IN1", kind="text"):
        return self._post(
            self._message_payload(wa_id, text, self.account.phone_number_id, message_id=message_id, kind=kind)
        )

    def test_inbound_message_goes_to_the_case(self):
        self.assertFalse(self.case.whatsapp_window_open)
        response = self._inbound("Hola, pago el viernes sin falta")
        self.assertEqual(response.status_code, 200)
        inbound = self._communications(direction="inbound")
        self.assertRecordValues(
            inbound,
            [
                {
                    "channel": "whatsapp",
                    "state": "done",
                    "external_id": "wamid.IN1",
                    "whatsapp_number": "+524771234567",
                    "user_id": self.collector.id,
                }
            ],
        )
        self.assertIn("pago el viernes", inbound.body)
        message = self.case.message_ids.filtered(lambda m: "pago el viernes" in (m.body or ""))
        self.assertEqual(len(message), 1, "posted in the case's chatter")
        self.assertEqual(message.author_id, self.customer)
        self.assertIn(self.collector.partner_id, message.partner_ids, "the collector is notified")
        activity = self.case.activity_ids
        self.assertEqual((len(activity), activity.user_id), (1, self.collector))
        self.assertTrue(self.case.whatsapp_window_open, "the 24-hour window is open")
        # The same message delivered again by Meta is logged once.
        self.assertEqual(self._inbound("Hola, pago el viernes sin falta").status_code, 200)
        self.assertEqual(len(self._communications(direction="inbound")), 1)
        # A second message does not pile up tasks.
        self._inbound("¿Me manda el estado de cuenta?", message_id="wamid.IN2")
        self.assertEqual(len(self._communications(direction="inbound")), 2)
        self.assertEqual(len(self.case.activity_ids), 1)

    def test_inbound_media_message(self):
        self._inbound("comprobante de pago", kind="image")
        inbound = self._communications(direction="inbound")
        self.assertIn("[image] comprobante de pago", inbound.body)

    def test_inbound_without_case_is_posted_on_the_customer(self):
        self._inbound("Buenas tardes", wa_id="12065550142")
        inbound = self._communications(self.customer_b, direction="inbound")
        self.assertEqual(len(inbound), 1)
        self.assertTrue(self.customer_b.message_ids.filtered(lambda m: "Buenas tardes" in (m.body or "")))

    def test_inbound_from_unknown_number_changes_nothing(self):
        count = self.Communication.search_count([])
        self.assertEqual(self._inbound("hola", wa_id="5219999999999").status_code, 200)
        self.assertEqual(self.Communication.search_count([]), count)

    def _case_messages(self, text):
        return self.case.message_ids.filtered(lambda m: text in (m.body or ""))

    def test_same_message_delivered_twice_is_logged_once(self):
        for __ in range(2):
            self.assertEqual(self._inbound("Pago mañana por transferencia").status_code, 200)
        self.assertEqual(len(self._communications(direction="inbound")), 1)
        self.assertEqual(len(self._case_messages("Pago mañana por transferencia")), 1, "one chatter post")

    def test_simultaneous_deliveries_are_logged_once(self):
        """Two deliveries of one notification handled at the same moment: neither sees the other
        with a search; the unique index refuses the second insert, which is answered 200 and
        changes nothing."""
        self.assertEqual(self._inbound("Pago mañana por transferencia").status_code, 200)
        inbound = self._communications(direction="inbound")
        window = self.customer.whatsapp_last_inbound_date
        Communication = type(self.Communication)
        with (
            patch.object(Communication, "_whatsapp_known_inbound", autospec=True, return_value=set()),
            mute_logger("odoo.sql_db"),
        ):
            response = self._inbound("Pago mañana por transferencia")
        self.assertEqual(response.status_code, 200)
        self.assertEqual(self._communications(direction="inbound"), inbound)
        self.assertEqual(len(self._case_messages("Pago mañana por transferencia")), 1, "one chatter post")
        self.assertEqual(len(self.case.activity_ids), 1)
        self.assertEqual(self.customer.whatsapp_last_inbound_date, window)
        # The request went on after the refused insert: a new message in the same notification is logged.
        payload = self._message_payload(
            "5214771234567", "Ya pagué", self.account.phone_number_id, message_id="wamid.IN1"
        )
        second = dict(payload["entry"][0]["changes"][0]["value"]["messages"][0], id="wamid.IN3")
        second["text"] = {"body": "Ya pagué"}
        payload["entry"][0]["changes"][0]["value"]["messages"].append(second)
        with (
            patch.object(Communication, "_whatsapp_known_inbound", autospec=True, return_value=set()),
            mute_logger("odoo.sql_db"),
        ):
            self.assertEqual(self._post(payload).status_code, 200)
        self.assertEqual(
            sorted(self._communications(direction="inbound").mapped("external_id")), ["wamid.IN1", "wamid.IN3"]
        )
        self.assertEqual(len(self._case_messages("Ya pagué")), 1)

    def test_unique_index_refuses_the_same_message_twice(self):
        values = {
            "subject": "WhatsApp",
            "company_id": self.company.id,
            "partner_id": self.customer.id,
            "channel": "whatsapp",
            "direction": "inbound",
            "state": "done",
            "external_id": "wamid.SAME",
        }
        first = self.Communication.create(values)
        with mute_logger("odoo.sql_db"), self.assertRaises(UniqueViolation), self.env.cr.savepoint():
            self.Communication.create(values)
        # The ORM's own path: refused, answered with nothing created.
        self.assertFalse(self.Communication._whatsapp_create_inbound(values))
        self.assertEqual(self._communications(external_id="wamid.SAME"), first)
        # An outbound message may carry the id, and messages without an id are not concerned.
        outbound = self.Communication.create(dict(values, direction="outbound", state="sent"))
        without = self.Communication.create([dict(values, external_id=False)] * 2)
        self.assertEqual(len(outbound | without), 3)
        # Nor does the database let two messages we sent share Meta's id.
        with mute_logger("odoo.sql_db"), self.assertRaises(UniqueViolation), self.env.cr.savepoint():
            self.Communication.create(dict(values, direction="outbound", state="sent"))

    def test_status_only_for_the_account_messages(self):
        communication = self._sent_reminder()
        other = self.env["collection.whatsapp.account"].create(
            {
                "name": "Otra cuenta",
                "company_id": self.company.id,
                "phone_number_id": "200000000002",
                "waba_id": "200000000003",
                "access_token": "other-token",
                "app_secret": "test-app-secret",
                "api_base_url": self.fake.base_url,
            }
        )
        self.assertEqual(
            self._post(self._status_payload(communication.external_id, "read", other.phone_number_id)).status_code, 200
        )
        self.assertEqual(communication.state, "sent", "another account's notification changes nothing")
        self._status(communication, "read")
        self.assertEqual(communication.state, "read")

    # Keywords -------------------------------------------------------------------------------------

    def test_stop_keyword_opts_out_and_confirms(self):
        self.assertEqual(self._inbound("  Baja. ").status_code, 200)
        self.assertRecordValues(self.customer, [{"whatsapp_optout": True, "whatsapp_optout_source": "keyword"}])
        self.assertTrue(self.customer.whatsapp_optout_date)
        confirmation = self.Communication.search(
            [("partner_id", "=", self.customer.id), ("whatsapp_text", "!=", False)]
        )
        self.assertEqual(confirmation.state, "queued")
        self._send_queue()
        self.assertEqual(confirmation.state, "sent")
        [request] = self.fake.message_sends()
        self.assertEqual(request["body"]["type"], "text")
        self.assertEqual(request["body"]["to"], "524771234567")
        self.assertIn("no longer receive", request["body"]["text"]["body"])
        # The next reminder does not go out on WhatsApp.
        self._invoice(self.customer, 1000.0, 10)
        self._run()
        self._send_queue()
        reminder = self._whatsapp(direction="outbound").filtered(lambda c: not c.whatsapp_text)
        self.assertEqual(reminder.state, "failed")
        self.assertEqual(len(self.fake.message_sends()), 1)
        # START opts back in.
        self._inbound("start", message_id="wamid.IN2")
        self.assertRecordValues(self.customer, [{"whatsapp_optout": False, "whatsapp_optin": True}])

    def test_stop_inside_a_sentence_is_not_a_keyword(self):
        self._inbound("No me den de baja, ya pagué")
        self.assertFalse(self.customer.whatsapp_optout)

    def test_stop_keywords_in_several_languages(self):
        for index, word in enumerate(["STOP", "baja", "Cancelar", "ALTO", "désuscribir"]):
            self.customer.whatsapp_optout = False
            self._inbound(word, message_id=f"wamid.K{index}")
            self.assertTrue(self.customer.whatsapp_optout, word)

    # Replies from the case ------------------------------------------------------------------------

    def _wizard(self):
        return self.env["collection.whatsapp.reply"].with_user(self.collector).create({"case_id": self.case.id})

    def test_free_text_reply_inside_the_window(self):
        self._inbound("¿Cuánto debo?")
        wizard = self._wizard()
        self.assertTrue(wizard.window_open)
        self.assertEqual(wizard.number, "+524771234567")
        wizard.body = "Son 1,000.00 MXN, le envío el enlace de pago."
        wizard.action_send()
        [request] = self.fake.message_sends()
        self.assertEqual(request["body"]["text"]["body"], "Son 1,000.00 MXN, le envío el enlace de pago.")
        reply = self.Communication.search(
            [("partner_id", "=", self.customer.id), ("direction", "=", "outbound"), ("channel", "=", "whatsapp")]
        )
        self.assertRecordValues(reply, [{"state": "sent", "external_id": list(self.fake.accepted)[0]}])

    def test_free_text_refused_outside_the_window(self):
        self.customer.write(
            {
                "whatsapp_last_inbound_date": fields.Datetime.now() - timedelta(hours=25),
                "whatsapp_last_inbound_number": "+524771234567",
            }
        )
        wizard = self._wizard()
        self.assertFalse(wizard.window_open)
        wizard.body = "Hola"
        with self.assertRaisesRegex(UserError, "only allows templates"):
            wizard.action_send()
        self.assertFalse(self.fake.message_sends())

    def test_template_outside_the_window(self):
        self._invoice(self.customer, 800.0, 12)
        wizard = self._wizard()
        wizard.template_id = self.template_es
        wizard.action_send()
        self._send_queue()
        [request] = self.fake.message_sends()
        self.assertEqual(request["body"]["type"], "template")
        texts = [p["text"] for p in request["body"]["template"]["components"][0]["parameters"]]
        self.assertIn("800.00", texts[1])

    def test_template_covers_the_owners_open_instalments(self):
        """The template reminder sent from the case lists exactly the open instalments of
        ``_collection_open_domain``: not the paid, in-payment, draft or other company's invoices,
        nor payments on account and credit notes (before, an invoice in payment was chased)."""
        portfolio = self._mixed_portfolio(self.customer)
        expected = self._owners_open_instalments(self.customer)
        self.assertLessEqual(portfolio["open"], expected)
        wizard = self._wizard()
        wizard.template_id = self.template_es
        wizard.action_send()
        reminder = self.Communication.search(
            [("partner_id", "=", self.customer.id), ("channel", "=", "whatsapp"), ("direction", "=", "outbound")]
        )
        self.assertEqual(reminder.line_ids, expected)
        self.assertEqual(reminder.amount_total, sum(expected.mapped("amount_residual")))
        for name in ("paid", "in_payment", "on_account", "credit_note", "draft", "elsewhere"):
            self.assertFalse(reminder.line_ids & portfolio[name].line_ids, name)

    def test_opt_out_confirmation_in_the_customer_language(self):
        self.env["res.lang"]._activate_lang("es_MX")
        self.env["ir.module.module"]._load_module_terms(["collections_whatsapp"], ["es_MX"], overwrite=True)
        self.customer.lang = "es_MX"
        self._inbound("STOP")
        self._send_queue()
        [request] = self.fake.message_sends()
        self.assertIn("Ya no recibirá recordatorios de pago", request["body"]["text"]["body"])
        self.assertIn("ALTA", request["body"]["text"]["body"])

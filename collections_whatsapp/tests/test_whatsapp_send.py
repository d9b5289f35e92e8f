import time
from unittest.mock import patch

from odoo.tests import tagged

from .common import WhatsappCommon, graph_error


@tagged("post_install", "-at_install")
class TestWhatsappSend(WhatsappCommon):
    """The engine hands a level's WhatsApp reminder to this module, which queues it; the queue
    sends it to Meta once, with retries on what may succeed later and a fallback when the
    customer cannot be reached."""

    def test_reminder_sent_once_with_filled_template(self):
        invoice = self._invoice(self.customer, 1000.0, 10)
        self._run()
        communication = self._whatsapp()
        self.assertEqual(communication.state, "queued", "the engine only queues")
        self.assertFalse(self.fake.requests, "nothing is sent from the engine's transaction")
        self._send_queue()
        [accepted_id] = list(self.fake.accepted)
        self.assertRecordValues(
            communication,
            [
                {
                    "state": "sent",
                    "external_id": accepted_id,
                    "whatsapp_number": "+524771234567",
                    "whatsapp_template_id": self.template_en.id,
                    "whatsapp_account_id": self.account.id,
                }
            ],
        )
        self.assertEqual(dict(self.fake.sent), {"524771234567": 1})
        payload = self.fake.accepted[accepted_id]
        self.assertEqual(payload["type"], "template")
        self.assertEqual(payload["template"]["name"], "recordatorio_pago")
        self.assertEqual(payload["template"]["language"], {"code": "en_US"})
        texts = [p["text"] for p in payload["template"]["components"][0]["parameters"]]
        self.assertEqual(texts[0], "Abarrotes del Bajío")
        self.assertIn("1,000.00", texts[1])
        self.assertEqual(texts[3], invoice.name)
        self.assertIn("Abarrotes del Bajío", communication.body)
        message = communication.mail_message_ids
        self.assertEqual(len(message), 1, "the reminder appears in the customer's chatter")
        self.assertEqual((message.model, message.res_id), ("res.partner", self.customer.id))
        # Running the engine and the queue again sends nothing new.
        self._run()
        self._send_queue()
        self.assertEqual(len(self.fake.message_sends()), 1)

    def test_customer_language_picks_template_variant(self):
        self.env["res.lang"]._activate_lang("es_MX")
        self.customer.lang = "es_MX"
        communication = self._remind()
        self.assertEqual(communication.whatsapp_template_id, self.template_es)
        payload = self.fake.message_sends()[0]["body"]
        self.assertEqual(payload["template"]["language"], {"code": "es_MX"})

    def _assert_unreachable(self, reason_part, fallback=True):
        communication = self._whatsapp()
        self.assertEqual(communication.state, "failed")
        self.assertIn(reason_part, communication.failure_reason)
        self.assertFalse(self.fake.message_sends(), "nothing is sent to Meta")
        task = self._communications(fallback_of_id=communication.id)
        self.assertEqual(len(task), 1 if fallback else 0)
        if fallback:
            self.assertEqual(task.channel, "call", "the level falls back to a task for the collector")
        return communication

    def test_no_number_falls_back(self):
        self.customer.phone = False
        self._remind()
        self._assert_unreachable("has no mobile number")

    def test_invalid_number_falls_back(self):
        self.customer.phone = "55 1234"
        self._remind()
        self._assert_unreachable("is not a valid number in Mexico")

    def test_opted_out_customer_falls_back(self):
        self.customer.whatsapp_optout = True
        self._remind()
        self._assert_unreachable("asked not to receive reminders by WhatsApp")
        self.assertEqual(self.customer.whatsapp_optout_source, "manual")
        self.assertTrue(self.customer.whatsapp_optout_date)

    def test_opt_in_required(self):
        self.customer.whatsapp_optin = False
        self._remind()
        self._assert_unreachable("has not agreed to receive WhatsApp messages")

    def test_opt_in_not_required(self):
        self.customer.whatsapp_optin = False
        self.account.require_optin = False
        communication = self._remind()
        self.assertEqual(communication.state, "sent")

    def test_template_no_longer_approved(self):
        self.template_en.status = "paused"
        self._remind()
        self._assert_unreachable("is not approved by Meta")

    def test_opt_out_after_queueing_is_honoured(self):
        self._invoice(self.customer, 1000.0, 10)
        self._run()
        self.customer.whatsapp_optout = True
        self._send_queue()
        self._assert_unreachable("asked not to receive reminders by WhatsApp")

    # API refusals ---------------------------------------------------------------------------------

    def test_invalid_token_is_not_retried(self):
        self.account.access_token = "expired"
        communication = self._remind()
        self.assertEqual(len(self.fake.message_sends()), 1)
        self.assertRecordValues(communication, [{"state": "failed", "whatsapp_error_code": 190}])
        self.assertIn("invalid or has expired", communication.failure_reason)
        self.assertTrue(self._communications(fallback_of_id=communication.id))

    def test_undeliverable_number_is_not_retried(self):
        self.fake.fail_numbers["524771234567"] = graph_error(
            131026, "(#131026) Message Undeliverable", details="Receiver is incapable of receiving this message"
        )
        communication = self._remind()
        self.assertEqual(len(self.fake.message_sends()), 1)
        self.assertRecordValues(
            communication,
            [
                {
                    "state": "failed",
                    "whatsapp_error_code": 131026,
                    "whatsapp_error_title": "Message Undeliverable",
                }
            ],
        )
        self.assertIn("not on WhatsApp", communication.failure_reason)
        self.assertIn("131026", communication.failure_reason)
        self.assertEqual(self._communications(fallback_of_id=communication.id).channel, "call")

    def _count_fallbacks(self):
        """Patch _fallback: the list of WhatsApp communications each call fell back for."""
        Communication = type(self.Communication)
        original = Communication._fallback
        calls = []

        def fallback(records):
            whatsapp = records.filtered(lambda c: c.channel == "whatsapp")
            if whatsapp:
                calls.append(whatsapp)
            return original(records)

        patcher = patch.object(Communication, "_fallback", autospec=True, side_effect=fallback)
        patcher.start()
        self.addCleanup(patcher.stop)
        return calls

    def test_refusals_of_a_batch_fall_back_in_one_pass(self):
        self.fake.fail_numbers["524771234567"] = graph_error(
            131026, "(#131026) Message Undeliverable", details="Receiver is incapable of receiving this message"
        )
        self.fake.fail_numbers["12065550142"] = graph_error(
            131049, "(#131049) Meta chose not to deliver", details="Healthy ecosystem engagement"
        )
        first = self._make_communication(self.customer)
        second = self._make_communication(self.customer_b)
        (first | second)._send_whatsapp()
        self.assertEqual(set((first | second).mapped("state")), {"queued"})
        calls = self._count_fallbacks()
        self._send_queue()
        self.assertRecordValues(
            first | second,
            [
                {"state": "failed", "whatsapp_error_code": 131026, "whatsapp_error_title": "Message Undeliverable"},
                {"state": "failed", "whatsapp_error_code": 131049, "whatsapp_error_title": "Meta chose not to deliver"},
            ],
        )
        self.assertNotEqual(first.failure_reason, second.failure_reason, "each keeps its own reason")
        self.assertEqual(calls, [first | second], "one fallback pass for all the refused messages")
        for communication in first | second:
            task = self._communications(communication.partner_id, fallback_of_id=communication.id)
            self.assertEqual(task.channel, "call")

    def test_unreachable_customers_fall_back_in_one_pass(self):
        self.customer.whatsapp_optout = True
        self.customer_b.phone = False
        first = self._make_communication(self.customer)
        second = self._make_communication(self.customer_b)
        reachable = self.env["res.partner"].create(
            {
                "name": "Cliente alcanzable",
                "phone": "+52 477 765 4321",
                "whatsapp_optin": True,
                "country_id": self.env.ref("base.mx").id,
            }
        )
        third = self._make_communication(reachable)
        calls = self._count_fallbacks()
        (first | second | third)._send_whatsapp()
        self.assertIn("asked not to receive", first.failure_reason)
        self.assertIn("no mobile number", second.failure_reason)
        self.assertEqual((first | second).mapped("state"), ["failed", "failed"])
        self.assertEqual(calls, [first | second], "one fallback pass for all the unreachable customers")
        self.assertRecordValues(
            third,
            [
                {
                    "state": "queued",
                    "whatsapp_number": "+524777654321",
                    "whatsapp_template_id": self.template_en.id,
                    "whatsapp_account_id": self.account.id,
                }
            ],
        )

    def test_server_error_is_retried(self):
        self.fake.script(graph_error(131000, "(#131000) Something went wrong", http_status=500))
        communication = self._remind()
        self.assertEqual(len(self.fake.message_sends()), 2)
        self.assertEqual(communication.state, "sent")
        self.assertEqual(sum(self.fake.sent.values()), 1)

    def test_server_errors_exhaust_retries_then_fall_back(self):
        self.fake.script(*[(503, {"error": {"message": "Service Unavailable", "code": 2}}, {})] * 4)
        communication = self._remind()
        self.assertEqual(len(self.fake.message_sends()), 1 + self.account.max_retries)
        self.assertEqual(communication.state, "failed")
        self.assertIn("server error", communication.failure_reason)
        self.assertTrue(self._communications(fallback_of_id=communication.id))

    def test_rate_limit_honours_retry_after(self):
        self.fake.script(graph_error(130429, "(#130429) Rate limit hit", http_status=429, headers={"Retry-After": "1"}))
        start = time.monotonic()
        communication = self._remind()
        self.assertGreaterEqual(time.monotonic() - start, 1.0, "waited as long as Meta asked")
        self.assertEqual(len(self.fake.message_sends()), 2)
        self.assertEqual(communication.state, "sent")

    def test_backoff_grows_between_retries(self):
        self.account.retry_backoff = 0.05
        self.fake.script(*[(500, {"error": {"message": "Internal", "code": 1}}, {})] * 3)
        start = time.monotonic()
        communication = self._remind()
        # 0.05 + 0.1 + 0.2 seconds of backoff before the fourth attempt.
        self.assertGreaterEqual(time.monotonic() - start, 0.35)
        self.assertEqual(communication.state, "sent")
        self.assertEqual(len(self.fake.message_sends()), 4)

    def test_long_retry_after_keeps_messages_queued(self):
        self.fake.script(
            graph_error(80007, "(#80007) Rate limit issues", http_status=429, headers={"Retry-After": "3600"})
        )
        communication = self._remind()
        self.assertEqual(communication.state, "queued", "Meta asked to wait an hour: the message waits")
        self.assertEqual(len(self.fake.message_sends()), 1)
        self._send_queue()
        self.assertEqual(communication.state, "sent")
        self.assertEqual(sum(self.fake.sent.values()), 1)

    def test_read_timeout_is_not_resent(self):
        # Odoo's test runner raises any request timeout under 10 seconds to 10 seconds.
        self.account.timeout = 1.0
        self.fake.delay = 10.5
        communication = self._remind()
        self.fake.delay = 0
        self.assertEqual(len(self.fake.message_sends()), 1, "a message that may have arrived is not sent again")
        self.assertEqual(communication.state, "failed")
        self.assertIn("may or may not have reached", communication.failure_reason)
        self.assertFalse(self._communications(fallback_of_id=communication.id))

    def test_connection_refused_is_retried_then_fails(self):
        self.account.api_base_url = "http://127.0.0.1:9"
        communication = self._remind()
        self.assertEqual(communication.state, "failed")
        self.assertIn("Could not connect", communication.failure_reason)

    def test_interrupted_batch_is_not_resent(self):
        communication = self._make_communication(self.customer)
        communication._send_whatsapp()
        communication.whatsapp_sending = True  # a run died after flagging the batch
        self._send_queue()
        self.assertFalse(self.fake.message_sends())
        self.assertEqual(communication.state, "failed")
        self.assertIn("interrupted", communication.failure_reason)

    def test_fallback_to_whatsapp(self):
        self.level_first.write({"channel_whatsapp": False, "fallback": "whatsapp"})
        self.customer.email = False
        self._invoice(self.customer, 1000.0, 10)
        self._run()
        self._send_queue()
        email = self._communications(channel="email")
        self.assertEqual(email.state, "failed")
        whatsapp = self._whatsapp()
        self.assertRecordValues(whatsapp, [{"state": "sent", "fallback_of_id": email.id}])
        self.assertEqual(len(self.fake.message_sends()), 1)

    def test_level_channels(self):
        self.assertIn("whatsapp", self.level_first._get_channels())
        self.assertNotIn("whatsapp", self.level_second._get_channels())

import logging
import time

from odoo.tests import tagged

from .common import WhatsappCommon, graph_error

_logger = logging.getLogger(__name__)
COUNT = 1000


@tagged("post_install", "-at_install")
class TestWhatsappMassSend(WhatsappCommon):
    """A thousand reminders go through the queue in batches; Meta throttles and stumbles on the
    way; every customer gets exactly one message and none is lost."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        mx = cls.env.ref("base.mx")
        cls.partners = cls.env["res.partner"].create(
            [
                {
                    "name": f"Cliente {index:04d}",
                    "is_company": True,
                    "country_id": mx.id,
                    "phone": f"55 {1000 + index:04d} {index % 10000:04d}",
                    "whatsapp_optin": True,
                    "lang": "en_US",
                }
                for index in range(COUNT)
            ]
        )
        cls.lines = cls._instalments(cls._invoice(cls.customer, 1234.5, 20))
        cls.account.batch_size = 100

    def _queue_all(self):
        # Queued as the engine does (as Collections itself): the reminders share one invoice's
        # instalments, which no user may attach to another customer's communication.
        communications = (
            self.Communication.sudo()
            .create(
                [
                    {
                        "subject": "First reminder",
                        "company_id": self.company.id,
                        "partner_id": partner.id,
                        "recipient_id": partner.id,
                        "channel": "whatsapp",
                        "level_id": self.level_first.id,
                        "line_ids": [(6, 0, self.lines.ids)],
                        "amount_total": 1234.5,
                    }
                    for partner in self.partners
                ]
            )
            .sudo(False)
        )
        communications._send_whatsapp()
        self.assertEqual(set(communications.mapped("state")), {"queued"})
        return communications

    def _assert_each_sent_once(self, communications):
        self.assertEqual(set(communications.mapped("state")), {"sent"})
        self.assertEqual(len(self.fake.sent), COUNT, "every customer got a message")
        self.assertEqual(set(self.fake.sent.values()), {1}, "nobody got two")
        external_ids = communications.mapped("external_id")
        self.assertEqual(len(set(external_ids)), COUNT)
        self.assertEqual(set(external_ids), set(self.fake.accepted))
        expected = {
            partner._phone_format(number=partner.phone, country=partner.country_id).lstrip("+")
            for partner in self.partners
        }
        self.assertEqual(set(self.fake.sent), expected)
        self.assertEqual({c.whatsapp_number.lstrip("+") for c in communications}, expected)
        for communication in communications:
            self.assertIn(communication.partner_id.name, communication.body, "each keeps its own text")
        self.assertEqual(set(communications.mapped("whatsapp_sending")), {False})

    def test_thousand_messages_with_throttling_and_errors(self):
        def stumble(index, payload):
            if index % 97 == 50:
                return graph_error(130429, "(#130429) Rate limit hit", http_status=429, headers={"Retry-After": "0"})
            if index % 151 == 75:
                return graph_error(131000, "(#131000) Something went wrong", http_status=500)
            return None

        self.fake.inject = stumble
        communications = self._queue_all()
        start = time.monotonic()
        self._send_queue()
        elapsed = time.monotonic() - start
        self._assert_each_sent_once(communications)
        self.assertGreater(len(self.fake.message_sends()), COUNT, "some calls were retried")
        _logger.info(
            "WhatsApp mass send: %s messages in %.2fs (%.0f messages/s, %s requests)",
            COUNT,
            elapsed,
            COUNT / elapsed,
            len(self.fake.message_sends()),
        )

    def test_long_throttle_mid_run_loses_nothing(self):
        def throttle_once(index, payload):
            if index == 500:
                return graph_error(80007, "(#80007) Rate limit issues", http_status=429, headers={"Retry-After": "600"})
            return None

        self.fake.inject = throttle_once
        communications = self._queue_all()
        self._send_queue()
        self.assertEqual(len(communications.filtered(lambda c: c.state == "sent")), 500)
        self.assertEqual(len(communications.filtered(lambda c: c.state == "queued")), 500, "the rest waits")
        self.fake.inject = None
        self._send_queue()
        self._assert_each_sent_once(communications)

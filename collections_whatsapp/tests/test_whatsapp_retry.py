from odoo.tests import Form, tagged

from .common import WhatsappCommon, graph_error


@tagged("post_install", "-at_install")
class TestWhatsappRetry(WhatsappCommon):
    """A WhatsApp reminder Meta refused keeps Meta's reason; once the number is fixed, a retry
    sends it once to the new number, and the form shows the text the customer read."""

    def test_retry_after_fixing_the_number(self):
        self.fake.fail_numbers["524771234567"] = graph_error(
            131026, "(#131026) Message Undeliverable", details="Receiver is incapable of receiving this message"
        )
        invoice = self._invoice(self.customer, 1000.0, 10)
        self._run()
        self._send_queue()
        communication = self._whatsapp()
        self.assertEqual(communication.state, "failed")
        self.assertIn("131026", communication.failure_reason)
        first_message = communication.whatsapp_message_id
        self.customer.phone = "+52 477 765 4321"
        manager = self.env["res.users"].create(
            {
                "name": "Marta Manager",
                "login": "marta",
                "group_ids": [(4, self.env.ref("collections_management.collections_management_group_manager").id)],
            }
        )
        communication.with_user(manager).action_retry()
        self.assertRecordValues(
            communication,
            [
                {
                    "state": "queued",
                    "whatsapp_number": "+524777654321",
                    "whatsapp_error_code": 0,
                    "failure_reason": False,
                }
            ],
        )
        self.assertNotEqual(communication.whatsapp_message_id, first_message, "a new transport message")
        self._send_queue()
        self.assertEqual(communication.state, "sent")
        self.assertEqual(dict(self.fake.sent), {"524777654321": 1})
        self.assertEqual(self._instalments(invoice).collection_level_id, self.level_first)
        body = str(Form(communication.with_user(manager)).message_body)
        self.assertIn("Abarrotes del Bajío", body)

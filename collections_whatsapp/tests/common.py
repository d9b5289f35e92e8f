import hashlib
import hmac
import json
from datetime import timedelta

from odoo import Command, fields

from odoo.addons.collections_management.tests.common import CollectionsCommon
from odoo.addons.collections_whatsapp.tests.fake_graph_api import FakeGraphAPI, graph_error

__all__ = ["WhatsappCommon", "graph_error"]


class WhatsappCommon(CollectionsCommon):
    """The collections world plus a WhatsApp account talking to a fake Graph API served on
    127.0.0.1, an approved Spanish and English reminder template, WhatsApp on the first
    reminder level, and customers who agreed to WhatsApp reminders."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.fake = FakeGraphAPI().start()
        cls.addClassCleanup(cls.fake.stop)
        cls.env.company.country_id = cls.env.ref("base.mx")
        cls.account = cls.env["collection.whatsapp.account"].create(
            {
                "name": "Cobranza MX",
                "company_id": cls.company.id,
                "phone_number_id": cls.fake.phone_number_id,
                "waba_id": cls.fake.waba_id,
                "access_token": cls.fake.token,
                "app_secret": "test-app-secret",
                "verify_token": "test-verify-token",
                "api_version": "v22.0",
                "api_base_url": cls.fake.base_url,
                "timeout": 5.0,
                "max_retries": 3,
                "retry_backoff": 0.001,
                "max_retry_wait": 2.0,
                "messages_per_second": 0,
            }
        )
        variables = [
            Command.create({"placeholder": "1", "sequence": 1, "value_type": "customer_name"}),
            Command.create({"placeholder": "2", "sequence": 2, "value_type": "total_overdue"}),
            Command.create({"placeholder": "3", "sequence": 3, "value_type": "oldest_due_date"}),
            Command.create({"placeholder": "4", "sequence": 4, "value_type": "invoice_numbers"}),
        ]
        Template = cls.env["collection.whatsapp.template"]
        cls.template_es = Template.create(
            {
                "account_id": cls.account.id,
                "name": "recordatorio_pago",
                "language": "es_MX",
                "status": "approved",
                "body": "Hola {{1}}, tiene {{2}} vencido desde {{3}} (facturas {{4}}).",
                "variable_ids": variables,
            }
        )
        cls.template_en = Template.create(
            {
                "account_id": cls.account.id,
                "name": "recordatorio_pago",
                "language": "en_US",
                "status": "approved",
                "body": "Hello {{1}}, {{2}} is overdue since {{3}} (invoices {{4}}).",
                "variable_ids": variables,
            }
        )
        cls.level_first.write({"channel_whatsapp": True, "whatsapp_template_id": cls.template_en.id})
        (cls.customer | cls.customer_b).write({"whatsapp_optin": True, "whatsapp_optin_source": "contract"})
        cls.Communication = cls.env["collection.communication"]

    def setUp(self):
        super().setUp()
        self.fake.reset()

    # Helpers --------------------------------------------------------------------------------------

    def _whatsapp(self, partner=None, **domain):
        return self._communications(partner, channel="whatsapp", **domain)

    def _send_queue(self):
        return self.Communication._cron_send_whatsapp_queue()

    def _remind(self, partner=None, amount=1000.0, days_late=10):
        """An overdue invoice for ``partner``, a run of the engine and the WhatsApp queue."""
        partner = partner or self.customer
        self._invoice(partner, amount, days_late)
        self._run()
        self._send_queue()
        return self._whatsapp(partner)

    @classmethod
    def _make_communication(cls, partner, **values):
        """A communication as the engine builds it, at the first level."""
        return cls.Communication.create(
            {
                "subject": "First reminder",
                "company_id": cls.company.id,
                "partner_id": partner.id,
                "recipient_id": partner.id,
                "channel": "whatsapp",
                "level_id": cls.level_first.id,
                **values,
            }
        )

    def _sign(self, body, secret="test-app-secret"):
        return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()

    @staticmethod
    def _status_payload(message_id, status, phone_number_id, errors=None, timestamp=None):
        status_value = {
            "id": message_id,
            "status": status,
            "recipient_id": "524771234567",
            "timestamp": str(timestamp or int(fields.Datetime.now().timestamp())),
        }
        if errors:
            status_value["errors"] = errors
        return {
            "object": "whatsapp_business_account",
            "entry": [
                {
                    "id": "123456789012",
                    "changes": [
                        {
                            "field": "messages",
                            "value": {
                                "messaging_product": "whatsapp",
                                "metadata": {
                                    "display_phone_number": "5215512345678",
                                    "phone_number_id": phone_number_id,
                                },
                                "statuses": [status_value],
                            },
                        }
                    ],
                }
            ],
        }

    @staticmethod
    def _message_payload(wa_id, text, phone_number_id, message_id="wamid.IN1", name="Cliente", kind="text"):
        message = {
            "from": wa_id,
            "id": message_id,
            "timestamp": str(int(fields.Datetime.now().timestamp())),
            "type": kind,
        }
        if kind == "text":
            message["text"] = {"body": text}
        else:
            message[kind] = {"caption": text, "mime_type": "image/jpeg", "id": "media1"}
        return {
            "object": "whatsapp_business_account",
            "entry": [
                {
                    "id": "123456789012",
                    "changes": [
                        {
                            "field": "messages",
                            "value": {
                                "messaging_product": "whatsapp",
                                "metadata": {
                                    "display_phone_number": "5215512345678",
                                    "phone_number_id": phone_number_id,
                                },
                                "contacts": [{"profile": {"name": name}, "wa_id": wa_id}],
                                "messages": [message],
                            },
                        }
                    ],
                }
            ],
        }

    @staticmethod
    def _json(payload):
        return json.dumps(payload).encode()

    @staticmethod
    def _hours_ago(hours):
        return fields.Datetime.now() - timedelta(hours=hours)

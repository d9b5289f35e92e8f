from odoo import Command
from odoo.exceptions import UserError, ValidationError
from odoo.tests import tagged

from .common import WhatsappCommon


def meta_template(name, language, status="APPROVED", body="Hola {{1}}", category="UTILITY", **extra):
    return {
        "id": f"{name}-{language}",
        "name": name,
        "language": language,
        "status": status,
        "category": category,
        "components": [
            {"type": "HEADER", "format": "TEXT", "text": "Aviso"},
            {"type": "BODY", "text": body},
            {"type": "FOOTER", "text": "Cobranza"},
        ],
        **extra,
    }


@tagged("post_install", "-at_install")
class TestWhatsappTemplate(WhatsappCommon):
    """Templates come from Meta with their approval status; their variables are filled from the
    reminder; only approved ones can be chosen on a level."""

    def test_sync_creates_updates_and_retires_templates(self):
        self.fake.page_size = 2  # three pages: the cursors are followed
        self.fake.templates = [
            meta_template("recordatorio_pago", "es_MX", body="Hola {{1}}, debe {{2}} desde {{3}}."),
            meta_template("recordatorio_pago", "en_US", status="PAUSED"),
            meta_template("aviso_final", "es_MX", status="PENDING", body="{{1}}: {{2}}, {{3}}, {{4}}, {{5}}"),
            meta_template("promo", "es_MX", status="REJECTED", category="MARKETING", rejected_reason="INVALID_FORMAT"),
            meta_template(
                "saldo", "es", body="Hola {{nombre}}, su saldo es {{total_overdue}}", parameter_format="NAMED"
            ),
        ]
        self.account.action_sync_templates()
        self.assertEqual(len([r for r in self.fake.requests if r["kind"] == "templates"]), 3)
        templates = self.env["collection.whatsapp.template"].search([("account_id", "=", self.account.id)])
        by_key = {(t.name, t.language): t for t in templates}
        self.assertRecordValues(
            by_key["recordatorio_pago", "es_MX"],
            [
                {
                    "status": "approved",
                    "body": "Hola {{1}}, debe {{2}} desde {{3}}.",
                    "meta_id": "recordatorio_pago-es_MX",
                }
            ],
        )
        self.assertEqual(self.template_es, by_key["recordatorio_pago", "es_MX"], "updated, not duplicated")
        self.assertEqual(by_key["recordatorio_pago", "en_US"].status, "paused")
        self.assertRecordValues(
            by_key["promo", "es_MX"],
            [
                {
                    "status": "rejected",
                    "category": "marketing",
                    "rejected_reason": "INVALID_FORMAT",
                }
            ],
        )
        final = by_key["aviso_final", "es_MX"]
        self.assertEqual(final.variable_ids.mapped("placeholder"), ["1", "2", "3", "4", "5"])
        self.assertEqual(
            final.variable_ids.mapped("value_type"),
            ["customer_name", "total_overdue", "oldest_due_date", "invoice_numbers", "portal_url"],
        )
        named = by_key["saldo", "es"]
        self.assertEqual(named.parameter_format, "named")
        self.assertEqual(named.variable_ids.mapped("value_type"), ["fixed", "total_overdue"])
        # A template deleted at Meta is kept but can no longer be sent.
        self.fake.templates = self.fake.templates[1:]
        self.account.action_sync_templates()
        self.assertEqual(self.template_es.status, "deleted")
        self.assertIn("not approved", self.template_es._check_sendable())

    def test_sync_with_invalid_token(self):
        self.account.access_token = "wrong"
        with self.assertRaisesRegex(UserError, "invalid or has expired"):
            self.account.action_sync_templates()

    def test_connection(self):
        action = self.account.action_test_connection()
        self.assertEqual(action["params"]["type"], "success")
        self.assertEqual(self.account.display_phone_number, "+52 55 1234 5678")
        self.account.phone_number_id = "999"
        with self.assertRaisesRegex(UserError, "Connection failed"):
            self.account.action_test_connection()

    def test_variables_filled_from_the_reminder(self):
        self.env["res.lang"]._activate_lang("es_MX")
        self.customer.lang = "es_MX"
        first = self._invoice(self.customer, 1500.0, 20)
        second = self._invoice(self.customer, 250.5, 8)
        self.template_es.write(
            {
                "body": self.template_es.body + " {{5}} {{6}} {{7}} {{8}}",
                "variable_ids": [
                    Command.create({"placeholder": "5", "sequence": 5, "value_type": "days_overdue"}),
                    Command.create({"placeholder": "6", "sequence": 6, "value_type": "company_name"}),
                    Command.create(
                        {"placeholder": "7", "sequence": 7, "value_type": "fixed", "fixed_value": "Llámenos\n   al 800"}
                    ),
                    Command.create({"placeholder": "8", "sequence": 8, "value_type": "portal_url"}),
                ],
            }
        )
        communication = self._make_communication(
            self.customer, line_ids=[Command.set(self._instalments(first | second).ids)]
        )
        texts = [p["text"] for p in self.template_es._get_parameters(communication)]
        oldest = self._instalments(first).date_maturity
        self.assertEqual(texts[0], "Abarrotes del Bajío")
        self.assertIn("1,750.50", texts[1].replace("\xa0", " ").replace(" ", ""))
        self.assertEqual(texts[2], oldest.strftime("%d/%m/%Y"))
        self.assertEqual(texts[3], f"{first.name}, {second.name}")
        self.assertEqual(texts[4], "20")
        self.assertEqual(texts[5], self.company.name)
        self.assertEqual(texts[6], "Llámenos al 800", "no new lines or runs of spaces: Meta refuses them")
        self.assertEqual(texts[7], communication.portal_url)
        rendered = self.template_es._render(self.template_es._get_parameters(communication))
        self.assertTrue(rendered.startswith("Hola Abarrotes del Bajío, tiene "))
        self.assertNotIn("{{", rendered)

    def test_named_parameters(self):
        template = self.env["collection.whatsapp.template"].create(
            {
                "account_id": self.account.id,
                "name": "saldo",
                "language": "es",
                "status": "approved",
                "parameter_format": "named",
                "body": "Hola {{customer_name}}",
            }
        )
        template.action_create_variables()
        communication = self._make_communication(self.customer)
        self.assertEqual(
            template._get_parameters(communication),
            [
                {"type": "text", "text": "Abarrotes del Bajío", "parameter_name": "customer_name"},
            ],
        )

    def test_template_with_unmapped_variable_is_not_sent(self):
        self.template_en.body += " {{9}}"
        self.assertIn("variables without a value: 9", self.template_en._check_sendable())

    def test_only_approved_templates_on_a_level(self):
        pending = self.env["collection.whatsapp.template"].create(
            {
                "account_id": self.account.id,
                "name": "nuevo",
                "language": "es_MX",
                "status": "pending",
            }
        )
        with self.assertRaisesRegex(ValidationError, "not approved"):
            self.level_second.write({"channel_whatsapp": True, "whatsapp_template_id": pending.id})
        with self.assertRaisesRegex(ValidationError, "choose its template"):
            self.level_second.write({"channel_whatsapp": True, "whatsapp_template_id": False})

    def test_one_default_account_per_company(self):
        other = self.env["collection.whatsapp.account"].create(
            {
                "name": "Segunda línea",
                "phone_number_id": "555",
                "waba_id": "666",
                "company_id": self.company.id,
            }
        )
        self.assertTrue(self.account.is_default)
        self.assertFalse(other.is_default, "the first account of a company is its default")
        other.is_default = True
        self.assertFalse(self.account.is_default)
        self.assertEqual(self.env["collection.whatsapp.account"]._get_default(self.company), other)

    def test_token_visible_to_managers_only(self):
        field = self.env["collection.whatsapp.account"]._fields["access_token"]
        self.assertEqual(field.groups, "collections_management.collections_management_group_manager")

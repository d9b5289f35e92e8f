import re

from odoo.tests import tagged

from .common import CollectionsPortalCommon


@tagged("post_install", "-at_install")
class TestStatementLanguage(CollectionsPortalCommon):
    """The statement of account prints in the customer's language and regional vocabulary,
    whoever prints it."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        langs = ["es_MX", "es_CO", "es_ES"]
        for lang in langs:
            cls.env["res.lang"]._activate_lang(lang)
        cls.env["ir.module.module"].search(
            [("name", "in", ["collections_management", "collections_portal"])]
        )._update_translations(filter_lang=langs)

    def _statement(self, partner):
        html, __ = self.env["ir.actions.report"]._render_qweb_html(
            "collections_portal.action_report_collection_statement", partner.ids
        )
        return html.decode()

    def test_statement_in_the_customers_spanish(self):
        self.assertEqual(self.env.user.lang, "en_US")
        expected = {
            "es_MX": ("Monto", "1-30 días", "Antigüedad"),
            "es_CO": ("Monto", "1-30 días", "Edades de cartera"),
            "es_ES": ("Importe", "1-30 días", "Antigüedad"),
        }
        for lang, (amount, bucket, aging) in expected.items():
            with self.subTest(lang=lang):
                self.customer.lang = lang
                html = self._statement(self.customer)
                self.assertRegex(html, r"<h2>\s*Estado de cuenta\s*</h2>")
                self.assertIn(self.invoice_2.name, html)
                for text in (amount, bucket, aging, "Fecha de vencimiento", "Días de atraso", "Partidas abiertas"):
                    self.assertIn(text, html)
                for english in ("Statement of Account", "Due date", "Days late", "Open items", "1-30 days"):
                    self.assertNotIn(english, html)
        self.customer.lang = "en_US"
        self.assertRegex(self._statement(self.customer), r"<h2>\s*Statement of Account\s*</h2>")

    def test_statements_of_several_languages_printed_together(self):
        self.customer.lang = "es_MX"
        self.customer_b.lang = "en_US"
        html = self._statement(self.customer | self.customer_b)
        self.assertEqual(
            re.findall(r"<h2>\s*(.*?)\s*</h2>", html),
            ["Estado de cuenta", "Statement of Account"],
        )

from odoo import Command
from odoo.tests import HttpCase, new_test_user, tagged

from .common import CollectionsPortalCommon


@tagged("post_install", "-at_install")
class TestPortalPage(CollectionsPortalCommon, HttpCase):
    """What the page shows: totals and aging per currency, open instalments with days late,
    invoice PDFs, statement, promises, disputes, payments; and the entry in My Account."""

    def test_summary_totals_and_aging(self):
        summary = self.customer._collection_summary(self.company)
        self.assertEqual(len(summary["totals"]), 1)
        total = summary["totals"][0]
        self.assertAlmostEqual(total["due"], 1800.0)
        self.assertAlmostEqual(total["overdue"], 1500.0)
        self.assertAlmostEqual(total["aging"]["0_not_due"], 300.0)
        self.assertAlmostEqual(total["aging"]["1_30"], 1000.0)
        self.assertAlmostEqual(total["aging"]["2_60"], 500.0)
        self.assertEqual(sorted(total["overdue_invoice_ids"]), sorted((self.invoice_1 | self.invoice_2).ids))
        invoices = {data["move"]: data for data in summary["invoices"]}
        self.assertEqual(invoices[self.invoice_2]["days_late"], 45)
        self.assertEqual(invoices[self.invoice_future]["days_late"], 0)

    def test_summary_per_currency_and_payments(self):
        eur = self.setup_other_currency("EUR", rates=[("2000-01-01", 2.0)])
        self._invoice(self.customer, 80.0, 100, currency=eur)
        self.env["account.payment.register"].with_context(
            active_model="account.move", active_ids=self.invoice_2.ids
        ).create({"amount": 200.0})._create_payments()
        summary = self.customer._collection_summary(self.company)
        totals = {total["currency"].name: total for total in summary["totals"]}
        self.assertAlmostEqual(totals["EUR"]["aging"]["4_120"], 80.0)
        self.assertAlmostEqual(totals["USD"]["due"], 1600.0)
        self.assertEqual(len(summary["payments"]), 1)
        response = self.url_open(self.path)
        self.assertIn("EUR", response.text)
        self.assertIn("Recent payments", response.text)

    def test_page_links_each_invoice_pdf_with_its_access_token(self):
        response = self.url_open(self.path)
        self.invoice_1.invalidate_recordset(["access_token"])
        pdf_url = f"/my/invoices/{self.invoice_1.id}?access_token={self.invoice_1.access_token}"
        self.assertIn(pdf_url, response.text.replace("&amp;", "&"))
        pdf = self.url_open(f"{pdf_url}&report_type=html")
        self.assertEqual(pdf.status_code, 200)
        self.assertIn(self.invoice_1.name, pdf.text)

    def test_statement_of_account(self):
        response = self.url_open(f"{self.path}/statement")
        self.assertEqual(response.status_code, 200)
        self.assertIn("attachment", response.headers["Content-Disposition"])
        # In tests reports are rendered as HTML.
        self.assertIn(self.invoice_2.name, response.text)
        self.assertIn("Statement of Account", response.text)
        self.assertNotIn(self.invoice_b.name, response.text)

    def test_statement_from_the_backend(self):
        report = self.env.ref("collections_portal.action_report_collection_statement")
        html = self.env["ir.actions.report"]._render_qweb_html(report, self.customer.ids)[0].decode()
        self.assertIn(self.invoice_1.name, html)

    def test_page_is_translated(self):
        self.env["res.lang"]._activate_lang("es_ES")
        self.env["ir.module.module"]._load_module_terms(["collections_portal"], ["es_ES"], overwrite=True)
        self.customer.lang = "es_ES"
        response = self.url_open(self.path, cookies={"frontend_lang": "es_ES"})
        self.assertIn("Pagar las facturas seleccionadas", response.text)

    def test_link_opens_in_the_contacts_language(self):
        self.env["res.lang"]._activate_lang("es_ES")
        self.env["ir.module.module"]._load_module_terms(["collections_portal"], ["es_ES"], overwrite=True)
        self.customer.lang = "es_ES"
        self.assertIn("Pagar todo lo vencido", self.url_open(self.path).text)
        # A visitor who chose a language keeps it.
        english = self.url_open(self.path, cookies={"frontend_lang": "en_US"})
        self.assertIn("Pay everything overdue", english.text)

    def test_portal_user_reaches_the_page_from_my_account(self):
        user = new_test_user(
            self.env(su=True),
            login="abarrotes",
            groups="base.group_portal",
            partner_id=self.customer.id,
            company_id=self.env.ref("base.main_company").id,
        )
        user.company_ids = [Command.link(self.company.id)]
        self.authenticate("abarrotes", "abarrotes")
        home = self.url_open("/my/home")
        self.assertIn("/my/collections", home.text)
        counters = self.make_jsonrpc_request("/my/counters", {"counters": ["collection_overdue_count"]})
        self.assertEqual(counters["collection_overdue_count"], 2)
        page = self.url_open("/my/collections")
        self.assertEqual(page.status_code, 200, page.text[-2500:])
        self.assertIn(self.invoice_1.name, page.text)
        self.assertNotIn(self.invoice_b.name, page.text)

    def test_my_collections_requires_login(self):
        response = self.url_open("/my/collections", allow_redirects=False)
        self.assertIn(response.status_code, (302, 303))
        self.assertIn("/web/login", response.headers["Location"])

    def test_promises_and_disputes_are_listed(self):
        self.env["collection.promise"].create(
            {
                "partner_id": self.customer.id,
                "company_id": self.company.id,
                "date": self.today,
                "amount": 100.0,
                "line_ids": [Command.set(self._instalments(self.invoice_1).ids)],
            }
        )
        self.env["collection.dispute"].create(
            {
                "partner_id": self.customer.id,
                "company_id": self.company.id,
                "line_ids": [Command.set(self._instalments(self.invoice_2).ids)],
            }
        )
        response = self.url_open(self.path)
        self.assertIn("o_collections_promises", response.text)
        self.assertIn("o_collections_disputes", response.text)
        self.assertIn("Promised", response.text)
        self.assertIn("Disputed", response.text)

    def test_bank_transfer_instructions(self):
        self.assertNotIn("o_collections_bank_transfer", self.url_open(self.path).text, "no account, no instructions")
        bank = self.env["res.bank"].create({"name": "BBVA México", "bic": "BCMRMXMM"})
        account = self.env["res.partner.bank"].create(
            {"acc_number": "012180001234567891", "partner_id": self.company.partner_id.id, "bank_id": bank.id}
        )
        self.company_data["default_journal_bank"].bank_account_id = account
        response = self.url_open(self.path)
        card = response.text.split("o_collections_bank_transfer", 1)[1].split("o_collections_promise", 1)[0]
        for text in ("BBVA México", "012180001234567891", "BCMRMXMM", self.company.name):
            self.assertIn(text, card)
        references = card.split("o_collections_transfer_references", 1)[1]
        for invoice in self.invoice_1 | self.invoice_2 | self.invoice_future:
            self.assertTrue(invoice.payment_reference)
            self.assertIn(invoice.payment_reference, references)
        self.assertNotIn(self.invoice_b.name, references)
        # In the customer's language.
        self.env["res.lang"]._activate_lang("es_ES")
        self.env["ir.module.module"]._load_module_terms(["collections_portal"], ["es_ES"], overwrite=True)
        spanish = self.url_open(self.path, cookies={"frontend_lang": "es_ES"})
        self.assertIn("Pagar por transferencia bancaria", spanish.text)
        self.assertIn("Referencia a indicar", spanish.text)

import io
import re

from odoo.tests import TransactionCase, tagged
from odoo.tools.pdf import PdfFileReader

from .common import CollectionsPortalCommon


@tagged("post_install", "-at_install")
class TestStatementPrint(CollectionsPortalCommon, TransactionCase):
    """The statement printed from the customer form: the company's header and bank account in the
    page itself (Debian's wkhtmltopdf renders no separate header), the customer's credits and the
    net amount due."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company.write({"street": "Paseo de la Reforma 505", "city": "Ciudad de México", "vat": "EKU9003173C9"})
        bank = cls.env["res.bank"].create({"name": "Banco Ejemplo"})
        cls.bank_account = cls.env["res.partner.bank"].create(
            {
                "acc_number": "002180700012345678",
                "partner_id": cls.company.partner_id.id,
                "bank_id": bank.id,
                "company_id": cls.company.id,
            }
        )
        cls.company_data["default_journal_bank"].bank_account_id = cls.bank_account
        payment = cls.env["account.payment"].create(
            {
                "payment_type": "inbound",
                "partner_type": "customer",
                "partner_id": cls.customer.id,
                "amount": 250.0,
                "date": cls.today,
                "journal_id": cls.company_data["default_journal_bank"].id,
            }
        )
        payment.action_post()

    def _text(self, html):
        return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)).replace("\xa0", " ")

    def test_statement_shows_header_bank_account_credits_and_net(self):
        report = self.env.ref("collections_portal.action_report_collection_statement")
        html = self.env["ir.actions.report"]._render_qweb_html(report, self.customer.ids)[0].decode()
        text = self._text(html)
        for expected in (
            self.company.name,
            "Paseo de la Reforma 505",
            "EKU9003173C9",
            "Banco Ejemplo",
            "002180700012345678",
            "Credits in your favour",
            "Net amount due",
            "1,800.00",  # due
            "250.00",  # credit
            "1,550.00",  # net
        ):
            self.assertIn(expected, text)
        self.assertNotIn('class="header', html)

    def test_statement_pdf_through_wkhtmltopdf(self):
        pdf, kind = (
            self.env["ir.actions.report"]
            .with_context(force_report_rendering=True)
            ._render_qweb_pdf("collections_portal.action_report_collection_statement", self.customer.ids)
        )
        self.assertEqual(kind, "pdf")
        text = " ".join(" ".join(page.extract_text() for page in PdfFileReader(io.BytesIO(pdf)).pages).split())
        for expected in (self.company.name, "Paseo de la Reforma 505", "002180700012345678", "1,550.00"):
            self.assertIn(expected, text)

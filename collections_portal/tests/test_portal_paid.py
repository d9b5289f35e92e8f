from datetime import timedelta

from odoo.tests import HttpCase, new_test_user, tagged

from .common import CollectionsPortalCommon

PDF = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" * 50


@tagged("post_install", "-at_install")
class TestPortalAlreadyPaid(CollectionsPortalCommon, HttpCase):
    """An "I already paid" on the customer's page: the real multipart form, one payment to verify,
    the invoices shown as being verified and left out of reminders; bad input changes nothing."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.collector = new_test_user(
            cls.env(su=True),
            login="collector_paid",
            name="Lucía Cobranza",
            email="lucia@cobranza.example.com",
            phone="+52 55 1234 0000",
            company_id=cls.company.id,
            groups="collections_management.collections_management_group_collector",
        )
        cls.case = cls.env["collection.case"].create(
            {"partner_id": cls.customer.id, "company_id": cls.company.id, "user_id": cls.collector.id}
        )

    def _claims(self, partner=None):
        return self.env["collection.payment.claim"].search([("partner_id", "=", (partner or self.customer).id)])

    def _paid(self, invoices, proof=("transfer.pdf", PDF, "application/pdf"), path=None, **data):
        values = {
            "invoice_ids": [str(invoice.id) for invoice in invoices],
            "payment_date": str(self.today - timedelta(days=1)),
            "reference": "SPEI 7781",
            **data,
        }
        return self._post(f"{path or self.path}/paid", values, path=path, files={"proof": proof} if proof else None)

    def _assert_refused(self, response, message):
        self.assertEqual(response.status_code, 400)
        self.assertIn("o_collections_error", response.text)
        self.assertIn(message, response.text)

    def test_proof_from_the_page_pauses_the_invoice(self):
        page = self.url_open(self.path)
        self.assertIn("o_collections_paid_form", page.text)
        self.assertIn("Lucía Cobranza", page.text, "the page says whom to contact")
        self.assertIn("lucia@cobranza.example.com", page.text)
        response = self._paid(self.invoice_1, amount="1000", reference="<script>alert(1)</script>")
        self.assertEqual(response.status_code, 303)
        self.assertIn("message=paid", response.headers["Location"])
        claim = self._claims()
        self.assertRecordValues(
            claim,
            [
                {
                    "source": "portal",
                    "state": "to_verify",
                    "case_id": self.case.id,
                    "user_id": self.collector.id,
                    "amount": 1000.0,
                    "payment_date": self.today - timedelta(days=1),
                    "reference": "<script>alert(1)</script>",
                }
            ],
        )
        self.assertEqual(claim.line_ids, self._instalments(self.invoice_1))
        self.assertRecordValues(claim.attachment_ids, [{"name": "transfer.pdf", "mimetype": "application/pdf"}])
        self.assertEqual(claim.attachment_ids.with_user(self.collector).raw, PDF)
        self.assertRecordValues(claim.activity_ids, [{"summary": "Verify payment proof", "user_id": self.collector.id}])
        self.assertNotIn("<script>alert(1)</script>", str(claim.activity_ids.note), "what the customer typed is text")
        log = self._portal_communications().filtered(lambda c: c.subject.startswith("I already paid"))
        self.assertEqual(log.line_ids, self._instalments(self.invoice_1))
        page = self.url_open(f"{self.path}?message=paid")
        self.assertIn("we received your proof of payment", page.text)
        self.assertEqual(page.text.count("o_collections_claimed"), 1, "the claimed invoice is being verified")
        # The next reminder leaves the invoice out while it is verified.
        self._run()
        email = self._communications(channel="email")
        self.assertEqual(email.line_ids, self._instalments(self.invoice_2))

    def test_too_big_or_wrong_files_are_refused(self):
        self._assert_refused(
            self._paid(self.invoice_1, proof=("big.pdf", PDF + b"0" * (5 * 1024 * 1024), "application/pdf")),
            "too large",
        )
        self._assert_refused(
            self._paid(self.invoice_1, proof=("invoice.pdf", EXE, "application/pdf")), "PDF or an image"
        )
        self._assert_refused(self._paid(self.invoice_1, proof=None), "Attach the proof")
        self._assert_refused(self._paid(self.invoice_1, payment_date="yesterday"), "date is not valid")
        self._assert_refused(self._paid(self.env["account.move"]), "Choose the invoices")
        self.assertFalse(self._claims())
        self.assertFalse(self.env["ir.attachment"].search([("res_model", "=", "collection.payment.claim")]))

    def test_invoices_of_another_customer_are_refused(self):
        self._assert_refused(self._paid(self.invoice_b), "not yours")
        self._assert_refused(self._paid(self.invoice_1 + self.invoice_b), "not yours")
        self._assert_refused(self._paid(self.invoice_1, path=self.path_b), "not yours")
        self.assertFalse(self._claims() | self._claims(self.customer_b))
        self.assertFalse(self._portal_communications().filtered(lambda c: c.subject.startswith("I already paid")))

    def test_paid_invoice_is_refused(self):
        self._register_payment(self.invoice_2)
        self._assert_refused(self._paid(self.invoice_2), "nothing left to pay")
        self.assertFalse(self._claims())

    def test_without_a_collector_the_page_gives_the_company_contact(self):
        self.company.write({"email": "cobranza@empresa.example.com", "phone": "+52 55 5555 0000"})
        page = self.url_open(self.path_b)
        contact = page.text[page.text.index('id="o_collections_contact"') :][:800]
        self.assertIn(self.company.name, contact)
        self.assertIn("cobranza@empresa.example.com", contact)
        self.assertNotIn("Lucía Cobranza", contact)

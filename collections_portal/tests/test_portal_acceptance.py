import re
from datetime import timedelta

from odoo import Command
from odoo.tests import HttpCase, JsonRpcException, new_test_user, tagged

from .common import CollectionsPortalCommon

FORMS = ("/statement", "/pay", "/promise", "/plan", "/dispute", "/paid")
PDF = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"


@tagged("post_install", "-at_install")
class TestPortalCustomerAcceptance(CollectionsPortalCommon, HttpCase):
    """Role by role, the customer: whoever holds the signed link of a reminder, and the customer's
    own portal user. Every page, form and button of /collections and /my/collections works, or is
    refused by design (another customer's invoices, the back office, the models)."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.reason = cls.env["collection.dispute.reason"].create({"name": "Goods not received"})
        contact = cls.env["res.partner"].create(
            {"name": "Lucía Cuentas", "parent_id": cls.customer.id, "email": "lucia@abarrotes.example.com"}
        )
        cls.portal_user = new_test_user(
            cls.env(su=True),
            login="acceptance_portal",
            password="acceptance_portal",
            groups="base.group_portal",
            partner_id=contact.id,
            company_id=cls.company.id,
            company_ids=[Command.set(cls.company.ids)],
        )

    def _page_forms(self, html):
        return set(re.findall(r'(?:action|href)="/collections/[^/"]+(/[a-z]+)"', html))

    def _walk_the_page(self, page_path):
        """Open the page at ``page_path``, then use every form and button it offers, through the
        routes it points to. Returns the base path of those routes."""
        page = self.url_open(page_path)
        self.assertEqual(page.status_code, 200, page.text[-2000:])
        self.assertIn(self.invoice_1.name, page.text)
        self.assertNotIn(self.invoice_b.name, page.text)
        self.assertEqual(self._page_forms(page.text), set(FORMS), "statement, pay, promise, plan, dispute, paid")
        base_path = re.search(r'action="(/collections/[^/"]+)/promise"', page.text).group(1)
        # Statement of account.
        statement = self.url_open(f"{base_path}/statement")
        self.assertEqual(statement.status_code, 200)
        self.assertIn(self.invoice_2.name, statement.text)
        self.assertNotIn(self.invoice_b.name, statement.text)
        # Pay the selection, and "pay everything overdue".
        selection = "&".join(f"invoice_ids={invoice.id}" for invoice in self.invoice_1 | self.invoice_2)
        pay = self.url_open(f"{base_path}/pay?{selection}")
        self.assertEqual(pay.status_code, 200)
        self.assertIn('data-amount="1500.0"', pay.text)
        overdue = self.url_open(f"{base_path}/pay?{selection}&invoice_ids={self.invoice_future.id}&mode=overdue")
        self.assertIn('data-amount="1500.0"', overdue.text)
        # Promise to pay: refused while too large, then made.
        csrf = self._csrf(page_path)
        refused = self.url_open(
            f"{base_path}/promise", data={"date": str(self.today), "amount": "99999", "csrf_token": csrf}
        )
        self.assertEqual(refused.status_code, 400)
        self.assertIn("more than what is overdue", refused.text)
        made = self.url_open(
            f"{base_path}/promise",
            data={"date": str(self.today + timedelta(days=5)), "amount": "1500", "csrf_token": csrf},
            allow_redirects=False,
        )
        self.assertEqual(made.status_code, 303)
        self.assertIn("message=promise", made.headers["Location"])
        # A plan while a promise is under way: refused by the promise's rule.
        plan = self.url_open(
            f"{base_path}/plan",
            data=[
                ("plan_date", str(self.today + timedelta(days=10))),
                ("plan_amount", "100"),
                ("plan_date", str(self.today + timedelta(days=20))),
                ("plan_amount", "100"),
                ("csrf_token", csrf),
            ],
        )
        self.assertEqual(plan.status_code, 400)
        self.assertIn("already under way", plan.text)
        # Dispute an invoice.
        dispute = self.url_open(
            f"{base_path}/dispute",
            data={
                "invoice_id": str(self.invoice_2.id),
                "reason_id": str(self.reason.id),
                "comment": "Wrong quantity",
                "csrf_token": csrf,
            },
            allow_redirects=False,
        )
        self.assertEqual(dispute.status_code, 303)
        # "I already paid" with its proof: a payment to verify; another customer's invoice is refused.
        paid = self.url_open(
            f"{base_path}/paid",
            data={"invoice_ids": str(self.invoice_1.id), "payment_date": str(self.today), "csrf_token": csrf},
            files={"proof": ("spei.pdf", PDF, "application/pdf")},
            allow_redirects=False,
        )
        self.assertEqual(paid.status_code, 303)
        refused = self.url_open(
            f"{base_path}/paid",
            data={"invoice_ids": str(self.invoice_b.id), "payment_date": str(self.today), "csrf_token": csrf},
            files={"proof": ("spei.pdf", PDF, "application/pdf")},
        )
        self.assertEqual(refused.status_code, 400)
        self.assertIn("not yours", refused.text)
        # Another customer's invoice: not found, on every form.
        self.assertEqual(self.url_open(f"{base_path}/pay?invoice_ids={self.invoice_b.id}").status_code, 404)
        other = self.url_open(
            f"{base_path}/dispute",
            data={"invoice_id": str(self.invoice_b.id), "reason_id": str(self.reason.id), "comment": "x"},
        )
        self.assertEqual(other.status_code, 400, "no CSRF token: refused before anything")
        other = self.url_open(
            f"{base_path}/dispute",
            data={
                "invoice_id": str(self.invoice_b.id),
                "reason_id": str(self.reason.id),
                "comment": "x",
                "csrf_token": csrf,
            },
        )
        self.assertEqual(other.status_code, 404)
        # What was recorded: exactly what the customer did.
        self.assertRecordValues(
            self.env["collection.promise"].search([("partner_id", "=", self.customer.id)]),
            [{"state": "open", "amount": 1500.0, "channel": "portal"}],
        )
        self.assertRecordValues(
            self.env["collection.dispute"].search([("partner_id", "=", self.customer.id)]),
            [{"state": "open", "description": "Wrong quantity"}],
        )
        self.assertFalse(self.env["collection.dispute"].search([("partner_id", "=", self.customer_b.id)]))
        claim = self.env["collection.payment.claim"].search([("partner_id", "=", self.customer.id)])
        self.assertRecordValues(claim, [{"state": "to_verify", "source": "portal"}])
        self.assertEqual(claim.line_ids.move_id, self.invoice_1)
        self.assertFalse(self.env["collection.payment.claim"].search([("partner_id", "=", self.customer_b.id)]))
        return base_path

    def _pay_and_confirm(self, base_path):
        link = self.env["collection.portal.link"]._get_by_token(base_path.rsplit("/", 1)[1])
        payment = self._payment_values((self.invoice_1 | self.invoice_2).ids, link=link)
        values = self._jsonrpc(
            f"{base_path}/transaction/{payment['selection']}",
            {
                "provider_id": self.provider.id,
                "payment_method_id": self.env.ref("payment_demo.payment_method_demo").id,
                "token_id": None,
                "amount": payment["amount"],
                "flow": "direct",
                "tokenization_requested": False,
                "landing_route": f"{base_path}/confirmation",
                "is_validation": False,
                "access_token": payment["access_token"],
            },
        )
        transaction = self.env["payment.transaction"].sudo().search([("reference", "=", values["reference"])])
        transaction._process(
            "demo", {"reference": transaction.reference, "simulated_state": "done", "payment_details": "4242"}
        )
        transaction._post_process()
        confirmation = self.url_open(transaction.landing_route)
        self.assertEqual(confirmation.status_code, 200)
        self.assertIn("o_collections_paid", confirmation.text)
        self.assertEqual(self.invoice_1.amount_residual, 0.0)

    def _assert_models_are_closed(self):
        """Over JSON-RPC, the customer reaches none of the collections models."""
        for model in (
            "collection.portal.link",
            "collection.case",
            "collection.promise",
            "collection.dispute",
            "collection.payment.claim",
            "collection.communication",
        ):
            with self.assertRaises(JsonRpcException, msg=model):
                self._jsonrpc(
                    "/web/dataset/call_kw",
                    {"model": model, "method": "search_read", "args": [[], ["id"]], "kwargs": {}},
                )

    def test_link_holder_uses_every_form(self):
        self._require_demo_provider()
        base_path = self._walk_the_page(self.path)
        self.assertEqual(base_path, self.path)
        self._pay_and_confirm(base_path)
        self._assert_models_are_closed()
        # The back office is not for them.
        backend = self.url_open("/odoo/action-collections_management.collection_case_action", allow_redirects=False)
        self.assertIn(backend.status_code, (302, 303))
        self.assertIn("/web/login", backend.headers["Location"])

    def test_portal_user_uses_every_form_from_my_account(self):
        self._require_demo_provider()
        self.authenticate("acceptance_portal", "acceptance_portal")
        home = self.url_open("/my/home")
        self.assertIn("/my/collections", home.text)
        counters = self._jsonrpc("/my/counters", {"counters": ["collection_overdue_count"]})
        self.assertEqual(counters["collection_overdue_count"], 2)
        base_path = self._walk_the_page("/my/collections")
        link = self.env["collection.portal.link"]._get_by_token(base_path.rsplit("/", 1)[1])
        self.assertEqual(link.partner_id, self.portal_user.partner_id, "the user's own link")
        self._pay_and_confirm(base_path)
        self._assert_models_are_closed()
        # The back-office statement of another customer is refused too.
        report = self.url_open(f"/report/html/collections_portal.report_collection_statement/{self.customer_b.id}")
        self.assertNotEqual(report.status_code, 200)
        self.assertNotIn(self.invoice_b.name, report.text)

    def test_revoked_link_refuses_every_route(self):
        csrf = self._csrf(self.path_b)
        self.link.action_revoke()
        for route in ("", "/statement", f"/pay?invoice_ids={self.invoice_1.id}", "/confirmation?tx_id=1&tx_token=x"):
            response = self.url_open(f"{self.path}{route}")
            self.assertEqual(response.status_code, 404, route)
            self.assertNotIn(self.invoice_1.name, response.text)
        for route, data in (
            ("/promise", {"date": str(self.today), "amount": "100"}),
            ("/plan", {"plan_date": str(self.today), "plan_amount": "100"}),
            ("/dispute", {"invoice_id": str(self.invoice_1.id), "comment": "x"}),
        ):
            response = self.url_open(f"{self.path}{route}", data=dict(data, csrf_token=csrf))
            self.assertEqual(response.status_code, 404, route)
        self.assertFalse(self.env["collection.promise"].search([("partner_id", "=", self.customer.id)]))
        self.assertFalse(self.env["collection.dispute"].search([("partner_id", "=", self.customer.id)]))

    def test_refusal_is_in_the_customers_language(self):
        self.env["res.lang"]._activate_lang("es_ES")
        self.env["ir.module.module"]._load_module_terms(
            ["collections_management", "collections_portal"], ["es_ES"], overwrite=True
        )
        self.customer.lang = "es_ES"
        csrf = self._csrf()
        response = self.url_open(
            f"{self.path}/promise",
            data={"date": str(self.today), "amount": "99999", "csrf_token": csrf},
            cookies={"frontend_lang": "es_ES"},
        )
        self.assertEqual(response.status_code, 400)
        error = response.text.split("o_collections_error", 1)[-1][:400]
        self.assertIn("El importe prometido no puede ser mayor que lo vencido", error)
        self.assertFalse(self.env["collection.promise"].search([("partner_id", "=", self.customer.id)]))

import html
import re

from odoo.tests import HttpCase, JsonRpcException, new_test_user, tagged

from .common import CollectionsPortalCommon


@tagged("post_install", "-at_install")
class TestPortalReview(CollectionsPortalCommon, HttpCase):
    """Regressions of the review: saved payment methods, "pay everything overdue" without partial
    payments, ids out of range, and what counts as open."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.demo_method = cls.env["payment.method"]
        if cls.provider:
            cls.demo_method = cls.env.ref("payment_demo.payment_method_demo")
            cls.provider.allow_tokenization = True
            cls.saved_card = cls.env["payment.token"].create(
                {
                    "provider_id": cls.provider.id,
                    "payment_method_id": cls.demo_method.id,
                    "partner_id": cls.customer.id,
                    "provider_ref": "collections-saved-card",
                    "payment_details": "4242",
                    "demo_simulated_state": "done",
                }
            )
        cls.reason = cls.env["collection.dispute.reason"].create({"name": "Goods not received"})

    # Helpers -------------------------------------------------------------------

    def _transactions(self):
        return self.env["payment.transaction"].sudo().search([("collection_portal_link_id", "!=", False)])

    def _tokens(self):
        return (
            self.env["payment.token"]
            .sudo()
            .with_context(active_test=False)
            .search([("partner_id", "child_of", self.customer.id)])
        )

    def _transaction(self, payment, path=None, route=None, **overrides):
        params = {
            "provider_id": self.provider.id,
            "payment_method_id": self.demo_method.id,
            "token_id": None,
            "amount": payment["amount"],
            "flow": "direct",
            "tokenization_requested": False,
            "landing_route": f"{path or self.path}/confirmation",
            "is_validation": False,
            "access_token": payment["access_token"],
        }
        params.update(overrides)
        route = route or f"{path or self.path}/transaction/{payment['selection']}"
        return self._jsonrpc(route, params)

    def _pay_with_saved_card(self, payment, **overrides):
        return self._transaction(
            payment,
            **{
                "flow": "token",
                "token_id": self.saved_card.id,
                "payment_method_id": None,
                **overrides,
            },
        )

    def _customer_portal_user(self):
        contact = self.env["res.partner"].create(
            {
                "name": "Lucía Cuentas",
                "parent_id": self.customer.id,
                "email": "lucia@abarrotes.example.com",
            }
        )
        return new_test_user(
            self.env(su=True),
            login="abarrotes_portal",
            password="abarrotes_portal",
            groups="base.group_portal",
            partner_id=contact.id,
        )

    def _assert_json_error(self, message, call, *args, **kwargs):
        with self.assertRaises(JsonRpcException) as context:
            call(*args, **kwargs)
        self.assertIn(message, str(context.exception))

    # 1. Saved payment methods are the customer's -------------------------------------

    def test_link_holder_cannot_pay_with_the_customers_saved_card(self):
        self._require_demo_provider()
        payment = self._payment_values(self.invoice_1.ids)
        self._assert_json_error("Saved payment methods", self._pay_with_saved_card, payment)
        self.assertFalse(self._transactions())
        self.assertRecordValues(self.invoice_1, [{"amount_residual": 1000.0, "payment_state": "not_paid"}])
        # The payment page does not offer it either.
        response = self.url_open(f"{self.path}/pay?invoice_ids={self.invoice_1.id}")
        self.assertEqual(response.status_code, 200)
        self.assertNotIn(f"o_payment_token_{self.saved_card.id}", response.text)

    def test_another_logged_in_user_cannot_pay_with_the_customers_saved_card(self):
        self._require_demo_provider()
        payment = self._payment_values(self.invoice_1.ids)
        self.authenticate("admin", "admin")
        self._assert_json_error("Saved payment methods", self._pay_with_saved_card, payment)
        self.assertFalse(self._transactions())
        self.assertRecordValues(self.invoice_1, [{"amount_residual": 1000.0, "payment_state": "not_paid"}])

    def test_link_holder_cannot_save_a_card_for_the_customer(self):
        self._require_demo_provider()
        tokens = self._tokens()
        payment = self._payment_values(self.invoice_1.ids)
        values = self._transaction(payment, tokenization_requested=True)
        transaction = self._transactions()
        self.assertEqual(transaction.reference, values["reference"])
        self.assertFalse(transaction.tokenize)
        transaction._process(
            "demo", {"reference": transaction.reference, "simulated_state": "done", "payment_details": "1111"}
        )
        self.assertEqual(transaction.state, "done")
        self.assertEqual(self._tokens(), tokens, "no card is saved on the customer")

    def test_unknown_flow_is_refused(self):
        self._require_demo_provider()
        payment = self._payment_values(self.invoice_1.ids)
        self._assert_json_error("payment method is not valid", self._transaction, payment, flow="validation")
        self.assertFalse(self._transactions())

    def test_customers_own_user_pays_with_the_saved_card(self):
        self._require_demo_provider()
        self._customer_portal_user()
        self.authenticate("abarrotes_portal", "abarrotes_portal")
        payment = self._payment_values(self.invoice_1.ids)
        values = self._pay_with_saved_card(payment)
        transaction = self._transactions()
        self.assertEqual(transaction.reference, values["reference"])
        self.assertRecordValues(transaction, [{"token_id": self.saved_card.id, "amount": 1000.0}])
        # And may save a new one.
        payment = self._payment_values(self.invoice_2.ids)
        values = self._transaction(payment, tokenization_requested=True)
        self.assertTrue(self._transactions().filtered(lambda tx: tx.reference == values["reference"]).tokenize)

    # 2. "Pay everything overdue" when partial payments are off -------------------------

    def test_pay_everything_overdue_of_a_split_invoice_without_partial_payments(self):
        self._require_demo_provider()
        self.company.collection_portal_partial_payment = False
        customer = self.env["res.partner"].create({"name": "Ferretería Guanajuato", "is_company": True})
        invoice = self._invoice_in_two_instalments(customer, 1000.0, days_since_invoice=10)
        instalments = self._instalments(invoice).sorted("date_maturity")
        self.assertTrue(instalments[0].date_maturity < self.today < instalments[1].date_maturity)
        link = self.env["collection.portal.link"]._get_link(customer, self.company)
        path = f"/collections/{link.token}"
        # The page offers to pay the overdue half; the payment page signs 500 "overdue".
        page = self.url_open(path)
        self.assertIn('name="mode" value="overdue"', page.text)
        response = self.url_open(f"{path}/pay?mode=overdue&invoice_ids={invoice.id}")
        self.assertEqual(response.status_code, 200)
        form = {
            name: html.unescape(re.search(rf'data-{name}="([^"]*)"', response.text).group(1))
            for name in ("amount", "transaction-route", "access-token")
        }
        self.assertEqual(float(form["amount"]), 500.0)
        self.assertEqual(form["transaction-route"], f"{path}/transaction/{invoice.id}/overdue")
        payment = {"amount": 500.0, "access_token": form["access-token"], "selection": str(invoice.id)}
        # The signature holds the mode: the same amount "for the selection" is refused.
        with self.assertRaises(JsonRpcException):
            self._transaction(payment, path=path)
        with self.assertRaises(JsonRpcException):
            self._transaction(payment, path=path, route=f"{path}/transaction/{invoice.id}/selection")
        self.assertFalse(self._transactions())
        # The genuine one goes through and pays the overdue half.
        values = self._transaction(payment, path=path, route=form["transaction-route"])
        transaction = self._transactions()
        self.assertRecordValues(
            transaction,
            [
                {
                    "reference": values["reference"],
                    "amount": 500.0,
                    "collection_portal_link_id": link.id,
                }
            ],
        )
        self.assertEqual(transaction.invoice_ids, invoice)
        transaction._process(
            "demo", {"reference": transaction.reference, "simulated_state": "done", "payment_details": "4242"}
        )
        transaction._post_process()
        self.assertRecordValues(invoice, [{"amount_residual": 500.0, "payment_state": "partial"}])
        summary = customer._collection_summary(self.company)
        self.assertEqual(summary["overdue_company"], 0.0)
        self.assertEqual(summary["due_company"], 500.0)

    # 3. Ids out of range -------------------------------------------------------------------

    def test_oversized_ids_are_refused_cleanly(self):
        self._require_demo_provider()
        self._transaction(self._payment_values(self.invoice_1.ids))
        transaction = self._transactions()
        token = transaction._collection_transaction_token(self.link)
        for tx_id in (2**31, 2**63, 10**30, -1, 0, "1e3", "1_0", " "):
            response = self.url_open(f"{self.path}/confirmation?tx_id={tx_id}&tx_token={token}")
            self.assertEqual(response.status_code, 404, tx_id)
        self.assertEqual(
            self.url_open(f"{self.path}/confirmation?tx_id={transaction.id}&tx_token={token}").status_code, 200
        )
        # Invoice ids of the payment page and the transaction route.
        for invoice_id in (2**31, 10**30, "0x10", "١"):
            response = self.url_open(f"{self.path}/pay?invoice_ids={invoice_id}")
            self.assertEqual(response.status_code, 400, invoice_id)
            self.assertIn("o_collections_error", response.text)
        self.assertEqual(self.url_open(f"{self.path}/pay?invoice_ids={2**31 - 1}").status_code, 404)
        payment = self._payment_values(self.invoice_1.ids)
        for selection in (str(2**31), f"{self.invoice_1.id},{10**30}"):
            with self.assertRaises(JsonRpcException):
                self._transaction(payment, route=f"{self.path}/transaction/{selection}")
        self.assertEqual(self._transactions(), transaction)
        self.assertEqual(self.invoice_1.transaction_ids, transaction)

    def test_oversized_dispute_ids_are_refused_cleanly(self):
        cases = [
            {"invoice_id": str(2**31), "reason_id": str(self.reason.id)},
            {"invoice_id": str(10**30), "reason_id": str(self.reason.id)},
            {"invoice_id": str(self.invoice_1.id), "reason_id": str(2**31)},
            {"invoice_id": str(self.invoice_1.id), "reason_id": str(10**30)},
            {"invoice_id": str(self.invoice_1.id), "reason_id": "-3"},
        ]
        for data in cases:
            response = self._post(f"{self.path}/dispute", dict(data, comment="Never arrived"))
            self.assertEqual(response.status_code, 400, data)
            self.assertIn("o_collections_error", response.text)
        self.assertFalse(self.env["collection.dispute"].search([("partner_id", "=", self.customer.id)]))
        self.assertFalse(self._portal_communications().filtered(lambda c: c.subject.startswith("Dispute")))

    def test_oversized_company_id_on_my_collections(self):
        self._customer_portal_user()
        self.authenticate("abarrotes_portal", "abarrotes_portal")
        for company_id in (2**31, 10**30, -1, "x"):
            response = self.url_open(f"/my/collections?company_id={company_id}")
            self.assertEqual(response.status_code, 200, company_id)
            self.assertIn(self.invoice_1.name, response.text)

    # 4. What is open: as the engine sees it ------------------------------------------------

    def _set_payment_state(self, invoice, state):
        invoice.write({"payment_state": state})
        self.assertEqual(invoice.payment_state, state)

    def test_invoice_in_payment_is_settled_on_the_page(self):
        self._set_payment_state(self.invoice_2, "in_payment")
        summary = self.customer._collection_summary(self.company)
        self.assertEqual(summary["lines"], self._instalments(self.invoice_1 | self.invoice_future))
        self.assertEqual(summary["overdue_company"], 1000.0)
        self.assertNotIn(self.invoice_2.name, self.url_open(self.path).text)
        # No promise on it: more than the overdue left is refused, nothing is created.
        response = self._post(f"{self.path}/promise", {"date": str(self.today), "amount": "1500"})
        self.assertEqual(response.status_code, 400)
        self.assertIn("more than what is overdue", response.text)
        self.assertFalse(self.env["collection.promise"].search([("partner_id", "=", self.customer.id)]))
        # A promise covers the other invoice only.
        response = self._post(f"{self.path}/promise", {"date": str(self.today), "amount": "1000"})
        self.assertEqual(response.status_code, 303)
        promise = self.env["collection.promise"].search([("partner_id", "=", self.customer.id)])
        self.assertEqual(promise.line_ids, self._instalments(self.invoice_1))
        # No dispute nor payment either.
        response = self._post(
            f"{self.path}/dispute",
            {
                "invoice_id": str(self.invoice_2.id),
                "reason_id": str(self.reason.id),
                "comment": "Wrong price",
            },
        )
        self.assertEqual(response.status_code, 400)
        self.assertIn("nothing to dispute", response.text)
        self.assertFalse(self.env["collection.dispute"].search([("partner_id", "=", self.customer.id)]))
        response = self.url_open(f"{self.path}/pay?invoice_ids={self.invoice_2.id}")
        self.assertEqual(response.status_code, 400)
        self.assertIn("cannot be paid online", response.text)
        self.assertFalse(self._transactions())
        self.assertEqual(self.env["collection.portal.link"]._get_overdue_count(self._customer_portal_user()), 1)

    def test_blocked_invoice_is_still_open(self):
        """The engine still reminds a blocked invoice: the page still shows it as owed."""
        self._set_payment_state(self.invoice_2, "blocked")
        summary = self.customer._collection_summary(self.company)
        self.assertEqual(summary["overdue_company"], 1500.0)
        invoice_2 = next(doc for doc in summary["invoices"] if doc["move"] == self.invoice_2)
        self.assertTrue(invoice_2["payable"])
        self.assertIn(self.invoice_2.id, summary["totals"][0]["overdue_invoice_ids"])
        self.assertEqual(self.env["collection.portal.link"]._get_overdue_count(self._customer_portal_user()), 2)
        self.assertEqual(self._payment_values(self.invoice_2.ids)["amount"], 500.0)

from odoo.exceptions import UserError
from odoo.tests import HttpCase, JsonRpcException, tagged

from .common import CollectionsPortalCommon


@tagged("post_install", "-at_install")
class TestPortalPayment(CollectionsPortalCommon, HttpCase):
    """Paying several invoices at once: the server computes the amount from the chosen invoices;
    the payment is reconciled with exactly those invoices; tampering is refused."""

    def _pay_page(self, invoices, path=None, **params):
        query = "&".join(f"invoice_ids={invoice_id}" for invoice_id in invoices.ids)
        extra = "".join(f"&{key}={value}" for key, value in params.items())
        return self.url_open(f"{path or self.path}/pay?{query}{extra}")

    def _payment(self, invoices, amount=None, mode=None):
        return self._payment_values(invoices.ids, amount=amount, mode=mode)

    def _transaction_params(self, payment, **overrides):
        params = {
            "provider_id": self.provider.id,
            "payment_method_id": self.env.ref("payment_demo.payment_method_demo").id,
            "token_id": None,
            "amount": payment["amount"],
            "flow": "direct",
            "tokenization_requested": False,
            "landing_route": f"{self.path}/confirmation",
            "is_validation": False,
            "access_token": payment["access_token"],
        }
        params.update(overrides)
        return params

    def _transaction(self, payment, path=None, selection=None, **overrides):
        route = f"{path or self.path}/transaction/{selection or payment['selection']}"
        return self.make_jsonrpc_request(route, self._transaction_params(payment, **overrides))

    def _get_tx(self, reference):
        return self.env["payment.transaction"].sudo().search([("reference", "=", reference)])

    def _transactions(self):
        return self.env["payment.transaction"].sudo().search([("collection_portal_link_id", "!=", False)])

    # The payment page ------------------------------------------------------

    def test_pay_page_computes_the_amount_on_the_server(self):
        self._require_demo_provider()
        response = self._pay_page(self.invoice_1 | self.invoice_2)
        self.assertEqual(response.status_code, 200)
        self.assertIn('data-amount="1500.0"', response.text)
        self.assertIn(f"/transaction/{self.invoice_2.id},{self.invoice_1.id}", response.text)
        self.assertIn("o_payment_form", response.text)

    def test_pay_everything_overdue(self):
        payment = self._payment(self.invoice_1 | self.invoice_2 | self.invoice_future, mode="overdue")
        self.assertEqual(payment["amount"], 1500.0)
        self.assertEqual(payment["total"], 1800.0)
        response = self.url_open(self.path)
        self.assertIn('name="mode" value="overdue"', response.text)

    def test_other_customers_invoice_is_refused(self):
        response = self._pay_page(self.invoice_1 | self.invoice_b)
        self.assertEqual(response.status_code, 404)
        response = self._pay_page(self.invoice_b)
        self.assertEqual(response.status_code, 404)
        # A token of customer A on customer B's invoices, and the reverse.
        response = self._pay_page(self.invoice_1, path=self.path_b)
        self.assertEqual(response.status_code, 404)

    def test_malformed_selection_is_refused(self):
        for query in ("invoice_ids=abc", "invoice_ids=-4", "invoice_ids=99999999999", ""):
            response = self.url_open(f"{self.path}/pay?{query}")
            self.assertEqual(response.status_code, 400, query)
            self.assertIn("o_collections_error", response.text)

    def test_mixed_currencies_are_refused(self):
        eur = self.setup_other_currency("EUR")
        invoice_eur = self._invoice(self.customer, 80.0, 10, currency=eur)
        response = self._pay_page(self.invoice_1 | invoice_eur)
        self.assertEqual(response.status_code, 400)
        self.assertIn("different currencies", response.text)

    def test_paid_invoice_cannot_be_paid_again(self):
        self.env["account.payment.register"].with_context(
            active_model="account.move", active_ids=self.invoice_1.ids
        ).create({})._create_payments()
        response = self._pay_page(self.invoice_1)
        self.assertEqual(response.status_code, 400)
        self.assertIn("cannot be paid online", response.text)

    def test_partial_amount(self):
        payment = self._payment(self.invoice_1, amount="400")
        self.assertEqual(payment["amount"], 400.0)
        with self.assertRaisesRegex(UserError, "cannot be more"):
            self._payment(self.invoice_1, amount="1000.01")
        for amount in ("0", "-5", "abc", "1e400", "nan", "1" * 30):
            with self.assertRaises(UserError, msg=amount):
                self._payment(self.invoice_1, amount=amount)
        self.company.collection_portal_partial_payment = False
        with self.assertRaisesRegex(UserError, "Partial payments are not accepted"):
            self._payment(self.invoice_1, amount="400")

    # The transaction route ---------------------------------------------------

    def test_tampered_amount_is_refused(self):
        self._require_demo_provider()
        payment = self._payment(self.invoice_1 | self.invoice_2)
        with self.assertRaises(JsonRpcException):
            self._transaction(payment, amount=1.0)
        # Even with a signature of its own: a signature is only valid for its amount.
        other = self._payment(self.invoice_1 | self.invoice_2, amount="10")
        with self.assertRaises(JsonRpcException):
            self._transaction(payment, access_token=other["access_token"])
        self.assertFalse(self._transactions())

    def test_tampered_invoices_are_refused(self):
        self._require_demo_provider()
        payment = self._payment(self.invoice_1)
        with self.assertRaises(JsonRpcException):
            self._transaction(payment, selection=f"{self.invoice_1.id},{self.invoice_2.id}")
        with self.assertRaises(JsonRpcException):
            self._transaction(payment, selection=f"{self.invoice_b.id}")
        with self.assertRaises(JsonRpcException):
            self._transaction(payment, selection="1;DROP")
        self.assertFalse(self._transactions())

    def test_tampered_currency_is_refused(self):
        self._require_demo_provider()
        eur = self.setup_other_currency("EUR")
        payment = self._payment(self.invoice_1)
        with self.assertRaises(JsonRpcException):
            self._transaction(payment, currency_id=eur.id)
        with self.assertRaises(JsonRpcException):
            self._transaction(payment, partner_id=self.customer_b.id)
        self.assertFalse(self._transactions())

    def test_token_of_another_customer_is_refused(self):
        self._require_demo_provider()
        payment = self._payment(self.invoice_1)
        with self.assertRaises(JsonRpcException):
            self._transaction(payment, path=self.path_b)
        self.link.action_revoke()
        with self.assertRaises(JsonRpcException):
            self._transaction(payment)
        self.assertFalse(self._transactions())

    # The whole payment -------------------------------------------------------

    def _pay(self, invoices, amount=None):
        payment = self._payment(invoices, amount=amount)
        processing_values = self._transaction(payment)
        transaction = self._get_tx(processing_values["reference"])
        transaction._process(
            "demo", {"reference": transaction.reference, "simulated_state": "done", "payment_details": "4242"}
        )
        transaction._post_process()
        return transaction

    def test_paying_two_invoices_reconciles_exactly_those(self):
        self._require_demo_provider()
        promise = self.env["collection.promise"].create(
            {
                "partner_id": self.customer.id,
                "company_id": self.company.id,
                "date": self.today,
                "amount": 1500.0,
                "line_ids": [(6, 0, self._instalments(self.invoice_1 | self.invoice_2).ids)],
            }
        )
        self._run()
        transaction = self._pay(self.invoice_1 | self.invoice_2)
        self.assertRecordValues(
            transaction,
            [
                {
                    "state": "done",
                    "amount": 1500.0,
                    "currency_id": self.company.currency_id.id,
                    "partner_id": self.customer.id,
                    "collection_portal_link_id": self.link.id,
                }
            ],
        )
        self.assertEqual(transaction.invoice_ids, self.invoice_1 | self.invoice_2)
        self.assertTrue(transaction.payment_id)
        self.assertRecordValues(
            self.invoice_1 | self.invoice_2 | self.invoice_future,
            [
                {"amount_residual": 0.0},
                {"amount_residual": 0.0},
                {"amount_residual": 300.0},
            ],
        )
        self.assertIn(self.invoice_1.payment_state, ("paid", "in_payment"))
        reconciled_moves = transaction.payment_id.move_id.line_ids.matched_debit_ids.debit_move_id.move_id
        self.assertEqual(reconciled_moves, self.invoice_1 | self.invoice_2)
        # Logged on the case as a communication from the portal.
        log = self._portal_communications().filtered(lambda c: c.subject.startswith("Paid"))
        self.assertRecordValues(log, [{"direction": "inbound", "state": "done", "amount_total": 1500.0}])
        self.assertEqual(log.line_ids, self._instalments(self.invoice_1 | self.invoice_2))
        # Nothing overdue any more: the page says so; the promise is kept and the case closed, both
        # decided by collections_management from Odoo's reconciliation.
        summary = self.customer._collection_summary(self.company)
        self.assertEqual(summary["overdue_company"], 0.0)
        promise._check_promises()
        self.assertEqual(promise.state, "kept")
        case = self.env["collection.case"].search([("partner_id", "=", self.customer.id)])
        self.assertTrue(case.is_closed)

    def test_confirmation_page(self):
        self._require_demo_provider()
        transaction = self._pay(self.invoice_1 | self.invoice_2)
        self.assertIn(f"{self.path}/confirmation?tx_id={transaction.id}&tx_token=", transaction.landing_route)
        response = self.url_open(transaction.landing_route)
        self.assertEqual(response.status_code, 200)
        self.assertIn("o_collections_paid", response.text)
        self.assertIn(self.invoice_2.name, response.text)
        # Another token, a wrong signature or another transaction id: not found.
        query = transaction.landing_route.split("?", 1)[1]
        self.assertEqual(self.url_open(f"{self.path_b}/confirmation?{query}").status_code, 404)
        self.assertEqual(self.url_open(f"{self.path}/confirmation?tx_id={transaction.id}&tx_token=x").status_code, 404)
        self.assertEqual(self.url_open(f"{self.path}/confirmation?tx_id=abc&tx_token=x").status_code, 404)

    def test_partial_payment_of_an_invoice(self):
        self._require_demo_provider()
        transaction = self._pay(self.invoice_1, amount="400")
        self.assertEqual(transaction.amount, 400.0)
        self.assertRecordValues(
            self.invoice_1 | self.invoice_2,
            [
                {"amount_residual": 600.0, "payment_state": "partial"},
                {"amount_residual": 500.0, "payment_state": "not_paid"},
            ],
        )

    def test_logged_in_user_of_another_customer_pays_for_the_link_customer(self):
        self._require_demo_provider()
        payment = self._payment(self.invoice_1)
        self.authenticate("admin", "admin")
        values = self._transaction(payment)
        transaction = self._get_tx(values["reference"])
        self.assertEqual(transaction.partner_id, self.customer)

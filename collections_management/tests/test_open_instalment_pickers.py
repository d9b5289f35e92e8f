from odoo.tests import Form, tagged
from odoo.tools.safe_eval import safe_eval

from .common_casework import CaseworkCommon


@tagged("post_install", "-at_install")
class TestOpenInstalmentPickers(CaseworkCommon):
    """Every instalment picker offers exactly the owner's open instalments
    (``account.move.line._collection_open_domain``) of its own customer and company."""

    def setUp(self):
        super().setUp()
        self.portfolio = self._mixed_portfolio(self.customer)
        self.open_lines = self._owners_open_instalments(self.customer)
        self.assertEqual(self.open_lines, self.portfolio["open"])
        self.assertEqual(sorted(self.open_lines.mapped("amount_residual")), [200.0, 500.0, 500.0])
        self.case = self._open_case(self.customer, user_id=self.collector_1.id)

    def _offered(self, model, user, record_values):
        """The journal items the web client offers in ``model``'s instalment picker to ``user``:
        the field's domain evaluated with the record's values, searched as that user."""
        Model = self.env[model].with_user(user)
        domain = Model.fields_get(["line_ids"], ["domain"])["line_ids"]["domain"]
        return self.env["account.move.line"].with_user(user).search(safe_eval(domain, record_values))

    def test_promise_dispute_and_contact_pickers_offer_the_owners_open_instalments(self):
        values = {"partner_id": self.customer.id, "company_id": self.company.id}
        for user in (self.collector_1, self.manager):
            for model in ("collection.promise", "collection.dispute", "collection.log.contact"):
                with self.subTest(model=model, user=user.login):
                    offered = self._offered(model, user, values)
                    self.assertEqual(offered.sudo(), self.open_lines)
                    for name in ("paid", "in_payment", "on_account", "credit_note", "draft", "elsewhere"):
                        self.assertFalse(offered.sudo() & self.portfolio[name].line_ids, name)

    def test_contact_log_promise_on_chosen_instalments(self):
        """A collector logs a promise on instalments chosen from the picker: the promise covers them."""
        action = self.case.with_user(self.collector_1).action_log_contact()
        wizard_form = Form(self.env[action["res_model"]].with_user(self.collector_1).with_context(**action["context"]))
        wizard_form.outcome = "promise"
        wizard_form.promise_scope = "lines"
        wizard_form.promise_date = self.today
        wizard_form.promise_amount = 1200.0
        offered = self._offered(
            "collection.log.contact",
            self.collector_1,
            {"partner_id": self.customer.id, "company_id": self.company.id},
        )
        for line in offered:
            wizard_form.line_ids.add(line)
        wizard_form.save().action_log()
        promise = self.env["collection.promise"].search([("partner_id", "=", self.customer.id)])
        self.assertEqual(promise.line_ids, self.open_lines)
        self.assertEqual(promise.amount_residual, 1200.0)

    def test_dispute_covers_the_invoices_open_instalments_only(self):
        """Disputing an invoice in two instalments whose first is paid pauses only the second
        (before, the paid instalment was listed and counted)."""
        split = self.portfolio["split"]
        first, second = self._instalments(split).sorted("date_maturity")
        self._register_payment(split, amount=500.0)
        self.assertTrue(first.reconciled)
        self.assertFalse(second.reconciled)
        dispute_form = Form(self.env["collection.dispute"].with_user(self.collector_1))
        dispute_form.partner_id = self.customer
        dispute_form.reason_id = self.reason_price
        dispute_form.move_ids.add(split)
        dispute = dispute_form.save()
        self.assertEqual(dispute.line_ids, second)
        self.assertEqual(dispute.amount_disputed, 500.0)

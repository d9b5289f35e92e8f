import re

from odoo import Command
from odoo.tests import HttpCase, new_test_user, tagged

from .common import CollectionsPortalCommon


@tagged("post_install", "-at_install")
class TestPortalCredits(CollectionsPortalCommon, HttpCase):
    """The page lists the owner's open instalments (``_collection_open_domain``), the customer's
    credits (``_collection_credit_domain``: payments on account and credit notes) and the net
    amount due, per currency."""

    def setUp(self):
        super().setUp()
        self.portfolio = self._mixed_portfolio(self.customer)
        self.eur = self.setup_other_currency("EUR", rates=[("2000-01-01", 2.0)])
        self.eur_payment = self.env["account.payment"].create(
            {
                "payment_type": "inbound",
                "partner_type": "customer",
                "partner_id": self.customer.id,
                "amount": 70.0,
                "currency_id": self.eur.id,
                "date": self.today,
                "journal_id": self.company_data["default_journal_bank"].id,
            }
        )
        self.eur_payment.action_post()

    @staticmethod
    def _blocks(html, css_class):
        """The text of each element of ``css_class`` in ``html``, tags removed."""
        return [
            re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", block)).replace("\xa0", " ").replace("\ufeff", "").strip()
            for block in re.findall(rf'class="[^"]*\b{css_class}\b[^"]*"[^>]*>(.*?)</(?:div|tr)>', html, re.S)
        ]

    def test_summary_lists_open_instalments_credits_and_net_per_currency(self):
        summary = self.customer._collection_summary(self.company)
        self.assertEqual(summary["lines"], self._owners_open_instalments(self.customer))
        for name in ("paid", "in_payment", "on_account", "credit_note", "draft", "elsewhere"):
            self.assertFalse(summary["lines"] & self.portfolio[name].line_ids, name)
        totals = {total["currency"].name: total for total in summary["totals"]}
        # 1,000 + 500 + 300 (setup) + 200 left on the partly paid invoice + 2 x 500 instalments.
        self.assertAlmostEqual(totals["USD"]["due"], 3000.0)
        self.assertAlmostEqual(totals["USD"]["credit"], 550.0)
        self.assertAlmostEqual(totals["USD"]["net"], 2450.0)
        self.assertAlmostEqual(totals["EUR"]["due"], 0.0)
        self.assertAlmostEqual(totals["EUR"]["credit"], 70.0)
        self.assertAlmostEqual(totals["EUR"]["net"], -70.0)
        self.assertEqual(
            sorted((credit["move"], credit["kind"], credit["amount"]) for credit in summary["credits"]),
            sorted(
                [
                    (self.portfolio["on_account"], "payment", 500.0),
                    (self.portfolio["credit_note"], "credit_note", 50.0),
                    (self.eur_payment.move_id, "payment", 70.0),
                ]
            ),
        )
        self.assertAlmostEqual(summary["credit_company"], 585.0, msg="70 EUR at 2 per USD is 35 USD")

    def test_page_shows_credits_and_net_amount_due(self):
        html = self.url_open(self.path).text
        # One card per currency, by currency name: EUR (only a credit) then USD.
        self.assertEqual(
            self._blocks(html, "o_collections_total_net"), ["Net amount due: -70.00 €", "Net amount due: $ 2,450.00"]
        )
        self.assertEqual(
            self._blocks(html, "o_collections_total_credit"), ["Your credits: 70.00 €", "Your credits: $ 550.00"]
        )
        rows = self._blocks(html, "o_collections_credit_row")
        self.assertEqual(len(rows), 3)
        on_account, credit_note = self.portfolio["on_account"], self.portfolio["credit_note"]
        self.assertIn(f"{on_account.name} Payment on account $ 500.00", " | ".join(rows))
        self.assertIn(f"{credit_note.name} Credit note $ 50.00", " | ".join(rows))
        self.assertIn(f"{self.eur_payment.move_id.name} Payment on account 70.00 €", " | ".join(rows))
        # Settled, in-payment, draft and the other company's invoices are not on the page.
        for name in ("paid", "in_payment", "draft", "elsewhere"):
            self.assertNotIn(f'name="invoice_ids" value="{self.portfolio[name].id}"', html, name)
        for name in ("partly", "split"):
            self.assertIn(f'name="invoice_ids" value="{self.portfolio[name].id}"', html, name)

    def test_portal_user_sees_credits_in_my_collections(self):
        user = new_test_user(
            self.env(su=True),
            login="abarrotes",
            groups="base.group_portal",
            partner_id=self.customer.id,
            company_id=self.env.ref("base.main_company").id,
        )
        user.company_ids = [Command.link(self.company.id)]
        self.authenticate("abarrotes", "abarrotes")
        html = self.url_open("/my/collections").text
        self.assertIn("Net amount due: $ 2,450.00", self._blocks(html, "o_collections_total_net"))
        self.assertEqual(len(self._blocks(html, "o_collections_credit_row")), 3)

    def test_credits_in_spanish(self):
        for lang, net in (("es_ES", "Importe neto pendiente"), ("es_419", "Monto neto pendiente")):
            self.env["res.lang"]._activate_lang(lang)
            self.env["ir.module.module"]._load_module_terms(["collections_portal"], [lang], overwrite=True)
            html = self.url_open(self.path, cookies={"frontend_lang": lang}).text
            with self.subTest(lang=lang):
                self.assertIn("Sus saldos a favor", html)
                self.assertIn("Pago a cuenta", html)
                self.assertTrue(self._blocks(html, "o_collections_total_net")[0].startswith(net))

from odoo.tests import HttpCase, tagged

from .common import CollectionsPortalCommon


@tagged("post_install", "-at_install")
class TestPortalTour(CollectionsPortalCommon, HttpCase):
    def test_customer_pays_two_invoices_from_the_reminder_link(self):
        """In a browser: the link of a reminder, two invoices chosen, paid with the demo provider."""
        self._require_demo_provider()
        self._run()
        url = self._communications(channel="email")[0].portal_url
        self.start_tour(url.replace(self.base_url(), ""), "collections_portal_pay_tour", login=None)
        transaction = self.env["payment.transaction"].sudo().search([("collection_portal_link_id", "!=", False)])
        self.assertEqual(transaction.state, "done")
        self.assertEqual(transaction.invoice_ids, self.invoice_1 | self.invoice_2)
        self.assertRecordValues(
            self.invoice_1 | self.invoice_2 | self.invoice_future,
            [
                {"amount_residual": 0.0},
                {"amount_residual": 0.0},
                {"amount_residual": 300.0},
            ],
        )

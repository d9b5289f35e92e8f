"""Cross-module journey: the engine's reminder carries the portal link, the customer opens it
without a password, disputes one invoice, and the next reminder leaves that invoice out."""

import re
from datetime import timedelta

from odoo.tests import HttpCase, tagged

from odoo.addons.collections_portal.tests.common import CollectionsPortalCommon


@tagged("post_install", "-at_install")
class TestReminderJourney(CollectionsPortalCommon, HttpCase):
    def test_modules_are_installed_together(self):
        modules = self.env["ir.module.module"].search(
            [
                ("name", "in", ("collections_management", "collections_whatsapp", "collections_portal")),
            ]
        )
        self.assertEqual(sorted(modules.mapped("state")), ["installed"] * 3)

    def test_from_reminder_link_to_dispute_to_next_reminder(self):
        self._run()
        email = self._communications(channel="email")
        self.assertEqual(email.level_id, self.level_final, "the 45-day-old invoice sets the level")
        body = email.mail_message_ids.body
        link = re.search(r'href="([^"]*/collections/[^"]+)"', body)
        self.assertTrue(link, "the reminder carries the customer's signed link")
        path = "/collections/" + link.group(1).split("/collections/", 1)[1]

        page = self.url_open(path)
        self.assertEqual(page.status_code, 200)
        self.assertIn(self.invoice_1.name, page.text)
        self.assertIn(self.invoice_2.name, page.text)
        self.assertNotIn(self.invoice_b.name, page.text, "only this customer's invoices")

        reason = self.env["collection.dispute.reason"].search([], limit=1)
        response = self._post(
            f"{path}/dispute",
            {
                "invoice_id": str(self.invoice_2.id),
                "reason_id": str(reason.id),
                "comment": "We never received the second delivery.",
            },
            path=path,
        )
        self.assertEqual(response.status_code, 303)
        dispute = self.env["collection.dispute"].search([("partner_id", "=", self.customer.id)])
        self.assertEqual(dispute.line_ids, self._instalments(self.invoice_2))

        # Fifteen days later the first invoice reaches a new level; the disputed one is left out.
        self._run(date=self.today + timedelta(days=15))
        later = self._communications(channel="email")[-1]
        self.assertEqual(later.level_id, self.level_final)
        self.assertNotIn(self._instalments(self.invoice_2), later.line_ids)
        self.assertIn(self._instalments(self.invoice_1), later.line_ids)

from datetime import timedelta

from odoo.tests import Form, HttpCase, new_test_user, tagged

from .common import CollectionsPortalCommon


@tagged("post_install", "-at_install")
class TestPortalLink(CollectionsPortalCommon, HttpCase):
    """The signed link: issued per contact and company, reused while fresh, scoped to the
    commercial entity, expiring and revocable; every reminder carries it."""

    def test_link_is_reused_while_fresh(self):
        again = self.env["collection.portal.link"]._get_link(self.customer, self.company)
        self.assertEqual(again, self.link)
        self.assertGreaterEqual(len(self.link.token), 43)
        self.assertEqual(self.link.expiration_date, self.today + timedelta(days=60))
        self.assertEqual(self.link.state, "valid")

    def test_link_close_to_expiry_is_replaced(self):
        self.link.expiration_date = self.today + timedelta(days=5)
        fresh = self.env["collection.portal.link"]._get_link(self.customer, self.company)
        self.assertNotEqual(fresh, self.link)
        self.assertEqual(fresh.expiration_date, self.today + timedelta(days=60))

    def test_link_validity_follows_the_company(self):
        self.company.collection_portal_link_days = 10
        contact = self.env["res.partner"].create({"name": "Ana", "parent_id": self.customer.id})
        link = self.env["collection.portal.link"]._get_link(contact, self.company)
        self.assertRecordValues(
            link,
            [
                {
                    "partner_id": contact.id,
                    "commercial_partner_id": self.customer.id,
                    "expiration_date": self.today + timedelta(days=10),
                }
            ],
        )

    def test_reminders_carry_the_signed_link(self):
        self._run()
        communication = self._communications(channel="email")
        self.assertTrue(communication)
        url = communication[0].portal_url
        self.assertIn("/collections/", url)
        token = url.rsplit("/", 1)[1]
        link = self.env["collection.portal.link"]._get_by_token(token)
        self.assertEqual(link.commercial_partner_id, self.customer)
        mail = (
            self.env["mail.mail"]
            .sudo()
            .search([("mail_message_id.collection_communication_id", "in", communication.ids)])
        )
        self.assertIn(url, mail[0].body_html)
        # The link in the reminder opens the customer's page.
        response = self.url_open(url.replace(self.base_url(), ""))
        self.assertEqual(response.status_code, 200)
        self.assertIn(self.invoice_1.name, response.text)

    def test_communication_form_shows_the_link_it_carried(self):
        self._run()
        communication = self._communications(channel="email")[0]
        manager = new_test_user(
            self.env, login="marta", groups="collections_management.collections_management_group_manager"
        )
        form = Form(communication.with_user(manager))
        self.assertEqual(form.portal_link_id, communication.portal_link_id)
        self.assertEqual(form.portal_url, communication.portal_link_id.url)
        self.assertIn(form.portal_url, str(form.message_body), "the body shown is the one sent, with its link")

    def test_token_page_shows_only_the_customer(self):
        response = self.url_open(self.path)
        self.assertEqual(response.status_code, 200)
        for invoice in self.invoice_1 | self.invoice_2 | self.invoice_future:
            self.assertIn(invoice.name, response.text)
        self.assertNotIn(self.invoice_b.name, response.text)
        self.assertNotIn(self.customer_b.name, response.text)

    def test_contact_link_shows_the_commercial_entity(self):
        contact = self.env["res.partner"].create({"name": "Ana", "parent_id": self.customer.id})
        link = self.env["collection.portal.link"]._get_link(contact, self.company)
        response = self.url_open(f"/collections/{link.token}")
        self.assertEqual(response.status_code, 200)
        self.assertIn(self.invoice_1.name, response.text)
        self.assertNotIn(self.invoice_b.name, response.text)

    def test_expired_link_is_refused(self):
        self.link.expiration_date = self.today - timedelta(days=1)
        response = self.url_open(self.path)
        self.assertEqual(response.status_code, 404)
        self.assertIn("This link is not valid", response.text)
        self.assertNotIn(self.invoice_1.name, response.text)
        self.assertEqual(self.link.use_count, 0)

    def test_revoked_link_is_refused(self):
        self.link.action_revoke()
        self.assertEqual(self.link.state, "revoked")
        for route in ("", "/statement", f"/pay?invoice_ids={self.invoice_1.id}"):
            response = self.url_open(self.path + route)
            self.assertEqual(response.status_code, 404, route)
            self.assertNotIn(self.invoice_1.name, response.text)
        fresh = self.env["collection.portal.link"]._get_link(self.customer, self.company)
        self.assertNotEqual(fresh, self.link, "a revoked link is never handed out again")

    def test_unknown_and_malformed_tokens_are_refused(self):
        for token in ("x" * 43, "short", "a" * 300, "%27%20OR%201=1--" + "a" * 40):
            response = self.url_open(f"/collections/{token}")
            self.assertEqual(response.status_code, 404, token)

    def test_visit_is_recorded_and_logged_once_a_day(self):
        self.url_open(self.path)
        self.url_open(self.path)
        self.assertEqual(self.link.use_count, 2)
        self.assertTrue(self.link.last_used_date)
        visits = self._portal_communications().filtered(lambda c: c.subject == "Opened the collections page")
        self.assertRecordValues(visits, [{"direction": "inbound", "state": "done", "recipient_id": self.customer.id}])

    def test_partner_button_issues_a_link(self):
        action = self.customer_b.action_collection_portal_link()
        self.assertEqual(action["res_model"], "collection.portal.link")
        self.assertEqual(self.customer_b.collection_portal_link_count, 1)

    def test_old_links_are_deleted(self):
        self.link.expiration_date = self.today - timedelta(days=400)
        self.env["collection.portal.link"]._cron_delete_old_links()
        self.assertFalse(self.link.exists())
        self.assertTrue(self.link_b.exists())

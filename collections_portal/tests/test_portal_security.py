from datetime import timedelta

from odoo import Command
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tests import HttpCase, JsonRpcException, new_test_user, tagged

from .common import CollectionsPortalCommon

COLLECTOR = "collections_management.collections_management_group_collector"
MANAGER = "collections_management.collections_management_group_manager"
HOSTILE_TEXT = '<img src=x onerror="alert(1)"><a href="https://evil.example.com/pay">Pay here</a>'


@tagged("post_install", "-at_install")
class TestPortalSecurity(CollectionsPortalCommon, HttpCase):
    """Issue 11 and 15: links are issued and changed by model methods only, customer text is
    never HTML, payments go through a provider of the link's company, and the back-office
    statement follows the collector's cases."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        company_ids = [Command.set(cls.company.ids)]
        cls.collector_a, cls.collector_b, cls.manager = (
            new_test_user(
                cls.env(su=True),
                login=login,
                password=login,
                groups=group,
                company_id=cls.company.id,
                company_ids=company_ids,
            )
            for login, group in (("sec_ana", COLLECTOR), ("sec_beto", COLLECTOR), ("sec_marta", MANAGER))
        )
        cls.case = cls.env["collection.case"].create(
            {"partner_id": cls.customer.id, "company_id": cls.company.id, "user_id": cls.collector_a.id}
        )
        cls.case_b = cls.env["collection.case"].create(
            {"partner_id": cls.customer_b.id, "company_id": cls.company.id, "user_id": cls.collector_b.id}
        )

    def _call_kw(self, model, method, args, kwargs=None):
        return self._jsonrpc(
            "/web/dataset/call_kw",
            {"model": model, "method": method, "args": args, "kwargs": kwargs or {}},
        )

    # Item 1: a collector cannot turn a link into a link to another team's customer -----------

    def test_collector_cannot_repoint_a_link_over_json_rpc(self):
        self.authenticate("sec_ana", "sec_ana")
        token_b = self.link_b.token
        # The collector reads their customer's link...
        read = self._call_kw("collection.portal.link", "read", [self.link.ids, ["partner_id", "url"]])
        self.assertEqual(read[0]["url"], self.link.url)
        # ...but cannot write it, whatever the field.
        for values in (
            {"partner_id": self.customer_b.id},
            {"token": "a" * 43},
            {"expiration_date": "2999-12-31"},
            {"company_id": self.company.id},
        ):
            with self.assertRaisesRegex(JsonRpcException, "AccessError", msg=values):
                self._call_kw("collection.portal.link", "write", [self.link.ids, values])
        with self.assertRaisesRegex(JsonRpcException, "AccessError"):
            self._call_kw("collection.portal.link", "create", [{"partner_id": self.customer_b.id}])
        self.assertRecordValues(self.link, [{"partner_id": self.customer.id, "state": "valid"}])
        # The collector's link still opens their own customer's page only.
        page = self.url_open(self.path)
        self.assertIn(self.invoice_1.name, page.text)
        self.assertNotIn(self.invoice_b.name, page.text)
        self.assertEqual(self.link_b.token, token_b)

    def test_collector_cannot_write_links_with_the_orm(self):
        link = self.link.with_user(self.collector_a)
        self.assertTrue(link.url)
        for values in ({"partner_id": self.customer_b.id}, {"token": "b" * 43}, {"expiration_date": "2999-12-31"}):
            with self.assertRaises(AccessError):
                link.write(values)
        with self.assertRaises(AccessError):
            self.link_b.with_user(self.collector_a).read(["url"])
        # Revoking and extending their customer's link are model methods the collector may call.
        link.action_revoke()
        self.assertRecordValues(self.link, [{"state": "revoked", "revoked_uid": self.collector_a.id}])
        with self.assertRaises(AccessError):
            self.link_b.with_user(self.collector_a).action_revoke()
        self.assertEqual(self.link_b.state, "valid")

    def test_collector_cannot_issue_a_link_to_another_teams_customer(self):
        with self.assertRaises(AccessError):
            self.customer_b.with_user(self.collector_a).action_collection_portal_link()
        action = self.customer.with_user(self.collector_a).action_collection_portal_link()
        self.assertEqual(action["res_model"], "collection.portal.link")

    def test_manager_changes_are_checked_against_the_new_values(self):
        link = self.link.with_user(self.manager)
        link.write({"partner_id": self.customer_b.id})
        self.assertEqual(self.link.commercial_partner_id, self.customer_b)
        other_company = self.setup_other_company(name="Other company")["company"]
        with self.assertRaises(AccessError):
            link.write({"company_id": other_company.id})
        self.assertEqual(self.link.company_id, self.company)

    def test_reminder_link_cannot_point_to_another_customer(self):
        self._run()
        communication = self._communications(channel="email")
        self.assertEqual(communication.portal_link_id.commercial_partner_id, self.customer)
        for user in (self.collector_a, self.manager):
            with self.assertRaises(UserError):
                communication.with_user(user).write({"portal_link_id": self.link_b.id})
        with self.assertRaises(ValidationError) as context:
            communication.write({"portal_link_id": self.link_b.id})
        self.assertIn("own customer's page", str(context.exception))
        communication.invalidate_recordset()
        self.assertEqual(communication.portal_link_id.commercial_partner_id, self.customer)

    # Issue 15: links are issued when a reminder is sent, never when one is shown ------------

    def test_link_is_issued_when_sending_and_stored(self):
        Link = self.env["collection.portal.link"]
        self.link.action_revoke()
        self._run()
        communication = self._communications(channel="email")
        link = communication.portal_link_id
        self.assertRecordValues(link, [{"commercial_partner_id": self.customer.id, "state": "valid"}])
        self.assertEqual(communication.portal_url, link.url)
        # Showing communications (the collector's list) creates no link.
        note = self.env["collection.communication"].create(
            {"partner_id": self.customer_b.id, "channel": "note", "state": "done", "subject": "Called"}
        )
        before = Link.search_count([])
        self.assertNotIn("/collections/", note.with_user(self.collector_b).portal_url)
        note.invalidate_recordset()
        self.env["collection.communication"].search([]).mapped("portal_url")
        self.assertEqual(Link.search_count([]), before)

    # Item 5: what a customer types is text, never HTML ------------------------------------

    def _assert_text_not_html(self, html):
        """The customer's text is shown as text: no tag of theirs, no link made of their URL."""
        self.assertNotIn("<img", html)
        self.assertNotIn("<a ", html)
        self.assertIn("&lt;img src=x", html)

    def test_plan_comment_is_escaped_in_the_activity_and_chatter(self):
        data = [("note", HOSTILE_TEXT)]
        for days in (10, 40):
            data += [("plan_date", str(self.today + timedelta(days=days))), ("plan_amount", "100")]
        data.append(("csrf_token", self._csrf()))
        response = self.url_open(f"{self.path}/plan", data=data, allow_redirects=False)
        self.assertEqual(response.status_code, 303)
        activity = self.case.activity_ids
        self.assertEqual(len(activity), 1)
        self._assert_text_not_html(str(activity.note))
        self.assertIn("Pay here", str(activity.note))
        for body in self.case.message_ids.mapped("body"):
            self.assertNotIn("<img", str(body))
            self.assertNotIn("<a ", str(body))

    def test_dispute_comment_is_escaped_everywhere(self):
        reason = self.env["collection.dispute.reason"].create({"name": "Wrong price"})
        response = self._post(
            f"{self.path}/dispute",
            {"invoice_id": str(self.invoice_1.id), "reason_id": str(reason.id), "comment": HOSTILE_TEXT},
        )
        self.assertEqual(response.status_code, 303)
        dispute = self.env["collection.dispute"].search([("partner_id", "=", self.customer.id)])
        self.assertEqual(dispute.description, HOSTILE_TEXT, "kept as the customer typed it")
        for html in dispute.message_ids.mapped("body") + dispute.activity_ids.mapped("note"):
            self.assertNotIn("<img", str(html))
            self.assertNotIn("<a ", str(html))
        portal_message = dispute.message_ids.filtered(lambda m: "Dispute opened" in str(m.body))
        self._assert_text_not_html(str(portal_message.body))

    def test_promise_note_is_escaped_on_the_case(self):
        response = self._post(f"{self.path}/promise", {"date": str(self.today), "amount": "100", "note": HOSTILE_TEXT})
        self.assertEqual(response.status_code, 303)
        bodies = [str(body) for body in self.case.message_ids.mapped("body")]
        self.assertTrue(any("&lt;img src=x" in body for body in bodies))
        for body in bodies:
            self.assertNotIn("<img", body)

    # Item 8: only published providers of the link's company --------------------------------

    def _payment_params(self, payment, provider):
        return {
            "provider_id": provider.id,
            "payment_method_id": self.env.ref("payment_demo.payment_method_demo").id,
            "token_id": None,
            "amount": payment["amount"],
            "flow": "direct",
            "tokenization_requested": False,
            "landing_route": f"{self.path}/confirmation",
            "is_validation": False,
            "access_token": payment["access_token"],
        }

    def test_provider_of_another_company_or_disabled_is_refused(self):
        self._require_demo_provider()
        other_company = self.setup_other_company(name="Other company")["company"]
        foreign = self.provider.copy({"name": "Demo (other company)", "company_id": other_company.id})
        foreign.write({"state": "test", "is_published": True})
        disabled = self.provider.copy({"name": "Demo (disabled)"})
        disabled.write({"state": "disabled", "is_published": True})
        unpublished = self.provider.copy({"name": "Demo (unpublished)"})
        unpublished.write({"state": "test", "is_published": False})
        payment = self._payment_values(self.invoice_1.ids)
        route = f"{self.path}/transaction/{payment['selection']}"
        for provider in (foreign, disabled, unpublished):
            with self.assertRaisesRegex(JsonRpcException, "not available", msg=provider.name):
                self._jsonrpc(route, self._payment_params(payment, provider))
        with self.assertRaisesRegex(JsonRpcException, "not available"):
            self._jsonrpc(route, dict(self._payment_params(payment, self.provider), provider_id="abc"))
        transactions = self.env["payment.transaction"].sudo().search([("invoice_ids", "in", self.invoice_1.ids)])
        self.assertFalse(transactions, "nothing is created")
        # The company's published provider works.
        self._jsonrpc(route, self._payment_params(payment, self.provider))
        self.assertEqual(len(self.invoice_1.sudo().transaction_ids), 1)

    # Issue 15: the back-office statement follows the collector's cases ----------------------

    def test_statement_is_refused_for_a_customer_outside_the_collectors_cases(self):
        report = self.env.ref("collections_portal.action_report_collection_statement")
        Report = self.env["ir.actions.report"]
        html = Report.with_user(self.collector_a)._render_qweb_html(report, self.customer.ids)[0].decode()
        self.assertIn(self.invoice_1.name, html)
        with self.assertRaises(AccessError):
            Report.with_user(self.collector_b)._render_qweb_html(report, self.customer.ids)
        with self.assertRaises(AccessError):
            Report.with_user(self.collector_a)._render_qweb_html(report, (self.customer | self.customer_b).ids)
        html = Report.with_user(self.manager)._render_qweb_html(report, self.customer_b.ids)[0].decode()
        self.assertIn(self.invoice_b.name, html)

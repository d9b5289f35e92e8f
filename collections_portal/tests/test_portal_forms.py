import base64
from datetime import timedelta

from odoo.tests import HttpCase, new_test_user, tagged

from .common import CollectionsPortalCommon


@tagged("post_install", "-at_install")
class TestPortalForms(CollectionsPortalCommon, HttpCase):
    """Promise to pay, payment plan and dispute from the page: each creates exactly what a
    collector would, is logged on the case, and refuses bad input with nothing changed."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.collector = new_test_user(
            cls.env(su=True),
            login="collector_portal",
            company_id=cls.company.id,
            groups="collections_management.collections_management_group_collector",
        )
        cls.case = cls.env["collection.case"].create(
            {
                "partner_id": cls.customer.id,
                "company_id": cls.company.id,
                "user_id": cls.collector.id,
            }
        )
        cls.reason = cls.env["collection.dispute.reason"].create({"name": "Goods not received"})

    def _promises(self, partner=None):
        return self.env["collection.promise"].search([("partner_id", "=", (partner or self.customer).id)])

    def _disputes(self, partner=None):
        return self.env["collection.dispute"].search([("partner_id", "=", (partner or self.customer).id)])

    def _assert_refused(self, response, message=None):
        self.assertEqual(response.status_code, 400)
        self.assertIn("o_collections_error", response.text)
        if message:
            self.assertIn(message, response.text)

    # Promise to pay ----------------------------------------------------------

    def test_promise_to_pay(self):
        date = self.today + timedelta(days=10)
        response = self._post(f"{self.path}/promise", {"date": str(date), "amount": "1200", "note": "Paying Friday"})
        self.assertEqual(response.status_code, 303)
        self.assertIn("message=promise", response.headers["Location"])
        promise = self._promises()
        self.assertRecordValues(
            promise,
            [
                {
                    "state": "open",
                    "date": date,
                    "amount": 1200.0,
                    "company_id": self.company.id,
                    "portal_link_id": self.link.id,
                }
            ],
        )
        self.assertEqual(promise.line_ids, self._instalments(self.invoice_1 | self.invoice_2))
        log = self._portal_communications().filtered(lambda c: c.subject.startswith("Promise"))
        self.assertRecordValues(log, [{"direction": "inbound", "state": "done", "note": "Paying Friday"}])
        self.assertTrue(any("Promise to pay" in (body or "") for body in self.case.message_ids.mapped("body")))
        # The promise pauses dunning as one made by a collector: nothing is reminded.
        self._run()
        self.assertFalse(self._communications(channel="email"))

    def test_promise_refusals(self):
        too_far = self.today + timedelta(days=self.policy.promise_max_days + 1)
        cases = [
            ({"date": str(too_far), "amount": "100"}, "must be between"),
            ({"date": str(self.today - timedelta(days=1)), "amount": "100"}, "before the day it was made"),
            ({"date": str(self.today), "amount": "1500.01"}, "more than what is overdue"),
            ({"date": str(self.today), "amount": "-3"}, "positive"),
            ({"date": "31/12/2099", "amount": "100"}, "date is not valid"),
            ({"date": "2099-02-30", "amount": "100"}, "date is not valid"),
            ({"date": str(self.today), "amount": "lots"}, "amount is not valid"),
            ({"date": str(self.today), "amount": "100", "note": "x" * 1001}, "too long"),
        ]
        for data, message in cases:
            self._assert_refused(self._post(f"{self.path}/promise", data), message)
        self.assertFalse(self._promises())
        self.assertFalse(self._portal_communications().filtered(lambda c: c.subject.startswith("Promise")))

    def test_second_promise_is_refused(self):
        self._post(f"{self.path}/promise", {"date": str(self.today), "amount": "100"})
        self._assert_refused(
            self._post(f"{self.path}/promise", {"date": str(self.today), "amount": "100"}), "already under way"
        )
        self.assertEqual(len(self._promises()), 1)

    def test_promise_without_csrf_token_is_refused(self):
        response = self.url_open(f"{self.path}/promise", data={"date": str(self.today), "amount": "100"})
        self.assertEqual(response.status_code, 400)
        self.assertFalse(self._promises())

    def test_promise_with_invalid_token_is_refused(self):
        csrf = self._csrf()
        self.link.action_revoke()
        response = self.url_open(
            f"{self.path}/promise",
            data={
                "date": str(self.today),
                "amount": "100",
                "csrf_token": csrf,
            },
        )
        self.assertEqual(response.status_code, 404)
        self.assertFalse(self._promises())

    # Payment plan ------------------------------------------------------------

    def _plan(self, rows, note="", path=None):
        data = [("note", note)]
        for date, amount in rows:
            data += [("plan_date", date), ("plan_amount", amount)]
        data.append(("csrf_token", self._csrf(path)))
        return self.url_open(f"{path or self.path}/plan", data=data, allow_redirects=False)

    def test_payment_plan_request_and_acceptance(self):
        first, second = self.today + timedelta(days=15), self.today + timedelta(days=45)
        response = self._plan([(str(first), "900"), (str(second), "900"), ("", "")], note="Two halves")
        self.assertEqual(response.status_code, 303, response.text[-3000:])
        plan = self._promises()
        self.assertRecordValues(plan, [{"state": "proposed", "amount": 1800.0, "date": second}])
        self.assertRecordValues(
            plan.plan_line_ids,
            [
                {"date": first, "amount": 900.0},
                {"date": second, "amount": 900.0},
            ],
        )
        self.assertEqual(plan.line_ids, self._instalments(self.invoice_1 | self.invoice_2 | self.invoice_future))
        self.assertTrue(self._portal_communications().filtered(lambda c: c.subject.startswith("Payment plan")))
        activity = self.case.activity_ids
        self.assertRecordValues(activity, [{"user_id": self.collector.id}])
        # A proposal does not pause dunning; the collector accepts it from the case, then it does.
        self.assertEqual(self.case.portal_plan_count, 1)
        self.case.with_user(self.collector).action_accept_portal_plan()
        self.assertEqual(plan.state, "open")
        self.case.invalidate_recordset(["portal_plan_ids", "portal_plan_count"])
        self.assertEqual(self.case.portal_plan_count, 0)
        self._run()
        self.assertFalse(self._communications(channel="email"))

    def test_payment_plan_refused_by_the_collector(self):
        self._plan([(str(self.today + timedelta(days=5)), "100"), (str(self.today + timedelta(days=20)), "100")])
        plan = self._promises()
        self.case.action_refuse_portal_plan()
        self.assertEqual(plan.state, "refused")
        self.assertTrue(self._communications(channel="note").filtered(lambda c: c.subject == "Payment plan refused"))

    def test_payment_plan_refusals(self):
        day = self.today + timedelta(days=10)
        later = self.today + timedelta(days=20)
        cases = [
            ([(str(day), "100")], "at least two"),
            ([(str(later), "100"), (str(day), "100")], "follow each other"),
            ([(str(day), "100"), (str(day), "100")], "follow each other"),
            ([(str(day), "100"), (str(self.today + timedelta(days=400)), "100")], "must fall between"),
            ([(str(day), "1000"), (str(later), "900")], "more than what is owed"),
            ([(str(day), "100"), (str(later), "")], "amount is not valid"),
            ([(str(day), "100"), ("tomorrow", "100")], "date is not valid"),
            ([(str(self.today + timedelta(days=i + 1)), "10") for i in range(7)], "at most 6"),
        ]
        for rows, message in cases:
            self._assert_refused(self._plan(rows), message)
        self._assert_refused(self._plan([(str(day), "100"), (str(later), "100")], note="y" * 5000), "too long")
        self.assertFalse(self._promises())

    # Dispute -----------------------------------------------------------------

    def test_dispute_with_attachment(self):
        pdf = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF"
        response = self._post(
            f"{self.path}/dispute",
            {"invoice_id": str(self.invoice_1.id), "reason_id": str(self.reason.id), "comment": "Never arrived"},
            files={"attachment": ("delivery.pdf", pdf, "application/pdf")},
        )
        self.assertEqual(response.status_code, 303)
        dispute = self._disputes()
        self.assertRecordValues(
            dispute,
            [
                {
                    "state": "open",
                    "reason_id": self.reason.id,
                    "description": "Never arrived",
                    "user_id": self.collector.id,
                    "company_id": self.company.id,
                }
            ],
        )
        self.assertEqual(dispute.line_ids, self._instalments(self.invoice_1))
        attachment = self.env["ir.attachment"].search(
            [("res_model", "=", "collection.dispute"), ("res_id", "=", dispute.id)]
        )
        self.assertEqual(base64.b64decode(attachment.datas), pdf)
        self.assertRecordValues(dispute.activity_ids, [{"user_id": self.collector.id}])
        log = self._portal_communications().filtered(lambda c: c.subject.startswith("Dispute"))
        self.assertEqual(log.line_ids, self._instalments(self.invoice_1))
        page = self.url_open(self.path)
        self.assertIn("Disputed", page.text)

    def test_dispute_of_another_customers_invoice_is_refused(self):
        response = self._post(
            f"{self.path}/dispute",
            {
                "invoice_id": str(self.invoice_b.id),
                "reason_id": str(self.reason.id),
                "comment": "Not mine",
            },
        )
        self.assertEqual(response.status_code, 404)
        response = self._post(
            f"{self.path_b}/dispute",
            {
                "invoice_id": str(self.invoice_1.id),
                "reason_id": str(self.reason.id),
                "comment": "Not mine",
            },
            path=self.path_b,
        )
        self.assertEqual(response.status_code, 404)
        self.assertFalse(self._disputes() | self._disputes(self.customer_b))

    def test_dispute_refusals(self):
        base = {"invoice_id": str(self.invoice_1.id), "reason_id": str(self.reason.id), "comment": "Wrong price"}
        cases = [
            (dict(base, comment=""), "Please fill in"),
            (dict(base, comment="z" * 2001), "too long"),
            (dict(base, reason_id="abc"), "reason"),
            (dict(base, reason_id="999999"), "reason"),
            (dict(base, invoice_id="abc"), "not valid"),
        ]
        for data, message in cases:
            self._assert_refused(self._post(f"{self.path}/dispute", data), message)
        self._assert_refused(
            self._post(
                f"{self.path}/dispute",
                base,
                files={"attachment": ("virus.exe", b"MZ\x90\x00" * 100, "application/pdf")},
            ),
            "Attach a PDF",
        )
        self._assert_refused(
            self._post(
                f"{self.path}/dispute",
                base,
                files={"attachment": ("big.txt", b"a" * (10 * 1024 * 1024 + 1), "text/plain")},
            ),
            "too large",
        )
        self.assertFalse(self._disputes())
        self.assertFalse(self.env["ir.attachment"].search([("res_model", "=", "collection.dispute")]))

    def test_second_dispute_on_the_same_invoice_is_refused(self):
        data = {"invoice_id": str(self.invoice_1.id), "reason_id": str(self.reason.id), "comment": "Wrong price"}
        self._post(f"{self.path}/dispute", data)
        self._assert_refused(self._post(f"{self.path}/dispute", data), "already under dispute")
        self.assertEqual(len(self._disputes()), 1)

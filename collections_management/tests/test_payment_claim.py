import base64
from datetime import timedelta

from odoo import Command
from odoo.exceptions import AccessError, UserError
from odoo.tests import Form, tagged

from .common_casework import CaseworkCommon

PDF = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
)
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 64


@tagged("post_install", "-at_install")
class TestPaymentClaim(CaseworkCommon):
    """An "I already paid" with a proof: a payment to verify pauses the reminders of its invoices
    while a collector checks it, whoever recorded it (customer page, WhatsApp, back office)."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.team = cls._team("Everyone", cls.collector_1)
        cls.policy.claim_pause_days = 5

    def setUp(self):
        super().setUp()
        self.claimed = self._invoice(self.customer, 700.0, days_late=10)
        self.other = self._invoice(self.customer, 300.0, days_late=12)
        self.case = self.customer._get_collection_case(self.company, create=True)

    def _claim(self, moves=None, user=None, source="backoffice", attachments=None, **vals):
        Claim = self.env["collection.payment.claim"]
        if user:
            Claim = Claim.with_user(user)
        lines = self._instalments(moves or self.claimed)
        return Claim._collection_create_claim(
            self.customer,
            lines.with_env(Claim.env),
            vals,
            [{"name": "transferencia.pdf", "raw": PDF}] if attachments is None else attachments,
            source=source,
        )

    def _decisions(self, run, partner=None):
        return run.decision_ids.filtered(lambda d: d.partner_id == (partner or self.customer))

    def _payment_on_account(self, amount):
        payment = self.env["account.payment"].create(
            {
                "payment_type": "inbound",
                "partner_type": "customer",
                "partner_id": self.customer.id,
                "amount": amount,
                "date": self.today,
                "journal_id": self.company_data["default_journal_bank"].id,
            }
        )
        payment.action_post()
        return payment

    # ------------------------------------------------------------------
    # The record and its task
    # ------------------------------------------------------------------

    def test_claim_goes_to_the_case_collector_with_the_proof(self):
        claim = self._claim(user=self.collector_1, payment_date=self.today, reference="SPEI 0042", amount=700.0)
        self.assertRecordValues(
            claim,
            [
                {
                    "partner_id": self.customer.id,
                    "case_id": self.case.id,
                    "state": "to_verify",
                    "source": "backoffice",
                    "pause_until": self.today + timedelta(days=5),
                    "user_id": self.case.user_id.id,
                    "amount": 700.0,
                    "amount_residual": 700.0,
                    "reference": "SPEI 0042",
                    "is_paused": True,
                }
            ],
        )
        self.assertEqual(self.case.user_id, self.collector_1)
        self.assertTrue(claim.name.startswith("PAY/"))
        self.assertEqual(claim.move_ids, self.claimed)
        self.assertRecordValues(claim.attachment_ids, [{"name": "transferencia.pdf", "mimetype": "application/pdf"}])
        task = self._activities(claim)
        self.assertRecordValues(task, [{"summary": "Verify payment proof", "user_id": self.collector_1.id}])
        # Visible from the case: the smart button and the file in its chatter.
        self.assertEqual(self.case.payment_claim_count, 1)
        action = self.case.with_user(self.collector_1).action_view_payment_claims()
        self.assertEqual(self.env["collection.payment.claim"].search(action["domain"]), claim)
        case_files = self.case.message_ids.attachment_ids
        self.assertEqual(case_files, claim.attachment_ids)
        self.assertEqual(case_files.with_user(self.collector_1).raw, PDF, "the collector opens the proof")

    def test_task_falls_back_to_the_team_manager_then_the_default_user(self):
        self.case.user_id = False
        claim = self._claim()
        self.assertEqual(self._activities(claim).user_id, self.manager, "the team manager")
        self.case.team_id = False
        self.company.collection_default_user_id = self.collector_3
        claim.action_verify()
        claim = self._claim(self.other)
        self.assertEqual(self._activities(claim).user_id, self.collector_3, "the company's default user")

    def test_pause_days_come_from_the_customer_policy(self):
        self.policy.claim_pause_days = 2
        self.assertEqual(self._claim().pause_until, self.today + timedelta(days=2))

    # ------------------------------------------------------------------
    # The rules, whoever records the claim
    # ------------------------------------------------------------------

    def test_bad_claims_are_refused_and_nothing_is_kept(self):
        stranger = self._invoice(self.customer_b, 100.0, days_late=10)
        paid = self._invoice(self.customer, 50.0, days_late=10)
        self._register_payment(paid)
        cases = [
            ({"moves": stranger}, "not yours"),
            ({"moves": paid}, "nothing left to pay"),
            ({"attachments": []}, "Attach the proof"),
            ({"attachments": [{"name": "setup.pdf", "raw": EXE}]}, "must be a PDF or an image"),
            ({"attachments": [{"name": "huge.pdf", "raw": PDF + b"0" * (5 * 1024 * 1024)}]}, "too large"),
            ({"payment_date": self.today + timedelta(days=10)}, "cannot be in the future"),
        ]
        for kwargs, message in cases:
            with self.subTest(message=message), self.assertRaisesRegex(UserError, message):
                self._claim(user=self.collector_1, **kwargs)
        self.assertFalse(self.env["collection.payment.claim"].search([]))
        self.assertFalse(self.env["ir.attachment"].search([("res_model", "=", "collection.payment.claim")]))

    def test_images_are_proofs_too(self):
        claim = self._claim(attachments=[{"name": "foto", "raw": PNG}])
        self.assertRecordValues(claim.attachment_ids, [{"name": "foto", "mimetype": "image/png"}])

    def test_collector_of_another_customer_cannot_see_nor_record_it(self):
        claim = self._claim()
        with self.assertRaises(AccessError):
            claim.with_user(self.collector_2).read(["state"])
        with self.assertRaises(AccessError):
            self._claim(self.other, user=self.collector_2)
        self.assertEqual(self.env["collection.payment.claim"].search_count([]), 1)

    def test_collector_cannot_move_a_claim_to_another_customer(self):
        """The customer, case and invoices of a claim decide whose it is: a collector cannot
        re-point their claim to someone else's customer, and nothing changes when refused."""
        claim = self._claim()
        stranger = self._customer("Lejano SA")
        stranger_lines = self._instalments(self._invoice(stranger, 400.0, days_late=5))
        stranger_case = stranger._get_collection_case(self.company, create=True)
        stranger_case.user_id = self.collector_2
        mine = claim.with_user(self.collector_1)
        with self.assertRaises(AccessError):
            mine.write({"partner_id": stranger.id})
        # assertRaises (not assertRaisesRegex) rolls the refused write back, as a user's request is.
        with self.assertRaises(UserError) as refused:
            mine.write({"line_ids": [Command.set(stranger_lines.ids)]})
        self.assertIn("invoices of its own customer", str(refused.exception))
        with self.assertRaises(UserError) as refused:
            mine.write({"case_id": stranger_case.id})
        self.assertIn("case of its own customer", str(refused.exception))
        self.assertRecordValues(claim, [{"partner_id": self.customer.id, "case_id": self.case.id}])
        self.assertEqual(claim.line_ids, self._instalments(self.claimed))

    def test_other_company_claims_are_not_seen(self):
        other = self.setup_other_company(name="Pampa SA")["company"]
        self.manager.company_ids = [Command.link(other.id)]
        claim = self._claim()
        Claim = self.env["collection.payment.claim"].with_user(self.manager)
        self.assertEqual(Claim.with_context(allowed_company_ids=self.company.ids).search([]), claim)
        self.assertFalse(Claim.with_context(allowed_company_ids=other.ids).search([]))

    # ------------------------------------------------------------------
    # Dunning pauses, then resumes
    # ------------------------------------------------------------------

    def test_claimed_invoice_pauses_until_the_pause_ends(self):
        """Two overdue invoices and a payment on account: the claimed one leaves the reminder,
        the other is still chased net of the credit; after the pause the claimed one comes back."""
        self._payment_on_account(100.0)
        claim = self._claim()
        run = self._run()
        email = self._communications(channel="email")
        self.assertEqual(email.line_ids, self._instalments(self.other))
        self.assertRecordValues(email, [{"amount_total": 300.0, "amount_credit": 100.0, "amount_net": 200.0}])
        self.assertRecordValues(self._decisions(run), [{"reason": "send", "amount_net": 200.0}])
        # Resumed the day after the pause, without any cron.
        self._run(date=claim.pause_until + timedelta(days=1))
        later = self._communications(channel="email")[-1]
        self.assertEqual(later.line_ids, self._instalments(self.claimed + self.other))
        self.assertEqual(claim.state, "to_verify", "the claim itself waits for the collector")

    def test_every_invoice_claimed_is_the_decision_reason(self):
        claim = self._claim(self.claimed + self.other)
        run = self._run()
        self.assertFalse(self._communications())
        self.assertRecordValues(self._decisions(run), [{"reason": "claimed"}])
        self.assertIn("proof is to verify", self._decisions(run).detail)
        # Still paused on the last day of the pause, chased again the day after.
        last_day = self._run(run_type="dry_run", date=claim.pause_until)
        self.assertEqual(self._decisions(last_day).reason, "claimed")
        day_after = self._run(run_type="dry_run", date=claim.pause_until + timedelta(days=1))
        self.assertEqual(self._decisions(day_after).reason, "simulated")

    def test_rejected_claim_resumes_dunning_at_once(self):
        claim = self._claim(self.claimed + self.other)
        wizard = Form(
            self.env["collection.payment.claim.reject"]
            .with_user(self.collector_1)
            .with_context(**claim.with_user(self.collector_1).action_reject()["context"])
        )
        wizard.reason = "No such transfer on our bank statement."
        wizard.save().action_reject()
        self.assertRecordValues(
            claim, [{"state": "rejected", "reject_reason": "No such transfer on our bank statement."}]
        )
        self.assertFalse(self._activities(claim), "the task is done")
        self.assertEqual(self.case.payment_claim_count, 0)
        self._run()
        self.assertEqual(self._communications(channel="email").line_ids, self._instalments(self.claimed + self.other))

    def test_reject_may_tell_the_customer(self):
        claim = self._claim()
        claim.with_user(self.collector_1)._collection_reject("Wrong account <b>number</b>", notify=True)
        message = claim.message_ids.filtered(lambda m: m.partner_ids == self.customer)
        self.assertEqual(len(message), 1)
        self.assertIn("We could not find your payment", message.body)
        self.assertIn("Wrong account &lt;b&gt;number&lt;/b&gt;", message.body, "the reason is text")
        with self.assertRaisesRegex(UserError, "already verified or rejected"):
            claim._collection_reject("again")

    def test_verified_and_reconciled_leaves_nothing_to_chase(self):
        claim = self._claim(self.claimed + self.other)
        claim.with_user(self.collector_1).action_verify()
        self.assertEqual(claim.state, "verified")
        self.assertFalse(self._activities(claim))
        self.assertIn("Payment verified by Ana Collector", claim.message_ids[0].body)
        self._register_payment(self.claimed + self.other)
        self.assertEqual(claim.amount_residual, 0.0)
        run = self._run(date=self.today + timedelta(days=10))
        self.assertFalse(self._communications())
        self.assertFalse(self._decisions(run))

    def test_collector_records_it_from_the_case(self):
        action = self.case.with_user(self.collector_1).action_new_payment_claim()
        form = Form(self.env[action["res_model"]].with_user(self.collector_1).with_context(**action["context"]))
        self.assertEqual(len(form.line_ids), 2, "every overdue invoice is offered")
        form.line_ids.remove(id=self._instalments(self.other).id)
        form.reference = "Cheque 118"
        form.proof = base64.b64encode(PDF).decode()
        result = form.save().action_confirm()
        claim = self.env["collection.payment.claim"].browse(result["res_id"])
        self.assertRecordValues(claim, [{"source": "backoffice", "reference": "Cheque 118", "state": "to_verify"}])
        self.assertEqual(claim.line_ids, self._instalments(self.claimed))
        self.assertRecordValues(claim.attachment_ids, [{"name": "proof.pdf", "mimetype": "application/pdf"}])

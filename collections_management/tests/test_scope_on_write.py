from contextlib import contextmanager

from odoo import Command
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tests import Form, new_test_user, tagged

from .common_casework import COLLECTOR_GROUP, CaseworkCommon


class ScopeCommon(CaseworkCommon):
    """Ana works Abarrotes; Beto works Northwind (another team). Marta manages both teams."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.team_north = cls._team("North", cls.collector_1)
        cls.team_south = cls._team("South", cls.collector_2)
        cls.invoice_mine = cls._invoice(cls.customer, 300.0, days_late=20)
        cls.invoice_other = cls._invoice(cls.customer_b, 900.0, days_late=20)
        cls.case_mine, cls.case_other = cls.env["collection.case"].create(
            [
                {
                    "partner_id": cls.customer.id,
                    "company_id": cls.company.id,
                    "user_id": cls.collector_1.id,
                    "team_id": cls.team_north.id,
                },
                {
                    "partner_id": cls.customer_b.id,
                    "company_id": cls.company.id,
                    "user_id": cls.collector_2.id,
                    "team_id": cls.team_south.id,
                },
            ]
        )
        cls.other_company = cls.setup_other_company(name="Andes SpA")["company"]

    @contextmanager
    def assertRefused(self, message):
        """An AccessError whose message says why (rolled back like ``assertRaises``)."""
        with self.assertRaises(AccessError) as caught:
            yield
        self.assertIn(message, str(caught.exception))


@tagged("post_install", "-at_install")
class TestPromiseToPayAsCollector(ScopeCommon):
    def test_collector_records_a_promise_from_the_case(self):
        """Issue 11, item 2: the promise form read the policy (grace days) as the collector."""
        case = self.case_mine.with_user(self.collector_1)
        action = case.action_new_promise()
        promise_form = Form(self.env[action["res_model"]].with_user(self.collector_1).with_context(**action["context"]))
        promise_form.date = self.today.replace(day=28) if self.today.day < 28 else self.today
        promise = promise_form.save()
        self.assertRecordValues(
            promise,
            [
                {
                    "partner_id": self.customer.id,
                    "case_id": self.case_mine.id,
                    "amount": 300.0,
                    "state": "open",
                    "user_id": self.collector_1.id,
                    "grace_days": self.policy.promise_grace_days,
                }
            ],
        )
        self.assertEqual(self.case_mine.stage_id, self.stage_promise)
        # Still no access to the configuration itself.
        with self.assertRaises(AccessError):
            self.env["collection.policy"].with_user(self.collector_1).search([])


@tagged("post_install", "-at_install")
class TestCommunicationScope(ScopeCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.communication = cls.env["collection.communication"].create(
            {
                "partner_id": cls.customer.id,
                "company_id": cls.company.id,
                "channel": "call",
                "state": "done",
                "line_ids": [Command.set(cls._instalments(cls.invoice_mine).ids)],
            }
        )

    def test_collector_cannot_repoint_a_communication_to_another_customer(self):
        """Issue 11, item 1: the record rule checked the communication before the write."""
        communication = self.communication.with_user(self.collector_1)
        self.assertEqual(communication.partner_id, self.customer)  # Ana reads it
        with self.assertRaises(AccessError):
            communication.write({"partner_id": self.customer_b.id})
        with self.assertRaises(AccessError):
            communication.write({"line_ids": [Command.set(self._instalments(self.invoice_other).ids)]})
        with self.assertRaises(AccessError):
            communication.write({"note": "edited"})
        self.assertRecordValues(self.communication, [{"partner_id": self.customer.id, "note": False}])

    def test_collector_cannot_create_a_communication(self):
        with self.assertRaises(AccessError):
            self.env["collection.communication"].with_user(self.collector_1).create(
                {"partner_id": self.customer_b.id, "channel": "call", "state": "done"}
            )

    def test_manager_cannot_repoint_a_communication_either(self):
        communication = self.communication.with_user(self.manager)
        communication.note = "Spoke with accounts payable"
        for values in (
            {"partner_id": self.customer_b.id},
            {"company_id": self.other_company.id},
            {"line_ids": [Command.set(self._instalments(self.invoice_other).ids)]},
        ):
            with self.assertRaises(AccessError, msg=values):
                communication.write(values)
        self.assertRecordValues(
            self.communication, [{"partner_id": self.customer.id, "note": "Spoke with accounts payable"}]
        )

    def test_collector_still_logs_contacts_through_the_wizard(self):
        wizard = Form(
            self.env["collection.log.contact"]
            .with_user(self.collector_1)
            .with_context(default_case_id=self.case_mine.id)
        )
        wizard.outcome = "reached"
        wizard.note = "Will pay on Friday"
        wizard.save().action_log()
        logged = self._communications(self.customer, call_outcome="reached")
        self.assertRecordValues(
            logged, [{"user_id": self.collector_1.id, "note": "Will pay on Friday", "state": "done"}]
        )

    def test_log_contact_refuses_a_contact_of_another_customer(self):
        stranger = self.env["res.partner"].create({"name": "Stranger", "parent_id": self.customer_b.id})
        wizard = (
            self.env["collection.log.contact"]
            .with_user(self.collector_1)
            .create({"case_id": self.case_mine.id, "outcome": "reached", "contact_id": stranger.id})
        )
        with self.assertRaisesRegex(UserError, "customer or one of its contacts"):
            wizard.action_log()
        self.assertFalse(self._communications(self.customer, call_outcome="reached"))


@tagged("post_install", "-at_install")
class TestCaseScope(ScopeCommon):
    def test_collector_cannot_repoint_or_reassign_a_case(self):
        case = self.case_mine.with_user(self.collector_1)
        for values in (
            {"partner_id": self.customer_b.id},
            {"company_id": self.other_company.id},
            {"user_id": self.collector_3.id},
            {"team_id": self.team_south.id},
        ):
            with self.assertRefused("Only a collections manager"):
                case.write(values)
        self.assertRecordValues(
            self.case_mine,
            [{"partner_id": self.customer.id, "user_id": self.collector_1.id, "team_id": self.team_north.id}],
        )
        # Ana still sees only her customer's invoices.
        invoices = self.env["account.move"].with_user(self.collector_1).search([("move_type", "=", "out_invoice")])
        self.assertEqual(invoices, self.invoice_mine)

    def test_collector_works_the_case(self):
        case = self.case_mine.with_user(self.collector_1)
        case.write({"stage_id": self.stage_contacted.id, "priority": "3"})
        self.assertRecordValues(self.case_mine, [{"stage_id": self.stage_contacted.id, "priority": "3"}])

    def test_manager_reassigns_within_the_companies(self):
        # As the web client calls it: with the companies Marta works for.
        case = self.case_mine.with_user(self.manager).with_context(allowed_company_ids=self.company.ids)
        case.write({"user_id": self.collector_2.id, "team_id": self.team_south.id})
        self.assertRecordValues(self.case_mine, [{"user_id": self.collector_2.id, "team_id": self.team_south.id}])
        # Marta only works for the main company: she cannot move a case out of her reach.
        with self.assertRefused("outside what you may work on"):
            case.write({"company_id": self.other_company.id})
        self.assertEqual(self.case_mine.company_id, self.company)


@tagged("post_install", "-at_install")
class TestPromiseAndDisputeScope(ScopeCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.promise = cls.env["collection.promise"].create(
            {
                "partner_id": cls.customer.id,
                "company_id": cls.company.id,
                "date": cls.today,
                "plan_line_ids": [Command.create({"date": cls.today, "amount": 100.0})],
            }
        )
        cls.dispute = cls.env["collection.dispute"].create(
            {
                "partner_id": cls.customer.id,
                "company_id": cls.company.id,
                "reason_id": cls.reason_price.id,
                "move_ids": [Command.set(cls.invoice_mine.ids)],
            }
        )
        cls.other_promise = cls.env["collection.promise"].create(
            {"partner_id": cls.customer_b.id, "company_id": cls.company.id, "date": cls.today}
        )

    def test_collector_cannot_move_a_promise_to_another_customer(self):
        promise = self.promise.with_user(self.collector_1)
        with self.assertRefused("Only a collections manager"):
            promise.write({"partner_id": self.customer_b.id})
        with self.assertRaises(ValidationError) as caught:  # rolled back, like a refused request
            promise.write({"case_id": self.case_other.id})
        self.assertIn("case of its own customer", str(caught.exception))
        self.assertRecordValues(self.promise, [{"partner_id": self.customer.id, "case_id": self.case_mine.id}])

    def test_a_promise_cannot_pause_another_customers_instalments(self):
        foreign = self._instalments(self.invoice_other)
        with self.assertRaises(AccessError):  # Ana does not even read them
            self.promise.with_user(self.collector_1).write({"line_ids": [Command.link(foreign.id)]})
        # Marta reads them all: the promise's own rule (collection.promise._check_rules) refuses it.
        with self.assertRaises(ValidationError) as caught:  # rolled back, like a refused request
            self.promise.with_user(self.manager).write({"line_ids": [Command.link(foreign.id)]})
        self.assertIn("instalments of its own customer only", str(caught.exception))
        self.assertNotIn(foreign, self.promise.line_ids)
        # Northwind's instalment is still reminded: nothing pauses it.
        self.assertFalse(
            self.env["collection.promise"].search([("line_ids", "in", foreign.ids), ("state", "=", "open")])
            - self.other_promise
        )

    def test_collector_cannot_move_a_plan_instalment_to_another_promise(self):
        plan_line = self.promise.plan_line_ids.with_user(self.collector_1)
        with self.assertRaises(AccessError):
            plan_line.write({"promise_id": self.other_promise.id})
        self.assertEqual(self.promise.plan_line_ids.promise_id, self.promise)

    def test_collector_cannot_take_over_a_dispute_of_another_customer(self):
        dispute = self.dispute.with_user(self.collector_1)
        with self.assertRefused("Only a collections manager"):
            dispute.write({"partner_id": self.customer_b.id})
        with self.assertRaises(AccessError):  # Ana does not even read them
            dispute.write({"move_ids": [Command.link(self.invoice_other.id)]})
        # Marta reads them all: the dispute's own rule (collection.dispute._check_rules) refuses it.
        with self.assertRaises(ValidationError) as caught:  # rolled back, like a refused request
            self.dispute.with_user(self.manager).write({"move_ids": [Command.link(self.invoice_other.id)]})
        self.assertIn("invoices of its own customer only", str(caught.exception))
        self.assertEqual(self.dispute.line_ids, self._instalments(self.invoice_mine))

    def test_collector_cannot_open_a_dispute_on_another_customer_by_owning_it(self):
        """The dispute rule lets owners read their disputes; owning one is no way in."""
        with self.assertRaises(AccessError):
            self.env["collection.dispute"].with_user(self.collector_1).create(
                {
                    "partner_id": self.customer_b.id,
                    "company_id": self.company.id,
                    "reason_id": self.reason_price.id,
                    "user_id": self.collector_1.id,
                    "move_ids": [Command.set(self.invoice_other.ids)],
                }
            )
        self.assertFalse(self.env["collection.dispute"].search([("partner_id", "=", self.customer_b.id)]))

    def test_collector_hands_a_dispute_to_a_colleague(self):
        self.dispute.with_user(self.collector_1).user_id = self.collector_3
        self.assertEqual(self.dispute.user_id, self.collector_3)


@tagged("post_install", "-at_install")
class TestCustomerAndConfigurationScope(ScopeCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # A collector who may also edit contacts (common in small teams).
        cls.collector_contacts = new_test_user(
            cls.env,
            login="dora",
            name="Dora Collector",
            groups=f"{COLLECTOR_GROUP},base.group_partner_manager",
            company_id=cls.company.id,
        )
        cls.case_mine.user_id = cls.collector_contacts

    def test_collector_cannot_take_or_silence_another_teams_customer(self):
        other = self.customer_b.with_user(self.collector_contacts)
        for values in (
            {"collection_user_id": self.collector_contacts.id},
            {"collection_excluded": True},
            {"collection_policy_id": self.policy.id},
        ):
            with self.assertRefused("Only a collections manager"):
                other.write(values)
        with self.assertRefused("your own cases"):
            other.write({"collection_optout_email": True})
        self.assertRecordValues(
            self.customer_b,
            [{"collection_user_id": False, "collection_excluded": False, "collection_optout_email": False}],
        )
        other.write({"website": "https://northwind.example.com"})  # plain contact edits still work

    def test_collector_records_contact_facts_of_own_customer(self):
        mine = self.customer.with_user(self.collector_contacts)
        mine.write({"collection_optout_sms": True})
        accounting = self.env["res.partner"].create({"name": "Accounts Payable", "parent_id": self.customer.id})
        accounting.with_user(self.collector_contacts).collection_contact = True
        self.assertTrue(self.customer.collection_optout_sms)
        self.assertTrue(accounting.collection_contact)
        with self.assertRefused("Only a collections manager"):
            mine.write({"collection_excluded": True})

    def test_manager_sets_collector_and_exclusion(self):
        self.manager.group_ids = [Command.link(self.env.ref("base.group_partner_manager").id)]
        self.customer_b.with_user(self.manager).write(
            {"collection_user_id": self.collector_1.id, "collection_excluded": True}
        )
        self.assertRecordValues(
            self.customer_b, [{"collection_user_id": self.collector_1.id, "collection_excluded": True}]
        )

    def test_collector_cannot_touch_instalments_teams_or_stages(self):
        line = self._instalments(self.invoice_mine).with_user(self.collector_1)
        with self.assertRaises(AccessError):
            line.write({"collection_excluded": True})
        with self.assertRaises(AccessError):
            self.team_south.with_user(self.collector_1).write({"member_ids": [Command.link(self.collector_1.id)]})
        with self.assertRaises(AccessError):
            self.stage_new.with_user(self.collector_1).write({"role": "closed"})
        self.assertNotIn(self.collector_1, self.team_south.member_ids)
        self.assertFalse(self._instalments(self.invoice_mine).collection_excluded)

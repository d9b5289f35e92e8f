from odoo.exceptions import AccessError
from odoo.tests import new_test_user, tagged

from .common import CollectionsCommon


@tagged("post_install", "-at_install")
class TestCollectionsSecurity(CollectionsCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.other_company = cls.setup_other_company(name="Andes SpA")["company"]
        cls.other_policy = cls._create_policy(cls.other_company)
        cls.collector = new_test_user(
            cls.env,
            login="collector_sec",
            name="Carla Collector",
            groups="collections_management.collections_management_group_collector",
            company_id=cls.company.id,
            company_ids=[cls.company.id],
        )
        cls.manager = new_test_user(
            cls.env,
            login="manager_sec",
            name="Mario Manager",
            groups="collections_management.collections_management_group_manager",
            company_id=cls.company.id,
            company_ids=[cls.company.id],
        )
        cls.invoice_mine = cls._invoice(cls.customer, 300.0, days_late=8)
        cls.invoice_other = cls._invoice(cls.customer_b, 400.0, days_late=8)
        cls.case_mine, cls.case_other = cls.env["collection.case"].create(
            [
                {"partner_id": cls.customer.id, "company_id": cls.company.id, "user_id": cls.collector.id},
                {"partner_id": cls.customer_b.id, "company_id": cls.company.id},
            ]
        )
        cls.case_other_company = cls.env["collection.case"].create(
            {
                "partner_id": cls.customer.id,
                "company_id": cls.other_company.id,
            }
        )

    def test_accounting_administrators_are_collections_managers(self):
        admin = new_test_user(self.env, login="acc_admin_sec", groups="account.group_account_manager")
        self.assertTrue(admin.has_group("collections_management.collections_management_group_manager"))
        self.assertTrue(admin.has_group("collections_management.collections_management_group_collector"))

    def test_manager_implies_collector(self):
        self.assertTrue(self.manager.has_group("collections_management.collections_management_group_collector"))

    def test_collector_cannot_read_configuration(self):
        env = self.env(user=self.collector)
        for model in ("collection.policy", "collection.run"):
            with self.assertRaises(AccessError, msg=model):
                env[model].search([])
        with self.assertRaises(AccessError):
            env["collection.level"].browse(self.level_first.id).write({"days": 3})
        with self.assertRaises(AccessError):
            env["collection.case.stage"].create({"name": "Mine"})
        with self.assertRaises(AccessError):
            env["collection.team"].create({"name": "Mine"})

    def test_collector_sees_own_cases_and_their_invoices_only(self):
        env = self.env(user=self.collector)
        self.assertEqual(env["collection.case"].search([]), self.case_mine)
        with self.assertRaises(AccessError):
            env["collection.case"].browse(self.case_other.id).read(["partner_id"])
        self.assertEqual(env["account.move"].search([("move_type", "=", "out_invoice")]), self.invoice_mine)
        with self.assertRaises(AccessError):
            env["account.move"].browse(self.invoice_other.id).read(["amount_residual"])
        with self.assertRaises(AccessError):
            env["account.move"].browse(self.invoice_mine.id).write({"ref": "changed"})

    def test_collector_logs_a_contact_on_own_customer(self):
        """Collectors read communications; they log contacts through the wizard, never by
        writing the business log themselves (issue 11)."""
        env = self.env(user=self.collector)
        with self.assertRaises(AccessError):
            env["collection.communication"].create({"partner_id": self.customer.id, "channel": "call", "state": "done"})
        env["collection.log.contact"].create(
            {"case_id": self.case_mine.id, "outcome": "reached", "note": "Spoke with accounts payable"}
        ).action_log()
        contact = env["collection.communication"].search([])
        self.assertRecordValues(
            contact, [{"user_id": self.collector.id, "partner_id": self.customer.id, "call_outcome": "reached"}]
        )

    def test_collector_cannot_touch_payment_plans_of_other_customers(self):
        plan_mine, plan_other = self.env["collection.promise"].create(
            [
                {
                    "partner_id": partner.id,
                    "company_id": self.company.id,
                    "scope": "lines",
                    "line_ids": [(6, 0, self._instalments(invoice).ids)],
                    "plan_line_ids": [(0, 0, {"date": self.today, "amount": 100.0})],
                }
                for partner, invoice in ((self.customer, self.invoice_mine), (self.customer_b, self.invoice_other))
            ]
        )
        env = self.env(user=self.collector)
        self.assertEqual(env["collection.promise.line"].search([]), plan_mine.plan_line_ids)
        with self.assertRaises(AccessError):
            env["collection.promise.line"].browse(plan_other.plan_line_ids.id).unlink()

    def test_manager_does_not_see_another_company(self):
        env = self.env(user=self.manager)
        self.assertEqual(env["collection.case"].search([]), self.case_mine | self.case_other)
        with self.assertRaises(AccessError):
            env["collection.case"].browse(self.case_other_company.id).read(["partner_id"])
        self.assertEqual(env["collection.policy"].search([]), self.policy)
        with self.assertRaises(AccessError):
            env["collection.policy"].browse(self.other_policy.id).read(["name"])
        with self.assertRaises(AccessError):
            env["collection.level"].browse(self.other_policy.level_ids[:1].id).read(["name"])

    def test_manager_configures(self):
        env = self.env(user=self.manager)
        env["collection.level"].browse(self.level_first.id).write({"days": 4})
        self.assertEqual(self.level_first.days, 4)
        run = env["collection.run"].create({"run_type": "dry_run"})
        run.action_execute()
        self.assertEqual(run.state, "done")

    def test_menus_by_group(self):
        root = self.env.ref("collections_management.collections_menu_root")
        configuration = self.env.ref("collections_management.collections_configuration_menu")
        collector_menus = self.env["ir.ui.menu"].with_user(self.collector)._visible_menu_ids()
        manager_menus = self.env["ir.ui.menu"].with_user(self.manager)._visible_menu_ids()
        self.assertIn(root.id, collector_menus)
        self.assertNotIn(configuration.id, collector_menus)
        self.assertIn(configuration.id, manager_menus)
        internal = new_test_user(self.env, login="plain_user_sec", groups="base.group_user")
        self.assertNotIn(root.id, self.env["ir.ui.menu"].with_user(internal)._visible_menu_ids())

    def test_views_load(self):
        for model, views in {
            "collection.policy": ["list", "form"],
            "collection.level": ["list", "form"],
            "collection.run": ["list", "form"],
            "collection.communication": ["list", "form", "pivot"],
        }.items():
            result = self.env[model].get_views([(False, view) for view in views])
            self.assertEqual(set(result["views"]), set(views), model)

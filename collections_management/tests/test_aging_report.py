import base64
import io

import openpyxl

from odoo.tests import new_test_user, tagged

from .common import CollectionsCommon


@tagged("post_install", "-at_install")
class TestAgingReport(CollectionsCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.not_due = cls._invoice(cls.customer, 100.0, days_late=-5)
        cls.recent = cls._invoice(cls.customer, 200.0, days_late=10)
        cls.old = cls._invoice(cls.customer, 300.0, days_late=150)
        cls.other = cls._invoice(cls.customer_b, 400.0, days_late=45)
        cls.paid = cls._invoice(cls.customer_b, 999.0, days_late=45)
        cls._register_payment(cls.paid)
        cls._register_payment(cls.old, amount=50.0)

    def _report(self, partner):
        return self.env["collection.aging.report"].search(
            [
                ("partner_id", "=", partner.id),
                ("company_id", "=", self.company.id),
            ]
        )

    def test_buckets_and_residuals_come_from_the_journal_items(self):
        rows = self._report(self.customer).sorted("days_late")
        self.assertRecordValues(
            rows,
            [
                {"move_id": self.not_due.id, "bucket": "0_not_due", "amount_residual": 100.0, "days_late": -5},
                {"move_id": self.recent.id, "bucket": "1_30", "amount_residual": 200.0, "days_late": 10},
                {"move_id": self.old.id, "bucket": "5_older", "amount_residual": 250.0, "days_late": 150},
            ],
        )
        self.assertEqual(self._report(self.customer_b).move_id, self.other, "paid invoices are not open")

    def test_pivot_view_loads_and_groups_by_bucket(self):
        views = self.env["collection.aging.report"].get_views([(False, "pivot"), (False, "graph"), (False, "list")])
        self.assertEqual(set(views["views"]), {"pivot", "graph", "list"})
        groups = dict(
            self.env["collection.aging.report"]._read_group(
                [("company_id", "=", self.company.id)],
                ["bucket"],
                ["amount_residual:sum"],
            )
        )
        self.assertEqual(groups["2_60"], 400.0)
        self.assertEqual(groups["5_older"], 250.0)

    def test_excel_export_by_customer(self):
        wizard = self.env["collection.aging.export"].create({"company_id": self.company.id})
        action = wizard.action_export()
        self.assertIn("download=true", action["url"])
        workbook = openpyxl.load_workbook(io.BytesIO(base64.b64decode(wizard.xlsx_file)))
        sheet = workbook.active
        rows = list(sheet.iter_rows(values_only=True))
        self.assertEqual(rows[0][0], "Receivables Aging")
        self.assertIn(self.company.name, rows[1][0])
        self.assertEqual(rows[3][0], "Customer", "the header row is frozen below the title")
        self.assertEqual(sheet.freeze_panes, "B5")
        self.assertEqual(sheet.auto_filter.ref, "A4:J6")
        by_customer = {row[0]: row for row in rows[4:-1]}
        self.assertEqual(by_customer["Northwind Traders"][-1], 400.0)
        self.assertEqual(by_customer["Abarrotes del Bajío"][-1], 450.0, "overdue only: 200 + 250")
        self.assertEqual(rows[-1][0], "Total")
        self.assertEqual(rows[-1][-1], 850.0)

    def test_collector_sees_only_the_aging_of_own_cases(self):
        collector = new_test_user(
            self.env,
            login="collector_aging",
            groups="collections_management.collections_management_group_collector",
            company_id=self.company.id,
        )
        self.env["collection.case"].create(
            {
                "partner_id": self.customer.id,
                "company_id": self.company.id,
                "user_id": collector.id,
            }
        )
        rows = self.env["collection.aging.report"].with_user(collector).search([])
        self.assertEqual(rows.partner_id, self.customer)

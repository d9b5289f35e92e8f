import base64
import io
import json
from datetime import date, datetime

import openpyxl

from odoo import Command, fields
from odoo.exceptions import AccessError
from odoo.tests import freeze_time, new_test_user, tagged

from ..models.collection_promise import CREATING
from .common import CollectionsCommon


class KpiCommon(CollectionsCommon):
    """A small portfolio, worked out by hand (amounts in the company currency, USD; 1 USD = 2 EUR).

    Company A:
      - Abarrotes (MX):
        INV1  1000 USD, dated 2026-03-10, due 2026-04-09; paid 400 on 04-20, 600 on 06-05.
        INV2   600 USD, dated 2026-04-15, due 2026-05-15; credit note of 200 dated 05-20 reconciled.
      - Northwind (US):
        INV3  2000 EUR (1000 USD), dated 2026-05-05, due 2026-06-04; paid 500 EUR (250 USD) on 05-25.
        INV4   300 USD, dated 2026-06-01, due 2026-07-01.
    Company B: an invoice of 5000 to Abarrotes dated 2026-03-10, due 04-09, unpaid (must never show).

    Abarrotes has a case worked by ``collector``; Northwind has none. Reports are read as of
    2026-06-15."""

    TODAY = "2026-06-15"
    KPI_MEASURES = [
        "ar_begin:sum",
        "sales:sum",
        "ar_end:sum",
        "current_end:sum",
        "dso:sum",
        "dso_countback:sum",
        "bpdso:sum",
        "cei:sum",
        "overdue_share:sum",
    ]
    ROLL_MEASURES = ["amount_start:sum", "amount_rolled:sum", "amount_stayed:sum", "amount_collected:sum"]

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.eur = cls.setup_other_currency("EUR", rates=[("2026-01-01", 2.0)])
        cls.inv1 = cls._dated_invoice(cls.customer, 1000.0, "2026-03-10", "2026-04-09")
        cls.inv2 = cls._dated_invoice(cls.customer, 600.0, "2026-04-15", "2026-05-15")
        cls.inv3 = cls._dated_invoice(cls.customer_b, 2000.0, "2026-05-05", "2026-06-04", currency=cls.eur)
        cls.inv4 = cls._dated_invoice(cls.customer_b, 300.0, "2026-06-01", "2026-07-01")
        cls._register_payment(cls.inv1, amount=400.0, payment_date="2026-04-20")
        cls._register_payment(cls.inv1, amount=600.0, payment_date="2026-06-05")
        cls._register_payment(cls.inv3, amount=500.0, payment_date="2026-05-25", currency_id=cls.eur.id)
        refund = cls._dated_invoice(cls.customer, 200.0, "2026-05-20", "2026-05-20", move_type="out_refund")
        (cls.inv2 + refund).line_ids.filtered(
            lambda line: line.account_id.account_type == "asset_receivable"
        ).reconcile()

        cls.company_b = cls.setup_other_company(name="Company B")["company"]
        cls._dated_invoice(cls.customer, 5000.0, "2026-03-10", "2026-04-09", company=cls.company_b)

        cls.collector = new_test_user(
            cls.env,
            login="kpi_collector",
            groups="collections_management.collections_management_group_collector",
            company_id=cls.company.id,
        )
        cls.manager = new_test_user(
            cls.env,
            login="kpi_manager",
            groups="collections_management.collections_management_group_manager",
            company_id=cls.company.id,
        )
        cls.case = cls.env["collection.case"].create(
            {"partner_id": cls.customer.id, "company_id": cls.company.id, "user_id": cls.collector.id}
        )

    @classmethod
    def _dated_invoice(cls, partner, amount, invoice_date, due, currency=None, company=None, move_type="out_invoice"):
        company = company or cls.company
        move = (
            cls.env["account.move"]
            .with_company(company)
            .create(
                {
                    "move_type": move_type,
                    "partner_id": partner.id,
                    "company_id": company.id,
                    "invoice_date": invoice_date,
                    "invoice_date_due": due,
                    "currency_id": (currency or company.currency_id).id,
                    "invoice_line_ids": [
                        Command.create({"name": "Services", "price_unit": amount, "tax_ids": [Command.clear()]})
                    ],
                }
            )
        )
        move.action_post()
        return move

    def _read(self, model, groupby, measures, direct=False, user=None):
        report = self.env[model].with_user(user or self.manager).with_context(collection_kpi_direct=direct)
        return {tuple(row[: len(groupby)]): row[len(groupby) :] for row in report._read_group([], groupby, measures)}

    def assertSnapshotMatchesDirect(self, user=None):
        for groupby in (["date:month"], ["date:month", "partner_id"], ["partner_id"]):
            for period_type in ("month", "quarter"):
                domain = [("period_type", "=", period_type)]
                report = self.env["collection.kpi.report"].with_user(user or self.manager)
                snapshot = report._read_group(domain, groupby, self.KPI_MEASURES)
                direct = report.with_context(collection_kpi_direct=True)._read_group(domain, groupby, self.KPI_MEASURES)
                self.assertEqual(snapshot, direct, f"KPIs per {groupby} and {period_type}")
        for groupby in (["date:month", "bucket"], ["partner_id", "bucket"]):
            self.assertEqual(
                self._read("collection.roll.rate.report", groupby, self.ROLL_MEASURES, user=user),
                self._read("collection.roll.rate.report", groupby, self.ROLL_MEASURES, direct=True, user=user),
                f"roll rates per {groupby}",
            )

    def _totals(self, model, groupby, measures, domain=None, user=None):
        """{group key: (measures...)} read as ``user`` (the manager by default)."""
        report = self.env[model].with_user(user or self.manager)
        rows = report._read_group(domain or [], groupby, measures)
        return {row[: len(groupby)] if len(groupby) > 1 else row[0]: row[len(groupby) :] for row in rows}


@tagged("post_install", "-at_install")
class TestAgingAtDate(KpiCommon):
    def _aging(self, day, user=None):
        report = self.env["collection.aging.date.report"].with_user(user or self.manager)
        return dict(report.with_context(collection_aging_date=day)._read_group([], ["bucket"], ["amount_residual:sum"]))

    def test_aging_on_past_dates_counts_reconciliations_up_to_that_day(self):
        """On 04-30: INV1 1000 − 400 paid on 04-20 = 600, 21 days late (1-30); INV2 600 not due.
        On 05-31: INV1 600, 52 days (31-60); INV2 600 − 200 credit note of 05-20 = 400, 16 days
        (1-30); INV3 1000 − 250 = 750 not due. Company B's 5000 never shows."""
        self.assertEqual(self._aging("2026-04-30"), {"1_30": 600.0, "0_not_due": 600.0})
        self.assertEqual(self._aging("2026-05-31"), {"0_not_due": 750.0, "1_30": 400.0, "2_60": 600.0})
        self.assertEqual(self._aging("2026-03-09"), {}, "nothing was invoiced yet")

    def test_collector_sees_the_aging_of_own_customers(self):
        """The collector works Abarrotes only: on 05-31, INV1 600 and INV2 400."""
        self.assertEqual(self._aging("2026-05-31", self.collector), {"1_30": 400.0, "2_60": 600.0})

    def test_wizard_opens_the_aging_at_the_chosen_date(self):
        wizard = self.env["collection.aging.date.wizard"].with_user(self.collector).create({"aging_date": "2026-04-30"})
        action = wizard.action_open()
        self.assertEqual(action["res_model"], "collection.aging.date.report")
        rows = self.env["collection.aging.date.report"].with_user(self.collector).with_context(**action["context"])
        self.assertEqual(sum(rows.search([]).mapped("amount_residual")), 1200.0)

    def test_future_date_is_refused(self):
        wizard = self.env["collection.aging.date.wizard"].create({"aging_date": "2999-01-01"})
        with self.assertRaisesRegex(Exception, "future"):
            wizard.action_open()


@tagged("post_install", "-at_install")
class TestAgingAtDateMatchesToday(CollectionsCommon):
    def test_aging_as_of_today_equals_todays_aging(self):
        """Partial payments, a credit note and a foreign currency: today, both reports agree."""
        eur = self.setup_other_currency("EUR")
        self._invoice(self.customer, 100.0, days_late=-5)
        partly = self._invoice(self.customer, 300.0, days_late=150)
        self._register_payment(partly, amount=50.0)
        foreign = self._invoice(self.customer_b, 900.0, days_late=45, currency=eur)
        self._register_payment(foreign, amount=100.0, currency_id=eur.id)
        credited = self._invoice(self.customer_b, 400.0, days_late=70)
        refund = self.env["account.move"].create(
            {
                "move_type": "out_refund",
                "partner_id": self.customer_b.id,
                "invoice_date": self.today,
                "invoice_line_ids": [Command.create({"name": "Return", "price_unit": 150.0, "tax_ids": []})],
            }
        )
        refund.action_post()
        (credited + refund).line_ids.filtered(
            lambda line: line.account_id.account_type == "asset_receivable"
        ).reconcile()
        paid = self._invoice(self.customer, 250.0, days_late=10)
        self._register_payment(paid)
        domain = [("company_id", "=", self.company.id)]
        self.env.flush_all()  # today's aging report declares no _depends: write pending changes first
        today_aging = dict(self.env["collection.aging.report"]._read_group(domain, ["bucket"], ["amount_residual:sum"]))
        as_of_today = dict(
            self.env["collection.aging.date.report"]._read_group(domain, ["bucket"], ["amount_residual:sum"])
        )
        self.assertEqual(as_of_today, today_aging)
        self.assertEqual(as_of_today["3_90"], 250.0, "credit note applied: 400 − 150")


@tagged("post_install", "-at_install")
@freeze_time(KpiCommon.TODAY)
class TestPeriodKpis(KpiCommon):
    def _kpis(self, period_type, user=None, domain=None):
        return self._totals(
            "collection.kpi.report",
            ["date:month" if period_type == "month" else "date:quarter"],
            [
                "ar_begin:sum",
                "sales:sum",
                "ar_end:sum",
                "current_end:sum",
                "collected:sum",
                "dso:sum",
                "dso_countback:sum",
                "bpdso:sum",
                "add:sum",
                "cei:sum",
            ],
            [("period_type", "=", period_type)] + (domain or []),
            user,
        )

    def test_may_dso_cei_and_add(self):
        """May 2026 (31 days), company A:
        Receivables at start (04-30): INV1 1000 − 400 + INV2 600 = 1200.
        Credit sales: INV3 1000 − credit note 200 = 800. Receivables at end: 1200 + 800 − 250 paid = 1750.
        Current at end (due on or after 05-31): INV3 1000 − 250 = 750.
        DSO = 1750 / 800 × 31 = 67.81; BPDSO = 750 / 800 × 31 = 29.06; ADD = 38.75;
        CEI = (1200 + 800 − 1750) / (1200 + 800 − 750) × 100 = 20.00.
        Count-back: May's 800 (31 days), April's 600 (30 days), then 350 of March's 1000 (× 31)
        = 31 + 30 + 10.85 = 71.85."""
        may = self._kpis("month")[datetime(2026, 5, 1).date()]
        self.assertEqual(may, (1200.0, 800.0, 1750.0, 750.0, 250.0, 67.81, 71.85, 29.06, 38.75, 20.0))

    def test_june_so_far_and_second_quarter(self):
        """June to the 15th (15 days): start 1750, sales INV4 300, paid 600 → end 1450, current 300 (INV4).
        DSO = 1450 / 300 × 15 = 72.5, BPDSO = 15, CEI = 600 / 1750 × 100 = 34.29.
        Q2 (76 days): start 1000 (INV1), sales 600 + 800 + 300 = 1700, end 1450, current 300:
        DSO = 1450 / 1700 × 76 = 64.82, BPDSO = 13.41, CEI = 1250 / 2400 × 100 = 52.08.
        Count-back of Q2 from June: 300 (15 days), 800 (31), 350 of April's 600 × 30 = 17.5 → 63.5."""
        june = self._kpis("month")[date(2026, 6, 1)]
        self.assertEqual(june, (1750.0, 300.0, 1450.0, 300.0, 600.0, 72.5, 63.5, 15.0, 57.5, 34.29))
        quarter = self._kpis("quarter")[date(2026, 4, 1)]
        self.assertEqual(quarter, (1000.0, 1700.0, 1450.0, 300.0, 1250.0, 64.82, 63.5, 13.41, 51.41, 52.08))

    def test_collector_sees_own_customers_and_other_company_stays_out(self):
        """The collector's Abarrotes in April: start 1000, sales 600, paid 400 → end 1200, nothing
        current at 04-30 except INV2 (600): DSO = 1200 / 600 × 30 = 60, BPDSO 30, CEI = 400 / 1000 = 40;
        count-back: April 600 (30 days) then 600 of March's 1000 × 31 = 48.6.
        Company B's 5000 for the same customer is not counted."""
        april = self._kpis("month", self.collector)[date(2026, 4, 1)]
        self.assertEqual(april, (1000.0, 600.0, 1200.0, 600.0, 400.0, 60.0, 48.6, 30.0, 30.0, 40.0))
        partners = self.env["collection.kpi.report"].with_user(self.collector).search([]).partner_id
        self.assertEqual(partners, self.customer)

    def test_filters_by_country(self):
        """Northwind (US) alone in May: start 0, sales 1000, paid 250 → end 750, all current:
        DSO = BPDSO = 750 / 1000 × 31 = 23.25, CEI = 250 / 250 = 100."""
        may = self._kpis("month", domain=[("country_id", "=", self.env.ref("base.us").id)])[date(2026, 5, 1)]
        self.assertEqual(may, (0.0, 1000.0, 750.0, 750.0, 250.0, 23.25, 23.25, 23.25, 0.0, 100.0))

    def test_views_load(self):
        for model in ("collection.kpi.report", "collection.roll.rate.report", "collection.aging.date.report"):
            views = self.env[model].with_user(self.manager).get_views([(False, "pivot"), (False, "graph")])
            self.assertEqual(set(views["views"]), {"pivot", "graph"})


@tagged("post_install", "-at_install")
@freeze_time(KpiCommon.TODAY)
class TestRollRates(KpiCommon):
    def test_roll_rates_per_month_and_bucket(self):
        """Month ends whose next month is over on 06-15: 03-31 and 04-30.
        03-31: INV1 1000 not due; on 04-30 600 is 21 days late (rolled), 400 was paid: 60 % / 40 %.
        04-30: INV1 600 in 1-30 is unpaid and 52 days late on 05-31: 100 % rolled.
               INV2 600 not due; on 05-31 400 is late (rolled), 200 credited: 66.67 % / 33.33 %."""
        rows = self._totals(
            "collection.roll.rate.report",
            ["date:month", "bucket"],
            [
                "amount_start:sum",
                "amount_rolled:sum",
                "amount_stayed:sum",
                "amount_collected:sum",
                "roll_rate:sum",
                "collection_rate:sum",
            ],
        )
        self.assertEqual(
            rows,
            {
                (date(2026, 3, 1), "0_not_due"): (1000.0, 600.0, 0.0, 400.0, 60.0, 40.0),
                (date(2026, 4, 1), "0_not_due"): (600.0, 400.0, 0.0, 200.0, 66.67, 33.33),
                (date(2026, 4, 1), "1_30"): (600.0, 600.0, 0.0, 0.0, 100.0, 0.0),
            },
        )
        april = self._totals("collection.roll.rate.report", ["date:month"], ["roll_rate:sum"])
        self.assertEqual(april[date(2026, 4, 1)], (83.33,), "(400 + 600) / 1200 over both buckets")


@tagged("post_install", "-at_install")
@freeze_time(KpiCommon.TODAY)
class TestKpiSnapshot(KpiCommon):
    """The KPI and roll-rate reports read the months already over from a monthly snapshot: it must
    give the figures of the direct computation from the journal items, also after a late change
    dated in a past month."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # More variety: INV5 of February, partly paid in March; INV6 of April, due in June, partly
        # paid in June.
        cls.inv5 = cls._dated_invoice(cls.customer_b, 900.0, "2026-02-10", "2026-03-12")
        cls._register_payment(cls.inv5, amount=300.0, payment_date="2026-03-20")
        cls.inv6 = cls._dated_invoice(cls.customer, 700.0, "2026-04-28", "2026-06-28")
        cls._register_payment(cls.inv6, amount=250.0, payment_date="2026-06-10")

    def _may(self):
        return self._read("collection.kpi.report", ["date:month"], ["ar_end:sum", "current_end:sum"])[
            (date(2026, 5, 1),)
        ]

    def test_snapshot_gives_the_direct_figures(self):
        self.assertSnapshotMatchesDirect()
        self.assertSnapshotMatchesDirect(self.collector)
        months = self.env["collection.kpi.snapshot"].search([]).mapped("month")
        self.assertNotIn(date(2026, 6, 1), months, "the current month is computed live, never stored")
        self.assertIn(date(2026, 5, 1), months)

    def test_late_payment_dated_in_a_past_month(self):
        """May ends with 1750 + INV5's 600 + INV6's 700 = 3050 owed, 750 (INV3) + 700 (INV6) not due.
        A payment of 100 on INV2 dated 05-10, entered today, lowers May's receivables to 2950 (and
        the roll rates of April) at once."""
        self.assertEqual(self._may(), (3050.0, 1450.0))
        self._register_payment(self.inv2, amount=100.0, payment_date="2026-05-10")
        self.assertEqual(self._may(), (2950.0, 1450.0))
        self.assertSnapshotMatchesDirect()
        # A payment of INV6 dated 05-20 (before it is due): May's current receivables drop too.
        self._register_payment(self.inv6, amount=50.0, payment_date="2026-05-20")
        self.assertEqual(self._may(), (2900.0, 1400.0))
        self.assertSnapshotMatchesDirect()

    def test_late_payment_recomputes_only_its_customer(self):
        """The payment of 100 on INV2 (Abarrotes) dated 05-10 marks only Abarrotes from May: the
        next report recomputes Abarrotes' rows from May, keeps Bodega's rows and every month as
        they were, and gives the direct figures."""
        self._may()
        snapshot = self.env["collection.kpi.snapshot"]
        stale = self.env["collection.kpi.snapshot.stale"]
        others = snapshot.search([("partner_id", "!=", self.customer.id)])
        earlier = snapshot.search([("partner_id", "=", self.customer.id), ("month", "<", "2026-05-01")])
        self.assertTrue(others and earlier)
        self._register_payment(self.inv2, amount=100.0, payment_date="2026-05-10")
        self.assertEqual(
            stale.search([]).mapped(lambda row: (row.partner_id, row.month)), [(self.customer, date(2026, 5, 1))]
        )
        self.assertFalse(self.env["collection.kpi.snapshot.month"].search([("stale", "=", True)]), "no whole month")
        self.assertEqual(self._may(), (2950.0, 1450.0))
        self.assertFalse(stale.search([]), "recomputed by the report")
        self.assertEqual(snapshot.search([("partner_id", "!=", self.customer.id)]), others, "other customers untouched")
        self.assertEqual(
            snapshot.search([("partner_id", "=", self.customer.id), ("month", "<", "2026-05-01")]),
            earlier,
            "Abarrotes' months before May untouched",
        )
        self.assertSnapshotMatchesDirect()
        # A payment dated in the current month changes no stored month.
        self._register_payment(self.inv2, amount=50.0, payment_date="2026-06-01")
        self.assertFalse(stale.search([]))

    def test_reset_to_draft_and_cancel_a_past_invoice(self):
        self._may()
        self.inv6.button_draft()
        self.assertEqual(self._may(), (2350.0, 750.0))
        self.assertSnapshotMatchesDirect()
        self.inv6.action_post()
        self.assertEqual(self._may(), (3050.0, 1450.0))
        self.assertSnapshotMatchesDirect()

    def test_daily_refresh_finds_changes_made_without_the_orm(self):
        """An import script deletes March's partial payment of INV5 with SQL: no write marks the
        snapshot stale, the daily refresh finds the month by its fingerprint."""
        self._may()
        partial = self.inv5.line_ids.matched_credit_ids
        self.env.cr.execute("DELETE FROM account_partial_reconcile WHERE id = %s", [partial.id])
        self.env.invalidate_all()
        stale = self._read("collection.roll.rate.report", ["date:month", "bucket"], self.ROLL_MEASURES)
        direct = self._read("collection.roll.rate.report", ["date:month", "bucket"], self.ROLL_MEASURES, direct=True)
        self.assertNotEqual(stale, direct, "the snapshot does not know yet")
        self.env["collection.kpi.snapshot"]._cron_refresh()
        self.assertSnapshotMatchesDirect()

    def test_refresh_is_for_managers(self):
        with self.assertRaises(AccessError):
            self.env["collection.kpi.snapshot"].with_user(self.collector).action_refresh()
        self.assertTrue(self.env["collection.kpi.snapshot"].with_user(self.manager).action_refresh())


@tagged("post_install", "-at_install")
@freeze_time(KpiCommon.TODAY)
class TestCountbackBeyondTwelveMonths(KpiCommon):
    """The count-back DSO goes back 12 months, then counts what is still owed at the average daily
    sales of those 12 months.

    Ferretería El Moroso (MX) owes a big invoice of 10000 dated 2025-03-15 (15 months before
    today), never paid, and buys 73 on the 10th of every month since (2025-04-10 to 2026-06-10),
    none paid. Bodega Dormida owes an invoice of 500 dated 2025-03-15 and bought nothing since.

    May 2026, El Moroso: receivables at end 10000 + 14 × 73 (April 2025 to May 2026) = 11022.
    The 12 months June 2025 to May 2026 have 30 + 31 + 31 + 30 + 31 + 30 + 31 + 31 + 28 + 31 +
    30 + 31 = 365 days and 12 × 73 = 876 of sales, all counted whole; 11022 − 876 = 10146 remain,
    at 876 ÷ 365 = 2.4 a day: 10146 ÷ 2.4 = 4227.5 days more. Count-back DSO = 365 + 4227.5 =
    4592.5 (counting 6 months only, it stopped at 182).
    Bodega Dormida in May: no sales in the 12 months, 500 owed: the 365 days and nothing more.
    El Moroso and Northwind together in May: receivables 11022 + 750 = 11772; sales of May
    73 + 1000 = 1073, of each of the 11 months before 73: 1876 in 365 days, all counted whole;
    11772 − 1876 = 9896 remain, at 1876 ÷ 365 a day: 9896 × 365 ÷ 1876 = 1925.39 days more →
    2290.39 (not the 4592.5 + 23.25 of the two rows added)."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        mexico = cls.env.ref("base.mx")
        cls.slow_payer = cls.env["res.partner"].create(
            {"name": "Ferretería El Moroso", "is_company": True, "country_id": mexico.id}
        )
        cls.dormant = cls.env["res.partner"].create(
            {"name": "Bodega Dormida", "is_company": True, "country_id": mexico.id}
        )
        cls._dated_invoice(cls.slow_payer, 10000.0, "2025-03-15", "2025-04-14")
        cls._dated_invoice(cls.dormant, 500.0, "2025-03-15", "2025-04-14")
        for month in range(15):
            year, month_index = divmod(3 + month, 12)  # April 2025 (index 3) to June 2026
            invoice_date = date(2025 + year, month_index + 1, 10)
            cls._dated_invoice(cls.slow_payer, 73.0, invoice_date, fields.Date.add(invoice_date, days=30))

    def _may_countback(self, partners):
        rows = self._totals(
            "collection.kpi.report",
            ["date:month"],
            ["ar_end:sum", "dso_countback:sum"],
            [("period_type", "=", "month"), ("partner_id", "in", partners.ids)],
        )
        return rows[date(2026, 5, 1)]

    def test_receivables_beyond_twelve_months_count_at_the_average_daily_sales(self):
        self.assertEqual(self._may_countback(self.slow_payer), (11022.0, 4592.5))
        row = (
            self.env["collection.kpi.report"]
            .with_user(self.manager)
            .search(
                [("period_type", "=", "month"), ("date", "=", "2026-05-01"), ("partner_id", "=", self.slow_payer.id)]
            )
        )
        self.assertRecordValues(
            row, [{"ar_end": 11022.0, "sales_m0": 73.0, "sales_m11": 73.0, "days_m11": 30, "dso_countback": 4592.5}]
        )

    def test_no_sales_in_twelve_months_stops_at_their_days(self):
        self.assertEqual(self._may_countback(self.dormant), (500.0, 365.0))

    def test_customers_within_twelve_months_keep_the_plain_countback(self):
        """Northwind in May (see TestPeriodKpis.test_filters_by_country): 750 of May's 1000 × 31 =
        23.25; Abarrotes in April (test_collector_sees_own_customers...): 30 + 600 ÷ 1000 × 31 =
        48.6."""
        self.assertEqual(self._may_countback(self.customer_b), (750.0, 23.25))
        april = self._totals(
            "collection.kpi.report",
            ["date:month"],
            ["dso_countback:sum"],
            [("period_type", "=", "month"), ("partner_id", "=", self.customer.id)],
        )[date(2026, 4, 1)]
        self.assertEqual(april, (48.6,))

    def test_grouped_row_counts_back_from_the_groups_totals(self):
        self.assertEqual(self._may_countback(self.slow_payer + self.customer_b), (11772.0, 2290.39))

    def test_snapshot_stores_twelve_months_and_gives_the_direct_figures(self):
        self.assertSnapshotMatchesDirect()
        may = self.env["collection.kpi.snapshot"].search(
            [("partner_id", "=", self.slow_payer.id), ("month", "=", "2026-05-01")]
        )
        self.assertRecordValues(may, [{"ar_end": 11022.0, "sales": 73.0, "sales_m6": 73.0, "sales_m11": 73.0}])


class ActivityCommon(KpiCommon):
    """The portfolio of ``KpiCommon`` with promises and communications.

    Promises (checked on 2026-06-01, grace 3 days):
      P1 Abarrotes INV1, made 04-15, 400 by 04-25, taken by the collector: 400 paid 04-20 → kept (checked 05-01).
      P2 Abarrotes INV2, made 05-10, 600 by 05-25, taken by the collector: credit note 200 on 05-20 → partly kept.
      P3 Northwind INV3, made 05-01, 1000 by 05-10, taken by the manager: 250 paid 05-25, late → broken.
    Communications:
      C1 run, Abarrotes, e-mail sent 05-16, level 1, 600 (INV2): credit note 200 four days later.
      C2 same run and customer, SMS delivered: the same reminder on another channel.
      C3 call by the collector 05-18, reached, no amount.
      C4 run, Northwind, e-mail sent 05-12, 750 (INV3): 250 paid 13 days later.
      C5 dry run for Abarrotes: never counted.
      C6 same run, Northwind, SMS failed 05-12, 750: the reminder did not go out on that channel."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        instalments = cls._instalments(cls.inv1 + cls.inv2 + cls.inv3)
        line1, line2, line3 = (
            instalments.filtered(lambda line, m=move: line.move_id == m) for move in cls.inv1 + cls.inv2 + cls.inv3
        )
        # History as it was: each promise passed the rules on the day it was made; its invoices are
        # paid since, so today's rules ("nothing left to promise") would refuse to record it again.
        Promise = cls.env["collection.promise"].with_context(collection_promise_creating=CREATING)

        def promise(partner, line, made, due, amount, user):
            return Promise.create(
                {
                    "partner_id": partner.id,
                    "company_id": cls.company.id,
                    "line_ids": [Command.set(line.ids)],
                    "date_made": made,
                    "date": due,
                    "amount": amount,
                    "user_id": user.id,
                }
            )

        # One promise under way per customer: P1 is settled (kept) before P2 is made.
        cls.p1 = promise(cls.customer, line1, "2026-04-15", "2026-04-25", 400.0, cls.collector)
        cls.p1.with_env(cls.env)._check_promises(today=date(2026, 5, 1))
        cls.p2 = promise(cls.customer, line2, "2026-05-10", "2026-05-25", 600.0, cls.collector)
        cls.p3 = promise(cls.customer_b, line3, "2026-05-01", "2026-05-10", 1000.0, cls.manager)
        promises = cls.p1 | cls.p2 | cls.p3
        promises = promises.with_env(cls.env)
        promises._check_promises(today=date(2026, 6, 1))
        run = cls.env["collection.run"].create(
            {"company_id": cls.company.id, "run_type": "manual", "date": "2026-05-16"}
        )
        Communication = cls.env["collection.communication"]
        values = {"company_id": cls.company.id, "direction": "outbound", "level_id": cls.level_first.id}
        Communication.create(
            [
                values
                | {
                    "run_id": run.id,
                    "partner_id": cls.customer.id,
                    "channel": "email",
                    "state": "sent",
                    "date": "2026-05-16 10:00:00",
                    "amount_total": 600.0,
                    "line_ids": [Command.set(line2.ids)],
                },
                values
                | {
                    "run_id": run.id,
                    "partner_id": cls.customer.id,
                    "channel": "sms",
                    "state": "delivered",
                    "date": "2026-05-16 10:00:00",
                    "amount_total": 600.0,
                    "line_ids": [Command.set(line2.ids)],
                },
                values
                | {
                    "partner_id": cls.customer.id,
                    "channel": "call",
                    "state": "done",
                    "call_outcome": "reached",
                    "level_id": False,
                    "user_id": cls.collector.id,
                    "date": "2026-05-18 15:00:00",
                },
                values
                | {
                    "run_id": run.id,
                    "partner_id": cls.customer_b.id,
                    "channel": "email",
                    "state": "sent",
                    "date": "2026-05-12 10:00:00",
                    "amount_total": 750.0,
                    "line_ids": [Command.set(line3.ids)],
                },
                values
                | {
                    "run_id": run.id,
                    "partner_id": cls.customer_b.id,
                    "channel": "sms",
                    "state": "failed",
                    "date": "2026-05-12 10:00:00",
                    "amount_total": 750.0,
                    "line_ids": [Command.set(line3.ids)],
                },
                values
                | {
                    "partner_id": cls.customer.id,
                    "channel": "email",
                    "state": "simulated",
                    "date": "2026-05-16 10:00:00",
                    "amount_total": 600.0,
                    "line_ids": [Command.set(line2.ids)],
                },
            ]
        )


@tagged("post_install", "-at_install")
class TestPromiseKpis(ActivityCommon):
    MEASURES = [
        "settled_count:sum",
        "kept_count:sum",
        "amount_settled:sum",
        "amount_kept:sum",
        "kept_rate:sum",
        "kept_amount_rate:sum",
    ]

    def test_promises_were_settled_as_the_docstring_says(self):
        self.assertRecordValues(
            self.p1 + self.p2 + self.p3, [{"state": "kept"}, {"state": "partial"}, {"state": "broken"}]
        )

    def test_promise_kept_rate_by_count_and_amount(self):
        """1 kept of 3 settled = 33.33 %; amount kept 400 + 200 + 0 of 2000 promised = 30 %.
        By month made: April P1 100 % / 100 %; May P2 and P3: 0 % by count, 200 / 1600 = 12.5 %."""
        totals = self.env["collection.promise.report"].with_user(self.manager)._read_group([], [], self.MEASURES)
        self.assertEqual(totals[0], (3, 1, 2000.0, 600.0, 33.33, 30.0))
        by_month = self._totals(
            "collection.promise.report", ["date_made:month"], ["kept_rate:sum", "kept_amount_rate:sum"]
        )
        self.assertEqual(by_month, {date(2026, 4, 1): (100.0, 100.0), date(2026, 5, 1): (0.0, 12.5)})

    def test_by_collector_and_collector_scope(self):
        """The collector's customer (Abarrotes): P1 and P2, 1 of 2 kept = 50 %, 600 of 1000 = 60 %.
        Taken by: the collector P1 + P2, the manager P3 (0 %)."""
        mine = self.env["collection.promise.report"].with_user(self.collector)._read_group([], [], self.MEASURES)[0]
        self.assertEqual(mine, (2, 1, 1000.0, 600.0, 50.0, 60.0))
        by_taker = self._totals("collection.promise.report", ["taken_by_id"], ["kept_rate:sum"])
        self.assertEqual(by_taker, {self.collector: (50.0,), self.manager: (0.0,)})


@tagged("post_install", "-at_install")
class TestCommunicationKpis(ActivityCommon):
    def test_a_reminder_on_two_channels_counts_once(self):
        """Reminders: C1 (C2 is the same reminder by SMS), the call C3 and C4 (C6 failed) = 3, amount
        600 + 0 + 750 = 1350; per channel that went out 600 + 600 + 0 + 750 = 1950. The dry run C5
        is not counted."""
        totals = (
            self.env["collection.communication.report"]
            .with_user(self.manager)
            ._read_group([], [], ["__count", "reminder_count:sum", "amount_reminded:sum", "amount_channel:sum"])[0]
        )
        self.assertEqual(totals, (5, 3, 1350.0, 1950.0))

    def test_delivery_rates_and_contactability(self):
        """5 attempts: delivered C2 and C3 (40 %), failed C6 (20 %). Customers worked: 2, reached: 1 (50 %).
        The collector's customer only: 3 attempts, 2 delivered (66.67 %), contactability 100 %.
        Per channel: e-mail 0 of 2 delivered, SMS 1 of 2, call 1 of 1."""
        measures = ["attempt_count:sum", "delivery_rate:sum", "failure_rate:sum", "contactability:sum"]
        report = self.env["collection.communication.report"]
        self.assertEqual(report.with_user(self.manager)._read_group([], [], measures)[0], (5, 40.0, 20.0, 50.0))
        self.assertEqual(report.with_user(self.collector)._read_group([], [], measures)[0], (3, 66.67, 0.0, 100.0))
        by_channel = self._totals("collection.communication.report", ["channel"], ["delivery_rate:sum"])
        self.assertEqual(by_channel, {"email": (0.0,), "sms": (50.0,), "call": (100.0,)})

    def test_cure_rate_per_channel_and_level(self):
        """Paid within 7 days: C1 200, C2 200 (credit note 4 days later), C4 0 (paid 13 days later);
        within 14 days C4 250; the failed C6 reminded nothing.
        E-mail: 200 / 1350 = 14.81 % and 450 / 1350 = 33.33 %; SMS 33.33 % both;
        the level (C1, C2, C4): 400 / 1950 = 20.51 % and 650 / 1950 = 33.33 %."""
        measures = ["cure_rate_7:sum", "cure_rate_14:sum"]
        by_channel = self._totals("collection.communication.report", ["channel"], measures, [("level_id", "!=", False)])
        self.assertEqual(by_channel, {"email": (14.81, 33.33), "sms": (33.33, 33.33)})
        by_level = self._totals("collection.communication.report", ["level_id"], measures, [("level_id", "!=", False)])
        self.assertEqual(by_level, {self.level_first: (20.51, 33.33)})


@tagged("post_install", "-at_install")
class TestProductivityKpis(ActivityCommon):
    def test_collector_productivity_per_month(self):
        """The collector: April P1 (400) and 400 collected; May the call, P2 (600) and P1 kept (settled
        05-01, 400); June 600 collected. The credit note of INV2 is not collected money."""
        measures = [
            "contact_count:sum",
            "promise_count:sum",
            "promise_amount:sum",
            "amount_kept:sum",
            "amount_collected:sum",
        ]
        rows = self._totals(
            "collection.productivity.report", ["date:month"], measures, [("user_id", "=", self.collector.id)]
        )
        self.assertEqual(
            rows,
            {
                date(2026, 4, 1): (0, 1, 400.0, 0.0, 400.0),
                date(2026, 5, 1): (1, 1, 600.0, 400.0, 0.0),
                date(2026, 6, 1): (0, 0, 0.0, 0.0, 600.0),
            },
        )
        mine = self._totals("collection.productivity.report", ["user_id"], ["promise_count:sum"], user=self.collector)
        self.assertEqual(mine, {self.collector: (2,)}, "a collector sees the activity of their own customers")


@tagged("post_install", "-at_install")
@freeze_time(KpiCommon.TODAY)
class TestExpectedPaymentAndForecast(KpiCommon):
    """Delays over the 12 months before 06-15, weighted by amount:
    Abarrotes: INV1 400 paid 11 days late, 600 paid 57 days late; INV2 200 credited 5 days late,
    400 still unpaid 31 days late: (4400 + 34200 + 1000 + 12400) / 1600 = 32.5 days, 2 instalments.
    Northwind: INV3 250 paid 10 days early, 750 unpaid 11 days late: (−2500 + 8250) / 1000 = 5.75, 1 instalment.
    Portfolio of company A: 57750 / 2600 = 22.21 days (company B's unpaid invoice is not part of it).
    Drawn toward the portfolio by 3 instalments: Abarrotes (2 × 32.5 + 3 × 22.21) / 5 = 26 days,
    Northwind (5.75 + 3 × 22.21) / 4 = 18 days.
    Expected: INV2 05-15 + 26 = 06-10, already past → today 06-15; INV3 06-04 + 18 = 06-22;
    INV4 07-01 + 18 = 07-19."""

    def test_expected_payment_dates_of_open_instalments(self):
        lines = self._instalments(self.inv2 + self.inv3 + self.inv4)
        self.assertEqual(
            lines.mapped("collection_expected_date"), [date(2026, 6, 15), date(2026, 6, 22), date(2026, 7, 19)]
        )
        self.assertFalse(self._instalments(self.inv1).collection_expected_date, "INV1 is paid")

    def test_case_shows_expected_payment_and_delay(self):
        case = self.case.with_user(self.collector)
        self.assertRecordValues(case, [{"expected_payment_date": date(2026, 6, 15), "expected_delay": 26}])

    def test_priority_explains_the_expected_payment_in_the_users_language(self):
        self.assertEqual(
            self.case.with_user(self.collector).expected_payment_note,
            "Expected to pay around 06/15/2026 (usually 26 days late).",
        )
        # In the collector's language and date format (the Spanish text itself comes with the
        # translation template regenerated after merging: Odoo drops po entries missing from it).
        self.env["res.lang"]._activate_lang("es_ES")
        self.collector.lang = "es_ES"
        case = self.case.with_user(self.collector).with_context(lang=self.collector.lang)
        case.invalidate_recordset(["expected_payment_note"])
        self.assertIn("15/06/2026", case.expected_payment_note)
        self.assertIn("26", case.expected_payment_note)

    def test_open_promise_overrides_the_habits(self):
        """A promise made today to pay INV4 by 06-30 moves it from 07-19 to 06-30."""
        line4 = self._instalments(self.inv4)
        self.env["collection.promise"].create(
            {
                "partner_id": self.customer_b.id,
                "company_id": self.company.id,
                "line_ids": [Command.set(line4.ids)],
                "date": "2026-06-30",
                "amount": 300.0,
            }
        )
        line4.invalidate_recordset(["collection_expected_date"])
        self.assertEqual(line4.collection_expected_date, date(2026, 6, 30))

    def test_payment_plan_pays_the_instalments_by_amount(self):
        """A plan for Northwind's INV3 (750 USD still due) and INV4 (300): 800 on 06-20, 250 on 07-10.
        The first payment covers INV3 whole (and 50 of INV4): INV3 is expected on 06-20, INV4 once the
        second payment completes it, on 07-10 (not on the plan's next date for both)."""
        line3, line4 = self._instalments(self.inv3), self._instalments(self.inv4)
        self.env["collection.promise"].create(
            {
                "partner_id": self.customer_b.id,
                "company_id": self.company.id,
                "line_ids": [Command.set((line3 + line4).ids)],
                "plan_line_ids": [
                    Command.create({"date": "2026-06-20", "amount": 800.0}),
                    Command.create({"date": "2026-07-10", "amount": 250.0}),
                ],
            }
        )
        (line3 + line4).invalidate_recordset(["collection_expected_date"])
        self.assertEqual((line3 + line4).mapped("collection_expected_date"), [date(2026, 6, 20), date(2026, 7, 10)])

    def test_cash_forecast_by_week_in_company_currency_at_todays_rate(self):
        """Week 1 starts today. INV2 400 in week 1; INV3 1500 EUR still due, at today's rate of 2.5 EUR per
        USD = 600 USD, in week 2; INV4 300 in week 5. The collector sees Abarrotes only."""
        self.env["res.currency.rate"].create(
            {"currency_id": self.eur.id, "name": "2026-06-10", "rate": 2.5, "company_id": self.company.id}
        )
        weeks = self._totals("collection.cash.forecast.report", ["week"], ["amount:sum"])
        self.assertEqual(weeks, {1: (400.0,), 2: (600.0,), 5: (300.0,)})
        mine = self._totals("collection.cash.forecast.report", ["partner_id"], ["amount:sum"], user=self.collector)
        self.assertEqual(mine, {self.customer: (400.0,)})
        views = self.env["collection.cash.forecast.report"].get_views([(False, "pivot"), (False, "graph")])
        self.assertEqual(set(views["views"]), {"pivot", "graph"})

    def _forecast(self, direct=False, user=None):
        report = self.env["collection.cash.forecast.report"].with_user(user or self.manager)
        report = report.with_context(collection_kpi_direct=direct)
        return report._read_group([], ["line_id"], ["delay:max", "expected_date:max", "amount:sum"])

    def test_habits_are_kept_for_the_day_and_recomputed_per_customer(self):
        """The habits behind the expected dates are computed once a day (Abarrotes 2 instalments,
        Northwind 1, as in the class docstring) and give the figures of the direct computation.
        A payment of 100 on INV2 dated today marks Abarrotes only: its paid part 100 × 31 days late
        replaces as much of the unpaid part at the same delay, so its delay stays 32.5 days; the
        next reader, a collector, recomputes Abarrotes and nothing else."""
        habit = self.env["collection.payment.habit"]
        self.assertEqual(self.case.with_user(self.collector).expected_delay, 26)
        today = habit.search(
            [("date", "=", "2026-06-15"), ("company_id", "=", self.company.id), ("partner_id", "!=", False)]
        )
        self.assertEqual(
            {(row.partner_id, row.instalments, round(row.weighted / row.weight, 2)) for row in today},
            {(self.customer, 2, 32.5), (self.customer_b, 1, 5.75)},
        )
        self.assertEqual(self._forecast(), self._forecast(direct=True))
        self.assertFalse(habit._collection_todo(date(2026, 6, 15)), "every company's day is done, with history or not")
        northwind = today.filtered(lambda row: row.partner_id == self.customer_b)
        self._register_payment(self.inv2, amount=100.0, payment_date="2026-06-15")
        self.assertEqual(habit.search([("stale", "=", True)]).partner_id, self.customer)
        case = self.case.with_user(self.collector)
        case.invalidate_recordset(["expected_delay"])
        self.assertEqual(case.expected_delay, 26)
        self.assertFalse(habit.search([("stale", "=", True)]), "recomputed by the collector's read")
        self.assertTrue(northwind.exists(), "Northwind's row was not recomputed")
        self.assertEqual(self._forecast(user=self.collector), self._forecast(direct=True, user=self.collector))
        self.assertEqual(self._forecast(), self._forecast(direct=True))

    def test_next_day_computes_that_days_habits(self):
        """On 06-16 every late instalment is a day later: the habits are that day's, computed by
        the first reader, and equal the direct computation."""
        self._forecast()
        with freeze_time("2026-06-16"):
            self.assertEqual(self._forecast(), self._forecast(direct=True))
            days = self.env["collection.payment.habit"].search([]).mapped("date")
            self.assertIn(date(2026, 6, 16), days)


@tagged("post_install", "-at_install")
@freeze_time(KpiCommon.TODAY)
class TestDashboardAndExport(KpiCommon):
    def test_dashboard_reads_our_reports_for_a_collector(self):
        """The Collections dashboard is published in the Dashboards app for collectors; every pivot
        and chart of it points at a report field that exists, and runs for a collector."""
        dashboard = self.env.ref("collections_management.collections_dashboard")
        self.assertTrue(dashboard.is_published)
        self.assertIn(
            self.collector, dashboard.with_user(self.collector).search([("id", "=", dashboard.id)]).group_ids.user_ids
        )
        spreadsheet = json.loads(base64.b64decode(dashboard.spreadsheet_binary_data))
        queries = [
            (
                pivot["model"],
                pivot["domain"],
                [row["fieldName"] for row in pivot["rows"]],
                [measure["fieldName"] for measure in pivot["measures"]],
            )
            for pivot in spreadsheet["pivots"].values()
        ]
        for sheet in spreadsheet["sheets"]:
            for figure in sheet["figures"]:
                meta = figure["data"].get("metaData")
                if meta:
                    queries.append(
                        (meta["resModel"], figure["data"]["searchParams"]["domain"], meta["groupBy"], [meta["measure"]])
                    )
        self.assertEqual(len(queries), 12)
        for model, domain, groupby, measures in queries:
            rows = (
                self.env[model]
                .with_user(self.collector)
                ._read_group(domain, groupby, [f"{measure}:sum" for measure in measures])
            )
            self.assertIsInstance(rows, list, model)
        may = (
            self.env["collection.kpi.report"]
            .with_user(self.manager)
            ._read_group([("period_type", "=", "month"), ("date", "=", "2026-05-01")], [], ["dso:sum", "cei:sum"])
        )
        self.assertEqual(may, [(67.81, 20.0)], "the headline DSO and CEI of May (see TestPeriodKpis)")

    def test_kpi_workbook_one_sheet_per_report(self):
        """As the collector (Abarrotes only): the aging sheet on 05-31 shows INV1 600 in 31-60 and INV2
        400 in 1-30; the DSO sheet's April row: start 1000, sales 600, collected 400, end 1200, current
        600, DSO 60, count-back 48.6, BPDSO 30, ADD 30, CEI 40 %."""
        wizard = self.env["collection.kpi.export"].with_user(self.collector).create({"aging_date": "2026-05-31"})
        action = wizard.action_export()
        self.assertIn("download=true", action["url"])
        workbook = openpyxl.load_workbook(io.BytesIO(base64.b64decode(wizard.xlsx_file)))
        self.assertEqual(
            workbook.sheetnames,
            ["Aging", "DSO and CEI", "Roll Rates", "Promises", "Communications", "Productivity", "Cash Forecast"],
        )
        for sheet in workbook.worksheets:
            self.assertEqual(sheet.freeze_panes, "B5", sheet.title)
            self.assertTrue(sheet.auto_filter.ref.startswith("A4:"), sheet.title)
            self.assertIn(self.company.name, sheet["A2"].value)
        aging = workbook["Aging"]
        self.assertEqual([cell.value for cell in aging[5]], ["Abarrotes del Bajío", 0, 400, 600, 0, 0, 0, 1000])
        dso = {row[0].value.date(): row for row in workbook["DSO and CEI"].iter_rows(min_row=5)}
        april = dso[date(2026, 4, 1)]
        self.assertEqual([cell.value for cell in april[1:]], [1000, 600, 400, 1200, 600, 60, 48.6, 30, 30, 0.4])
        self.assertEqual(april[10].number_format, "0.0%")
        self.assertEqual(april[1].number_format, "#,##0.00")

    def test_future_aging_date_is_refused(self):
        wizard = self.env["collection.kpi.export"].create({"aging_date": "2999-01-01"})
        with self.assertRaisesRegex(Exception, "future"):
            wizard.action_export()

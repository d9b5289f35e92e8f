from odoo import api, fields, models
from odoo.tools import SQL

from .collection_kpi_mixin import KPI_DEPENDS, case_scope_join

# Months shown by the period reports, and months read before them for the count-back DSO.
KPI_MONTHS = 24
COUNTBACK_MONTHS = 12


def countback_columns(template, first=0):
    """SQL list of ``template`` for each month k of the count-back, from ``first`` to
    ``COUNTBACK_MONTHS`` - 1: in it ``%(sales)s`` and ``%(days)s`` stand for the columns
    sales_m<k> and days_m<k>."""
    return SQL(", ").join(
        SQL(template, sales=SQL.identifier(f"sales_m{k}"), days=SQL.identifier(f"days_m{k}"))
        for k in range(first, COUNTBACK_MONTHS)
    )


class CollectionKpiReport(models.Model):
    """Receivables KPIs per customer, month and quarter: DSO (standard and count-back), Best
    Possible DSO, Average Days Delinquent and the Collection Effectiveness Index.

    Each row holds the components of one customer in one period; grouped rows (a team, a
    country, the company) compute each ratio from the totals of their components, so a DSO of
    a team is the team's receivables over the team's sales, not an average of DSOs."""

    _name = "collection.kpi.report"
    _inherit = ["collection.kpi.mixin"]
    _description = "Collections KPIs by Period"
    _auto = False
    _depends = {
        **KPI_DEPENDS,
    }
    _order = "date desc, partner_id"
    _rec_name = "date"

    period_type = fields.Selection([("month", "Month"), ("quarter", "Quarter")], readonly=True)
    date = fields.Date(string="Period", readonly=True, help="First day of the month or quarter.")
    date_end = fields.Date(string="Period End", readonly=True, help="Last day of the period, or today.")
    company_id = fields.Many2one("res.company", readonly=True)
    company_currency_id = fields.Many2one("res.currency", readonly=True)
    partner_id = fields.Many2one("res.partner", string="Customer", readonly=True)
    country_id = fields.Many2one("res.country", readonly=True)
    user_id = fields.Many2one("res.users", string="Collector", readonly=True)
    team_id = fields.Many2one("collection.team", readonly=True)
    days = fields.Integer(string="Days in Period", readonly=True, aggregator="max")
    ar_begin = fields.Monetary(
        string="Receivables at Start",
        currency_field="company_currency_id",
        readonly=True,
        help="Balance of the receivable accounts the day before the period starts (invoices, credit "
        "notes and payments), in company currency.",
    )
    sales = fields.Monetary(
        string="Credit Sales",
        currency_field="company_currency_id",
        readonly=True,
        help="Customer invoices less credit notes dated in the period, taxes included (their instalments "
        "on receivable accounts: only customer invoices, credit notes and receipts have them).",
    )
    ar_end = fields.Monetary(
        string="Receivables at End",
        currency_field="company_currency_id",
        readonly=True,
        help="Balance of the receivable accounts on the last day of the period.",
    )
    current_end = fields.Monetary(
        string="Current Receivables at End",
        currency_field="company_currency_id",
        readonly=True,
        help="What is not yet due on the last day of the period: residual of the instalments due on "
        "or after that day, counting only the reconciliations dated up to it.",
    )
    overdue_end = fields.Monetary(
        string="Past Due at End",
        currency_field="company_currency_id",
        readonly=True,
        help="Receivables at End − Current Receivables at End.",
    )
    collected = fields.Monetary(
        currency_field="company_currency_id",
        readonly=True,
        help="Receivables at Start + Credit Sales − Receivables at End: payments and write-offs.",
    )
    # Count-back DSO: sales of the period's last month (m0) and of the COUNTBACK_MONTHS - 1 months before
    # it, and their numbers of days.
    sales_m0 = fields.Monetary(currency_field="company_currency_id", readonly=True)
    sales_m1 = fields.Monetary(currency_field="company_currency_id", readonly=True)
    sales_m2 = fields.Monetary(currency_field="company_currency_id", readonly=True)
    sales_m3 = fields.Monetary(currency_field="company_currency_id", readonly=True)
    sales_m4 = fields.Monetary(currency_field="company_currency_id", readonly=True)
    sales_m5 = fields.Monetary(currency_field="company_currency_id", readonly=True)
    sales_m6 = fields.Monetary(currency_field="company_currency_id", readonly=True)
    sales_m7 = fields.Monetary(currency_field="company_currency_id", readonly=True)
    sales_m8 = fields.Monetary(currency_field="company_currency_id", readonly=True)
    sales_m9 = fields.Monetary(currency_field="company_currency_id", readonly=True)
    sales_m10 = fields.Monetary(currency_field="company_currency_id", readonly=True)
    sales_m11 = fields.Monetary(currency_field="company_currency_id", readonly=True)
    days_m0 = fields.Integer(readonly=True, aggregator="max")
    days_m1 = fields.Integer(readonly=True, aggregator="max")
    days_m2 = fields.Integer(readonly=True, aggregator="max")
    days_m3 = fields.Integer(readonly=True, aggregator="max")
    days_m4 = fields.Integer(readonly=True, aggregator="max")
    days_m5 = fields.Integer(readonly=True, aggregator="max")
    days_m6 = fields.Integer(readonly=True, aggregator="max")
    days_m7 = fields.Integer(readonly=True, aggregator="max")
    days_m8 = fields.Integer(readonly=True, aggregator="max")
    days_m9 = fields.Integer(readonly=True, aggregator="max")
    days_m10 = fields.Integer(readonly=True, aggregator="max")
    days_m11 = fields.Integer(readonly=True, aggregator="max")

    dso = fields.Float(
        string="DSO",
        readonly=True,
        aggregator="sum",
        help="Days Sales Outstanding = Receivables at End ÷ Credit Sales × Days in Period.",
    )
    dso_countback = fields.Float(
        string="Count-back DSO",
        readonly=True,
        aggregator="sum",
        help="Days of the latest sales that the Receivables at End represent: going back month by month "
        "from the period's last month, whole months while the receivables exceed that month's sales, then "
        "the fraction of the last month. Receivables beyond 12 months of sales count at the average daily "
        "sales of those 12 months.",
    )
    bpdso = fields.Float(
        string="Best Possible DSO",
        readonly=True,
        aggregator="sum",
        help="Best Possible DSO = Current Receivables at End ÷ Credit Sales × Days in Period.",
    )
    add = fields.Float(
        string="Average Days Delinquent",
        readonly=True,
        aggregator="sum",
        help="ADD = DSO − Best Possible DSO.",
    )
    cei = fields.Float(
        string="CEI (%)",
        readonly=True,
        aggregator="sum",
        help="Collection Effectiveness Index = (Receivables at Start + Credit Sales − Receivables at End) ÷ "
        "(Receivables at Start + Credit Sales − Current Receivables at End) × 100.",
    )
    overdue_share = fields.Float(
        string="Past Due (%)",
        readonly=True,
        aggregator="sum",
        help="Past Due at End ÷ Receivables at End × 100.",
    )

    @api.model
    def _kpi_ratios(self):
        def dso(total, maximum, column=None, receivable="ar_end"):
            return self._kpi_ratio(total(receivable), total("sales"), maximum("days"))

        def countback(total, maximum, column=None):
            return SQL("ROUND((%s)::numeric, 2)", self._countback_sql(total, maximum))

        def cei(total, maximum, column=None):
            return self._kpi_ratio(
                SQL("(%s + %s - %s)", total("ar_begin"), total("sales"), total("ar_end")),
                SQL("(%s + %s - %s)", total("ar_begin"), total("sales"), total("current_end")),
                100.0,
            )

        return {
            "dso": dso,
            "dso_countback": countback,
            "bpdso": lambda total, maximum, column: dso(total, maximum, receivable="current_end"),
            "add": lambda total, maximum, column: SQL(
                "(%s - %s)", dso(total, maximum), dso(total, maximum, receivable="current_end")
            ),
            "cei": cei,
            "overdue_share": lambda total, maximum, column: self._kpi_ratio(
                SQL("(%s - %s)", total("ar_end"), total("current_end")), total("ar_end"), 100.0
            ),
        }

    @api.model
    def _countback_sql(self, total, maximum):
        """Count-back DSO from totals: Σ_k days_k × min(1, max(0, (AR − sales of the k later months)
        ÷ sales_k)) over the ``COUNTBACK_MONTHS`` months; a month without sales counts whole while
        receivables remain. What still remains after these months counts at their average daily
        sales: remaining ÷ (Σ sales_k ÷ Σ days_k); without sales in these months, nothing more."""
        terms = []
        later = SQL("0")
        days_total = SQL("0")
        for k in range(COUNTBACK_MONTHS):
            remaining = SQL("(%s - %s)", total("ar_end"), later)
            sales = total(f"sales_m{k}")
            days = maximum(f"days_m{k}")
            terms.append(
                SQL(
                    """%(days)s * CASE WHEN %(remaining)s <= 0 THEN 0
                                       WHEN %(remaining)s >= %(sales)s THEN 1
                                       ELSE %(remaining)s / %(sales)s END""",
                    days=days,
                    remaining=remaining,
                    sales=sales,
                )
            )
            later = SQL("(%s + %s)", later, sales)
            days_total = SQL("(%s + %s)", days_total, days)
        remaining = SQL("(%s - %s)", total("ar_end"), later)
        terms.append(
            SQL(
                """CASE WHEN %(remaining)s > 0 AND %(sales)s > 0
                        THEN %(remaining)s * %(days)s / %(sales)s ELSE 0 END""",
                remaining=remaining,
                sales=later,
                days=days_total,
            )
        )
        return SQL(" + ").join(terms)

    @property
    def _table_query(self):
        return self._kpi_query(SQL("%s %s %s", self._with(), self._select(), self._from()))

    @api.model
    def _today(self):
        return fields.Date.context_today(self)

    @api.model
    def _with(self):
        today = self._today()
        first_month = fields.Date.start_of(fields.Date.subtract(today, months=KPI_MONTHS - 1), "month")
        if self.env.context.get("collection_kpi_direct"):
            monthly = self._direct_monthly_sql(today, first_month)
        else:
            self.env["collection.kpi.snapshot"]._collection_ensure_fresh()
            monthly = self._snapshot_monthly_sql(today, first_month)
        return SQL(
            """
            WITH %(monthly)s,
            periods AS (
                SELECT 'month' AS period_type, month_start AS date, month_end AS date_end,
                       company_id, partner_id, days, ar_begin, sales, ar_end, current_end,
                       %(sales_columns)s, %(days_columns)s
                  FROM monthly
                 WHERE month_start >= %(first_month)s
                 UNION ALL
                SELECT 'quarter', quarter_start, quarter_end,
                       company_id, partner_id, quarter_end - quarter_start + 1,
                       COALESCE(SUM(ar_begin) FILTER (WHERE month_start = quarter_start), 0),
                       SUM(sales),
                       COALESCE(SUM(ar_end) FILTER (WHERE month_end = quarter_end), 0),
                       COALESCE(SUM(current_end) FILTER (WHERE month_end = quarter_end), 0),
                       %(quarter_sales)s,
                       quarter_end - date_trunc('month', quarter_end)::date + 1,
                       %(quarter_days)s
                  FROM (SELECT monthly.*, date_trunc('quarter', month_start)::date AS quarter_start,
                               LEAST((date_trunc('quarter', month_start) + INTERVAL '3 month - 1 day')::date,
                                     %(today)s) AS quarter_end
                          FROM monthly
                         WHERE month_start >= date_trunc('quarter', %(first_month)s::date)) quarter_months
                 GROUP BY company_id, partner_id, quarter_start, quarter_end
            )
            """,
            monthly=monthly,
            first_month=first_month,
            today=today,
            sales_columns=countback_columns("%(sales)s"),
            days_columns=countback_columns("%(days)s"),
            quarter_sales=countback_columns("COALESCE(SUM(%(sales)s) FILTER (WHERE month_end = quarter_end), 0)"),
            quarter_days=self._month_days_sql(SQL("date_trunc('month', quarter_end)"), with_alias=False),
        )

    @api.model
    def _month_days_sql(self, month_start, with_alias=True):
        """SQL of the columns days_m1 … days_m<COUNTBACK_MONTHS - 1>: the number of days of each of
        the months before the month starting on ``month_start``."""
        return SQL(", ").join(
            SQL(
                "((%(month)s - make_interval(months => %(k)s) + INTERVAL '1 month')::date"
                " - (%(month)s - make_interval(months => %(k)s))::date)%(alias)s",
                month=month_start,
                k=k,
                alias=SQL(" AS %s", SQL.identifier(f"days_m{k}")) if with_alias else SQL(),
            )
            for k in range(1, COUNTBACK_MONTHS)
        )

    @api.model
    def _direct_monthly_sql(self, today, first_month, company_ids=None, partner_ids=None):
        """CTEs ending in ``monthly``: one row per company, customer and month from ``first_month``
        to ``today``'s month, computed from the journal items and reconciliations dated up to
        ``today`` (columns company_id, partner_id, month_start, month_end, days, ar_begin, ar_end,
        sales, current_end, sales_m0 …, days_m0 … of the count-back months). ``company_ids`` limits it to
        these companies, ``partner_ids`` to these customers (commercial partners). The monthly
        snapshot (``collection.kpi.snapshot``) stores these rows for the months already over;
        reports read them from there."""
        grid_start = fields.Date.subtract(first_month, months=COUNTBACK_MONTHS - 1)
        company_filter = self._kpi_scope_filter(company_ids, partner_ids)
        lags = SQL(", ").join(
            SQL(
                "COALESCE(LAG(grid.sales, %s) OVER partner_months, 0) AS %s",
                k,
                SQL.identifier(f"sales_m{k}"),
            )
            for k in range(1, COUNTBACK_MONTHS)
        )
        return SQL(
            """
            months AS (
                SELECT m::date AS month_start,
                       LEAST((m + INTERVAL '1 month - 1 day')::date, %(today)s) AS month_end
                  FROM generate_series(%(grid_start)s::date, %(today)s::date, INTERVAL '1 month') m
            ),
            receivable AS (
                SELECT aml.id, aml.company_id,
                       COALESCE(line_partner.commercial_partner_id, aml.partner_id) AS partner_id, aml.date,
                       aml.date_maturity, aml.balance,
                       aml.display_type = 'payment_term' AS is_sale,
                       (%(instalment)s) AS is_instalment
                  FROM %(receivables)s
             LEFT JOIN res_partner line_partner ON line_partner.id = aml.partner_id
                 WHERE %(receivable)s
                   AND aml.date <= %(today)s
                   AND %(company_filter)s
            ),
            movements AS (
                SELECT company_id, partner_id,
                       CASE WHEN date >= %(grid_start)s THEN date_trunc('month', date)::date END AS month_start,
                       SUM(balance) AS movement,
                       COALESCE(SUM(balance) FILTER (WHERE is_sale), 0) AS sales
                  FROM receivable
                 GROUP BY 1, 2, 3
            ),
            current_pairs AS MATERIALIZED (
                SELECT receivable.id, receivable.company_id, receivable.partner_id, receivable.balance, snapshot.day
                  FROM receivable
            CROSS JOIN LATERAL (
                       SELECT LEAST((m + INTERVAL '1 month - 1 day')::date, %(today)s) AS day
                         FROM generate_series(date_trunc('month', GREATEST(receivable.date, %(first_month)s)),
                                              date_trunc('month', LEAST(receivable.date_maturity, %(today)s)),
                                              INTERVAL '1 month') m
                       ) snapshot
                 WHERE receivable.is_instalment
                   AND receivable.date_maturity >= %(first_month)s
                   AND snapshot.day BETWEEN receivable.date AND receivable.date_maturity
            ),
            current AS MATERIALIZED (
                SELECT company_id, partner_id, date_trunc('month', day)::date AS month_start, SUM(amount) AS amount
                  FROM (SELECT company_id, partner_id, day, balance AS amount FROM current_pairs
                         UNION ALL
                        SELECT pairs.company_id, pairs.partner_id, pairs.day, -partial.amount
                          FROM current_pairs pairs
                          JOIN account_partial_reconcile partial ON partial.debit_move_id = pairs.id
                                                                AND partial.max_date <= pairs.day) amounts
                 GROUP BY 1, 2, 3
            ),
            grid AS (
                SELECT parts.company_id, parts.partner_id, parts.month_start, months.month_end,
                       SUM(parts.opening) AS opening, SUM(parts.movement) AS movement, SUM(parts.sales) AS sales,
                       SUM(parts.current_end) AS current_end
                  FROM (SELECT company_id, partner_id, COALESCE(month_start, %(grid_start)s::date) AS month_start,
                               CASE WHEN month_start IS NULL THEN movement ELSE 0 END AS opening,
                               CASE WHEN month_start IS NULL THEN 0 ELSE movement END AS movement,
                               CASE WHEN month_start IS NULL THEN 0 ELSE sales END AS sales,
                               0 AS current_end
                          FROM movements
                         UNION ALL
                        SELECT company_id, partner_id, month_start, 0, 0, 0, amount
                          FROM current
                         UNION ALL
                        SELECT customers.company_id, customers.partner_id, months.month_start, 0, 0, 0, 0
                          FROM (SELECT DISTINCT company_id, partner_id FROM movements) customers
                    CROSS JOIN months) parts
                  JOIN months ON months.month_start = parts.month_start
                 GROUP BY parts.company_id, parts.partner_id, parts.month_start, months.month_end
            ),
            monthly AS NOT MATERIALIZED (
                SELECT grid.company_id, grid.partner_id, grid.month_start, grid.month_end,
                       (grid.month_end - grid.month_start + 1) AS days,
                       SUM(grid.opening + grid.movement) OVER partner_months - grid.movement AS ar_begin,
                       SUM(grid.opening + grid.movement) OVER partner_months AS ar_end,
                       grid.sales,
                       grid.current_end,
                       grid.sales AS sales_m0,
                       (grid.month_end - grid.month_start + 1) AS days_m0,
                       %(lags)s,
                       %(days)s
                  FROM grid
                WINDOW partner_months AS (PARTITION BY grid.company_id, grid.partner_id ORDER BY grid.month_start)
            )
            """,
            today=today,
            grid_start=grid_start,
            first_month=first_month,
            receivables=self._kpi_receivables()[0],
            receivable=self._kpi_receivables()[1],
            instalment=self._kpi_instalments()[1],
            company_filter=company_filter,
            lags=lags,
            days=self._month_days_sql(SQL("grid.month_start")),
        )

    @api.model
    def _snapshot_monthly_sql(self, today, first_month):
        """CTEs ending in ``monthly`` (the columns of ``_direct_monthly_sql``): the months already
        over are read from the monthly snapshot, the current month is computed from the journal
        items: its movements, what is not due yet today, and the snapshot of the month before
        (receivables at start, sales of the earlier months)."""
        month_start = fields.Date.start_of(today, "month")
        previous = fields.Date.subtract(month_start, months=1)
        return SQL(
            """
            live_parts AS (
                SELECT company_id, partner_id, ar_end AS ar_begin, 0 AS movement, 0 AS sales, 0 AS current_end,
                       sales AS sales_m1, %(shifted_sales)s
                  FROM collection_kpi_snapshot
                 WHERE month = %(previous)s
                 UNION ALL
                SELECT aml.company_id, COALESCE(line_partner.commercial_partner_id, aml.partner_id),
                       0, aml.balance, CASE WHEN aml.display_type = 'payment_term' THEN aml.balance ELSE 0 END, 0,
                       %(no_sales)s
                  FROM %(receivables)s
             LEFT JOIN res_partner line_partner ON line_partner.id = aml.partner_id
                 WHERE %(receivable)s
                   AND aml.date BETWEEN %(month_start)s AND %(today)s
                 UNION ALL
                SELECT aml.company_id, COALESCE(line_partner.commercial_partner_id, aml.partner_id),
                       0, 0, 0, aml.balance - COALESCE(paid.amount, 0),
                       %(no_sales)s
                  FROM %(instalments)s
             LEFT JOIN res_partner line_partner ON line_partner.id = aml.partner_id
                  %(paid_join)s
                 WHERE %(instalment)s
                   AND aml.date_maturity >= %(today)s
                   AND aml.date <= %(today)s
            ),
            live AS (
                SELECT company_id, partner_id, SUM(ar_begin) AS ar_begin, SUM(movement) AS movement,
                       SUM(sales) AS sales, SUM(current_end) AS current_end,
                       %(live_sales)s
                  FROM live_parts
                 GROUP BY company_id, partner_id
            ),
            month_days AS MATERIALIZED (
                SELECT m::date AS month, (m + INTERVAL '1 month - 1 day')::date AS month_end,
                       ((m + INTERVAL '1 month')::date - m::date) AS days, %(snapshot_days)s
                  FROM generate_series(date_trunc('quarter', %(first_month)s::date), %(previous)s::date,
                                       INTERVAL '1 month') m
            ),
            monthly AS NOT MATERIALIZED (
                SELECT snapshot.company_id, snapshot.partner_id, snapshot.month AS month_start, month_days.month_end,
                       month_days.days, ar_begin, ar_end, sales, current_end,
                       sales AS sales_m0, %(earlier_sales)s,
                       month_days.days AS days_m0, %(earlier_days)s
                  FROM collection_kpi_snapshot snapshot
                  JOIN month_days ON month_days.month = snapshot.month
                 UNION ALL
                SELECT company_id, partner_id, %(month_start)s::date, %(today)s::date,
                       %(today)s::date - %(month_start)s::date + 1,
                       ar_begin, ar_begin + movement, sales, current_end,
                       sales, %(earlier_sales)s,
                       %(today)s::date - %(month_start)s::date + 1,
                       %(live_days)s
                  FROM live
            )
            """,
            previous=previous,
            month_start=month_start,
            today=today,
            first_month=first_month,
            receivables=self._kpi_receivables()[0],
            receivable=self._kpi_receivables()[1],
            instalments=self._kpi_instalments()[0],
            instalment=self._kpi_instalments()[1],
            shifted_sales=SQL(", ").join(
                SQL("%s AS %s", SQL.identifier(f"sales_m{k - 1}"), SQL.identifier(f"sales_m{k}"))
                for k in range(2, COUNTBACK_MONTHS)
            ),
            no_sales=countback_columns("0", first=1),
            live_sales=countback_columns("SUM(%(sales)s) AS %(sales)s", first=1),
            earlier_sales=countback_columns("%(sales)s", first=1),
            earlier_days=countback_columns("%(days)s", first=1),
            snapshot_days=self._month_days_sql(SQL("m")),
            paid_join=self._kpi_paid_join(SQL("aml.id"), today),
            live_days=self._month_days_sql(SQL("%s::date", month_start)),
        )

    @api.model
    def _select(self):
        row = {
            "ar_end": SQL("periods.ar_end"),
            "sales": SQL("periods.sales"),
            "current_end": SQL("periods.current_end"),
            "ar_begin": SQL("periods.ar_begin"),
        }
        for k in range(COUNTBACK_MONTHS):
            row[f"sales_m{k}"] = SQL("periods.%s", SQL.identifier(f"sales_m{k}"))

        def one(column):
            return row[column]

        def own_days(column):
            return SQL("periods.%s", SQL.identifier(column))

        days = SQL("periods.days")
        return SQL(
            """
            SELECT %(id)s AS id,
                   periods.period_type, periods.date, periods.date_end,
                   periods.company_id, company.currency_id AS company_currency_id,
                   periods.partner_id, partner.country_id,
                   collection_case.user_id, collection_case.team_id,
                   periods.days, periods.ar_begin, periods.sales, periods.ar_end, periods.current_end,
                   periods.ar_end - periods.current_end AS overdue_end,
                   periods.ar_begin + periods.sales - periods.ar_end AS collected,
                   %(sales_columns)s,
                   %(days_columns)s,
                   %(dso)s AS dso,
                   ROUND((%(countback)s)::numeric, 2) AS dso_countback,
                   %(bpdso)s AS bpdso,
                   %(dso)s - %(bpdso)s AS add,
                   %(cei)s AS cei,
                   %(overdue_share)s AS overdue_share
            """,
            id=self._kpi_row_id(
                SQL("periods.partner_id"),
                SQL("periods.company_id"),
                SQL("periods.date"),
                SQL("(periods.period_type = 'quarter')::int"),
                2,
            ),
            dso=self._kpi_ratio(SQL("periods.ar_end"), SQL("periods.sales"), days),
            bpdso=self._kpi_ratio(SQL("periods.current_end"), SQL("periods.sales"), days),
            sales_columns=countback_columns("periods.%(sales)s"),
            days_columns=countback_columns("periods.%(days)s"),
            countback=self._countback_sql(one, own_days),
            cei=self._kpi_ratio(
                SQL("(periods.ar_begin + periods.sales - periods.ar_end)"),
                SQL("(periods.ar_begin + periods.sales - periods.current_end)"),
                100.0,
            ),
            overdue_share=self._kpi_ratio(SQL("(periods.ar_end - periods.current_end)"), SQL("periods.ar_end"), 100.0),
        )

    @api.model
    def _from(self):
        return SQL(
            """
              FROM periods
              JOIN res_company company ON company.id = periods.company_id
              JOIN res_partner partner ON partner.id = periods.partner_id
              %(case_join)s
             WHERE periods.ar_begin <> 0 OR periods.ar_end <> 0 OR periods.sales <> 0
            """,
            case_join=case_scope_join(SQL("periods.partner_id"), SQL("periods.company_id")),
        )

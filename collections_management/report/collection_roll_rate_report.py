from odoo import api, fields, models
from odoo.tools import SQL

from .collection_aging_report import AGING_BUCKETS
from .collection_kpi_mixin import KPI_DEPENDS, bucket_sql, case_scope_join
from .collection_kpi_report import KPI_MONTHS


class CollectionRollRateReport(models.Model):
    """Roll rates ("migración"): where each aging bucket's balance went one month later.

    For every month end of the last two years (the month after it must be over), every instalment
    open that day is aged; a month later its residual either sits in a later bucket (rolled), in
    the same bucket (stayed: not due yet, or already over 120 days) or was paid or credited
    (collected). Residuals count only the reconciliations dated up to each day."""

    _name = "collection.roll.rate.report"
    _inherit = ["collection.kpi.mixin"]
    _description = "Collections Roll Rates"
    _auto = False
    _depends = {
        **KPI_DEPENDS,
    }
    _order = "date desc, bucket"
    _rec_name = "date"

    date = fields.Date(string="Month", readonly=True, help="The month at whose end the balance is aged.")
    bucket = fields.Selection(AGING_BUCKETS, string="Aging", readonly=True, help="Aging at the end of the month.")
    company_id = fields.Many2one("res.company", readonly=True)
    company_currency_id = fields.Many2one("res.currency", readonly=True)
    partner_id = fields.Many2one("res.partner", string="Customer", readonly=True)
    country_id = fields.Many2one("res.country", readonly=True)
    user_id = fields.Many2one("res.users", string="Collector", readonly=True)
    team_id = fields.Many2one("collection.team", readonly=True)
    amount_start = fields.Monetary(
        string="Balance",
        currency_field="company_currency_id",
        readonly=True,
        help="Residual at the end of the month of the instalments in this bucket.",
    )
    amount_rolled = fields.Monetary(
        string="Rolled",
        currency_field="company_currency_id",
        readonly=True,
        help="Part of the balance still open a month later in a later bucket.",
    )
    amount_stayed = fields.Monetary(
        string="Stayed",
        currency_field="company_currency_id",
        readonly=True,
        help="Part of the balance still open a month later in the same bucket.",
    )
    amount_collected = fields.Monetary(
        string="Collected",
        currency_field="company_currency_id",
        readonly=True,
        help="Part of the balance paid or credited during the next month.",
    )
    roll_rate = fields.Float(string="Roll Rate (%)", readonly=True, aggregator="sum", help="Rolled ÷ Balance × 100.")
    stay_rate = fields.Float(string="Stay Rate (%)", readonly=True, aggregator="sum", help="Stayed ÷ Balance × 100.")
    collection_rate = fields.Float(
        string="Collected (%)", readonly=True, aggregator="sum", help="Collected ÷ Balance × 100."
    )

    @api.model
    def _kpi_ratios(self):
        def rate(numerator):
            return lambda total, maximum, column: self._kpi_ratio(total(numerator), total("amount_start"), 100.0)

        return {
            "roll_rate": rate("amount_rolled"),
            "stay_rate": rate("amount_stayed"),
            "collection_rate": rate("amount_collected"),
        }

    @property
    def _table_query(self):
        return self._kpi_query(SQL("%s %s %s", self._with(), self._select(), self._from()))

    @api.model
    def _with(self):
        today = fields.Date.context_today(self)
        first_month = fields.Date.start_of(fields.Date.subtract(today, months=KPI_MONTHS), "month")
        # The last month end whose next month is over.
        last_day = fields.Date.subtract(fields.Date.start_of(today, "month"), months=1, days=1)
        if today == fields.Date.end_of(today, "month") and self.env.context.get("collection_kpi_direct"):
            last_day = fields.Date.end_of(fields.Date.subtract(today, months=1), "month")
        if self.env.context.get("collection_kpi_direct"):
            return SQL("WITH %s", self._direct_moves_sql(first_month, last_day))
        # The snapshot holds the months already over: on a month's last day, the month before it
        # shows from the next day on.
        self.env["collection.kpi.snapshot"]._collection_ensure_fresh()
        return SQL(
            """
            WITH moves AS (
                SELECT company_id, partner_id, month AS date, bucket, amount_start, amount_rolled, amount_stayed,
                       amount_collected
                  FROM collection_kpi_roll_snapshot
                 WHERE month BETWEEN %s AND %s
            )
            """,
            first_month,
            last_day,
        )

    @api.model
    def _direct_moves_sql(self, first_month, last_day, company_ids=None, partner_ids=None):
        """CTEs ending in ``moves``: per company, customer, month end from ``first_month`` to
        ``last_day`` (a month end) and bucket, the balance then and what became of it a month
        later, computed from the journal items and reconciliations. The monthly snapshot
        (``collection.kpi.snapshot``) stores these rows; the report reads them from there.
        ``company_ids`` and ``partner_ids`` (commercial partners) limit it to these companies and
        customers."""
        company_filter = self._kpi_scope_filter(company_ids, partner_ids)
        # Each instalment's residual at each month end while it is open, from its payments summed
        # per month (a running total per instalment): no per-instalment lookups.
        days_start = SQL("(steps.day - steps.date_maturity)")
        days_next = SQL("((steps.day + INTERVAL '1 day' + INTERVAL '1 month - 1 day')::date - steps.date_maturity)")
        return SQL(
            """
            lines AS MATERIALIZED (
                SELECT aml.id, aml.company_id, move.commercial_partner_id AS partner_id, aml.date,
                       aml.date_maturity, aml.balance, aml.reconciled
                  FROM %(instalments)s
                  JOIN account_move move ON move.id = aml.move_id
                 WHERE %(instalment)s
                   AND %(company_filter)s
                   AND aml.date <= %(last_day)s
                   AND (NOT aml.reconciled OR aml.id IN (
                        SELECT partial.debit_move_id FROM account_partial_reconcile partial
                         WHERE partial.max_date > %(first_month)s))
            ),
            paid AS MATERIALIZED (
                SELECT partial.debit_move_id AS id,
                       (date_trunc('month', partial.max_date) + INTERVAL '1 month - 1 day')::date AS day,
                       SUM(partial.amount) AS amount
                  FROM account_partial_reconcile partial
                  JOIN lines ON lines.id = partial.debit_move_id
                 GROUP BY 1, 2
            ),
            spans AS (
                SELECT lines.*,
                       date_trunc('month', GREATEST(lines.date, %(first_month)s))::date AS month_from,
                       LEAST(CASE WHEN lines.reconciled THEN date_trunc('month', history.closed)::date END,
                             date_trunc('month', %(last_day)s::date + 1)::date) AS month_to,
                       COALESCE(history.before, 0) AS paid_before
                  FROM lines
             LEFT JOIN (SELECT id, MAX(day) AS closed,
                               SUM(amount) FILTER (WHERE day < %(first_month)s) AS before
                          FROM paid GROUP BY id) history ON history.id = lines.id
            ),
            grid AS (
                SELECT spans.id, spans.company_id, spans.partner_id, spans.date_maturity,
                       spans.balance - spans.paid_before AS opening,
                       (m + INTERVAL '1 month - 1 day')::date AS day
                  FROM spans
            CROSS JOIN LATERAL generate_series(spans.month_from, spans.month_to, INTERVAL '1 month') m
            ),
            residuals AS (
                SELECT grid.id, grid.company_id, grid.partner_id, grid.date_maturity, grid.day,
                       grid.opening - SUM(COALESCE(paid.amount, 0)) OVER running AS residual
                  FROM grid
             LEFT JOIN paid ON paid.id = grid.id AND paid.day = grid.day
                WINDOW running AS (PARTITION BY grid.id ORDER BY grid.day)
            ),
            steps AS (
                SELECT residuals.*,
                       COALESCE(LEAD(residuals.residual) OVER (PARTITION BY residuals.id ORDER BY residuals.day), 0)
                           AS residual_next
                  FROM residuals
            ),
            moves AS (
                SELECT company_id, partner_id, date_trunc('month', day)::date AS date, %(bucket_start)s AS bucket,
                       SUM(residual) AS amount_start,
                       SUM(residual_next) FILTER (WHERE %(bucket_next)s > %(bucket_start)s) AS amount_rolled,
                       SUM(residual_next) FILTER (WHERE %(bucket_next)s = %(bucket_start)s) AS amount_stayed,
                       SUM(residual - residual_next) AS amount_collected
                  FROM steps
                 WHERE residual > 0
                   AND day <= %(last_day)s
                 GROUP BY 1, 2, 3, 4
            )
            """,
            instalments=self._kpi_instalments()[0],
            instalment=self._kpi_instalments()[1],
            company_filter=company_filter,
            first_month=first_month,
            last_day=last_day,
            bucket_start=bucket_sql(days_start),
            bucket_next=bucket_sql(days_next),
        )

    @api.model
    def _select(self):
        return SQL(
            """
            SELECT %(id)s AS id,
                   moves.date, moves.bucket, moves.company_id, company.currency_id AS company_currency_id,
                   moves.partner_id, partner.country_id, collection_case.user_id, collection_case.team_id,
                   moves.amount_start,
                   COALESCE(moves.amount_rolled, 0) AS amount_rolled,
                   COALESCE(moves.amount_stayed, 0) AS amount_stayed,
                   moves.amount_collected,
                   %(roll)s AS roll_rate,
                   %(stay)s AS stay_rate,
                   %(collected)s AS collection_rate
            """,
            id=self._kpi_row_id(
                SQL("moves.partner_id"),
                SQL("moves.company_id"),
                SQL("moves.date"),
                SQL("LEFT(moves.bucket, 1)::int"),
                len(AGING_BUCKETS),
            ),
            roll=self._kpi_ratio(SQL("COALESCE(moves.amount_rolled, 0)"), SQL("moves.amount_start"), 100.0),
            stay=self._kpi_ratio(SQL("COALESCE(moves.amount_stayed, 0)"), SQL("moves.amount_start"), 100.0),
            collected=self._kpi_ratio(SQL("moves.amount_collected"), SQL("moves.amount_start"), 100.0),
        )

    @api.model
    def _from(self):
        return SQL(
            """
              FROM moves
              JOIN res_company company ON company.id = moves.company_id
              JOIN res_partner partner ON partner.id = moves.partner_id
              %(case_join)s
            """,
            case_join=case_scope_join(SQL("moves.partner_id"), SQL("moves.company_id")),
        )

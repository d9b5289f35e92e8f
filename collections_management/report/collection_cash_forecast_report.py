from odoo import api, fields, models
from odoo.tools import SQL

from .collection_kpi_mixin import KPI_DEPENDS, case_scope_join

FORECAST_WEEKS = 13
# Weight, in instalments, of the portfolio's average delay in a customer's expected delay: a
# customer with n instalments in the last 12 months is expected to pay
# (n × own delay + SHRINK_INSTALMENTS × portfolio delay) / (n + SHRINK_INSTALMENTS) days late.
SHRINK_INSTALMENTS = 3
HISTORY_DAYS = 365


class CollectionCashForecastReport(models.Model):
    """Cash expected from open customer instalments over the next 13 weeks.

    Each open instalment is expected on its expected payment date (``_expected_payment_sql``):
    due date plus the customer's usual delay, or the date of an open promise, or for a payment
    plan the date of the plan payment that completes it (the plan's payments still to come pay
    the promise's instalments by amount, in the order of their due dates). Week 1 starts today.
    Amounts in a foreign currency are converted to the company currency at today's rate."""

    _name = "collection.cash.forecast.report"
    _description = "Cash Forecast"
    _inherit = ["collection.kpi.mixin"]
    _auto = False
    _kpi_hash_joins = True
    _depends = {
        **KPI_DEPENDS,
        "collection.promise": ["state", "date", "date_made", "line_ids"],
        "collection.promise.line": ["date", "promise_id"],
    }
    _order = "expected_date, id"
    _rec_name = "move_id"

    line_id = fields.Many2one("account.move.line", string="Instalment", readonly=True)
    move_id = fields.Many2one("account.move", string="Invoice", readonly=True)
    partner_id = fields.Many2one("res.partner", string="Customer", readonly=True)
    country_id = fields.Many2one("res.country", readonly=True)
    company_id = fields.Many2one("res.company", readonly=True)
    company_currency_id = fields.Many2one("res.currency", readonly=True)
    currency_id = fields.Many2one("res.currency", string="Invoice Currency", readonly=True)
    user_id = fields.Many2one("res.users", string="Collector", readonly=True)
    team_id = fields.Many2one("collection.team", readonly=True)
    date_maturity = fields.Date(string="Due Date", readonly=True)
    expected_date = fields.Date(string="Expected Payment", readonly=True)
    week = fields.Integer(readonly=True, aggregator="min", help="1 is the week starting today.")
    week_start = fields.Date(string="Week Starting", readonly=True)
    delay = fields.Integer(string="Expected Delay (days)", readonly=True, aggregator="avg")
    promise_id = fields.Many2one("collection.promise", readonly=True)
    source = fields.Selection(
        [("history", "Payment habits"), ("promise", "Promise to pay")], string="Based On", readonly=True
    )
    amount = fields.Monetary(
        string="Expected Amount",
        currency_field="company_currency_id",
        readonly=True,
        help="Residual of the instalment, in company currency at today's rate.",
    )

    @property
    def _table_query(self):
        return self._kpi_query(
            SQL(
                "WITH forecast AS MATERIALIZED (%s), %s %s %s %s",
                self._expected_payment_sql(fields.Date.context_today(self)),
                self._rates(),
                self._select(),
                self._from(),
                self._where(),
            )
        )

    @api.model
    def _select(self):
        today = fields.Date.context_today(self)
        return SQL(
            """
            SELECT forecast.line_id AS id,
                   forecast.line_id,
                   forecast.move_id,
                   forecast.partner_id,
                   partner.country_id,
                   forecast.company_id,
                   company.currency_id AS company_currency_id,
                   forecast.currency_id,
                   collection_case.user_id,
                   collection_case.team_id,
                   forecast.date_maturity,
                   forecast.expected_date,
                   (forecast.expected_date - %(today)s) / 7 + 1 AS week,
                   %(today)s::date + ((forecast.expected_date - %(today)s) / 7) * 7 AS week_start,
                   forecast.delay,
                   forecast.promise_id,
                   CASE WHEN forecast.promise_id IS NOT NULL THEN 'promise' ELSE 'history' END AS source,
                   CASE WHEN forecast.currency_id = company.currency_id THEN forecast.residual
                        ELSE ROUND((forecast.residual_currency * COALESCE(rates.company_rate, 1.0)
                                    / COALESCE(rates.line_rate, 1.0))::numeric, 2)
                   END AS amount
            """,
            today=today,
        )

    @api.model
    def _rates(self):
        """CTE ``rates``: today's rate of each invoice currency and of the company currency, once
        per company and currency of the forecast (not once per instalment)."""
        today = fields.Date.context_today(self)

        def rate(currency):
            return SQL(
                """(SELECT rate.rate FROM res_currency_rate rate
                     WHERE rate.currency_id = %(currency)s
                       AND (rate.company_id = pairs.company_id OR rate.company_id IS NULL)
                       AND rate.name <= %(today)s
                     ORDER BY rate.company_id IS NULL, rate.name DESC
                     LIMIT 1)""",
                currency=currency,
                today=today,
            )

        return SQL(
            """rates AS MATERIALIZED (
                   SELECT pairs.company_id, pairs.currency_id, %(line_rate)s AS line_rate,
                          %(company_rate)s AS company_rate
                     FROM (SELECT DISTINCT company_id, currency_id FROM forecast) pairs
                     JOIN res_company company ON company.id = pairs.company_id
               )""",
            line_rate=rate(SQL("pairs.currency_id")),
            company_rate=rate(SQL("company.currency_id")),
        )

    @api.model
    def _from(self):
        return SQL(
            """
              FROM forecast
              JOIN res_company company ON company.id = forecast.company_id
              JOIN res_partner partner ON partner.id = forecast.partner_id
              JOIN rates ON rates.company_id = forecast.company_id AND rates.currency_id = forecast.currency_id
              %(case_join)s
            """,
            case_join=case_scope_join(SQL("forecast.partner_id"), SQL("forecast.company_id")),
        )

    @api.model
    def _where(self):
        today = fields.Date.context_today(self)
        return SQL(
            "WHERE forecast.expected_date < %s::date + %s",
            today,
            FORECAST_WEEKS * 7,
        )

    @api.model
    def _get_expected_dates(self, lines):
        """{instalment id: expected payment date} of these open instalments."""
        if not lines:
            return {}
        query = self._expected_payment_sql(fields.Date.context_today(self), line_ids=tuple(lines.ids))
        return dict(self.env.execute_query(SQL("SELECT line_id, expected_date FROM (%s) forecast", query)))

    @api.model
    def _later_payments_sql(self, today):
        """SQL condition on ``aml``: reconciled after ``today`` (open on a past day)."""
        if today >= fields.Date.context_today(self):
            return SQL("FALSE")
        return SQL(
            "EXISTS (SELECT 1 FROM account_partial_reconcile later"
            " WHERE later.debit_move_id = aml.id AND later.max_date > %s)",
            today,
        )

    @api.model
    def _habits_sql(self, today, company_ids=None, partner_ids=None):
        """SQL of each customer's payment habits on ``today`` (columns company_id, partner_id,
        weighted, weight, instalments): every amount paid up to ``today`` on the instalments due
        in the last 12 months, weighted by its days late (``weighted`` = Σ amount × days late,
        ``weight`` = Σ amount), plus what is still unpaid on those that are late, at its current
        delay; ``instalments`` counts those instalments. ``company_ids`` and ``partner_ids`` limit
        it to these companies and customers."""
        history_start = fields.Date.subtract(today, days=HISTORY_DAYS)
        return SQL(
            """
            SELECT company_id, partner_id, SUM(weighted) AS weighted, SUM(weight) AS weight,
                   COUNT(*) AS instalments
              FROM (SELECT line_id, company_id, partner_id, SUM(weight * delay) AS weighted, SUM(weight) AS weight
                      FROM (SELECT aml.id AS line_id, aml.company_id, line_partner.commercial_partner_id AS partner_id,
                                   partial.amount AS weight, partial.max_date - aml.date_maturity AS delay
                              FROM %(instalments)s
                              JOIN res_partner line_partner ON line_partner.id = aml.partner_id
                              JOIN account_partial_reconcile partial ON partial.debit_move_id = aml.id
                             WHERE %(instalment)s
                               AND %(scope)s
                               AND aml.date <= %(today)s
                               AND aml.date_maturity BETWEEN %(history_start)s AND %(today)s
                               AND partial.max_date <= %(today)s
                             UNION ALL
                            SELECT aml.id, aml.company_id, line_partner.commercial_partner_id,
                                   aml.balance - COALESCE(paid.amount, 0), %(today)s::date - aml.date_maturity
                              FROM %(instalments)s
                              JOIN res_partner line_partner ON line_partner.id = aml.partner_id
                              %(paid_join)s
                             WHERE %(instalment)s
                               AND %(scope)s
                               AND aml.date <= %(today)s
                               AND aml.date_maturity >= %(history_start)s
                               AND aml.date_maturity < %(today)s
                               AND (NOT aml.reconciled OR %(later_payments)s)
                               AND aml.balance - COALESCE(paid.amount, 0) > 0) delays
                     GROUP BY line_id, company_id, partner_id) lines
             GROUP BY company_id, partner_id
            """,
            instalments=self._kpi_instalments()[0],
            instalment=self._kpi_instalments()[1],
            scope=self._kpi_scope_filter(company_ids, partner_ids),
            today=today,
            history_start=history_start,
            later_payments=self._later_payments_sql(today),
            paid_join=self._kpi_paid_join(SQL("aml.id"), today),
        )

    @api.model
    def _expected_payment_sql(self, today, line_ids=None, partner_ids=None):
        """SQL of the instalments open on ``today`` with their expected payment date.

        Columns: line_id, move_id, company_id, partner_id, currency_id, date_maturity, residual (company
        currency, reconciliations up to ``today``), residual_currency, delay (expected days late),
        expected_date, promise_id. Everything is read as it stood on ``today`` (payments dated
        later are ignored), so a past ``today`` replays the forecast of that day.

        The delay of a customer is the amount-weighted average of the days between due date and
        payment of every amount paid on instalments due in the last 12 months, plus the residual
        of those still unpaid and late counted at their current delay (``_habits_sql``; today's
        are kept in ``collection.payment.habit``); it is drawn toward the average of all the
        company's customers by ``SHRINK_INSTALMENTS`` instalments' worth."""
        self.env["account.move.line"].flush_model()
        self.env["account.partial.reconcile"].flush_model()
        self.env["collection.promise"].flush_model()
        self.env["collection.promise.line"].flush_model()
        open_filter = SQL("TRUE")
        if line_ids:
            open_filter = SQL("lines.line_id IN %s", line_ids)
            partner_ids = tuple(self.env["account.move.line"].browse(line_ids).move_id.commercial_partner_id.ids)
        elif partner_ids:
            open_filter = SQL("lines.partner_id IN %s", partner_ids)
        # Only these customers' open instalments are needed (a promise is one customer's).
        scope = self._kpi_scope_filter(partner_ids=partner_ids)
        later_payments = self._later_payments_sql(today)
        if today == fields.Date.context_today(self) and not self.env.context.get("collection_kpi_direct"):
            habits = self.env["collection.payment.habit"]._collection_fresh_sql(today)
        else:
            habits = self._habits_sql(today)
        return SQL(
            """
            WITH open_lines AS MATERIALIZED (
                SELECT aml.id, aml.move_id, aml.company_id, move.commercial_partner_id AS partner_id, aml.currency_id,
                       aml.date_maturity, aml.balance, aml.amount_currency
                  FROM %(instalments)s
                  JOIN account_move move ON move.id = aml.move_id
                 WHERE %(instalment)s
                   AND aml.date <= %(today)s
                   AND (NOT aml.reconciled OR %(later_payments)s)
                   AND %(scope)s
            ),
            state AS MATERIALIZED (
                SELECT open_lines.*,
                       open_lines.balance - COALESCE(paid.amount, 0) AS residual,
                       open_lines.amount_currency - COALESCE(paid.amount_currency, 0) AS residual_currency
                  FROM open_lines
                  %(paid_join)s
            ),
            habits AS MATERIALIZED (%(habits)s),
            customers AS (
                SELECT company_id, partner_id, instalments, weighted / NULLIF(weight, 0) AS delay
                  FROM habits
            ),
            portfolio AS (
                SELECT company_id, SUM(weighted) / NULLIF(SUM(weight), 0) AS delay
                  FROM habits
                 GROUP BY company_id
            ),
            promised_lines AS (
                SELECT DISTINCT ON (rel.line_id) rel.line_id, promise.id AS promise_id, promise.date
                  FROM collection_promise_move_line_rel rel
                  JOIN collection_promise promise ON promise.id = rel.promise_id
                 WHERE promise.state = 'open'
                   AND promise.date_made <= %(today)s
                 ORDER BY rel.line_id, promise.date_made DESC, promise.id DESC
            ),
            promised_amounts AS (
                SELECT promised_lines.line_id, promised_lines.promise_id, promised_lines.date,
                       SUM(GREATEST(state.residual, 0)) OVER (PARTITION BY promised_lines.promise_id
                                                              ORDER BY state.date_maturity, state.id) AS owed_to
                  FROM promised_lines
                  JOIN state ON state.id = promised_lines.line_id
            ),
            plan AS (
                SELECT plan.promise_id, plan.date,
                       SUM(plan.amount) OVER (PARTITION BY plan.promise_id ORDER BY plan.date, plan.id) AS paid_to
                  FROM collection_promise_line plan
                 WHERE plan.date >= %(today)s
                   AND plan.promise_id IN (SELECT promise_id FROM promised_lines)
            ),
            promised AS (
                SELECT promised_amounts.line_id, promised_amounts.promise_id,
                       COALESCE((SELECT MIN(plan.date) FROM plan
                                  WHERE plan.promise_id = promised_amounts.promise_id
                                    AND plan.paid_to >= promised_amounts.owed_to - 0.005),
                                promised_amounts.date) AS date
                  FROM promised_amounts
            ),
            forecast AS (
                SELECT state.id AS line_id, state.move_id, state.company_id, state.partner_id, state.currency_id,
                       state.date_maturity, state.residual, state.residual_currency,
                       ROUND(COALESCE(
                           (COALESCE(customers.instalments, 0) * customers.delay
                            + %(shrink)s * COALESCE(portfolio.delay, 0))
                           / (COALESCE(customers.instalments, 0) + %(shrink)s),
                           portfolio.delay, 0))::int AS delay,
                       promised.promise_id,
                       promised.date AS promised_date
                  FROM state
             LEFT JOIN customers ON customers.company_id = state.company_id
                                AND customers.partner_id = state.partner_id
             LEFT JOIN portfolio ON portfolio.company_id = state.company_id
             LEFT JOIN promised ON promised.line_id = state.id
                 WHERE state.residual > 0
            )
            SELECT lines.line_id, lines.move_id, lines.company_id, lines.partner_id, lines.currency_id,
                   lines.date_maturity,
                   lines.residual, lines.residual_currency, lines.delay, lines.promise_id,
                   GREATEST(COALESCE(lines.promised_date, lines.date_maturity + lines.delay), %(today)s)
                       AS expected_date
              FROM forecast lines
             WHERE %(open_filter)s
            """,
            today=today,
            scope=scope,
            habits=habits,
            paid_join=self._kpi_paid_join(SQL("open_lines.id"), today),
            instalments=self._kpi_instalments()[0],
            instalment=self._kpi_instalments()[1],
            later_payments=later_payments,
            shrink=SHRINK_INSTALMENTS,
            open_filter=open_filter,
        )

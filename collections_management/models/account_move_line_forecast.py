from odoo import api, fields, models
from odoo.tools import SQL

from ..report.collection_kpi_mixin import instalment_conditions

# Weight, in instalments, of the portfolio's average delay in a customer's expected delay: a
# customer with n instalments in the last 12 months is expected to pay
# (n × own delay + SHRINK_INSTALMENTS × portfolio delay) / (n + SHRINK_INSTALMENTS) days late.
SHRINK_INSTALMENTS = 3
HISTORY_DAYS = 365


class AccountMoveLine(models.Model):
    _inherit = "account.move.line"

    collection_expected_date = fields.Date(
        string="Expected Payment",
        compute="_compute_collection_expected_date",
        help="Due date plus the customer's average delay over the last 12 months (weighted by amount, late "
        "instalments still unpaid counted at least at their current delay, drawn toward the average of all "
        "customers when the customer has little history), never before today. An open promise to pay or "
        "payment plan replaces it with its date.",
    )

    def _compute_collection_expected_date(self):
        today = fields.Date.context_today(self)
        lines = self.filtered(lambda line: line.id and line.display_type == "payment_term")
        expected = {}
        if lines:
            query = self._collection_expected_payment_sql(today, line_ids=tuple(lines.ids))
            expected = dict(self.env.execute_query(SQL("SELECT line_id, expected_date FROM (%s) forecast", query)))
        for line in self:
            line.collection_expected_date = expected.get(line.id, False)

    @api.model
    def _collection_expected_payment_sql(self, today, line_ids=None, partner_ids=None):
        """SQL of the instalments open on ``today`` with their expected payment date.

        Columns: line_id, company_id, partner_id, currency_id, date_maturity, residual (company
        currency, reconciliations up to ``today``), residual_currency, delay (expected days late),
        expected_date, promise_id. Everything is read as it stood on ``today`` (payments dated
        later are ignored), so a past ``today`` replays the forecast of that day.

        The delay of a customer is the amount-weighted average of the days between due date and
        payment of every amount paid on instalments due in the last 12 months, plus the residual
        of those still unpaid and late counted at their current delay; it is drawn toward the
        average of all the company's customers by ``SHRINK_INSTALMENTS`` instalments' worth."""
        self.env["account.move.line"].flush_model()
        self.env["account.partial.reconcile"].flush_model()
        self.env["collection.promise"].flush_model()
        self.env["collection.promise.line"].flush_model()
        history_start = fields.Date.subtract(today, days=HISTORY_DAYS)
        open_filter = SQL("TRUE")
        if line_ids:
            open_filter = SQL("lines.line_id IN %s", line_ids)
        elif partner_ids:
            open_filter = SQL("lines.partner_id IN %s", partner_ids)
        later_payments = SQL("FALSE")
        if today < fields.Date.context_today(self):
            later_payments = SQL(
                "EXISTS (SELECT 1 FROM account_partial_reconcile later"
                " WHERE later.debit_move_id = aml.id AND later.max_date > %s)",
                today,
            )
        return SQL(
            """
            WITH lines AS (
                SELECT aml.id, aml.company_id, move.commercial_partner_id AS partner_id, aml.currency_id,
                       aml.date_maturity, aml.balance, aml.amount_currency,
                       aml.date_maturity >= %(history_start)s AS in_history
                  FROM account_move_line aml
                  JOIN account_move move ON move.id = aml.move_id
                  JOIN account_account account ON account.id = aml.account_id
                 WHERE %(instalment)s
                   AND aml.date <= %(today)s
                   AND (NOT aml.reconciled OR aml.date_maturity >= %(history_start)s OR %(later_payments)s)
            ),
            payments AS (
                SELECT partial.debit_move_id AS line_id, partial.max_date, partial.amount,
                       partial.debit_amount_currency AS amount_currency
                  FROM account_partial_reconcile partial
                  JOIN lines ON lines.id = partial.debit_move_id
                 WHERE partial.max_date <= %(today)s
            ),
            state AS (
                SELECT lines.*,
                       lines.balance - COALESCE(paid.amount, 0) AS residual,
                       lines.amount_currency - COALESCE(paid.amount_currency, 0) AS residual_currency
                  FROM lines
             LEFT JOIN (SELECT line_id, SUM(amount) AS amount, SUM(amount_currency) AS amount_currency
                          FROM payments GROUP BY line_id) paid ON paid.line_id = lines.id
            ),
            delays AS (
                SELECT lines.company_id, lines.partner_id, lines.id AS line_id,
                       payments.amount AS weight, (payments.max_date - lines.date_maturity) AS delay
                  FROM payments
                  JOIN lines ON lines.id = payments.line_id
                 WHERE lines.in_history AND lines.date_maturity <= %(today)s
                 UNION ALL
                SELECT state.company_id, state.partner_id, state.id, state.residual,
                       (%(today)s::date - state.date_maturity)
                  FROM state
                 WHERE state.in_history AND state.residual > 0 AND state.date_maturity < %(today)s
            ),
            customers AS (
                SELECT company_id, partner_id, COUNT(DISTINCT line_id) AS instalments,
                       SUM(weight * delay) / NULLIF(SUM(weight), 0) AS delay
                  FROM delays
                 GROUP BY company_id, partner_id
            ),
            portfolio AS (
                SELECT company_id, SUM(weight * delay) / NULLIF(SUM(weight), 0) AS delay
                  FROM delays
                 GROUP BY company_id
            ),
            promised AS (
                SELECT DISTINCT ON (rel.line_id) rel.line_id, promise.id AS promise_id,
                       COALESCE((SELECT MIN(plan.date) FROM collection_promise_line plan
                                  WHERE plan.promise_id = promise.id AND plan.date >= %(today)s),
                                promise.date) AS date
                  FROM collection_promise_move_line_rel rel
                  JOIN collection_promise promise ON promise.id = rel.promise_id
                 WHERE promise.state = 'open'
                   AND promise.date_made <= %(today)s
                 ORDER BY rel.line_id, promise.date_made DESC, promise.id DESC
            ),
            forecast AS (
                SELECT state.id AS line_id, state.company_id, state.partner_id, state.currency_id,
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
            SELECT lines.line_id, lines.company_id, lines.partner_id, lines.currency_id, lines.date_maturity,
                   lines.residual, lines.residual_currency, lines.delay, lines.promise_id,
                   GREATEST(COALESCE(lines.promised_date, lines.date_maturity + lines.delay), %(today)s)
                       AS expected_date
              FROM forecast lines
             WHERE %(open_filter)s
            """,
            history_start=history_start,
            today=today,
            instalment=instalment_conditions("aml", "account"),
            later_payments=later_payments,
            shrink=SHRINK_INSTALMENTS,
            open_filter=open_filter,
        )

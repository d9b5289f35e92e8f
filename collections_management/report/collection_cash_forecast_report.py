from odoo import api, fields, models
from odoo.tools import SQL

from .collection_kpi_mixin import KPI_DEPENDS, case_scope_join

FORECAST_WEEKS = 13


class CollectionCashForecastReport(models.Model):
    """Cash expected from open customer instalments over the next 13 weeks.

    Each open instalment is expected on its expected payment date (see
    ``account.move.line._collection_expected_payment_sql``): due date plus the customer's
    usual delay, or the date of an open promise or of the next date of a payment plan. Week 1
    starts today. Amounts in a foreign currency are converted to the company currency at
    today's rate."""

    _name = "collection.cash.forecast.report"
    _description = "Cash Forecast"
    _auto = False
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
    week = fields.Integer(string="Week", readonly=True, aggregator="min", help="1 is the week starting today.")
    week_start = fields.Date(string="Week Starting", readonly=True)
    delay = fields.Integer(string="Expected Delay (days)", readonly=True, aggregator="avg")
    promise_id = fields.Many2one("collection.promise", string="Promise", readonly=True)
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
        return SQL("%s %s %s", self._select(), self._from(), self._where())

    @api.model
    def _select(self):
        today = fields.Date.context_today(self)
        return SQL(
            """
            SELECT forecast.line_id AS id,
                   forecast.line_id,
                   aml.move_id,
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
                        ELSE ROUND((forecast.residual_currency * COALESCE(company_rate.rate, 1.0)
                                    / COALESCE(line_rate.rate, 1.0))::numeric, 2)
                   END AS amount
            """,
            today=today,
        )

    @api.model
    def _rate_join(self, alias, currency):
        today = fields.Date.context_today(self)
        return SQL(
            """LEFT JOIN LATERAL (
                   SELECT rate.rate FROM res_currency_rate rate
                    WHERE rate.currency_id = %(currency)s
                      AND (rate.company_id = forecast.company_id OR rate.company_id IS NULL)
                      AND rate.name <= %(today)s
                    ORDER BY rate.company_id IS NULL, rate.name DESC
                    LIMIT 1) %(alias)s ON forecast.currency_id != company.currency_id""",
            currency=currency,
            today=today,
            alias=SQL.identifier(alias),
        )

    @api.model
    def _from(self):
        today = fields.Date.context_today(self)
        return SQL(
            """
              FROM (%(forecast)s) forecast
              JOIN account_move_line aml ON aml.id = forecast.line_id
              JOIN res_company company ON company.id = forecast.company_id
              JOIN res_partner partner ON partner.id = forecast.partner_id
              %(line_rate)s
              %(company_rate)s
              %(case_join)s
            """,
            forecast=self.env["account.move.line"]._collection_expected_payment_sql(today),
            line_rate=self._rate_join("line_rate", SQL("forecast.currency_id")),
            company_rate=self._rate_join("company_rate", SQL("company.currency_id")),
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

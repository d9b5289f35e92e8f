from odoo import api, fields, models
from odoo.tools import SQL

from ..models.collection_promise import PROMISE_CHANNELS, SETTLED_STATES
from .collection_kpi_mixin import KPI_DEPENDS, case_scope_join


class CollectionPromiseReport(models.Model):
    """Promises to pay (cancelled ones left out) and how much of them was kept.

    A settled promise (kept, partly kept or broken) counts for the kept rates; the amount kept
    is the promised amount of a kept promise, what was paid on the covered instalments from the
    day it was made to the day it was settled (at most the promise) for a partly kept one, and
    nothing for a broken one."""

    _name = "collection.promise.report"
    _inherit = ["collection.kpi.mixin"]
    _description = "Promises Analysis"
    _auto = False
    _depends = {
        **KPI_DEPENDS,
        "collection.promise": [
            "date_made",
            "date",
            "date_settled",
            "company_id",
            "partner_id",
            "user_id",
            "channel",
            "is_plan",
            "state",
            "amount",
            "line_ids",
        ],
    }
    _order = "date_made desc"
    _rec_name = "promise_id"

    promise_id = fields.Many2one("collection.promise", readonly=True)
    date_made = fields.Date(string="Made On", readonly=True)
    date = fields.Date(string="Promised Date", readonly=True)
    date_settled = fields.Date(string="Settled On", readonly=True)
    company_id = fields.Many2one("res.company", readonly=True)
    company_currency_id = fields.Many2one("res.currency", readonly=True)
    partner_id = fields.Many2one("res.partner", string="Customer", readonly=True)
    country_id = fields.Many2one("res.country", readonly=True)
    taken_by_id = fields.Many2one("res.users", readonly=True)
    user_id = fields.Many2one("res.users", string="Collector", readonly=True, help="Collector of the customer's case.")
    team_id = fields.Many2one("collection.team", readonly=True)
    channel = fields.Selection(PROMISE_CHANNELS, string="Received Through", readonly=True)
    is_plan = fields.Boolean(string="Payment Plan", readonly=True)
    state = fields.Selection(
        [("open", "Open"), ("kept", "Kept"), ("partial", "Partly Kept"), ("broken", "Broken")], readonly=True
    )
    amount = fields.Monetary(string="Promised", currency_field="company_currency_id", readonly=True)
    settled_count = fields.Integer(string="Settled", readonly=True, help="Kept, partly kept or broken.")
    kept_count = fields.Integer(string="Kept", readonly=True)
    amount_settled = fields.Monetary(string="Promised (Settled)", currency_field="company_currency_id", readonly=True)
    amount_kept = fields.Monetary(currency_field="company_currency_id", readonly=True)
    kept_rate = fields.Float(
        string="Promise-Kept Rate (%)", readonly=True, aggregator="sum", help="Kept ÷ Settled × 100 (by count)."
    )
    kept_amount_rate = fields.Float(
        string="Amount Kept Rate (%)",
        readonly=True,
        aggregator="sum",
        help="Amount Kept ÷ Promised (Settled) × 100.",
    )

    @api.model
    def _kpi_ratios(self):
        return {
            "kept_rate": lambda total, maximum, column: self._kpi_ratio(
                total("kept_count"), total("settled_count"), 100.0
            ),
            "kept_amount_rate": lambda total, maximum, column: self._kpi_ratio(
                total("amount_kept"), total("amount_settled"), 100.0
            ),
        }

    @property
    def _table_query(self):
        return self._kpi_query(SQL("%s %s %s", self._select(), self._from(), self._where()))

    @api.model
    def _select(self):
        settled = SQL("promise.state IN %s", SETTLED_STATES)
        kept = SQL(
            """CASE promise.state
                   WHEN 'kept' THEN promise.amount
                   WHEN 'partial' THEN LEAST(promise.amount, COALESCE(paid.amount, 0))
                   ELSE 0 END"""
        )
        return SQL(
            """
            SELECT promise.id,
                   promise.id AS promise_id,
                   promise.date_made,
                   promise.date,
                   promise.date_settled,
                   promise.company_id,
                   company.currency_id AS company_currency_id,
                   promise.partner_id,
                   partner.country_id,
                   promise.user_id AS taken_by_id,
                   collection_case.user_id,
                   collection_case.team_id,
                   promise.channel,
                   promise.is_plan,
                   promise.state,
                   promise.amount,
                   (%(settled)s)::int AS settled_count,
                   (promise.state = 'kept')::int AS kept_count,
                   CASE WHEN %(settled)s THEN promise.amount ELSE 0 END AS amount_settled,
                   %(kept)s AS amount_kept,
                   %(kept_rate)s AS kept_rate,
                   %(kept_amount_rate)s AS kept_amount_rate
            """,
            settled=settled,
            kept=kept,
            kept_rate=SQL("CASE WHEN %s THEN (promise.state = 'kept')::int * 100.0 END", settled),
            kept_amount_rate=self._kpi_ratio(kept, SQL("CASE WHEN %s THEN promise.amount END", settled), 100.0),
        )

    @api.model
    def _from(self):
        return SQL(
            """
              FROM collection_promise promise
              JOIN res_company company ON company.id = promise.company_id
              JOIN res_partner partner ON partner.id = promise.partner_id
         LEFT JOIN LATERAL (
                   SELECT SUM(partial.amount) AS amount
                     FROM collection_promise_move_line_rel rel
                     JOIN account_partial_reconcile partial ON partial.debit_move_id = rel.line_id
                     JOIN account_move_line counterpart ON counterpart.id = partial.credit_move_id
                    WHERE rel.promise_id = promise.id
                      AND promise.state = 'partial'
                      AND counterpart.date >= promise.date_made
                      AND counterpart.date <= COALESCE(promise.date_settled, promise.date)
                   ) paid ON TRUE
              %(case_join)s
            """,
            case_join=case_scope_join(SQL("promise.partner_id"), SQL("promise.company_id")),
        )

    @api.model
    def _where(self):
        return SQL("WHERE promise.state != 'cancelled'")

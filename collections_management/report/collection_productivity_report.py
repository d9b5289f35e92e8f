from odoo import api, fields, models
from odoo.tools import SQL

from .collection_kpi_mixin import KPI_DEPENDS, case_scope_join


class CollectionProductivityReport(models.Model):
    """What each collector did per day: contacts logged by hand, promises obtained, promised
    amounts kept, and the amount collected on the instalments of their cases (payments only,
    credit notes left out, dated by the reconciliation). The collector of a payment is the
    collector of the customer's case today. Each row is one contact, promise or reconciliation
    (its id is the record's id times 4 plus its kind): the pivot adds them up, without a first
    grouping of the whole history."""

    _name = "collection.productivity.report"
    _description = "Collector Productivity"
    _inherit = ["collection.kpi.mixin"]
    _auto = False
    _kpi_hash_joins = True
    _depends = {
        **KPI_DEPENDS,
        "collection.communication": ["date", "company_id", "partner_id", "user_id", "state", "run_id"],
        "collection.promise": ["date_made", "date_settled", "company_id", "partner_id", "user_id", "state", "amount"],
    }
    _order = "date desc"
    _rec_name = "user_id"

    date = fields.Date(readonly=True)
    company_id = fields.Many2one("res.company", readonly=True)
    company_currency_id = fields.Many2one("res.currency", readonly=True)
    user_id = fields.Many2one("res.users", string="Collector", readonly=True)
    team_id = fields.Many2one("collection.team", readonly=True)
    partner_id = fields.Many2one("res.partner", string="Customer", readonly=True)
    country_id = fields.Many2one("res.country", readonly=True)
    contact_count = fields.Integer(
        string="Contacts Logged", readonly=True, help="Calls, visits, notes and messages logged by hand."
    )
    promise_count = fields.Integer(string="Promises Obtained", readonly=True)
    promise_amount = fields.Monetary(string="Amount Promised", currency_field="company_currency_id", readonly=True)
    amount_kept = fields.Monetary(
        string="Promised Amount Kept",
        currency_field="company_currency_id",
        readonly=True,
        help="Promises taken by the collector settled as kept on this day.",
    )
    amount_collected = fields.Monetary(
        string="Collected on Cases",
        currency_field="company_currency_id",
        readonly=True,
        help="Payments reconciled with the instalments of the collector's customers.",
    )

    @property
    def _table_query(self):
        return self._kpi_query(SQL("%s %s %s", self._with(), self._select(), self._from()))

    @api.model
    def _with(self):
        return SQL(
            """
            WITH activity AS (
                SELECT communication.id * 4 AS id, communication.date::date AS date, communication.company_id,
                       communication.partner_id, communication.user_id, 1 AS contact_count, 0 AS promise_count,
                       0.0 AS promise_amount, 0.0 AS amount_kept, 0.0 AS amount_collected
                  FROM collection_communication communication
                 WHERE communication.run_id IS NULL
                   AND communication.state NOT IN ('simulated', 'cancelled')
                   AND communication.user_id IS NOT NULL
             UNION ALL
                SELECT promise.id * 4 + 1, promise.date_made, promise.company_id, promise.partner_id, promise.user_id,
                       0, 1, promise.amount, 0.0, 0.0
                  FROM collection_promise promise
                 WHERE promise.state != 'cancelled'
                   AND promise.user_id IS NOT NULL
             UNION ALL
                SELECT promise.id * 4 + 2, promise.date_settled, promise.company_id, promise.partner_id,
                       promise.user_id, 0, 0, 0.0, promise.amount, 0.0
                  FROM collection_promise promise
                 WHERE promise.state = 'kept'
                   AND promise.user_id IS NOT NULL
                   AND promise.date_settled IS NOT NULL
             UNION ALL
                SELECT partial.id * 4 + 3, partial.max_date, aml.company_id, line_partner.commercial_partner_id,
                       collection_case.user_id, 0, 0, 0.0, 0.0, partial.amount
                  FROM account_partial_reconcile partial
                  JOIN (%(instalments)s) ON aml.id = partial.debit_move_id
                  JOIN res_partner line_partner ON line_partner.id = aml.partner_id
                  %(case_join)s
                 WHERE %(instalment)s
                   AND collection_case.user_id IS NOT NULL
                   -- Credit notes are not collections: their items, few, are hashed once.
                   AND partial.credit_move_id NOT IN (
                       SELECT refund_line.id
                         FROM account_move_line refund_line
                         JOIN account_move refund ON refund.id = refund_line.move_id
                        WHERE refund.move_type IN ('out_refund', 'in_refund'))
            )
            """,
            case_join=case_scope_join(SQL("line_partner.commercial_partner_id"), SQL("aml.company_id")),
            instalments=self._kpi_instalments()[0],
            instalment=self._kpi_instalments()[1],
        )

    @api.model
    def _select(self):
        return SQL(
            """
            SELECT activity.id, activity.date, activity.company_id, company.currency_id AS company_currency_id,
                   activity.user_id, collection_case.team_id, activity.partner_id, partner.country_id,
                   activity.contact_count, activity.promise_count, activity.promise_amount, activity.amount_kept,
                   activity.amount_collected
            """
        )

    @api.model
    def _from(self):
        return SQL(
            """
              FROM activity
              JOIN res_company company ON company.id = activity.company_id
              JOIN res_partner partner ON partner.id = activity.partner_id
              %(case_join)s
            """,
            case_join=case_scope_join(SQL("activity.partner_id"), SQL("activity.company_id")),
        )

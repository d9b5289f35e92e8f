from odoo import api, fields, models
from odoo.fields import Domain
from odoo.tools import SQL

# Payment states of an invoice that count as settled: nothing left to collect.
SETTLED_PAYMENT_STATES = ("paid", "in_payment", "reversed")


class AccountMoveLine(models.Model):
    _inherit = "account.move.line"

    collection_level_id = fields.Many2one(
        "collection.level",
        copy=False,
        index="btree_not_null",
        ondelete="set null",
        help="Highest collection level this instalment was reminded at.",
    )
    collection_level_date = fields.Date(string="Last Reminder", copy=False)
    collection_excluded = fields.Boolean(string="Excluded from Collections", copy=False)
    collection_expected_date = fields.Date(
        string="Expected Payment",
        compute="_compute_collection_expected_date",
        help="Due date plus the customer's average delay over the last 12 months (weighted by amount, late "
        "instalments still unpaid counted at least at their current delay, drawn toward the average of all "
        "customers when the customer has little history), never before today. An open promise to pay or "
        "payment plan replaces it with its date.",
    )

    def _compute_collection_expected_date(self):
        lines = self.filtered(lambda line: line.id and line.display_type == "payment_term")
        expected = self.env["collection.cash.forecast.report"]._get_expected_dates(lines)
        for line in self:
            line.collection_expected_date = expected.get(line.id, False)

    @api.model
    def _collection_open_domain(self):
        """Open receivable instalments: what collections may speak about. The one definition of
        it in the suite (the engine's SQL applies the same conditions)."""
        return Domain(
            [
                ("display_type", "=", "payment_term"),
                ("parent_state", "=", "posted"),
                ("account_id.account_type", "=", "asset_receivable"),
                ("reconciled", "=", False),
                ("amount_residual", ">", 0),
                ("move_id.payment_state", "not in", SETTLED_PAYMENT_STATES),
            ]
        )

    def _collection_not_paused_sql(self, alias):
        """SQL condition true for instalments dunning may remind: not under an open dispute and
        not covered by an open promise to pay. ``alias`` is the account_move_line alias."""
        return SQL(
            """NOT EXISTS (
                   SELECT 1 FROM collection_dispute_move_line_rel rel
                     JOIN collection_dispute dispute ON dispute.id = rel.dispute_id
                    WHERE rel.line_id = %(line)s AND dispute.state = 'open')
               AND NOT EXISTS (
                   SELECT 1 FROM collection_promise_move_line_rel rel
                     JOIN collection_promise promise ON promise.id = rel.promise_id
                    WHERE rel.line_id = %(line)s AND promise.state = 'open')""",
            line=SQL.identifier(alias, "id"),
        )

    def _collection_set_levels(self, line_ids_by_level, date):
        """Record the level reached by instalments: {collection.level: [line ids]}.

        One UPDATE per level, straight in SQL: these two columns belong to collections, nothing
        in accounting depends on them, and the ORM's write on journal items re-checks the whole
        move (about 7 ms an instalment). Automation rules watching these fields still run."""
        fnames = ["collection_level_id", "collection_level_date"]

        def write():
            for level, line_ids in line_ids_by_level.items():
                self.env.cr.execute(
                    SQL(
                        """UPDATE account_move_line
                          SET collection_level_id = %s, collection_level_date = %s
                        WHERE id IN %s""",
                        level.id,
                        date,
                        tuple(line_ids),
                    )
                )
            self.invalidate_model(fnames)

        lines = self.browse([line_id for line_ids in line_ids_by_level.values() for line_id in line_ids])
        self.env["base.automation"]._collection_run_write_rules(lines, fnames, write)

from odoo import api, fields, models
from odoo.fields import Domain
from odoo.tools import SQL, Query

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

    # ------------------------------------------------------------------
    # What a customer owes: the one definition of it in the suite
    # ------------------------------------------------------------------

    @api.model
    def _collection_receivable_domain(self):
        """Posted receivable journal items, settled or not (either sign)."""
        return Domain(
            [
                ("parent_state", "=", "posted"),
                ("account_id.account_type", "=", "asset_receivable"),
            ]
        )

    @api.model
    def _collection_open_receivable_domain(self):
        """Posted receivable journal items that are not settled yet (either sign)."""
        return self._collection_receivable_domain() & Domain("reconciled", "=", False)

    @api.model
    def _collection_instalment_domain(self):
        """Receivable instalments, open or settled: the ``payment_term`` items of posted entries on
        receivable accounts with a positive balance. The KPI reports that look at a past day start
        from these and count the reconciliations dated up to that day; what is open today is
        ``_collection_open_domain``."""
        return self._collection_receivable_domain() & Domain(
            [
                ("display_type", "=", "payment_term"),
                ("balance", ">", 0),
            ]
        )

    @api.model
    def _collection_open_domain(self):
        """Open receivable instalments: what collections may speak about (engine, cases, aging
        report, portal, promises, disputes, WhatsApp). Its SQL twin is
        ``_collection_open_sql``, compiled from this very domain."""
        return self._collection_open_receivable_domain() & Domain(
            [
                ("display_type", "=", "payment_term"),
                ("amount_residual", ">", 0),
                ("move_id.payment_state", "not in", SETTLED_PAYMENT_STATES),
            ]
        )

    @api.model
    def _collection_open_picker_domain(self):
        """The instalment pickers' domain (promise, dispute, contact log): the open instalments of
        the record's own ``partner_id`` and ``company_id``, as the web client evaluates it.
        Fields use it as ``domain=lambda self: self.env["account.move.line"]._collection_open_picker_domain()``
        so the pickers offer exactly ``_collection_open_domain``."""
        return "[('partner_id', '=', partner_id), ('company_id', '=', company_id)] + %r" % list(
            self._collection_open_domain()
        )

    @api.model
    def _collection_credit_domain(self):
        """Credits of a customer: every other open receivable item with a negative residual,
        i.e. payments received but not applied to an invoice, and credit notes."""
        return self._collection_open_receivable_domain() & Domain("amount_residual", "<", 0)

    @api.model
    def _collection_owed_domain(self):
        """Instalments and credits: everything that makes up what a customer owes."""
        return self._collection_open_domain() | self._collection_credit_domain()

    @api.model
    def _collection_set_levels(self, level_writes, date):
        """Record the level reached on instalments: ``level_writes`` is {level: [instalment ids]}
        reached on ``date``. Used by the run and by a retry that reached the customer later.

        The level is the engine's own record on the instalments: written as Collections, whoever
        started the run or the retry (collectors do not write journal items), in one grouped
        UPDATE that runs the automation rules a write would run (``collection.fast``)."""
        lines_sudo = self.sudo()
        self.env["collection.fast"].sudo()._write_rows(
            lines_sudo,
            {
                line_id: {"collection_level_id": level.id, "collection_level_date": date}
                for level, line_ids in level_writes.items()
                for line_id in line_ids
            },
        )

    @api.model
    def _collection_query(self, domain, alias="aml"):
        """The SQL twin of ``domain``: a ``Query`` on ``account_move_line`` aliased ``alias``,
        compiled by Odoo's own domain compiler, so the SQL and the Domain cannot disagree.
        Callers use its ``from_clause`` (the table and the joins the conditions need) and its
        ``where_clause`` in their own queries."""
        model = self.sudo().with_context(active_test=False)
        query = Query(self.env, alias, SQL.identifier(self._table))
        query.add_where(Domain(domain).optimize_full(model)._to_sql(model, alias, query))
        return query

    @api.model
    def _collection_receivable_query(self, alias="aml"):
        """SQL twin of ``_collection_receivable_domain`` (receivable items, settled or not)."""
        return self._collection_query(self._collection_receivable_domain(), alias)

    @api.model
    def _collection_instalment_query(self, alias="aml"):
        """SQL twin of ``_collection_instalment_domain`` (instalments, settled or not)."""
        return self._collection_query(self._collection_instalment_domain(), alias)

    @api.model
    def _collection_open_query(self, alias="aml"):
        """SQL twin of ``_collection_open_domain`` (open instalments)."""
        return self._collection_query(self._collection_open_domain(), alias)

    @api.model
    def _collection_credit_query(self, alias="aml"):
        """SQL twin of ``_collection_credit_domain`` (credits)."""
        return self._collection_query(self._collection_credit_domain(), alias)

    @api.model
    def _collection_owed_query(self, alias="aml"):
        """SQL twin of ``_collection_owed_domain`` (instalments and credits)."""
        return self._collection_query(self._collection_owed_domain(), alias)

    # ------------------------------------------------------------------
    # Pauses and levels
    # ------------------------------------------------------------------

    def _collection_disputed_sql(self, alias):
        """SQL condition true for instalments under an open dispute."""
        return SQL(
            """EXISTS (
                   SELECT 1 FROM collection_dispute_move_line_rel rel
                     JOIN collection_dispute dispute ON dispute.id = rel.dispute_id
                    WHERE rel.line_id = %(line)s AND dispute.state = 'open')""",
            line=SQL.identifier(alias, "id"),
        )

    def _collection_promised_sql(self, alias):
        """SQL condition true for instalments covered by an open promise to pay."""
        return SQL(
            """EXISTS (
                   SELECT 1 FROM collection_promise_move_line_rel rel
                     JOIN collection_promise promise ON promise.id = rel.promise_id
                    WHERE rel.line_id = %(line)s AND promise.state = 'open')""",
            line=SQL.identifier(alias, "id"),
        )

    def _collection_claimed_sql(self, alias, date):
        """SQL condition true for instalments of a payment to verify (the customer says it paid and
        sent a proof) whose pause runs on ``date``: reminders resume by themselves the day after
        ``pause_until``, or as soon as the claim is verified or rejected."""
        return SQL(
            """EXISTS (
                   SELECT 1 FROM collection_payment_claim_move_line_rel rel
                     JOIN collection_payment_claim claim ON claim.id = rel.claim_id
                    WHERE rel.line_id = %(line)s AND claim.state = 'to_verify'
                      AND claim.pause_until >= %(date)s)""",
            line=SQL.identifier(alias, "id"),
            date=date,
        )

    def _collection_not_paused_sql(self, alias, date=None):
        """SQL condition true for instalments dunning may remind: not under an open dispute, not
        covered by an open promise to pay, not paused by a payment to verify on ``date`` (default
        today). ``alias`` is the account_move_line alias."""
        return SQL(
            "NOT %s AND NOT %s AND NOT %s",
            self._collection_disputed_sql(alias),
            self._collection_promised_sql(alias),
            self._collection_claimed_sql(alias, date or fields.Date.context_today(self)),
        )

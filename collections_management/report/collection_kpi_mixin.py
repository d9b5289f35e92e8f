from odoo import api, models
from odoo.tools import SQL

# What the KPI reports read: reading a report first writes pending changes of these fields.
KPI_DEPENDS = {
    "account.move": ["move_type", "commercial_partner_id", "state"],
    "account.move.line": [
        "balance",
        "date",
        "date_maturity",
        "display_type",
        "parent_state",
        "account_id",
        "move_id",
        "company_id",
        "reconciled",
        "amount_residual",
    ],
    "account.partial.reconcile": ["amount", "max_date", "debit_move_id", "credit_move_id"],
    "collection.case": ["user_id", "team_id", "partner_id", "company_id"],
    "res.partner": ["country_id", "commercial_partner_id"],
}


def bucket_sql(days_late):
    """SQL CASE giving the aging bucket key of ``days_late`` (same bounds as ``aging_bucket``)."""
    return SQL(
        """CASE
               WHEN %(days)s <= 0 THEN '0_not_due'
               WHEN %(days)s <= 30 THEN '1_30'
               WHEN %(days)s <= 60 THEN '2_60'
               WHEN %(days)s <= 90 THEN '3_90'
               WHEN %(days)s <= 120 THEN '4_120'
               ELSE '5_older'
           END""",
        days=days_late,
    )


def case_scope_join(partner, company):
    """LEFT JOIN of the customer's collection case (its collector and team give the scope of
    the KPI rows), as ``collection_case``."""
    return SQL(
        """LEFT JOIN collection_case ON collection_case.partner_id = %(partner)s
                                  AND collection_case.company_id = %(company)s""",
        partner=partner,
        company=company,
    )


class CollectionKpiMixin(models.AbstractModel):
    """Ratios of SQL report models that stay right when rows are grouped.

    A ratio (a rate, a DSO) cannot be summed or averaged over rows: grouped, it is the ratio of
    the sums of its components. A report lists its ratios in ``_kpi_ratios``: {field name:
    function(total, maximum, column) -> SQL} where ``total("column")`` is the SQL sum of a column of the rows in
    the group; the pivot, graph and ``_read_group`` then compute the ratio of each group from
    its totals, whatever the aggregate asked for. ``maximum("column")`` is the SQL maximum (for
    constants of a period, such as its number of days) and ``column("column")`` the column itself
    (for other aggregates, such as distinct counts)."""

    _name = "collection.kpi.mixin"
    _description = "Collections KPI report helpers"

    # Group with hash joins only: set on reports whose rows come from joins of the whole
    # receivables history, where PostgreSQL underestimates the receivable items (one account of
    # many) and would look up each of a million reconciliations one by one.
    _kpi_hash_joins = False

    @api.model
    def _kpi_query(self, query):
        """``query`` as the report's table, run with ``_kpi_settings``."""
        self._kpi_settings()
        return query

    @api.model
    def _kpi_settings(self):
        """Settings of the KPI queries for the rest of the transaction: PostgreSQL's JIT
        compilation off (the aggregates over a whole portfolio look expensive to the planner, and
        compiling them takes seconds while running them takes milliseconds) and enough memory for
        their hash tables and sorts not to spill to disk (with the default 4 MB, a list of a
        million paid instalments is scanned once per instalment instead of hashed once)."""
        self.env.cr.execute("SET LOCAL jit = off; SET LOCAL work_mem = '64MB'")

    @api.model
    def _kpi_ratios(self):
        return {}

    @api.model
    def _kpi_instalments(self, alias="aml"):
        """(FROM, WHERE) of the receivable instalments, open or settled, as ``alias``: the SQL twin
        of ``account.move.line._collection_instalment_domain``."""
        query = self.env["account.move.line"]._collection_instalment_query(alias)
        return query.from_clause, query.where_clause

    @api.model
    def _kpi_receivables(self, alias="aml"):
        """(FROM, WHERE) of the posted receivable journal items, settled or not, as ``alias``: the
        SQL twin of ``account.move.line._collection_receivable_domain``."""
        query = self.env["account.move.line"]._collection_receivable_query(alias)
        return query.from_clause, query.where_clause

    @api.model
    def _kpi_row_id(self, partner, company, month, detail=None, detail_values=1):
        """SQL of a row id computed from the row's key, without numbering the rows (numbering
        sorts the whole report and keeps PostgreSQL from filtering before it): the customer, the
        company (modulo 1024), the month (``month``, a date; 4096 months from 2000) and ``detail``,
        an integer from 0 to ``detail_values`` - 1 (the period type, the bucket...)."""
        return SQL(
            """(((%(partner)s::bigint * 1024 + %(company)s %% 1024) * 4096
                 + (EXTRACT(YEAR FROM %(month)s)::int - 2000) * 12 + EXTRACT(MONTH FROM %(month)s)::int - 1)
                * %(values)s + %(detail)s)""",
            partner=partner,
            company=company,
            month=month,
            values=detail_values,
            detail=detail if detail is not None else SQL("0"),
        )

    @api.model
    def _kpi_paid_join(self, line, date):
        """``LEFT JOIN LATERAL`` giving ``paid.amount`` (company currency) and
        ``paid.amount_currency`` reconciled with the instalment ``line`` (its id, SQL) by the
        reconciliations dated up to ``date``: the one definition of what was paid on a day, from
        which each report takes an instalment's residual on that day."""
        return SQL(
            """LEFT JOIN LATERAL (
                   SELECT SUM(partial.amount) AS amount, SUM(partial.debit_amount_currency) AS amount_currency
                     FROM account_partial_reconcile partial
                    WHERE partial.debit_move_id = %(line)s
                      AND partial.max_date <= %(date)s
               ) paid ON TRUE""",
            line=line,
            date=date,
        )

    @api.model
    def _kpi_scope_filter(self, company_ids=None, partner_ids=None, alias="aml"):
        """SQL condition keeping the journal items ``alias`` of these companies and of these
        customers (commercial partners, the items of their contacts included); TRUE without
        limits."""
        conditions = [SQL("TRUE")]
        if company_ids:
            conditions.append(SQL("%s.company_id IN %s", SQL.identifier(alias), tuple(company_ids)))
        if partner_ids:
            conditions.append(
                SQL(
                    "%s.partner_id IN (SELECT id FROM res_partner WHERE commercial_partner_id IN %s)",
                    SQL.identifier(alias),
                    tuple(partner_ids),
                )
            )
        return SQL(" AND ").join(conditions)

    @api.model
    def _read_group(self, domain, groupby=(), aggregates=(), having=(), offset=0, limit=None, order=None):
        if not self._kpi_hash_joins:
            return super()._read_group(domain, groupby, aggregates, having, offset, limit, order)
        self.env.cr.execute("SET LOCAL enable_nestloop = off")
        result = super()._read_group(domain, groupby, aggregates, having, offset, limit, order)
        self.env.cr.execute("SET LOCAL enable_nestloop = on")
        return result

    @api.model
    def _read_group_select(self, aggregate_spec, query):
        fname = aggregate_spec.split(":")[0]
        ratio = self._kpi_ratios().get(fname)
        if ratio is None or aggregate_spec == "__count":
            return super()._read_group_select(aggregate_spec, query)

        def total(column):
            return SQL("SUM(%s)", self._field_to_sql(self._table, column, query))

        def maximum(column):
            return SQL("MAX(%s)", self._field_to_sql(self._table, column, query))

        def column(name):
            return self._field_to_sql(self._table, name, query)

        return ratio(total, maximum, column)

    @api.model
    def _kpi_ratio(self, numerator, denominator, factor=1.0):
        """``numerator / denominator * factor`` rounded to two decimals, NULL without denominator."""
        return SQL(
            "ROUND((%s * %s / NULLIF(%s, 0))::numeric, 2)",
            numerator,
            factor,
            denominator,
        )

import logging

from odoo import api, fields, models
from odoo.tools import SQL

from .collection_kpi_report import COUNTBACK_MONTHS, KPI_MONTHS

_logger = logging.getLogger(__name__)

# Serializes the refreshes of the snapshot (two users opening a report at once).
SNAPSHOT_LOCK = 0x636B7069  # "ckpi"


class CollectionKpiSnapshot(models.Model):
    """Month-end figures of each customer, for the months already over: receivables at the start
    and end of the month, credit sales of the month and of the eleven months before it (the
    count-back months, ``COUNTBACK_MONTHS``), what was not yet due at month end. The KPI report
    reads the past months here and computes only the current month from the journal items.

    A past month changes only when a journal entry or a reconciliation dated in it (or before it)
    changes: posting, resetting or cancelling an entry and creating or removing a reconciliation
    mark the rows of its customers from its date on as stale (``collection.kpi.snapshot.stale``),
    and the next report recomputes only those customers' rows. The daily refresh compares a
    fingerprint of each month's journal items and reconciliations, for changes made without the
    ORM, and recomputes the months that differ (``collection.kpi.snapshot.month``) for every
    customer."""

    _name = "collection.kpi.snapshot"
    _description = "Collections KPI Monthly Snapshot"
    _log_access = False
    _order = "month desc, partner_id"
    _rec_name = "month"

    company_id = fields.Many2one("res.company", required=True, readonly=True, ondelete="cascade")
    partner_id = fields.Many2one("res.partner", string="Customer", required=True, readonly=True, ondelete="cascade")
    month = fields.Date(required=True, readonly=True, help="First day of the month.")
    ar_begin = fields.Float(string="Receivables at Start", readonly=True)
    ar_end = fields.Float(string="Receivables at End", readonly=True)
    sales = fields.Float(string="Credit Sales", readonly=True)
    current_end = fields.Float(string="Current Receivables at End", readonly=True)
    sales_m1 = fields.Float(readonly=True)
    sales_m2 = fields.Float(readonly=True)
    sales_m3 = fields.Float(readonly=True)
    sales_m4 = fields.Float(readonly=True)
    sales_m5 = fields.Float(readonly=True)
    sales_m6 = fields.Float(readonly=True)
    sales_m7 = fields.Float(readonly=True)
    sales_m8 = fields.Float(readonly=True)
    sales_m9 = fields.Float(readonly=True)
    sales_m10 = fields.Float(readonly=True)
    sales_m11 = fields.Float(readonly=True)

    _company_month_idx = models.Index("(company_id, month, partner_id)")

    # ------------------------------------------------------------------
    # Freshness
    # ------------------------------------------------------------------

    @api.model
    def _collection_window(self, today=None):
        """(first month, last month) the snapshot holds: from the start of the quarter 24 months
        ago (the reports' oldest month) to the month before ``today``'s."""
        today = today or fields.Date.context_today(self)
        first = fields.Date.start_of(fields.Date.subtract(today, months=KPI_MONTHS), "quarter")
        last = fields.Date.subtract(fields.Date.start_of(today, "month"), months=1)
        return first, last

    @api.model
    def _collection_stale_months(self, first, last):
        """{company id: first month to recompute}: the months of the window without a snapshot or
        marked stale."""
        rows = self.env.execute_query(
            SQL(
                """
                SELECT company.id, MIN(m.month)
                  FROM res_company company
            CROSS JOIN (SELECT m::date AS month
                          FROM generate_series(%(first)s::date, %(last)s::date, INTERVAL '1 month') m) m
             LEFT JOIN collection_kpi_snapshot_month done ON done.company_id = company.id
                                                         AND done.month = m.month
                 WHERE done.id IS NULL OR done.stale
                 GROUP BY company.id
                """,
                first=first,
                last=last,
            )
        )
        return dict(rows)

    @api.model
    def _collection_stale_partners(self, first):
        """{company id: (first month to recompute, customer ids)}: the customers whose rows must be
        recomputed (a change of theirs dated in a month already over)."""
        rows = self.env.execute_query(
            SQL(
                """
                SELECT company_id, GREATEST(MIN(month), %s::date), ARRAY_AGG(partner_id)
                  FROM collection_kpi_snapshot_stale
                 GROUP BY company_id
                """,
                first,
            )
        )
        return {company_id: (month, partner_ids) for company_id, month, partner_ids in rows}

    @api.model
    def _collection_ensure_fresh(self):
        """Recompute the months of the snapshot that are missing or stale, and the rows of the
        customers marked stale (called by the reports before they read it; usually nothing to
        do)."""
        first, last = self._collection_window()
        self._collection_flush_inputs()
        if self._collection_stale_months(first, last) or self._collection_stale_partners(first):
            self._collection_refresh()

    @api.model
    def _collection_flush_inputs(self):
        for model in ("account.move", "account.move.line", "account.partial.reconcile", "res.partner"):
            self.env[model].flush_model()

    @api.model
    def _cron_refresh(self):
        """Daily: compare each past month's fingerprint with the one the snapshot was computed
        from, and recompute the months that changed (and the missing or stale ones)."""
        self.action_refresh(check_inputs=True)
        self.env["collection.payment.habit"]._collection_ensure_fresh(fields.Date.context_today(self))

    @api.model
    def action_refresh(self, check_inputs=True):
        """Bring the snapshot up to date now. With ``check_inputs``, months whose journal items or
        reconciliations changed without the ORM noticing are found by their fingerprint. Managers
        only (they read the snapshot)."""
        self.check_access("read")
        first, last = self._collection_window()
        self._collection_flush_inputs()
        if check_inputs:
            self._collection_mark_changed(first, last)
        if self._collection_stale_months(first, last) or self._collection_stale_partners(first):
            self._collection_refresh()
        return True

    @api.model
    def _collection_fingerprint_sql(self, first, last):
        """SQL of (company_id, month, fingerprint) of the inputs of each month of the window: the
        posted receivable journal items dated in it (those before the window count in its first
        month) and the reconciliations of receivable instalments dated in it (same)."""
        return SQL(
            """
            SELECT company_id, month,
                   COUNT(*)::text || ':' || SUM(amount)::text || ':' || SUM(signature)::text AS fingerprint
              FROM (SELECT aml.company_id, GREATEST(date_trunc('month', aml.date)::date, %(first)s) AS month,
                           aml.balance AS amount,
                           hashtextextended(concat_ws(',', aml.id, aml.partner_id, aml.balance, aml.date,
                                                      aml.date_maturity, aml.display_type), 0)::numeric
                               AS signature
                      FROM %(receivables)s
                     WHERE %(receivable)s
                       AND aml.date <= (%(last)s::date + INTERVAL '1 month - 1 day')::date
                     UNION ALL
                    SELECT aml.company_id, GREATEST(date_trunc('month', partial.max_date)::date, %(first)s),
                           partial.amount,
                           hashtextextended(concat_ws(',', partial.id, partial.debit_move_id, partial.amount,
                                                      partial.max_date), 1)::numeric
                      FROM account_partial_reconcile partial
                      JOIN account_move_line aml ON aml.id = partial.debit_move_id
                     WHERE aml.display_type = 'payment_term'
                       AND partial.max_date <= (%(last)s::date + INTERVAL '1 month - 1 day')::date
                   ) inputs
             GROUP BY company_id, month
            """,
            receivables=self.env["collection.kpi.report"]._kpi_receivables()[0],
            receivable=self.env["collection.kpi.report"]._kpi_receivables()[1],
            first=first,
            last=last,
        )

    @api.model
    def _collection_mark_changed(self, first, last):
        """Mark stale the months of the window whose fingerprint differs from the one stored."""
        self.env["collection.kpi.report"]._kpi_settings()
        self.env.cr.execute(
            SQL(
                """
                WITH prints AS MATERIALIZED (%(fingerprints)s)
                UPDATE collection_kpi_snapshot_month done
                   SET stale = TRUE
                 WHERE NOT done.stale
                   AND done.month BETWEEN %(first)s AND %(last)s
                   AND done.fingerprint IS DISTINCT FROM COALESCE(
                       (SELECT prints.fingerprint FROM prints
                         WHERE prints.company_id = done.company_id AND prints.month = done.month), '')
                """,
                fingerprints=self._collection_fingerprint_sql(first, last),
                first=first,
                last=last,
            )
        )
        if self.env.cr.rowcount:
            _logger.info("KPI snapshot: %s month(s) changed since they were computed", self.env.cr.rowcount)

    @api.model
    def _collection_refresh(self):
        """Bring the snapshot up to date: recompute the rows of the customers marked stale from
        their month on, then, for each company with missing or stale months, every customer's
        rows from the first such month to the last month over, in SQL (a few statements per
        company)."""
        cr = self.env.cr
        cr.execute(SQL("SELECT pg_advisory_xact_lock(%s)", SNAPSHOT_LOCK))
        self.env["collection.kpi.report"]._kpi_settings()
        # Read after the lock: another transaction may have refreshed it while this one waited.
        first, last = self._collection_window()
        for company_id, (start, partner_ids) in self._collection_stale_partners(first).items():
            if start <= last:
                self._collection_compute(company_id, start, partner_ids=partner_ids)
            cr.execute(
                SQL(
                    "DELETE FROM collection_kpi_snapshot_stale WHERE company_id = %s AND partner_id IN %s",
                    company_id,
                    tuple(partner_ids),
                )
            )
        for company_id, start in self._collection_stale_months(first, last).items():
            self._collection_compute(company_id, start)
            cr.execute(
                SQL(
                    """
                    DELETE FROM collection_kpi_snapshot_month
                     WHERE company_id = %(company)s AND (month >= %(start)s OR month < %(first)s);
                    INSERT INTO collection_kpi_snapshot_month (company_id, month, stale, fingerprint, refresh_date)
                    SELECT %(company)s, m.month, FALSE, COALESCE(prints.fingerprint, ''), NOW() AT TIME ZONE 'UTC'
                      FROM (SELECT m::date AS month
                              FROM generate_series(%(start)s::date, %(last)s::date, INTERVAL '1 month') m) m
                 LEFT JOIN (%(fingerprints)s) prints ON prints.company_id = %(company)s AND prints.month = m.month
                    """,
                    company=company_id,
                    start=start,
                    first=first,
                    last=last,
                    fingerprints=self._collection_fingerprint_sql(first, last),
                )
            )
            cr.execute(
                SQL(
                    """
                    DELETE FROM collection_kpi_snapshot WHERE company_id = %(company)s AND month < %(first)s;
                    DELETE FROM collection_kpi_roll_snapshot WHERE company_id = %(company)s AND month < %(first)s;
                    """,
                    company=company_id,
                    first=first,
                )
            )
            # Fresh planner statistics: a first refresh fills the tables from nothing.
            cr.execute("ANALYZE collection_kpi_snapshot; ANALYZE collection_kpi_roll_snapshot")
        self.env.invalidate_all()

    @api.model
    def _collection_compute(self, company_id, start, partner_ids=None):
        """Recompute the rows of the company from ``start`` (a month) to the last month over, of
        every customer or of ``partner_ids`` only, from the journal items and reconciliations."""
        cr = self.env.cr
        first, last = self._collection_window()
        kpi = self.env["collection.kpi.report"]
        roll = self.env["collection.roll.rate.report"]
        last_day = fields.Date.end_of(last, "month")
        scope = SQL("company_id = %s", company_id)
        if partner_ids:
            scope = SQL("%s AND partner_id IN %s", scope, tuple(partner_ids))
        columns = SQL(
            "company_id, partner_id, month, ar_begin, ar_end, sales, current_end, %s",
            SQL(", ").join(SQL.identifier(f"sales_m{k}") for k in range(1, COUNTBACK_MONTHS)),
        )
        nonzero = SQL(" OR ").join(
            SQL("%s <> 0", SQL.identifier(column))
            for column in ["ar_begin", "ar_end", "sales", "current_end"]
            + [f"sales_m{k}" for k in range(1, COUNTBACK_MONTHS)]
        )
        cr.execute(
            SQL(
                """
                DELETE FROM collection_kpi_snapshot WHERE %(scope)s AND month >= %(start)s;
                INSERT INTO collection_kpi_snapshot (%(columns)s)
                WITH %(monthly)s
                SELECT %(columns)s
                  FROM (SELECT monthly.*, month_start AS month FROM monthly) monthly
                 WHERE month_start >= %(start)s AND (%(nonzero)s)
                """,
                scope=scope,
                start=start,
                columns=columns,
                nonzero=nonzero,
                monthly=kpi._direct_monthly_sql(last_day, start, company_ids=[company_id], partner_ids=partner_ids),
            )
        )
        # A month's roll rates follow its balance into the next month: a change dated in
        # ``start`` also changes the roll rates of the month before.
        roll_start = max(fields.Date.subtract(start, months=1), first)
        roll_last = fields.Date.subtract(last, days=1)
        cr.execute(
            SQL(
                """
                DELETE FROM collection_kpi_roll_snapshot WHERE %(scope)s AND month >= %(start)s;
                INSERT INTO collection_kpi_roll_snapshot (company_id, partner_id, month, bucket, amount_start,
                                                          amount_rolled, amount_stayed, amount_collected)
                WITH %(moves)s
                SELECT company_id, partner_id, date, bucket, amount_start, COALESCE(amount_rolled, 0),
                       COALESCE(amount_stayed, 0), amount_collected
                  FROM moves
                 WHERE date >= %(start)s
                """,
                scope=scope,
                start=roll_start,
                moves=roll._direct_moves_sql(roll_start, roll_last, company_ids=[company_id], partner_ids=partner_ids),
            )
        )

    @api.model
    def _collection_mark_stale(self, changes):
        """Mark stale the rows of the snapshot of these customers from these dates on: ``changes``
        is a list of (company id, customer id, date) of posted journal items or reconciliations
        that changed. A change dated in the current month leaves the stored months as they are;
        without a customer, the whole months are marked. The customers' payment habits (expected
        payment dates) are marked too, whatever the date."""
        self.env["collection.payment.habit"]._collection_mark_stale(
            [(company_id, partner_id) for company_id, partner_id, _date in changes]
        )
        month_start = fields.Date.start_of(fields.Date.context_today(self), "month")
        earliest = {}
        for company_id, partner_id, date in changes:
            if company_id and date and date < month_start:
                key = (company_id, partner_id or None)
                if key not in earliest or date < earliest[key]:
                    earliest[key] = date
        partners = [
            SQL("(%s, %s, date_trunc('month', %s::date)::date)", company_id, partner_id, date)
            for (company_id, partner_id), date in earliest.items()
            if partner_id
        ]
        if partners:
            self.env.cr.execute(
                SQL(
                    """INSERT INTO collection_kpi_snapshot_stale (company_id, partner_id, month)
                       VALUES %s
                       ON CONFLICT (company_id, partner_id)
                       DO UPDATE SET month = LEAST(collection_kpi_snapshot_stale.month, EXCLUDED.month)""",
                    SQL(", ").join(partners),
                )
            )
        for (company_id, partner_id), date in earliest.items():
            if not partner_id:
                self.env.cr.execute(
                    SQL(
                        """UPDATE collection_kpi_snapshot_month SET stale = TRUE
                            WHERE company_id = %s AND month >= date_trunc('month', %s::date) AND NOT stale""",
                        company_id,
                        date,
                    )
                )


class CollectionKpiSnapshotRoll(models.Model):
    """Roll rates of each customer, month end and aging bucket, for the months whose next month
    is over (see ``collection.kpi.snapshot``)."""

    _name = "collection.kpi.roll.snapshot"
    _description = "Collections Roll Rate Monthly Snapshot"
    _log_access = False
    _order = "month desc, partner_id, bucket"
    _rec_name = "month"

    company_id = fields.Many2one("res.company", required=True, readonly=True, ondelete="cascade")
    partner_id = fields.Many2one("res.partner", string="Customer", required=True, readonly=True, ondelete="cascade")
    month = fields.Date(required=True, readonly=True)
    bucket = fields.Char(string="Aging", required=True, readonly=True)
    amount_start = fields.Float(string="Balance", readonly=True)
    amount_rolled = fields.Float(string="Rolled", readonly=True)
    amount_stayed = fields.Float(string="Stayed", readonly=True)
    amount_collected = fields.Float(string="Collected", readonly=True)

    _company_month_idx = models.Index("(company_id, month)")


class CollectionKpiSnapshotMonth(models.Model):
    """One row per company and month held by the KPI snapshots: whether it must be recomputed,
    and the fingerprint of the journal items and reconciliations it was computed from."""

    _name = "collection.kpi.snapshot.month"
    _description = "Collections KPI Snapshot Month"
    _log_access = False
    _order = "month desc"
    _rec_name = "month"

    company_id = fields.Many2one("res.company", required=True, readonly=True, ondelete="cascade")
    month = fields.Date(required=True, readonly=True)
    stale = fields.Boolean(readonly=True)
    fingerprint = fields.Char(readonly=True)
    refresh_date = fields.Datetime(string="Computed On", readonly=True)

    _company_month_uniq = models.UniqueIndex("(company_id, month)")


class CollectionKpiSnapshotStale(models.Model):
    """Customers whose rows of the KPI snapshots must be recomputed from a month on: one of their
    posted entries or reconciliations, dated in a month already over, changed."""

    _name = "collection.kpi.snapshot.stale"
    _description = "Collections KPI Snapshot Customer to Recompute"
    _log_access = False
    _order = "month"
    _rec_name = "partner_id"

    company_id = fields.Many2one("res.company", required=True, readonly=True, ondelete="cascade")
    partner_id = fields.Many2one("res.partner", string="Customer", required=True, readonly=True, ondelete="cascade")
    month = fields.Date(required=True, readonly=True, help="First month to recompute.")

    _company_partner_uniq = models.UniqueIndex("(company_id, partner_id)")

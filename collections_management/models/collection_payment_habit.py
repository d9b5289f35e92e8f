from odoo import api, fields, models
from odoo.tools import SQL

# Serializes the refreshes of the habits (two users opening a case list at once).
HABIT_LOCK = 0x63686162  # "chab"


class CollectionPaymentHabit(models.Model):
    """Each customer's payment habits on a day, the input of the expected payment dates: the
    figures of ``collection.cash.forecast.report._habits_sql``, kept so that a list of cases or
    the cash forecast does not add up a year of payments of the whole portfolio each time it is
    read.

    The first reader of a day (in the user's time zone, so yesterday's rows are kept a day for
    users far west) computes that day's rows for the company, and a row without customer says
    it did (a company without any payment history is not recomputed at every read). A payment, a reconciliation or a
    posted, reset or cancelled entry of a customer marks that customer's rows stale
    (``_collection_mark_stale``), and the next reader recomputes only them."""

    _name = "collection.payment.habit"
    _description = "Collections Customer Payment Habits"
    _log_access = False
    _rec_name = "partner_id"

    company_id = fields.Many2one("res.company", required=True, readonly=True, ondelete="cascade")
    partner_id = fields.Many2one(
        "res.partner",
        string="Customer",
        readonly=True,
        ondelete="cascade",
        help="Empty: the company's day is computed.",
    )
    date = fields.Date(required=True, readonly=True, help="Day of the figures.")
    stale = fields.Boolean(readonly=True, help="The customer's payments changed: recomputed by the next reader.")
    weighted = fields.Float(readonly=True, help="Σ amount × days late.")
    weight = fields.Float(readonly=True, help="Σ amount.")
    instalments = fields.Integer(readonly=True)

    _company_partner_date_uniq = models.UniqueIndex("(company_id, partner_id, date)")

    @api.model
    def _collection_fresh_sql(self, today):
        """SQL of the habits on ``today`` (columns company_id, partner_id, weighted, weight,
        instalments), recomputed first where they are missing or stale."""
        self._collection_ensure_fresh(today)
        return SQL(
            "SELECT company_id, partner_id, weighted, weight, instalments FROM collection_payment_habit"
            " WHERE date = %s AND partner_id IS NOT NULL",
            today,
        )

    @api.model
    def _collection_todo(self, today):
        """[(company id, customer ids to recompute or None for all)] on ``today``."""
        rows = self.env.execute_query(
            SQL(
                """
                SELECT company.id,
                       EXISTS (SELECT 1 FROM collection_payment_habit habit
                                WHERE habit.company_id = company.id AND habit.date = %(today)s),
                       ARRAY(SELECT habit.partner_id FROM collection_payment_habit habit
                              WHERE habit.company_id = company.id AND habit.date = %(today)s AND habit.stale)
                  FROM res_company company
                """,
                today=today,
            )
        )
        return [(company_id, tuple(stale) if done else None) for company_id, done, stale in rows if stale or not done]

    @api.model
    def _collection_ensure_fresh(self, today):
        """Compute the habits on ``today`` of the companies that have none yet, and recompute the
        customers marked stale."""
        for model in ("account.move", "account.move.line", "account.partial.reconcile", "res.partner"):
            self.env[model].flush_model()
        if not self._collection_todo(today):
            return
        self.env.cr.execute(SQL("SELECT pg_advisory_xact_lock(%s)", HABIT_LOCK))
        report = self.env["collection.cash.forecast.report"]
        report._kpi_settings()
        # Read again after the lock: another transaction may have done it meanwhile.
        for company_id, partner_ids in self._collection_todo(today):
            # A whole company: hash joins (see collection.kpi.mixin._kpi_hash_joins).
            self.env.cr.execute(SQL("SET LOCAL enable_nestloop = %s", "on" if partner_ids else "off"))
            scope = SQL("company_id = %s AND date = %s", company_id, today)
            if partner_ids:
                scope = SQL("%s AND partner_id IN %s", scope, partner_ids)
            self.env.cr.execute(
                SQL(
                    """
                    DELETE FROM collection_payment_habit
                     WHERE (%(scope)s) OR (company_id = %(company)s AND date < %(today)s::date - 1);
                    INSERT INTO collection_payment_habit
                           (company_id, partner_id, date, stale, weighted, weight, instalments)
                    SELECT company_id, partner_id, %(today)s, FALSE, weighted, weight, instalments
                      FROM (%(habits)s) habits;
                    %(done)s
                    """,
                    scope=scope,
                    company=company_id,
                    today=today,
                    habits=report._habits_sql(today, company_ids=[company_id], partner_ids=partner_ids),
                    done=SQL(
                        """INSERT INTO collection_payment_habit
                                  (company_id, partner_id, date, stale, weighted, weight, instalments)
                           VALUES (%s, NULL, %s, FALSE, 0, 0, 0)""",
                        company_id,
                        today,
                    )
                    if not partner_ids
                    else SQL(),
                )
            )
        self.env.cr.execute("SET LOCAL enable_nestloop = on")
        self.env.invalidate_all()

    @api.model
    def _collection_mark_stale(self, company_partners):
        """These customers' payments changed: ``company_partners`` is a list of (company id,
        customer id). Their rows of every day kept are recomputed by the next reader (a customer
        without a row yet gets a stale one)."""
        rows = {(company_id, partner_id) for company_id, partner_id in company_partners if company_id and partner_id}
        if rows:
            self.env.cr.execute(
                SQL(
                    """INSERT INTO collection_payment_habit
                              (company_id, partner_id, date, stale, weighted, weight, instalments)
                       SELECT changed.company_id, changed.partner_id, days.date, TRUE, 0, 0, 0
                         FROM (VALUES %s) changed (company_id, partner_id)
                         JOIN (SELECT DISTINCT company_id, date FROM collection_payment_habit) days
                           ON days.company_id = changed.company_id
                       ON CONFLICT (company_id, partner_id, date) DO UPDATE SET stale = TRUE""",
                    SQL(", ").join(SQL("(%s, %s)", *row) for row in rows),
                )
            )

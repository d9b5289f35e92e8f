from odoo import _, api, fields, models
from odoo.exceptions import UserError
from odoo.tools import SQL

from .collection_aging_report import AGING_BUCKETS
from .collection_kpi_mixin import KPI_DEPENDS, bucket_sql, case_scope_join


class CollectionAgingDateReport(models.Model):
    """Receivable instalments open on a date, past included, by aging bucket.

    The date comes from the context key ``collection_aging_date`` (today without it). An
    instalment's residual on that date is its amount less the reconciliations dated on or before
    it (a reconciliation is dated by the later of its two journal items, ``max_date``): a payment
    received later does not count, so the report shows what the aging looked like that day. Only
    the instalments not fully reconciled, or reconciled after that day, can have been open: the
    others are left out before their payments are summed."""

    _name = "collection.aging.date.report"
    _description = "Receivables Aging at a Date"
    _inherit = ["collection.kpi.mixin"]
    _auto = False
    _depends = {
        **KPI_DEPENDS,
    }
    _order = "days_late desc"
    _rec_name = "move_id"

    aging_date = fields.Date(readonly=True)
    line_id = fields.Many2one("account.move.line", string="Instalment", readonly=True)
    move_id = fields.Many2one("account.move", string="Invoice", readonly=True)
    partner_id = fields.Many2one("res.partner", string="Customer", readonly=True)
    country_id = fields.Many2one("res.country", readonly=True)
    company_id = fields.Many2one("res.company", readonly=True)
    company_currency_id = fields.Many2one("res.currency", readonly=True)
    date_maturity = fields.Date(string="Due Date", readonly=True)
    days_late = fields.Integer(readonly=True, aggregator="max")
    bucket = fields.Selection(AGING_BUCKETS, string="Aging", readonly=True)
    amount_residual = fields.Monetary(
        string="Amount Due",
        currency_field="company_currency_id",
        readonly=True,
        help="Amount of the instalment less the reconciliations dated on or before the aging date, "
        "in company currency.",
    )
    user_id = fields.Many2one("res.users", string="Collector", readonly=True)
    team_id = fields.Many2one("collection.team", readonly=True)

    @api.model
    def _get_aging_date(self):
        value = self.env.context.get("collection_aging_date")
        return fields.Date.to_date(value) if value else fields.Date.context_today(self)

    @property
    def _table_query(self):
        return self._kpi_query(SQL("%s %s %s", self._select(), self._from(), self._where()))

    @api.model
    def _select(self):
        days_late = SQL("(%s::date - aml.date_maturity)", self._get_aging_date())
        return SQL(
            """
            SELECT aml.id AS id,
                   %(date)s::date AS aging_date,
                   aml.id AS line_id,
                   aml.move_id,
                   move.commercial_partner_id AS partner_id,
                   partner.country_id,
                   aml.company_id,
                   aml.company_currency_id,
                   aml.date_maturity,
                   %(days_late)s AS days_late,
                   %(bucket)s AS bucket,
                   aml.balance - COALESCE(paid.amount, 0.0) AS amount_residual,
                   collection_case.user_id,
                   collection_case.team_id
            """,
            date=self._get_aging_date(),
            days_late=days_late,
            bucket=bucket_sql(days_late),
        )

    @api.model
    def _from(self):
        return SQL(
            """
              FROM %(instalments)s
              JOIN account_move move ON move.id = aml.move_id
              JOIN res_partner partner ON partner.id = move.commercial_partner_id
              %(paid_join)s
              %(case_join)s
            """,
            paid_join=self._kpi_paid_join(SQL("aml.id"), self._get_aging_date()),
            instalments=self._kpi_instalments()[0],
            date=self._get_aging_date(),
            case_join=case_scope_join(SQL("move.commercial_partner_id"), SQL("aml.company_id")),
        )

    @api.model
    def _where(self):
        return SQL(
            """
             WHERE %(instalment)s
               AND aml.date <= %(date)s
               AND (NOT aml.reconciled
                    OR aml.id IN (SELECT later.debit_move_id FROM account_partial_reconcile later
                                   WHERE later.max_date > %(date)s))
               AND aml.balance - COALESCE(paid.amount, 0.0) > 0
            """,
            instalment=self._kpi_instalments()[1],
            date=self._get_aging_date(),
        )

    @api.model
    def _get_aging_totals(self, domain, aging_date):
        """{bucket: amount} of the lines matching ``domain`` on ``aging_date``, company currency."""
        rows = self.with_context(collection_aging_date=aging_date)._read_group(
            domain, ["bucket"], ["amount_residual:sum"]
        )
        return dict(rows)


class CollectionAgingDateWizard(models.TransientModel):
    _name = "collection.aging.date.wizard"
    _description = "Open the receivables aging at a date"

    aging_date = fields.Date(
        required=True,
        default=fields.Date.context_today,
        help="Instalments open on this date, with the payments and credit notes reconciled up to it.",
    )

    def action_open(self):
        self.ensure_one()
        if self.aging_date > fields.Date.context_today(self):
            raise UserError(_("The aging date cannot be in the future."))
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "collections_management.collection_aging_date_report_action"
        )
        action["context"] = {"collection_aging_date": fields.Date.to_string(self.aging_date)}
        action["display_name"] = _("Receivables Aging on %s", self.aging_date)
        return action

from odoo import api, fields, models
from odoo.tools import SQL

AGING_BUCKETS = [
    ("0_not_due", "Not due"),
    ("1_30", "1-30 days"),
    ("2_60", "31-60 days"),
    ("3_90", "61-90 days"),
    ("4_120", "91-120 days"),
    ("5_older", "Over 120 days"),
]


def aging_bucket(days_late):
    """Key of the aging bucket of an instalment ``days_late`` days past its due date (the same
    bounds as the report's SQL)."""
    if days_late <= 0:
        return "0_not_due"
    for limit, key in ((30, "1_30"), (60, "2_60"), (90, "3_90"), (120, "4_120")):
        if days_late <= limit:
            return key
    return "5_older"


class CollectionAgingReport(models.Model):
    """Open receivable instalments by aging bucket, read live from the journal items."""

    _name = "collection.aging.report"
    _description = "Receivables Aging"
    _auto = False
    _order = "days_late desc"
    _rec_name = "move_id"

    line_id = fields.Many2one("account.move.line", string="Instalment", readonly=True)
    move_id = fields.Many2one("account.move", string="Invoice", readonly=True)
    partner_id = fields.Many2one("res.partner", string="Customer", readonly=True)
    country_id = fields.Many2one("res.country", readonly=True)
    company_id = fields.Many2one("res.company", readonly=True)
    company_currency_id = fields.Many2one("res.currency", readonly=True)
    currency_id = fields.Many2one("res.currency", string="Invoice Currency", readonly=True)
    date_maturity = fields.Date(string="Due Date", readonly=True)
    days_late = fields.Integer(readonly=True, aggregator="max")
    bucket = fields.Selection(AGING_BUCKETS, string="Aging", readonly=True)
    amount_residual = fields.Monetary(
        string="Amount Due",
        currency_field="company_currency_id",
        readonly=True,
    )
    amount_residual_currency = fields.Monetary(
        string="Amount Due in Currency",
        currency_field="currency_id",
        readonly=True,
        aggregator=None,
    )
    level_id = fields.Many2one("collection.level", readonly=True)
    user_id = fields.Many2one("res.users", string="Collector", readonly=True)
    team_id = fields.Many2one("collection.team", readonly=True)

    @property
    def _table_query(self):
        return SQL("%s %s %s", self._select(), self._from(), self._where())

    @api.model
    def _select(self):
        return SQL(
            """
            SELECT aml.id AS id,
                   aml.id AS line_id,
                   aml.move_id,
                   move.commercial_partner_id AS partner_id,
                   partner.country_id,
                   aml.company_id,
                   aml.company_currency_id,
                   aml.currency_id,
                   aml.date_maturity,
                   (CURRENT_DATE - aml.date_maturity) AS days_late,
                   CASE
                       WHEN aml.date_maturity >= CURRENT_DATE THEN '0_not_due'
                       WHEN CURRENT_DATE - aml.date_maturity <= 30 THEN '1_30'
                       WHEN CURRENT_DATE - aml.date_maturity <= 60 THEN '2_60'
                       WHEN CURRENT_DATE - aml.date_maturity <= 90 THEN '3_90'
                       WHEN CURRENT_DATE - aml.date_maturity <= 120 THEN '4_120'
                       ELSE '5_older'
                   END AS bucket,
                   aml.amount_residual,
                   aml.amount_residual_currency,
                   aml.collection_level_id AS level_id,
                   collection_case.user_id,
                   collection_case.team_id
            """
        )

    @api.model
    def _from(self):
        return SQL(
            """
              FROM %s
              JOIN account_move move ON move.id = aml.move_id
              JOIN res_partner partner ON partner.id = move.commercial_partner_id
         LEFT JOIN collection_case ON collection_case.partner_id = move.commercial_partner_id
                                  AND collection_case.company_id = aml.company_id
            """,
            self.env["account.move.line"]._collection_open_query("aml").from_clause,
        )

    @api.model
    def _where(self):
        """Open receivable instalments: the one definition of ``account.move.line``."""
        return SQL("WHERE %s", self.env["account.move.line"]._collection_open_query("aml").where_clause)

    @api.model
    def _get_bucket_labels(self):
        """[(bucket key, label in the user's language)]."""
        return self._fields["bucket"]._description_selection(self.env)

    @api.model
    def _get_aging_by_partner(self, domain):
        """[(partner, {bucket: amount}, total)] for the lines matching ``domain``, in company currency."""
        rows = self._read_group(domain, ["partner_id", "bucket"], ["amount_residual:sum"])
        by_partner = {}
        for partner, bucket, amount in rows:
            by_partner.setdefault(partner, dict.fromkeys(dict(AGING_BUCKETS), 0.0))[bucket] = amount
        return sorted(
            ((partner, buckets, sum(buckets.values())) for partner, buckets in by_partner.items()),
            key=lambda row: -row[2],
        )

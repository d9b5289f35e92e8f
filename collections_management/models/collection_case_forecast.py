from collections import defaultdict

from odoo import _, fields, models
from odoo.tools import SQL, format_date


class CollectionCase(models.Model):
    _inherit = "collection.case"

    expected_payment_date = fields.Date(
        string="Expected Payment",
        compute="_compute_expected_payment_date",
        help="When the overdue amount is expected to be paid: the amount-weighted average of the expected "
        "payment dates of the overdue instalments (see the instalments' Expected Payment).",
    )
    expected_delay = fields.Integer(
        string="Expected Delay (days)",
        compute="_compute_expected_payment_date",
        help="Days after their due date that this customer's instalments are expected to be paid: "
        "the customer's average over the last 12 months, drawn toward the average of all customers.",
    )
    expected_payment_note = fields.Char(
        compute="_compute_expected_payment_date",
        help="When the customer is expected to pay, in words, as the priority explains it.",
    )

    def _compute_expected_payment_date(self):
        today = fields.Date.context_today(self)
        cases = self.filtered("id")
        rows = []
        if cases:
            forecast = self.env["collection.cash.forecast.report"]._expected_payment_sql(
                today, partner_ids=tuple(cases.partner_id.ids)
            )
            rows = self.env.execute_query(
                SQL(
                    """SELECT partner_id, company_id, MAX(delay),
                              %(today)s::date + ROUND(SUM(residual * (expected_date - %(today)s::date))
                                                      / NULLIF(SUM(residual), 0))::int
                         FROM (%(forecast)s) forecast
                        WHERE date_maturity < %(today)s
                        GROUP BY partner_id, company_id""",
                    today=today,
                    forecast=forecast,
                )
            )
        by_case = defaultdict(lambda: (0, False))
        for partner_id, company_id, delay, expected in rows:
            by_case[partner_id, company_id] = (delay or 0, expected)
        for case in self:
            case.expected_delay, case.expected_payment_date = by_case[case.partner_id.id, case.company_id.id]
            case.expected_payment_note = case._expected_payment_note()

    def _expected_payment_note(self):
        """ "Expected to pay around <date> (usually N days late)", in the user's language and date
        format; empty without an expected date."""
        self.ensure_one()
        if not self.expected_payment_date:
            return False
        date = format_date(self.env, self.expected_payment_date)
        if self.expected_delay > 0:
            return _(
                "Expected to pay around %(date)s (usually %(days)s days late).", date=date, days=self.expected_delay
            )
        if self.expected_delay < 0:
            return _(
                "Expected to pay around %(date)s (usually %(days)s days early).", date=date, days=-self.expected_delay
            )
        return _("Expected to pay around %(date)s (usually on time).", date=date)

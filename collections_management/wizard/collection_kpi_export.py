import base64

from odoo import _, fields, models
from odoo.exceptions import UserError
from odoo.tools import format_date

from ..report.collection_xlsx import CollectionWorkbook


def _rate(value):
    """A percentage of the reports (0-100) as a fraction for Excel's percent format."""
    return value / 100.0 if value is not None and value is not False else None


class CollectionKpiExport(models.TransientModel):
    _name = "collection.kpi.export"
    _description = "Export the collections KPIs to Excel"

    company_id = fields.Many2one("res.company", required=True, default=lambda self: self.env.company)
    aging_date = fields.Date(
        required=True,
        default=fields.Date.context_today,
        help="Date of the aging sheet: instalments open that day.",
    )
    xlsx_file = fields.Binary(string="Excel File", readonly=True, attachment=False)
    xlsx_filename = fields.Char(readonly=True)

    def _read(self, model, groupby, aggregates, domain=None, context=None):
        report = self.env[model].with_context(**(context or {}))
        return report._read_group(
            [("company_id", "=", self.company_id.id)] + (domain or []), groupby, aggregates, order=", ".join(groupby)
        )

    def _label(self, model, field, value):
        return dict(self.env[model]._fields[field]._description_selection(self.env)).get(value, value or "")

    def _build_workbook(self):
        """Every KPI report of the company, one sheet each, as an .xlsx file (bytes)."""
        self.ensure_one()
        if self.aging_date > fields.Date.context_today(self):
            raise UserError(_("The aging date cannot be in the future."))
        company = self.company_id
        currency = company.currency_id.name
        today = fields.Date.context_today(self)
        book = CollectionWorkbook()

        def subtitle(as_of):
            return _(
                "%(company)s, as of %(date)s, amounts in %(currency)s",
                company=company.name,
                date=format_date(self.env, as_of),
                currency=currency,
            )

        # Aging at a date, by customer and bucket.
        Aging = self.env["collection.aging.date.report"]
        buckets = Aging._fields["bucket"]._description_selection(self.env)
        rows = self._read(
            "collection.aging.date.report",
            ["partner_id", "bucket"],
            ["amount_residual:sum"],
            context={"collection_aging_date": self.aging_date},
        )
        by_partner = {}
        for partner, bucket, amount in rows:
            by_partner.setdefault(partner, dict.fromkeys(dict(buckets), 0.0))[bucket] = amount
        aging_rows = [
            [partner.display_name] + [amounts[key] for key, __ in buckets] + [sum(amounts.values())]
            for partner, amounts in sorted(by_partner.items(), key=lambda item: -sum(item[1].values()))
        ]
        columns = [(_("Customer"), "text", 36)] + [(label, "money", 14) for __, label in buckets]
        columns.append((_("Total"), "money", 16))
        totals = [_("Total")] + [sum(row[index] for row in aging_rows) for index in range(1, len(columns))]
        book.add_sheet(_("Aging"), _("Receivables Aging"), subtitle(self.aging_date), columns, aging_rows, totals)

        # DSO, BPDSO, ADD and CEI per month.
        measures = [
            "ar_begin",
            "sales",
            "collected",
            "ar_end",
            "current_end",
            "dso",
            "dso_countback",
            "bpdso",
            "add",
            "cei",
        ]
        rows = self._read(
            "collection.kpi.report", ["date:month"], [f"{m}:sum" for m in measures], [("period_type", "=", "month")]
        )
        book.add_sheet(
            _("DSO and CEI"),
            _("DSO, Best Possible DSO, Average Days Delinquent and CEI by Month"),
            subtitle(today),
            [
                (_("Month"), "date", 12),
                (_("Receivables at Start"), "money", 16),
                (_("Credit Sales"), "money", 16),
                (_("Collected"), "money", 16),
                (_("Receivables at End"), "money", 16),
                (_("Current at End"), "money", 16),
                (_("DSO"), "days", 10),
                (_("Count-back DSO"), "days", 12),
                (_("Best Possible DSO"), "days", 12),
                (_("ADD"), "days", 10),
                (_("CEI"), "percent", 10),
            ],
            [[month, *values[:-1], _rate(values[-1])] for month, *values in rows],
        )

        # Roll rates per month and bucket.
        rows = self._read(
            "collection.roll.rate.report",
            ["date:month", "bucket"],
            [
                "amount_start:sum",
                "amount_rolled:sum",
                "amount_stayed:sum",
                "amount_collected:sum",
                "roll_rate:sum",
                "stay_rate:sum",
                "collection_rate:sum",
            ],
        )
        book.add_sheet(
            _("Roll Rates"),
            _("Roll Rates by Month"),
            subtitle(today),
            [
                (_("Month"), "date", 12),
                (_("Aging"), "text", 16),
                (_("Balance"), "money", 16),
                (_("Rolled"), "money", 16),
                (_("Stayed"), "money", 16),
                (_("Collected"), "money", 16),
                (_("Roll Rate"), "percent", 10),
                (_("Stay Rate"), "percent", 10),
                (_("Collected (%)"), "percent", 12),
            ],
            [
                [
                    month,
                    self._label("collection.roll.rate.report", "bucket", bucket),
                    *amounts[:4],
                    *(_rate(value) for value in amounts[4:]),
                ]
                for month, bucket, *amounts in rows
            ],
        )

        # Promises per month.
        rows = self._read(
            "collection.promise.report",
            ["date_made:month"],
            [
                "__count",
                "settled_count:sum",
                "kept_count:sum",
                "amount_settled:sum",
                "amount_kept:sum",
                "kept_rate:sum",
                "kept_amount_rate:sum",
            ],
        )
        book.add_sheet(
            _("Promises"),
            _("Promise-Kept Rate by Month"),
            subtitle(today),
            [
                (_("Month"), "date", 12),
                (_("Promises"), "integer", 10),
                (_("Settled"), "integer", 10),
                (_("Kept"), "integer", 10),
                (_("Promised (Settled)"), "money", 16),
                (_("Amount Kept"), "money", 16),
                (_("Kept Rate"), "percent", 10),
                (_("Amount Kept Rate"), "percent", 12),
            ],
            [[month, *values[:5], _rate(values[5]), _rate(values[6])] for month, *values in rows],
        )

        # Communications per channel.
        rows = self._read(
            "collection.communication.report",
            ["channel"],
            [
                "attempt_count:sum",
                "reminder_count:sum",
                "amount_channel:sum",
                "delivery_rate:sum",
                "read_rate:sum",
                "failure_rate:sum",
                "contactability:sum",
                "cure_rate_7:sum",
                "cure_rate_14:sum",
            ],
        )
        book.add_sheet(
            _("Communications"),
            _("Delivery, Contactability and Cure Rates by Channel"),
            subtitle(today),
            [
                (_("Channel"), "text", 14),
                (_("Attempts"), "integer", 10),
                (_("Reminders"), "integer", 10),
                (_("Amount Reminded"), "money", 16),
                (_("Delivered"), "percent", 10),
                (_("Read"), "percent", 10),
                (_("Failed"), "percent", 10),
                (_("Contactability"), "percent", 12),
                (_("Cure Rate 7 Days"), "percent", 12),
                (_("Cure Rate 14 Days"), "percent", 12),
            ],
            [
                [
                    self._label("collection.communication.report", "channel", channel),
                    *values[:3],
                    *(_rate(value) for value in values[3:]),
                ]
                for channel, *values in rows
            ],
        )

        # Collector productivity.
        rows = self._read(
            "collection.productivity.report",
            ["user_id"],
            ["contact_count:sum", "promise_count:sum", "promise_amount:sum", "amount_kept:sum", "amount_collected:sum"],
        )
        book.add_sheet(
            _("Productivity"),
            _("Collector Productivity"),
            subtitle(today),
            [
                (_("Collector"), "text", 24),
                (_("Contacts Logged"), "integer", 12),
                (_("Promises Obtained"), "integer", 12),
                (_("Amount Promised"), "money", 16),
                (_("Promised Amount Kept"), "money", 16),
                (_("Collected on Cases"), "money", 16),
            ],
            [[user.display_name or _("Unassigned"), *values] for user, *values in rows],
        )

        # Cash forecast per week.
        rows = self._read("collection.cash.forecast.report", ["week", "week_start:day"], ["amount:sum"])
        forecast_rows = [[week, start, amount] for week, start, amount in rows]
        book.add_sheet(
            _("Cash Forecast"),
            _("Cash Forecast, Next 13 Weeks"),
            subtitle(today),
            [(_("Week"), "integer", 8), (_("Week Starting"), "date", 14), (_("Expected Amount"), "money", 18)],
            forecast_rows,
            [_("Total"), None, sum(row[2] for row in forecast_rows)],
        )
        return book.close()

    def action_export(self):
        self.ensure_one()
        self.write(
            {
                "xlsx_file": base64.b64encode(self._build_workbook()),
                "xlsx_filename": _("collections-kpis-%s.xlsx", fields.Date.context_today(self)),
            }
        )
        return {
            "type": "ir.actions.act_url",
            "url": f"/web/content/?model={self._name}&id={self.id}&field=xlsx_file"
            f"&filename_field=xlsx_filename&download=true",
            "target": "self",
        }

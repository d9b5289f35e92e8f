import base64

from odoo import _, fields, models
from odoo.tools import format_date

from ..report.collection_xlsx import CollectionWorkbook


class CollectionAgingExport(models.TransientModel):
    _name = "collection.aging.export"
    _description = "Export the receivables aging to Excel"

    company_id = fields.Many2one("res.company", required=True, default=lambda self: self.env.company)
    user_id = fields.Many2one("res.users", string="Collector", help="Only the customers of this collector.")
    overdue_only = fields.Boolean(default=True)
    xlsx_file = fields.Binary(string="Excel File", readonly=True, attachment=False)
    xlsx_filename = fields.Char(readonly=True)

    def _get_domain(self):
        domain = [("company_id", "=", self.company_id.id)]
        if self.user_id:
            domain.append(("user_id", "=", self.user_id.id))
        if self.overdue_only:
            domain.append(("days_late", ">", 0))
        return domain

    def _build_workbook(self):
        """The aging by customer and bucket, in company currency, as an .xlsx file (bytes)."""
        self.ensure_one()
        rows = self.env["collection.aging.report"]._get_aging_by_partner(self._get_domain())
        buckets = self.env["collection.aging.report"]._get_bucket_labels()
        currency = self.company_id.currency_id.name
        partners = self.env["res.partner"].browse([partner.id for partner, __, __ in rows])
        cases = self.env["collection.case"].search(
            [
                ("partner_id", "in", partners.ids),
                ("company_id", "=", self.company_id.id),
            ]
        )
        collector_by_partner = {case.partner_id.id: case.user_id.name or "" for case in cases}
        columns = (
            [(_("Customer"), "text", 36), (_("Country"), "text", 18), (_("Collector"), "text", 18)]
            + [(label, "money", 14) for __, label in buckets]
            + [(_("Total (%s)", currency), "money", 16)]
        )
        lines = [
            [
                partner.display_name,
                partner.country_id.name or "",
                collector_by_partner.get(partner.id, ""),
                *(amounts.get(bucket, 0.0) for bucket, __ in buckets),
                total,
            ]
            for partner, amounts, total in rows
        ]
        totals = [_("Total"), None, None] + [
            sum(amounts.get(bucket, 0.0) for __, amounts, __ in rows) for bucket, __ in buckets
        ]
        totals.append(sum(total for __, __, total in rows))
        book = CollectionWorkbook()
        book.add_sheet(
            _("Aging"),
            _("Receivables Aging"),
            _(
                "%(company)s, as of %(date)s, amounts in %(currency)s",
                company=self.company_id.name,
                date=format_date(self.env, fields.Date.context_today(self)),
                currency=currency,
            ),
            columns,
            lines,
            totals,
        )
        return book.close()

    def action_export(self):
        self.ensure_one()
        self.write(
            {
                "xlsx_file": base64.b64encode(self._build_workbook()),
                "xlsx_filename": _("aging-%s.xlsx", fields.Date.context_today(self)),
            }
        )
        return {
            "type": "ir.actions.act_url",
            "url": f"/web/content/?model={self._name}&id={self.id}&field=xlsx_file"
            f"&filename_field=xlsx_filename&download=true",
            "target": "self",
        }

import base64
import io

import xlsxwriter

from odoo import _, fields, models


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
        output = io.BytesIO()
        workbook = xlsxwriter.Workbook(output, {"in_memory": True})
        sheet = workbook.add_worksheet(_("Aging"))
        bold = workbook.add_format({"bold": True})
        money = workbook.add_format({"num_format": "#,##0.00"})
        money_bold = workbook.add_format({"num_format": "#,##0.00", "bold": True})
        currency = self.company_id.currency_id.name
        headers = (
            [_("Customer"), _("Country"), _("Collector")]
            + [label for __, label in buckets]
            + [_("Total (%s)", currency)]
        )
        sheet.write_row(0, 0, headers, bold)
        sheet.set_column(0, 0, 36)
        sheet.set_column(1, 2, 18)
        sheet.set_column(3, len(headers) - 1, 14)
        partners = self.env["res.partner"].browse([partner.id for partner, __, __ in rows])
        cases = self.env["collection.case"].search(
            [
                ("partner_id", "in", partners.ids),
                ("company_id", "=", self.company_id.id),
            ]
        )
        collector_by_partner = {case.partner_id.id: case.user_id.name or "" for case in cases}
        for index, (partner, amounts, total) in enumerate(rows, start=1):
            sheet.write(index, 0, partner.display_name)
            sheet.write(index, 1, partner.country_id.name or "")
            sheet.write(index, 2, collector_by_partner.get(partner.id, ""))
            for column, (bucket, __) in enumerate(buckets, start=3):
                sheet.write_number(index, column, amounts.get(bucket, 0.0), money)
            sheet.write_number(index, len(headers) - 1, total, money_bold)
        total_row = len(rows) + 1
        sheet.write(total_row, 0, _("Total"), bold)
        totals = [sum(amounts.get(bucket, 0.0) for __, amounts, __ in rows) for bucket, __ in buckets]
        sheet.write_row(total_row, 3, totals + [sum(total for __, __, total in rows)], money_bold)
        workbook.close()
        return output.getvalue()

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

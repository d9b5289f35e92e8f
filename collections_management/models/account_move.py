from odoo import fields, models


class AccountMove(models.Model):
    _inherit = "account.move"

    collection_excluded = fields.Boolean(
        string="Excluded from Collections",
        copy=False,
        tracking=True,
        help="No reminder mentions this invoice while this is set.",
    )

    def write(self, vals):
        # Posting, resetting or cancelling an entry, or changing the date of a posted one, changes
        # the receivables of the months from its date on: the KPI snapshot of those months is stale.
        touched = []
        if "state" in vals or "date" in vals:
            touched = self._collection_kpi_changes()
        result = super().write(vals)
        if "state" in vals or "date" in vals:
            touched += self._collection_kpi_changes()
            self.env["collection.kpi.snapshot"]._collection_mark_stale(touched)
        return result

    def _collection_kpi_changes(self):
        """(company id, customer id, date) of the receivable journal items of these entries that
        are posted: what the KPI snapshot must recompute if they change."""
        return [
            (move.company_id.id, line.partner_id.commercial_partner_id.id, move.date)
            for move in self
            if move.state == "posted"
            for line in move.line_ids
            if line.account_id.account_type == "asset_receivable"
        ]

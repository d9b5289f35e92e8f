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
            touched = [(move.company_id.id, move.date) for move in self if move.state == "posted"]
        result = super().write(vals)
        if "state" in vals or "date" in vals:
            touched += [(move.company_id.id, move.date) for move in self if move.state == "posted"]
            self.env["collection.kpi.snapshot"]._collection_mark_stale(touched)
        return result

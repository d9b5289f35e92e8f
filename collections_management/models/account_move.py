from odoo import fields, models


class AccountMove(models.Model):
    _inherit = "account.move"

    collection_excluded = fields.Boolean(
        string="Excluded from Collections",
        copy=False,
        tracking=True,
        help="No reminder mentions this invoice while this is set.",
    )

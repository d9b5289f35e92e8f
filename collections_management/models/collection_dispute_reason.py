from odoo import fields, models


class CollectionDisputeReason(models.Model):
    _name = "collection.dispute.reason"
    _description = "Dispute Reason"
    _order = "sequence, id"

    name = fields.Char(required=True, translate=True)
    sequence = fields.Integer(default=10)
    active = fields.Boolean(default=True)
    company_id = fields.Many2one("res.company", help="Leave empty to share the reason between companies.")
    resolution_days = fields.Integer(
        string="Days to Resolve",
        default=14,
        help="Deadline of a new dispute with this reason, in days from its opening.",
    )
    description = fields.Text(translate=True)

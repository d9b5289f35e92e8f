from odoo import fields, models


class CollectionDispute(models.Model):
    _name = "collection.dispute"
    _description = "Dispute"
    _inherit = ["mail.thread", "mail.activity.mixin"]
    _order = "id desc"

    name = fields.Char(required=True, default="/")
    partner_id = fields.Many2one("res.partner", string="Customer", required=True, index=True)
    company_id = fields.Many2one(
        "res.company", required=True, index=True, default=lambda self: self.env.company
    )
    line_ids = fields.Many2many(
        "account.move.line", "collection_dispute_move_line_rel", "dispute_id", "line_id",
        string="Instalments",
    )
    reason_id = fields.Many2one("collection.dispute.reason")
    description = fields.Text()
    user_id = fields.Many2one("res.users", string="Owner", default=lambda self: self.env.user)
    deadline = fields.Date()
    state = fields.Selection(
        [("open", "Open"), ("accepted", "Resolved for the Customer"), ("rejected", "Rejected")],
        default="open", required=True, index=True, tracking=True,
    )

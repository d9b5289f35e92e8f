from odoo import fields, models


class CollectionPromise(models.Model):
    _name = "collection.promise"
    _description = "Promise to Pay"
    _inherit = ["mail.thread"]
    _order = "date desc, id desc"

    partner_id = fields.Many2one("res.partner", string="Customer", required=True, index=True)
    company_id = fields.Many2one(
        "res.company", required=True, index=True, default=lambda self: self.env.company
    )
    currency_id = fields.Many2one(related="company_id.currency_id")
    date = fields.Date(string="Promised Date", required=True)
    amount = fields.Monetary(string="Promised Amount", currency_field="currency_id")
    line_ids = fields.Many2many(
        "account.move.line", "collection_promise_move_line_rel", "promise_id", "line_id",
        string="Instalments",
    )
    plan_line_ids = fields.One2many("collection.promise.line", "promise_id", string="Payment Plan")
    state = fields.Selection(
        [
            ("open", "Open"),
            ("kept", "Kept"),
            ("partial", "Partly Kept"),
            ("broken", "Broken"),
            ("cancelled", "Cancelled"),
        ],
        default="open", required=True, index=True, tracking=True,
    )

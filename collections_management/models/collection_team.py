from odoo import fields, models


class CollectionTeam(models.Model):
    _name = "collection.team"
    _description = "Collection Team"
    _inherit = ["mail.thread"]
    _order = "sequence, id"

    name = fields.Char(required=True, translate=True)
    active = fields.Boolean(default=True)
    sequence = fields.Integer(default=10)
    company_id = fields.Many2one(
        "res.company", required=True, index=True, default=lambda self: self.env.company
    )
    user_id = fields.Many2one("res.users", string="Manager", tracking=True)
    member_ids = fields.Many2many(
        "res.users", "collection_team_member_rel", "team_id", "user_id", string="Collectors"
    )
    partner_domain = fields.Char(
        string="Customers Covered", default="[]",
        help="Customers whose new cases go to this team.",
    )
    assignment_method = fields.Selection(
        [
            ("round_robin", "Round robin"),
            ("open_cases", "Balanced by open cases"),
            ("amount", "Balanced by overdue amount"),
        ],
        default="round_robin",
        required=True,
    )

from odoo import fields, models


class ResCompany(models.Model):
    _inherit = "res.company"

    collection_policy_id = fields.Many2one(
        "collection.policy",
        string="Default Collection Policy",
        domain="[('company_id', '=', id)]",
        help="Policy for customers that have none and match no policy rule.",
    )

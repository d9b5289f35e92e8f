from odoo import fields, models


class ResCompany(models.Model):
    _inherit = "res.company"

    collection_policy_id = fields.Many2one(
        "collection.policy",
        string="Default Collection Policy",
        domain="[('company_id', '=', id)]",
        help="Policy for customers that have none and match no policy rule.",
    )
    collection_default_user_id = fields.Many2one(
        "res.users",
        string="Default Collections User",
        domain="[('share', '=', False)]",
        help="Gets the collections tasks of customers without a collector or team manager, "
        "when the level names nobody.",
    )

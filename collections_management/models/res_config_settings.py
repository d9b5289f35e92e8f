from odoo import fields, models


class ResConfigSettings(models.TransientModel):
    _inherit = "res.config.settings"

    collection_policy_id = fields.Many2one(
        related="company_id.collection_policy_id",
        readonly=False,
    )
    collection_default_user_id = fields.Many2one(
        related="company_id.collection_default_user_id",
        readonly=False,
    )

from odoo import fields, models


class MailActivity(models.Model):
    _inherit = "mail.activity"

    collection_communication_id = fields.Many2one(
        "collection.communication", index="btree_not_null", ondelete="set null", copy=False
    )

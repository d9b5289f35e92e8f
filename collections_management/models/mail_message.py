from odoo import fields, models


class MailMessage(models.Model):
    _inherit = "mail.message"

    collection_communication_id = fields.Many2one(
        "collection.communication", index="btree_not_null", ondelete="set null", copy=False
    )

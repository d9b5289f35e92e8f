from odoo import fields, models


class MailActivity(models.Model):
    _inherit = "mail.activity"

    collection_communication_id = fields.Many2one(
        "collection.communication", index="btree_not_null", ondelete="set null", copy=False
    )
    collection_engine_task = fields.Boolean(
        copy=False,
        help="Technical: the one open call or escalation task the engine keeps on a collection case.",
    )

from odoo import fields, models

# What a stage means to Collections: the engine, promises, disputes and the contact log move
# cases to the stage of a role (``collection.case._collection_move_to``), never to a stage by name.
STAGE_ROLES = [
    ("new", "New"),
    ("contacted", "Contacted"),
    ("promise", "Promise to pay"),
    ("broken_promise", "Broken promise"),
    ("dispute", "Dispute"),
    ("escalated", "Escalated"),
    ("closed", "Closed"),
]


class CollectionCaseStage(models.Model):
    _name = "collection.case.stage"
    _description = "Collection Case Stage"
    _order = "sequence, id"

    name = fields.Char(required=True, translate=True)
    sequence = fields.Integer(default=10)
    fold = fields.Boolean(string="Folded in Kanban")
    is_closed = fields.Boolean(string="Closing Stage", help="Cases in this stage have nothing overdue any more.")
    role = fields.Selection(
        STAGE_ROLES,
        index="btree_not_null",
        help="Where Collections moves a case when this happens to it. A company's own stage of a role "
        "wins over a shared one; stages without a role are only reached by hand or by a level.",
    )
    company_id = fields.Many2one("res.company", help="Leave empty to share the stage between companies.")

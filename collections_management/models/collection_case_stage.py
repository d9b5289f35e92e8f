from odoo import fields, models


class CollectionCaseStage(models.Model):
    _name = "collection.case.stage"
    _description = "Collection Case Stage"
    _order = "sequence, id"

    name = fields.Char(required=True, translate=True)
    sequence = fields.Integer(default=10)
    fold = fields.Boolean(string="Folded in Kanban")
    is_closed = fields.Boolean(string="Closing Stage", help="Cases in this stage have nothing overdue any more.")
    company_id = fields.Many2one("res.company", help="Leave empty to share the stage between companies.")

from odoo import api, fields, models


class CollectionCase(models.Model):
    _name = "collection.case"
    _description = "Collection Case"
    _inherit = ["mail.thread", "mail.activity.mixin"]
    _order = "priority desc, id desc"

    name = fields.Char(related="partner_id.display_name", store=True, string="Customer Name")
    partner_id = fields.Many2one(
        "res.partner", string="Customer", required=True, index=True, ondelete="cascade",
        domain=[("is_company", "=", True)],
    )
    company_id = fields.Many2one(
        "res.company", required=True, index=True, default=lambda self: self.env.company
    )
    currency_id = fields.Many2one(related="company_id.currency_id")
    user_id = fields.Many2one("res.users", string="Collector", index=True, tracking=True)
    team_id = fields.Many2one("collection.team", index=True, tracking=True)
    stage_id = fields.Many2one(
        "collection.case.stage", index=True, tracking=True, group_expand="_read_group_stage_ids",
        default=lambda self: self.env["collection.case.stage"].search([], limit=1),
    )
    level_id = fields.Many2one("collection.level", string="Level", tracking=True)
    policy_id = fields.Many2one(related="level_id.policy_id", string="Policy")
    priority = fields.Selection(
        [("0", "Normal"), ("1", "Medium"), ("2", "High"), ("3", "Urgent")], default="0"
    )
    is_closed = fields.Boolean(related="stage_id.is_closed", store=True)
    communication_ids = fields.One2many(
        "collection.communication", compute="_compute_communication_ids", string="Contacts"
    )

    _unique_partner_company = models.Constraint(
        "UNIQUE(partner_id, company_id)", "A customer has one collection case per company."
    )

    @api.model
    def _read_group_stage_ids(self, stages, domain):
        return stages.search([])

    @api.depends("partner_id", "company_id")
    def _compute_communication_ids(self):
        for case in self:
            case.communication_ids = self.env["collection.communication"].search([
                ("partner_id", "=", case.partner_id.id), ("company_id", "=", case.company_id.id),
            ])

    @api.model
    def _collection_update_from_run(self, run, partner_levels):
        """Open (or reopen) the case of every customer reminded by ``run`` and record the level
        reached. ``partner_levels`` maps commercial partner ids to the level sent."""
        if not partner_levels:
            return
        cases = self.sudo().with_context(active_test=False).search([
            ("partner_id", "in", list(partner_levels)), ("company_id", "=", run.company_id.id),
        ])
        existing = {case.partner_id.id: case for case in cases}
        new_values = [
            {"partner_id": partner_id, "company_id": run.company_id.id, "level_id": level.id}
            for partner_id, level in partner_levels.items() if partner_id not in existing
        ]
        if new_values:
            self.sudo().create(new_values)
        by_level = {}
        for partner_id, case in existing.items():
            by_level.setdefault(partner_levels[partner_id], self.sudo())
            by_level[partner_levels[partner_id]] |= case
        for level, level_cases in by_level.items():
            level_cases.write({"level_id": level.id})

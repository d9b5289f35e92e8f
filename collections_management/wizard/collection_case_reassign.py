from odoo import _, api, fields, models
from odoo.exceptions import UserError


class CollectionCaseReassign(models.TransientModel):
    _name = "collection.case.reassign"
    _description = "Reassign Collection Cases"

    case_ids = fields.Many2many(
        "collection.case",
        string="Cases",
        default=lambda self: self._default_case_ids(),
        help="Cases to reassign. Leave empty to reassign every open case of the collector below.",
    )
    from_user_id = fields.Many2one("res.users", string="Cases Of")
    mode = fields.Selection(
        [("user", "Give them to a collector"), ("team", "Redistribute within a team")],
        required=True,
        default="user",
    )
    user_id = fields.Many2one("res.users", string="New Collector")
    team_id = fields.Many2one(
        "collection.team",
        help="With a collector: the team the cases join (the collector's team by default). "
        "To redistribute: the team whose assignment method hands the cases out.",
    )
    include_closed = fields.Boolean(string="Include Closed Cases")
    case_count = fields.Integer(compute="_compute_case_count")

    @api.model
    def _default_case_ids(self):
        if self.env.context.get("active_model") == "collection.case":
            return [fields.Command.set(self.env.context.get("active_ids") or [])]
        return []

    @api.depends("case_ids", "from_user_id", "include_closed")
    def _compute_case_count(self):
        for wizard in self:
            wizard.case_count = len(wizard._get_cases())

    @api.onchange("user_id")
    def _onchange_user_id(self):
        if self.user_id and self.mode == "user" and not self.team_id:
            self.team_id = self.env["collection.team"].search(
                ["|", ("member_ids", "in", self.user_id.id), ("user_id", "=", self.user_id.id)], limit=1
            )

    def _get_cases(self):
        self.ensure_one()
        cases = self.case_ids
        if not cases and self.from_user_id:
            cases = self.env["collection.case"].search([("user_id", "=", self.from_user_id.id)])
        if not self.include_closed:
            cases = cases.filtered(lambda case: not case.is_closed)
        return cases

    def action_reassign(self):
        self.ensure_one()
        cases = self._get_cases()
        if not cases:
            raise UserError(_("There is no case to reassign."))
        if self.mode == "user":
            if not self.user_id:
                raise UserError(_("Choose the collector who gets the cases."))
            values = {"user_id": self.user_id.id}
            if self.team_id:
                values["team_id"] = self.team_id.id
            cases.write(values)
        else:
            if not self.team_id:
                raise UserError(_("Choose the team that redistributes the cases."))
            cases.write({"team_id": self.team_id.id, "user_id": False})
            self.team_id._assign_collectors(cases)
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "type": "success",
                "message": _("%s cases reassigned.", len(cases)),
                "next": {"type": "ir.actions.act_window_close"},
            },
        }

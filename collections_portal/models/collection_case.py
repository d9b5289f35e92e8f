from odoo import _, fields, models
from odoo.exceptions import UserError


class CollectionCase(models.Model):
    _inherit = "collection.case"

    portal_plan_ids = fields.One2many(
        "collection.promise", compute="_compute_portal_plan_ids", string="Proposed Payment Plans"
    )
    portal_plan_count = fields.Integer(compute="_compute_portal_plan_ids", string="Plans to Review")

    def _compute_portal_plan_ids(self):
        plans = self.env["collection.promise"].search(
            [
                ("partner_id", "in", self.partner_id.ids),
                ("state", "=", "proposed"),
            ]
        )
        by_key = plans.grouped(lambda plan: (plan.partner_id, plan.company_id))
        for case in self:
            case.portal_plan_ids = by_key.get((case.partner_id, case.company_id), plans.browse())
            case.portal_plan_count = len(case.portal_plan_ids)

    def _check_portal_plans(self):
        if not self.portal_plan_ids:
            raise UserError(_("This case has no payment plan to review."))

    def action_accept_portal_plan(self):
        self._check_portal_plans()
        return self.portal_plan_ids.action_accept_plan()

    def action_refuse_portal_plan(self):
        self._check_portal_plans()
        return self.portal_plan_ids.action_refuse_plan()

    def action_view_portal_plans(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "name": _("Proposed Payment Plans"),
            "res_model": "collection.promise",
            "view_mode": "list,form",
            "domain": [("id", "in", self.portal_plan_ids.ids)],
        }

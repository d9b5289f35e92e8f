from odoo import fields, models


class CollectionPolicy(models.Model):
    _inherit = "collection.policy"

    portal_plan_max_lines = fields.Integer(
        string="Plan Payments (max)",
        default=6,
        help="How many payments a customer may propose in a payment plan from the portal. "
        "Less than 2: customers cannot ask for a plan online.",
    )
    portal_plan_max_days = fields.Integer(
        string="Plan Horizon (days)",
        default=180,
        help="How far in the future the last payment of a plan proposed from the portal may fall.",
    )

    _check_portal_plan = models.Constraint(
        "CHECK(portal_plan_max_lines >= 0 AND portal_plan_max_days >= 0)",
        "The limits of payment plans cannot be negative.",
    )

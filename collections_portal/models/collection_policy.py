from odoo import fields, models


class CollectionPolicy(models.Model):
    _inherit = "collection.policy"

    portal_plan_max_lines = fields.Integer(
        string="Plan Payments (max)",
        default=6,
        help="How many payments a payment plan may have, proposed by the customer on the portal or "
        "recorded by a collector. Less than 2: no payment plans.",
    )
    portal_plan_max_days = fields.Integer(
        string="Plan Horizon (days)",
        default=180,
        help="How far from the day it was made the last payment of a payment plan may fall, "
        "proposed on the portal or recorded by a collector.",
    )

    _check_portal_plan = models.Constraint(
        "CHECK(portal_plan_max_lines >= 0 AND portal_plan_max_days >= 0)",
        "The limits of payment plans cannot be negative.",
    )

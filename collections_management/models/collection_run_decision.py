from odoo import fields, models

from .collection_policy import DECISION_REASONS


class CollectionRunDecision(models.Model):
    """What a run decided for one customer and why: "why wasn't X reminded?" in two clicks."""

    _name = "collection.run.decision"
    _description = "Collection Run Decision"
    _order = "run_id desc, id"
    _rec_name = "partner_id"

    run_id = fields.Many2one("collection.run", required=True, index=True, ondelete="cascade")
    company_id = fields.Many2one(related="run_id.company_id", store=True, index=True)
    currency_id = fields.Many2one(
        "res.currency", default=lambda self: self.env.company.currency_id, help="The company's currency."
    )
    run_type = fields.Selection(related="run_id.run_type")
    date = fields.Date(related="run_id.date")
    partner_id = fields.Many2one("res.partner", string="Customer", required=True, index=True, ondelete="cascade")
    policy_id = fields.Many2one("collection.policy", ondelete="set null")
    level_id = fields.Many2one("collection.level", ondelete="set null")
    reason = fields.Selection(DECISION_REASONS, string="Decision", required=True, index=True)
    detail = fields.Text(string="Why")
    amount_due = fields.Monetary(
        string="Reminded", currency_field="currency_id", help="Instalments the reminder lists, company currency."
    )
    amount_credit = fields.Monetary(
        string="Credits",
        currency_field="currency_id",
        help="Unapplied payments and credit notes of the customer, company currency.",
    )
    amount_net = fields.Monetary(string="Net Due", currency_field="currency_id")
    line_count = fields.Integer(string="Open Items")
    channels = fields.Char(string="Channels and Recipients")
    communication_ids = fields.One2many(
        "collection.communication", compute="_compute_communication_ids", string="Communications"
    )

    def _compute_communication_ids(self):
        communications = self.env["collection.communication"].search(
            [("run_id", "in", self.run_id.ids), ("partner_id", "in", self.partner_id.ids)]
        )
        by_key = communications.grouped(lambda c: (c.run_id.id, c.partner_id.id))
        for decision in self:
            decision.communication_ids = by_key.get(
                (decision.run_id.id, decision.partner_id.id), self.env["collection.communication"]
            )

from odoo import api, fields, models


class CollectionPromiseLine(models.Model):
    _name = "collection.promise.line"
    _description = "Payment Plan Instalment"
    _order = "date, id"
    _inherit = ["collection.scope.mixin"]
    # A plan instalment stays on a promise its author may work on.
    _collection_scope_fields = ("promise_id",)

    def _collection_partner(self):
        return self.promise_id.partner_id.commercial_partner_id

    promise_id = fields.Many2one("collection.promise", required=True, index=True, ondelete="cascade")
    company_id = fields.Many2one(related="promise_id.company_id", store=True)
    currency_id = fields.Many2one(related="promise_id.currency_id")
    date = fields.Date(required=True)
    amount = fields.Monetary(currency_field="currency_id", required=True)
    state = fields.Selection(
        [("pending", "Pending"), ("paid", "Paid"), ("late", "Late")],
        compute="_compute_state",
        help="Paid when the payments since the promise cover this amount and the ones before it "
        "by this date plus the grace days.",
    )

    _check_amount = models.Constraint("CHECK(amount > 0)", "Each amount of a payment plan must be positive.")

    @api.model_create_multi
    def create(self, vals_list):
        lines = super().create(vals_list)
        lines.promise_id._check_rules()
        return lines

    def write(self, vals):
        promises = self.promise_id
        result = super().write(vals)
        if not self.env.su and "promise_id" in vals:
            # Record rules are checked before a write, on the old values: check the new ones.
            self.check_access("write")
        if {"promise_id", "date", "amount"} & vals.keys():
            (promises | self.promise_id)._check_rules()
        return result

    def unlink(self):
        promises = self.promise_id
        result = super().unlink()
        promises.exists()._check_rules()
        return result

    @api.depends("date", "amount", "promise_id.line_ids")
    def _compute_state(self):
        today = fields.Date.context_today(self)
        payments = self.promise_id.filtered("id")._read_payments()
        for promise in self.promise_id:
            grace = promise.grace_days
            promised = 0.0
            for line in promise.plan_line_ids.sorted(lambda p: (p.date, p.id)):
                promised += line.amount
                deadline = fields.Date.add(line.date, days=grace)
                paid = sum(amount for date, amount in payments.get(promise.id, []) if date <= deadline)
                if promise.currency_id.compare_amounts(paid, promised) >= 0:
                    line.state = "paid"
                else:
                    line.state = "late" if deadline < today else "pending"
        for line in self.filtered(lambda p: not p.promise_id):
            line.state = "pending"

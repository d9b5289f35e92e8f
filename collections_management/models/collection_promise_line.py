from odoo import fields, models


class CollectionPromiseLine(models.Model):
    _name = "collection.promise.line"
    _description = "Payment Plan Instalment"
    _order = "date, id"

    promise_id = fields.Many2one("collection.promise", required=True, index=True, ondelete="cascade")
    company_id = fields.Many2one(related="promise_id.company_id", store=True)
    currency_id = fields.Many2one(related="promise_id.currency_id")
    date = fields.Date(required=True)
    amount = fields.Monetary(currency_field="currency_id", required=True)

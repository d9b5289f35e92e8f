from odoo import fields, models


class CollectionPaymentClaimReject(models.TransientModel):
    _name = "collection.payment.claim.reject"
    _description = "Reject a Payment to Verify"

    claim_id = fields.Many2one("collection.payment.claim", required=True, ondelete="cascade")
    reason = fields.Text(required=True, help="Why the payment is not accepted; the customer reads it when told.")
    notify_customer = fields.Boolean(
        string="Tell the Customer", help="Send the reason to the customer's collections e-mail address."
    )

    def action_reject(self):
        self.ensure_one()
        self.claim_id._collection_reject(self.reason, notify=self.notify_customer)
        return {"type": "ir.actions.act_window_close"}

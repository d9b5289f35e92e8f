from odoo import _, fields, models
from odoo.tools import format_amount


class PaymentTransaction(models.Model):
    _inherit = "payment.transaction"

    collection_portal_link_id = fields.Many2one(
        "collection.portal.link",
        string="Collections Link",
        readonly=True,
        index="btree_not_null",
        ondelete="set null",
        help="The collections page link this payment was made from.",
    )
    collection_portal_logged = fields.Boolean(readonly=True, copy=False)

    def _post_process(self):
        """Log a payment made from the collections page on the customer's case, once."""
        result = super()._post_process()
        for transaction in self.filtered(
            lambda tx: tx.state == "done" and tx.collection_portal_link_id and not tx.collection_portal_logged
        ):
            link = transaction.collection_portal_link_id.sudo()
            lines = transaction.invoice_ids.line_ids.filtered(lambda line: line.display_type == "payment_term")
            amount = transaction.currency_id._convert(
                transaction.amount,
                link.company_id.currency_id,
                link.company_id,
                transaction.last_state_change or fields.Date.context_today(self),
            )
            link._portal_log(
                _(
                    "Paid %(amount)s online (%(reference)s) for %(invoices)s",
                    amount=format_amount(self.env, transaction.amount, transaction.currency_id),
                    reference=transaction.reference,
                    invoices=", ".join(transaction.invoice_ids.mapped("name")),
                ),
                lines=lines,
                amount=amount,
            )
            transaction.collection_portal_logged = True
        return result

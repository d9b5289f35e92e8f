from odoo import api, models


class AccountPartialReconcile(models.Model):
    _inherit = "account.partial.reconcile"

    @api.model_create_multi
    def create(self, vals_list):
        partials = super().create(vals_list)
        partials._collection_kpi_mark_stale()
        credit_notes = partials.filtered(lambda partial: partial.credit_move_id.move_id.move_type == "out_refund")
        if credit_notes:
            self.env["collection.dispute"]._close_from_credit_notes(credit_notes.debit_move_id)
        payments = (partials - credit_notes).filtered(lambda partial: partial._collection_is_customer_payment())
        if payments:
            self.env["collection.case"]._collection_record_payments(payments)
        return partials

    def unlink(self):
        self._collection_kpi_mark_stale()
        return super().unlink()

    def _collection_kpi_mark_stale(self):
        """The KPI snapshot of the customers of these reconciliations must be recomputed from their
        dates on."""
        self.env["collection.kpi.snapshot"]._collection_mark_stale(
            [
                (partial.company_id.id, line.partner_id.commercial_partner_id.id, partial.max_date)
                for partial in self
                for line in partial.debit_move_id | partial.credit_move_id
            ]
        )

    def _collection_is_customer_payment(self):
        """A payment (or bank statement line) applied to a customer's receivable instalment."""
        self.ensure_one()
        line, counterpart = self.debit_move_id, self.credit_move_id
        return (
            line.display_type == "payment_term"
            and line.account_id.account_type == "asset_receivable"
            and line.move_id.is_sale_document(include_receipts=True)
            and counterpart.move_id.move_type == "entry"
            and not counterpart.move_id.exchange_diff_partial_ids
        )

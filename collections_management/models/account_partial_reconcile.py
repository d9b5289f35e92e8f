from odoo import api, models


class AccountPartialReconcile(models.Model):
    _inherit = "account.partial.reconcile"

    @api.model_create_multi
    def create(self, vals_list):
        partials = super().create(vals_list)
        credit_notes = partials.filtered(lambda partial: partial.credit_move_id.move_id.move_type == "out_refund")
        if credit_notes:
            self.env["collection.dispute"]._close_from_credit_notes(credit_notes.debit_move_id)
        return partials

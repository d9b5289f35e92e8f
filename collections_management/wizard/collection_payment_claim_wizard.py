import base64

from odoo import _, api, fields, models
from odoo.exceptions import UserError


class CollectionPaymentClaimWizard(models.TransientModel):
    """A collector records, from the case, a payment the customer says it made (by phone, e-mail):
    the same claim as from the customer page or WhatsApp, through the same method."""

    _name = "collection.payment.claim.wizard"
    _description = "Record a Payment to Verify"

    case_id = fields.Many2one("collection.case", required=True, ondelete="cascade")
    partner_id = fields.Many2one(related="case_id.partner_id")
    company_id = fields.Many2one(related="case_id.company_id")
    currency_id = fields.Many2one(related="company_id.currency_id")
    line_ids = fields.Many2many(
        "account.move.line",
        string="Instalments",
        domain=lambda self: self.env["account.move.line"]._collection_open_picker_domain(),
    )
    amount = fields.Monetary(string="Amount Paid", currency_field="currency_id")
    payment_date = fields.Date(string="Paid On")
    reference = fields.Char()
    proof = fields.Binary(string="Proof of Payment", required=True)
    proof_name = fields.Char()

    @api.model
    def default_get(self, fields_list):
        values = super().default_get(fields_list)
        case = self.env["collection.case"].browse(values.get("case_id") or self.env.context.get("default_case_id"))
        if case and "line_ids" in fields_list:
            values["line_ids"] = [fields.Command.set(case.overdue_line_ids.ids)]
        return values

    def action_confirm(self):
        self.ensure_one()
        if not self.proof:
            raise UserError(_("Attach the proof of payment (a PDF or a photo)."))
        attachment = {"name": self.proof_name, "raw": base64.b64decode(self.with_context(bin_size=False).proof)}
        claim = self.env["collection.payment.claim"]._collection_create_claim(
            self.partner_id,
            self.line_ids,
            {"amount": self.amount, "payment_date": self.payment_date, "reference": self.reference},
            [attachment],
            source="backoffice",
        )
        return {
            "type": "ir.actions.act_window",
            "res_model": "collection.payment.claim",
            "res_id": claim.id,
            "view_mode": "form",
        }

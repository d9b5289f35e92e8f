from odoo import _, api, models
from odoo.exceptions import UserError
from odoo.fields import Domain


class CollectionPaymentClaim(models.Model):
    _inherit = "collection.payment.claim"

    @api.model
    def _portal_create_claim(self, link, invoice_ids, vals, proofs):
        """An "I already paid" from the page of ``link``: the open instalments of ``invoice_ids`` (parsed
        ids), what the customer typed (``vals``: payment_date, reference, amount) and the uploaded
        proofs (``[{"name", "raw"}]``). Invoices of anyone else than the link's customer in the link's
        company are refused; the rules are those of ``_collection_create_claim``, as for WhatsApp and
        the back office. Logged as a portal contact on the case."""
        partner = link.commercial_partner_id
        if not invoice_ids:
            raise UserError(_("Choose the invoices you paid."))
        Line = self.env["account.move.line"]
        moves = self.env["account.move"].browse(invoice_ids).exists()
        if (
            len(moves) != len(invoice_ids)
            or moves.commercial_partner_id != partner
            or moves.company_id != link.company_id
        ):
            raise UserError(_("These invoices are not yours."))
        lines = Line.search(Line._collection_open_domain() & Domain("move_id", "in", moves.ids))
        unpaid = lines.move_id
        if moves - unpaid:
            raise UserError(_("Invoice %s has nothing left to pay.", ", ".join((moves - unpaid).mapped("name"))))
        claim = self._collection_create_claim(partner, lines, vals, proofs, source="portal")
        self.env["collection.communication"]._portal_log(
            link,
            _("I already paid: %s", ", ".join(moves.mapped("name"))),
            lines=lines,
            amount=sum(lines.mapped("amount_residual")),
        )
        return claim

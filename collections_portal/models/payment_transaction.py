from odoo import _, api, fields, models
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tools import (
    consteq,
    float_repr,
    format_amount,
    hmac as hmac_tool,
)

from .res_partner import SETTLED_PAYMENT_STATES

PAYMENT_FLOWS = ("redirect", "direct", "token")


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

    # ------------------------------------------------------------------
    # Paying several invoices from the collections page (``link``: the page's link)
    # ------------------------------------------------------------------

    @api.model
    def _collection_get_invoices(self, link, invoice_ids):
        """The invoices with ids ``invoice_ids`` (parsed) the customer of ``link`` may pay. An id
        that is not one of this customer's invoices in this company raises AccessError."""
        if not invoice_ids:
            raise UserError(_("Choose at least one invoice to pay."))
        invoices = self.env["account.move"].search(
            [
                ("id", "in", invoice_ids),
                ("commercial_partner_id", "=", link.commercial_partner_id.id),
                ("company_id", "=", link.company_id.id),
                ("move_type", "in", ("out_invoice", "out_refund", "out_receipt")),
                ("state", "=", "posted"),
            ]
        )
        if len(invoices) != len(invoice_ids):
            raise AccessError(_("These invoices are not yours."))
        not_payable = invoices.filtered(
            lambda move: (
                move.move_type != "out_invoice"
                or move.payment_state in SETTLED_PAYMENT_STATES
                or move.currency_id.compare_amounts(move.amount_residual, 0.0) <= 0
            )
        )
        if not_payable:
            raise UserError(
                _(
                    "These invoices cannot be paid online any more (already paid or a credit note): %s",
                    ", ".join(not_payable.mapped("name")),
                )
            )
        return invoices.sorted(lambda move: (move.invoice_date_due or move.date, move.id))

    @api.model
    def _collection_payment_values(self, link, invoice_ids, amount=None, mode=None):
        """What paying ``invoice_ids`` means, computed on the server: invoices, currency, total
        residual, overdue part, and the amount to pay (the total; the overdue part when ``mode`` is
        ``overdue``; or a partial ``amount`` (parsed) when the company allows it), signed."""
        invoices = self._collection_get_invoices(link, invoice_ids)
        currency = invoices.currency_id
        if len(currency) != 1:
            raise UserError(
                _("Invoices in different currencies cannot be paid together; choose the invoices of one currency.")
            )
        today = fields.Date.context_today(self)
        total = currency.round(sum(invoices.mapped("amount_residual")))
        overdue = currency.round(
            sum(
                line.amount_residual_currency
                for line in invoices.line_ids
                if line.display_type == "payment_term"
                and not line.reconciled
                and line.date_maturity
                and line.date_maturity < today
            )
        )
        default = overdue if mode == "overdue" and overdue > 0 else total
        partial_allowed = link.company_id.collection_portal_partial_payment
        if amount is None:
            amount = default
        else:
            if currency.compare_amounts(amount, total) > 0:
                raise UserError(_("The amount to pay cannot be more than what the invoices still owe."))
            if not partial_allowed and currency.compare_amounts(amount, default) != 0:
                raise UserError(_("Partial payments are not accepted online; please pay the full amount."))
        amount = currency.round(amount)
        mode = "overdue" if mode == "overdue" else "selection"
        return {
            "invoices": invoices,
            "currency": currency,
            "total": total,
            "overdue": overdue,
            "amount": amount,
            "mode": mode,
            "partial_allowed": partial_allowed,
            "selection": ",".join(str(invoice_id) for invoice_id in invoices.ids),
            "access_token": self._collection_payment_token(link, invoices, amount, currency, mode),
        }

    @api.model
    def _collection_payment_token(self, link, invoices, amount, currency, mode="selection"):
        """Sign what the customer is about to pay (invoices, amount, currency, and the mode the
        amount was computed in): the transaction route refuses anything else."""
        return self._collection_sign(
            "collections_portal_payment",
            link.id,
            link.commercial_partner_id.id,
            *invoices.ids,
            float_repr(amount, currency.decimal_places),
            currency.id,
            mode,
        )

    @api.model
    def _collection_sign(self, scope, *values):
        return hmac_tool(self.env(su=True), scope, "|".join(str(value) for value in values))

    @api.model
    def _collection_check_payment(
        self, link, invoice_ids, amount, access_token, provider_id, mode=None, user=None, flow=None, tokenize=False
    ):
        """Values of a transaction for ``invoice_ids`` (parsed) of ``amount`` in ``mode`` signed by
        ``access_token``, through the provider ``provider_id`` (parsed), made by ``user`` with the
        payment ``flow``. A tampered amount, invoice list, mode or token raises ValidationError.

        The provider must be a published, enabled (or test) provider of the link's company.
        Saved payment methods belong to the customer: only a logged-in user of the customer may
        pay with one (``flow`` ``token``) or save one; whoever else holds the link may not. The
        returned ``tokenization_requested`` is what the transaction may ask for."""
        if flow not in PAYMENT_FLOWS:
            raise ValidationError(_("The payment method is not valid."))
        customer_user = link._is_customer_user(user)
        if flow == "token" and not customer_user:
            raise ValidationError(
                _(
                    "Saved payment methods can only be used when signed in to the customer's own "
                    "account; please enter the payment details."
                )
            )
        if (
            not isinstance(amount, int | float)
            or isinstance(amount, bool)
            or amount != amount
            or amount in (float("inf"), float("-inf"))
            or amount <= 0
        ):
            raise ValidationError(_("The amount to pay is not valid."))
        provider = self.env["payment.provider"].browse(provider_id).exists() if provider_id else None
        if (
            not provider
            or provider.company_id != link.company_id
            or provider.state not in ("enabled", "test")
            or not provider.is_published
        ):
            raise ValidationError(_("This payment provider is not available; please choose another one."))
        values = self._collection_payment_values(link, invoice_ids, amount=amount, mode=mode)
        expected = self._collection_payment_token(
            link, values["invoices"], values["amount"], values["currency"], values["mode"]
        )
        if not isinstance(access_token, str) or not consteq(access_token, expected):
            raise ValidationError(_("The payment details were changed; please start again from your collections page."))
        values["tokenization_requested"] = bool(tokenize) and customer_user
        return values

    def _collection_transaction_token(self, link):
        self.ensure_one()
        return self._collection_sign("collections_portal_transaction", link.id, self.id, self.partner_id.id)

    @api.model
    def _collection_get_transaction(self, link, tx_id, tx_token):
        """The transaction of ``link`` with id ``tx_id`` (parsed) signed by ``tx_token``, or nothing."""
        if tx_id is None:
            return self.browse()
        transaction = self.browse(tx_id).exists()
        if (
            not transaction
            or transaction.collection_portal_link_id.commercial_partner_id != link.commercial_partner_id
            or not isinstance(tx_token, str)
            or not consteq(tx_token, transaction._collection_transaction_token(link))
        ):
            return self.browse()
        return transaction

    # ------------------------------------------------------------------
    # The payment is logged on the customer's case, once
    # ------------------------------------------------------------------

    def _post_process(self):
        """Log a payment made from the collections page on the customer's case, once."""
        result = super()._post_process()
        for transaction in self.filtered(
            lambda tx: tx.state == "done" and tx.collection_portal_link_id and not tx.collection_portal_logged
        ):
            # Payments are processed by the payment module (webhooks, polling): the log is ours.
            link_sudo = transaction.collection_portal_link_id.sudo()
            company = link_sudo.company_id
            lines = transaction.invoice_ids.line_ids.filtered(lambda line: line.display_type == "payment_term")
            amount = transaction.currency_id._convert(
                transaction.amount,
                company.currency_id,
                company,
                transaction.last_state_change or fields.Date.context_today(self),
            )
            link_sudo.env["collection.communication"]._portal_log(
                link_sudo,
                _(
                    "Paid %(amount)s online (%(reference)s) for %(invoices)s",
                    amount=format_amount(self.env, transaction.amount, transaction.currency_id),
                    reference=transaction.reference,
                    invoices=", ".join(transaction.invoice_ids.mapped("name")),
                ),
                lines=lines.sudo(),
                amount=amount,
            )
            transaction.collection_portal_logged = True
        return result

from datetime import timedelta

from markupsafe import Markup

from odoo import _, api, fields, models
from odoo.exceptions import AccessError, UserError
from odoo.fields import Domain

from ..tools.portal_form import text_to_html


class CollectionDispute(models.Model):
    _inherit = "collection.dispute"

    @api.model
    def _portal_create_dispute(self, link, invoice_id, reason_id, comment, attachment_values=None):
        """Dispute one invoice of the customer of ``link`` from its page: a reason (when the company
        has a list), the customer's comment and an optional file (checked ir.attachment values).
        The rules (one open dispute per invoice) are the model's, as for a collector's dispute; the
        owner gets a task."""
        partner = link.commercial_partner_id
        company = link.company_id
        invoice = self.env["account.move"].search(
            [
                ("id", "=", invoice_id),
                ("commercial_partner_id", "=", partner.id),
                ("company_id", "=", company.id),
                ("move_type", "in", ("out_invoice", "out_receipt")),
                ("state", "=", "posted"),
            ]
        )
        if not invoice:
            raise AccessError(_("This invoice is not yours."))
        reasons = self._portal_reasons(company)
        reason = reasons.filtered(lambda r: r.id == reason_id)
        if reasons and not reason:
            raise UserError(_("Choose the reason of the dispute."))
        Line = self.env["account.move.line"]
        lines = Line.search(Line._collection_open_domain() & Domain("move_id", "=", invoice.id))
        if not lines:
            raise UserError(_("Invoice %s is paid: there is nothing to dispute.", invoice.name))
        owner = partner._collection_owner(company, invoice)
        dispute = self.create(
            {
                "partner_id": partner.id,
                "company_id": company.id,
                "move_ids": [fields.Command.set(invoice.ids)],
                "line_ids": [fields.Command.set(lines.ids)],
                "reason_id": reason.id,
                "description": comment,
                "user_id": owner.id,
            }
        )
        attachments = self.env["ir.attachment"]
        if attachment_values:
            attachments = attachments.create({**attachment_values, "res_model": self._name, "res_id": dispute.id})
        dispute.message_post(
            body=Markup("<p>%s</p><p>%s</p>") % (_("Dispute opened by the customer from the portal."), comment),
            author_id=link.partner_id.id,
            message_type="comment",
            subtype_xmlid="mail.mt_note",
            attachment_ids=attachments.ids,
        )
        if owner and not dispute.activity_ids.filtered(lambda activity: activity.user_id == owner):
            dispute.activity_schedule(
                "mail.mail_activity_data_todo",
                date_deadline=dispute.deadline or fields.Date.context_today(self) + timedelta(days=2),
                user_id=owner.id,
                summary=_("Customer disputes %s", invoice.name),
                # The customer's words are text, never HTML.
                note=text_to_html(comment),
            )
        subject = _("Dispute of %(invoice)s: %(reason)s", invoice=invoice.name, reason=reason.name or _("other"))
        self.env["collection.communication"]._portal_log(
            link, subject, note=comment, lines=lines, amount=sum(lines.mapped("amount_residual"))
        )
        return dispute

    @api.model
    def _portal_reasons(self, company):
        """Dispute reasons a customer of ``company`` chooses from."""
        return self.env["collection.dispute.reason"].search([("company_id", "in", (False, company.id))])

from markupsafe import Markup

from odoo import _, api, fields, models
from odoo.exceptions import ValidationError

# Channels whose message carries the link to the customer's collections page.
LINK_CHANNELS = ("email", "sms", "letter", "whatsapp")


class CollectionCommunication(models.Model):
    _inherit = "collection.communication"

    channel = fields.Selection(selection_add=[("portal", "Customer Portal")], ondelete={"portal": "cascade"})
    portal_link_id = fields.Many2one(
        "collection.portal.link",
        string="Collections Page Link",
        readonly=True,
        copy=False,
        index="btree_not_null",
        ondelete="set null",
        help="The signed link this reminder carries, issued when it was sent.",
    )

    @api.constrains("portal_link_id", "partner_id", "company_id")
    def _check_portal_link(self):
        for communication in self.filtered("portal_link_id"):
            link = communication.portal_link_id.sudo()
            if (
                link.commercial_partner_id != communication.partner_id.commercial_partner_id
                or link.company_id != communication.company_id
            ):
                raise ValidationError(_("A reminder carries a link to its own customer's page only."))

    @api.depends("portal_link_id")
    def _compute_portal_url(self):
        """The signed link the reminder carries (issued when it was sent, see ``_send``); showing a
        communication never issues one. Without a link, the customer's invoices in the portal."""
        result = super()._compute_portal_url()
        for communication in self.filtered("portal_link_id"):
            communication.portal_url = communication.portal_link_id.url
        return result

    def _send(self):
        """Issue the link each reminder carries before its channel renders it."""
        self._issue_portal_links()
        return super()._send()

    def _issue_portal_links(self):
        """A valid link (reused while fresh) for the contact each outbound reminder goes to, stored
        on the communication. Links are issued by the engine only: the link's model does it."""
        communications = self.filtered(
            lambda c: c.channel in LINK_CHANNELS and c.direction == "outbound" and not c.portal_link_id
        )
        if not communications:
            return

        def key(communication):
            return (communication.recipient_id or communication.partner_id, communication.company_id)

        links = self.env["collection.portal.link"]._get_links([key(c) for c in communications])
        for (partner, company), group in communications.grouped(key).items():
            group.write({"portal_link_id": links[(partner.id, company.id)].id})

    @api.model
    def _portal_log(self, link, subject, note=False, lines=None, amount=0.0):
        """Log what the customer did on the page of ``link`` as an inbound communication of the
        portal channel, and on the case's chatter (the customer's words are escaped)."""
        partner = link.commercial_partner_id
        communication = self.create(
            {
                "subject": subject,
                "company_id": link.company_id.id,
                "partner_id": partner.id,
                "recipient_id": link.partner_id.id,
                "user_id": False,
                "direction": "inbound",
                "channel": "portal",
                "state": "done",
                "line_ids": [fields.Command.set(lines.ids if lines else [])],
                "amount_total": amount,
                "note": note or False,
            }
        )
        case = partner._collection_case(link.company_id)
        if case:
            body = Markup("<p>%s</p>") % subject
            if note:
                body += Markup("<p>%s</p>") % note
            case.message_post(
                body=body, author_id=link.partner_id.id, message_type="comment", subtype_xmlid="mail.mt_note"
            )
        return communication

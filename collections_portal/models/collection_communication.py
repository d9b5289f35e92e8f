from odoo import fields, models


class CollectionCommunication(models.Model):
    _inherit = "collection.communication"

    channel = fields.Selection(selection_add=[("portal", "Customer Portal")], ondelete={"portal": "cascade"})

    def _compute_portal_url(self):
        """Every reminder carries a signed link to the customer's collections page, issued to the
        contact it is sent to (one valid link reused per contact and company)."""
        pairs = [
            ((communication.recipient_id or communication.partner_id), communication.company_id)
            for communication in self
            if communication.partner_id and communication.company_id
        ]
        links = self.env["collection.portal.link"]._get_links(pairs)
        for communication in self:
            partner = communication.recipient_id or communication.partner_id
            link = links.get((partner.id, communication.company_id.id))
            communication.portal_url = link.sudo().url if link else False

from odoo import fields, models


class ResPartner(models.Model):
    _inherit = "res.partner"

    collection_policy_id = fields.Many2one(
        "collection.policy",
        string="Collection Policy",
        company_dependent=True,
        help="Policy used to remind this customer. Empty: the first policy whose rule matches, "
        "else the company's default policy.",
    )
    collection_excluded = fields.Boolean(
        string="Excluded from Collections",
        help="No reminder is sent to this customer while this is set; nothing is lost, "
        "its instalments are reminded again when it is cleared.",
    )
    collection_contact = fields.Boolean(
        string="Collections Contact",
        help="Reminders of the company go to this contact.",
    )
    collection_optout_email = fields.Boolean(string="No Reminders by E-mail")
    collection_optout_sms = fields.Boolean(string="No Reminders by SMS")
    collection_optout_letter = fields.Boolean(string="No Reminders by Letter")
    collection_case_ids = fields.One2many("collection.case", "partner_id", string="Collection Cases")

    def _get_collection_recipients(self):
        """Map each commercial partner in ``self`` to the contact reminders go to: a contact marked
        for collections, else the invoice address, else the customer itself. One query."""
        children = self.search(
            [("parent_id", "in", self.ids), ("active", "=", True),
             "|", ("collection_contact", "=", True), ("type", "=", "invoice")],
            order="collection_contact desc, id",
        )
        result = {partner.id: partner for partner in self}
        chosen = set()
        for child in children:
            parent_id = child.parent_id.id
            if parent_id not in chosen:
                result[parent_id] = child
                chosen.add(parent_id)
        return result

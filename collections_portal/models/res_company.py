from odoo import fields, models


class ResCompany(models.Model):
    _inherit = "res.company"

    collection_portal_link_days = fields.Integer(
        string="Collections Link Validity (days)",
        default=60,
        help="How long the link to the collections page that reminders carry stays valid.",
    )
    collection_portal_partial_payment = fields.Boolean(
        string="Partial Online Payments",
        default=True,
        help="Customers may pay part of the invoices they choose on their collections page.",
    )

    _check_collection_portal_link_days = models.Constraint(
        "CHECK(collection_portal_link_days > 0)", "A collections link must be valid for at least one day."
    )

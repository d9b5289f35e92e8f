from odoo import fields, models


class ResCompany(models.Model):
    _inherit = "res.company"

    collection_policy_id = fields.Many2one(
        "collection.policy",
        string="Default Collection Policy",
        domain="[('company_id', '=', id)]",
        help="Policy for customers that have none and match no policy rule.",
    )
    collection_default_user_id = fields.Many2one(
        "res.users",
        string="Default Collections User",
        domain="[('share', '=', False)]",
        help="Gets the collections tasks of customers without a collector or team manager, "
        "when the level names nobody.",
    )

    def _collection_bank_accounts(self):
        """The accounts customers pay this company into: those of its bank journals, else the
        company's own bank accounts. Shown on letters, statements and the collections page.
        Read as superuser: the payment details every invoice of the company prints, whoever
        prints the letter (a collector may not read journals)."""
        self.ensure_one()
        journals_sudo = (
            self.env["account.journal"]
            .sudo()
            .search([("type", "=", "bank"), ("company_id", "=", self.id), ("bank_account_id", "!=", False)])
        )
        company_sudo = self.sudo()
        accounts_sudo = journals_sudo.bank_account_id or company_sudo.partner_id.bank_ids.filtered(
            lambda account: not account.company_id or account.company_id == self
        )
        return accounts_sudo

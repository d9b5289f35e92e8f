from odoo import _, api, models
from odoo.exceptions import AccessError


class ReportCollectionStatement(models.AbstractModel):
    """The statement of account of customers in the current company. Printed from the back office,
    only for customers of the user's cases (a collections manager: any customer); from the
    collections page, the link's token was the check (the report then runs as superuser)."""

    _name = "report.collections_portal.report_collection_statement"
    _description = "Statement of Account"

    @api.model
    def _get_report_values(self, docids, data=None):
        partners = self.env["res.partner"].browse(docids)
        company = self.env.company
        if not self.env.su:
            self._check_statement_access(partners, company)
        # The trust boundary of the back office: the user may see these customers' statement.
        partners_sudo = partners.sudo()
        summaries = {partner.id: partner._collection_summary(company) for partner in partners_sudo}
        accounts_sudo = company._collection_bank_accounts()
        return {
            "doc_ids": docids,
            "doc_model": "res.partner",
            "docs": partners,
            "summaries": summaries,
            "bank_transfers": {
                partner.id: partner._collection_bank_transfer(company, summaries[partner.id], accounts_sudo)
                for partner in partners_sudo
            },
        }

    @api.model
    def _check_statement_access(self, partners, company):
        customers = partners.commercial_partner_id
        if self.env.user.has_group("collections_management.collections_management_group_manager"):
            return
        # Record rules of cases: a collector sees the cases of their own and their team's customers.
        cases = (
            self.env["collection.case"]
            .with_context(active_test=False)
            .search([("partner_id", "in", customers.ids), ("company_id", "=", company.id)])
        )
        outside = customers - cases.partner_id
        if outside:
            raise AccessError(
                _(
                    "You can only print the statement of account of customers of your cases (not %s).",
                    ", ".join(outside.mapped("display_name")),
                )
            )

from datetime import timedelta

from odoo import SUPERUSER_ID, _, fields, models
from odoo.fields import Domain

# Settled invoices (paid, in payment, reversed) and open instalments are collections_management's
# definitions (``account.move.line._collection_open_domain``): the page shows what the engine reminds.
from odoo.addons.collections_management.models.account_move_line import SETTLED_PAYMENT_STATES
from odoo.addons.collections_management.report.collection_aging_report import aging_bucket

RECENT_PAYMENT_DAYS = 180


class ResPartner(models.Model):
    _inherit = "res.partner"

    collection_portal_link_ids = fields.One2many(
        "collection.portal.link", "partner_id", string="Collections Page Links"
    )
    collection_portal_link_count = fields.Integer(
        compute="_compute_collection_portal_link_count",
        string="Collections Links",
        groups="collections_management.collections_management_group_collector",
    )

    def _compute_collection_portal_link_count(self):
        counts = dict(
            self.env["collection.portal.link"]._read_group(
                [("partner_id", "in", self.ids)],
                ["partner_id"],
                ["__count"],
            )
        )
        for partner in self:
            partner.collection_portal_link_count = counts.get(partner, 0)

    def action_collection_portal_link(self):
        """Issue (or reuse) the link to this customer's collections page and show its links."""
        self.ensure_one()
        link_sudo = self.env["collection.portal.link"]._get_link(self, self.env.company)
        # Only for a customer of the user's cases: the link's record rules say so.
        link_sudo.with_env(self.env).check_access("read")
        return {
            "type": "ir.actions.act_window",
            "name": _("Collections Page Links"),
            "res_model": "collection.portal.link",
            "view_mode": "list,form",
            "domain": [("partner_id", "=", self.id)],
            "context": {"default_partner_id": self.id},
        }

    # ------------------------------------------------------------------
    # What the customer owes: the collections page and the statement
    # ------------------------------------------------------------------

    def _collection_open_lines(self, company):
        """Open receivable instalments of this commercial entity in ``company``, read in the
        caller's environment (the portal's is the link's, as superuser; a collector's is theirs)."""
        self.ensure_one()
        Line = self.env["account.move.line"]
        return Line.search(
            Line._collection_open_domain()
            & Domain(
                [
                    ("company_id", "=", company.id),
                    ("move_id.commercial_partner_id", "=", self.commercial_partner_id.id),
                ]
            ),
            order="date_maturity, id",
        )

    def _collection_credit_lines(self, company):
        """Credits of this commercial entity in ``company`` (``_collection_credit_domain``:
        payments not applied to an invoice and credit notes), read in the caller's environment."""
        self.ensure_one()
        Line = self.env["account.move.line"]
        return Line.search(
            Line._collection_credit_domain()
            & Domain(
                [
                    ("company_id", "=", company.id),
                    ("move_id.commercial_partner_id", "=", self.commercial_partner_id.id),
                ]
            ),
            order="date, id",
        )

    def _collection_policy(self, company):
        """The policy of this commercial entity in ``company``."""
        self.ensure_one()
        partner = self.commercial_partner_id
        policies = self.env["collection.policy"].with_company(company).search([("company_id", "=", company.id)])
        return policies._policies_for_partners(partner).get(partner.id) or company.collection_policy_id

    def _collection_case(self, company):
        """The collection case of this commercial entity in ``company`` (closed ones included)."""
        self.ensure_one()
        return (
            self.env["collection.case"]
            .with_context(active_test=False)
            .search(
                [("partner_id", "=", self.commercial_partner_id.id), ("company_id", "=", company.id)],
                limit=1,
            )
        )

    def _collection_owner(self, company, invoices=None):
        """Who answers this customer: the case's collector, else its team manager, else the
        invoices' salesperson, else a collections manager of the company."""
        self.ensure_one()
        case = self._collection_case(company)
        candidates = case.user_id | case.team_id.user_id
        if invoices:
            candidates |= invoices.invoice_user_id
        candidates |= self.env.ref("collections_management.collections_management_group_manager").user_ids
        for user in candidates:
            if user.active and not user.share and company in user.company_ids and user.id != SUPERUSER_ID:
                return user
        return self.env["res.users"]

    def _collection_contact(self, company):
        """Who the customer may write or call about its account: the case's collector, else the
        company (name, e-mail, phone)."""
        self.ensure_one()
        user = self._collection_case(company).user_id
        contact = user.partner_id if user and user.active else company.partner_id
        return {
            "name": contact.name if user else company.name,
            "email": contact.email or company.email or "",
            "phone": contact.phone or company.phone or "",
        }

    def _collection_summary(self, company, today=None):
        """Everything the collections page and the statement of account show, computed from
        Odoo's receivable lines and reconciliation, for this commercial entity only. Runs in the
        caller's environment: the access was checked where it was elevated (the link's token, the
        statement's report)."""
        self.ensure_one()
        partner = self.commercial_partner_id.with_company(company)
        today = today or fields.Date.context_today(self)
        lines = partner._collection_open_lines(company)
        promises = self.env["collection.promise"].search(
            [
                ("partner_id", "=", partner.id),
                ("company_id", "=", company.id),
                ("state", "in", ("open", "proposed")),
            ],
            order="date, id",
        )
        disputes = self.env["collection.dispute"].search(
            [
                ("partner_id", "=", partner.id),
                ("company_id", "=", company.id),
                ("state", "=", "open"),
            ]
        )
        claims = self.env["collection.payment.claim"].search(
            [
                ("partner_id", "=", partner.id),
                ("company_id", "=", company.id),
                ("state", "=", "to_verify"),
            ]
        )
        promised_lines = promises.filtered(lambda p: p.state == "open").line_ids
        disputed_lines = disputes.line_ids
        claimed_lines = claims.line_ids
        buckets = self.env["collection.aging.report"]._get_bucket_labels()

        totals = {}

        def currency_total(currency):
            return totals.setdefault(
                currency,
                {
                    "currency": currency,
                    "due": 0.0,
                    "overdue": 0.0,
                    "overdue_company": 0.0,
                    "credit": 0.0,
                    "net": 0.0,
                    "aging": dict.fromkeys((key for key, __ in buckets), 0.0),
                    "overdue_invoice_ids": [],
                },
            )

        invoices = {}
        for line in lines:
            currency = line.currency_id
            residual = line.amount_residual_currency
            days_late = (today - line.date_maturity).days if line.date_maturity else 0
            bucket = aging_bucket(days_late)
            total = currency_total(currency)
            total["due"] += residual
            total["aging"][bucket] += residual
            if days_late > 0:
                total["overdue"] += residual
                total["overdue_company"] += line.amount_residual
            move = line.move_id
            invoice = invoices.setdefault(
                move,
                {
                    "move": move,
                    "currency": currency,
                    "lines": [],
                    "residual": 0.0,
                    "overdue": 0.0,
                    "days_late": 0,
                    "promised": False,
                    "disputed": False,
                    "claimed": False,
                    "payable": move.move_type == "out_invoice" and move.payment_state not in SETTLED_PAYMENT_STATES,
                },
            )
            invoice["lines"].append(
                {
                    "line": line,
                    "date_maturity": line.date_maturity,
                    "days_late": max(days_late, 0),
                    "residual": residual,
                    "promised": line in promised_lines,
                    "disputed": line in disputed_lines,
                    "claimed": line in claimed_lines,
                }
            )
            invoice["residual"] += residual
            if days_late > 0:
                invoice["overdue"] += residual
                invoice["days_late"] = max(invoice["days_late"], days_late)
            invoice["promised"] |= line in promised_lines
            invoice["disputed"] |= line in disputed_lines
            invoice["claimed"] |= line in claimed_lines
        for invoice in invoices.values():
            invoice["payable"] = invoice["payable"] and invoice["residual"] > 0
            if invoice["payable"] and invoice["overdue"] > 0 and not invoice["disputed"]:
                totals[invoice["currency"]]["overdue_invoice_ids"].append(invoice["move"].id)
            if len(invoice["lines"]) > 1:
                for index, line_data in enumerate(invoice["lines"], start=1):
                    line_data["instalment"] = f"{index}/{len(invoice['lines'])}"
        credit_items = []
        for line in partner._collection_credit_lines(company):
            total = currency_total(line.currency_id)
            total["credit"] -= line.amount_residual_currency
            move = line.move_id
            credit_items.append(
                {
                    "line": line,
                    "move": move,
                    "currency": line.currency_id,
                    "date": line.date,
                    "reference": move.name,
                    "kind": "credit_note" if move.move_type in ("out_refund", "in_refund") else "payment",
                    "amount": -line.amount_residual_currency,
                }
            )
        for total in totals.values():
            total["net"] = total["currency"].round(total["due"] - total["credit"])
        payments = self.env["account.payment"].search(
            [
                ("partner_id", "=", partner.id),
                ("company_id", "=", company.id),
                ("payment_type", "=", "inbound"),
                ("state", "in", ("in_process", "paid")),
                ("date", ">=", today - timedelta(days=RECENT_PAYMENT_DAYS)),
            ],
            order="date desc, id desc",
            limit=20,
        )
        overdue_lines = lines.filtered(lambda line: line.date_maturity and line.date_maturity < today)
        return {
            "partner": partner,
            "company": company,
            "today": today,
            "lines": lines,
            "overdue_lines": overdue_lines,
            "overdue_company": sum(overdue_lines.mapped("amount_residual")),
            "due_company": sum(lines.mapped("amount_residual")),
            "totals": sorted(totals.values(), key=lambda total: total["currency"].name),
            "invoices": sorted(invoices.values(), key=lambda inv: (inv["lines"][0]["date_maturity"], inv["move"].id)),
            "buckets": buckets,
            "promises": promises,
            "disputes": disputes,
            "claims": claims,
            "contact": partner._collection_contact(company),
            "payments": payments,
            "credits": credit_items,
            "credit_company": -sum(line["line"].amount_residual for line in credit_items),
        }

    def _collection_bank_transfer(self, company, summary, accounts=None):
        """How this customer pays ``company`` by bank transfer: the company's receiving accounts
        (those of its bank journals, else the company's own; ``accounts`` when already read for a
        batch) and, for each invoice of ``summary`` still payable, the reference to quote so the
        payment is matched at once."""
        self.ensure_one()
        if accounts is None:
            accounts = company._collection_bank_accounts()
        references = [
            (invoice["move"], invoice["move"].payment_reference or invoice["move"].name)
            for invoice in summary["invoices"]
            if invoice["payable"]
        ]
        return {"accounts": accounts, "references": references}

    def _collection_render_statement(self, company, lang=None):
        """(content, 'pdf' or 'html') of the statement of account of this customer in ``company``,
        rendered in the caller's environment (see the report's access check)."""
        self.ensure_one()
        report = self.env["ir.actions.report"].with_company(company).with_context(lang=lang or self.lang)
        return report._render_qweb_pdf("collections_portal.action_report_collection_statement", self.ids)

    def _collection_bucket_label(self, key):
        """Label of an aging bucket in this record's language (the report's own labels)."""
        return dict(self.env["collection.aging.report"]._get_bucket_labels())[key]

import re
import secrets
from datetime import timedelta

from markupsafe import Markup

from odoo import SUPERUSER_ID, _, api, fields, models
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.fields import Domain
from odoo.tools import (
    consteq,
    float_repr,
    format_amount,
    format_date,
    hmac as hmac_tool,
)
from odoo.tools.mimetypes import guess_mimetype

from .res_partner import SETTLED_PAYMENT_STATES

TOKEN_PATTERN = re.compile(r"^[A-Za-z0-9_-]{32,64}$")
ID_PATTERN = re.compile(r"[0-9]{1,10}")
MAX_ID = 2**31 - 1
PAYMENT_FLOWS = ("redirect", "direct", "token")
MAX_ATTACHMENT_SIZE = 10 * 1024 * 1024
ALLOWED_MIMETYPES = {
    "application/pdf",
    "image/png",
    "image/jpeg",
    "image/gif",
    "image/webp",
    "text/plain",
}


class CollectionPortalLink(models.Model):
    """A signed link to a customer's collections page.

    Whoever holds the link sees the open items of the link's commercial entity in the link's
    company, and may pay them, promise to pay, dispute them or ask for a payment plan. Nothing
    else: every portal method below works on ``commercial_partner_id`` and ``company_id`` only.
    A link expires and can be revoked; reminders carry a fresh one (see
    ``collection.communication._compute_portal_url``)."""

    _name = "collection.portal.link"
    _description = "Collections Page Link"
    _order = "id desc"
    _rec_name = "partner_id"

    partner_id = fields.Many2one(
        "res.partner",
        string="Contact",
        required=True,
        index=True,
        ondelete="cascade",
        help="The customer or contact the link was given to.",
    )
    commercial_partner_id = fields.Many2one(
        "res.partner",
        string="Customer",
        related="partner_id.commercial_partner_id",
        store=True,
        index=True,
        help="The link shows this commercial entity's invoices and nothing else.",
    )
    company_id = fields.Many2one("res.company", required=True, index=True, default=lambda self: self.env.company)
    token = fields.Char(
        required=True,
        readonly=True,
        copy=False,
        default=lambda self: secrets.token_urlsafe(32),
        groups="collections_management.collections_management_group_collector",
    )
    url = fields.Char(
        compute="_compute_url",
        string="Link",
        groups="collections_management.collections_management_group_collector",
    )
    expiration_date = fields.Date(required=True, default=lambda self: self._default_expiration_date())
    revoked = fields.Boolean(readonly=True, copy=False)
    revoked_date = fields.Datetime(readonly=True, copy=False)
    revoked_uid = fields.Many2one("res.users", string="Revoked By", readonly=True, copy=False)
    last_used_date = fields.Datetime(string="Last Used", readonly=True, copy=False)
    use_count = fields.Integer(string="Visits", readonly=True, copy=False)
    state = fields.Selection(
        [("valid", "Valid"), ("expired", "Expired"), ("revoked", "Revoked")], compute="_compute_state"
    )

    _token_unique = models.Constraint("UNIQUE(token)", "A link token must be unique.")

    @api.model
    def _default_expiration_date(self):
        return fields.Date.context_today(self) + timedelta(days=self.env.company.collection_portal_link_days or 60)

    def _compute_url(self):
        for link in self:
            link.url = f"{link.sudo().get_base_url()}/collections/{link.sudo().token}"

    @api.depends("revoked", "expiration_date")
    def _compute_state(self):
        today = fields.Date.context_today(self)
        for link in self:
            if link.revoked:
                link.state = "revoked"
            elif link.expiration_date and link.expiration_date < today:
                link.state = "expired"
            else:
                link.state = "valid"

    # ------------------------------------------------------------------
    # Issuing, finding and revoking links
    # ------------------------------------------------------------------

    @api.model
    def _get_links(self, partner_companies):
        """A valid link for each (partner, company) pair in ``partner_companies``; an existing one
        when it is valid for at least half the company's validity, else a new one. Sudo: links are
        issued by the engine and by the portal for their own customer."""
        links_sudo = self.sudo()
        today = fields.Date.context_today(self)
        pairs = {(partner.id, company.id): (partner, company) for partner, company in partner_companies}
        if not pairs:
            return {}
        existing = links_sudo.search(
            [
                ("partner_id", "in", list({p for p, __ in pairs})),
                ("company_id", "in", list({c for __, c in pairs})),
                ("revoked", "=", False),
                ("expiration_date", ">=", today),
            ],
            order="expiration_date desc, id desc",
        )
        result = {}
        for link in existing:
            key = (link.partner_id.id, link.company_id.id)
            if key not in pairs or key in result:
                continue
            days = link.company_id.collection_portal_link_days or 60
            if link.expiration_date >= today + timedelta(days=days // 2):
                result[key] = link
        missing = [key for key in pairs if key not in result]
        if missing:
            new_links = links_sudo.create(
                [
                    {
                        "partner_id": partner_id,
                        "company_id": company_id,
                        "expiration_date": today
                        + timedelta(days=pairs[(partner_id, company_id)][1].collection_portal_link_days or 60),
                    }
                    for partner_id, company_id in missing
                ]
            )
            result.update(zip(missing, new_links))
        return result

    @api.model
    def _get_link(self, partner, company):
        """A valid link of ``partner`` in ``company`` (sudo)."""
        return self._get_links([(partner, company)])[(partner.id, company.id)]

    @api.model
    def _get_by_token(self, token):
        """The valid link with this token (sudo), or an empty recordset: malformed, unknown,
        expired and revoked tokens all look the same from outside."""
        if not isinstance(token, str) or not TOKEN_PATTERN.match(token):
            return self.sudo().browse()
        link = self.sudo().search([("token", "=", token)], limit=1)
        if not link or link.revoked or link.expiration_date < fields.Date.context_today(self):
            return self.sudo().browse()
        if not link.commercial_partner_id.active:
            return self.sudo().browse()
        return link

    def _touch(self):
        """Record a visit."""
        for link in self.sudo():
            link.write({"last_used_date": fields.Datetime.now(), "use_count": link.use_count + 1})

    def _get_portal_path(self):
        self.ensure_one()
        return f"/collections/{self.sudo().token}"

    def action_revoke(self):
        self.filtered(lambda link: not link.revoked).write(
            {
                "revoked": True,
                "revoked_date": fields.Datetime.now(),
                "revoked_uid": self.env.uid,
            }
        )
        return True

    def action_extend(self):
        """Give the link a new validity from today."""
        today = fields.Date.context_today(self)
        for link in self.filtered(lambda link: not link.revoked):
            link.expiration_date = today + timedelta(days=link.company_id.collection_portal_link_days or 60)
        return True

    @api.model
    def _cron_delete_old_links(self):
        """Links expired or revoked for more than a year are of no use any more."""
        limit = fields.Date.context_today(self) - timedelta(days=365)
        self.sudo().search([("expiration_date", "<", limit)]).unlink()

    @api.model
    def _demo_update_reminder_links(self):
        """Demo data: the reminders queued before this module was installed point to /my/invoices;
        give them the signed link of their contact instead."""
        old_url = f"{self.get_base_url()}/my/invoices"
        communications = self.env["collection.communication"].sudo().search([("mail_message_ids", "!=", False)])
        for communication in communications:
            new_url = communication.portal_url
            if not new_url:
                continue
            messages = communication.mail_message_ids
            for message in messages.filtered(lambda m: m.body and old_url in m.body):
                message.body = Markup(str(message.body).replace(old_url, new_url))
            for mail in self.env["mail.mail"].sudo().search([("mail_message_id", "in", messages.ids)]):
                if mail.body_html and old_url in mail.body_html:
                    mail.body_html = mail.body_html.replace(old_url, new_url)
            for sms in self.env["sms.sms"].sudo().search([("mail_message_id", "in", messages.ids)]):
                if sms.body and old_url in sms.body:
                    sms.body = sms.body.replace(old_url, new_url)

    # ------------------------------------------------------------------
    # Helpers used by every portal action (self: one valid link, sudo)
    # ------------------------------------------------------------------

    def _portal_check(self):
        self.ensure_one()
        if self.revoked or self.expiration_date < fields.Date.context_today(self):
            raise UserError(_("This link has expired. Please ask us for a new one."))
        return self.sudo().with_company(self.company_id)

    def _portal_partner(self):
        return self.commercial_partner_id.with_company(self.company_id)

    @api.model
    def _portal_parse_id(self, value):
        """A record id read from the request (an int, or a string of decimal digits), or None when
        it is anything else: ids are positive and below 2**31 (PostgreSQL's integer), so no value
        from outside ever reaches a query unchecked."""
        if isinstance(value, bool):
            return None
        if isinstance(value, str):
            value = value.strip()
            if not ID_PATTERN.fullmatch(value):
                return None
            value = int(value)
        if not isinstance(value, int) or value <= 0 or value > MAX_ID:
            return None
        return value

    def _portal_parse_ids(self, values):
        """Invoice ids from a form value (a list, or a string of comma-separated ids). Anything
        else than positive integers below 2**31 is refused."""
        if isinstance(values, str):
            values = [value for value in values.split(",") if value.strip()]
        if not isinstance(values, list | tuple) or len(values) > 500:
            raise UserError(_("The selection of invoices is not valid."))
        ids = []
        for value in values:
            number = self._portal_parse_id(value)
            if number is None:
                raise UserError(_("The selection of invoices is not valid."))
            ids.append(number)
        return list(dict.fromkeys(ids))

    def _portal_is_customer_user(self, user):
        """Whether ``user`` is a logged-in user of the link's customer. Only they may pay with the
        customer's saved payment methods or save a new one; whoever else holds the link may not."""
        self.ensure_one()
        return bool(
            user and not user._is_public() and user.partner_id.commercial_partner_id == self.commercial_partner_id
        )

    def _portal_summary(self):
        self.ensure_one()
        return self.commercial_partner_id._collection_summary(self.company_id)

    def _portal_policy(self):
        self.ensure_one()
        partner = self.commercial_partner_id
        policies = (
            self.env["collection.policy"]
            .sudo()
            .with_company(self.company_id)
            .search([("company_id", "=", self.company_id.id)])
        )
        return policies._policies_for_partners(partner).get(partner.id) or self.company_id.collection_policy_id

    def _portal_owner(self, invoices=None):
        """Who answers the customer: the case's collector, else its team manager, else the
        invoice's salesperson, else a collections manager of the company."""
        self.ensure_one()
        case = self._portal_case()
        candidates = case.user_id | case.team_id.user_id
        if invoices:
            candidates |= invoices.invoice_user_id
        candidates |= self.env.ref("collections_management.collections_management_group_manager").sudo().user_ids
        for user in candidates:
            if user.active and not user.share and self.company_id in user.company_ids and user.id != SUPERUSER_ID:
                return user
        return self.env["res.users"]

    def _portal_case(self):
        self.ensure_one()
        return (
            self.env["collection.case"]
            .sudo()
            .with_context(active_test=False)
            .search(
                [
                    ("partner_id", "=", self.commercial_partner_id.id),
                    ("company_id", "=", self.company_id.id),
                ],
                limit=1,
            )
        )

    def _portal_log(self, subject, note=False, lines=None, amount=0.0):
        """Log an action of the customer on the collections page as an inbound communication of
        the portal channel, and on the case's chatter."""
        self.ensure_one()
        communication = (
            self.env["collection.communication"]
            .sudo()
            .create(
                {
                    "subject": subject,
                    "company_id": self.company_id.id,
                    "partner_id": self.commercial_partner_id.id,
                    "recipient_id": self.partner_id.id,
                    "user_id": False,
                    "direction": "inbound",
                    "channel": "portal",
                    "state": "done",
                    "line_ids": [fields.Command.set(lines.ids if lines else [])],
                    "amount_total": amount,
                    "note": note or False,
                }
            )
        )
        case = self._portal_case()
        if case:
            body = Markup("<p>%s</p>") % subject
            if note:
                body += Markup("<p>%s</p>") % note
            case.message_post(
                body=body, author_id=self.partner_id.id, message_type="comment", subtype_xmlid="mail.mt_note"
            )
        return communication

    def _portal_visit(self):
        """Record a visit; the first one of the day is logged for the collector."""
        self.ensure_one()
        today_start = fields.Datetime.to_datetime(fields.Date.context_today(self))
        first_today = not self.last_used_date or self.last_used_date < today_start
        self._touch()
        if first_today:
            self._portal_log(_("Opened the collections page"))

    @api.model
    def _portal_companies(self, partner):
        """Companies in which ``partner``'s commercial entity has open receivables (sudo)."""
        Line = self.env["account.move.line"].sudo()
        groups = Line._read_group(
            Line._collection_open_domain()
            & Domain("move_id.commercial_partner_id", "=", partner.commercial_partner_id.id),
            ["company_id"],
        )
        return self.env["res.company"].browse(sorted(company.id for (company,) in groups))

    @api.model
    def _portal_get_user_link(self, user, company_id=None):
        """The link of a logged-in portal user to their customer's page, in the company asked for
        when the customer owes something there, else the first company where it does."""
        partner = user.partner_id
        companies = self._portal_companies(partner)
        company = user.company_id
        if companies:
            company = companies[:1]
            company_id = self._portal_parse_id(company_id)
            if company_id in companies.ids:
                company = companies.browse(company_id)
        return self._get_link(partner, company), companies or company

    @api.model
    def _portal_overdue_count(self, user):
        """Overdue invoices of the user's customer, in every company (for the portal home)."""
        if user._is_public():
            return 0
        partner = user.partner_id.commercial_partner_id
        return (
            self.env["account.move"]
            .sudo()
            .search_count(
                [
                    ("commercial_partner_id", "=", partner.id),
                    ("move_type", "=", "out_invoice"),
                    ("state", "=", "posted"),
                    (
                        "line_ids",
                        "any",
                        self.env["account.move.line"]._collection_open_domain()
                        & Domain("date_maturity", "<", fields.Date.context_today(self)),
                    ),
                ]
            )
        )

    def _portal_promise_max_date(self, policy):
        if not policy or policy.promise_max_days <= 0:
            return False
        return fields.Date.context_today(self) + timedelta(days=policy.promise_max_days)

    def _portal_plan_max_date(self, policy):
        if not policy or policy.portal_plan_max_days <= 0 or policy.portal_plan_max_lines < 2:
            return False
        return fields.Date.context_today(self) + timedelta(days=policy.portal_plan_max_days)

    def _portal_statement(self):
        """The statement of account of the link's customer: (content, 'pdf' or 'html')."""
        self.ensure_one()
        report = (
            self.env["ir.actions.report"]
            .sudo()
            .with_company(self.company_id)
            .with_context(lang=self.partner_id.lang or self.commercial_partner_id.lang)
        )
        content, content_type = report._render_qweb_pdf(
            "collections_portal.action_report_collection_statement", [self.commercial_partner_id.id]
        )
        return content, content_type

    # Payment -------------------------------------------------------------

    def _portal_get_invoices(self, invoice_ids):
        """The invoices among ``invoice_ids`` the customer may pay. An id that is not one of this
        customer's invoices in this company raises AccessError (the caller answers 404)."""
        self.ensure_one()
        ids = self._portal_parse_ids(invoice_ids)
        if not ids:
            raise UserError(_("Choose at least one invoice to pay."))
        invoices = (
            self.env["account.move"]
            .sudo()
            .search(
                [
                    ("id", "in", ids),
                    ("commercial_partner_id", "=", self.commercial_partner_id.id),
                    ("company_id", "=", self.company_id.id),
                    ("move_type", "in", ("out_invoice", "out_refund", "out_receipt")),
                    ("state", "=", "posted"),
                ]
            )
        )
        if len(invoices) != len(ids):
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

    def _portal_payment_values(self, invoice_ids, amount=None, mode=None):
        """What paying ``invoice_ids`` means, computed on the server: invoices, currency, total
        residual, overdue part, and the amount to pay (the total; the overdue part when ``mode`` is
        ``overdue``; or a partial ``amount`` when the company allows it)."""
        self.ensure_one()
        invoices = self._portal_get_invoices(invoice_ids)
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
        partial_allowed = self.company_id.collection_portal_partial_payment
        if amount in (None, "", False):
            amount = default
        else:
            amount = self._portal_parse_amount(amount)
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
            "access_token": self._portal_payment_token(invoices, amount, currency, mode),
        }

    def _portal_payment_token(self, invoices, amount, currency, mode="selection"):
        """Sign what the customer is about to pay (invoices, amount, currency, and the mode the
        amount was computed in): the transaction route refuses anything else."""
        self.ensure_one()
        return self._portal_sign(
            "collections_portal_payment",
            self.id,
            self.commercial_partner_id.id,
            *invoices.ids,
            float_repr(amount, currency.decimal_places),
            currency.id,
            mode,
        )

    def _portal_sign(self, scope, *values):
        return hmac_tool(self.env(su=True), scope, "|".join(str(value) for value in values))

    def _portal_check_transaction(
        self, selection, amount, access_token, mode=None, user=None, flow=None, tokenization_requested=False
    ):
        """Values of a transaction for ``selection`` (comma-separated invoice ids) of ``amount``
        in ``mode`` signed by ``access_token``, made by ``user`` with the payment ``flow``. A
        tampered amount, invoice list, mode or token raises ValidationError.

        Saved payment methods belong to the customer: only a logged-in user of the customer may
        pay with one (``flow`` ``token``) or save one; whoever else holds the link may not. The
        returned ``tokenization_requested`` is what the transaction may ask for."""
        self.ensure_one()
        if flow not in PAYMENT_FLOWS:
            raise ValidationError(_("The payment method is not valid."))
        customer_user = self._portal_is_customer_user(user)
        if flow == "token" and not customer_user:
            raise ValidationError(
                _(
                    "Saved payment methods can only be used when signed in to the customer's own "
                    "account; please enter the payment details."
                )
            )
        if not isinstance(amount, int | float) or isinstance(amount, bool):
            raise ValidationError(_("The amount to pay is not valid."))
        values = self._portal_payment_values(selection, amount=amount, mode=mode)
        expected = self._portal_payment_token(values["invoices"], values["amount"], values["currency"], values["mode"])
        if not isinstance(access_token, str) or not consteq(access_token, expected):
            raise ValidationError(_("The payment details were changed; please start again from your collections page."))
        values["tokenization_requested"] = bool(tokenization_requested) and customer_user
        return values

    def _portal_transaction_token(self, transaction):
        self.ensure_one()
        return self._portal_sign("collections_portal_transaction", self.id, transaction.id, transaction.partner_id.id)

    def _portal_get_transaction(self, tx_id, tx_token):
        """The transaction of this link with id ``tx_id`` signed by ``tx_token``, or nothing."""
        self.ensure_one()
        tx_id = self._portal_parse_id(tx_id)
        if tx_id is None:
            return self.env["payment.transaction"]
        transaction = self.env["payment.transaction"].sudo().browse(tx_id).exists()
        if (
            not transaction
            or transaction.collection_portal_link_id.commercial_partner_id != self.commercial_partner_id
            or not isinstance(tx_token, str)
            or not consteq(tx_token, self._portal_transaction_token(transaction))
        ):
            return self.env["payment.transaction"]
        return transaction

    # Promise, payment plan, dispute ---------------------------------------

    def _portal_parse_amount(self, value):
        if isinstance(value, bool):
            raise UserError(_("The amount is not valid."))
        if isinstance(value, str):
            value = value.strip().replace(",", "")
            if len(value) > 20:
                raise UserError(_("The amount is not valid."))
        try:
            amount = float(value)
        except (TypeError, ValueError) as error:
            raise UserError(_("The amount is not valid.")) from error
        if amount != amount or amount in (float("inf"), float("-inf")) or amount <= 0:
            raise UserError(_("The amount must be a positive number."))
        return amount

    def _portal_parse_date(self, value):
        if not isinstance(value, str) or len(value) > 10:
            raise UserError(_("The date is not valid."))
        try:
            return fields.Date.to_date(value.strip())
        except ValueError as error:
            raise UserError(_("The date is not valid.")) from error

    def _portal_parse_text(self, value, label, max_length, required=False):
        value = (value or "").strip() if isinstance(value, str | type(None)) else None
        if value is None:
            raise UserError(_("%s is not valid.", label))
        if required and not value:
            raise UserError(_("Please fill in %s.", label))
        if len(value) > max_length:
            raise UserError(_("%(label)s is too long (%(max)s characters at most).", label=label, max=max_length))
        return value

    def _portal_check_no_pending_promise(self):
        pending = (
            self.env["collection.promise"]
            .sudo()
            .search(
                [
                    ("partner_id", "=", self.commercial_partner_id.id),
                    ("company_id", "=", self.company_id.id),
                    ("state", "in", ("open", "proposed")),
                ],
                limit=1,
            )
        )
        if pending:
            raise UserError(
                _(
                    "You already have a promise or a payment plan under way (%(amount)s on %(date)s); "
                    "please contact us to change it.",
                    amount=format_amount(self.env, pending.amount, pending.currency_id),
                    date=format_date(self.env, pending.date),
                )
            )

    def _portal_create_promise(self, date, amount, note=None):
        """Promise to pay ``amount`` (company currency) by ``date``: within the policy's horizon,
        not above what is overdue. Creates an open promise on the overdue instalments, which pauses
        their dunning exactly as a promise logged by a collector."""
        self.ensure_one()
        date = self._portal_parse_date(date)
        amount = self._portal_parse_amount(amount)
        note = self._portal_parse_text(note, _("The comment"), 1000)
        policy = self._portal_policy()
        max_days = policy.promise_max_days if policy else 0
        today = fields.Date.context_today(self)
        if max_days <= 0:
            raise UserError(_("Promises to pay cannot be made online; please contact us."))
        if date < today or date > today + timedelta(days=max_days):
            raise UserError(
                _(
                    "The promised date must be between today and %s.",
                    format_date(self.env, today + timedelta(days=max_days)),
                )
            )
        summary = self._portal_summary()
        currency = self.company_id.currency_id
        overdue = currency.round(summary["overdue_company"])
        if currency.compare_amounts(overdue, 0.0) <= 0:
            raise UserError(_("Nothing is overdue: there is nothing to promise."))
        if currency.compare_amounts(amount, overdue) > 0:
            raise UserError(
                _("You cannot promise more than what is overdue (%s).", format_amount(self.env, overdue, currency))
            )
        self._portal_check_no_pending_promise()
        promise = (
            self.env["collection.promise"]
            .sudo()
            .create(
                self._portal_promise_values(
                    {
                        "date": date,
                        "amount": currency.round(amount),
                        "line_ids": [
                            fields.Command.set(
                                summary["overdue_lines"].filtered(lambda line: line.amount_residual > 0).ids
                            )
                        ],
                    },
                    note,
                )
            )
        )
        subject = _(
            "Promise to pay %(amount)s by %(date)s",
            amount=format_amount(self.env, promise.amount, currency),
            date=format_date(self.env, date),
        )
        self._portal_log(subject, note=note, lines=promise.line_ids, amount=promise.amount)
        return promise

    def _portal_promise_values(self, values, note=None):
        """Create values of a promise made on the page: like a collector's, received through the
        portal, taken by nobody."""
        Promise = self.env["collection.promise"]
        values = {
            "partner_id": self.commercial_partner_id.id,
            "company_id": self.company_id.id,
            "portal_link_id": self.id,
            **values,
        }
        if "user_id" in Promise._fields:
            values["user_id"] = False
        if note and "note" in Promise._fields:
            values["note"] = note
        channel = Promise._fields.get("channel")
        if channel and channel.type == "selection" and "portal" in dict(channel._description_selection(self.env)):
            values["channel"] = "portal"
        return values

    def _portal_request_plan(self, dates, amounts, note=None):
        """Propose a payment plan: several dated amounts (company currency) the collector accepts or
        refuses from the case. Until accepted, dunning goes on."""
        self.ensure_one()
        if not isinstance(dates, list | tuple) or not isinstance(amounts, list | tuple) or len(dates) != len(amounts):
            raise UserError(_("The payment plan is not valid."))
        if len(dates) > 50:
            raise UserError(_("The payment plan is not valid."))
        note = self._portal_parse_text(note, _("The comment"), 1000)
        policy = self._portal_policy()
        max_lines = policy.portal_plan_max_lines if policy else 0
        max_days = policy.portal_plan_max_days if policy else 0
        if max_lines < 2 or max_days <= 0:
            raise UserError(_("Payment plans cannot be requested online; please contact us."))
        plan = []
        for date, amount in zip(dates, amounts):
            if not isinstance(date, str) or not isinstance(amount, str):
                raise UserError(_("The payment plan is not valid."))
            if not date.strip() and not amount.strip():
                continue
            plan.append((self._portal_parse_date(date), self._portal_parse_amount(amount)))
        if len(plan) < 2:
            raise UserError(_("A payment plan has at least two payments."))
        if len(plan) > max_lines:
            raise UserError(_("A payment plan has at most %s payments.", max_lines))
        today = fields.Date.context_today(self)
        plan_dates = [date for date, __ in plan]
        if plan_dates != sorted(set(plan_dates)):
            raise UserError(_("The dates of a payment plan must follow each other, one payment per date."))
        if plan_dates[0] < today or plan_dates[-1] > today + timedelta(days=max_days):
            raise UserError(
                _(
                    "The payments must fall between today and %s.",
                    format_date(self.env, today + timedelta(days=max_days)),
                )
            )
        summary = self._portal_summary()
        currency = self.company_id.currency_id
        due = currency.round(summary["due_company"])
        total = currency.round(sum(amount for __, amount in plan))
        if currency.compare_amounts(due, 0.0) <= 0:
            raise UserError(_("You owe nothing: there is nothing to plan."))
        if currency.compare_amounts(total, due) > 0:
            raise UserError(
                _(
                    "The payment plan cannot add up to more than what you owe (%s).",
                    format_amount(self.env, due, currency),
                )
            )
        self._portal_check_no_pending_promise()
        overdue = currency.round(summary["overdue_company"])
        lines = summary["overdue_lines"] if currency.compare_amounts(total, overdue) <= 0 else summary["lines"]
        lines = lines.filtered(lambda line: line.amount_residual > 0)
        promise = (
            self.env["collection.promise"]
            .sudo()
            .create(
                self._portal_promise_values(
                    {
                        "date": plan_dates[-1],
                        "amount": total,
                        "state": "proposed",
                        "line_ids": [fields.Command.set(lines.ids)],
                        "plan_line_ids": [
                            fields.Command.create({"date": date, "amount": currency.round(amount)})
                            for date, amount in plan
                        ],
                    },
                    note,
                )
            )
        )
        subject = _(
            "Payment plan requested: %(count)s payments, %(amount)s in total, until %(date)s",
            count=len(plan),
            amount=format_amount(self.env, total, currency),
            date=format_date(self.env, plan_dates[-1]),
        )
        self._portal_log(subject, note=note, lines=lines, amount=total)
        owner = self._portal_owner()
        case = self._portal_case()
        if owner and case:
            case.activity_schedule(
                "mail.mail_activity_data_todo",
                date_deadline=today + timedelta(days=1),
                user_id=owner.id,
                summary=_("Review the payment plan the customer proposed"),
                note=note or subject,
            )
        elif owner:
            promise.message_subscribe(partner_ids=owner.partner_id.ids)
        return promise

    def _portal_create_dispute(self, invoice_id, reason_id=None, comment=None, attachment=None):
        """Dispute one invoice: a reason (when the company has a list), a comment and an optional
        file (``attachment``: (filename, content bytes, mimetype)). The owner gets a task."""
        self.ensure_one()
        ids = self._portal_parse_ids([invoice_id] if invoice_id not in (None, "") else [])
        if len(ids) != 1:
            raise UserError(_("Choose the invoice you dispute."))
        invoice = (
            self.env["account.move"]
            .sudo()
            .search(
                [
                    ("id", "=", ids[0]),
                    ("commercial_partner_id", "=", self.commercial_partner_id.id),
                    ("company_id", "=", self.company_id.id),
                    ("move_type", "in", ("out_invoice", "out_receipt")),
                    ("state", "=", "posted"),
                ]
            )
        )
        if not invoice:
            raise AccessError(_("This invoice is not yours."))
        comment = self._portal_parse_text(comment, _("The comment"), 2000, required=True)
        reasons = (
            self.env["collection.dispute.reason"].sudo().search([("company_id", "in", (False, self.company_id.id))])
        )
        reason = self.env["collection.dispute.reason"]
        if reasons:
            reason_ids = self._portal_parse_ids([reason_id] if reason_id not in (None, "") else [])
            reason = reasons.filtered(lambda r: r.id in reason_ids)
            if len(reason_ids) != 1 or not reason:
                raise UserError(_("Choose the reason of the dispute."))
        lines = (
            self.env["account.move.line"]
            .sudo()
            .search(self.env["account.move.line"]._collection_open_domain() & Domain("move_id", "=", invoice.id))
        )
        if not lines:
            raise UserError(_("Invoice %s is paid: there is nothing to dispute.", invoice.name))
        already = (
            self.env["collection.dispute"]
            .sudo()
            .search([("line_ids", "in", lines.ids), ("state", "=", "open")], limit=1)
        )
        if already:
            raise UserError(_("Invoice %s is already under dispute; we will come back to you.", invoice.name))
        attachment_values = self._portal_check_attachment(attachment)
        owner = self._portal_owner(invoice)
        Dispute = self.env["collection.dispute"].sudo()
        values = {"move_ids": [fields.Command.set(invoice.ids)]} if "move_ids" in Dispute._fields else {}
        dispute = Dispute.create(
            {
                **values,
                "partner_id": self.commercial_partner_id.id,
                "company_id": self.company_id.id,
                "line_ids": [fields.Command.set(lines.ids)],
                "reason_id": reason.id,
                "description": comment,
                "user_id": owner.id,
            }
        )
        attachments = self.env["ir.attachment"]
        if attachment_values:
            attachments = (
                self.env["ir.attachment"]
                .sudo()
                .create(
                    {
                        **attachment_values,
                        "res_model": "collection.dispute",
                        "res_id": dispute.id,
                    }
                )
            )
        dispute.message_post(
            body=Markup("<p>%s</p><p>%s</p>") % (_("Dispute opened by the customer from the portal."), comment),
            author_id=self.partner_id.id,
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
                note=comment,
            )
        subject = _("Dispute of %(invoice)s: %(reason)s", invoice=invoice.name, reason=reason.name or _("other"))
        self._portal_log(subject, note=comment, lines=lines, amount=sum(lines.mapped("amount_residual")))
        return dispute

    def _portal_check_attachment(self, attachment):
        """ir.attachment values of an uploaded file, after checking its size and type."""
        if not attachment:
            return {}
        filename, content, mimetype = attachment
        if not content:
            return {}
        if len(content) > MAX_ATTACHMENT_SIZE:
            raise UserError(_("The file is too large (%s MB at most).", MAX_ATTACHMENT_SIZE // (1024 * 1024)))
        filename = (filename or "").strip().replace("/", "_").replace("\\", "_")[:200] or "document"
        guessed = guess_mimetype(content, default="application/octet-stream")
        if guessed not in ALLOWED_MIMETYPES:
            raise UserError(_("Attach a PDF, an image or a text file."))
        return {"name": filename, "raw": content, "mimetype": guessed}

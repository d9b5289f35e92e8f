import re
import secrets
from datetime import timedelta

from markupsafe import Markup

from odoo import _, api, fields, models
from odoo.fields import Domain

TOKEN_PATTERN = re.compile(r"^[A-Za-z0-9_-]{32,64}$")
# Fields that make a link open another page: only managers write them, within their record rules.
SCOPE_FIELDS = {"partner_id", "company_id", "token", "expiration_date"}


class CollectionPortalLink(models.Model):
    """A signed link to a customer's collections page.

    Whoever holds the link sees the open items of the link's commercial entity in the link's
    company, and may pay them, promise to pay, dispute them or ask for a payment plan. Nothing
    else: every portal method below works on ``commercial_partner_id`` and ``company_id`` only.
    A link expires and can be revoked; reminders carry a fresh one, issued when they are sent
    (``collection.communication._send``).

    This model keeps the link's life only: issue, find (the sudo boundary of the portal, like
    Odoo's ``_document_check_access``), extend, revoke, purge. Collectors read links; only these
    methods create or change them. What the customer does on the page belongs to the models it
    touches (promises, disputes, transactions), called with the ``*_sudo`` link found here."""

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

    def write(self, vals):
        result = super().write(vals)
        if not self.env.su and SCOPE_FIELDS & vals.keys():
            # Record rules are checked before a write, on the old values: check the new ones.
            self.check_access("write")
        return result

    @api.model
    def _default_expiration_date(self):
        return fields.Date.context_today(self) + timedelta(days=self.env.company.collection_portal_link_days or 60)

    def _compute_url(self):
        for link in self:
            link.url = f"{link.get_base_url()}/collections/{link.token}"

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
        """{(partner id, company id): link (sudo)}: a valid link for each (partner, company) pair in
        ``partner_companies``; an existing one when it is valid for at least half the company's
        validity, else a new one. Links are issued as superuser: by the engine when it sends a
        reminder, and for the logged-in customer's own page."""
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
        link_sudo = self.sudo().search([("token", "=", token)], limit=1)
        if not link_sudo or link_sudo.revoked or link_sudo.expiration_date < fields.Date.context_today(self):
            return self.sudo().browse()
        if not link_sudo.commercial_partner_id.active:
            return self.sudo().browse()
        return link_sudo

    @api.model
    def _get_for_user(self, user, company_id=None):
        """(link (sudo), companies): the link of a logged-in user to their customer's page, in the
        company ``company_id`` (parsed) when the customer owes something there, else the first
        company where it does; and the companies where it does."""
        partner = user.partner_id
        Line = self.env["account.move.line"].sudo()
        groups = Line._read_group(
            Line._collection_open_domain()
            & Domain("move_id.commercial_partner_id", "=", partner.commercial_partner_id.id),
            ["company_id"],
        )
        companies = self.env["res.company"].sudo().browse(sorted(company.id for (company,) in groups))
        company = user.company_id.sudo()
        if companies:
            company = companies.browse(company_id) if company_id in companies.ids else companies[:1]
        return self._get_link(partner, company), companies or company

    @api.model
    def _get_overdue_count(self, user):
        """Overdue invoices of the user's customer, in every company (for the portal home)."""
        if user._is_public():
            return 0
        partner = user.partner_id.commercial_partner_id
        Line = self.env["account.move.line"]
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
                        Line._collection_open_domain() & Domain("date_maturity", "<", fields.Date.context_today(self)),
                    ),
                ]
            )
        )

    def _is_customer_user(self, user):
        """Whether ``user`` is a logged-in user of the link's customer. Only they may pay with the
        customer's saved payment methods or save a new one; whoever else holds the link may not."""
        self.ensure_one()
        return bool(
            user and not user._is_public() and user.partner_id.commercial_partner_id == self.commercial_partner_id
        )

    def _touch(self):
        """Record a visit (``self``: links found by token, sudo); the first one of the day is logged
        for the collector."""
        today_start = fields.Datetime.to_datetime(fields.Date.context_today(self))
        for link in self:
            first_today = not link.last_used_date or link.last_used_date < today_start
            link.write({"last_used_date": fields.Datetime.now(), "use_count": link.use_count + 1})
            if first_today:
                link.env["collection.communication"]._portal_log(link, _("Opened the collections page"))

    def _get_portal_path(self):
        self.ensure_one()
        return f"/collections/{self.token}"

    def action_revoke(self):
        """Revoke links the user may read (collectors: of their customers)."""
        self.check_access("read")
        self.sudo().filtered(lambda link: not link.revoked).write(
            {
                "revoked": True,
                "revoked_date": fields.Datetime.now(),
                "revoked_uid": self.env.uid,
            }
        )
        return True

    def action_extend(self):
        """Give links the user may read a new validity from today."""
        self.check_access("read")
        today = fields.Date.context_today(self)
        for link in self.sudo().filtered(lambda link: not link.revoked):
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
        communications._issue_portal_links()
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

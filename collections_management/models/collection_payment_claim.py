from datetime import timedelta

from markupsafe import Markup

from odoo import SUPERUSER_ID, _, api, fields, models
from odoo.exceptions import UserError, ValidationError
from odoo.tools.mimetypes import guess_mimetype

# What a proof of payment may be: checked on the content, not on the name the customer gave it.
PROOF_MIMETYPES = {
    "application/pdf": "pdf",
    "image/jpeg": "jpg",
    "image/png": "png",
    "image/webp": "webp",
}
PROOF_MAX_BYTES = 5 * 1024 * 1024
PROOF_MAX_FILES = 5
DEFAULT_PAUSE_DAYS = 5
# Fields the rules of a claim depend on.
RULE_FIELDS = {"partner_id", "company_id", "case_id", "line_ids"}


class CollectionPaymentClaim(models.Model):
    """A customer says "I already paid" and sends a proof: a payment to verify.

    While it waits for a collector (state ``to_verify``) and until ``pause_until``, reminders leave
    its instalments out (``account.move.line._collection_claimed_sql``). Verifying or rejecting it
    is the collector's; the payment itself is Odoo's (reconciliation), never stored here."""

    _name = "collection.payment.claim"
    _description = "Payment to Verify"
    _inherit = ["mail.thread", "mail.activity.mixin", "collection.scope.mixin"]
    _order = "state desc, id desc"
    _collection_manager_fields = ("partner_id", "company_id")
    _collection_scope_fields = ("case_id", "line_ids", "user_id")

    name = fields.Char(required=True, default="/", copy=False, readonly=True)
    partner_id = fields.Many2one(
        "res.partner", string="Customer", required=True, index=True, domain=[("is_company", "=", True)]
    )
    company_id = fields.Many2one("res.company", required=True, index=True, default=lambda self: self.env.company)
    currency_id = fields.Many2one(related="company_id.currency_id")
    case_id = fields.Many2one("collection.case", index="btree_not_null", ondelete="set null", copy=False)
    line_ids = fields.Many2many(
        "account.move.line",
        "collection_payment_claim_move_line_rel",
        "claim_id",
        "line_id",
        string="Instalments",
        domain=lambda self: self.env["account.move.line"]._collection_open_picker_domain(),
        help="While the payment waits to be verified, reminders leave these instalments out.",
    )
    move_ids = fields.Many2many("account.move", compute="_compute_move_ids", string="Invoices")
    amount = fields.Monetary(
        string="Amount Paid", currency_field="currency_id", help="The amount the customer says they paid, if given."
    )
    amount_residual = fields.Monetary(
        compute="_compute_amount_residual",
        currency_field="currency_id",
        string="Still Open",
        help="What remains to pay on the instalments, in company currency: zero once the payment is reconciled.",
    )
    payment_date = fields.Date(string="Paid On", help="The date of the payment, as the customer gave it.")
    reference = fields.Char(help="The payment's reference, as the customer gave it.")
    attachment_ids = fields.Many2many(
        "ir.attachment",
        "collection_payment_claim_attachment_rel",
        "claim_id",
        "attachment_id",
        string="Proofs",
        copy=False,
    )
    state = fields.Selection(
        [("to_verify", "To Verify"), ("verified", "Verified"), ("rejected", "Rejected")],
        default="to_verify",
        required=True,
        index=True,
        tracking=True,
        copy=False,
    )
    pause_until = fields.Date(
        string="Reminders Paused Until",
        tracking=True,
        help="Until this day, while the payment is to verify, reminders leave its instalments out; "
        "then they resume by themselves if the invoices are still open.",
    )
    user_id = fields.Many2one("res.users", string="Collector", tracking=True, help="Who verifies the proof.")
    source = fields.Selection(
        [("portal", "Customer Page"), ("whatsapp", "WhatsApp"), ("backoffice", "Back Office")],
        string="Received From",
        required=True,
        default="backoffice",
        readonly=True,
    )
    reject_reason = fields.Text(string="Reason for Rejection", readonly=True, copy=False)
    date_done = fields.Date(string="Verified or Rejected On", readonly=True, copy=False)
    is_paused = fields.Boolean(compute="_compute_is_paused", string="Pausing Reminders")

    _check_amount = models.Constraint("CHECK(amount IS NULL OR amount >= 0)", "A paid amount cannot be negative.")

    @api.depends("line_ids")
    def _compute_move_ids(self):
        for claim in self:
            claim.move_ids = claim.line_ids.move_id

    @api.depends("line_ids.amount_residual")
    def _compute_amount_residual(self):
        for claim, claim_sudo in zip(self, self.sudo(), strict=True):
            claim.amount_residual = sum(claim_sudo.line_ids.mapped("amount_residual"))

    @api.depends("state", "pause_until")
    def _compute_is_paused(self):
        today = fields.Date.context_today(self)
        for claim in self:
            claim.is_paused = claim.state == "to_verify" and bool(claim.pause_until) and claim.pause_until >= today

    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:
            if vals.get("partner_id"):
                vals["partner_id"] = self.env["res.partner"].browse(vals["partner_id"]).commercial_partner_id.id
        # Collectors and the customer page may not read sequences: only the claim's number is drawn.
        sequence_sudo = self.env["ir.sequence"].sudo()
        for vals in vals_list:
            if vals.get("name", "/") == "/":
                vals["name"] = sequence_sudo.next_by_code("collection.payment.claim") or "/"
        claims = super().create(vals_list)
        claims._check_rules()
        return claims

    def write(self, vals):
        result = super().write(vals)
        if RULE_FIELDS & vals.keys():
            self._check_rules()
        return result

    def _check_rules(self):
        """Instalments of the claim's own customer and company only, and open when it is to verify."""
        for claim in self:
            case = claim.case_id
            if case and (case.partner_id != claim.partner_id or case.company_id != claim.company_id):
                raise ValidationError(_("A payment to verify belongs to the case of its own customer."))
            # The rule holds whoever writes: read the instalments' customer and company even where
            # the writer may not read every invoice.
            lines_sudo = claim.line_ids.sudo()
            if lines_sudo and (
                lines_sudo.move_id.commercial_partner_id != claim.partner_id
                or lines_sudo.company_id != claim.company_id
            ):
                raise ValidationError(_("A payment to verify covers invoices of its own customer only."))

    # ------------------------------------------------------------------
    # Creation: the one way in, for the customer page, WhatsApp and the back office
    # ------------------------------------------------------------------

    @api.model
    def _collection_check_proof(self, name, raw):
        """ir.attachment values of one proof (``name``, ``raw`` bytes), after checking its size
        and its real type (read from the content): PDF, JPEG, PNG or WebP."""
        if not raw:
            raise UserError(_("The proof of payment is empty."))
        if len(raw) > PROOF_MAX_BYTES:
            raise UserError(_("The proof of payment is too large (%s MB at most).", PROOF_MAX_BYTES // (1024 * 1024)))
        mimetype = guess_mimetype(raw, default="application/octet-stream")
        if mimetype not in PROOF_MIMETYPES:
            raise UserError(_("The proof of payment must be a PDF or an image (JPEG, PNG or WebP)."))
        name = (name or "").strip().replace("/", "_").replace("\\", "_")[:200]
        return {"name": name or f"proof.{PROOF_MIMETYPES[mimetype]}", "raw": raw, "mimetype": mimetype}

    @api.model
    def _collection_pause_days(self, partner, company):
        # Policies are configuration of managers: collectors and customers get their pause days only.
        policies_sudo = (
            self.env["collection.policy"].sudo().with_company(company).search([("company_id", "=", company.id)])
        )
        policy_sudo = policies_sudo._policies_for_partners(partner).get(partner.id)
        return policy_sudo.claim_pause_days if policy_sudo else DEFAULT_PAUSE_DAYS

    @api.model
    def _collection_create_claim(self, partner, lines, vals=None, attachments=(), source="backoffice"):
        """Record that ``partner`` (a customer) says it paid the instalments ``lines`` and sent
        ``attachments`` (a list of ``{"name", "raw"}``) as proof; ``vals`` may give ``amount``,
        ``payment_date``, ``reference``. Checks that the instalments are the customer's own and
        open, and every proof; pauses their reminders for the policy's days, files the proofs on the
        claim and in the case's chatter, and gives the one "Verify payment proof" task to the case's
        collector (else team manager, else the company's default collections user).

        Runs in the caller's environment: a collector in the back office, the link's environment on
        the customer page, WhatsApp's webhook. Returns the claim."""
        vals = dict(vals or {})
        partner = partner.commercial_partner_id
        Line = self.env["account.move.line"]
        lines = lines.exists()
        if not lines:
            raise UserError(_("Choose the invoices you paid."))
        open_lines = lines.filtered_domain(Line._collection_open_domain())
        if lines.move_id.commercial_partner_id != partner:
            raise UserError(_("These invoices are not yours."))
        if open_lines != lines:
            raise UserError(
                _(
                    "Invoice %s has nothing left to pay.",
                    ", ".join((lines - open_lines).move_id.mapped("name")),
                )
            )
        company = lines.company_id
        if len(company) != 1:
            raise UserError(_("Declare the payments of one company at a time."))
        if vals.get("amount") is not None and vals["amount"] < 0:
            raise UserError(_("The amount cannot be negative."))
        if vals.get("payment_date") and vals["payment_date"] > fields.Date.context_today(self) + timedelta(days=1):
            raise UserError(_("The date of the payment cannot be in the future."))
        attachments = list(attachments or [])
        if not attachments:
            raise UserError(_("Attach the proof of payment (a PDF or a photo)."))
        if len(attachments) > PROOF_MAX_FILES:
            raise UserError(_("Attach %s files at most.", PROOF_MAX_FILES))
        proofs = [self._collection_check_proof(item.get("name"), item.get("raw")) for item in attachments]

        case = partner._get_collection_case(company, create=True)
        internal = self.env.user._is_internal()
        # Outside the back office (customer page, webhook), who acts is no employee: the task owner and
        # the chatter posts are decided as superuser, the posts signed by the customer.
        case_sudo = case.sudo() if internal else case.sudo().with_user(SUPERUSER_ID)
        user = case_sudo._collection_task_user()
        today = fields.Date.context_today(self)
        claim = self.create(
            {
                "partner_id": partner.id,
                "company_id": company.id,
                "case_id": case.id,
                "line_ids": [fields.Command.set(lines.ids)],
                "amount": vals.get("amount") or 0.0,
                "payment_date": vals.get("payment_date") or False,
                "reference": (vals.get("reference") or "")[:200] or False,
                "pause_until": today + timedelta(days=self._collection_pause_days(partner, company)),
                "user_id": user.id,
                "source": source,
            }
        )
        claim_sudo = claim.sudo() if internal else claim.sudo().with_user(SUPERUSER_ID)
        # The proofs were checked above; the customer page and the webhook may not create attachments.
        files_sudo = (
            self.env["ir.attachment"]
            .sudo()
            .create(
                [{**proof, "res_model": self._name, "res_id": claim.id, "company_id": company.id} for proof in proofs]
            )
        )
        claim_sudo.attachment_ids = files_sudo
        summary = claim_sudo._collection_summary_text()
        author = {} if internal else {"author_id": partner.id}
        for record in (claim_sudo, case_sudo):
            record.message_post(
                body=Markup("<p>%s</p>") % summary,
                message_type="comment",
                subtype_xmlid="mail.mt_note",
                attachment_ids=files_sudo.ids,
                **author,
            )
        if user:
            claim_sudo.activity_schedule(
                "collections_management.mail_activity_type_payment_claim",
                date_deadline=today,
                user_id=user.id,
                summary=_("Verify payment proof"),
                note=Markup("<p>%s</p>") % summary,
            )
        return claim

    def _collection_summary_text(self):
        """One line a collector reads: who, which invoices, and what the customer typed (text)."""
        self.ensure_one()
        source = dict(self._fields["source"]._description_selection(self.env))[self.source]
        parts = [
            _(
                "%(customer)s says they already paid %(invoices)s (%(source)s).",
                customer=self.partner_id.display_name,
                invoices=", ".join(self.line_ids.move_id.mapped("name")),
                source=source,
            )
        ]
        if self.payment_date:
            parts.append(_("Paid on %s.", fields.Date.to_string(self.payment_date)))
        if self.amount:
            parts.append(_("Amount: %s.", self.currency_id.format(self.amount)))
        if self.reference:
            parts.append(_("Reference: %s.", self.reference))
        return " ".join(parts)

    # ------------------------------------------------------------------
    # The collector's decision
    # ------------------------------------------------------------------

    def _collection_close(self, state, note):
        claims = self.filtered(lambda claim: claim.state == "to_verify")
        if not claims:
            raise UserError(_("This payment was already verified or rejected."))
        values = {"state": state, "date_done": fields.Date.context_today(self)}
        claims.write(values)
        for claim in claims:
            # Trust boundary: whoever may close the claim closes its task, even when the task is a
            # colleague's, and notes it on the case (posting there needs write access on the case).
            claim_sudo = claim.sudo()
            claim_sudo.activity_feedback(["collections_management.mail_activity_type_payment_claim"])
            claim.message_post(body=note, subtype_xmlid="mail.mt_note")
            if claim.case_id:
                claim_sudo.case_id._post_case_message(_("Payment %(name)s: %(note)s", name=claim.name, note=note))
        return claims

    def action_verify(self):
        """The payment is found: the claim is closed and its task done. Reminders stop for good once
        the payment is reconciled with the invoices."""
        self._collection_close("verified", _("Payment verified by %s.", self.env.user.name))
        return True

    def action_reject(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "name": _("Reject Payment"),
            "res_model": "collection.payment.claim.reject",
            "view_mode": "form",
            "target": "new",
            "context": {"default_claim_id": self.id},
        }

    def _collection_reject(self, reason, notify=False):
        """Rejected: the payment is not found; reminders resume at once. With ``notify`` the
        customer gets the reason by e-mail, in its language (checked before anything changes)."""
        reason = (reason or "").strip()
        if not reason:
            raise UserError(_("Give the reason for rejecting the payment."))
        recipients = {}
        if notify:
            chains = self.partner_id._get_collection_recipient_chains()
            for claim in self:
                chain = chains[claim.partner_id.id]
                recipient = next((contact for contact in chain if contact._collection_can_carry("email")), None)
                if not recipient:
                    raise UserError(_("%s has no e-mail address to tell.", claim.partner_id.display_name))
                recipients[claim] = recipient
        claims = self._collection_close("rejected", _("Payment rejected: %s", reason))
        claims.write({"reject_reason": reason})
        for claim in claims.filtered(lambda claim: claim in recipients):
            recipient = recipients[claim]
            env = claim.with_context(lang=recipient.lang or claim.partner_id.lang).env
            claim.message_post(
                body=Markup("<p>%s</p><p>%s</p>")
                % (
                    env._(
                        "We could not find your payment for %(invoices)s.",
                        invoices=", ".join(claim.line_ids.move_id.mapped("name")),
                    ),
                    reason,
                ),
                subject=env._("Your payment %s", claim.reference or claim.name),
                partner_ids=recipient.ids,
                message_type="comment",
                subtype_xmlid="mail.mt_comment",
            )
        return claims

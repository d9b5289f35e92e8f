import logging
from collections import defaultdict

from lxml import html
from markupsafe import Markup, escape

from odoo import _, api, fields, models
from odoo.exceptions import UserError
from odoo.tools import format_amount, html2plaintext, html_sanitize, plaintext2html

_logger = logging.getLogger(__name__)

CHANNELS = [
    ("email", "E-mail"),
    ("sms", "SMS"),
    ("letter", "Letter"),
    ("call", "Call"),
    ("visit", "Visit"),
    ("note", "Note"),
]
STATES = [
    ("simulated", "Dry Run"),
    ("queued", "Queued"),
    ("sent", "Sent"),
    ("delivered", "Delivered"),
    ("read", "Read"),
    ("done", "Done"),
    ("failed", "Failed"),
    ("cancelled", "Cancelled"),
]
# States that count as a contact for the contact limits of a policy.
CONTACT_STATES = ("queued", "sent", "delivered", "read", "done")
# Outcomes of a call (or visit, or message received) logged by a collector.
CALL_OUTCOMES = [
    ("reached", "Reached"),
    ("no_answer", "No answer"),
    ("wrong_number", "Wrong number"),
    ("promise", "Promised to pay"),
    ("dispute", "Disputed"),
    ("refused", "Refused to pay"),
    ("callback", "Asked to call back"),
]


class CollectionCommunication(models.Model):
    _name = "collection.communication"
    _description = "Collection Communication"
    _order = "date desc, id desc"
    _rec_name = "subject"
    _inherit = ["collection.scope.mixin"]
    # The business log: only model methods say whom and what a contact was about.
    # The levels a retry records (``pending_level_lines``) are the run's: applied as superuser on
    # retry, they are never set by hand.
    _collection_system_fields = ("partner_id", "company_id", "recipient_id", "line_ids", "pending_level_lines")

    subject = fields.Char()
    date = fields.Datetime(default=fields.Datetime.now, required=True, index=True)
    company_id = fields.Many2one("res.company", required=True, index=True, default=lambda self: self.env.company)
    currency_id = fields.Many2one(related="company_id.currency_id")
    partner_id = fields.Many2one(
        "res.partner",
        string="Customer",
        required=True,
        index=True,
        ondelete="cascade",
        help="The commercial entity whose instalments this contact is about.",
    )
    recipient_id = fields.Many2one(
        "res.partner", string="Contact", help="The contact person actually reached or written to."
    )
    user_id = fields.Many2one("res.users", string="By", default=lambda self: self.env.user)
    direction = fields.Selection([("outbound", "Outbound"), ("inbound", "Inbound")], default="outbound", required=True)
    channel = fields.Selection(CHANNELS, required=True)
    state = fields.Selection(STATES, default="queued", required=True, index=True)
    failure_reason = fields.Text()
    run_id = fields.Many2one("collection.run", index="btree_not_null", ondelete="set null")
    level_id = fields.Many2one("collection.level", index="btree_not_null", ondelete="set null")
    stage = fields.Selection(related="level_id.stage", store=True)
    line_ids = fields.Many2many(
        "account.move.line",
        "collection_communication_move_line_rel",
        "communication_id",
        "line_id",
        string="Instalments",
    )
    move_ids = fields.Many2many("account.move", compute="_compute_move_ids", string="Invoices")
    amount_total = fields.Monetary(
        string="Amount Reminded",
        currency_field="currency_id",
        help="Residual of the instalments covered, in company currency, when the contact was made.",
    )
    amount_credit = fields.Monetary(
        string="Credits",
        currency_field="currency_id",
        help="Unapplied payments and credit notes of the customer when the reminder was made, company currency.",
    )
    amount_net = fields.Monetary(
        string="Net Amount Due",
        currency_field="currency_id",
        compute="_compute_amount_net",
        help="Amount reminded minus the customer's credits.",
    )
    is_follow_up = fields.Boolean(
        string="Earlier Reminders Sent",
        help="The customer had already received a reminder before this one (templates test it).",
    )
    body = fields.Html(sanitize_style=True)
    note = fields.Text()
    call_outcome = fields.Selection(
        CALL_OUTCOMES, string="Outcome", help="Outcome of a call, visit or message logged by a collector."
    )
    mail_message_ids = fields.One2many("mail.message", "collection_communication_id")
    activity_ids = fields.One2many("mail.activity", "collection_communication_id", string="Tasks")
    external_id = fields.Char(
        string="External Message ID",
        index="btree_not_null",
        copy=False,
        help="Identifier given by an external provider (e.g. WhatsApp message id).",
    )
    fallback_of_id = fields.Many2one(
        "collection.communication",
        ondelete="set null",
        help="The communication that could not reach the customer and this one replaces.",
    )
    portal_url = fields.Char(compute="_compute_portal_url", string="Customer Link")
    message_body = fields.Html(
        string="Message",
        compute="_compute_message_body",
        sanitize=True,
        help="The message as the customer received it: the e-mail, the SMS text, the letter or the WhatsApp text.",
    )
    pending_level_lines = fields.Json(
        copy=False,
        help="Technical: {level id: [instalment ids]} the run would have recorded had this reminder "
        "reached the customer; a retry that reaches the customer records them.",
    )

    @api.depends("amount_total", "amount_credit")
    def _compute_amount_net(self):
        for communication in self:
            communication.amount_net = communication.amount_total - communication.amount_credit

    @api.depends("line_ids")
    def _compute_move_ids(self):
        for communication in self:
            communication.move_ids = communication.line_ids.move_id

    @api.depends("body", "mail_message_ids.body")
    def _compute_message_body(self):
        """The body sent: the communication's own text (WhatsApp), else its latest message in the
        customer's chatter (the e-mail or SMS), else the letter as printed. Sanitized like any
        html field: whatever a customer or a template inserted is escaped."""
        # Reading a communication is the trust boundary: its messages are shown with it.
        messages_sudo = self.sudo().mail_message_ids
        latest = {}
        for message_sudo in messages_sudo.sorted("id"):
            latest[message_sudo.collection_communication_id.id] = message_sudo
        for communication in self:
            body = communication.body
            message_sudo = latest.get(communication.id)
            if not body and communication.channel == "letter" and communication.id and communication.level_id:
                body = communication._render_letter_html()
            if not body and message_sudo:
                body = message_sudo.body
                if message_sudo.message_type == "sms":
                    body = plaintext2html(html2plaintext(body or ""))
            communication.message_body = html_sanitize(body) if body else False

    def _render_letter_html(self):
        """The letter of this communication as HTML (its report's body, without printing it)."""
        self.ensure_one()
        report_sudo = (
            self.level_id.letter_report_id or self.env.ref("collections_management.action_report_collection_letter")
        ).sudo()
        try:
            html_letter, __ = report_sudo._render_qweb_html(report_sudo.report_name, self.ids)
        except Exception as error:  # noqa: BLE001 - shown instead of the letter
            _logger.info("Letter of communication %s could not be rendered: %s", self.id, error)
            return False
        tree = html.fromstring(html_letter)
        pages = tree.xpath("//main") or tree.xpath("//body")
        return Markup("").join(Markup(html.tostring(page, encoding="unicode")) for page in pages[:1])

    def _compute_portal_url(self):
        """The link a reminder carries. The portal module replaces it with a signed link to the
        customer's collections page; without it, the customer's invoices in the portal."""
        base_url = self[:1].get_base_url()
        for communication in self:
            communication.portal_url = f"{base_url}/my/invoices"

    # ------------------------------------------------------------------
    # Helpers for templates
    # ------------------------------------------------------------------

    def _get_lines_sorted(self):
        self.ensure_one()
        return self.line_ids.sorted(lambda line: (line.date_maturity or fields.Date.today(), line.id))

    def _get_totals_by_currency(self):
        """[(currency, residual in that currency, overdue part)] of the covered instalments."""
        self.ensure_one()
        today = fields.Date.context_today(self)
        totals = defaultdict(lambda: [0.0, 0.0])
        for line in self.line_ids:
            currency = line.currency_id or line.company_currency_id
            amount = line.amount_residual_currency if line.currency_id else line.amount_residual
            totals[currency][0] += amount
            if line.date_maturity and line.date_maturity < today:
                totals[currency][1] += amount
        return [(currency, total, overdue) for currency, (total, overdue) in totals.items()]

    def _collection_credit_text(self):
        """The credits sentence of short messages (SMS): the customer's credits and the net amount
        due, in the recipient's language, or an empty string without credits."""
        self.ensure_one()
        if self.currency_id.is_zero(self.amount_credit):
            return ""
        lang = self.recipient_id.lang or self.partner_id.lang or self.env.lang
        env = self.with_context(lang=lang).env
        return env._(
            "Credits in your favour: %(credit)s; net amount due: %(net)s. ",
            credit=format_amount(env, self.amount_credit, self.currency_id, lang_code=lang),
            net=format_amount(env, self.amount_net, self.currency_id, lang_code=lang),
        )

    def _get_line_residual(self, line):
        """Residual of an instalment in its own currency."""
        return line.amount_residual_currency if line.currency_id else line.amount_residual

    def _get_days_late(self, line):
        if not line.date_maturity:
            return 0
        return (fields.Date.context_today(self) - line.date_maturity).days

    # ------------------------------------------------------------------
    # Sending: the engine calls _send(); each channel has _send_<channel>()
    # ------------------------------------------------------------------

    def _send(self):
        """Hand each communication to its channel, one batch per channel. When a batch fails
        (a template that does not render for one customer...), the batch is retried one by one
        so that only the faulty communications fail, with the error as their reason."""
        for channel, communications in self.grouped("channel").items():
            method_name = f"_send_{channel}"
            if not hasattr(communications, method_name):
                communications._mark_failed(_("No sender for channel %s.", channel))
                continue
            try:
                with self.env.cr.savepoint():
                    getattr(communications, method_name)()
            except Exception:  # noqa: BLE001 - isolate the faulty communications below
                if len(communications) == 1:
                    communications._fail_with_error(method_name)
                    continue
                for communication in communications:
                    communication._fail_with_error(method_name)

    def _fail_with_error(self, method_name):
        self.ensure_one()
        try:
            with self.env.cr.savepoint():
                getattr(self, method_name)()
        except Exception as error:  # noqa: BLE001 - logged on the communication
            _logger.warning("Collection communication %s could not be sent: %s", self.id, error)
            self._mark_failed(_("Could not be sent: %s", error))

    def _mark_failed(self, reason, fallback=True):
        """Mark as failed with a reason a user understands, then fall back as the level says."""
        if not self:
            return
        self.write({"state": "failed", "failure_reason": reason})
        if fallback:
            self._fallback()

    def _mark_failed_by_reason(self, communications_by_reason):
        """Mark failed {reason: communications}, then fall back for all of them at once."""
        failed = self.browse()
        for reason, communications in communications_by_reason.items():
            communications._mark_failed(reason, fallback=False)
            failed |= communications
        failed._fallback()
        return failed

    def _collection_reached(self):
        """Whether these communications (of one customer) reached someone: a message queued or
        sent, or a call the level asked for. A fallback task only tells a person."""
        return any(
            communication.state in CONTACT_STATES
            and not (communication.channel == "call" and communication.fallback_of_id)
            for communication in self
        )

    def _fallback(self):
        """Replace communications that could not reach the customer by the level's fallback:
        another channel, or a task for a person. A fallback never falls back again, never
        repeats a channel already used for that customer in the run, and a customer gets at
        most one fallback of each channel (one task) per run."""
        failed = self.filtered(lambda c: not c.fallback_of_id and c.level_id)
        if not failed or self.env.context.get("collection_retry"):
            return
        used = defaultdict(set)
        runs = failed.run_id
        if runs:
            for run, partner, channel in self._read_group(
                [("run_id", "in", runs.ids), ("partner_id", "in", failed.partner_id.ids)],
                ["run_id", "partner_id", "channel"],
            ):
                used[run.id, partner.id].add(channel)
        for communication in self:
            used[communication.run_id.id, communication.partner_id.id].add(communication.channel)
        fallbacks = []
        for communication in failed:
            fallback = communication.level_id.fallback
            channel = "call" if fallback == "task" else fallback
            key = (communication.run_id.id, communication.partner_id.id)
            if channel in ("none", False) or channel in used[key]:
                continue
            used[key].add(channel)
            fallbacks.append(communication._fallback_values(channel))
        if fallbacks:
            self.create(fallbacks)._send()

    def _fallback_values(self, channel):
        self.ensure_one()
        recipient = self.recipient_id
        if channel != "call" and not recipient._collection_can_carry(channel):
            chain = self.partner_id._get_collection_recipient_chains()[self.partner_id.id]
            recipient = next((p for p in chain if p._collection_can_carry(channel)), self.partner_id)
        return {
            "subject": self.subject,
            "company_id": self.company_id.id,
            "partner_id": self.partner_id.id,
            "recipient_id": recipient.id,
            "channel": channel,
            "run_id": self.run_id.id,
            "level_id": self.level_id.id,
            "line_ids": [fields.Command.set(self.line_ids.ids)],
            "amount_total": self.amount_total,
            "amount_credit": self.amount_credit,
            "is_follow_up": self.is_follow_up,
            "fallback_of_id": self.id,
            "note": self.failure_reason,
        }

    def _collection_task_when_unreached(self):
        """``self``: the communications of customers nobody could reach. Each such customer
        without a task yet gets one (a fallback call task), so a person takes it up."""
        values = []
        for __, communications in self.grouped("partner_id").items():
            if "call" in communications.mapped("channel"):
                continue
            failed = communications.filtered(lambda c: c.state == "failed").sorted("id")
            if failed:
                values.append(failed[0]._fallback_values("call"))
        if values:
            self.create(values)._send()

    # ------------------------------------------------------------------
    # Retry
    # ------------------------------------------------------------------

    def _collection_retry_channels(self):
        """Channels whose failed messages a person may send again (channel modules add theirs)."""
        return ["email", "sms", "letter"]

    def _collection_retry_values(self):
        """Values that reset a failed communication before it is sent again."""
        return {"state": "queued", "failure_reason": False}

    def _collection_remember_levels(self, level_lines_by_partner):
        """``self``: failed communications of customers the run could not reach. Keep on each the
        levels ({collection.level: [instalment ids]}) its customer's instalments would have
        recorded, so that a retry that reaches the customer records them."""
        for partner, communications in self.grouped("partner_id").items():
            level_lines = level_lines_by_partner.get(partner.id)
            if level_lines:
                # A system field (see ``_collection_system_fields``): the run may be a manager's.
                communications.filtered(lambda c: c.state == "failed").sudo().write(
                    {"pending_level_lines": {str(level.id): list(ids) for level, ids in level_lines.items()}}
                )

    def action_retry(self):
        """Send failed reminders again through their channel, to the contact's current address.
        Only failed outbound messages are retried; one that reached the customer never goes twice.
        When the retry reaches the customer, its instalments record the level the run would have
        recorded, and the case hears of it, as after a run."""
        self.check_access("read")
        for communication in self:
            if communication.state != "failed":
                raise UserError(
                    _(
                        "%(communication)s is %(state)s: only a failed message can be sent again.",
                        communication=communication.display_name,
                        state=dict(communication._fields["state"]._description_selection(self.env))[
                            communication.state
                        ],
                    )
                )
            if communication.direction != "outbound" or communication.channel not in self._collection_retry_channels():
                raise UserError(
                    _(
                        "%s cannot be sent again: only e-mails, SMS, letters and messages can.",
                        communication.display_name,
                    )
                )
        # Collectors read communications of their cases only (checked above); sending is done by
        # Collections, as the engine does.
        communications_sudo = self.sudo().with_context(collection_retry=True)
        chains = communications_sudo.partner_id._get_collection_recipient_chains()
        for communication_sudo in communications_sudo:
            recipient = communication_sudo._collection_retry_recipient(chains)
            values = communication_sudo._collection_retry_values()
            if recipient != communication_sudo.recipient_id:
                values["recipient_id"] = recipient.id
            communication_sudo.write(values)
        communications_sudo._send()
        communications_sudo._collection_record_retried_levels()
        return True

    def _collection_retry_recipient(self, chains=None):
        """The contact a retry goes to: the same one when it can now carry the channel, else the
        first of the customer's contacts for collections that can (``chains``: the customers'
        recipient chains, read once for a batch)."""
        self.ensure_one()
        if self.recipient_id._collection_can_carry(self.channel):
            return self.recipient_id
        if chains is None:
            chains = self.partner_id._get_collection_recipient_chains()
        chain = chains[self.partner_id.id]
        return next((p for p in chain if p._collection_can_carry(self.channel)), self.recipient_id)

    def _collection_record_retried_levels(self):
        """Record on the instalments the levels kept by the run for retried communications that
        reached the customer now (never softer than a level reached since), and tell the case."""
        reached = self.filtered(lambda c: c.pending_level_lines and c._collection_reached())
        if not reached:
            return
        Line = self.env["account.move.line"]
        # Levels and instalments still there, checked and read once for all the communications.
        pending = [item for communication in reached for item in communication.pending_level_lines.items()]
        levels = self.env["collection.level"].browse({int(level_id) for level_id, __ in pending}).exists()
        lines = Line.browse({line_id for __, line_ids in pending for line_id in line_ids}).exists()
        level_ids, line_ids_left = set(levels.ids), set(lines.ids)
        for run, communications in reached.grouped("run_id").items():
            company = communications.company_id[:1]
            level_writes = defaultdict(list)
            partner_levels = {}
            for communication in communications:
                for level_id, line_ids in communication.pending_level_lines.items():
                    if int(level_id) not in level_ids:
                        continue
                    level = levels.browse(int(level_id)).with_prefetch(levels._prefetch_ids)
                    kept = [line_id for line_id in line_ids if line_id in line_ids_left]
                    for line in lines.browse(kept).with_prefetch(lines._prefetch_ids):
                        current = line.collection_level_id
                        if not current or current.policy_id != level.policy_id or current.days < level.days:
                            level_writes[level].append(line.id)
                if communication.level_id:
                    partner_levels[communication.partner_id.id] = communication.level_id
            Line._collection_set_levels(level_writes, self.env["collection.run"]._company_today(company))
            if run:
                self.env["collection.case"]._collection_update_from_run(run, partner_levels)
        reached.write({"pending_level_lines": False})

    # E-mail -------------------------------------------------------------

    def _send_email(self):
        addresses = {recipient: recipient._collection_email_addresses() for recipient in self.recipient_id}
        blacklisted = set()
        if addresses:
            emails = {email for emails in addresses.values() for email in emails}
            blacklisted = set(self.env["mail.blacklist"].sudo().search([("email", "in", list(emails))]).mapped("email"))
        unreachable = defaultdict(lambda: self.browse())
        for communication in self:
            partner, recipient = communication.partner_id, communication.recipient_id
            emails = addresses.get(recipient, [])
            email = emails[0] if emails else False
            if partner.collection_optout_email:
                unreachable[_("The customer asked not to receive reminders by e-mail.")] |= communication
            elif not recipient.email:
                unreachable[_("%s has no e-mail address.", recipient.display_name)] |= communication
            elif not email:
                unreachable[_("The e-mail address %s is not valid.", recipient.email)] |= communication
            elif all(address in blacklisted for address in emails):
                unreachable[_("The e-mail address %s is blacklisted.", email)] |= communication
            elif not communication.level_id.mail_template_id:
                unreachable[_("The level has no e-mail template.")] |= communication
        failed = self._mark_failed_by_reason(unreachable)
        to_send = self - failed
        for template, communications in to_send.grouped(lambda c: c.level_id.mail_template_id).items():
            communications._send_email_with_template(template)

    def _send_email_with_template(self, template):
        """Render ``template`` for all communications at once and queue one e-mail each, posted
        in the customer's chatter."""
        rendered, bodies = self._render_email(template)
        author = self.env.user.partner_id
        # Replies go where Odoo sends replies about these customers (computed for all at once).
        reply_to_by_partner = self.partner_id.sudo()._notify_get_reply_to(
            default=self.company_id[:1].email_formatted or author.email_formatted
        )
        note = self.env.ref("mail.mt_note").id
        mail_values = []
        for communication in self:
            values = rendered[communication.id]
            body = bodies[communication.id]
            mail_values.append(
                {
                    "subject": values.get("subject"),
                    "body": body,
                    "body_html": body,
                    "email_from": values.get("email_from")
                    or communication.company_id.email_formatted
                    or author.email_formatted,
                    "reply_to": values.get("reply_to") or reply_to_by_partner.get(communication.partner_id.id),
                    "mail_server_id": values.get("mail_server_id"),
                    "scheduled_date": values.get("scheduled_date"),
                    "model": "res.partner",
                    "res_id": communication.partner_id.id,
                    "message_type": "email_outgoing",
                    "subtype_id": note,
                    "author_id": author.id,
                    "recipient_ids": [fields.Command.link(communication.recipient_id.id)],
                    "partner_ids": [fields.Command.link(communication.recipient_id.id)],
                    "attachment_ids": [fields.Command.link(aid) for aid in values.get("attachment_ids") or []],
                    "auto_delete": False,
                    "collection_communication_id": communication.id,
                }
            )
        mails = self.env["mail.mail"].sudo().create(mail_values)
        attachments = [rendered[c.id].get("attachments") for c in self]
        for mail, files in zip(mails, attachments):
            if files:
                mail.write(
                    {
                        "attachment_ids": [
                            fields.Command.create(
                                {
                                    "name": name,
                                    "datas": datas,
                                    "res_model": "mail.message",
                                    "res_id": mail.mail_message_id.id,
                                }
                            )
                            for name, datas in files
                        ]
                    }
                )
        self._collection_attach_documents(mails)
        self.write({"state": "queued"})

    def _render_email(self, template):
        """({id: rendered values}, {id: HTML body}) of ``template`` for these communications: what
        is sent, and what the level's preview shows."""
        # ``_ids``: a preview renders a communication that is not saved (a new record).
        rendered = template._generate_template(
            list(self._ids),
            (
                "subject",
                "email_from",
                "reply_to",
                "mail_server_id",
                "attachment_ids",
                "report_template_ids",
                "scheduled_date",
            ),
        )
        # A preview forces its language, as Odoo's template preview does.
        forced_lang = self.env.context.get("template_preview_lang")
        bodies = self.env["collection.fast"]._render_qweb_batch(
            template, self, lambda communication: forced_lang or communication.recipient_id.lang or self.env.lang
        )
        return rendered, bodies

    def _collection_attach_documents(self, mails):
        """Attach to the reminder e-mails ``mails`` (one per communication of ``self``, same order)
        the documents their level asks for: the PDF of each invoice listed and the statement of
        the instalments. Rendered once for the whole batch: every invoice once, the statements
        of all the communications together."""
        asking = [
            (communication, mail)
            for communication, mail in zip(self, mails)
            if communication.level_id.attach_invoices or communication.level_id.attach_statement
        ]
        if not asking:
            return
        # Trust boundary: the documents go to the customer the reminder is for, whoever sends it (the
        # engine, or a collector retrying, who may not print invoices nor write mail attachments).
        reports_sudo = self.env["ir.actions.report"].sudo()
        invoice_pdfs = {}
        invoices_sudo = self.browse([c.id for c, __ in asking if c.level_id.attach_invoices]).sudo().line_ids.move_id
        if invoices_sudo:
            invoice_report = reports_sudo._get_report("account.account_invoices")
            stored = invoices_sudo.filtered("invoice_pdf_report_id")
            for invoice in stored:
                invoice_pdfs[invoice.id] = (invoice.invoice_pdf_report_id.name, invoice.invoice_pdf_report_id.raw)
            to_render = invoices_sudo - stored
            for company, company_invoices in to_render.grouped("company_id").items():
                content, report_type = reports_sudo.with_company(company)._pre_render_qweb_pdf(
                    invoice_report.report_name, res_ids=company_invoices.ids
                )
                content_by_id = reports_sudo._get_splitted_report(invoice_report.report_name, content, report_type)
                for invoice in company_invoices:
                    invoice_pdfs[invoice.id] = (
                        invoice._get_invoice_report_filename(report=invoice_report),
                        content_by_id.get(invoice.id),
                    )
        statements = {}
        statement_ids = [c.id for c, __ in asking if c.level_id.attach_statement]
        if statement_ids:
            letter = reports_sudo._get_report("collections_management.action_report_collection_letter")
            content, report_type = reports_sudo._pre_render_qweb_pdf(letter.report_name, res_ids=statement_ids)
            statements = reports_sudo._get_splitted_report(letter.report_name, content, report_type)
        values = []
        owners = []
        for communication, mail in asking:
            level = communication.level_id
            files = []
            if level.attach_invoices:
                for invoice in communication.line_ids.move_id.sorted("id"):
                    name, raw = invoice_pdfs.get(invoice.id, (False, False))
                    if raw:
                        files.append((name, raw))
            if level.attach_statement and statements.get(communication.id):
                files.append(
                    (
                        _("Statement of account - %s.pdf", communication.partner_id.name),
                        statements[communication.id],
                    )
                )
            for name, raw in files:
                values.append(
                    {
                        "name": name,
                        "raw": raw,
                        "mimetype": "application/pdf",
                        "res_model": "mail.message",
                        "res_id": mail.mail_message_id.id,
                    }
                )
                owners.append(mail)
        attachments_sudo = self.env["ir.attachment"].sudo().create(values)
        by_mail = defaultdict(list)
        for mail, attachment in zip(owners, attachments_sudo):
            by_mail[mail].append(attachment.id)
        for mail, attachment_ids in by_mail.items():
            mail.write({"attachment_ids": [fields.Command.link(aid) for aid in attachment_ids]})

    # SMS ------------------------------------------------------------------

    def _send_sms(self):
        numbers = {}
        unreachable = defaultdict(lambda: self.browse())
        for communication in self:
            partner, recipient = communication.partner_id, communication.recipient_id
            number = recipient.phone_sanitized if recipient.phone else False
            if partner.collection_optout_sms:
                unreachable[_("The customer asked not to receive reminders by SMS.")] |= communication
            elif not recipient.phone:
                unreachable[_("%s has no phone number.", recipient.display_name)] |= communication
            elif not number:
                unreachable[_("The phone number %s is not valid.", recipient.phone)] |= communication
            elif recipient.collection_phone_wrong:
                unreachable[_("The phone number %s was reported as wrong.", recipient.phone)] |= communication
            elif recipient.phone_blacklisted:
                unreachable[_("The phone number %s is blacklisted.", number)] |= communication
            elif not communication.level_id.sms_template_id:
                unreachable[_("The level has no SMS template.")] |= communication
            else:
                numbers[communication.id] = number
        failed = self._mark_failed_by_reason(unreachable)
        to_send = self - failed
        note = self.env.ref("mail.mt_note").id
        for template, communications in to_send.grouped(lambda c: c.level_id.sms_template_id).items():
            bodies = template._render_field("body", communications.ids, compute_lang=True)
            author = self.env.user.partner_id
            messages = (
                self.env["mail.message"]
                .sudo()
                .create(
                    [
                        {
                            "model": "res.partner",
                            "res_id": communication.partner_id.id,
                            "message_type": "sms",
                            "subtype_id": note,
                            "author_id": author.id,
                            "body": bodies[communication.id],
                            "reply_to": False,
                            "collection_communication_id": communication.id,
                        }
                        for communication in communications
                    ]
                )
            )
            self.env["sms.sms"].sudo().create(
                [
                    {
                        "number": numbers[communication.id],
                        "body": bodies[communication.id],
                        "partner_id": communication.recipient_id.id,
                        "mail_message_id": message.id,
                    }
                    for communication, message in zip(communications, messages)
                ]
            )
            communications.state = "queued"

    # Letter ---------------------------------------------------------------

    def _send_letter(self):
        """Letters wait in the queue until someone prints them (see action_print_letters)."""
        failed = self._mark_failed_by_reason(
            {
                _("The customer asked not to receive reminders by letter."): self.filtered(
                    lambda c: c.partner_id.collection_optout_letter
                ),
                _("The customer has no postal address to send a letter to."): self.filtered(
                    lambda c: (
                        not c.partner_id.collection_optout_letter
                        and not (c.recipient_id.street and c.recipient_id.city)
                    )
                ),
            }
        )
        letters = self - failed
        letters.write({"state": "queued"})
        letters._log_in_customer_chatter(
            {
                letter.id: Markup("<p>%s</p>")
                % self.env._(
                    "Reminder letter %(level)s queued for printing, to %(recipient)s.",
                    level=letter.level_id.name or letter.subject or "",
                    recipient=letter.recipient_id.display_name,
                )
                for letter in letters
            }
        )

    def _log_in_customer_chatter(self, bodies):
        """One note per communication in its customer's chatter (``bodies``: {id: Markup}, with
        every inserted value escaped), linked to the communication, as e-mails and SMS are."""
        if not self:
            return
        self.env["collection.fast"]._log_notes(
            {communication.id: communication.partner_id for communication in self},
            bodies,
            {communication.id: {"collection_communication_id": communication.id} for communication in self},
        )

    def action_print_letters(self):
        letters = self.filtered(lambda c: c.channel == "letter" and c.state in ("queued", "done"))
        if not letters:
            return False
        report = letters[0].level_id.letter_report_id or self.env.ref(
            "collections_management.action_report_collection_letter"
        )
        # Printing is what makes a queued letter done: collectors only read communications, so
        # the state is written by Collections once the letters are known readable.
        letters.check_access("read")
        letters_sudo = letters.sudo()
        letters_sudo.filtered(lambda c: c.state == "queued").write({"state": "done"})
        return report.report_action(letters)

    # Call task ------------------------------------------------------------

    def _send_call(self):
        """Call tasks: the customer's case keeps one open call task, given to a person (see
        ``collection.case._collection_schedule_calls``); each leaves a note in the chatter."""
        self.env["collection.case"]._collection_schedule_calls(self)
        self.write({"state": "queued"})
        self._log_in_customer_chatter(
            {
                call.id: Markup("<p>%s</p>")
                % self.env._(
                    "Call task for %(user)s: %(level)s.",
                    user=call.activity_ids[:1].user_id.name or "",
                    level=call.level_id.name or call.subject or "",
                )
                + (Markup("<p>%s</p>") % call.note if call.note else "")
                for call in self
            }
        )

    def _get_task_note(self):
        """The HTML note of this communication's task: its (escaped) note."""
        self.ensure_one()
        return Markup("<p>%s</p>") % escape(self.note) if self.note else ""

    # ------------------------------------------------------------------
    # Delivery feedback
    # ------------------------------------------------------------------

    def _update_from_mail(self, mails, success, failure_reason=False, failure_type=False):
        """The e-mails ``mails`` were handed to the mail server (``success``) or failed: their
        communications are sent, or failed with the transport's own reason (the type of failure
        and the server's error, e.g. a refused connection), falling back once for all of them."""
        communications = mails.mail_message_id.collection_communication_id
        if not communications:
            return
        if success:
            communications.filtered(lambda c: c.state == "queued").write({"state": "sent"})
            return
        failed_by_reason = defaultdict(lambda: self.browse())
        for mail in mails:
            failing = mail.mail_message_id.collection_communication_id.filtered(lambda c: c.state in ("queued", "sent"))
            if failing:
                failed_by_reason[mail._collection_failure_reason(failure_reason, failure_type)] |= failing
        self._mark_failed_by_reason(failed_by_reason)

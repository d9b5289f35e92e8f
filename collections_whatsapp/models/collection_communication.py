import logging
import mimetypes
from collections import defaultdict
from datetime import datetime, timedelta, timezone

from markupsafe import Markup
from psycopg2.errors import UniqueViolation

from odoo import _, api, fields, models
from odoo.exceptions import UserError
from odoo.fields import Domain
from odoo.tools import plaintext2html

from ..tools import WhatsAppApiError
from .collection_whatsapp_message import _MediaRefused, _WhatsAppSkip

_logger = logging.getLogger(__name__)

WINDOW = timedelta(hours=24)
# A proof of payment is expected this long after the customer pressed "I already paid".
PROOF_WAIT = timedelta(days=7)
MEDIA_ATTEMPTS = 5
# Order of delivery states: a status never moves a communication back.
STATUS_RANK = {"queued": 0, "sent": 1, "delivered": 2, "read": 3}
# Files customers send: downloaded through the media endpoint (stickers are only shown as a tag).
MEDIA_KINDS = ("image", "document", "audio", "video")
# Messages that never give the collector a task.
NOISE_KINDS = ("sticker", "reaction")


class CollectionCommunication(models.Model):
    _inherit = "collection.communication"

    channel = fields.Selection(
        selection_add=[("whatsapp", "WhatsApp")], ondelete={"whatsapp": lambda recs: recs.write({"channel": "note"})}
    )
    whatsapp_account_id = fields.Many2one(
        "collection.whatsapp.account", string="WhatsApp Account", index="btree_not_null", ondelete="set null"
    )
    whatsapp_template_id = fields.Many2one(
        "collection.whatsapp.template", string="WhatsApp Template", ondelete="set null"
    )
    whatsapp_number = fields.Char(string="WhatsApp Number", help="The customer's number in E.164 format.")
    whatsapp_text = fields.Text(string="WhatsApp Text", help="Free text sent instead of a template (replies).")
    whatsapp_error_code = fields.Integer(string="Meta Error Code", readonly=True)
    whatsapp_error_title = fields.Char(string="Meta Error", readonly=True)
    whatsapp_sent_date = fields.Datetime(string="Sent to Meta On", readonly=True)
    whatsapp_delivered_date = fields.Datetime(string="Delivered On", readonly=True)
    whatsapp_read_date = fields.Datetime(string="Read On", readonly=True)
    whatsapp_message_id = fields.Many2one(
        "collection.whatsapp.message",
        string="WhatsApp Message",
        readonly=True,
        copy=False,
        index="btree_not_null",
        help="The message handed to Meta for this communication (its transport).",
    )
    whatsapp_message_ids = fields.One2many(
        "collection.whatsapp.message", "communication_id", string="WhatsApp Messages", readonly=True
    )
    whatsapp_sending = fields.Boolean(
        compute="_compute_whatsapp_sending",
        inverse="_inverse_whatsapp_sending",
        string="Being Sent",
        help="Technical: set while the queue hands the message to Meta; left set only by a crash.",
    )
    whatsapp_reaction = fields.Char(
        string="Reaction", readonly=True, help="The emoji the customer reacted with on WhatsApp."
    )
    # A file the customer sent: downloaded after the message is logged, retried until it is.
    whatsapp_media_id = fields.Char(string="Media ID", readonly=True, copy=False)
    whatsapp_media_name = fields.Char(string="File Name", readonly=True, copy=False)
    whatsapp_media_state = fields.Selection(
        [
            ("pending", "To Download"),
            ("done", "Downloaded"),
            ("failed", "Download Failed"),
            ("refused", "Refused"),
        ],
        string="File",
        readonly=True,
        copy=False,
        index="btree_not_null",
    )
    whatsapp_media_attempts = fields.Integer(string="Download Attempts", readonly=True, copy=False)
    whatsapp_media_error = fields.Char(string="Download Error", readonly=True, copy=False)
    whatsapp_attachment_ids = fields.One2many(
        "ir.attachment",
        "res_id",
        string="WhatsApp Files",
        domain=[("res_model", "=", "collection.communication")],
        readonly=True,
    )

    # Meta delivers a webhook notification again when it does not get its answer in time, and may
    # deliver the retries at the same moment: the database, not a search, makes sure a message is
    # recorded once. Meta's message ids (wamid) are unique; a message we sent and one we received
    # never share one, and the direction keeps them apart anyway.
    _unique_external_id = models.UniqueIndex(
        "(external_id, direction) WHERE external_id IS NOT NULL",
        "This message from the provider is already recorded.",
    )

    @api.depends("whatsapp_message_id.sending")
    def _compute_whatsapp_sending(self):
        for communication in self:
            communication.whatsapp_sending = communication.whatsapp_message_id.sending

    def _inverse_whatsapp_sending(self):
        for communication in self.filtered("whatsapp_message_id"):
            communication.whatsapp_message_id.sudo().sending = communication.whatsapp_sending

    def _collection_retry_channels(self):
        return [*super()._collection_retry_channels(), "whatsapp"]

    def _collection_retry_values(self):
        """A retried WhatsApp message goes to the contact's current number, with a new transport
        message; Meta's error of the failed one is cleared."""
        values = super()._collection_retry_values()
        if self.channel == "whatsapp":
            values.update({"whatsapp_error_code": 0, "whatsapp_error_title": False, "external_id": False})
        return values

    # ------------------------------------------------------------------
    # Engine hook: validate and queue
    # ------------------------------------------------------------------

    def _whatsapp_recipient_number(self):
        """(raw number, E.164 number or False) of the contact reminded, in the contact's country."""
        self.ensure_one()
        recipient, partner = self.recipient_id or self.partner_id, self.partner_id
        raw = recipient.phone or partner.phone
        if not raw:
            return False, False
        country = recipient.country_id or partner.country_id or self.company_id.country_id
        return raw, recipient._phone_format(number=raw, country=country, force_format="E164")

    def _whatsapp_unreachable_reason(self, template, number_info, optouts=None):
        """Why WhatsApp cannot reach the customer of this communication, or False.
        ``optouts``: {E.164 number: opt-out} of the numbers concerned (searched when omitted)."""
        self.ensure_one()
        partner, recipient = self.partner_id, self.recipient_id or self.partner_id
        if partner.whatsapp_optout or recipient.whatsapp_optout:
            return _("The customer asked not to receive reminders by WhatsApp.")
        if optouts is None:
            optouts = self.env["collection.whatsapp.optout"]._optout_numbers([number_info[1]])
        if number_info[1] and number_info[1] in optouts:
            return optouts[number_info[1]]._reason()
        if not template:
            return _("The level has no approved WhatsApp template.")
        reason = template._check_sendable()
        if reason:
            return reason
        raw, number = number_info
        if not raw:
            return _("%s has no mobile number for WhatsApp.", recipient.display_name)
        if not number:
            country = recipient.country_id or partner.country_id or self.company_id.country_id
            return _(
                "The phone number %(number)s is not a valid number in %(country)s.",
                number=raw,
                country=country.name or _("any country"),
            )
        if template.account_id.require_optin and not (partner.whatsapp_optin or recipient.whatsapp_optin):
            return _("%s has not agreed to receive WhatsApp messages (no opt-in).", partner.display_name)
        return False

    def _send_whatsapp(self):
        """Check each communication can go out on WhatsApp and queue it; the queue's scheduled
        action sends them (``_cron_send_whatsapp_queue``). Unreachable customers fall back."""
        unreachable = defaultdict(lambda: self.browse())
        queued = []
        variants = {}
        numbers = {communication: communication._whatsapp_recipient_number() for communication in self}
        optouts = self.env["collection.whatsapp.optout"]._optout_numbers([info[1] for info in numbers.values()])
        for communication in self:
            template = communication.whatsapp_template_id or communication.level_id.whatsapp_template_id
            if template:
                lang = communication.recipient_id.lang or communication.partner_id.lang
                if (template, lang) not in variants:
                    variants[template, lang] = template.sudo()._for_lang(lang)
                template = variants[template, lang]
            number_info = numbers[communication]
            reason = communication._whatsapp_unreachable_reason(template, number_info, optouts)
            if reason:
                unreachable[reason] |= communication
                continue
            queued.append((communication, template, number_info[1]))
        self._mark_failed_by_reason(unreachable)
        if queued:
            templates = {communication.id: template for communication, template, __ in queued}
            to_queue = self.browse(list(templates))
            # The customer's number differs for each one: one UPDATE for all of them.
            self.env["collection.fast"]._write_rows(
                to_queue, {communication.id: {"whatsapp_number": number} for communication, __, number in queued}
            )
            for template, communications in to_queue.grouped(lambda c: templates[c.id]).items():
                communications.write(
                    {
                        "state": "queued",
                        "whatsapp_template_id": template.id,
                        "whatsapp_account_id": template.account_id.id,
                    }
                )
            self.env["collection.whatsapp.message"].sudo()._enqueue(to_queue)

    # ------------------------------------------------------------------
    # The queue: collection.whatsapp.message is the transport
    # ------------------------------------------------------------------

    @api.model
    def _cron_send_whatsapp_queue(self, limit=None):
        """Send queued WhatsApp messages (the queue's scheduled action)."""
        return self.env["collection.whatsapp.message"]._send_queue(limit=limit)

    def _whatsapp_record_failed(self, failures):
        """Mark [(communication, reason, transport message)] failed with Meta's error, one write
        per distinct error and reason, then fall back once for all the customers Meta surely did
        not reach (not when the outcome is uncertain: the message may have arrived)."""
        if not failures:
            return
        errors, certain, uncertain = {}, defaultdict(list), defaultdict(list)
        for communication, reason, message in failures:
            errors[communication.id] = (message.error_code or 0, message.error_title or False)
            (uncertain if message.state == "uncertain" else certain)[reason].append(communication.id)
        failed = self.browse(list(errors))
        for (code, title), communications in failed.grouped(lambda c: errors[c.id]).items():
            communications.write({"whatsapp_error_code": code, "whatsapp_error_title": title})
        for reason, ids in uncertain.items():
            self.browse(ids)._mark_failed(reason, fallback=False)
        self._mark_failed_by_reason({reason: self.browse(ids) for reason, ids in certain.items()})

    def _whatsapp_prepare(self, account, optouts):
        """(payload, text as the customer reads it) of a queued communication. ``optouts``:
        {number: opt-out} of the batch's numbers."""
        self.ensure_one()
        reference = f"collection.communication:{self.id}"
        if self.whatsapp_text:
            return account._text_payload(self.whatsapp_number, self.whatsapp_text, reference), self.whatsapp_text
        # The customer (or whoever has the number) may have opted out since the message was queued.
        if self.partner_id.whatsapp_optout or self.recipient_id.whatsapp_optout:
            raise _WhatsAppSkip(_("The customer asked not to receive reminders by WhatsApp."))
        if self.whatsapp_number in optouts:
            raise _WhatsAppSkip(optouts[self.whatsapp_number]._reason())
        template = self.whatsapp_template_id
        if not template:
            raise _WhatsAppSkip(_("The level has no approved WhatsApp template."))
        reason = template._check_sendable()
        if reason:
            raise _WhatsAppSkip(reason)
        parameters = template._get_parameters(self)
        return account._template_payload(self.whatsapp_number, template, parameters, reference), template._render(
            parameters
        )

    def _whatsapp_record_sent(self, successes):
        if not successes:
            return
        now = fields.Datetime.now()
        author = self.env.user.partner_id
        note = self.env.ref("mail.mt_note").id
        # Computed once for the batch: mail.message would otherwise search for each message.
        partners = self.env["res.partner"].browse({c.partner_id.id for c, __, __ in successes})
        email_from = author.email_formatted
        reply_to = partners.sudo()._notify_get_reply_to(default=email_from, author_id=author.id)
        self.env["mail.message"].sudo().create(
            [
                {
                    "model": "res.partner",
                    "res_id": communication.partner_id.id,
                    "message_type": "comment",
                    "subtype_id": note,
                    "author_id": author.id,
                    "email_from": email_from,
                    "reply_to": reply_to.get(communication.partner_id.id) or email_from,
                    "body": Markup("<p><b>%s</b></p>%s")
                    % (self.env._("WhatsApp to %s", communication.whatsapp_number), plaintext2html(body)),
                    "collection_communication_id": communication.id,
                }
                for communication, __, body in successes
            ]
        )
        sent = self.browse([communication.id for communication, __, __ in successes])
        # Meta's message id and the text differ for each message: one UPDATE for all of them.
        self.env["collection.fast"]._write_rows(
            sent,
            {
                communication.id: {"external_id": message_id, "body": plaintext2html(body)}
                for communication, message_id, body in successes
            },
        )
        sent.write({"state": "sent", "whatsapp_sent_date": now})

    # ------------------------------------------------------------------
    # Webhook: statuses
    # ------------------------------------------------------------------

    @api.model
    def _whatsapp_process_statuses(self, account, statuses):
        """Move communications through sent, delivered, read or failed. Unknown message ids,
        repeated and late (out of order) statuses change nothing."""
        statuses = [s for s in statuses if isinstance(s, dict) and s.get("id") and s.get("status")]
        if not statuses:
            return self.browse()
        communications = self.search(
            [
                ("external_id", "in", list({str(s["id"]) for s in statuses})),
                ("channel", "=", "whatsapp"),
                ("direction", "=", "outbound"),
                # Only the account's own messages; one whose account was deleted still gets its statuses.
                ("whatsapp_account_id", "in", [account.id, False]),
            ]
        )
        by_external_id = {c.external_id: c for c in communications}
        # The transport hears from Meta first, then tells its communication.
        messages = self.env["collection.whatsapp.message"].search(
            [("wamid", "in", list({str(s["id"]) for s in statuses})), ("account_id", "=", account.id)]
        )
        by_wamid = {m.wamid: m for m in messages}
        changed = self.browse()
        for status in sorted(statuses, key=lambda s: str(s.get("timestamp") or "")):
            message = by_wamid.get(str(status["id"]))
            if message:
                message._apply_status(status)
            communication = by_external_id.get(str(status["id"])) or (message and message.communication_id)
            if not communication:
                _logger.info("WhatsApp status %s for unknown message %s ignored", status["status"], status["id"])
                continue
            changed |= communication._whatsapp_apply_status(account, status)
        return changed

    def _whatsapp_apply_status(self, account, status):
        self.ensure_one()
        new = status["status"]
        moment = _timestamp(status.get("timestamp"))
        if new in ("sent", "delivered", "read"):
            if self.state not in STATUS_RANK or STATUS_RANK[self.state] >= STATUS_RANK[new]:
                return self.browse()
            values = {"state": new}
            if new in ("delivered", "read") and not self.whatsapp_delivered_date:
                values["whatsapp_delivered_date"] = moment
            if new == "read":
                values["whatsapp_read_date"] = moment
            self.write(values)
            return self
        if new == "failed":
            if self.state not in ("queued", "sent"):
                return self.browse()
            errors = status.get("errors") or [{}]
            error = errors[0] if isinstance(errors[0], dict) else {}
            details = (
                (error.get("error_data") or {}).get("details") if isinstance(error.get("error_data"), dict) else None
            )
            api_error = WhatsAppApiError(
                error.get("message") or error.get("title") or "failed",
                code=_int(error.get("code")),
                title=error.get("title") or error.get("message"),
                details=details,
            )
            self.write({"whatsapp_error_code": api_error.code or 0, "whatsapp_error_title": api_error.title})
            self._mark_failed(account._error_message(api_error))
            return self
        return self.browse()

    # ------------------------------------------------------------------
    # Webhook: inbound messages
    # ------------------------------------------------------------------

    @api.model
    def _whatsapp_number_candidates(self, wa_id):
        """E.164 numbers a WhatsApp id may be stored as (Mexican mobiles carry an extra 1)."""
        digits = "".join(ch for ch in str(wa_id or "") if ch.isdigit())
        if not digits:
            return []
        candidates = [f"+{digits}"]
        if digits.startswith("521") and len(digits) == 13:
            candidates.append(f"+52{digits[3:]}")
        return candidates

    @api.model
    def _whatsapp_find_contact(self, account, candidates, user_id=None):
        """The contact a number (or, without a number, a business-scoped user id) belongs to:
        the last one we wrote to on WhatsApp at that number, else a contact of the company's
        customers with that phone, else the contact already seen with that user id."""
        if candidates:
            last = self.search(
                [
                    ("whatsapp_number", "in", candidates),
                    ("channel", "=", "whatsapp"),
                    ("company_id", "=", account.company_id.id),
                ],
                order="id desc",
                limit=1,
            )
            if last:
                return last.recipient_id or last.partner_id
            partners = (
                self.env["res.partner"]
                .sudo()
                .search(
                    [("phone_sanitized", "in", candidates), ("company_id", "in", [False, account.company_id.id])],
                    order="id",
                )
            )
            with_case = partners.filtered(
                lambda p: p.commercial_partner_id.collection_case_ids.filtered(
                    lambda case: case.company_id == account.company_id
                )
            )
            if partners:
                return (with_case or partners)[:1]
        if user_id:
            return (
                self.env["res.partner"]
                .sudo()
                .search(
                    [("whatsapp_user_id", "=", user_id), ("company_id", "in", [False, account.company_id.id])],
                    order="id",
                    limit=1,
                )
            )
        return self.env["res.partner"]

    @api.model
    def _whatsapp_process_inbound(self, account, messages, contacts):
        """Log customers' messages: an inbound communication, a post in the case chatter (or on the
        customer), the 24-hour window, the collector notified; keywords opt the number out or in,
        template buttons do what they are mapped to. Reactions only mark the message they react
        to; ``system`` events update the customer's number."""
        contacts = [c for c in contacts if isinstance(c, dict)]
        names = {c.get("wa_id") or c.get("user_id"): (c.get("profile") or {}).get("name") for c in contacts}
        numbers_by_user = {c["user_id"]: c["wa_id"] for c in contacts if c.get("user_id") and c.get("wa_id")}
        messages = [m for m in messages if isinstance(m, dict) and m.get("id")]
        known = self._whatsapp_known_inbound([str(m["id"]) for m in messages])
        created = self.browse()
        for message in messages:
            if str(message["id"]) in known:
                continue
            known.add(str(message["id"]))
            if message.get("type") == "reaction":
                self._whatsapp_apply_reaction(account, message)
                continue
            user_id = str(message.get("from_user_id") or message.get("user_id") or "") or None
            wa_id = message.get("from") or numbers_by_user.get(user_id)
            candidates = self._whatsapp_number_candidates(wa_id)
            contact = self._whatsapp_find_contact(account, candidates, user_id)
            if not contact:
                if wa_id:
                    _logger.info("WhatsApp message from unknown number %s ignored", wa_id)
                else:
                    _logger.warning(
                        "WhatsApp message %s from user id %s (no phone number) matches no customer: not recorded",
                        message["id"],
                        user_id,
                    )
                continue
            if user_id and contact.whatsapp_user_id != user_id:
                contact.sudo().whatsapp_user_id = user_id
            if not candidates and contact.phone_sanitized:
                candidates = [contact.phone_sanitized]
            if message.get("type") == "system":
                self._whatsapp_apply_system(account, message, contact, candidates)
                continue
            created |= self._whatsapp_log_inbound(
                account, message, contact, candidates, names.get(wa_id) or names.get(user_id)
            )
        return created

    @api.model
    def _whatsapp_known_inbound(self, message_ids):
        """The ids among ``message_ids`` of messages already recorded (a quick check; a delivery
        handled at the same moment is only seen by the unique index, on insert)."""
        if not message_ids:
            return set()
        return set(
            self.search([("external_id", "in", message_ids), ("direction", "=", "inbound")]).mapped("external_id")
        )

    @api.model
    def _whatsapp_create_inbound(self, values):
        """Create the inbound communication, or nothing when it is already recorded: another
        delivery of the same notification, handled at the same moment, got there first (the
        unique index makes this one wait for it, then refuses the duplicate)."""
        try:
            with self.env.cr.savepoint():
                return self.create(values)
        except UniqueViolation as error:
            if error.diag.constraint_name != self._unique_external_id.full_name(self):
                raise
            _logger.info("WhatsApp message %s already recorded: duplicate delivery ignored", values["external_id"])
            return self.browse()

    @api.model
    def _whatsapp_message_text(self, message):
        """What the customer sent, as text a collector reads (locations and shared contacts
        included)."""
        kind = message.get("type")
        content = message.get(kind) if isinstance(message.get(kind), dict) else {}
        if kind == "text":
            return str(content.get("body") or "")
        if kind == "button":
            return str(content.get("text") or content.get("payload") or "")
        if kind == "interactive":
            reply = content.get("button_reply") or content.get("list_reply") or {}
            return str(reply.get("title") or "") if isinstance(reply, dict) else ""
        if kind == "location":
            latitude, longitude = content.get("latitude"), content.get("longitude")
            parts = [str(content.get(key)) for key in ("name", "address") if content.get(key)]
            if latitude is not None and longitude is not None:
                parts.append(f"{latitude}, {longitude}")
                parts.append(f"https://www.openstreetmap.org/?mlat={latitude}&mlon={longitude}")
            return _("[location] %s", " — ".join(parts))
        if kind == "contacts":
            shared = message.get("contacts") if isinstance(message.get("contacts"), list) else []
            lines = []
            for card in shared:
                if not isinstance(card, dict):
                    continue
                name = card.get("name") if isinstance(card.get("name"), dict) else {}
                details = [str(name.get("formatted_name") or name.get("first_name") or "")]
                details += [
                    str(p.get("phone")) for p in card.get("phones") or [] if isinstance(p, dict) and p.get("phone")
                ]
                details += [
                    str(e.get("email")) for e in card.get("emails") or [] if isinstance(e, dict) and e.get("email")
                ]
                lines.append(", ".join(d for d in details if d))
            return _("[contact] %s", "; ".join(lines))
        if kind == "unsupported":
            return _("[a message WhatsApp does not support]")
        caption = content.get("caption") or content.get("filename") or ""
        return f"[{kind}] {caption}".strip()

    @api.model
    def _whatsapp_case(self, partner, company):
        return (
            self.env["collection.case"]
            .sudo()
            .search([("partner_id", "=", partner.id), ("company_id", "=", company.id)], limit=1)
        )

    @api.model
    def _whatsapp_log_inbound(self, account, message, contact, candidates, profile_name):
        partner = contact.commercial_partner_id
        company = account.company_id
        kind = message.get("type")
        text = self._whatsapp_message_text(message)
        moment = _timestamp(message.get("timestamp"))
        number = next((c for c in candidates if c == contact.phone_sanitized), candidates[0] if candidates else False)
        case = self._whatsapp_case(partner, company)
        content = message.get(kind) if isinstance(message.get(kind), dict) else {}
        values = {
            "subject": _("WhatsApp message from %s", profile_name or contact.display_name),
            "date": moment,
            "company_id": company.id,
            "partner_id": partner.id,
            "recipient_id": contact.id,
            "user_id": case.user_id.id,
            "direction": "inbound",
            "channel": "whatsapp",
            "state": "done",
            "external_id": str(message["id"]),
            "whatsapp_account_id": account.id,
            "whatsapp_number": number,
            "body": plaintext2html(text),
        }
        if kind in MEDIA_KINDS and content.get("id"):
            values.update(
                {
                    "whatsapp_media_id": str(content["id"]),
                    "whatsapp_media_state": "pending",
                    "whatsapp_media_name": content.get("filename"),
                }
            )
        communication = self._whatsapp_create_inbound(values)
        if not communication:
            return communication
        window_values = {"whatsapp_last_inbound_date": moment}
        if number:
            window_values["whatsapp_last_inbound_number"] = number
        (partner | contact).sudo().write(window_values)
        target = case or partner
        collector = case.user_id
        noise = kind in NOISE_KINDS
        body = Markup("<p><b>%s</b></p>%s") % (
            _("WhatsApp from %s", number or profile_name or contact.display_name),
            plaintext2html(text),
        )
        target.with_context(mail_create_nosubscribe=True).message_post(
            body=body,
            author_id=contact.id,
            message_type="comment",
            subtype_xmlid="mail.mt_comment",
            partner_ids=[] if noise else collector.partner_id.ids,
        )
        if communication.whatsapp_media_id:
            self.env.ref("collections_whatsapp.ir_cron_collection_whatsapp_media").sudo()._trigger()
        handled = communication._whatsapp_apply_button(account, message, contact, number, case)
        if collector and case and not noise and not handled:
            summary = _("Reply to %s on WhatsApp", partner.display_name)
            activity = case.activity_ids.filtered(lambda a: a.user_id == collector and a.summary == summary)[:1]
            if activity:
                # The open to-do shows every message that is waiting for an answer.
                activity.note = (activity.note or Markup()) + plaintext2html(text)
            else:
                case.activity_schedule(
                    "mail.mail_activity_data_todo", user_id=collector.id, summary=summary, note=plaintext2html(text)
                )
        action = account._keyword_action(text) if kind in ("text", "button", "interactive") else False
        if action and number:
            self._whatsapp_apply_keyword(account, action, partner | contact, number, contact, case)
        return communication

    @api.model
    def _whatsapp_partner_env(self, partner):
        """This model in the language of ``partner`` (notes and replies the customer reads)."""
        return self.with_context(lang=partner.lang or self.env.lang)

    @api.model
    def _whatsapp_note(self, partner, case, body):
        """A system note on the case (or the customer)."""
        (case or partner.commercial_partner_id).message_post(
            body=body, message_type="notification", subtype_xmlid="mail.mt_note"
        )

    @api.model
    def _whatsapp_queue_text(self, account, contact, number, text, subject):
        """Queue a free-text message to ``contact`` (the 24-hour window is open: they just wrote)."""
        reply = self.create(
            {
                "subject": subject,
                "company_id": account.company_id.id,
                "partner_id": contact.commercial_partner_id.id,
                "recipient_id": contact.id,
                "channel": "whatsapp",
                "state": "queued",
                "whatsapp_account_id": account.id,
                "whatsapp_number": number,
                "whatsapp_text": text,
            }
        )
        self.env["collection.whatsapp.message"].sudo()._enqueue(reply)
        return reply

    @api.model
    def _whatsapp_apply_keyword(self, account, action, partners, number, contact, case):
        now = fields.Datetime.now()
        env = self._whatsapp_partner_env(contact.commercial_partner_id).env
        company = account.company_id.name
        Optout = self.env["collection.whatsapp.optout"]
        if action == "optout":
            Optout._opt_out([number], source="keyword", partner=contact)
            partners.sudo().write(
                {"whatsapp_optout": True, "whatsapp_optout_date": now, "whatsapp_optout_source": "keyword"}
            )
            reply = env._(
                "You will no longer receive payment reminders from %(company)s on WhatsApp. "
                "Reply START to receive them again.",
                company=company,
            )
            note = env._("The customer opted out of WhatsApp reminders by writing a keyword.")
        else:
            Optout._opt_in([number])
            partners.sudo().write(
                {
                    "whatsapp_optout": False,
                    "whatsapp_optin": True,
                    "whatsapp_optin_date": now,
                    "whatsapp_optin_source": "keyword",
                }
            )
            reply = env._("You will receive payment reminders from %(company)s on WhatsApp again.", company=company)
            note = env._("The customer opted in to WhatsApp reminders by writing a keyword.")
        self._whatsapp_note(partners[:1], case, note)
        return self._whatsapp_queue_text(account, contact, number, reply, _("WhatsApp confirmation"))

    # Reactions, system events, buttons -----------------------------------------------------------

    @api.model
    def _whatsapp_apply_reaction(self, account, message):
        """A reaction (or its removal, an empty emoji) is shown on the message it reacts to;
        it is not a message of its own: no communication, no post, no task."""
        reaction = message.get("reaction") if isinstance(message.get("reaction"), dict) else {}
        target_id = reaction.get("message_id")
        if not target_id:
            return self.browse()
        target = self.search(
            [
                ("external_id", "=", str(target_id)),
                ("channel", "=", "whatsapp"),
                ("whatsapp_account_id", "in", [account.id, False]),
            ],
            limit=1,
        )
        if target:
            target.whatsapp_reaction = reaction.get("emoji") or False
        return target

    @api.model
    def _whatsapp_apply_system(self, account, message, contact, candidates):
        """``system`` events: the customer changed their number (the new one replaces the old
        on the contact and keeps its opt-out state), or another change Meta tells about. Logged
        as system notes, never as something the customer wrote."""
        system = message.get("system") if isinstance(message.get("system"), dict) else {}
        partner = contact.commercial_partner_id
        case = self._whatsapp_case(partner, account.company_id)
        env = self._whatsapp_partner_env(partner).env
        new_wa_id = system.get("new_wa_id") or system.get("wa_id")
        if system.get("type") in ("user_changed_number", "customer_changed_number") and new_wa_id:
            old_number = contact.phone_sanitized or (candidates[0] if candidates else False)
            # The last candidate is the number as E.164 writes it (Mexican mobiles lose the 1).
            new_number = self._whatsapp_number_candidates(new_wa_id)[-1]
            Optout = self.env["collection.whatsapp.optout"]
            old_optout = Optout._optout_numbers([old_number]).get(old_number)
            contact.sudo().write({"phone": new_number})
            if old_optout:
                Optout._opt_out([new_number], source=old_optout.source, partner=contact)
            for holder in (partner | contact).filtered(lambda p: p.whatsapp_last_inbound_number == old_number):
                holder.sudo().whatsapp_last_inbound_number = new_number
            body = env._(
                "WhatsApp: %(contact)s changed their number from %(old)s to %(new)s; "
                "the contact now has the new number.",
                contact=contact.display_name,
                old=old_number or "?",
                new=new_number,
            )
        else:
            body = env._(
                "WhatsApp notice about %(contact)s: %(text)s",
                contact=contact.display_name,
                text=str(system.get("body") or system.get("type") or ""),
            )
        self._whatsapp_note(partner, case, body)
        return True

    def _whatsapp_apply_button(self, account, message, contact, number, case):
        """Do what a template's quick-reply button is mapped to. Returns whether it was one."""
        self.ensure_one()
        kind = message.get("type")
        content = message.get(kind) if isinstance(message.get(kind), dict) else {}
        if kind == "button":
            payload, label = content.get("payload"), content.get("text")
        elif kind == "interactive" and isinstance(content.get("button_reply"), dict):
            payload, label = content["button_reply"].get("id"), content["button_reply"].get("title")
        else:
            return False
        context = message.get("context") if isinstance(message.get("context"), dict) else {}
        replied_to = context.get("id") and self.search(
            [("external_id", "=", str(context["id"])), ("direction", "=", "outbound")], limit=1
        )
        button = self.env["collection.whatsapp.button"]._match(
            account, replied_to.whatsapp_template_id if replied_to else None, payload, label
        )
        if not button or button.action == "none":
            return False
        return button._apply(self, contact, number, case, replied_to=replied_to or None)

    # ------------------------------------------------------------------
    # Files customers send
    # ------------------------------------------------------------------

    @api.model
    def _cron_whatsapp_download_media(self, limit=50):
        """Download the files customers sent that are not downloaded yet (a failed try is
        retried by a later run, up to MEDIA_ATTEMPTS times; the message itself is never lost)."""
        pending = self.sudo().search([("whatsapp_media_state", "=", "pending")], order="id", limit=limit)
        for communication in pending:
            communication._whatsapp_download_media()
            if self.env["collection.whatsapp.message"]._auto_commit():
                self.env["ir.cron"]._commit_progress(1)
        if pending and self.sudo().search_count([("whatsapp_media_state", "=", "pending")], limit=1):
            self.env.ref("collections_whatsapp.ir_cron_collection_whatsapp_media").sudo()._trigger(
                fields.Datetime.now() + timedelta(minutes=5)
            )
        return pending

    def _whatsapp_download_media(self):
        """Fetch this message's file from the media endpoint with the account's token, check its
        size and type, attach it to the communication and show it in the case's chatter."""
        self.ensure_one()
        account = self.whatsapp_account_id.sudo()
        try:
            if not account:
                raise _MediaRefused(_("The WhatsApp account of the message no longer exists."))
            with account._get_client() as client:
                info = client.get_media(self.whatsapp_media_id)
                declared = str(info.get("mime_type") or "").split(";")[0].strip().lower()
                account._check_media(declared, info.get("file_size"))
                content, __ = client.download(info["url"], account._media_max_bytes())
            account._check_media(declared, len(content), content)
        except _MediaRefused as refused:
            self._whatsapp_media_failed("refused", refused.reason)
            return False
        except WhatsAppApiError as error:
            if error.kind == "too_large":
                self._whatsapp_media_failed("refused", account._media_too_large_message())
                return False
            attempts = self.whatsapp_media_attempts + 1
            retry = error.retryable or error.kind in ("timeout", "connection") or (error.http_status or 0) >= 500
            if retry and attempts < MEDIA_ATTEMPTS:
                self.write({"whatsapp_media_attempts": attempts, "whatsapp_media_error": str(error)[:200]})
                return False
            self.whatsapp_media_attempts = attempts
            self._whatsapp_media_failed("failed", account._error_message(error))
            return False
        name = self.whatsapp_media_name or self._whatsapp_media_filename(declared)
        attachment = (
            self.env["ir.attachment"]
            .sudo()
            .create(
                {
                    "name": name,
                    "raw": content,
                    "mimetype": declared,
                    "res_model": self._name,
                    "res_id": self.id,
                    "company_id": self.company_id.id,
                }
            )
        )
        self.write(
            {
                "whatsapp_media_state": "done",
                "whatsapp_media_attempts": self.whatsapp_media_attempts + 1,
                "whatsapp_media_error": False,
            }
        )
        partner = self.partner_id
        case = self._whatsapp_case(partner, self.company_id)
        # A proof after "I already paid" is a payment to verify, whose claim files it in the case's
        # chatter (``_collection_create_claim``); any other file is shown here.
        if not self._whatsapp_proof_received(case, attachment):
            env = self._whatsapp_partner_env(partner).env
            (case or partner).message_post(
                body=env._("File sent on WhatsApp by %s.", (self.recipient_id or partner).display_name),
                attachment_ids=attachment.ids,
                message_type="notification",
                subtype_xmlid="mail.mt_note",
            )
        return attachment

    def _whatsapp_media_failed(self, state, reason):
        self.write({"whatsapp_media_state": state, "whatsapp_media_error": reason})
        partner = self.partner_id
        env = self._whatsapp_partner_env(partner).env
        self._whatsapp_note(
            partner,
            self._whatsapp_case(partner, self.company_id),
            env._("A file sent on WhatsApp could not be kept: %s", reason),
        )

    def _whatsapp_media_filename(self, mimetype):
        extension = mimetypes.guess_extension(mimetype or "") or ""
        moment = fields.Datetime.to_string(self.date).replace(":", "-").replace(" ", "_")
        return f"whatsapp_{moment}{extension}"

    def _whatsapp_proof_received(self, case, attachment):
        """A file that follows an "I already paid": a payment to verify (``collection.payment.claim``,
        the same as from the customer page) for the instalments of the reminder the customer
        answered, else all its overdue ones, so that reminders pause while the collector checks the
        proof. A file the claim refuses (not a PDF or an image) or a customer who owes nothing any
        more still gives the collector a task to look at it. Returns the claim (it files the proof in
        the case's chatter), else False."""
        partner = self.partner_id.sudo()
        requested = partner.whatsapp_proof_requested_date
        if not requested or fields.Datetime.now() - requested > PROOF_WAIT:
            return False
        reminder = partner.whatsapp_proof_reminder_id
        partner.write({"whatsapp_proof_requested_date": False, "whatsapp_proof_reminder_id": False})
        env = self._whatsapp_partner_env(partner).env
        # Trust boundary: the webhook's sender is the customer whose number wrote (``partner``, read
        # as superuser above); its open instalments are found and its claim recorded as Collections.
        move_lines_sudo = self.env["account.move.line"].sudo()
        company = self.company_id
        open_domain = move_lines_sudo._collection_open_domain() & Domain(
            [("company_id", "=", company.id), ("move_id.commercial_partner_id", "=", partner.id)]
        )
        # ``reminder`` is read through ``partner``, as superuser already.
        lines_sudo = (
            reminder.line_ids.filtered_domain(open_domain) if reminder.company_id == company else move_lines_sudo
        )
        if not lines_sudo:
            lines_sudo = move_lines_sudo.search(
                open_domain & Domain("date_maturity", "<=", fields.Date.context_today(self))
            )
        refused = None
        if lines_sudo:
            claims_sudo = self.env["collection.payment.claim"].sudo()
            try:
                with self.env.cr.savepoint():
                    return claims_sudo._collection_create_claim(
                        partner,
                        lines_sudo,
                        {},
                        [{"name": attachment.name, "raw": attachment.raw}],
                        source="whatsapp",
                    )
            except UserError as error:
                refused = error.args[0]
        target = case or partner
        user = case.user_id or partner.with_company(company).collection_user_id or self.env.user
        note = env._(
            "%(customer)s says they already paid and sent %(file)s.",
            customer=partner.display_name,
            file=attachment.name,
        )
        target.activity_schedule(
            "mail.mail_activity_data_todo",
            user_id=user.id,
            summary=_("Verify the proof of payment sent on WhatsApp"),
            note=Markup("<p>%s</p>") % note + (Markup("<p>%s</p>") % refused if refused else Markup()),
        )
        return False

    # ------------------------------------------------------------------
    # The 24-hour window
    # ------------------------------------------------------------------

    @api.model
    def _whatsapp_window_open(self, partner, now=None):
        last = partner.commercial_partner_id.whatsapp_last_inbound_date
        return bool(last and (now or fields.Datetime.now()) - last < WINDOW)


def _int(value):
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _timestamp(value):
    try:
        return datetime.fromtimestamp(int(value), tz=timezone.utc).replace(tzinfo=None)
    except (TypeError, ValueError, OverflowError, OSError):
        return fields.Datetime.now()

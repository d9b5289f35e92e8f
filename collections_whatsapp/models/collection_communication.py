import logging
import time
from collections import defaultdict
from datetime import datetime, timedelta, timezone

from markupsafe import Markup
from psycopg2.errors import UniqueViolation

from odoo import _, api, fields, models, modules
from odoo.tools import SQL, plaintext2html

from ..tools import WhatsAppApiError

_logger = logging.getLogger(__name__)

WINDOW = timedelta(hours=24)
# Order of delivery states: a status never moves a communication back.
STATUS_RANK = {"queued": 0, "sent": 1, "delivered": 2, "read": 3}


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
    whatsapp_sending = fields.Boolean(
        string="Being Sent",
        readonly=True,
        copy=False,
        help="Technical: set while the queue hands the message to Meta; left set only by a crash.",
    )

    # Meta delivers a webhook notification again when it does not get its answer in time, and may
    # deliver the retries at the same moment: the database, not a search, makes sure a message is
    # recorded once. Meta's message ids (wamid) are unique; a message we sent and one we received
    # never share one, and the direction keeps them apart anyway.
    _unique_external_id = models.UniqueIndex(
        "(external_id, direction) WHERE external_id IS NOT NULL",
        "This message from the provider is already recorded.",
    )

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

    def _whatsapp_unreachable_reason(self, template, number_info):
        """Why WhatsApp cannot reach the customer of this communication, or False."""
        self.ensure_one()
        partner, recipient = self.partner_id, self.recipient_id or self.partner_id
        if partner.whatsapp_optout or recipient.whatsapp_optout:
            return _("The customer asked not to receive reminders by WhatsApp.")
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
        for communication in self:
            template = communication.whatsapp_template_id or communication.level_id.whatsapp_template_id
            if template:
                lang = communication.recipient_id.lang or communication.partner_id.lang
                if (template, lang) not in variants:
                    variants[template, lang] = template.sudo()._for_lang(lang)
                template = variants[template, lang]
            number_info = communication._whatsapp_recipient_number()
            reason = communication._whatsapp_unreachable_reason(template, number_info)
            if reason:
                unreachable[reason] |= communication
                continue
            queued.append((communication, template, number_info[1]))
        self._mark_failed_by_reason(unreachable)
        if queued:
            templates = {communication.id: template for communication, template, __ in queued}
            to_queue = self.browse(list(templates))
            # The customer's number differs for each one: one UPDATE for all of them.
            to_queue._whatsapp_write_each(
                {communication.id: {"whatsapp_number": number} for communication, __, number in queued}
            )
            for template, communications in to_queue.grouped(lambda c: templates[c.id]).items():
                communications.write(
                    {
                        "state": "queued",
                        "whatsapp_template_id": template.id,
                        "whatsapp_account_id": template.account_id.id,
                    }
                )
            self.env.ref("collections_whatsapp.ir_cron_collection_whatsapp_queue").sudo()._trigger()

    # ------------------------------------------------------------------
    # The queue
    # ------------------------------------------------------------------

    @api.model
    def _whatsapp_auto_commit(self):
        return not modules.module.current_test and not self.env.context.get("collections_whatsapp_no_commit")

    @api.model
    def _whatsapp_queue_domain(self):
        return [
            ("channel", "=", "whatsapp"),
            ("state", "=", "queued"),
            ("direction", "=", "outbound"),
            ("whatsapp_account_id", "!=", False),
        ]

    @api.model
    def _cron_send_whatsapp_queue(self, limit=None):
        """Send queued WhatsApp messages in batches, paced per account, committing after each batch
        (outside tests). A message is handed to Meta at most once: a batch is flagged before it is
        sent, and a flagged message found by a later run (the earlier one crashed) is not re-sent."""
        self = self.sudo()
        self._whatsapp_recover_interrupted()
        sent_total = 0
        postponed_accounts = set()
        done_ids = set()
        while True:
            domain = self._whatsapp_queue_domain() + [("whatsapp_sending", "=", False)]
            if postponed_accounts:
                domain.append(("whatsapp_account_id", "not in", list(postponed_accounts)))
            batch_size = max(min(self.env["collection.whatsapp.account"].search([]).mapped("batch_size") or [100]), 1)
            if limit is not None:
                batch_size = min(batch_size, limit - sent_total)
                if batch_size <= 0:
                    break
            if done_ids:
                domain.append(("id", "not in", list(done_ids)))
            batch = self._whatsapp_lock_batch(domain, batch_size)
            if not batch:
                break
            done_ids.update(batch.ids)
            if self._whatsapp_auto_commit():
                batch.write({"whatsapp_sending": True})
                self.env["ir.cron"]._commit_progress()
            postponed_accounts |= batch._whatsapp_send_batch()
            sent_total += len(batch)
            if self._whatsapp_auto_commit():
                remaining = self.search_count(self._whatsapp_queue_domain())
                time_left = self.env["ir.cron"]._commit_progress(len(batch), remaining=remaining)
                if time_left < 30:
                    self.env.ref("collections_whatsapp.ir_cron_collection_whatsapp_queue")._trigger()
                    break
        return sent_total

    @api.model
    def _whatsapp_lock_batch(self, domain, batch_size):
        self.env.flush_all()
        query = self._search(domain, order="id", limit=batch_size)
        self.env.cr.execute(SQL("%s FOR UPDATE SKIP LOCKED", query.select()))
        return self.browse([row[0] for row in self.env.cr.fetchall()])

    @api.model
    def _whatsapp_recover_interrupted(self):
        """Messages flagged as being handed to Meta by a run that died: Meta may have them, so
        they are not sent again; a collector can check with the customer."""
        interrupted = self.search(self._whatsapp_queue_domain() + [("whatsapp_sending", "=", True)])
        if interrupted:
            interrupted.write({"whatsapp_sending": False})
            interrupted._mark_failed(
                _(
                    "The sending was interrupted; the message may or may not have reached the "
                    "customer, so it was not sent again."
                ),
                fallback=False,
            )

    def _whatsapp_send_batch(self):
        """Hand this batch to Meta, one account at a time. Returns the ids of accounts that asked
        us to slow down (their messages stay queued for a later run)."""
        postponed = set()
        successes, failures = [], []
        for account, communications in self.grouped("whatsapp_account_id").items():
            interval = 1.0 / account.messages_per_second if account.messages_per_second > 0 else 0.0
            with account._get_client() as client:
                phone_number_id = account.sudo().phone_number_id
                next_at = time.monotonic()
                for index, communication in enumerate(communications):
                    try:
                        payload, body = communication._whatsapp_prepare(account)
                    except _WhatsAppSkip as skip:
                        failures.append((communication, skip.reason, None))
                        continue
                    if interval:
                        delay = next_at - time.monotonic()
                        if delay > 0:
                            time.sleep(delay)
                        next_at = max(next_at, time.monotonic()) + interval
                    try:
                        message_id = client.send_message(phone_number_id, payload)
                    except WhatsAppApiError as error:
                        if error.retry_later:
                            _logger.info(
                                "WhatsApp account %s is throttled: %s messages wait for the next run",
                                account.name,
                                len(communications) - index,
                            )
                            postponed.add(account.id)
                            delay = error.retry_after or account.max_retry_wait
                            self.env.ref("collections_whatsapp.ir_cron_collection_whatsapp_queue")._trigger(
                                fields.Datetime.now() + timedelta(seconds=delay)
                            )
                            break
                        failures.append((communication, account._error_message(error), error))
                        continue
                    successes.append((communication, message_id, body))
        self._whatsapp_record_sent(successes)
        self._whatsapp_record_failed(failures)
        self.filtered("whatsapp_sending").write({"whatsapp_sending": False})
        return postponed

    def _whatsapp_record_failed(self, failures):
        """Mark [(communication, reason, error or None)] failed with Meta's error, one write per
        distinct error and reason, then fall back once for all the customers Meta surely did not
        reach (not when the outcome is uncertain: the message may have arrived)."""
        if not failures:
            return
        errors, certain, uncertain = {}, defaultdict(list), defaultdict(list)
        for communication, reason, error in failures:
            errors[communication.id] = (error.code or 0, error.title or False) if error else (0, False)
            (uncertain if error and error.uncertain else certain)[reason].append(communication.id)
        failed = self.browse(list(errors))
        for (code, title), communications in failed.grouped(lambda c: errors[c.id]).items():
            communications.write({"whatsapp_error_code": code, "whatsapp_error_title": title})
        for reason, ids in uncertain.items():
            self.browse(ids)._mark_failed(reason, fallback=False)
        self._mark_failed_by_reason({reason: self.browse(ids) for reason, ids in certain.items()})

    def _whatsapp_prepare(self, account):
        """(payload, text as the customer reads it) of a queued communication."""
        self.ensure_one()
        reference = f"collection.communication:{self.id}"
        if self.whatsapp_text:
            return account._text_payload(self.whatsapp_number, self.whatsapp_text, reference), self.whatsapp_text
        # The customer may have opted out since the message was queued.
        if self.partner_id.whatsapp_optout or self.recipient_id.whatsapp_optout:
            raise _WhatsAppSkip(_("The customer asked not to receive reminders by WhatsApp."))
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
        sent._whatsapp_write_each(
            {
                communication.id: {"external_id": message_id, "body": plaintext2html(body)}
                for communication, message_id, body in successes
            }
        )
        sent.write({"state": "sent", "whatsapp_sent_date": now, "whatsapp_sending": False})

    def _whatsapp_write_each(self, values_by_id):
        """Write values that differ for each record ``{id: {field: value}}`` in one
        ``UPDATE ... FROM (VALUES ...)``, then invalidate those fields in the cache. Only for
        plain stored columns nothing is computed from (no tracking, no translation, no
        relations): the ORM is bypassed."""
        if not values_by_id:
            return
        fnames = sorted({fname for values in values_by_id.values() for fname in values})
        for fname in fnames:
            field = self._fields[fname]
            assert field.store and field.column_type and not field.translate and not field.relational, fname
        records = self.browse(list(values_by_id))
        records.check_access("write")
        # Pending ORM writes of these fields would be flushed over ours later.
        records.flush_recordset(fnames)
        columns = [SQL.identifier(fname) for fname in fnames]
        uid, now = self.env.uid, self.env.cr.now()
        rows = [
            SQL(
                "(%s, %s, %s, %s)",
                record_id,
                uid,
                now,
                SQL(", ").join(SQL("%s", values.get(fname)) for fname in fnames),
            )
            for record_id, values in values_by_id.items()
        ]
        assignments = [
            SQL('%s = "__tmp".%s::%s', column, column, SQL(self._fields[fname].column_type[1]))
            for fname, column in zip(fnames, columns)
        ]
        self.env.cr.execute(
            SQL(
                """UPDATE %(table)s
                  SET write_uid = "__tmp".write_uid::int4, write_date = "__tmp".write_date::timestamp,
                      %(assignments)s
                 FROM (VALUES %(rows)s) AS "__tmp"(id, write_uid, write_date, %(columns)s)
                WHERE %(table)s.id = "__tmp".id""",
                table=SQL.identifier(self._table),
                assignments=SQL(", ").join(assignments),
                rows=SQL(", ").join(rows),
                columns=SQL(", ").join(columns),
            )
        )
        records.invalidate_recordset(fnames + ["write_uid", "write_date"])

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
        changed = self.browse()
        for status in sorted(statuses, key=lambda s: str(s.get("timestamp") or "")):
            communication = by_external_id.get(str(status["id"]))
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
    def _whatsapp_find_contact(self, account, candidates):
        """The contact a number belongs to: the last one we wrote to on WhatsApp at that number,
        else a contact of the company's customers with that phone."""
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
        return (with_case or partners)[:1]

    @api.model
    def _whatsapp_process_inbound(self, account, messages, contacts):
        """Log customers' messages: an inbound communication, a post in the case chatter (or on the
        customer), the 24-hour window, the collector notified; keywords opt the number out or in."""
        names = {c.get("wa_id"): (c.get("profile") or {}).get("name") for c in contacts if isinstance(c, dict)}
        messages = [m for m in messages if isinstance(m, dict) and m.get("id") and m.get("from")]
        known = self._whatsapp_known_inbound([str(m["id"]) for m in messages])
        created = self.browse()
        for message in messages:
            if str(message["id"]) in known:
                continue
            known.add(str(message["id"]))
            candidates = self._whatsapp_number_candidates(message["from"])
            contact = self._whatsapp_find_contact(account, candidates)
            if not contact:
                _logger.info("WhatsApp message from unknown number %s ignored", message["from"])
                continue
            created |= self._whatsapp_log_inbound(account, message, contact, candidates, names.get(message["from"]))
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
        kind = message.get("type")
        content = message.get(kind) if isinstance(message.get(kind), dict) else {}
        if kind == "text":
            return content.get("body") or ""
        if kind == "button":
            return content.get("text") or ""
        if kind == "interactive":
            reply = content.get("button_reply") or content.get("list_reply") or {}
            return reply.get("title") or ""
        if kind == "reaction":
            return _("[reaction %s]", content.get("emoji") or "")
        caption = content.get("caption") or content.get("filename") or ""
        return f"[{kind}] {caption}".strip()

    @api.model
    def _whatsapp_log_inbound(self, account, message, contact, candidates, profile_name):
        partner = contact.commercial_partner_id
        company = account.company_id
        text = self._whatsapp_message_text(message)
        moment = _timestamp(message.get("timestamp"))
        number = next((c for c in candidates if c == contact.phone_sanitized), candidates[0])
        case = (
            self.env["collection.case"]
            .sudo()
            .search([("partner_id", "=", partner.id), ("company_id", "=", company.id)], limit=1)
        )
        communication = self._whatsapp_create_inbound(
            {
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
        )
        if not communication:
            return communication
        window_values = {"whatsapp_last_inbound_date": moment, "whatsapp_last_inbound_number": number}
        (partner | contact).sudo().write(window_values)
        target = case or partner
        collector = case.user_id
        body = Markup("<p><b>%s</b></p>%s") % (_("WhatsApp from %s", number), plaintext2html(text))
        target.with_context(mail_create_nosubscribe=True).message_post(
            body=body,
            author_id=contact.id,
            message_type="comment",
            subtype_xmlid="mail.mt_comment",
            partner_ids=collector.partner_id.ids,
        )
        if collector and case:
            summary = _("Reply to %s on WhatsApp", partner.display_name)
            if not case.activity_ids.filtered(lambda a: a.user_id == collector and a.summary == summary):
                case.activity_schedule(
                    "mail.mail_activity_data_todo", user_id=collector.id, summary=summary, note=plaintext2html(text)
                )
        action = account._keyword_action(text)
        if action:
            self._whatsapp_apply_keyword(account, action, partner | contact, number, contact, case)
        return communication

    @api.model
    def _whatsapp_apply_keyword(self, account, action, partners, number, contact, case):
        now = fields.Datetime.now()
        lang = contact.lang or partners[:1].lang or self.env.lang
        env = self.with_context(lang=lang).env
        company = account.company_id.name
        if action == "optout":
            partners.sudo().write(
                {"whatsapp_optout": True, "whatsapp_optout_date": now, "whatsapp_optout_source": "keyword"}
            )
            reply = env._(
                "You will no longer receive payment reminders from %(company)s on WhatsApp. "
                "Reply START to receive them again.",
                company=company,
            )
            note = _("The customer opted out of WhatsApp reminders by writing a keyword.")
        else:
            partners.sudo().write(
                {
                    "whatsapp_optout": False,
                    "whatsapp_optin": True,
                    "whatsapp_optin_date": now,
                    "whatsapp_optin_source": "keyword",
                }
            )
            reply = env._("You will receive payment reminders from %(company)s on WhatsApp again.", company=company)
            note = _("The customer opted in to WhatsApp reminders by writing a keyword.")
        (case or partners[:1].commercial_partner_id).message_post(
            body=note, message_type="notification", subtype_xmlid="mail.mt_note"
        )
        confirmation = self.create(
            {
                "subject": _("WhatsApp confirmation"),
                "company_id": account.company_id.id,
                "partner_id": contact.commercial_partner_id.id,
                "recipient_id": contact.id,
                "channel": "whatsapp",
                "state": "queued",
                "whatsapp_account_id": account.id,
                "whatsapp_number": number,
                "whatsapp_text": reply,
            }
        )
        self.env.ref("collections_whatsapp.ir_cron_collection_whatsapp_queue").sudo()._trigger()
        return confirmation

    # ------------------------------------------------------------------
    # The 24-hour window
    # ------------------------------------------------------------------

    @api.model
    def _whatsapp_window_open(self, partner, now=None):
        last = partner.commercial_partner_id.whatsapp_last_inbound_date
        return bool(last and (now or fields.Datetime.now()) - last < WINDOW)


class _WhatsAppSkip(Exception):
    def __init__(self, reason):
        super().__init__(reason)
        self.reason = reason


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

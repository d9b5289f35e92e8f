import json
import logging
import time
from datetime import timedelta

from odoo import _, api, fields, models, modules
from odoo.tools import SQL

from ..tools import WhatsAppApiError

_logger = logging.getLogger(__name__)

STATUS_RANK = {"queued": 0, "sent": 1, "delivered": 2, "read": 3}
MESSAGE_STATES = [
    ("queued", "Queued"),
    ("sent", "Sent"),
    ("delivered", "Delivered"),
    ("read", "Read"),
    ("failed", "Failed"),
    ("uncertain", "Outcome Unknown"),
    ("cancelled", "Cancelled"),
]


class CollectionWhatsappMessage(models.Model):
    """One message handed (or to be handed) to Meta: the transport of the WhatsApp channel, as
    ``mail.mail`` is for e-mail and ``sms.sms`` for SMS. The communication it belongs to is the
    business log; it hears back from here when the message was sent or failed.

    The queue hands messages to Meta one at a time and records each step where it survives a
    crash (committed outside tests): ``sending`` is set just before the call and cleared with
    its outcome, so a run killed in the middle leaves exactly one message whose fate is unknown
    (marked ``uncertain``, never sent again) and every untouched message still queued."""

    _name = "collection.whatsapp.message"
    _description = "WhatsApp Message (transport)"
    _order = "id desc"
    _rec_name = "number"

    communication_id = fields.Many2one(
        "collection.communication", required=True, index=True, ondelete="cascade", readonly=True
    )
    account_id = fields.Many2one("collection.whatsapp.account", required=True, index=True, ondelete="cascade")
    company_id = fields.Many2one(related="account_id.company_id", store=True, index=True)
    partner_id = fields.Many2one(related="communication_id.partner_id")
    number = fields.Char(required=True, help="The recipient's number in E.164 format.")
    payload = fields.Text(readonly=True, help="The request sent to Meta (JSON).")
    body = fields.Text(readonly=True, help="The text as the customer reads it.")
    wamid = fields.Char(string="Meta Message ID", readonly=True, copy=False, index="btree_not_null")
    state = fields.Selection(MESSAGE_STATES, default="queued", required=True, index=True)
    sending = fields.Boolean(
        string="Being Sent",
        readonly=True,
        copy=False,
        help="Set while the message is handed to Meta; left set only by a run that died.",
    )
    error_code = fields.Integer(string="Meta Error Code", readonly=True)
    error_title = fields.Char(string="Meta Error", readonly=True)
    failure_reason = fields.Text(readonly=True)
    sent_date = fields.Datetime(string="Sent to Meta On", readonly=True)

    # ------------------------------------------------------------------
    # Queueing
    # ------------------------------------------------------------------

    @api.model
    def _enqueue(self, communications):
        """One queued message per communication (``whatsapp_number`` and ``whatsapp_account_id``
        already set); the communication points at it."""
        messages = self.create(
            [
                {
                    "communication_id": communication.id,
                    "account_id": communication.whatsapp_account_id.id,
                    "number": communication.whatsapp_number,
                }
                for communication in communications
            ]
        )
        self.env["collection.fast"]._write_rows(
            communications,
            {message.communication_id.id: {"whatsapp_message_id": message.id} for message in messages},
        )
        self.env.ref("collections_whatsapp.ir_cron_collection_whatsapp_queue").sudo()._trigger()
        return messages

    @api.model
    def _auto_commit(self):
        return not modules.module.current_test and not self.env.context.get("collections_whatsapp_no_commit")

    def _checkpoint(self):
        """Make what was just recorded survive a crash (outside tests and benchmarks)."""
        if self._auto_commit():
            self.env["ir.cron"]._commit_progress()

    @api.model
    def _queue_domain(self):
        return [("state", "=", "queued"), ("sending", "=", False)]

    @api.model
    def _send_queue(self, limit=None):
        """Send queued messages in batches, paced per account. Returns how many were handled."""
        self = self.sudo()
        self._recover_interrupted()
        handled = 0
        postponed_accounts = set()
        done_ids = set()
        batch_size = max(min(self.env["collection.whatsapp.account"].search([]).mapped("batch_size") or [100]), 1)
        while True:
            domain = self._queue_domain()
            if postponed_accounts:
                domain.append(("account_id", "not in", list(postponed_accounts)))
            if done_ids:
                domain.append(("id", "not in", list(done_ids)))
            size = batch_size if limit is None else min(batch_size, limit - handled)
            if size <= 0:
                break
            batch = self._lock_batch(domain, size)
            if not batch:
                break
            done_ids.update(batch.ids)
            postponed_accounts |= batch._send_batch()
            batch._notify_communications()
            handled += len(batch)
            if self._auto_commit():
                remaining = self.search_count(self._queue_domain())
                time_left = self.env["ir.cron"]._commit_progress(len(batch), remaining=remaining)
                if time_left < 30:
                    self.env.ref("collections_whatsapp.ir_cron_collection_whatsapp_queue")._trigger()
                    break
        return handled

    @api.model
    def _lock_batch(self, domain, batch_size):
        self.env.flush_all()
        query = self._search(domain, order="id", limit=batch_size)
        self.env.cr.execute(SQL("%s FOR UPDATE SKIP LOCKED", query.select()))
        return self.browse([row[0] for row in self.env.cr.fetchall()])

    @api.model
    def _recover_interrupted(self):
        """A message flagged as being handed to Meta by a run that died may have reached the
        customer: it is never sent again (state ``uncertain``). Messages whose outcome was
        recorded but whose communication did not hear of it yet are reported now."""
        interrupted = self.search([("state", "=", "queued"), ("sending", "=", True)])
        if interrupted:
            _logger.warning("WhatsApp: %s messages interrupted while being sent are not sent again", len(interrupted))
            interrupted.write(
                {
                    "state": "uncertain",
                    "sending": False,
                    "failure_reason": _(
                        "The sending was interrupted; the message may or may not have reached the "
                        "customer, so it was not sent again."
                    ),
                }
            )
        unheard = self.search(
            [
                ("state", "in", ("sent", "failed", "uncertain")),
                ("communication_id.state", "=", "queued"),
                ("communication_id.whatsapp_message_id", "!=", False),
            ]
        ).filtered(lambda m: m.communication_id.whatsapp_message_id == m)
        unheard._notify_communications()

    def _send_batch(self):
        """Hand this batch to Meta, one account at a time, one message at a time. Returns the
        ids of accounts that asked us to slow down (their messages stay queued).

        Each message is flagged ``sending`` (and its request kept) in a durable step before Meta
        is called; its outcome is recorded in the same step as the next message's flag (one round
        trip to the database per message), and at the end of the batch. A crash in between leaves
        at most one message flagged: it is never sent again."""
        postponed = set()
        communications = self.communication_id
        optouts = self.env["collection.whatsapp.optout"]._optout_numbers(self.mapped("number"))
        outcomes = []  # [(message, values)] recorded with the next durable step
        for account, messages in self.grouped("account_id").items():
            interval = 1.0 / account.messages_per_second if account.messages_per_second > 0 else 0.0
            with account._get_client() as client:
                phone_number_id = account.sudo().phone_number_id
                next_at = time.monotonic()
                for index, message in enumerate(messages):
                    try:
                        payload, body = message.communication_id._whatsapp_prepare(account, optouts)
                    except _WhatsAppSkip as skip:
                        outcomes.append((message, {"state": "cancelled", "failure_reason": skip.reason}))
                        continue
                    if interval:
                        delay = next_at - time.monotonic()
                        if delay > 0:
                            time.sleep(delay)
                        next_at = max(next_at, time.monotonic()) + interval
                    outcomes.append((message, {"sending": True, "payload": json.dumps(payload), "body": body}))
                    self._record(outcomes)
                    outcomes = []
                    try:
                        wamid = client.send_message(phone_number_id, payload)
                    except WhatsAppApiError as error:
                        if error.retry_later:
                            _logger.info(
                                "WhatsApp account %s is throttled: %s messages wait for the next run",
                                account.name,
                                len(messages) - index,
                            )
                            outcomes.append((message, {"sending": False}))
                            postponed.add(account.id)
                            delay = error.retry_after or account.max_retry_wait
                            self.env.ref("collections_whatsapp.ir_cron_collection_whatsapp_queue")._trigger(
                                fields.Datetime.now() + timedelta(seconds=delay)
                            )
                            break
                        outcomes.append(
                            (
                                message,
                                {
                                    "sending": False,
                                    "state": "uncertain" if error.uncertain else "failed",
                                    "error_code": error.code or 0,
                                    "error_title": error.title or False,
                                    "failure_reason": account._error_message(error),
                                },
                            )
                        )
                        continue
                    sent = {"sending": False, "state": "sent", "wamid": wamid, "sent_date": fields.Datetime.now()}
                    outcomes.append((message, sent))
        self._record(outcomes)
        communications.invalidate_recordset()
        return postponed

    @api.model
    def _record(self, steps):
        """Write steps of sending [(message, values)] in one go (``collection.fast._write_rows``:
        this runs for every message, between two calls to Meta) and make them durable at once."""
        if not steps:
            return
        values_by_id = {}
        for message, values in steps:
            values_by_id.setdefault(message.id, {}).update(values)
        self.env["collection.fast"]._write_rows(self.browse(list(values_by_id)), values_by_id)
        self._checkpoint()

    def _notify_communications(self):
        """The communications hear what happened to their message: sent, or failed (with
        Meta's error; falling back once only when Meta surely did not get it)."""
        current = self.filtered(lambda m: m.communication_id.whatsapp_message_id == m)
        communications = current.communication_id.filtered(lambda c: c.state == "queued")
        by_communication = {m.communication_id.id: m for m in current}
        successes, failures = [], []
        for communication in communications:
            message = by_communication[communication.id]
            if message.state == "sent":
                successes.append((communication, message.wamid, message.body))
            elif message.state in ("failed", "uncertain", "cancelled"):
                failures.append((communication, message.failure_reason, message))
        communications._whatsapp_record_sent(successes)
        communications._whatsapp_record_failed(failures)

    # ------------------------------------------------------------------
    # Statuses from Meta
    # ------------------------------------------------------------------

    def _apply_status(self, status):
        """Move the message forward (sent, delivered, read) or to failed; never back."""
        self.ensure_one()
        new = status.get("status")
        if new in STATUS_RANK and STATUS_RANK.get(self.state, 99) < STATUS_RANK[new]:
            self.state = new
        elif new == "failed" and self.state in ("queued", "sent"):
            errors = status.get("errors") or [{}]
            error = errors[0] if isinstance(errors[0], dict) else {}
            code = error.get("code")
            self.write(
                {
                    "state": "failed",
                    "error_code": code if isinstance(code, int) else 0,
                    "error_title": str(error.get("title") or error.get("message") or "failed")[:256],
                }
            )


class _WhatsAppSkip(Exception):
    def __init__(self, reason):
        super().__init__(reason)
        self.reason = reason


class _MediaRefused(Exception):
    def __init__(self, reason):
        super().__init__(reason)
        self.reason = reason

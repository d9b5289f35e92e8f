import logging
import time
from collections import defaultdict, namedtuple
from datetime import datetime, timedelta

import pytz

from odoo import _, api, fields, models, modules
from odoo.exceptions import UserError
from odoo.tools import SQL, split_every

from .collection_communication import CONTACT_STATES
from .collection_policy import CustomerFacts, OpenItem

_logger = logging.getLogger(__name__)

# First key of the PostgreSQL advisory lock that keeps two runs of a company apart.
RUN_LOCK_KEY = 726512
# Decisions of runs older than this are removed by the autovacuum (the communications stay).
DECISION_KEEP_DAYS = 60

ContactHistory = namedtuple("ContactHistory", "last_date week_count reminder_count")


class CollectionRun(models.Model):
    _name = "collection.run"
    _description = "Collection Run"
    _order = "id desc"

    name = fields.Char(compute="_compute_name", store=True)
    company_id = fields.Many2one("res.company", required=True, index=True, default=lambda self: self.env.company)
    date = fields.Date(
        string="Reminder Date",
        required=True,
        default=lambda self: self._company_today(self.env.company),
        help="Date the instalments' levels are computed for, in the company's time zone. A real run "
        "happens today; another date is for dry runs only.",
    )
    run_type = fields.Selection(
        [("manual", "Manual"), ("scheduled", "Scheduled"), ("dry_run", "Dry Run")],
        string="Type",
        required=True,
        default="manual",
    )
    state = fields.Selection(
        [
            ("draft", "Draft"),
            ("running", "Running"),
            ("done", "Done"),
            ("failed", "Failed"),
            ("cancelled", "Cancelled"),
        ],
        default="draft",
        required=True,
        index=True,
    )
    partner_ids = fields.Many2many(
        "res.partner",
        "collection_run_partner_rel",
        "run_id",
        "partner_id",
        string="Only These Customers",
        help="Limit the run to these customers (Send reminder now). Empty: every customer.",
    )
    started_at = fields.Datetime(readonly=True)
    ended_at = fields.Datetime(readonly=True)
    duration = fields.Float(string="Duration (s)", readonly=True, digits=(16, 2))
    line_count = fields.Integer(string="Instalments Evaluated", readonly=True)
    partner_count = fields.Integer(string="Customers Evaluated", readonly=True)
    reminded_count = fields.Integer(string="Customers Reminded", readonly=True)
    skipped_count = fields.Integer(string="Customers Skipped", readonly=True)
    error_count = fields.Integer(string="Errors", readonly=True)
    failed_partner_count = fields.Integer(string="Customers Failed", readonly=True)
    cursor_partner_id = fields.Integer(
        string="Last Customer Handled",
        readonly=True,
        copy=False,
        help="Technical: the run resumes after this customer when the scheduler stopped it.",
    )
    paused = fields.Boolean(
        readonly=True,
        copy=False,
        help="Stopped by the scheduler's time limit; the next scheduled call resumes it.",
    )
    log = fields.Text(readonly=True)
    communication_ids = fields.One2many("collection.communication", "run_id", string="Communications")
    communication_count = fields.Integer(compute="_compute_communication_count")
    outcome_queued_count = fields.Integer(string="Queued", compute="_compute_outcome_counts")
    outcome_sent_count = fields.Integer(string="Sent", compute="_compute_outcome_counts")
    outcome_delivered_count = fields.Integer(string="Delivered", compute="_compute_outcome_counts")
    outcome_read_count = fields.Integer(string="Read", compute="_compute_outcome_counts")
    outcome_failed_count = fields.Integer(
        string="Failed",
        compute="_compute_outcome_counts",
        help="Messages of this run that failed, when the run sent them or later (a bounce, a refusal by the provider).",
    )
    decision_ids = fields.One2many("collection.run.decision", "run_id", string="Decisions")
    decision_count = fields.Integer(compute="_compute_decision_count")

    @api.depends("date", "run_type")
    def _compute_name(self):
        types = dict(self._fields["run_type"]._description_selection(self.env))
        for run in self:
            run.name = f"{types.get(run.run_type, '')} {run.date or ''}".strip()

    def _compute_communication_count(self):
        counts = dict(
            self.env["collection.communication"]._read_group([("run_id", "in", self.ids)], ["run_id"], ["__count"])
        )
        for run in self:
            run.communication_count = counts.get(run, 0)

    def _compute_outcome_counts(self):
        """Messages of each run by their current state (as delivery reports arrive): one grouped
        read for all the runs. Call tasks are work for people, not messages: not counted."""
        counts = defaultdict(int)
        for run, state, count in self.env["collection.communication"]._read_group(
            [("run_id", "in", self.ids), ("direction", "=", "outbound"), ("channel", "!=", "call")],
            ["run_id", "state"],
            ["__count"],
        ):
            counts[run.id, state] = count
        for run in self:
            for state in ("queued", "sent", "delivered", "read", "failed"):
                run[f"outcome_{state}_count"] = counts[run.id, state]

    def _compute_decision_count(self):
        counts = dict(
            self.env["collection.run.decision"]._read_group([("run_id", "in", self.ids)], ["run_id"], ["__count"])
        )
        for run in self:
            run.decision_count = counts.get(run, 0)

    # ------------------------------------------------------------------
    # Entry points
    # ------------------------------------------------------------------

    @api.model
    def _cron_run(self):
        """Scheduled run: one run per company that has a collection policy. A run stopped by the
        scheduler's time limit is resumed after the last customer it handled."""
        self._close_dead_runs()
        companies = self.env["collection.policy"].search([]).company_id
        for company in companies:
            today = self._company_today(company)
            run = self.search(
                [
                    ("company_id", "=", company.id),
                    ("state", "=", "running"),
                    ("paused", "=", True),
                    ("date", "=", today),
                ],
                limit=1,
            )
            if not run:
                run = self.with_company(company).create(
                    {"company_id": company.id, "run_type": "scheduled", "date": today}
                )
            run.with_company(company)._execute()

    @api.model
    def _close_dead_runs(self):
        """Close at once the runs marked running whose process is gone: a live run holds its
        company's advisory lock, so a lock we can take means nobody runs that company. Runs
        paused by the time limit today are left to be resumed."""
        running = self.search([("state", "=", "running")])
        for company, runs in running.grouped("company_id").items():
            if not self._lock_is_free(company):
                continue
            today = self._company_today(company)
            dead = runs.filtered(lambda run, today=today: not (run.paused and run.date == today))
            dead.write(
                {
                    "state": "failed",
                    "paused": False,
                    "ended_at": fields.Datetime.now(),
                    "log": _("Interrupted: the process running it stopped. The next run carried on."),
                }
            )

    @api.model
    def _lock_is_free(self, company):
        """Whether no other session holds the run lock of ``company``."""
        self.env.cr.execute(SQL("SELECT pg_try_advisory_lock(%s, %s)", RUN_LOCK_KEY, company.id))
        free = self.env.cr.fetchone()[0]
        if free:
            self.env.cr.execute(SQL("SELECT pg_advisory_unlock(%s, %s)", RUN_LOCK_KEY, company.id))
        return free

    @api.model
    def _company_tz(self, company):
        return pytz.timezone(company.partner_id.tz or "UTC")

    @api.model
    def _company_today(self, company):
        """Today in the company's time zone: the one clock of the engine, for scheduled and
        manual runs alike (the server itself runs in UTC)."""
        return pytz.utc.localize(fields.Datetime.now()).astimezone(self._company_tz(company)).date()

    def action_execute(self):
        for run in self:
            if run.state != "draft":
                raise UserError(_("Run %s was already executed; start a new one.", run.name))
            run.with_company(run.company_id)._execute()
        return True

    def action_view_communications(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id("collections_management.collection_communication_action")
        action["domain"] = [("run_id", "=", self.id)]
        action["context"] = {"search_default_group_by_channel": 1}
        return action

    def action_view_decisions(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id("collections_management.collection_run_decision_action")
        action["domain"] = [("run_id", "=", self.id)]
        action["context"] = {"search_default_group_by_reason": 1}
        return action

    @api.model
    def _action_send_now(self, partners):
        """*Send reminder now*: a real run of the current company limited to ``partners`` (their
        commercial entities), started at once and honouring every rule; returns the run's
        decisions, which say per customer what was sent or why not."""
        customers = partners.commercial_partner_id
        if not customers:
            raise UserError(_("Choose at least one customer to remind."))
        company = self.env.company
        run = self.with_company(company).create(
            {
                "company_id": company.id,
                "run_type": "manual",
                "date": self._company_today(company),
                "partner_ids": [fields.Command.set(customers.ids)],
            }
        )
        run._execute()
        decided = set(run.decision_ids.partner_id.ids)
        # Customers without anything open get a decision too: nothing is silently dropped.
        run.env["collection.run.decision"].create(
            [
                {
                    "run_id": run.id,
                    "partner_id": customer.id,
                    "reason": "nothing_new",
                    "detail": self.env._("The customer owes nothing that a reminder could speak about."),
                }
                for customer in customers
                if customer.id not in decided
            ]
        )
        action = run.action_view_decisions()
        action["name"] = _("Reminders sent now")
        action["context"] = {}
        return action

    # ------------------------------------------------------------------
    # The engine
    # ------------------------------------------------------------------

    def _auto_commit(self):
        """Commit batch by batch only in the scheduler: a run started by hand (or by the demo
        data) stays one transaction, and is sent only if it ends."""
        return bool(self.env.context.get("cron_id")) and not modules.module.current_test

    def _commit(self, processed=0, remaining=None):
        """Commit the work done so far (scheduler only); returns the seconds the scheduler
        still grants this job."""
        if self._auto_commit():
            return self.env["ir.cron"]._commit_progress(processed, remaining=remaining)
        return float("inf")

    def _check_date(self):
        """A real run happens today, in the company's time zone; another date is a preview."""
        self.ensure_one()
        today = self._company_today(self.company_id)
        if self.run_type != "dry_run" and self.date != today:
            raise UserError(
                _(
                    "A run that sends reminders happens today (%(today)s in %(company)s's time zone); "
                    "use a dry run to preview another date.",
                    today=today,
                    company=self.company_id.name,
                )
            )

    def _execute(self, batch_size=500):
        """Evaluate every customer of the company, batch by batch, and send what is due.

        A real run holds a per-company PostgreSQL advisory lock for its whole duration, so a
        second run of the same company stops at once instead of contacting anybody twice. Each
        batch is committed on its own: a run that dies half-way keeps what it sent, and the
        next run finds those instalments already at their level and sends nothing twice.
        A batch that fails is replayed customer by customer: the faulty customer is logged and
        skipped, the others are reminded. Stopped by the scheduler's time limit, the run keeps
        the last customer it handled and the next scheduled call resumes after it.
        """
        self.ensure_one()
        self._check_date()
        dry_run = self.run_type == "dry_run"
        if self.state == "draft":
            self.write({"state": "running", "started_at": fields.Datetime.now()})
        self.paused = False
        start = time.monotonic() - (self.duration or 0.0)
        if not dry_run and not self._acquire_lock():
            self.write(
                {
                    "state": "cancelled",
                    "ended_at": fields.Datetime.now(),
                    "log": _("Another run of %s is in progress; this one sent nothing.", self.company_id.name),
                }
            )
            return
        try:
            self._commit()
            partner_ids = self._get_candidate_partner_ids()
            remaining = len(partner_ids)
            for batch in split_every(batch_size, partner_ids):
                batch = list(batch)
                self._process_batch_safely(batch)
                remaining -= len(batch)
                self.write({"cursor_partner_id": batch[-1], "duration": time.monotonic() - start})
                # Memory stays flat per batch: what the batch loaded is written, then dropped.
                self.env.invalidate_all()
                if remaining and not self._commit(len(batch), remaining=remaining):
                    self._pause()
                    return
            self._finish(start)
        except Exception as error:
            _logger.exception("Collection run %s failed", self.id)
            if self._auto_commit():
                self.env.cr.rollback()
            self.write(
                {
                    "state": "failed",
                    "ended_at": fields.Datetime.now(),
                    "duration": time.monotonic() - start,
                    "log": (self.log or "") + _("The run stopped: %s\n", error),
                }
            )
            self._commit()
        finally:
            if not dry_run:
                self._release_lock()

    def _pause(self):
        """Out of the scheduler's time: keep the cursor and let the next call resume."""
        self.write(
            {
                "paused": True,
                "log": (self.log or "") + _("Stopped by the scheduler's time limit; the next call resumes it.\n"),
            }
        )
        self._commit()
        self.env.ref("collections_management.ir_cron_collection_run")._trigger()

    def _finish(self, start):
        """Close the run: done, or failed when no customer could be handled at all."""
        all_failed = self.failed_partner_count and self.failed_partner_count >= self.partner_count
        values = {"state": "done", "ended_at": fields.Datetime.now(), "duration": time.monotonic() - start}
        if all_failed:
            values["state"] = "failed"
            values["log"] = (self.log or "") + _(
                "Every customer of the run failed (%s); nobody was reminded.\n", self.failed_partner_count
            )
        self.write(values)
        self._commit()

    def _process_batch_safely(self, partner_ids):
        try:
            with self.env.cr.savepoint():
                self._process_batch(partner_ids)
            return
        except Exception:  # noqa: BLE001 - replayed customer by customer below
            _logger.warning("Collection run %s: batch failed, replaying it customer by customer", self.id)
        for partner_id in partner_ids:
            try:
                with self.env.cr.savepoint():
                    self._process_batch([partner_id])
            except Exception as error:  # noqa: BLE001 - logged on the run, the run goes on
                partner = self.env["res.partner"].browse(partner_id)
                _logger.warning("Collection run %s: customer %s skipped: %s", self.id, partner_id, error)
                self.write(
                    {
                        "error_count": self.error_count + 1,
                        "failed_partner_count": self.failed_partner_count + 1,
                        "partner_count": self.partner_count + 1,
                        "log": (self.log or "")
                        + _("%(customer)s skipped: %(error)s\n", customer=partner.display_name, error=error),
                    }
                )
                self.env["collection.run.decision"].create(
                    {"run_id": self.id, "partner_id": partner_id, "reason": "error", "detail": str(error)}
                )

    def _acquire_lock(self):
        """Per-company advisory lock. The scheduler commits batch by batch, so it holds a session
        lock until the end of the run; a run in one transaction holds a transaction lock, released
        when its work is committed. Either way a second run of the company stops at once.
        (Besides, two transactions writing the level of the same instalments cannot both commit.)"""
        function = "pg_try_advisory_lock" if self._auto_commit() else "pg_try_advisory_xact_lock"
        self.env.cr.execute(SQL("SELECT %s(%s, %s)", SQL(function), RUN_LOCK_KEY, self.company_id.id))
        return self.env.cr.fetchone()[0]

    def _release_lock(self):
        if self._auto_commit():
            self.env.cr.execute(SQL("SELECT pg_advisory_unlock(%s, %s)", RUN_LOCK_KEY, self.company_id.id))

    # Reading ------------------------------------------------------------

    def _get_horizon(self):
        """Latest due date worth reading: the run's date plus the earliest preventive level."""
        min_days = min(
            self.env["collection.level"].search([("company_id", "=", self.company_id.id)]).mapped("days") or [0]
        )
        return self.date - timedelta(days=min(min_days, 0))

    def _get_candidate_partner_ids(self):
        """Customers (commercial entities) with an open instalment within the horizon, after
        the cursor, archived and excluded ones included: each gets a decision."""
        self.env.flush_all()
        open_items = self.env["account.move.line"]._collection_open_query("aml")
        self.env.cr.execute(
            SQL(
                """
            SELECT DISTINCT move.commercial_partner_id
              FROM %(from)s
              JOIN account_move move ON move.id = aml.move_id
             WHERE aml.company_id = %(company)s
               AND %(open)s
               AND aml.date_maturity <= %(horizon)s
               AND move.commercial_partner_id > %(cursor)s
               AND %(chosen)s
             ORDER BY 1
            """,
                company=self.company_id.id,
                open=open_items.where_clause,
                **{"from": open_items.from_clause},
                horizon=self._get_horizon(),
                cursor=self.cursor_partner_id or 0,
                chosen=SQL("move.commercial_partner_id IN %s", tuple(self.partner_ids.ids))
                if self.partner_ids
                else SQL("TRUE"),
            )
        )
        return [row[0] for row in self.env.cr.fetchall()]

    def _read_open_items(self, partner_ids, horizon=None):
        """{partner id: [OpenItem]}: the open instalments within the horizon (the run's, or
        ``horizon``) and every credit of the customers, from the one definition on
        account.move.line. One query."""
        AML = self.env["account.move.line"]
        owed = AML._collection_owed_query("aml")
        self.env.cr.execute(
            SQL(
                """
            SELECT aml.id,
                   move.commercial_partner_id AS partner_id,
                   aml.date_maturity,
                   aml.amount_residual,
                   aml.collection_level_id AS level_id,
                   COALESCE(aml.collection_excluded, FALSE) OR COALESCE(move.collection_excluded, FALSE) AS excluded,
                   %(disputed)s AS disputed,
                   %(promised)s AS promised,
                   %(claimed)s AS claimed
              FROM %(from)s
              JOIN account_move move ON move.id = aml.move_id
             WHERE aml.company_id = %(company)s
               AND move.commercial_partner_id IN %(partners)s
               AND %(owed)s
               AND (aml.amount_residual < 0 OR aml.date_maturity <= %(horizon)s)
             ORDER BY move.commercial_partner_id, aml.date_maturity, aml.id
            """,
                disputed=AML._collection_disputed_sql("aml"),
                promised=AML._collection_promised_sql("aml"),
                claimed=AML._collection_claimed_sql("aml", self.date),
                company=self.company_id.id,
                partners=tuple(partner_ids),
                owed=owed.where_clause,
                **{"from": owed.from_clause},
                horizon=horizon or self._get_horizon(),
            )
        )
        items = defaultdict(list)
        for row in self.env.cr.dictfetchall():
            items[row["partner_id"]].append(OpenItem(**row))
        return items

    def _read_contact_history(self, partner_ids):
        """{partner id: ContactHistory}: last contact, contacts in the 7 days before the run and
        reminders ever sent, in one query. A contact is one reminder whatever its channels."""
        now = self._now()
        self.env.cr.execute(
            SQL(
                """
            SELECT partner_id,
                   MAX(date) AS last_date,
                   COUNT(DISTINCT COALESCE('r' || run_id::text, 'c' || id::text))
                        FILTER (WHERE date > %(week_ago)s) AS week_count,
                   COUNT(*) FILTER (WHERE channel != 'call') AS reminder_count
              FROM collection_communication
             WHERE partner_id IN %(partners)s
               AND company_id = %(company)s
               AND direction = 'outbound'
               AND state IN %(states)s
               AND NOT (channel = 'call' AND state = 'queued')
             GROUP BY partner_id
            """,
                week_ago=now - timedelta(days=7),
                partners=tuple(partner_ids),
                company=self.company_id.id,
                states=CONTACT_STATES,
            )
        )
        return {
            row["partner_id"]: ContactHistory(row["last_date"], row["week_count"], row["reminder_count"])
            for row in self.env.cr.dictfetchall()
        }

    def _now(self):
        """The moment of the run in UTC: now for a run of today, else the company's local noon
        of the run's date (a dry run on another date)."""
        if self.date == self._company_today(self.company_id):
            return fields.Datetime.now()
        tz = self._company_tz(self.company_id)
        local_noon = tz.localize(datetime.combine(self.date, datetime.min.time()) + timedelta(hours=12))
        return local_noon.astimezone(pytz.utc).replace(tzinfo=None)

    def _local_now(self):
        """The moment of the run in the company's time zone (contact hours and weekdays)."""
        return pytz.utc.localize(self._now()).astimezone(self._company_tz(self.company_id))

    # One batch: read, decide, send, record --------------------------------

    def _process_batch(self, partner_ids):
        """Decide and send the reminders of a batch of customers, in named steps."""
        facts = self._read_batch_facts(partner_ids)
        decisions = self._decide(facts)
        communications = self._create_communications(decisions)
        if self.run_type != "dry_run":
            communications._send()
            self._record_outcome(decisions)
        self._store_decisions(decisions)
        self._add_counts(decisions, facts)

    def _read_batch_facts(self, partner_ids, horizon=None):
        """[(policy, CustomerFacts)] of a batch: a fixed number of queries whatever its size.
        ``horizon``: the latest due date to read (the run's by default)."""
        partners = self.env["res.partner"].with_company(self.company_id).with_context(active_test=False)
        partners = partners.browse(partner_ids)
        items = self._read_open_items(partner_ids, horizon)
        policies = self.env["collection.policy"].search([("company_id", "=", self.company_id.id)])
        policy_by_partner = policies.with_company(self.company_id)._policies_for_partners(partners)
        chains = partners._get_collection_recipient_chains()
        history = self._read_contact_history(partner_ids)
        local_now = self._local_now()
        Policy = self.env["collection.policy"]
        return [
            (
                policy_by_partner.get(partner.id, Policy),
                CustomerFacts(
                    partner=partner,
                    items=items.get(partner.id, []),
                    date=self.date,
                    local_now=local_now,
                    history=history.get(partner.id, ContactHistory(None, 0, 0)),
                    recipients=chains.get(partner.id, [partner]),
                    dry_run=self.run_type == "dry_run",
                ),
            )
            for partner in partners
        ]

    def _decide(self, facts):
        """One decision per customer, made by its policy (each policy's ladder read once)."""
        local_now = self._local_now()
        ladders = {}
        decisions = []
        for policy, customer in facts:
            if policy and policy not in ladders:
                ladders[policy] = policy._collection_ladder(local_now, self.run_type == "dry_run")
            decisions.append(policy._collection_decide(customer, ladders.get(policy)))
        return decisions

    def _create_communications(self, decisions):
        """One communication per channel of each customer to remind, to that channel's recipient."""
        now = fields.Datetime.now()
        state = "simulated" if self.run_type == "dry_run" else "queued"
        values = []
        for decision in decisions:
            if not decision.to_send:
                continue
            for channel, recipient in decision.channels:
                values.append(
                    {
                        "subject": decision.level.name,
                        "date": now,
                        "company_id": self.company_id.id,
                        "partner_id": decision.partner_id,
                        "recipient_id": recipient.id,
                        "channel": channel,
                        "state": state,
                        "run_id": self.id,
                        "level_id": decision.level.id,
                        "line_ids": [fields.Command.set(decision.line_ids)],
                        "amount_total": decision.amount_due,
                        "amount_credit": decision.amount_credit,
                        "is_follow_up": decision.follow_up,
                        "user_id": self.env.user.id,
                    }
                )
        return self.env["collection.fast"]._insert(self.env["collection.communication"], values)

    def _record_outcome(self, decisions):
        """What reached the customer decides what is recorded: the levels of the instalments
        and the case. A customer nobody could reach keeps its levels, its failures with their
        reasons, and one task for a person."""
        to_send = [decision for decision in decisions if decision.to_send]
        if not to_send:
            return
        Communication = self.env["collection.communication"]
        sent = Communication.search([("run_id", "=", self.id), ("partner_id", "in", [d.partner_id for d in to_send])])
        by_partner = sent.grouped("partner_id")
        reached_ids = {
            partner.id for partner, communications in by_partner.items() if communications._collection_reached()
        }
        level_writes = defaultdict(list)
        partner_levels = {}
        unreached = Communication
        unreached_levels = {}
        for decision in to_send:
            communications = by_partner.get(self.env["res.partner"].browse(decision.partner_id), Communication)
            if decision.partner_id in reached_ids:
                partner_levels[decision.partner_id] = decision.level
                for level, line_ids in decision.level_lines.items():
                    level_writes[level].extend(line_ids)
                continue
            decision.reason = "failed"
            decision.detail = "\n".join(
                dict.fromkeys(c.failure_reason for c in communications if c.failure_reason)
            ) or _("No channel reached the customer.")
            unreached |= communications
            unreached_levels[decision.partner_id] = decision.level_lines
        unreached._collection_remember_levels(unreached_levels)
        unreached._collection_task_when_unreached()
        self.env["account.move.line"]._collection_set_levels(level_writes, self.date)
        self.env["collection.case"]._collection_update_from_run(self, partner_levels)

    def _store_decisions(self, decisions):
        self.env["collection.fast"]._insert(
            self.env["collection.run.decision"],
            [
                {
                    "run_id": self.id,
                    "currency_id": self.company_id.currency_id.id,
                    "partner_id": decision.partner_id,
                    "policy_id": decision.policy.id if decision.policy else False,
                    "level_id": decision.level.id if decision.level else False,
                    "reason": "simulated" if decision.to_send and self.run_type == "dry_run" else decision.reason,
                    "detail": decision.detail,
                    "amount_due": decision.amount_due,
                    "amount_credit": decision.amount_credit,
                    "amount_net": decision.amount_net,
                    "line_count": decision.line_count,
                    "channels": ", ".join(
                        f"{channel}: {recipient.display_name}" for channel, recipient in decision.channels
                    ),
                }
                for decision in decisions
            ],
        )

    def _add_counts(self, decisions, facts):
        reminded = sum(1 for decision in decisions if decision.reason == "send")
        self.write(
            {
                "line_count": self.line_count + sum(len(customer.items) for __, customer in facts),
                "partner_count": self.partner_count + len(decisions),
                "reminded_count": self.reminded_count + reminded,
                "skipped_count": self.skipped_count + len(decisions) - reminded,
                "error_count": self.error_count
                + self.env["collection.communication"].search_count(
                    [
                        ("run_id", "=", self.id),
                        ("partner_id", "in", [d.partner_id for d in decisions]),
                        ("state", "=", "failed"),
                    ]
                ),
            }
        )

    @api.autovacuum
    def _gc_old_decisions(self):
        """Decisions explain recent runs; those of old runs go (their communications stay)."""
        limit = fields.Datetime.now() - timedelta(days=DECISION_KEEP_DAYS)
        self.env["collection.run.decision"].sudo().search([("run_id.create_date", "<", limit)]).unlink()

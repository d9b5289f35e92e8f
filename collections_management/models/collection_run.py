import logging
import time
from collections import defaultdict
from datetime import datetime, timedelta

import pytz

from odoo import _, api, fields, models, modules
from odoo.exceptions import UserError
from odoo.tools import SQL, format_date, split_every

from .collection_communication import CONTACT_STATES

_logger = logging.getLogger(__name__)

# First key of the PostgreSQL advisory lock that keeps two runs of a company apart.
RUN_LOCK_KEY = 726512


class CollectionRun(models.Model):
    _name = "collection.run"
    _description = "Collection Run"
    _order = "id desc"

    name = fields.Char(compute="_compute_name", store=True)
    company_id = fields.Many2one("res.company", required=True, index=True, default=lambda self: self.env.company)
    date = fields.Date(
        string="Reminder Date",
        required=True,
        default=fields.Date.context_today,
        help="Date the instalments' levels are computed for.",
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
    started_at = fields.Datetime(readonly=True)
    ended_at = fields.Datetime(readonly=True)
    duration = fields.Float(string="Duration (s)", readonly=True, digits=(16, 2))
    line_count = fields.Integer(string="Instalments Evaluated", readonly=True)
    partner_count = fields.Integer(string="Customers Evaluated", readonly=True)
    reminded_count = fields.Integer(string="Customers Reminded", readonly=True)
    skipped_count = fields.Integer(string="Customers Skipped", readonly=True)
    error_count = fields.Integer(string="Errors", readonly=True)
    log = fields.Text(readonly=True)
    communication_ids = fields.One2many("collection.communication", "run_id", string="Communications")
    communication_count = fields.Integer(compute="_compute_communication_count")

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

    # ------------------------------------------------------------------
    # Entry points
    # ------------------------------------------------------------------

    @api.model
    def _cron_run(self):
        """Scheduled run: one run per company that has a collection policy."""
        self.search(
            [
                ("state", "=", "running"),
                ("started_at", "<", fields.Datetime.now() - timedelta(hours=6)),
            ]
        ).write(
            {
                "state": "failed",
                "log": _("Interrupted: the process running it stopped. The next run carried on."),
            }
        )
        companies = self.env["collection.policy"].search([]).company_id
        for company in companies:
            run = self.with_company(company).create(
                {
                    "company_id": company.id,
                    "run_type": "scheduled",
                    "date": self._company_today(company),
                }
            )
            run._execute()

    @api.model
    def _company_today(self, company):
        """Today in the company's time zone (the scheduler itself runs in UTC)."""
        tz = pytz.timezone(company.partner_id.tz or "UTC")
        return pytz.utc.localize(fields.Datetime.now()).astimezone(tz).date()

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

    # ------------------------------------------------------------------
    # The engine
    # ------------------------------------------------------------------

    def _auto_commit(self):
        """Commit batch by batch only in the scheduler: a run started by hand (or by the demo
        data) stays one transaction, and is sent only if it ends."""
        return bool(self.env.context.get("cron_id")) and not modules.module.current_test

    def _commit(self, processed=0):
        """Commit the work done so far (scheduler only); returns the seconds the scheduler
        still grants this job."""
        if self._auto_commit():
            return self.env["ir.cron"]._commit_progress(processed)
        return float("inf")

    def _execute(self, batch_size=500):
        """Evaluate every customer of the company, batch by batch, and send what is due.

        A real run holds a per-company PostgreSQL advisory lock for its whole duration, so a
        second run of the same company stops at once instead of contacting anybody twice. Each
        batch is committed on its own: a run that dies half-way keeps what it sent, and the
        next run finds those instalments already at their level and sends nothing twice.
        A batch that fails is replayed customer by customer: the faulty customer is logged and
        skipped, the others are reminded.
        """
        self.ensure_one()
        dry_run = self.run_type == "dry_run"
        self.write({"state": "running", "started_at": fields.Datetime.now()})
        start = time.monotonic()
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
            for batch in split_every(batch_size, partner_ids):
                self._process_batch_safely(list(batch))
                self.duration = time.monotonic() - start
                if not self._commit(len(batch)):
                    # Out of time: stop cleanly; the next scheduled run continues where this
                    # one stopped, since reminded instalments are already at their level.
                    self.log = (self.log or "") + _("Stopped by the scheduler's time limit; the next run continues.\n")
                    self.env.ref("collections_management.ir_cron_collection_run")._trigger()
                    break
            self.write(
                {
                    "state": "done",
                    "ended_at": fields.Datetime.now(),
                    "duration": time.monotonic() - start,
                }
            )
            self._commit()
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
                        "log": (self.log or "")
                        + _("%(customer)s skipped: %(error)s\n", customer=partner.display_name, error=error),
                    }
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

    def _get_horizon(self):
        """Latest due date worth reading: today plus the earliest preventive level."""
        min_days = min(
            self.env["collection.level"].search([("company_id", "=", self.company_id.id)]).mapped("days") or [0]
        )
        return self.date - timedelta(days=min_days)

    def _open_lines_query(self, select, partner_ids=None):
        """Open receivable instalments of the company that dunning may speak about."""
        return SQL(
            """
            SELECT %(select)s
              FROM account_move_line aml
              JOIN account_move move ON move.id = aml.move_id
              JOIN account_account account ON account.id = aml.account_id
              JOIN res_partner partner ON partner.id = move.commercial_partner_id
             WHERE aml.company_id = %(company)s
               AND aml.display_type = 'payment_term'
               AND aml.parent_state = 'posted'
               AND account.account_type = 'asset_receivable'
               AND NOT aml.reconciled
               AND aml.amount_residual != 0
               AND move.payment_state NOT IN ('paid', 'in_payment', 'reversed')
               AND partner.active
               AND NOT COALESCE(partner.collection_excluded, FALSE)
               AND (aml.amount_residual < 0 OR (
                        aml.date_maturity <= %(horizon)s
                    AND NOT COALESCE(aml.collection_excluded, FALSE)
                    AND NOT COALESCE(move.collection_excluded, FALSE)
                    AND %(not_paused)s))
               AND %(partners)s
            """,
            select=select,
            company=self.company_id.id,
            horizon=self._get_horizon(),
            not_paused=self.env["account.move.line"]._collection_not_paused_sql("aml"),
            partners=SQL("move.commercial_partner_id IN %s", tuple(partner_ids)) if partner_ids else SQL("TRUE"),
        )

    def _get_candidate_partner_ids(self):
        self.env.flush_all()
        self.env.cr.execute(
            SQL(
                "%s ORDER BY 1",
                self._open_lines_query(SQL("DISTINCT move.commercial_partner_id")),
            )
        )
        partner_ids = [row[0] for row in self.env.cr.fetchall()]
        return partner_ids

    def _read_lines(self, partner_ids):
        self.env.cr.execute(
            SQL(
                "%s ORDER BY move.commercial_partner_id, aml.date_maturity, aml.id",
                self._open_lines_query(
                    SQL(
                        "aml.id, move.commercial_partner_id, aml.date_maturity, aml.amount_residual, "
                        "aml.collection_level_id"
                    ),
                    partner_ids,
                ),
            )
        )
        lines_by_partner = defaultdict(list)
        for row in self.env.cr.fetchall():
            lines_by_partner[row[1]].append(row)
        return lines_by_partner

    def _read_contact_history(self, partner_ids):
        """Per customer: date of the last contact and number of contacts in the 7 days before
        the run, in one query. A contact is one reminder whatever its number of channels."""
        now = self._now()
        self.env.cr.execute(
            SQL(
                """
            SELECT partner_id,
                   MAX(date),
                   COUNT(DISTINCT COALESCE('r' || run_id::text, 'c' || id::text))
                        FILTER (WHERE date > %(week_ago)s)
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
        return {row[0]: (row[1], row[2]) for row in self.env.cr.fetchall()}

    def _now(self):
        """Moment the contact rules are checked for: now for a run of today, else midday of
        the run's date (a dry run on another date)."""
        today = fields.Date.context_today(self)
        if self.date == today:
            return fields.Datetime.now()
        return datetime.combine(self.date, datetime.min.time()) + timedelta(hours=12)

    def _local_now(self):
        tz = pytz.timezone(self.company_id.partner_id.tz or self.env.user.tz or "UTC")
        return pytz.utc.localize(self._now()).astimezone(tz)

    def _contact_window_reason(self, policy):
        """Why the policy forbids contacting anybody right now, or False."""
        local = self._local_now()
        if local.weekday() not in policy._allowed_weekdays():
            return _(
                "%(policy)s does not contact customers on %(day)s.",
                policy=policy.name,
                day=format_date(self.env, local.date(), date_format="EEEE"),
            )
        if self.run_type != "dry_run":
            hour = local.hour + local.minute / 60.0
            if not policy.contact_hour_from <= hour < policy.contact_hour_to:
                return _(
                    "%(policy)s contacts customers between %(start)s and %(end)s only.",
                    policy=policy.name,
                    start=_format_hour(policy.contact_hour_from),
                    end=_format_hour(policy.contact_hour_to),
                )
        return False

    def _process_batch(self, partner_ids):
        """Decide and send the reminders of a batch of customers."""
        Partner = self.env["res.partner"].with_company(self.company_id)
        partners = Partner.browse(partner_ids)
        lines_by_partner = self._read_lines(partner_ids)
        policies = self.env["collection.policy"].search([("company_id", "=", self.company_id.id)])
        policy_by_partner = policies._policies_for_partners(partners)
        recipients = partners._get_collection_recipients()
        history = self._read_contact_history(partner_ids)
        window_reason = {policy: self._contact_window_reason(policy) for policy in policies}
        levels_by_id = {level.id: level for level in policies.level_ids}
        now = self._now()

        communication_values = []
        level_writes = defaultdict(list)
        partner_levels = {}
        skipped = 0
        line_count = 0
        for partner in partners:
            rows = lines_by_partner.get(partner.id, [])
            line_count += len(rows)
            policy = policy_by_partner.get(partner.id)
            if not policy or not policy.level_ids:
                skipped += 1
                continue
            debit_rows = [row for row in rows if row[3] > 0]
            credit = -sum(row[3] for row in rows if row[3] < 0)
            covered, need, best = [], [], None
            for line_id, __, date_maturity, residual, reached_id in debit_rows:
                days_late = (self.date - date_maturity).days
                level = policy._get_level_for_days(days_late)
                if level or days_late > 0:
                    # The reminder lists every overdue instalment, and those a level is due for.
                    covered.append((line_id, residual, date_maturity))
                if not level:
                    continue
                reached = levels_by_id.get(reached_id)
                if not reached or reached.policy_id != policy or reached.days < level.days:
                    need.append((line_id, level))
                    if best is None or level.days > best.days:
                        best = level
            if not need:
                skipped += 1
                continue
            overdue = sum(residual for __, residual, due in covered if due < self.date)
            reference = overdue if best.days > 0 else sum(residual for __, residual, __ in covered)
            if reference - credit < policy.minimum_amount or reference - credit <= 0:
                skipped += 1
                continue
            last_date, week_count = history.get(partner.id, (None, 0))
            if window_reason[policy]:
                skipped += 1
                continue
            if (
                last_date
                and policy.min_days_between_contacts
                and now - last_date < timedelta(days=policy.min_days_between_contacts)
            ):
                skipped += 1
                continue
            if policy.max_contacts_per_week and week_count >= policy.max_contacts_per_week:
                skipped += 1
                continue
            partner_levels[partner.id] = best
            line_ids = [line_id for line_id, __, __ in covered]
            recipient = recipients.get(partner.id, partner)
            for channel in best._get_channels():
                communication_values.append(
                    {
                        "subject": best.name,
                        "date": now,
                        "company_id": self.company_id.id,
                        "partner_id": partner.id,
                        "recipient_id": recipient.id,
                        "channel": channel,
                        "state": "simulated" if self.run_type == "dry_run" else "queued",
                        "run_id": self.id,
                        "level_id": best.id,
                        "line_ids": [fields.Command.set(line_ids)],
                        "amount_total": sum(residual for __, residual, __ in covered),
                        "user_id": self.env.user.id,
                    }
                )
            for line_id, level in need:
                level_writes[level].append(line_id)

        communications = self.env["collection.communication"].create(communication_values)
        if self.run_type != "dry_run":
            self.env["account.move.line"]._collection_set_levels(level_writes, self.date)
            self.env["collection.case"]._collection_update_from_run(self, partner_levels)
            communications._send()
        failed = communications.filtered(lambda c: c.state == "failed")
        self.write(
            {
                "line_count": self.line_count + line_count,
                "partner_count": self.partner_count + len(partners),
                "reminded_count": self.reminded_count + len(partner_levels),
                "skipped_count": self.skipped_count + skipped,
                "error_count": self.error_count + len(failed),
            }
        )


def _format_hour(value):
    hours, minutes = divmod(round(value * 60), 60)
    return f"{hours:02d}:{minutes:02d}"

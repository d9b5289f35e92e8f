import math
from collections import defaultdict
from datetime import datetime, time, timedelta

import pytz
from markupsafe import Markup, escape

from odoo import _, api, fields, models, modules
from odoo.fields import Domain
from odoo.tools import SQL, format_amount, format_date, split_every

from .collection_communication import CONTACT_STATES
from .collection_promise import SETTLED_STATES

# Points of the priority score (out of 100).
SCORE_AMOUNT_MAX = 40.0
SCORE_DAYS_MAX = 30.0
SCORE_PROMISES_MAX = 20.0
SCORE_RELIABILITY_MAX = 10.0
# Stars given by the score.
PRIORITY_THRESHOLDS = [(70.0, "3"), (45.0, "2"), (20.0, "1")]
# How far back broken promises and payment habits count.
HISTORY_DAYS = 365


# The order of the worklist: stars first, then the largest overdue amount. The worklist's list
# view repeats it in its default_order (a test keeps them equal).
WORKLIST_ORDER = "priority desc, amount_overdue desc, id"
# A case nobody has contacted for this many days is worth a call.
WORKLIST_SILENCE_DAYS = 30
# Contacts a collector logs (the contact log wizard): a case worked today leaves the worklist.
WORKED_CHANNELS = ("call", "visit", "note")

CLOSE_REASONS = [
    ("paid", "Paid"),
    ("credited", "Credit note"),
    ("settled", "Nothing left overdue"),
    ("manual", "Closed by hand"),
]


class CollectionCase(models.Model):
    _name = "collection.case"
    _description = "Collection Case"
    _inherit = ["mail.thread", "mail.activity.mixin", "collection.scope.mixin"]
    _order = "is_closed, priority_score desc, id desc"
    # Whose case it is: only managers reassign or re-point a case (checked on write).
    _collection_manager_fields = ("partner_id", "company_id", "user_id", "team_id")

    name = fields.Char(related="partner_id.display_name", store=True, string="Customer Name")
    partner_id = fields.Many2one(
        "res.partner",
        string="Customer",
        required=True,
        index=True,
        ondelete="cascade",
        domain=[("is_company", "=", True)],
    )
    partner_country_id = fields.Many2one(
        related="partner_id.country_id", store=True, string="Country", index="btree_not_null"
    )
    company_id = fields.Many2one("res.company", required=True, index=True, default=lambda self: self.env.company)
    currency_id = fields.Many2one(related="company_id.currency_id")
    user_id = fields.Many2one("res.users", string="Collector", index=True, tracking=True)
    team_id = fields.Many2one("collection.team", index=True, tracking=True)
    stage_id = fields.Many2one(
        "collection.case.stage",
        index=True,
        tracking=True,
        group_expand="_read_group_stage_ids",
        compute="_compute_stage_id",
        store=True,
        readonly=False,
        copy=False,
        domain="['|', ('company_id', '=', False), ('company_id', '=', company_id)]",
    )
    level_id = fields.Many2one("collection.level", tracking=True)
    policy_id = fields.Many2one(related="level_id.policy_id", string="Policy")
    level_stage = fields.Selection(related="level_id.stage", string="Level Stage")
    is_closed = fields.Boolean(related="stage_id.is_closed", store=True)
    date_closed = fields.Date(string="Closed On", compute="_compute_date_closed", store=True, copy=False)
    close_reason = fields.Selection(
        CLOSE_REASONS,
        string="Closed Because",
        compute="_compute_close_reason",
        store=True,
        copy=False,
        help="Why the case closed: the customer paid, a credit note settled what was overdue, nothing was "
        "left overdue for another reason, or someone closed it by hand. Automation rules can watch it.",
    )
    last_payment_date = fields.Date(
        string="Last Payment", readonly=True, copy=False, help="Date of the last payment applied to an instalment."
    )
    last_payment_amount = fields.Monetary(
        readonly=True,
        copy=False,
        currency_field="currency_id",
        help="What the last payment settled on the customer's instalments, in company currency.",
    )
    last_payment_move_id = fields.Many2one(
        "account.move",
        string="Last Payment Entry",
        readonly=True,
        copy=False,
        ondelete="set null",
        help="Journal entry of the last payment applied to an instalment; automation rules can watch it.",
    )
    color = fields.Integer()

    # Amounts: always read from the receivable instalments and their reconciliation.
    amount_due = fields.Monetary(
        string="Total Due",
        compute="_compute_amounts",
        store=True,
        currency_field="currency_id",
        help="Residual of every open receivable instalment of the customer, in company currency.",
    )
    amount_overdue = fields.Monetary(
        string="Total Overdue",
        compute="_compute_amounts",
        store=True,
        currency_field="currency_id",
        help="Residual of the instalments past their due date, in company currency.",
    )
    overdue_line_count = fields.Integer(string="Overdue Instalments", compute="_compute_amounts", store=True)
    oldest_due_date = fields.Date(
        compute="_compute_amounts",
        store=True,
        help="Due date of the oldest instalment still overdue.",
    )
    amounts_date = fields.Date(
        string="Amounts As Of",
        compute="_compute_amounts",
        store=True,
        help="Day the overdue amounts and the priority were last computed.",
    )
    days_late = fields.Integer(
        compute="_compute_days_late",
        search="_search_days_late",
        help="Days since the oldest overdue instalment fell due.",
    )
    overdue_line_ids = fields.Many2many(
        "account.move.line", compute="_compute_overdue_line_ids", string="Overdue Instalment Lines"
    )
    open_line_ids = fields.Many2many(
        "account.move.line", compute="_compute_overdue_line_ids", string="Open Instalments"
    )
    upcoming_line_ids = fields.Many2many(
        "account.move.line", compute="_compute_overdue_line_ids", string="Instalments Not Yet Due"
    )
    overdue_summary = fields.Html(compute="_compute_overdue_line_ids", string="Overdue by Currency", sanitize=False)

    # Priority score, explained on the form.
    score_amount = fields.Float(string="Amount Points", compute="_compute_amounts", store=True, digits=(16, 1))
    score_days = fields.Float(string="Lateness Points", compute="_compute_amounts", store=True, digits=(16, 1))
    score_promises = fields.Float(
        string="Broken Promise Points", compute="_compute_amounts", store=True, digits=(16, 1)
    )
    score_reliability = fields.Float(
        string="Payment Habit Points", compute="_compute_amounts", store=True, digits=(16, 1)
    )
    priority_score = fields.Float(
        compute="_compute_amounts",
        store=True,
        digits=(16, 1),
        index=True,
        help="0 to 100: the sum of the amount, lateness, broken promise and payment habit points.",
    )
    broken_promise_count = fields.Integer(string="Broken Promises (12 months)", compute="_compute_amounts", store=True)
    payment_on_time_rate = fields.Float(
        string="Paid on Time (12 months)",
        compute="_compute_amounts",
        store=True,
        digits=(16, 1),
        help="Share of the instalments paid in the last 12 months that were paid by their due date. "
        "-1 when the customer has no payment history yet.",
    )
    priority = fields.Selection(
        [("0", "Normal"), ("1", "Medium"), ("2", "High"), ("3", "Urgent")],
        compute="_compute_priority",
        store=True,
        readonly=False,
    )

    # Promises, disputes, contacts
    promise_ids = fields.One2many("collection.promise", "case_id", string="Promises")
    promise_id = fields.Many2one("collection.promise", compute="_compute_promise_info", string="Open Promise")
    promise_state = fields.Selection(
        [("open", "Promised"), ("kept", "Kept"), ("partial", "Partly Kept"), ("broken", "Broken")],
        compute="_compute_promise_info",
        string="Last Promise",
    )
    promise_date = fields.Date(
        compute="_compute_promise_info", string="Promise Due", help="Date the open promise is due by."
    )
    promise_count = fields.Integer(compute="_compute_promise_info")
    has_settled_promise = fields.Boolean(
        compute="_compute_promise_info", help="The customer has kept, partly kept or broken a promise."
    )
    dispute_ids = fields.One2many("collection.dispute", "case_id", string="Disputes")
    open_dispute_count = fields.Integer(compute="_compute_dispute_info", string="Open Disputes")
    dispute_count = fields.Integer(compute="_compute_dispute_info")
    payment_claim_ids = fields.One2many("collection.payment.claim", "case_id", string="Payments Declared")
    payment_claim_count = fields.Integer(
        compute="_compute_payment_claim_count", string="Payments to Verify", help="Payments still to verify."
    )
    promise_kept_rate = fields.Float(related="partner_id.collection_promise_kept_rate")
    communication_ids = fields.One2many(
        "collection.communication", compute="_compute_communication_ids", string="Contacts"
    )
    communication_count = fields.Integer(compute="_compute_communication_ids")
    last_contact_date = fields.Datetime(compute="_compute_last_contact_date", string="Last Contact")
    phone = fields.Char(related="partner_id.phone")
    email = fields.Char(related="partner_id.email")
    phone_wrong = fields.Boolean(related="partner_id.collection_phone_wrong")

    worklist_reason = fields.Char(
        string="Why Call",
        compute="_compute_worklist_reason",
        search="_search_worklist_reason",
        help="Why the case is on the collector's worklist today: a call task due, a broken promise, "
        "a promise due, or no contact for a while. Empty when there is no reason to call today.",
    )

    _unique_partner_company = models.Constraint(
        "UNIQUE(partner_id, company_id)", "A customer has one collection case per company."
    )

    # ------------------------------------------------------------------
    # Computes
    # ------------------------------------------------------------------

    @api.model
    def _read_group_stage_ids(self, stages, domain):
        return stages.search([])

    # ------------------------------------------------------------------
    # Stages by role: the one place that moves a case
    # ------------------------------------------------------------------

    def _collection_stages(self, role):
        """{company: stage of ``role``} for the companies of these cases: the company's own
        stage of that role, else a shared one. A database whose shipped stages have no role yet
        still finds its first open stage as "new" and its first closing stage as "closed"."""
        Stage = self.env["collection.case.stage"].sudo()
        company_ids = [False, *self.company_id.ids]
        stages = Stage.search([("role", "=", role), ("company_id", "in", company_ids)])
        if not stages and role in ("new", "closed"):
            stages = Stage.search([("is_closed", "=", role == "closed"), ("company_id", "in", company_ids)])
        shared = stages.filtered(lambda stage: not stage.company_id)[:1]
        return {
            company: stages.filtered(lambda stage, company=company: stage.company_id == company)[:1] or shared
            for company in self.company_id
        }

    def _collection_move_to(self, role, only_from=None):
        """Move these cases to their company's stage of ``role`` (see ``_collection_stages``).

        Closed cases stay closed unless ``role`` is "closed"; with ``only_from`` (roles), only
        cases now in a stage of one of those roles move. Moving to "promise" or "dispute" cancels
        the case's open call task: there is nobody to chase until the promise or dispute ends.
        Returns the cases moved."""
        moved = self.browse()
        for company, stage in self._collection_stages(role).items():
            if not stage:
                continue
            cases = self.filtered(
                lambda case, company=company, stage=stage: (
                    case.company_id == company
                    and case.stage_id != stage
                    and (role == "closed" or not case.is_closed)
                    and (only_from is None or case.stage_id.role in only_from)
                )
            )
            if cases:
                cases.write({"stage_id": stage.id})
                moved |= cases
        if role in ("promise", "dispute"):
            self._collection_cancel_call_tasks()
        return moved

    def _collection_cancel_call_tasks(self):
        """Cancel the engine's open call task of these cases (the one task the engine keeps per
        case, see ``_collection_set_engine_tasks``). Calls a collector scheduled for themselves
        (a callback the customer asked for, a call again after no answer) stay: the collector
        decided them, not the dunning level."""
        if not self:
            return
        # The engine's task is assigned to whoever the level named, not always the user who logs
        # the outcome: it is cancelled as Collections, as the engine created it.
        tasks_sudo = (
            self.env["mail.activity"]
            .sudo()
            .search(
                [
                    ("res_model", "=", self._name),
                    ("res_id", "in", self.ids),
                    ("collection_engine_task", "=", True),
                    ("collection_communication_id.channel", "=", "call"),
                ]
            )
        )
        tasks_sudo.unlink()

    @api.depends("amount_overdue")
    def _compute_stage_id(self):
        """A case closes by itself when nothing is overdue any more and reopens when something
        falls overdue again; in between, collectors (and the engine) move it freely."""
        new_stages = self._collection_stages("new")
        closed_stages = self._collection_stages("closed")
        for case in self:
            new_stage = new_stages.get(case.company_id)
            closed_stage = closed_stages.get(case.company_id)
            nothing_overdue = case.currency_id.is_zero(case.amount_overdue) or case.amount_overdue < 0
            if nothing_overdue and closed_stage and not case.stage_id.is_closed:
                case.stage_id = closed_stage
            elif not nothing_overdue and (not case.stage_id or case.stage_id.is_closed) and new_stage:
                case.stage_id = new_stage

    @api.depends("is_closed")
    def _compute_date_closed(self):
        today = fields.Date.context_today(self)
        for case in self:
            if not case.is_closed:
                case.date_closed = False
            elif not case.date_closed:
                case.date_closed = today

    @api.depends("stage_id", "amount_overdue")
    def _compute_close_reason(self):
        # A stage being computed right now (this compute runs inside it when an automation rule
        # reads the reason) is still the old one; it follows the overdue amount: closed when
        # nothing is overdue any more.
        stage_pending = self.env.protected(self._fields["stage_id"])

        def nothing_overdue(case):
            return case.currency_id.is_zero(case.amount_overdue) or case.amount_overdue < 0

        def closed(case):
            return nothing_overdue(case) if case in stage_pending else case.stage_id.is_closed

        closing = self.filtered(lambda case: case.id and closed(case) and not case.close_reason)
        settled_by = closing._read_last_settlement()
        for case in self:
            if not closed(case):
                case.close_reason = False
            elif case in closing:
                if not nothing_overdue(case):
                    case.close_reason = "manual"
                else:
                    case.close_reason = settled_by.get((case.partner_id.id, case.company_id.id), "settled")
            else:
                case.close_reason = case.close_reason

    def _read_last_settlement(self):
        """{(partner, company): "paid" or "credited"}: what the last reconciliation of each
        customer's receivable instalments was, a payment or a credit note. One query."""
        if not self:
            return {}
        self.env["account.move.line"].flush_model(["partner_id", "company_id", "display_type", "move_id"])
        self.env["account.move"].flush_model(["move_type"])
        self.env["account.partial.reconcile"].flush_model(["debit_move_id", "credit_move_id"])
        self.env.cr.execute(
            SQL(
                """
            SELECT DISTINCT ON (aml.partner_id, aml.company_id)
                   aml.partner_id, aml.company_id, counterpart_move.move_type
              FROM account_partial_reconcile partial
              JOIN account_move_line aml ON aml.id = partial.debit_move_id
              JOIN account_move_line counterpart ON counterpart.id = partial.credit_move_id
              JOIN account_move counterpart_move ON counterpart_move.id = counterpart.move_id
             WHERE aml.partner_id IN %(partners)s
               AND aml.company_id IN %(companies)s
               AND aml.display_type = 'payment_term'
             ORDER BY aml.partner_id, aml.company_id, partial.id DESC
            """,
                partners=tuple(self.partner_id.ids),
                companies=tuple(self.company_id.ids),
            )
        )
        return {
            (partner_id, company_id): "credited" if move_type == "out_refund" else "paid"
            for partner_id, company_id, move_type in self.env.cr.fetchall()
        }

    @api.model
    def _collection_record_payments(self, partials):
        """Note on the cases of the customers the last payment among ``partials`` (reconciliations
        of receivable instalments with a payment, not a credit note): its date, entry and what it
        settled. One UPDATE for all the cases; automation rules watching these fields run as after
        an ORM write."""
        payments = {}
        for partial in partials.sorted("id"):
            line, counterpart = partial.debit_move_id, partial.credit_move_id
            key = (line.partner_id.commercial_partner_id.id, line.company_id.id)
            __, move, amount = payments.get(key, (None, None, 0.0))
            if move != counterpart.move_id:
                amount = 0.0
            payments[key] = (counterpart.date, counterpart.move_id, amount + partial.amount)
        if not payments:
            return self.browse()
        cases = (
            self.sudo()
            .search(
                [
                    ("partner_id", "in", [key[0] for key in payments]),
                    ("company_id", "in", [key[1] for key in payments]),
                ]
            )
            .filtered(lambda case: (case.partner_id.id, case.company_id.id) in payments)
        )
        if not cases:
            return cases
        values_by_id = {}
        for case in cases:
            date, move, amount = payments[case.partner_id.id, case.company_id.id]
            values_by_id[case.id] = {
                "last_payment_date": date,
                "last_payment_move_id": move.id,
                "last_payment_amount": amount,
            }
        self.env["collection.fast"].sudo()._write_rows(cases, values_by_id)
        return cases

    def _receivable_domain(self):
        return (
            Domain(
                [
                    ("partner_id", "in", self.partner_id.ids),
                    ("company_id", "in", self.company_id.ids),
                ]
            )
            & self.env["account.move.line"]._collection_open_domain()
        )

    @api.depends(
        "partner_id",
        "company_id",
        "partner_id.collection_aml_ids.amount_residual",
        "partner_id.collection_aml_ids.parent_state",
        "partner_id.collection_aml_ids.date_maturity",
        "partner_id.collection_aml_ids.move_id.payment_state",
        "promise_ids.state",
    )
    def _compute_amounts(self):
        """Amounts, oldest due date and priority score of a batch of cases, in a handful of
        queries whatever the number of cases."""
        today = fields.Date.context_today(self)
        cases = self.filtered("id")
        AML = self.env["account.move.line"].sudo()
        due, overdue = {}, {}
        if cases:
            domain = cases._receivable_domain()
            for partner, company, total in AML._read_group(
                domain, ["partner_id", "company_id"], ["amount_residual:sum"]
            ):
                due[partner.id, company.id] = total
            for partner, company, total, oldest, count in AML._read_group(
                domain & Domain("date_maturity", "<", today),
                ["partner_id", "company_id"],
                ["amount_residual:sum", "date_maturity:min", "__count"],
            ):
                overdue[partner.id, company.id] = (total, oldest, count)
        broken = cases._read_broken_promises(today)
        habits = cases._read_payment_habits(today)
        for case in self:
            key = (case.partner_id.id, case.company_id.id)
            total, oldest, count = overdue.get(key, (0.0, False, 0))
            case.amount_due = due.get(key, 0.0)
            case.amount_overdue = total
            case.oldest_due_date = oldest
            case.overdue_line_count = count
            case.amounts_date = today
            days = (today - oldest).days if oldest else 0
            case.broken_promise_count = broken.get(case.id, 0)
            paid, on_time = habits.get(key, (0, 0))
            case.payment_on_time_rate = 100.0 * on_time / paid if paid else -1.0
            case.score_amount = min(SCORE_AMOUNT_MAX, 10.0 * math.log10(max(total, 1.0))) if total > 0 else 0.0
            case.score_days = min(SCORE_DAYS_MAX, days / 3.0)
            case.score_promises = min(SCORE_PROMISES_MAX, 10.0 * case.broken_promise_count)
            case.score_reliability = (
                (SCORE_RELIABILITY_MAX * (1 - on_time / paid) if paid else SCORE_RELIABILITY_MAX / 2)
                if total > 0
                else 0.0
            )
            case.priority_score = round(
                case.score_amount + case.score_days + case.score_promises + case.score_reliability, 1
            )

    def _read_broken_promises(self, today):
        if not self:
            return {}
        rows = (
            self.env["collection.promise"]
            .sudo()
            ._read_group(
                [
                    ("case_id", "in", self.ids),
                    ("state", "in", ("broken", "partial")),
                    ("date", ">=", today - timedelta(days=HISTORY_DAYS)),
                ],
                ["case_id"],
                ["__count"],
            )
        )
        return {case.id: count for case, count in rows}

    def _read_payment_habits(self, today):
        """{(partner, company): (instalments paid, paid by their due date)} over the last year,
        from the reconciliation of the customers' receivable instalments."""
        if not self:
            return {}
        self.env["account.move.line"].flush_model(
            [
                "partner_id",
                "company_id",
                "display_type",
                "parent_state",
                "reconciled",
                "balance",
                "date_maturity",
                "account_id",
                "date",
            ]
        )
        self.env["account.partial.reconcile"].flush_model(["debit_move_id", "credit_move_id"])
        self.env.cr.execute(
            SQL(
                """
            SELECT aml.partner_id, aml.company_id, COUNT(*),
                   COUNT(*) FILTER (WHERE paid.last_date <= aml.date_maturity)
              FROM account_move_line aml
              JOIN account_account account ON account.id = aml.account_id
              JOIN LATERAL (
                    SELECT MAX(counterpart.date) AS last_date
                      FROM account_partial_reconcile partial
                      JOIN account_move_line counterpart ON counterpart.id = partial.credit_move_id
                     WHERE partial.debit_move_id = aml.id
                   ) paid ON paid.last_date IS NOT NULL
             WHERE aml.partner_id IN %(partners)s
               AND aml.company_id IN %(companies)s
               AND aml.display_type = 'payment_term'
               AND aml.parent_state = 'posted'
               AND aml.reconciled
               AND aml.balance > 0
               AND account.account_type = 'asset_receivable'
               AND aml.date_maturity >= %(since)s
             GROUP BY aml.partner_id, aml.company_id
            """,
                partners=tuple(self.partner_id.ids),
                companies=tuple(self.company_id.ids),
                since=today - timedelta(days=HISTORY_DAYS),
            )
        )
        return {(row[0], row[1]): (row[2], row[3]) for row in self.env.cr.fetchall()}

    @api.depends("priority_score")
    def _compute_priority(self):
        for case in self:
            case.priority = next(
                (stars for threshold, stars in PRIORITY_THRESHOLDS if case.priority_score >= threshold), "0"
            )

    @api.depends("oldest_due_date")
    def _compute_days_late(self):
        today = fields.Date.context_today(self)
        for case in self:
            case.days_late = (today - case.oldest_due_date).days if case.oldest_due_date else 0

    def _search_days_late(self, operator, value):
        """Days late compared to a number is the oldest due date compared to a date."""
        if operator not in ("<", "<=", ">", ">=", "=") or not isinstance(value, int):
            return NotImplemented
        today = fields.Date.context_today(self)
        limit = today - timedelta(days=value)
        if operator == "=":
            if value == 0:
                return [("oldest_due_date", "=", False)]
            return [("oldest_due_date", "=", limit)]
        flipped = {"<": ">", "<=": ">=", ">": "<", ">=": "<="}[operator]
        domain = Domain("oldest_due_date", flipped, limit)
        if operator in ("<", "<=") and value > 0:
            domain |= Domain("oldest_due_date", "=", False)
        return domain

    @api.depends("partner_id", "company_id", "amount_due")
    def _compute_overdue_line_ids(self):
        today = fields.Date.context_today(self)
        cases = self.filtered("id")
        lines = self.env["account.move.line"]
        if cases:
            lines = self.env["account.move.line"].search(cases._receivable_domain(), order="date_maturity, id")
        by_case = defaultdict(lambda: self.env["account.move.line"])
        for line in lines:
            by_case[line.partner_id.id, line.company_id.id] |= line
        for case in self:
            open_lines = by_case.get((case.partner_id.id, case.company_id.id), lines.browse())
            overdue_lines = open_lines.filtered(lambda line: line.date_maturity and line.date_maturity < today)
            case.open_line_ids = open_lines
            case.overdue_line_ids = overdue_lines
            case.upcoming_line_ids = open_lines - overdue_lines
            case.overdue_summary = case._format_overdue_summary(overdue_lines, today)

    def _format_overdue_summary(self, lines, today):
        """One row per currency: overdue residual in that currency and the oldest days late."""
        totals = {}
        for line in lines:
            currency = line.currency_id or line.company_currency_id
            amount = line.amount_residual_currency if line.currency_id else line.amount_residual
            total, oldest = totals.get(currency, (0.0, line.date_maturity))
            totals[currency] = (total + amount, min(oldest, line.date_maturity))
        if not totals:
            return False
        rows = Markup("").join(
            Markup("<tr><td>%s</td><td class='text-end'>%s</td><td class='text-end'>%s</td></tr>")
            % (
                currency.name,
                format_amount(self.env, total, currency),
                _("%s days late", (today - oldest).days),
            )
            for currency, (total, oldest) in sorted(totals.items(), key=lambda item: item[0].name)
        )
        return Markup("<table class='table table-sm mb-0'><tbody>%s</tbody></table>") % rows

    @api.depends("promise_ids.state", "partner_id.collection_promise_ids.state")
    def _compute_promise_info(self):
        for case in self:
            promises = case.promise_ids.filtered(lambda p: p.state != "cancelled").sorted(
                lambda p: (p.date_made or p.date, p.id), reverse=True
            )
            open_promises = promises.filtered(lambda p: p.state == "open")
            case.promise_id = open_promises[:1]
            case.promise_date = open_promises[:1].date
            case.promise_state = promises[:1].state or False
            case.promise_count = len(case.promise_ids)
            case.has_settled_promise = any(p.state in SETTLED_STATES for p in case.partner_id.collection_promise_ids)

    @api.depends("dispute_ids.state")
    def _compute_dispute_info(self):
        for case in self:
            case.dispute_count = len(case.dispute_ids)
            case.open_dispute_count = len(case.dispute_ids.filtered(lambda d: d.state == "open"))

    @api.depends("payment_claim_ids.state")
    def _compute_payment_claim_count(self):
        for case in self:
            case.payment_claim_count = len(case.payment_claim_ids.filtered(lambda c: c.state == "to_verify"))

    @api.depends("partner_id", "company_id")
    def _compute_communication_ids(self):
        Communication = self.env["collection.communication"]
        communications = (
            Communication.search(
                [
                    ("partner_id", "in", self.partner_id.ids),
                    ("company_id", "in", self.company_id.ids),
                    ("state", "!=", "simulated"),
                ]
            )
            if self.partner_id
            else Communication
        )
        by_key = defaultdict(lambda: Communication)
        for communication in communications:
            by_key[communication.partner_id.id, communication.company_id.id] |= communication
        for case in self:
            case_communications = by_key.get((case.partner_id.id, case.company_id.id), Communication)
            case.communication_ids = case_communications
            case.communication_count = len(case_communications)

    @api.depends("partner_id", "company_id")
    def _compute_last_contact_date(self):
        """The last contact of each case's customer: one grouped query for the batch (lists and
        kanban cards show it). A contact is what counts for the policy's contact limits (queued
        included)."""
        last = {}
        if self.partner_id:
            for partner, company, date in self.env["collection.communication"]._read_group(
                [
                    ("partner_id", "in", self.partner_id.ids),
                    ("company_id", "in", self.company_id.ids),
                    ("state", "in", CONTACT_STATES),
                ],
                ["partner_id", "company_id"],
                ["date:max"],
            ):
                last[partner.id, company.id] = date
        for case in self:
            case.last_contact_date = last.get((case.partner_id.id, case.company_id.id), False)

    # ------------------------------------------------------------------
    # Refreshing: amounts depend on the day (instalments fall overdue)
    # ------------------------------------------------------------------

    def _refresh_amounts(self):
        """Recompute amounts and priority of these cases for today (stage follows)."""
        if not self:
            return
        scores = {case.id: case.priority_score for case in self}
        amount_fields = self.pool.field_computed[self._fields["amount_due"]]
        closing_fields = [self._fields[fname] for fname in ("stage_id", "is_closed", "date_closed", "close_reason")]
        for field in [*amount_fields, *closing_fields]:
            self.env.add_to_compute(field, self)
        self._recompute_recordset()
        changed = self.filtered(lambda case: case.priority_score != scores[case.id])
        self.env.add_to_compute(self._fields["priority"], changed)
        self._recompute_recordset(["priority"])
        self.flush_recordset()
        reopened = self.filtered(lambda case: not case.is_closed and not case.user_id)
        reopened._assign_cases()

    @api.model
    def _cron_refresh_cases(self, batch_size=500):
        """Daily: recompute open cases and closed cases with something not yet due, so cases
        reopen when an instalment falls overdue and priorities follow the days late."""
        cases = self.sudo().search(["|", ("is_closed", "=", False), ("amount_due", ">", 0)])
        in_cron = bool(self.env.context.get("ir_cron_progress_id")) and not modules.module.current_test
        for batch in split_every(batch_size, cases.ids):
            batch_cases = self.sudo().browse(batch)
            batch_cases._refresh_amounts()
            if in_cron:
                self.env["ir.cron"]._commit_progress(len(batch))

    # ------------------------------------------------------------------
    # Engine contract
    # ------------------------------------------------------------------

    @api.model
    def _collection_update_from_run(self, run, partner_levels):
        """Open (or reopen) the case of every customer reminded by ``run`` for something overdue,
        record the level reached, assign new cases and escalate as the new level says.
        ``partner_levels`` maps commercial partner ids to the level sent. Batched: a few
        queries per batch of customers, none per customer."""
        if not partner_levels:
            return
        # The engine's own updates are not tracked one message per case: the communications and
        # the level on the case already say what happened, and tracking would cost queries per case.
        Case = self.sudo().with_company(run.company_id).with_context(tracking_disable=True)
        cases = Case.search(
            [
                ("partner_id", "in", list(partner_levels)),
                ("company_id", "=", run.company_id.id),
            ]
        )
        existing = {case.partner_id.id: case for case in cases}
        new_cases = Case.create(
            [
                {"partner_id": partner_id, "company_id": run.company_id.id, "level_id": level.id}
                for partner_id, level in partner_levels.items()
                if partner_id not in existing and level.days > 0
            ]
        )
        cases._refresh_amounts()
        escalations = {case: case.level_id for case in new_cases}
        by_level = defaultdict(lambda: Case)
        for partner_id, case in existing.items():
            level, previous = partner_levels[partner_id], case.level_id
            if level == previous:
                continue
            higher = not previous or previous.policy_id != level.policy_id or level.days > previous.days
            if not higher and not case.is_closed:
                # The case level never drops while the customer still owes what reached it.
                continue
            by_level[level] |= case
            if higher:
                escalations[case] = level
        for level, level_cases in by_level.items():
            level_cases.write({"level_id": level.id})
        new_cases._assign_cases()
        Case._escalate(escalations)

    @api.model
    def _escalate(self, case_levels):
        """Apply the escalation of the level each case reached: move it to the level's stage,
        give it to the team manager, and create a task for whoever has it now."""
        by_stage = defaultdict(lambda: self.browse())
        by_manager = defaultdict(lambda: self.browse())
        escalated = {}
        for case, level in case_levels.items():
            if case.is_closed or not (level.case_stage_id or level.assign_to_manager):
                continue
            escalated[case] = level
            if level.case_stage_id and case.stage_id != level.case_stage_id:
                by_stage[level.case_stage_id] |= case
            if level.assign_to_manager and case.team_id.user_id and case.user_id != case.team_id.user_id:
                by_manager[case.team_id.user_id] |= case
        for stage, cases in by_stage.items():
            cases.write({"stage_id": stage.id})
        for manager, cases in by_manager.items():
            cases.write({"user_id": manager.id})
        if not escalated:
            return
        self.browse([case.id for case in escalated])._message_log_batch(
            bodies={
                case.id: escape(self.env._("Escalated at level %(level)s.", level=level.name))
                for case, level in escalated.items()
            }
        )
        todo = self.env.ref("mail.mail_activity_data_todo")
        memo = {}
        self.browse([case.id for case in escalated])._collection_set_engine_tasks(
            {
                case: {
                    "activity_type_id": todo.id,
                    "summary": self.env._("Escalated: %(level)s", level=level.name),
                    "note": Markup("<p>%s</p>")
                    % self.env._(
                        "The customer reached %(level)s. Review the case and decide the next step.", level=level.name
                    ),
                    "user_id": case._collection_task_user(level, memo).id,
                    "collection_communication_id": False,
                }
                for case, level in escalated.items()
            }
        )

    def _collection_task_user(self, level=None, memo=None):
        """The person who gets a collections task of this case: the level's choice (a user or
        the team manager) when it makes one, else the case's collector, else the team manager,
        else the user named on the level, else the company's default collections user, else
        the user at work or a collections manager; never OdooBot. ``memo`` keeps the last
        resort per company across the cases of a batch."""
        self.ensure_one()
        level = level or self.env["collection.level"]
        if level.call_user_mode == "user" and level.call_user_id:
            return level.call_user_id
        if level.call_user_mode == "manager" and self.team_id.user_id:
            return self.team_id.user_id
        user = (
            self.user_id
            or self.team_id.user_id
            or level.call_user_id
            or self.company_id.collection_default_user_id
            or (self.env.user if not self.env.user._is_superuser() else self.env["res.users"])
        )
        if not user:
            memo = {} if memo is None else memo
            if self.company_id.id not in memo:
                memo[self.company_id.id] = (
                    self.env["res.users"]
                    .sudo()
                    .search(
                        [
                            (
                                "group_ids",
                                "in",
                                self.env.ref("collections_management.collections_management_group_manager").id,
                            ),
                            ("company_ids", "in", self.company_id.id),
                            ("id", "!=", self.env.ref("base.user_root").id),
                            ("share", "=", False),
                        ],
                        order="id",
                        limit=1,
                    )
                )
            user = memo[self.company_id.id]
        return user

    def _collection_set_engine_tasks(self, values_by_case):
        """Keep one open engine task per case: the open one is updated with ``values`` (a
        call replaces it, an escalation replaces it), else a task is created. No e-mail per
        task from a batch of the engine: tasks show in their owner's activities."""
        Activity = self.env["mail.activity"].sudo().with_context(mail_activity_quick_update=True)
        open_tasks = Activity.search(
            [
                ("res_model", "=", self._name),
                ("res_id", "in", [case.id for case in values_by_case]),
                ("collection_engine_task", "=", True),
            ]
        )
        task_by_case = {task.res_id: task for task in open_tasks}
        model_id = self.env["ir.model"]._get_id(self._name)
        today = fields.Date.context_today(self)
        to_create = []
        to_write = defaultdict(lambda: Activity)
        for case, values in values_by_case.items():
            values = dict(values, date_deadline=values.get("date_deadline") or today)
            task = task_by_case.get(case.id)
            if task:
                to_write[tuple(sorted(values.items()))] |= task
            else:
                to_create.append(dict(values, res_model_id=model_id, res_id=case.id, collection_engine_task=True))
        tasks = Activity
        for values, same_tasks in to_write.items():
            same_tasks.write(dict(values))
            tasks |= same_tasks
        return tasks | Activity.create(to_create)

    @api.model
    def _collection_schedule_calls(self, communications):
        """The call channel: each customer's case (opened when missing) gets its one open call
        task for the communication, given to a person (``_collection_task_user``)."""
        Case = self.sudo().with_context(tracking_disable=True)
        default_type = self.env.ref("mail.mail_activity_data_call")
        cases = Case.search(
            [("partner_id", "in", communications.partner_id.ids), ("company_id", "in", communications.company_id.ids)]
        )
        case_by_key = {(case.partner_id.id, case.company_id.id): case for case in cases}
        missing = {
            (c.partner_id.id, c.company_id.id)
            for c in communications
            if (c.partner_id.id, c.company_id.id) not in case_by_key
        }
        if missing:
            new_cases = Case.create(
                [{"partner_id": partner_id, "company_id": company_id} for partner_id, company_id in missing]
            )
            new_cases._assign_cases()
            case_by_key.update({(case.partner_id.id, case.company_id.id): case for case in new_cases})
        values_by_case, memo = {}, {}
        for communication in communications:
            case = case_by_key[communication.partner_id.id, communication.company_id.id]
            level = communication.level_id
            values_by_case[case] = {
                "activity_type_id": (level.call_activity_type_id or default_type).id,
                "summary": _(
                    "Call %(customer)s: %(level)s",
                    customer=communication.partner_id.display_name,
                    level=level.name or _("overdue invoices"),
                ),
                "note": communication._get_task_note(),
                "user_id": case._collection_task_user(level, memo).id,
                "collection_communication_id": communication.id,
            }
        return Case._collection_set_engine_tasks(values_by_case)

    # ------------------------------------------------------------------
    # Assignment
    # ------------------------------------------------------------------

    def _assign_cases(self):
        """Give a team and a collector to the cases in ``self`` that have none: the customer's
        own collector first, else the first team (by sequence) whose customer rule matches,
        then the team's assignment method. A few queries per team, none per case."""
        cases = self.sudo().filtered(lambda case: not case.user_id)
        if not cases:
            return
        Team = self.env["collection.team"].sudo()
        teams = Team.search([("company_id", "in", cases.company_id.ids)])
        for company, company_cases in cases.grouped("company_id").items():
            company_teams = teams.filtered(lambda team, company=company: team.company_id == company)
            fixed = defaultdict(lambda: self.browse())
            for case in company_cases:
                collector = case.partner_id.with_company(company).collection_user_id
                if collector:
                    fixed[collector] |= case
            for collector, collector_cases in fixed.items():
                values = {"user_id": collector.id}
                team = company_teams.filtered(lambda t, u=collector: u in t.member_ids or u == t.user_id)[:1]
                without_team = collector_cases.filtered(lambda case: not case.team_id)
                if team and without_team:
                    without_team.write({"team_id": team.id})
                collector_cases.write(values)
            remaining = company_cases.filtered(lambda case: not case.user_id and not case.team_id)
            for team in company_teams:
                if not remaining:
                    break
                matched_partners = (
                    self.env["res.partner"]
                    .sudo()
                    .search(Domain("id", "in", remaining.partner_id.ids) & team._get_partner_domain())
                )
                matched = remaining.filtered(lambda case, p=matched_partners: case.partner_id in p)
                if matched:
                    matched.write({"team_id": team.id})
                remaining -= matched
        for team, team_cases in cases.filtered(lambda c: c.team_id and not c.user_id).grouped("team_id").items():
            team._assign_collectors(team_cases)

    # ------------------------------------------------------------------
    # The worklist: who is on it and in which order
    # ------------------------------------------------------------------

    @api.model
    def _collection_worklist_domain(self):
        """Cases to call today, whoever works them (record rules narrow them to the collector's
        own and team cases): open, not paused (customer excluded from collections, case in
        dispute), not worked today (no call, visit or message logged since midnight), and with
        a reason to call: a call task due, a broken promise, a promise due, or no contact for
        ``WORKLIST_SILENCE_DAYS`` days. The order is ``WORKLIST_ORDER``."""
        today = fields.Date.context_today(self)
        tz = pytz.timezone(self.env.context.get("tz") or self.env.user.tz or "UTC")
        midnight = tz.localize(datetime.combine(today, time.min)).astimezone(pytz.utc).replace(tzinfo=None)
        silent_since = fields.Datetime.now() - timedelta(days=WORKLIST_SILENCE_DAYS)

        activities_sudo = self.env["mail.activity"].sudo()._search(self._collection_calls_due_domain(today))
        promises_sudo = (
            self.env["collection.promise"]
            .sudo()
            ._search(
                Domain([("case_id", "!=", False), ("state", "=", "open")])
                & (Domain("date", "<=", today) | Domain("plan_line_ids.date", "=", today))
            )
        )
        self.env["mail.activity"].flush_model(["res_id"])
        self.env["collection.promise"].flush_model(["case_id"])
        self.env["collection.communication"].flush_model(["partner_id", "company_id", "state", "date", "channel"])
        self.flush_model(["partner_id", "company_id"])
        contacted = SQL(
            """SELECT c.id
                 FROM collection_case c
                 JOIN collection_communication m
                   ON m.partner_id = c.partner_id AND m.company_id = c.company_id
                WHERE m.state IN %(states)s AND m.date >= %(since)s""",
            states=CONTACT_STATES,
            since=silent_since,
        )
        worked_today = SQL(
            """SELECT c.id
                 FROM collection_case c
                 JOIN collection_communication m
                   ON m.partner_id = c.partner_id AND m.company_id = c.company_id
                WHERE m.channel IN %(channels)s AND m.state = 'done' AND m.date >= %(midnight)s""",
            channels=WORKED_CHANNELS,
            midnight=midnight,
        )
        reasons = Domain.OR(
            [
                Domain("id", "any!", activities_sudo.subselect(SQL.identifier(activities_sudo.table, "res_id"))),
                Domain("stage_id.role", "=", "broken_promise"),
                Domain("id", "any!", promises_sudo.subselect(SQL.identifier(promises_sudo.table, "case_id"))),
                Domain("id", "not any!", contacted),
            ]
        )
        return (
            Domain("is_closed", "=", False)
            & ~Domain("stage_id.role", "=", "dispute")
            & Domain("partner_id.collection_excluded", "=", False)
            & Domain("id", "not any!", worked_today)
            & reasons
        )

    @api.model
    def _collection_calls_due_domain(self, today):
        """Open call tasks of cases due by ``today`` (on ``mail.activity``): any phone call
        activity (the collector's callbacks included) and the engine's call task, whatever
        activity type its level gives it."""
        return Domain([("res_model", "=", self._name), ("date_deadline", "<=", today)]) & (
            Domain("activity_type_id.category", "=", "phonecall")
            | Domain([("collection_engine_task", "=", True), ("collection_communication_id.channel", "=", "call")])
        )

    @api.model
    def _collection_worklist(self, limit=None):
        """The current user's worklist, in the order to call (``WORKLIST_ORDER``)."""
        return self.search(self._collection_worklist_domain(), order=WORKLIST_ORDER, limit=limit)

    def _collection_next_in_worklist(self):
        """The case to call after these ones: the first of the worklist that is not one of them."""
        return self.search(
            self._collection_worklist_domain() & Domain("id", "not in", self.ids), order=WORKLIST_ORDER, limit=1
        )

    def _search_worklist_reason(self, operator, value):
        values = [value] if value is None or isinstance(value, (str, bool)) else list(value)
        if set(values) - {False, None, ""}:
            return NotImplemented
        if operator in ("!=", "not in"):
            return self._collection_worklist_domain()
        if operator in ("=", "in"):
            return ~self._collection_worklist_domain()
        return NotImplemented

    def _compute_worklist_reason(self):
        reasons = self._collection_worklist_reasons()
        for case in self:
            case.worklist_reason = reasons.get(case.id, False)

    def _collection_worklist_reasons(self):
        """{case id: why to call} for those of these cases on the worklist. A few queries for
        the whole batch: the members, their call tasks due, their open promises due."""
        cases = self.filtered("id")
        if not cases:
            return {}
        members = cases.search(Domain("id", "in", cases.ids) & self._collection_worklist_domain())
        if not members:
            return {}
        today = fields.Date.context_today(self)
        tasks_sudo = (
            self.env["mail.activity"]
            .sudo()
            .search(
                self._collection_calls_due_domain(today) & Domain("res_id", "in", members.ids),
                order="date_deadline, id",
            )
        )
        task_by_case = {}
        for task in tasks_sudo:
            task_by_case.setdefault(task.res_id, task)
        promises_sudo = (
            self.env["collection.promise"]
            .sudo()
            .search([("case_id", "in", members.ids), ("state", "=", "open")], order="date, id")
        )
        promise_by_case = {}
        for promise in promises_sudo:
            plan_today = any(line.date == today for line in promise.plan_line_ids)
            if promise.date <= today or plan_today:
                promise_by_case.setdefault(promise.case_id.id, (promise, plan_today))
        reasons = {}
        for case in cases.filtered(lambda c: c in members):
            task = task_by_case.get(case.id)
            promise, plan_today = promise_by_case.get(case.id, (None, False))
            if task:
                what = task.collection_communication_id.level_id.name or task.summary or task.activity_type_id.name
                reasons[case.id] = _("Call task due: %(task)s", task=what)
            elif case.stage_id.role == "broken_promise":
                reasons[case.id] = _("Promise broken")
            elif promise and (plan_today or promise.date == today):
                reasons[case.id] = _("Promise due today")
            elif promise:
                reasons[case.id] = _("Promise due on %(date)s", date=format_date(self.env, promise.date))
            elif case.last_contact_date:
                days = (fields.Datetime.now() - case.last_contact_date).days
                reasons[case.id] = _("No contact for %(days)s days", days=days)
            else:
                reasons[case.id] = _("Never contacted")
        return reasons

    # ------------------------------------------------------------------
    # Actions: start the worklist, go to the next case
    # ------------------------------------------------------------------

    def action_collection_worklist_start(self):
        """Open the first case of the worklist (from the worklist's list view)."""
        return self.browse()._collection_worklist_open(self._collection_worklist(limit=1))

    def action_collection_worklist_skip(self):
        """Leave this case for later: open the next one of the worklist."""
        return self._collection_worklist_next_action()

    def _collection_worklist_next_action(self):
        """What to open once these cases are done: the next case of the worklist, or the
        worklist itself when nothing is left."""
        return self._collection_worklist_open(self._collection_next_in_worklist())

    @api.model
    def _collection_worklist_open(self, case):
        if not case:
            action = self.env["ir.actions.act_window"]._for_xml_id(
                "collections_management.collection_case_action_worklist"
            )
            action["context"] = {"collection_worklist": True}
            return action
        return {
            "type": "ir.actions.act_window",
            "name": _("Call Next"),
            "res_model": self._name,
            "res_id": case.id,
            "view_mode": "form",
            "views": [(False, "form")],
            "target": "current",
            "context": {"collection_worklist": True},
        }

    # ------------------------------------------------------------------
    # Actions
    # ------------------------------------------------------------------

    def action_log_contact(self):
        self.ensure_one()
        self.check_access("write")
        return {
            "type": "ir.actions.act_window",
            "name": _("Log a Contact"),
            "res_model": "collection.log.contact",
            "view_mode": "form",
            "target": "new",
            "context": {
                "default_case_id": self.id,
                "collection_worklist": bool(self.env.context.get("collection_worklist")),
            },
        }

    def action_new_promise(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "name": _("Promise to Pay"),
            "res_model": "collection.promise",
            "view_mode": "form",
            "context": {
                "default_partner_id": self.partner_id.id,
                "default_company_id": self.company_id.id,
                "default_case_id": self.id,
                "default_amount": self.amount_overdue,
            },
        }

    def action_new_dispute(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "name": _("Dispute"),
            "res_model": "collection.dispute",
            "view_mode": "form",
            "context": {
                "default_partner_id": self.partner_id.id,
                "default_company_id": self.company_id.id,
                "default_case_id": self.id,
            },
        }

    def _action_related(self, xmlid, domain, context=None):
        action = self.env["ir.actions.act_window"]._for_xml_id(xmlid)
        action["domain"] = domain
        action["context"] = context or {}
        return action

    def action_view_promises(self):
        self.ensure_one()
        return self._action_related(
            "collections_management.collection_promise_action",
            [("case_id", "=", self.id)],
            {
                "default_case_id": self.id,
                "default_partner_id": self.partner_id.id,
                "default_company_id": self.company_id.id,
            },
        )

    def action_view_disputes(self):
        self.ensure_one()
        return self._action_related(
            "collections_management.collection_dispute_action",
            [("case_id", "=", self.id)],
            {
                "default_case_id": self.id,
                "default_partner_id": self.partner_id.id,
                "default_company_id": self.company_id.id,
            },
        )

    def action_view_payment_claims(self):
        self.ensure_one()
        return self._action_related(
            "collections_management.collection_payment_claim_action",
            [("case_id", "=", self.id)],
            {"create": False},
        )

    def action_new_payment_claim(self):
        """Record a payment the customer says it made, with its proof (see collection.payment.claim)."""
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "name": _("Payment to Verify"),
            "res_model": "collection.payment.claim.wizard",
            "view_mode": "form",
            "target": "new",
            "context": {"default_case_id": self.id},
        }

    def action_view_communications(self):
        self.ensure_one()
        return self._action_related(
            "collections_management.collection_communication_action",
            [("partner_id", "=", self.partner_id.id), ("company_id", "=", self.company_id.id)],
        )

    def action_view_invoices(self):
        self.ensure_one()
        return self._action_related(
            "account.action_move_out_invoice_type",
            [("id", "in", self.overdue_line_ids.move_id.ids)],
            {"create": False},
        )

    def action_refresh(self):
        self._refresh_amounts()
        return True

    def _post_case_message(self, body):
        """Post a note on each case (``body`` is plain text, escaped)."""
        for case in self:
            case.message_post(body=escape(body), subtype_xmlid="mail.mt_note")

    def _schedule_collector_activity(
        self, summary, note="", activity_xmlid="mail.mail_activity_data_todo", date_deadline=None, user=None
    ):
        """One activity per case, for ``user`` or the case's collector."""
        activity_type = self.env.ref(activity_xmlid)
        model_id = self.env["ir.model"]._get_id(self._name)
        return (
            self.env["mail.activity"]
            .sudo()
            .create(
                [
                    {
                        "res_model_id": model_id,
                        "res_id": case.id,
                        "activity_type_id": activity_type.id,
                        "summary": summary,
                        "note": note,
                        "user_id": (user or case.user_id or case.team_id.user_id or self.env.user).id,
                        "date_deadline": date_deadline or fields.Date.context_today(self),
                    }
                    for case in self
                ]
            )
        )

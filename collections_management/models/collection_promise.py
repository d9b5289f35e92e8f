from collections import defaultdict
from datetime import timedelta

from odoo import _, api, fields, models
from odoo.exceptions import UserError, ValidationError
from odoo.fields import Domain
from odoo.tools import SQL, float_compare, format_amount, format_date

PROMISE_CHANNELS = [
    ("call", "Phone call"),
    ("visit", "Visit"),
    ("email", "E-mail"),
    ("sms", "SMS"),
    ("letter", "Letter"),
    ("portal", "Customer portal"),
    ("other", "Other"),
]
# Context value marking the writes a promise's own creation makes: an object, so that no RPC
# client (whose context is JSON) can set it and skip the rules.
CREATING = object()
# Fields the rules of a promise depend on.
RULE_FIELDS = {"partner_id", "company_id", "case_id", "date", "date_made", "amount", "line_ids", "plan_line_ids"}
# States in which a promise is over and counts for the customer's promise-kept rate.
SETTLED_STATES = ("kept", "partial", "broken")


class CollectionPromise(models.Model):
    _name = "collection.promise"
    _description = "Promise to Pay"
    _inherit = ["mail.thread", "mail.activity.mixin", "collection.scope.mixin"]
    _order = "date desc, id desc"
    # Whose promise it is, and which instalments it pauses (checked on write).
    _collection_manager_fields = ("partner_id", "company_id")
    _collection_scope_fields = ("case_id", "line_ids")

    name = fields.Char(compute="_compute_name", store=True)
    partner_id = fields.Many2one(
        "res.partner", string="Customer", required=True, index=True, domain=[("is_company", "=", True)]
    )
    company_id = fields.Many2one("res.company", required=True, index=True, default=lambda self: self.env.company)
    case_id = fields.Many2one("collection.case", index="btree_not_null", ondelete="set null", copy=False)
    user_id = fields.Many2one("res.users", string="Taken By", default=lambda self: self.env.user)
    currency_id = fields.Many2one(related="company_id.currency_id")
    date_made = fields.Date(
        string="Made On",
        required=True,
        default=fields.Date.context_today,
        help="Day the customer made the promise; payments from that day on count towards it.",
    )
    date = fields.Date(
        string="Promised Date",
        required=True,
        compute="_compute_from_plan",
        store=True,
        readonly=False,
        help="Day the customer promised to pay by (the last date of a payment plan).",
    )
    amount = fields.Monetary(
        string="Promised Amount",
        currency_field="currency_id",
        compute="_compute_from_plan",
        store=True,
        readonly=False,
        help="In company currency; the total of the plan for a payment plan.",
    )
    scope = fields.Selection(
        [("all", "The whole overdue"), ("lines", "Chosen instalments")],
        string="Covers",
        required=True,
        default="all",
        help="The whole overdue: the instalments overdue when the promise is made.",
    )
    line_ids = fields.Many2many(
        "account.move.line",
        "collection_promise_move_line_rel",
        "promise_id",
        "line_id",
        string="Instalments",
        domain=lambda self: self.env["account.move.line"]._collection_open_picker_domain(),
        help="While the promise is open, reminders leave these instalments out.",
    )
    plan_line_ids = fields.One2many("collection.promise.line", "promise_id", string="Payment Plan", copy=True)
    is_plan = fields.Boolean(compute="_compute_is_plan", store=True, string="Is a Payment Plan")
    channel = fields.Selection(PROMISE_CHANNELS, string="Received Through", default="call", required=True)
    note = fields.Text()
    state = fields.Selection(
        [
            ("open", "Open"),
            ("kept", "Kept"),
            ("partial", "Partly Kept"),
            ("broken", "Broken"),
            ("cancelled", "Cancelled"),
        ],
        default="open",
        required=True,
        index=True,
        tracking=True,
        copy=False,
    )
    date_settled = fields.Date(string="Settled On", readonly=True, copy=False)
    grace_days = fields.Integer(compute="_compute_grace_days")
    amount_paid = fields.Monetary(
        string="Paid",
        compute="_compute_amount_paid",
        currency_field="currency_id",
        help="Paid on the covered instalments since the promise was made, by Odoo's reconciliation.",
    )
    amount_residual = fields.Monetary(
        string="Still Owed",
        compute="_compute_amount_paid",
        currency_field="currency_id",
        help="What remains to pay on the covered instalments.",
    )

    _check_amount = models.Constraint("CHECK(amount >= 0)", "A promised amount cannot be negative.")

    @api.depends("partner_id", "amount", "date")
    def _compute_name(self):
        for promise in self:
            promise.name = _(
                "%(customer)s: %(amount)s by %(date)s",
                customer=promise.partner_id.display_name or "",
                amount=promise.currency_id.format(promise.amount or 0.0) if promise.currency_id else promise.amount,
                date=format_date(promise.env, promise.date) if promise.date else "",
            )

    @api.depends("plan_line_ids.date", "plan_line_ids.amount")
    def _compute_from_plan(self):
        for promise in self:
            if promise.plan_line_ids:
                promise.amount = sum(promise.plan_line_ids.mapped("amount"))
                promise.date = max(promise.plan_line_ids.mapped("date"))

    @api.depends("plan_line_ids")
    def _compute_is_plan(self):
        for promise in self:
            promise.is_plan = bool(promise.plan_line_ids)

    def _compute_grace_days(self):
        """Grace days of the customer's own policy (the one the engine applies to it); policies are
        configuration, read as superuser: collectors do not read them."""
        for company, promises in self.grouped("company_id").items():
            policies_sudo = (
                self.env["collection.policy"].sudo().with_company(company).search([("company_id", "=", company.id)])
            )
            policy_by_partner = policies_sudo._policies_for_partners(promises.partner_id.with_company(company))
            for promise in promises:
                policy_sudo = policy_by_partner.get(promise.partner_id.id)
                promise.grace_days = policy_sudo.promise_grace_days if policy_sudo else 0

    @api.depends("line_ids", "date_made")
    def _compute_amount_paid(self):
        today = fields.Date.context_today(self)
        payments = self.filtered("id")._read_payments()
        for promise in self:
            promise.amount_paid = sum(amount for date, amount in payments.get(promise.id, []) if date <= today)
            promise.amount_residual = sum(promise.line_ids.mapped("amount_residual"))

    @api.constrains("date", "date_made")
    def _check_dates(self):
        for promise in self:
            if promise.date and promise.date_made and promise.date < promise.date_made:
                raise ValidationError(_("A promise cannot be due before the day it was made."))

    # ------------------------------------------------------------------
    # Creation: link the case, cover the whole overdue, move the case
    # ------------------------------------------------------------------

    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:
            if vals.get("partner_id"):
                partner = self.env["res.partner"].browse(vals["partner_id"]).commercial_partner_id
                vals["partner_id"] = partner.id
            if vals.get("line_ids") and "scope" not in vals:
                vals["scope"] = "lines"
            plan = [
                command[2]
                for command in vals.get("plan_line_ids") or []
                if command[0] == fields.Command.CREATE and command[2].get("date")
            ]
            if plan:
                # A payment plan's amount and date are its lines' total and last date.
                vals["amount"] = sum(line.get("amount", 0.0) for line in plan)
                vals["date"] = max(fields.Date.to_date(line["date"]) for line in plan)
        promises = super(CollectionPromise, self.with_context(collection_promise_creating=CREATING)).create(vals_list)
        for promise in promises:
            company = promise.company_id
            if not promise.case_id:
                promise.case_id = promise.partner_id._get_collection_case(company, create=True).sudo()
            if not promise.line_ids:
                promise.line_ids = promise._get_overdue_lines()
            if not promise.amount and not promise.plan_line_ids:
                promise.amount = sum(promise.line_ids.mapped("amount_residual"))
        promises = promises.with_env(self.env)
        promises._check_rules()
        promises._on_open()
        return promises

    def write(self, vals):
        # Whose the promise is (customer, company, case) is checked by collection.scope.mixin.
        result = super().write(vals)
        if RULE_FIELDS & vals.keys():
            self._check_rules()
        elif "state" in vals:
            self._check_one_pending()
        return result

    # ------------------------------------------------------------------
    # The rules of a promise, made online or in the back office
    # ------------------------------------------------------------------

    def _pending_states(self):
        """States in which a promise is under way (the portal adds proposed plans)."""
        return ("open",)

    def _get_policy_sudo(self):
        """The policy that applies to the promise's customer (configuration, read as superuser:
        collectors do not read policies)."""
        self.ensure_one()
        company = self.company_id
        policies_sudo = (
            self.env["collection.policy"].sudo().with_company(company).search([("company_id", "=", company.id)])
        )
        partner = self.partner_id
        return policies_sudo._policies_for_partners(partner).get(partner.id) or company.sudo().collection_policy_id

    def _get_limits(self, policy_sudo):
        """{max_days, plan_max_days, plan_max_lines} of ``policy_sudo``: how far a promise (from
        the day it was made) and a payment plan may go, and how many payments a plan may have.
        None: no limit."""
        return {
            "max_days": policy_sudo.promise_max_days if policy_sudo else 0,
            "plan_max_days": None,
            "plan_max_lines": None,
        }

    def _check_rules(self):
        """Every promise under way, wherever it was recorded: one per customer and company; within
        the policy's horizon; not above what its instalments still owe (the overdue, for a promise
        of the whole overdue); a payment plan within the plan limits of the policy; instalments of
        the promise's own customer only."""
        if self.env.context.get("collection_promise_creating") is CREATING:
            return
        self._check_lines_belong()
        pending = self.filtered(lambda promise: promise.state in promise._pending_states())
        pending._check_one_pending()
        for promise in pending:
            promise._check_horizon(promise._get_limits(promise._get_policy_sudo()))
            promise._check_amount_owed()

    def _check_horizon(self, limits):
        self.ensure_one()
        plan = self.plan_line_ids.sorted(lambda line: (line.date, line.id))
        start = self.date_made
        if not plan:
            if limits["max_days"] <= 0:
                raise ValidationError(_("The policy of this customer does not allow promises to pay."))
            end = start + timedelta(days=limits["max_days"])
            if self.date < start or self.date > end:
                raise ValidationError(
                    _(
                        "The promised date must be between %(start)s and %(end)s.",
                        start=format_date(self.env, start),
                        end=format_date(self.env, end),
                    )
                )
            return
        plan_dates = plan.mapped("date")
        if len(set(plan_dates)) != len(plan_dates):
            raise ValidationError(_("A payment plan has one payment per date."))
        max_lines, max_days = limits["plan_max_lines"], limits["plan_max_days"]
        if (max_lines is not None and max_lines < 2) or (max_days is not None and max_days <= 0):
            raise ValidationError(_("The policy of this customer does not allow payment plans."))
        if max_lines is not None and len(plan) > max_lines:
            raise ValidationError(_("A payment plan has at most %s payments.", max_lines))
        if max_days is not None:
            end = start + timedelta(days=max_days)
            if plan_dates[0] < start or plan_dates[-1] > end:
                raise ValidationError(
                    _(
                        "The payments of a payment plan must fall between %(start)s and %(end)s.",
                        start=format_date(self.env, start),
                        end=format_date(self.env, end),
                    )
                )

    def _check_amount_owed(self):
        self.ensure_one()
        currency = self.currency_id
        owed = currency.round(sum(self.line_ids.mapped("amount_residual")))
        if currency.compare_amounts(owed, 0.0) <= 0:
            raise ValidationError(_("Nothing is overdue: there is nothing to promise."))
        if currency.compare_amounts(self.amount, owed) > 0:
            owed_text = format_amount(self.env, owed, currency)
            if self.plan_line_ids:
                raise ValidationError(_("A payment plan cannot add up to more than what is owed (%s).", owed_text))
            raise ValidationError(
                _("The promised amount cannot be more than what is overdue on its instalments (%s).", owed_text)
            )

    def _check_one_pending(self):
        """One promise or payment plan under way per customer and company, whoever recorded the
        other one (searched as superuser)."""
        for promise in self.filtered(lambda p: p.state in p._pending_states()):
            other_sudo = self.sudo().search(
                [
                    ("id", "!=", promise.id),
                    ("partner_id", "=", promise.partner_id.id),
                    ("company_id", "=", promise.company_id.id),
                    ("state", "in", promise._pending_states()),
                ],
                limit=1,
            )
            if other_sudo:
                raise ValidationError(
                    _(
                        "A promise or a payment plan is already under way for %(customer)s "
                        "(%(amount)s by %(date)s): it must be settled or cancelled first.",
                        customer=promise.partner_id.display_name,
                        amount=format_amount(self.env, other_sudo.amount, other_sudo.currency_id),
                        date=format_date(self.env, other_sudo.date),
                    )
                )

    def _check_lines_belong(self):
        """A promise covers instalments of its own customer in its own company only, and sits on
        that customer's case."""
        for promise in self:
            case = promise.case_id
            if case and (case.partner_id != promise.partner_id or case.company_id != promise.company_id):
                raise ValidationError(_("A promise belongs to the case of its own customer."))
            lines = promise.line_ids
            if lines and (
                lines.move_id.commercial_partner_id != promise.partner_id or lines.company_id != promise.company_id
            ):
                raise ValidationError(_("A promise covers instalments of its own customer only."))

    def _get_overdue_lines(self):
        """Receivable instalments of the customer overdue today (the customer's whole overdue)."""
        self.ensure_one()
        today = fields.Date.context_today(self)
        return (
            self.env["account.move.line"]
            .sudo()
            .search(
                Domain(
                    [
                        ("partner_id", "=", self.partner_id.id),
                        ("company_id", "=", self.company_id.id),
                        ("date_maturity", "<", today),
                    ]
                )
                & self.env["account.move.line"]._collection_open_domain()
            )
        )

    def _on_open(self):
        """A new promise moves its case to "Promise to pay" and is noted on it."""
        opened = self.filtered(lambda p: p.state == "open" and p.case_id)
        opened.case_id.sudo()._collection_move_to("promise")
        for promise in opened:
            case = promise.case_id.sudo()
            case._post_case_message(
                _(
                    "Promise to pay %(amount)s by %(date)s.",
                    amount=promise.currency_id.format(promise.amount),
                    date=format_date(self.env, promise.date),
                )
            )

    # ------------------------------------------------------------------
    # Kept or broken: decided from the reconciliation of the covered instalments
    # ------------------------------------------------------------------

    def _read_payments(self):
        """{promise id: [(payment date, amount)]} paid on the covered instalments since each
        promise was made: every partial reconciliation of an instalment (payment, credit note,
        write-off), dated by its counterpart entry. One query for all promises."""
        if not self:
            return {}
        self.env["account.move.line"].flush_model(["date"])
        self.env["account.partial.reconcile"].flush_model(["debit_move_id", "credit_move_id", "amount"])
        self.flush_model(["date_made", "line_ids"])
        self.env.cr.execute(
            SQL(
                """
            SELECT rel.promise_id, counterpart.date, partial.amount
              FROM collection_promise_move_line_rel rel
              JOIN collection_promise promise ON promise.id = rel.promise_id
              JOIN account_partial_reconcile partial ON partial.debit_move_id = rel.line_id
              JOIN account_move_line counterpart ON counterpart.id = partial.credit_move_id
             WHERE rel.promise_id IN %(promises)s
               AND counterpart.date >= promise.date_made
             ORDER BY counterpart.date
            """,
                promises=tuple(self.ids),
            )
        )
        result = defaultdict(list)
        for promise_id, date, amount in self.env.cr.fetchall():
            result[promise_id].append((date, amount))
        return result

    def _get_schedule(self):
        """[(date, amount)] the customer promised: the plan's dated amounts or one amount."""
        self.ensure_one()
        if self.plan_line_ids:
            return [(line.date, line.amount) for line in self.plan_line_ids.sorted(lambda p: (p.date, p.id))]
        return [(self.date, self.amount)]

    def _evaluate(self, payments, today):
        """The state this open promise is in on ``today``: still open, kept, partly kept or
        broken. Each dated amount must be paid (cumulatively) by its date plus the grace days."""
        self.ensure_one()
        currency = self.currency_id
        grace = timedelta(days=self.grace_days)
        schedule = self._get_schedule()
        final_deadline = schedule[-1][0] + grace
        nothing_left = self.line_ids and all(
            line.reconciled or currency.is_zero(line.amount_residual) for line in self.line_ids
        )
        if nothing_left and not any(when > final_deadline for when, __ in payments):
            return "kept"
        # Judged on the payment (reconciliation) dates, whatever the day of the check: each
        # dated amount must be paid, cumulatively, by its date plus the grace days.
        promised = 0.0
        for date, amount in schedule:
            promised += amount
            deadline = date + grace
            paid = sum(value for when, value in payments if when <= min(deadline, today))
            if float_compare(paid, promised, precision_rounding=currency.rounding) >= 0:
                continue
            if deadline >= today:
                return "open"
            return "partial" if not currency.is_zero(paid) else "broken"
        return "kept"

    def _check_promises(self, today=None):
        """Decide open promises from what was paid; apply the consequences of the outcome."""
        today = today or fields.Date.context_today(self)
        promises = self.filtered(lambda p: p.state == "open")
        payments = promises._read_payments()
        outcomes = defaultdict(lambda: self.browse())
        for promise in promises:
            state = promise._evaluate(payments.get(promise.id, []), today)
            if state != "open":
                outcomes[state] |= promise
        for state, settled in outcomes.items():
            settled.write({"state": state, "date_settled": today})
            settled._on_settled(state)
        return outcomes

    @api.model
    def _cron_check_promises(self):
        self.sudo().search([("state", "=", "open")])._check_promises()

    def _on_settled(self, state):
        """Kept: the case goes back to work. Partly kept or broken: the case moves to "Broken
        promise", its collector gets an activity, and reminders resume (the promise no longer
        pauses its instalments)."""
        cases = self.case_id.sudo().filtered(lambda case: not case.is_closed)
        if state == "kept":
            cases.filtered(lambda case: not case.promise_id)._collection_move_to("contacted", only_from=("promise",))
            for promise in self:
                promise.case_id.sudo()._post_case_message(
                    _("Promise to pay %s kept.", promise.currency_id.format(promise.amount))
                )
            return
        cases._collection_move_to("broken_promise")
        label = dict(self._fields["state"]._description_selection(self.env))[state]
        for promise in self.filtered("case_id"):
            case = promise.case_id.sudo()
            message = _(
                "Promise to pay %(amount)s by %(date)s %(outcome)s: %(paid)s paid. Reminders resume.",
                amount=promise.currency_id.format(promise.amount),
                date=format_date(self.env, promise.date),
                outcome=label.lower(),
                paid=promise.currency_id.format(promise.amount_paid),
            )
            case._post_case_message(message)
            if not case.is_closed:
                case._schedule_collector_activity(
                    _(
                        "Promise %(outcome)s: call %(customer)s",
                        outcome=label.lower(),
                        customer=case.partner_id.display_name,
                    ),
                    note=message,
                    activity_xmlid="mail.mail_activity_data_call",
                )

    # ------------------------------------------------------------------
    # Actions
    # ------------------------------------------------------------------

    def action_check(self):
        self._check_promises()
        return True

    def action_cancel(self):
        if self.filtered(lambda p: p.state != "open"):
            raise UserError(_("Only open promises can be cancelled."))
        self.write({"state": "cancelled", "date_settled": fields.Date.context_today(self)})
        return True

    @api.model
    def _get_kept_rates(self, partners):
        """{partner id: % of settled promises kept} for these commercial partners."""
        if not partners:
            return {}
        rows = self.sudo()._read_group(
            [("partner_id", "in", partners.ids), ("state", "in", SETTLED_STATES)],
            ["partner_id", "state"],
            ["__count"],
        )
        counts = defaultdict(lambda: [0, 0])
        for partner, state, count in rows:
            counts[partner.id][1] += count
            if state == "kept":
                counts[partner.id][0] += count
        return {pid: 100.0 * kept / total for pid, (kept, total) in counts.items() if total}

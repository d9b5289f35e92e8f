from dataclasses import dataclass, field, replace
from datetime import datetime, time, timedelta

import pytz

from odoo import _, api, fields, models
from odoo.exceptions import UserError
from odoo.fields import Domain
from odoo.tools import float_compare, format_amount, format_date

# Why a customer was (or was not) reminded by a run: the reason of a decision.
DECISION_REASONS = [
    ("send", "Reminded"),
    ("simulated", "Would be reminded"),
    ("failed", "Not reached"),
    ("no_policy", "No policy"),
    ("archived", "Archived customer"),
    ("excluded", "Excluded"),
    ("paused", "Paused"),
    ("disputed", "Disputed"),
    ("promised", "Promised to pay"),
    ("claimed", "Payment to verify"),
    ("nothing_new", "Nothing new due"),
    ("credit", "Covered by credits"),
    ("below_minimum", "Below minimum"),
    ("outside_window", "Outside contact hours or days"),
    ("contact_limit", "Contact limit"),
    ("no_channel", "No reachable channel"),
    ("error", "Error"),
]


@dataclass(frozen=True)
class OpenItem:
    """One open receivable item of a customer, as the engine reads it: an instalment (positive
    residual) or a credit (negative residual: unapplied payment, credit note)."""

    id: int
    partner_id: int
    date_maturity: object
    amount_residual: float
    level_id: int
    excluded: bool = False
    disputed: bool = False
    promised: bool = False
    claimed: bool = False


@dataclass
class CustomerFacts:
    """What a decision needs to know about one customer; built by the run for a whole batch."""

    partner: object
    items: list
    date: object
    local_now: object
    history: tuple = (None, 0, 0)
    recipients: dict = field(default_factory=dict)
    dry_run: bool = False


@dataclass
class Ladder:
    """A policy's levels and rules, read once per batch (see ``_collection_ladder``)."""

    levels: list
    by_id: dict
    overdue: list
    channels: dict
    fallback: dict
    rounding: float
    minimum: float
    window: str
    mode: str


@dataclass
class Decision:
    """Either what to send to a customer (``reason`` "send") or why not."""

    partner_id: int
    reason: str
    policy: object = None
    level: object = None
    detail: str = ""
    line_ids: list = field(default_factory=list)
    level_lines: dict = field(default_factory=dict)
    amount_due: float = 0.0
    amount_credit: float = 0.0
    amount_net: float = 0.0
    channels: list = field(default_factory=list)
    follow_up: bool = False
    line_count: int = 0

    @property
    def to_send(self):
        return self.reason == "send"


# How many days ahead the customer form looks for the next reminder.
NEXT_REMINDER_DAYS = 90


class CollectionPolicy(models.Model):
    _name = "collection.policy"
    _description = "Collection Policy"
    _inherit = ["collection.partner.rule.mixin", "collection.contact.window.mixin"]
    _order = "sequence, id"

    name = fields.Char(required=True, translate=True)
    active = fields.Boolean(default=True)
    sequence = fields.Integer(
        default=10,
        help="Policies with a partner rule are tried in this order; the first that matches applies.",
    )
    company_id = fields.Many2one("res.company", required=True, index=True, default=lambda self: self.env.company)
    currency_id = fields.Many2one(related="company_id.currency_id")
    level_ids = fields.One2many("collection.level", "policy_id", string="Levels", copy=True)
    partner_domain = fields.Char(
        string="Applies to",
        default="[]",
        help="Customers this policy covers when none is chosen on the customer. "
        "An empty rule matches nobody unless the policy is the company's default.",
    )
    is_company_default = fields.Boolean(compute="_compute_is_company_default", string="Company Default")
    minimum_amount = fields.Monetary(
        string="Minimum Overdue Amount",
        currency_field="currency_id",
        help="Customers whose overdue total (in company currency) is below this amount are not reminded.",
    )
    min_days_between_contacts = fields.Integer(
        string="Days Between Contacts",
        default=3,
        help="Minimum number of days between two reminders to the same customer.",
    )
    # The contact window (hours, days, weekly cap) comes from the mixin; the policy explains it.
    max_contacts_per_week = fields.Integer(
        default=2,
        help="Maximum number of reminders to the same customer in any 7 days. 0 means no limit.",
    )
    contact_weekend_hours = fields.Boolean(
        help="Saturdays and Sundays (when allowed) have their own contact hours; otherwise the same as weekdays.",
    )
    contact_weekend_hour_from = fields.Float(
        help="Contact hours on Saturdays and Sundays, when those days are allowed.",
    )
    contact_calendar_id = fields.Many2one(
        "resource.calendar",
        string="Public Holidays",
        help="Calendar whose public holidays (time off of the whole calendar, not of a person) are days "
        "without reminders. Empty: no public holidays.",
    )
    contact_preset_id = fields.Many2one(
        "collection.contact.preset",
        string="Contact Rules Preset",
        help="Country rules last applied to this policy (hours, days, public holidays, weekly cap).",
    )
    promise_grace_days = fields.Integer(
        default=3,
        help="Days after a promised date before an unpaid promise counts as broken.",
    )
    promise_max_days = fields.Integer(
        string="Promise Horizon (days)",
        default=30,
        help="How far in the future a customer may promise to pay from the portal.",
    )
    claim_pause_days = fields.Integer(
        string="Pause after 'I already paid' (days)",
        default=5,
        help="When a customer says they already paid and sends a proof, reminders leave the invoices "
        "out for this many days while a collector verifies it; then they resume if still unpaid.",
    )
    first_contact_mode = fields.Selection(
        [
            ("due", "At the level the instalments are due for"),
            ("ladder", "One level per contact, from the first reminder"),
        ],
        string="First Contact",
        default="due",
        required=True,
        help="How a customer enters the ladder: straight at the level its oldest instalment is due "
        "for, or one level per reminder starting from the first (useful the day the suite starts "
        "on an existing portfolio).",
    )
    level_count = fields.Integer(compute="_compute_level_count")

    _check_limits = models.Constraint(
        "CHECK(min_days_between_contacts >= 0 AND max_contacts_per_week >= 0 "
        "AND promise_grace_days >= 0 AND promise_max_days >= 0 AND minimum_amount >= 0 "
        "AND claim_pause_days >= 0)",
        "Contact limits, grace days and the minimum amount cannot be negative.",
    )

    @api.depends("company_id.collection_policy_id")
    def _compute_is_company_default(self):
        for policy in self:
            policy.is_company_default = policy.company_id.collection_policy_id == policy

    @api.depends("level_ids")
    def _compute_level_count(self):
        for policy in self:
            policy.level_count = len(policy.level_ids)

    def _get_level_for_days(self, days_late):
        """The highest level of this policy due for an instalment ``days_late`` days past its
        due date (negative before it), or an empty recordset. Levels on or before the due date
        (preventive) only apply while the instalment is not overdue yet."""
        self.ensure_one()
        due = self.level_ids.filtered(lambda level: level.days <= days_late and (level.days > 0 or days_late <= 0))
        return due[-1:] if due else self.env["collection.level"]

    # ------------------------------------------------------------------
    # The decision per customer: send this, or not because...
    # ------------------------------------------------------------------

    def _collection_contact_hours(self, day):
        """(from, to) contact hours of this policy on ``day`` (weekend days may have their own)."""
        self.ensure_one()
        if self.contact_weekend_hours and day.weekday() >= 5:
            return self.contact_weekend_hour_from, self.contact_weekend_hour_to
        return self.contact_hour_from, self.contact_hour_to

    def _collection_holidays(self, date_from, date_to):
        """Public holidays of this policy's calendar between ``date_from`` and ``date_to`` (dates,
        included): the days a time off of the whole calendar (no resource) touches, in the
        calendar's time zone. One query."""
        self.ensure_one()
        calendar = self.contact_calendar_id
        if not calendar:
            return set()
        tz = pytz.timezone(calendar.tz or "UTC")
        start = tz.localize(datetime.combine(date_from, time.min)).astimezone(pytz.utc).replace(tzinfo=None)
        stop = tz.localize(datetime.combine(date_to, time.max)).astimezone(pytz.utc).replace(tzinfo=None)
        # Read as superuser: the policy's holidays apply whoever asks (the engine, a customer page,
        # a user whose companies or record rules hide the calendar); only the dates are returned.
        leaves_sudo = (
            self.env["resource.calendar.leaves"]
            .sudo()
            .search(
                [
                    ("calendar_id", "=", calendar.id),
                    ("resource_id", "=", False),
                    ("date_from", "<=", stop),
                    ("date_to", ">=", start),
                ]
            )
        )
        days = set()
        for leave in leaves_sudo:
            first = pytz.utc.localize(leave.date_from).astimezone(tz).date()
            last = pytz.utc.localize(leave.date_to).astimezone(tz).date()
            while first <= last:
                if date_from <= first <= date_to:
                    days.add(first)
                first += timedelta(days=1)
        return days

    def _collection_window_reason(self, local_now, dry_run=False, holidays=None):
        """Why this policy forbids contacting anybody at ``local_now`` (in the company's time
        zone), or an empty string: a weekday it does not contact on, a public holiday of its
        calendar (``holidays``: a set of dates already read, else read now), or outside its
        hours. A dry run checks the days only."""
        self.ensure_one()
        if local_now.weekday() not in self._allowed_weekdays():
            return _(
                "%(policy)s does not contact customers on %(day)s.",
                policy=self.name,
                day=format_date(self.env, local_now.date(), date_format="EEEE"),
            )
        if holidays is None:
            holidays = self._collection_holidays(local_now.date(), local_now.date())
        if local_now.date() in holidays:
            return _(
                "%(date)s is a public holiday; %(policy)s does not contact customers on public holidays.",
                date=format_date(self.env, local_now.date()),
                policy=self.name,
            )
        hour = local_now.hour + local_now.minute / 60.0
        hour_from, hour_to = self._collection_contact_hours(local_now)
        if not dry_run and not hour_from <= hour < hour_to:
            return _(
                "%(policy)s contacts customers between %(start)s and %(end)s only (it is %(now)s).",
                policy=self.name,
                start=_format_hour(hour_from),
                end=_format_hour(hour_to),
                now=_format_hour(hour),
            )
        return ""

    def _collection_ladder(self, local_now, dry_run=False, holidays=None):
        """What every decision of this policy in a batch shares, read once: its levels sorted by
        days, their channels and fallbacks, the rounding and minimum, and the contact window
        at ``local_now`` (``holidays``: see ``_collection_window_reason``)."""
        self.ensure_one()
        levels = [(level.days, level) for level in self.level_ids.sorted(lambda level: (level.days, level.id))]
        return Ladder(
            levels=levels,
            by_id={level.id: (days, level) for days, level in levels},
            overdue=[(days, level) for days, level in levels if days > 0],
            channels={level: level._get_channels() for __, level in levels},
            fallback={level: level.fallback for __, level in levels},
            rounding=self.currency_id.rounding,
            minimum=self.minimum_amount,
            window=self._collection_window_reason(local_now, dry_run, holidays),
            mode=self.first_contact_mode,
        )

    def _collection_decide(self, facts, ladder=None):
        """The decision for one customer (``facts``: a ``CustomerFacts``) under this policy
        (empty: the customer has none). Plain Python on what the run read for the batch: no
        query. Returns a ``Decision``: what to send (level, instalments, amounts net of credits,
        channels and the recipient of each) or the reason why nothing is sent. ``ladder`` is
        ``_collection_ladder()``, shared by the decisions of a batch."""
        partner = facts.partner
        decision = Decision(partner_id=partner.id, reason="send", policy=self or None)
        debits = [item for item in facts.items if item.amount_residual > 0]
        credit = -sum(item.amount_residual for item in facts.items if item.amount_residual < 0)
        decision.amount_credit = credit
        decision.line_count = len(facts.items)
        decision.amount_due = sum(item.amount_residual for item in debits)
        decision.amount_net = decision.amount_due - credit
        if not self or not self.level_ids:
            return self._collection_not(decision, "no_policy", _("No collection policy applies to this customer."))
        if not partner.active:
            return self._collection_not(decision, "archived", _("The customer is archived; nobody is contacted."))
        if partner.collection_excluded:
            return self._collection_not(decision, "excluded", _("The customer is excluded from collections."))
        if partner.collection_paused_until and partner.collection_paused_until >= facts.date:
            return self._collection_not(
                decision,
                "paused",
                _("Reminders paused until %s.", format_date(self.env, partner.collection_paused_until)),
            )
        chased = [item for item in debits if not (item.excluded or item.disputed or item.promised or item.claimed)]
        if not chased:
            if any(item.disputed for item in debits):
                return self._collection_not(decision, "disputed", _("Every open instalment is under dispute."))
            if any(item.promised for item in debits):
                return self._collection_not(decision, "promised", _("Every open instalment is promised."))
            if any(item.claimed for item in debits):
                return self._collection_not(
                    decision, "claimed", _("The customer says every open instalment is paid: the proof is to verify.")
                )
            return self._collection_not(decision, "excluded", _("Every open instalment is excluded."))

        ladder = ladder or self._collection_ladder(facts.local_now, facts.dry_run)
        # Levels never go softer: the highest level any open instalment reached (this policy).
        reached = [ladder.by_id[item.level_id] for item in debits if item.level_id in ladder.by_id]
        highest = max(reached, key=lambda pair: pair[0]) if reached else None
        decision.follow_up = bool(facts.history[2]) or any(days > 0 for days, __ in reached)
        cap = None
        if ladder.mode == "ladder" and ladder.overdue:
            # One level per contact: the next overdue level after the highest one reached.
            above = [pair for pair in ladder.overdue if not highest or pair[0] > highest[0]]
            cap = above[0] if above else ladder.overdue[-1]

        covered, best = [], None
        for item in chased:
            days_late = (facts.date - item.date_maturity).days
            due = None
            for pair in ladder.levels:
                if pair[0] <= days_late and (pair[0] > 0 or days_late <= 0):
                    due = pair
            if due and cap and due[0] > cap[0]:
                due = cap
            if due or days_late > 0:
                # The reminder lists every overdue instalment, and those a level is due for.
                covered.append(item)
            if not due:
                continue
            item_level = ladder.by_id.get(item.level_id)
            if not item_level or item_level[0] < due[0]:
                decision.level_lines.setdefault(due[1], []).append(item.id)
                if best is None or due[0] > best[0]:
                    best = due
        if best is None:
            return self._collection_not(
                decision, "nothing_new", _("No instalment is due for a new level since the last reminder.")
            )
        if highest and highest[0] > best[0]:
            best = highest
        best_days, decision.level = best
        decision.line_ids = [item.id for item in covered]
        reminded = sum(item.amount_residual for item in covered)
        overdue = sum(item.amount_residual for item in covered if item.date_maturity < facts.date)
        reference = overdue if best_days > 0 else reminded
        decision.amount_due = reminded
        decision.amount_net = reminded - credit
        if float_compare(reference - credit, 0.0, precision_rounding=ladder.rounding) <= 0:
            return self._collection_not(
                decision,
                "credit",
                _(
                    "Credits of %(credit)s cover the amount due.",
                    credit=format_amount(self.env, credit, self.currency_id),
                ),
            )
        if float_compare(reference - credit, ladder.minimum, precision_rounding=ladder.rounding) < 0:
            return self._collection_not(
                decision,
                "below_minimum",
                _(
                    "%(amount)s due net of credits is below the minimum of %(minimum)s.",
                    amount=format_amount(self.env, reference - credit, self.currency_id),
                    minimum=format_amount(self.env, ladder.minimum, self.currency_id),
                ),
            )
        if ladder.window:
            return self._collection_not(decision, "outside_window", ladder.window)
        limit = self._collection_limit_reason(facts)
        if limit:
            return self._collection_not(decision, "contact_limit", limit)
        decision.channels = self._collection_channels(
            ladder.channels[decision.level], ladder.fallback[decision.level], facts.recipients
        )
        if not decision.channels:
            return self._collection_not(
                decision,
                "no_channel",
                _("No address of the customer can carry a channel of %s.", decision.level.name),
            )
        # The level's name is already in the user's language; the channels are technical keys.
        decision.detail = f"{decision.level.name}: {', '.join(channel for channel, __ in decision.channels)}"
        return decision

    def _collection_not(self, decision, reason, detail):
        decision.reason = reason
        decision.detail = detail
        decision.level_lines = {}
        decision.channels = []
        return decision

    def _collection_next_reminders(self, facts_list, days=NEXT_REMINDER_DAYS):
        """When this policy's engine would remind each customer next, and at which level:
        ``_collection_decide`` asked for today (at ``facts.local_now``) and then day by day, each
        day at the opening and the end of its contact hours, for ``days`` days, with what the run reads
        today (``facts_list``: ``CustomerFacts``). No query but the public holidays, once.
        Returns {partner id: (today's decision, the first decision to send or None, its date)}.
        An estimate: payments, promises and contacts still to come change it."""
        self.ensure_one()
        result, pending = {}, list(facts_list)
        if not pending:
            return result
        first_now = pending[0].local_now
        tz = pytz.timezone(first_now.tzinfo.zone)
        today = pending[0].date
        holidays = self._collection_holidays(today, today + timedelta(days=days))
        for offset in range(days + 1):
            day = today + timedelta(days=offset)
            hour_from, hour_to = self._collection_contact_hours(day)
            midnight = datetime.combine(day, time.min)
            # The day's first and last moments of its contact hours (a later one lets the days
            # between contacts run out within the day).
            moments = [
                max(first_now, tz.localize(midnight + timedelta(hours=hour_from))),
                tz.localize(midnight + timedelta(hours=hour_to, minutes=-1)),
            ]
            ladders = {}
            still = []
            for facts in pending:
                for local_now in moments:
                    if local_now < first_now:
                        continue
                    if local_now not in ladders:
                        ladders[local_now] = self._collection_ladder(local_now, holidays=holidays)
                    last_date, week_count, count = facts.history
                    now_utc = local_now.astimezone(pytz.utc).replace(tzinfo=None)
                    if offset and last_date and now_utc - last_date >= timedelta(days=7):
                        week_count = 0
                    decision = self._collection_decide(
                        replace(facts, date=day, local_now=local_now, history=(last_date, week_count, count)),
                        ladders[local_now],
                    )
                    if not offset and facts.partner.id not in result:
                        result[facts.partner.id] = (decision, None, None)
                    if decision.to_send or decision.reason != "contact_limit":
                        break
                if decision.to_send:
                    result[facts.partner.id] = (result[facts.partner.id][0], decision, day)
                elif decision.reason not in ("no_policy", "archived", "excluded", "no_channel"):
                    still.append(facts)
            pending = still
            if not pending:
                break
        return result

    def _collection_limit_reason(self, facts):
        """Why the contact limits forbid another reminder now, or an empty string."""
        last_date, week_count, __ = facts.history
        now = facts.local_now.astimezone(pytz.utc).replace(tzinfo=None)
        if (
            last_date
            and self.min_days_between_contacts
            and now - last_date < timedelta(days=self.min_days_between_contacts)
        ):
            return _(
                "Last contact on %(date)s; %(policy)s waits %(days)s days between contacts.",
                date=format_date(self.env, last_date.date()),
                policy=self.name,
                days=self.min_days_between_contacts,
            )
        if self.max_contacts_per_week and week_count >= self.max_contacts_per_week:
            return _(
                "%(count)s contacts in the last 7 days; %(policy)s allows %(max)s.",
                count=week_count,
                policy=self.name,
                max=self.max_contacts_per_week,
            )
        return ""

    def _collection_channels(self, channel_names, level_fallback, recipients):
        """[(channel, recipient)] for the channels of a level (``channel_names``, its fallback
        ``level_fallback``): for each, the first address of the customer's chain that can carry
        it. A channel nobody can carry is kept (with the customer as recipient, to fail with its
        reason and fall back) as long as something can reach the customer: another channel of
        the level, or its fallback."""
        chain = recipients or []
        channels, missing = [], []
        for channel in channel_names:
            recipient = next((partner for partner in chain if partner._collection_can_carry(channel)), None)
            if recipient:
                channels.append((channel, recipient))
            else:
                missing.append(channel)
        fallback = "call" if level_fallback == "task" else level_fallback
        reachable = bool(channels) or (
            fallback not in ("none", False)
            and (fallback == "call" or any(partner._collection_can_carry(fallback) for partner in chain))
        )
        if not reachable:
            return []
        customer = chain[-1] if chain else None
        return channels + [(channel, customer) for channel in missing]

    def _policies_for_partners(self, partners):
        """Map each commercial partner to its policy in this company (``self`` is the company's
        active policies): the one chosen on the partner, else the first whose rule matches, else
        the company's default. One query per policy with a rule, not per partner."""
        company = self.env.company
        result = {}
        chosen = partners.with_company(company)
        for partner in chosen:
            if partner.collection_policy_id and partner.collection_policy_id.company_id == company:
                result[partner.id] = partner.collection_policy_id
        remaining = partners.filtered(lambda p: p.id not in result)
        for policy in self.filtered(lambda p: p.partner_domain and p.partner_domain.strip() != "[]"):
            if not remaining:
                break
            matched = self.env["res.partner"].search(Domain("id", "in", remaining.ids) & policy._get_partner_domain())
            for partner in matched:
                result[partner.id] = policy
            remaining -= matched
        default = company.collection_policy_id
        if default:
            for partner in remaining:
                result[partner.id] = default
        return result

    def action_apply_contact_preset(self):
        """Copy the contact rules of the chosen preset into this policy."""
        for policy in self:
            if not policy.contact_preset_id:
                raise UserError(_("Choose the contact rules preset to apply to %s.", policy.name))
            policy.write(policy.contact_preset_id._collection_policy_values())
        return True

    def action_view_levels(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id("collections_management.collection_level_action")
        action["domain"] = [("policy_id", "=", self.id)]
        action["context"] = {"default_policy_id": self.id}
        return action


def _format_hour(value):
    hours, minutes = divmod(round(value * 60), 60)
    return f"{hours:02d}:{minutes:02d}"

from datetime import timedelta

from odoo import _, api, fields, models
from odoo.exceptions import AccessError
from odoo.tools import SQL, email_normalize, email_split

from .collection_policy import NEXT_REMINDER_DAYS
from .collection_scope_mixin import MANAGER_GROUP

# Collection settings of a customer that only a collections manager decides.
COLLECTION_MANAGER_FIELDS = ("collection_policy_id", "collection_user_id", "collection_excluded")
# Collection facts a collector records on the customers of their cases.
COLLECTION_COLLECTOR_FIELDS = (
    "collection_contact",
    "collection_optout_email",
    "collection_optout_sms",
    "collection_optout_letter",
    "collection_phone_wrong",
    "collection_paused_until",
)


class ResPartner(models.Model):
    _inherit = "res.partner"

    collection_policy_id = fields.Many2one(
        "collection.policy",
        company_dependent=True,
        help="Policy used to remind this customer. Empty: the first policy whose rule matches, "
        "else the company's default policy.",
    )
    collection_excluded = fields.Boolean(
        string="Excluded from Collections",
        help="No reminder is sent to this customer while this is set; nothing is lost, "
        "its instalments are reminded again when it is cleared.",
    )
    collection_paused_until = fields.Date(
        string="Pause Reminders Until",
        copy=False,
        help="No reminder is sent to this customer until this day included (e.g. while it arranges the "
        "payment); reminders resume the next day. The run's decisions say so.",
    )
    collection_contact = fields.Boolean(
        string="Collections Contact",
        help="Reminders of the company go to this contact.",
    )
    collection_optout_email = fields.Boolean(string="No Reminders by E-mail")
    collection_optout_sms = fields.Boolean(string="No Reminders by SMS")
    collection_optout_letter = fields.Boolean(string="No Reminders by Letter")
    collection_case_ids = fields.One2many("collection.case", "partner_id", string="Collection Cases")
    # Casework (cases, promises, disputes)
    collection_user_id = fields.Many2one(
        "res.users",
        string="Collector",
        company_dependent=True,
        help="Collector who always gets this customer's collection case.",
    )
    collection_aml_ids = fields.One2many(
        "account.move.line",
        "partner_id",
        string="Journal Items (Collections)",
        help="Technical: lets cases recompute their amounts when the customer's entries change.",
    )
    collection_phone_wrong = fields.Boolean(
        string="Wrong Phone Number",
        copy=False,
        help="A collector logged a call to this number and it was not this customer.",
    )
    collection_promise_ids = fields.One2many("collection.promise", "partner_id", string="Promises to Pay")
    collection_promise_kept_rate = fields.Float(
        string="Promise-Kept Rate",
        compute="_compute_collection_promise_kept_rate",
        help="Share of this customer's settled promises to pay that were kept in full.",
    )
    collection_dispute_ids = fields.One2many("collection.dispute", "partner_id", string="Disputes")
    collection_user_is_manager = fields.Boolean(
        compute="_compute_collection_user_is_manager",
        help="Technical: the current user may change the collector, policy and exclusion of customers.",
    )

    # What the customer owes and what comes next (Collections tab of the customer form), in the
    # current company and its currency.
    collection_currency_id = fields.Many2one("res.currency", compute="_compute_collection_amounts")
    collection_amount_due = fields.Monetary(
        string="Open Instalments",
        compute="_compute_collection_amounts",
        currency_field="collection_currency_id",
        groups="collections_management.collections_management_group_collector",
        help="Residual of the customer's open instalments in the current company, in its currency.",
    )
    collection_amount_credit = fields.Monetary(
        string="Credits",
        compute="_compute_collection_amounts",
        currency_field="collection_currency_id",
        groups="collections_management.collections_management_group_collector",
        help="Payments not applied to an invoice and open credit notes.",
    )
    collection_balance = fields.Monetary(
        string="Balance",
        compute="_compute_collection_amounts",
        currency_field="collection_currency_id",
        groups="collections_management.collections_management_group_collector",
        help="Open instalments net of credits.",
    )
    collection_amount_overdue = fields.Monetary(
        string="Overdue",
        compute="_compute_collection_amounts",
        currency_field="collection_currency_id",
        groups="collections_management.collections_management_group_collector",
        help="Instalments past their due date net of credits (never below zero).",
    )
    collection_case_id = fields.Many2one(
        "collection.case",
        compute="_compute_collection_case_id",
        groups="collections_management.collections_management_group_collector",
    )
    collection_level_id = fields.Many2one(
        "collection.level",
        string="Current Level",
        compute="_compute_collection_case_id",
        groups="collections_management.collections_management_group_collector",
    )
    collection_next_level_id = fields.Many2one(
        "collection.level",
        string="Next Reminder",
        compute="_compute_collection_next_reminder",
        groups="collections_management.collections_management_group_collector",
        help="Level of the next reminder the engine would send, as things stand today.",
    )
    collection_next_date = fields.Date(
        string="Next Reminder On",
        compute="_compute_collection_next_reminder",
        groups="collections_management.collections_management_group_collector",
    )
    collection_next_note = fields.Char(
        string="Why No Reminder",
        compute="_compute_collection_next_reminder",
        groups="collections_management.collections_management_group_collector",
        help="Why the engine would not remind this customer today.",
    )

    def _collection_read_amounts(self, company, today):
        """{commercial partner id: (open instalments, overdue instalments, credits)} of the
        commercial entities of ``self`` in ``company`` (its currency), from the one definition of
        what a customer owes. One query."""
        partner_ids = tuple(set(self.commercial_partner_id.ids))
        if not partner_ids:
            return {}
        self.env.flush_all()
        owed = self.env["account.move.line"]._collection_owed_query("aml")
        self.env.cr.execute(
            SQL(
                """
            SELECT move.commercial_partner_id,
                   COALESCE(SUM(aml.amount_residual) FILTER (WHERE aml.amount_residual > 0), 0),
                   COALESCE(SUM(aml.amount_residual)
                            FILTER (WHERE aml.amount_residual > 0 AND aml.date_maturity < %(today)s), 0),
                   COALESCE(-SUM(aml.amount_residual) FILTER (WHERE aml.amount_residual < 0), 0)
              FROM %(from)s
              JOIN account_move move ON move.id = aml.move_id
             WHERE aml.company_id = %(company)s
               AND move.commercial_partner_id IN %(partners)s
               AND %(owed)s
             GROUP BY move.commercial_partner_id
            """,
                today=today,
                company=company.id,
                partners=partner_ids,
                owed=owed.where_clause,
                **{"from": owed.from_clause},
            )
        )
        return {row[0]: row[1:] for row in self.env.cr.fetchall()}

    @api.depends_context("company")
    def _compute_collection_amounts(self):
        company = self.env.company
        amounts = self.filtered("id")._collection_read_amounts(company, fields.Date.context_today(self))
        for partner in self:
            due, overdue, credit = amounts.get(partner.commercial_partner_id.id, (0.0, 0.0, 0.0))
            partner.collection_currency_id = company.currency_id
            partner.collection_amount_due = due
            partner.collection_amount_credit = credit
            partner.collection_balance = due - credit
            partner.collection_amount_overdue = max(overdue - credit, 0.0)

    @api.depends_context("company", "uid")
    def _compute_collection_case_id(self):
        cases = (
            self.env["collection.case"]
            .with_context(active_test=False)
            .search(
                [
                    ("partner_id", "in", self.commercial_partner_id.ids),
                    ("company_id", "=", self.env.company.id),
                ]
            )
        )
        by_partner = {case.partner_id.id: case for case in cases}
        for partner in self:
            case = by_partner.get(partner.commercial_partner_id.id, self.env["collection.case"])
            partner.collection_case_id = case
            partner.collection_level_id = case.level_id

    @api.depends_context("company")
    def _compute_collection_next_reminder(self):
        """What the engine would do next for each customer: its level and day, else why not
        (``collection.policy._collection_next_reminders``, on the facts a run reads). Read as
        superuser: collectors see the outcome, not the policies."""
        self.collection_next_level_id = False
        self.collection_next_date = False
        self.collection_next_note = False
        partners = self.filtered("id")
        if not partners:
            return
        company = self.env.company
        self.env.flush_all()
        run_sudo = self.env["collection.run"].sudo().with_company(company)
        today = run_sudo._company_today(company)
        facts = run_sudo.new({"company_id": company.id, "date": today, "run_type": "manual"})._read_batch_facts(
            list(set(partners.commercial_partner_id.ids)), horizon=today + timedelta(days=NEXT_REMINDER_DAYS)
        )
        by_policy = {}
        for policy, customer in facts:
            if any(item.amount_residual > 0 for item in customer.items):
                by_policy.setdefault(policy, []).append(customer)
        outcome = {}
        for policy, customers in by_policy.items():
            if policy:
                outcome.update(policy._collection_next_reminders(customers))
        for partner in self:
            today_decision, decision, day = outcome.get(partner.commercial_partner_id.id, (None, None, None))
            if decision:
                partner.collection_next_level_id = decision.level.sudo(False)
                partner.collection_next_date = day
            elif today_decision:
                partner.collection_next_note = today_decision.detail
            else:
                partner.collection_next_note = _("Nothing is open to remind, or no collection policy applies.")

    def action_collection_view_case(self):
        """Open this customer's collection case in the current company."""
        self.ensure_one()
        case = self.collection_case_id
        action = self.env["ir.actions.act_window"]._for_xml_id("collections_management.collection_case_action")
        action.update({"res_id": case.id, "views": [(False, "form")], "view_mode": "form"})
        return action

    def action_collection_send_now(self):
        """*Send reminder now* from the customer form (collections managers)."""
        return self.env["collection.run"]._action_send_now(self)

    def _compute_collection_user_is_manager(self):
        self.collection_user_is_manager = self.env.su or self.env.user.has_group(MANAGER_GROUP)

    def _get_collection_recipient_chains(self):
        """Map each commercial partner in ``self`` to the addresses reminders may use, in order:
        its collections contacts, its invoice addresses, then the customer itself. Each channel
        takes the first of them that can carry it. One query."""
        children = self.search(
            [
                ("parent_id", "in", self.ids),
                ("active", "=", True),
                "|",
                ("collection_contact", "=", True),
                ("type", "=", "invoice"),
            ],
            order="collection_contact desc, id",
        )
        chains = {partner.id: [] for partner in self}
        for child in children:
            chains[child.parent_id.id].append(child)
        for partner in self:
            chains[partner.id].append(partner)
        return chains

    def _get_collection_recipients(self):
        """Map each commercial partner in ``self`` to the first address of its chain (the
        contact reminders go to when a channel does not say otherwise)."""
        return {partner_id: chain[0] for partner_id, chain in self._get_collection_recipient_chains().items()}

    def _collection_email_addresses(self):
        """Normalized e-mail addresses of this partner: its e-mail field may hold several,
        separated by commas, as Odoo itself mails them."""
        self.ensure_one()
        return [email for email in map(email_normalize, email_split(self.email or "")) if email]

    def _collection_can_carry(self, channel):
        """Whether this address can carry a reminder on ``channel`` (has what the channel
        needs). Channel modules extend it; an unknown channel is carried by anyone."""
        self.ensure_one()
        if channel == "email":
            return bool(self._collection_email_addresses())
        if channel == "sms":
            return bool(self.phone and self.phone_sanitized and not self.collection_phone_wrong)
        if channel == "letter":
            return bool(self.street and self.city)
        return True

    @api.depends("collection_promise_ids.state")
    def _compute_collection_promise_kept_rate(self):
        rates = self.env["collection.promise"]._get_kept_rates(self.commercial_partner_id)
        for partner in self:
            partner.collection_promise_kept_rate = rates.get(partner.commercial_partner_id.id, 0.0)

    def write(self, vals):
        self._collection_check_write(vals)
        if "phone" in vals and "collection_phone_wrong" not in vals:
            vals = dict(vals, collection_phone_wrong=False)
        return super().write(vals)

    def _collection_check_write(self, vals):
        """Who a customer's collector is, which policy reminds it and whether it is excluded are
        a collections manager's decision; the contact facts (opt-outs, wrong phone, collections
        contact) are recorded by the collectors of the customer's cases. Anyone allowed to edit
        contacts could otherwise take another team's customer or stop its reminders."""
        collection_fields = set(vals).intersection(COLLECTION_MANAGER_FIELDS + COLLECTION_COLLECTOR_FIELDS)
        if self.env.su or not self or not collection_fields:
            return
        if self.env.user.has_group(MANAGER_GROUP):
            return
        managed = set(vals).intersection(COLLECTION_MANAGER_FIELDS)
        if managed:
            raise AccessError(
                _(
                    "Only a collections manager can change %(fields)s of a customer.",
                    fields=", ".join(self._fields[name]._description_string(self.env) for name in sorted(managed)),
                )
            )
        if not set(vals).intersection(COLLECTION_COLLECTOR_FIELDS):
            return
        commercial = self.commercial_partner_id
        reachable = self.env["collection.case"].search([("partner_id", "in", commercial.ids)]).partner_id
        if commercial - reachable:
            raise AccessError(
                _("You can only record collection details of customers of your own cases and your team's cases.")
            )

    def _get_collection_case(self, company, create=False):
        """The collection case of this commercial partner in ``company`` (created when asked)."""
        self.ensure_one()
        partner = self.commercial_partner_id
        Case = self.env["collection.case"].sudo()
        case = Case.search([("partner_id", "=", partner.id), ("company_id", "=", company.id)], limit=1)
        if not case and create:
            case = Case.create({"partner_id": partner.id, "company_id": company.id})
            case._assign_cases()
        return case.sudo(False)

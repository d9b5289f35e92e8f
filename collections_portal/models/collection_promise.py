from datetime import timedelta

from markupsafe import Markup

from odoo import _, api, fields, models
from odoo.exceptions import UserError
from odoo.tools import format_amount, format_date

from ..tools.portal_form import text_to_html


class CollectionPromise(models.Model):
    _inherit = "collection.promise"

    state = fields.Selection(
        selection_add=[("proposed", "Proposed"), ("open",), ("refused", "Refused")],
        ondelete={
            "proposed": lambda promises: promises.write({"state": "cancelled"}),
            "refused": lambda promises: promises.write({"state": "cancelled"}),
        },
    )
    portal_link_id = fields.Many2one(
        "collection.portal.link",
        string="From Portal Link",
        readonly=True,
        index="btree_not_null",
        ondelete="set null",
        help="Set when the customer made this promise or asked for this plan online.",
    )

    # ------------------------------------------------------------------
    # Rules: a proposed plan is under way too; plans obey the policy's plan limits
    # ------------------------------------------------------------------

    def _pending_states(self):
        return (*super()._pending_states(), "proposed")

    def _get_limits(self, policy_sudo):
        limits = super()._get_limits(policy_sudo)
        limits["plan_max_lines"] = policy_sudo.portal_plan_max_lines if policy_sudo else 0
        limits["plan_max_days"] = policy_sudo.portal_plan_max_days if policy_sudo else 0
        return limits

    @api.model
    def _portal_form_limits(self, partner, company):
        """What the promise and plan forms of the page offer to ``partner`` in ``company``: the last
        date of a promise and of a plan (False: not offered) and how many plan rows."""
        limits = self._get_limits(partner._collection_policy(company))
        today = fields.Date.context_today(self)
        plan_lines, plan_days = limits["plan_max_lines"], limits["plan_max_days"]
        plan_offered = plan_lines >= 2 and plan_days > 0
        return {
            "promise_max_date": limits["max_days"] > 0 and today + timedelta(days=limits["max_days"]),
            "plan_max_date": plan_offered and today + timedelta(days=plan_days),
            "plan_rows": range(plan_lines if plan_offered else 0),
        }

    # ------------------------------------------------------------------
    # Made by the customer on the collections page
    # ------------------------------------------------------------------

    @api.model
    def _portal_values(self, link, values, note):
        """Create values of a promise made on the page: like a collector's, received through the
        portal, taken by nobody."""
        return {
            "partner_id": link.commercial_partner_id.id,
            "company_id": link.company_id.id,
            "portal_link_id": link.id,
            "user_id": False,
            "channel": "portal",
            "note": note or False,
            **values,
        }

    @api.model
    def _portal_create_promise(self, link, date, amount, note=None):
        """Promise to pay ``amount`` (company currency) by ``date`` on the customer's overdue
        instalments, from the page of ``link``. The rules (horizon, amount, one promise under way)
        are the model's, as for a collector's promise; this pauses the dunning of the instalments."""
        partner = link.commercial_partner_id
        currency = link.company_id.currency_id
        lines = partner._collection_open_lines(link.company_id).filtered(
            lambda line: line.date_maturity and line.date_maturity < fields.Date.context_today(self)
        )
        promise = self.create(
            self._portal_values(
                link,
                {
                    "date": date,
                    "amount": currency.round(amount),
                    "scope": "all",
                    "line_ids": [fields.Command.set(lines.filtered(lambda line: line.amount_residual > 0).ids)],
                },
                note,
            )
        )
        subject = _(
            "Promise to pay %(amount)s by %(date)s",
            amount=format_amount(self.env, promise.amount, currency),
            date=format_date(self.env, promise.date),
        )
        self.env["collection.communication"]._portal_log(
            link, subject, note=note, lines=promise.line_ids, amount=promise.amount
        )
        return promise

    @api.model
    def _portal_request_plan(self, link, plan, note=None):
        """Propose a payment plan of ``plan`` [(date, amount in company currency)] from the page of
        ``link``: the collector accepts or refuses it from the case; until then dunning goes on.
        It covers the overdue instalments, or every open one when it adds up to more."""
        partner = link.commercial_partner_id
        currency = link.company_id.currency_id
        today = fields.Date.context_today(self)
        lines = partner._collection_open_lines(link.company_id).filtered(lambda line: line.amount_residual > 0)
        overdue_lines = lines.filtered(lambda line: line.date_maturity and line.date_maturity < today)
        total = currency.round(sum(amount for __, amount in plan))
        overdue = currency.round(sum(overdue_lines.mapped("amount_residual")))
        if currency.compare_amounts(total, overdue) <= 0:
            lines = overdue_lines
        promise = self.create(
            self._portal_values(
                link,
                {
                    "state": "proposed",
                    "scope": "lines",
                    "line_ids": [fields.Command.set(lines.ids)],
                    "plan_line_ids": [
                        fields.Command.create({"date": date, "amount": currency.round(amount)}) for date, amount in plan
                    ],
                },
                note,
            )
        )
        subject = _(
            "Payment plan requested: %(count)s payments, %(amount)s in total, until %(date)s",
            count=len(plan),
            amount=format_amount(self.env, promise.amount, currency),
            date=format_date(self.env, promise.date),
        )
        self.env["collection.communication"]._portal_log(link, subject, note=note, lines=lines, amount=promise.amount)
        owner = partner._collection_owner(link.company_id)
        case = promise.case_id
        if owner and case:
            case.activity_schedule(
                "mail.mail_activity_data_todo",
                date_deadline=today + timedelta(days=1),
                user_id=owner.id,
                summary=_("Review the payment plan the customer proposed"),
                # The customer's words are text, never HTML.
                note=text_to_html(note) if note else Markup("<p>%s</p>") % subject,
            )
        elif owner:
            promise.message_subscribe(partner_ids=owner.partner_id.ids)
        return promise

    # ------------------------------------------------------------------
    # The collector's answer
    # ------------------------------------------------------------------

    def action_accept_plan(self):
        """Accept a payment plan the customer proposed: it becomes an open promise, which pauses
        the dunning of its instalments."""
        proposed = self.filtered(lambda promise: promise.state == "proposed")
        if not proposed:
            raise UserError(_("Only proposed payment plans can be accepted."))
        proposed.write({"state": "open"})
        proposed._log_plan_decision(_("Payment plan accepted"))
        proposed._on_open()
        return True

    def action_refuse_plan(self):
        proposed = self.filtered(lambda promise: promise.state == "proposed")
        if not proposed:
            raise UserError(_("Only proposed payment plans can be refused."))
        proposed.write({"state": "refused"})
        proposed._log_plan_decision(_("Payment plan refused"))
        return True

    def _log_plan_decision(self, subject):
        for promise in self:
            promise.message_post(body=subject, message_type="comment", subtype_xmlid="mail.mt_note")
            if promise.case_id:
                promise.case_id.message_post(
                    body=Markup("%s: %s") % (subject, promise.display_name),
                    message_type="comment",
                    subtype_xmlid="mail.mt_note",
                )
            # Collectors read communications; the log entry of the decision is written by Collections.
            self.env["collection.communication"].sudo().create(
                {
                    "subject": subject,
                    "company_id": promise.company_id.id,
                    "partner_id": promise.partner_id.id,
                    "direction": "outbound",
                    "channel": "note",
                    "state": "done",
                    "line_ids": [fields.Command.set(promise.line_ids.ids)],
                    "amount_total": promise.amount,
                }
            )

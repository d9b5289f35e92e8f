from datetime import timedelta

from odoo import _, api, fields, models
from odoo.exceptions import UserError

from ..models.collection_communication import CALL_OUTCOMES
from ..models.collection_promise import PROMISE_CHANNELS


class CollectionLogContact(models.TransientModel):
    _name = "collection.log.contact"
    _description = "Log a Call, Visit or Message"

    case_id = fields.Many2one("collection.case", required=True, ondelete="cascade")
    partner_id = fields.Many2one(related="case_id.partner_id")
    company_id = fields.Many2one(related="case_id.company_id")
    currency_id = fields.Many2one(related="case_id.currency_id")
    channel = fields.Selection(
        [("call", "Call"), ("visit", "Visit"), ("note", "Message received")],
        required=True,
        default="call",
    )
    direction = fields.Selection(
        [("outbound", "We contacted them"), ("inbound", "They contacted us")],
        required=True,
        default="outbound",
    )
    contact_id = fields.Many2one(
        "res.partner",
        string="Spoke With",
        domain="['|', ('id', '=', partner_id), ('parent_id', '=', partner_id)]",
    )
    phone = fields.Char(compute="_compute_phone", readonly=False, store=True)
    outcome = fields.Selection(CALL_OUTCOMES, required=True, default="reached")
    note = fields.Text()
    # Asked to call back / no answer
    callback_at = fields.Datetime(string="Call Back On", compute="_compute_callback_at", store=True, readonly=False)
    # Promised to pay
    promise_date = fields.Date(string="Promised Date")
    promise_amount = fields.Monetary(string="Promised Amount", currency_field="currency_id")
    promise_scope = fields.Selection(
        [("all", "The whole overdue"), ("lines", "Chosen instalments")], default="all", string="Promise Covers"
    )
    line_ids = fields.Many2many(
        "account.move.line",
        string="Instalments",
        domain=lambda self: self.env["account.move.line"]._collection_open_picker_domain(),
    )
    # Disputed
    dispute_reason_id = fields.Many2one("collection.dispute.reason")

    @api.depends("contact_id", "case_id")
    def _compute_phone(self):
        for wizard in self:
            wizard.phone = (wizard.contact_id or wizard.partner_id).phone

    @api.depends("outcome")
    def _compute_callback_at(self):
        now = fields.Datetime.now()
        for wizard in self:
            if wizard.outcome == "no_answer":
                wizard.callback_at = now + timedelta(days=1)
            elif wizard.outcome == "callback" and not wizard.callback_at:
                wizard.callback_at = now + timedelta(hours=2)

    @api.onchange("outcome", "case_id")
    def _onchange_outcome(self):
        if self.outcome == "promise" and not self.promise_amount:
            self.promise_amount = self.case_id.amount_overdue
            self.promise_date = self.promise_date or fields.Date.context_today(self) + timedelta(days=7)

    def _check_values(self):
        self.ensure_one()
        if self.contact_id and self.contact_id.commercial_partner_id != self.case_id.partner_id:
            raise UserError(_("The person you spoke with must be the customer or one of its contacts."))
        if self.outcome == "promise":
            if not self.promise_date:
                raise UserError(_("Enter the date the customer promised to pay by."))
            if self.promise_scope == "lines" and not self.line_ids:
                raise UserError(_("Choose the instalments the customer promised to pay."))
        if self.outcome == "dispute" and not self.dispute_reason_id:
            raise UserError(_("Choose the reason of the dispute."))

    def action_log(self):
        """Record the contact, then do what its outcome calls for."""
        self.ensure_one()
        self._check_values()
        case = self.case_id
        # Trust boundary: the collector may write this case; the log entry itself is written
        # by Collections (collectors only read communications).
        case.check_access("write")
        label = dict(self._fields["outcome"]._description_selection(self.env))[self.outcome]
        communication_sudo = (
            self.env["collection.communication"]
            .sudo()
            .create(
                {
                    "subject": _(
                        "%(channel)s: %(outcome)s",
                        channel=dict(self._fields["channel"]._description_selection(self.env))[self.channel],
                        outcome=label,
                    ),
                    "company_id": case.company_id.id,
                    "partner_id": case.partner_id.id,
                    "recipient_id": (self.contact_id or case.partner_id).id,
                    "channel": self.channel,
                    "direction": self.direction,
                    "state": "done",
                    "call_outcome": self.outcome,
                    "note": self.note,
                    "user_id": self.env.user.id,
                    "level_id": case.level_id.id,
                    "line_ids": [fields.Command.set(case.overdue_line_ids.ids)],
                    "amount_total": case.amount_overdue,
                }
            )
        )
        communication = communication_sudo.sudo(False)
        body = _("%(channel)s logged: %(outcome)s.", channel=communication_sudo.subject, outcome=label)
        if self.note:
            body = f"{body}\n{self.note}"
        case._post_case_message(body)
        case.activity_ids.filtered(
            lambda a: a.activity_type_id == self.env.ref("mail.mail_activity_data_call") and a.user_id == self.env.user
        ).action_feedback(feedback=label)
        action = getattr(self, f"_do_{self.outcome}")(communication)
        if self.env.context.get("collection_worklist"):
            # Working down the worklist: straight on to the next customer (the promise or
            # dispute just recorded stays on the case).
            return case._collection_worklist_next_action()
        return action

    # Roles a case leaves when the customer is reached (a promise or a dispute in progress stays).
    REACHED_FROM = ("new", "broken_promise", "escalated")

    def _move_case(self, role, only_from=None):
        self.case_id.sudo()._collection_move_to(role, only_from=only_from)

    def _schedule_call(self, summary, when):
        deadline = fields.Datetime.context_timestamp(self, when).date() if when else None
        self.case_id._schedule_collector_activity(
            summary,
            note=self.note or "",
            activity_xmlid="mail.mail_activity_data_call",
            date_deadline=deadline,
            user=self.env.user,
        )

    # Outcomes ------------------------------------------------------------

    def _do_reached(self, communication):
        self._move_case("contacted", only_from=self.REACHED_FROM)
        return {"type": "ir.actions.act_window_close"}

    def _do_no_answer(self, communication):
        self._schedule_call(_("Call again: no answer"), self.callback_at)
        return {"type": "ir.actions.act_window_close"}

    def _do_callback(self, communication):
        self._move_case("contacted", only_from=self.REACHED_FROM)
        self._schedule_call(_("Call back as asked"), self.callback_at)
        return {"type": "ir.actions.act_window_close"}

    def _do_wrong_number(self, communication):
        partner = (self.contact_id or self.case_id.partner_id).sudo()
        partner.collection_phone_wrong = True
        partner.message_post(
            body=_(
                "Wrong phone number reported by %(user)s: %(phone)s",
                user=self.env.user.name,
                phone=self.phone or partner.phone or "",
            )
        )
        self.case_id._schedule_collector_activity(
            _("Find a correct phone number for %s", partner.display_name),
            user=self.env.user,
        )
        return {"type": "ir.actions.act_window_close"}

    def _do_refused(self, communication):
        case = self.case_id.sudo()
        self._move_case("escalated")
        manager = case.team_id.user_id or self.env.user
        case._schedule_collector_activity(
            _("%s refused to pay: decide the next step", case.partner_id.display_name),
            note=self.note or "",
            user=manager,
        )
        return {"type": "ir.actions.act_window_close"}

    def _do_promise(self, communication):
        promise = self.env["collection.promise"].create(
            {
                "partner_id": self.case_id.partner_id.id,
                "company_id": self.case_id.company_id.id,
                "case_id": self.case_id.id,
                "date": self.promise_date,
                "amount": self.promise_amount,
                "scope": self.promise_scope,
                "line_ids": [fields.Command.set(self.line_ids.ids)] if self.promise_scope == "lines" else [],
                "channel": self._promise_channel(),
                "note": self.note,
            }
        )
        return {
            "type": "ir.actions.act_window",
            "res_model": "collection.promise",
            "res_id": promise.id,
            "view_mode": "form",
            "target": "current",
        }

    def _promise_channel(self):
        channels = dict(PROMISE_CHANNELS)
        return self.channel if self.channel in channels else "other"

    def _do_dispute(self, communication):
        lines = self.line_ids or self.case_id.overdue_line_ids
        dispute = self.env["collection.dispute"].create(
            {
                "partner_id": self.case_id.partner_id.id,
                "company_id": self.case_id.company_id.id,
                "case_id": self.case_id.id,
                "reason_id": self.dispute_reason_id.id,
                "description": self.note,
                "move_ids": [fields.Command.set(lines.move_id.ids)],
                "line_ids": [fields.Command.set(lines.ids)],
            }
        )
        return {
            "type": "ir.actions.act_window",
            "res_model": "collection.dispute",
            "res_id": dispute.id,
            "view_mode": "form",
            "target": "current",
        }

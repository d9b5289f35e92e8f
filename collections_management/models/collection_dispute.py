from datetime import timedelta

from odoo import _, api, fields, models
from odoo.exceptions import UserError, ValidationError
from odoo.fields import Domain
from odoo.tools import format_date

DEFAULT_DEADLINE_DAYS = 14
# Fields the rules of a dispute depend on.
RULE_FIELDS = {"partner_id", "company_id", "case_id", "move_ids", "line_ids", "state"}


class CollectionDispute(models.Model):
    _name = "collection.dispute"
    _description = "Dispute"
    _inherit = ["mail.thread", "mail.activity.mixin", "collection.scope.mixin"]
    _order = "state, deadline, id desc"
    # Whose dispute it is, and which instalments it pauses (checked on write).
    _collection_manager_fields = ("partner_id", "company_id")
    _collection_scope_fields = ("case_id", "move_ids", "line_ids", "user_id")

    name = fields.Char(required=True, default="/", copy=False, readonly=True)
    partner_id = fields.Many2one(
        "res.partner", string="Customer", required=True, index=True, domain=[("is_company", "=", True)]
    )
    company_id = fields.Many2one("res.company", required=True, index=True, default=lambda self: self.env.company)
    currency_id = fields.Many2one(related="company_id.currency_id")
    case_id = fields.Many2one("collection.case", index="btree_not_null", ondelete="set null", copy=False)
    move_ids = fields.Many2many(
        "account.move",
        "collection_dispute_move_rel",
        "dispute_id",
        "move_id",
        string="Invoices",
        domain="[('commercial_partner_id', '=', partner_id), ('company_id', '=', company_id), "
        "('move_type', '=', 'out_invoice'), ('state', '=', 'posted')]",
    )
    line_ids = fields.Many2many(
        "account.move.line",
        "collection_dispute_move_line_rel",
        "dispute_id",
        "line_id",
        string="Instalments",
        compute="_compute_line_ids",
        store=True,
        readonly=False,
        domain=lambda self: self.env["account.move.line"]._collection_open_picker_domain(),
        help="While the dispute is open, reminders leave these instalments out.",
    )
    reason_id = fields.Many2one("collection.dispute.reason")
    description = fields.Text()
    user_id = fields.Many2one(
        "res.users",
        string="Owner",
        default=lambda self: self.env.user,
        tracking=True,
        help="Who investigates the dispute and gets the deadline alert.",
    )
    deadline = fields.Date(
        compute="_compute_deadline",
        store=True,
        readonly=False,
        tracking=True,
        help="Day by which the dispute should be resolved; its owner is alerted after it.",
    )
    is_late = fields.Boolean(compute="_compute_is_late", search="_search_is_late", string="Past Deadline")
    deadline_passed = fields.Boolean(
        readonly=True,
        copy=False,
        help="Set by the daily deadline check when the open dispute passed its deadline, cleared when it "
        "is resolved or its deadline moves later. Automation rules can watch it.",
    )
    state = fields.Selection(
        [("open", "Open"), ("accepted", "Resolved for the Customer"), ("rejected", "Rejected")],
        default="open",
        required=True,
        index=True,
        tracking=True,
        copy=False,
    )
    resolution = fields.Text(help="How the dispute was resolved.")
    date_resolved = fields.Date(string="Resolved On", readonly=True, copy=False)
    credit_note_ids = fields.Many2many(
        "account.move",
        compute="_compute_amounts",
        string="Credit Notes",
        help="Credit notes reconciled with the disputed instalments.",
    )
    amount_disputed = fields.Monetary(
        compute="_compute_amounts",
        currency_field="currency_id",
        string="Amount in Dispute",
        help="What remains to pay on the disputed instalments, in company currency.",
    )

    @api.depends("move_ids")
    def _compute_line_ids(self):
        """The disputed invoices' open instalments (``_collection_open_domain``): settled ones
        have nothing left to dispute or to pause."""
        open_domain = self.env["account.move.line"]._collection_open_domain()
        for dispute in self:
            dispute.line_ids = dispute.move_ids.line_ids.filtered_domain(open_domain)

    @api.depends("reason_id")
    def _compute_deadline(self):
        today = fields.Date.context_today(self)
        for dispute in self:
            if not dispute.deadline:
                days = dispute.reason_id.resolution_days or DEFAULT_DEADLINE_DAYS
                dispute.deadline = today + timedelta(days=days)

    @api.depends("deadline", "state")
    def _compute_is_late(self):
        today = fields.Date.context_today(self)
        for dispute in self:
            dispute.is_late = dispute.state == "open" and bool(dispute.deadline) and dispute.deadline < today

    def _search_is_late(self, operator, value):
        if operator not in ("=", "!=") or not isinstance(value, bool):
            return NotImplemented
        domain = Domain("state", "=", "open") & Domain("deadline", "<", fields.Date.context_today(self))
        return domain if (operator == "=") == value else ~domain

    @api.depends("line_ids.amount_residual", "line_ids.matched_credit_ids")
    def _compute_amounts(self):
        # Reconciliations are accounting records collectors do not read; the credit notes found
        # through them are invoices of the dispute's customer, which they do.
        for dispute, dispute_sudo in zip(self, self.sudo(), strict=True):
            dispute.amount_disputed = sum(dispute_sudo.line_ids.mapped("amount_residual"))
            dispute.credit_note_ids = dispute_sudo.line_ids.matched_credit_ids.credit_move_id.move_id.filtered(
                lambda move: move.move_type == "out_refund"
            ).ids

    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:
            if vals.get("partner_id"):
                vals["partner_id"] = self.env["res.partner"].browse(vals["partner_id"]).commercial_partner_id.id
            if vals.get("name", "/") == "/":
                vals["name"] = self.env["ir.sequence"].next_by_code("collection.dispute") or _("Dispute")
        disputes = super().create(vals_list)
        disputes._check_rules()
        for dispute in disputes.filtered(lambda d: not d.case_id):
            dispute.case_id = dispute.partner_id._get_collection_case(dispute.company_id, create=True).sudo()
        disputes.case_id.sudo()._collection_move_to("dispute")
        for dispute in disputes:
            case = dispute.case_id.sudo()
            case._post_case_message(
                _(
                    "Dispute %(name)s opened: %(reason)s.",
                    name=dispute.name,
                    reason=dispute.reason_id.name or _("no reason given"),
                )
            )
            if dispute.user_id and dispute.user_id != self.env.user:
                dispute.activity_schedule(
                    "mail.mail_activity_data_todo",
                    date_deadline=dispute.deadline,
                    user_id=dispute.user_id.id,
                    summary=_("Investigate dispute %s", dispute.name),
                )
        return disputes

    def write(self, vals):
        # Whose the dispute is (customer, company, case) is checked by collection.scope.mixin.
        result = super().write(vals)
        if RULE_FIELDS & vals.keys():
            self._check_rules()
        return result

    # ------------------------------------------------------------------
    # The rules of a dispute, opened online or in the back office
    # ------------------------------------------------------------------

    def _check_rules(self):
        """Instalments and invoices of the dispute's own customer only; an invoice has at most one
        open dispute (whoever opened the other one: searched as superuser)."""
        for dispute in self:
            case = dispute.case_id
            if case and (case.partner_id != dispute.partner_id or case.company_id != dispute.company_id):
                raise ValidationError(_("A dispute belongs to the case of its own customer."))
            moves = dispute.move_ids | dispute.line_ids.move_id
            if moves and (moves.commercial_partner_id != dispute.partner_id or moves.company_id != dispute.company_id):
                raise ValidationError(_("A dispute covers invoices of its own customer only."))
        for dispute in self.filtered(lambda d: d.state == "open" and d.line_ids):
            other_sudo = self.sudo().search(
                [("id", "!=", dispute.id), ("state", "=", "open"), ("line_ids", "in", dispute.line_ids.ids)],
                limit=1,
            )
            if other_sudo:
                invoices = (other_sudo.line_ids & dispute.line_ids).move_id
                raise ValidationError(
                    _(
                        "Invoice %(invoice)s is already under dispute (%(dispute)s).",
                        invoice=", ".join(invoices.mapped("name")),
                        dispute=other_sudo.name,
                    )
                )

    # ------------------------------------------------------------------
    # Resolution
    # ------------------------------------------------------------------

    def action_accept(self):
        """Resolved in the customer's favour (usually with a credit note)."""
        self._resolve("accepted")
        return True

    def action_reject(self):
        """Rejected: the instalments are owed, reminders resume."""
        self._resolve("rejected")
        return True

    def action_reopen(self):
        self.filtered(lambda d: d.state != "open").write({"state": "open", "date_resolved": False})
        return True

    def action_credit_note(self):
        """Open the credit note wizard on the disputed invoices."""
        self.ensure_one()
        moves = self.move_ids or self.line_ids.move_id
        if not moves:
            raise UserError(_("The dispute has no invoice to credit."))
        return {
            "type": "ir.actions.act_window",
            "name": _("Credit Note"),
            "res_model": "account.move.reversal",
            "view_mode": "form",
            "target": "new",
            "context": {"active_model": "account.move", "active_ids": moves.ids},
        }

    def _resolve(self, state, resolution=None):
        disputes = self.filtered(lambda d: d.state == "open")
        if not disputes:
            return
        values = {"state": state, "date_resolved": fields.Date.context_today(self)}
        if resolution:
            values["resolution"] = resolution
        disputes.write(values)
        disputes.activity_unlink(["mail.mail_activity_data_todo"])
        label = dict(self._fields["state"]._description_selection(self.env))[state]
        for dispute in disputes:
            case = dispute.case_id.sudo()
            if not case:
                continue
            case._post_case_message(_("Dispute %(name)s: %(outcome)s.", name=dispute.name, outcome=label))
            if not case.dispute_ids.filtered(lambda d: d.state == "open"):
                case._collection_move_to("contacted", only_from=("dispute",))

    @api.model
    def _close_from_credit_notes(self, lines):
        """Close as resolved for the customer the open disputes whose every instalment is now
        credited or settled, when a credit note was reconciled with one of ``lines``."""
        disputes = (
            self.sudo()
            .search(
                [
                    ("state", "=", "open"),
                    ("partner_id", "in", lines.partner_id.commercial_partner_id.ids),
                ]
            )
            .filtered(lambda dispute: dispute.line_ids & lines)
        )
        for dispute in disputes:
            credit_notes = dispute.credit_note_ids
            if not credit_notes:
                continue
            credited = dispute.line_ids.matched_credit_ids.credit_move_id.filtered(
                lambda line: line.move_id.move_type == "out_refund"
            ).matched_debit_ids.debit_move_id
            if all(line in credited or line.reconciled for line in dispute.line_ids):
                dispute._resolve("accepted", _("Credit note %s issued.", ", ".join(credit_notes.mapped("name"))))

    # ------------------------------------------------------------------
    # Deadline alerts
    # ------------------------------------------------------------------

    @api.model
    def _cron_deadline_alerts(self):
        """Alert the owner of every open dispute past its deadline, once per open alert; mark the
        disputes that passed their deadline (and unmark the ones resolved or given more time)."""
        late = self.sudo().search([("is_late", "=", True)])
        self.sudo().search([("deadline_passed", "=", True), ("is_late", "=", False)]).write({"deadline_passed": False})
        late.filtered(lambda dispute: not dispute.deadline_passed).write({"deadline_passed": True})
        if not late:
            return
        alert_type = self.env.ref("collections_management.mail_activity_type_dispute_deadline")
        alerted = (
            self.env["mail.activity"]
            .sudo()
            .search(
                [
                    ("res_model", "=", self._name),
                    ("res_id", "in", late.ids),
                    ("activity_type_id", "=", alert_type.id),
                ]
            )
            .mapped("res_id")
        )
        to_alert = late.filtered(lambda d: d.id not in alerted)
        today = fields.Date.context_today(self)
        model_id = self.env["ir.model"]._get_id(self._name)
        self.env["mail.activity"].sudo().create(
            [
                {
                    "res_model_id": model_id,
                    "res_id": dispute.id,
                    "activity_type_id": alert_type.id,
                    "summary": _(
                        "Dispute %(name)s is past its deadline (%(deadline)s)",
                        name=dispute.name,
                        deadline=format_date(self.env, dispute.deadline),
                    ),
                    "user_id": (dispute.user_id or dispute.case_id.team_id.user_id or self.env.user).id,
                    "date_deadline": today,
                }
                for dispute in to_alert
            ]
        )

from odoo import api, fields, models
from odoo.tools import SQL, float_repr

from .collection_policy import DECISION_REASONS


class CollectionRunDecision(models.Model):
    """What a run decided for one customer and why: "why wasn't X reminded?" in two clicks."""

    _name = "collection.run.decision"
    _description = "Collection Run Decision"
    _order = "run_id desc, id"
    _rec_name = "partner_id"

    run_id = fields.Many2one("collection.run", required=True, index=True, ondelete="cascade")
    company_id = fields.Many2one(related="run_id.company_id", store=True, index=True)
    currency_id = fields.Many2one(
        "res.currency", default=lambda self: self.env.company.currency_id, help="The company's currency."
    )
    run_type = fields.Selection(related="run_id.run_type")
    date = fields.Date(related="run_id.date")
    partner_id = fields.Many2one("res.partner", string="Customer", required=True, index=True, ondelete="cascade")
    policy_id = fields.Many2one("collection.policy", ondelete="set null")
    level_id = fields.Many2one("collection.level", ondelete="set null")
    reason = fields.Selection(DECISION_REASONS, string="Decision", required=True, index=True)
    detail = fields.Text(string="Why")
    amount_due = fields.Monetary(
        string="Reminded", currency_field="currency_id", help="Instalments the reminder lists, company currency."
    )
    amount_credit = fields.Monetary(
        string="Credits",
        currency_field="currency_id",
        help="Unapplied payments and credit notes of the customer, company currency.",
    )
    amount_net = fields.Monetary(string="Net Due", currency_field="currency_id")
    line_count = fields.Integer(string="Open Items")
    channels = fields.Char(string="Channels and Recipients")
    communication_ids = fields.One2many(
        "collection.communication", compute="_compute_communication_ids", string="Communications"
    )

    def _compute_communication_ids(self):
        communications = self.env["collection.communication"].search(
            [("run_id", "in", self.run_id.ids), ("partner_id", "in", self.partner_id.ids)]
        )
        by_key = communications.grouped(lambda c: (c.run_id.id, c.partner_id.id))
        for decision in self:
            decision.communication_ids = by_key.get(
                (decision.run_id.id, decision.partner_id.id), self.env["collection.communication"]
            )

    # ------------------------------------------------------------------
    # Fast path
    # ------------------------------------------------------------------

    # Columns the engine writes; ``company_id`` follows the run, the log columns are set here.
    _COLLECTION_INSERT_FIELDS = (
        "run_id",
        "currency_id",
        "partner_id",
        "policy_id",
        "level_id",
        "reason",
        "detail",
        "amount_due",
        "amount_credit",
        "amount_net",
        "line_count",
        "channels",
    )

    @api.model
    def _collection_insert(self, vals_list):
        """Store the decisions of a run batch in one multi-row INSERT; returns them.

        Fast path of ``create`` for the engine, next to the other ones (levels of instalments,
        batch rendering): a run stores one decision per customer, and the ORM's create costs
        about 1.5 ms a record (defaults, related company, caches). The result is the one of
        ``create`` on the same values (see the test): ``company_id`` is the run's, a missing
        currency is the company's, amounts are rounded in their currency, the reason must be
        one of the selection, the log columns are filled, and the caches are invalidated.
        Decisions have no chatter, automation or computed stored field to keep up to date."""
        if not vals_list:
            return self.browse()
        allowed = set(self._COLLECTION_INSERT_FIELDS)
        unknown = {fname for vals in vals_list for fname in vals} - allowed
        if unknown:
            raise ValueError(f"Fields not handled by the decision fast path: {sorted(unknown)}")
        reasons = {key for key, __ in DECISION_REASONS}
        runs = self.env["collection.run"].sudo().browse({vals["run_id"] for vals in vals_list})
        company_by_run = {run.id: run.company_id for run in runs}
        currencies = {}

        def currency_of(vals):
            currency_id = vals.get("currency_id") or company_by_run[vals["run_id"]].currency_id.id
            if currency_id not in currencies:
                currencies[currency_id] = self.env["res.currency"].browse(currency_id)
            return currencies[currency_id]

        def text(value):
            # as the ORM stores a Char or a Text: False and None are NULL, "" stays ""
            return None if value is None or value is False else value

        now = self.env.cr.now()
        uid = self.env.uid
        rows = []
        for vals in vals_list:
            if vals.get("reason") not in reasons:
                raise ValueError(f"Wrong decision reason: {vals.get('reason')!r}")
            currency = currency_of(vals)
            row = {
                "run_id": vals["run_id"],
                "company_id": company_by_run[vals["run_id"]].id,
                "currency_id": currency.id,
                "partner_id": vals["partner_id"],
                "policy_id": vals.get("policy_id") or None,
                "level_id": vals.get("level_id") or None,
                "reason": vals["reason"],
                "detail": text(vals.get("detail")),
                **{
                    fname: float_repr(currency.round(float(vals.get(fname) or 0.0)), currency.decimal_places)
                    for fname in ("amount_due", "amount_credit", "amount_net")
                },
                "line_count": int(vals.get("line_count") or 0),
                "channels": text(vals.get("channels")),
                "create_uid": uid,
                "create_date": now,
                "write_uid": uid,
                "write_date": now,
            }
            rows.append(SQL("(%s)", SQL(", ").join(row.values())))
        # Every row has the same columns, in the same order.
        columns = list(row)
        self.flush_model()
        self.env.cr.execute(
            SQL(
                "INSERT INTO %s (%s) VALUES %s RETURNING id",
                SQL.identifier(self._table),
                SQL(", ").join(SQL.identifier(column) for column in columns),
                SQL(", ").join(rows),
            )
        )
        ids = [row[0] for row in self.env.cr.fetchall()]
        runs.invalidate_recordset(["decision_ids", "decision_count"])
        return self.browse(ids)

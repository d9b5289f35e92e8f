from odoo import api, fields, models
from odoo.tools import SQL

from ..models.collection_communication import CALL_OUTCOMES
from .collection_kpi_mixin import KPI_DEPENDS, case_scope_join

# Call outcomes that mean the collector spoke with someone who can pay (right-party contact).
RIGHT_PARTY_OUTCOMES = ("reached", "promise", "dispute")
# States of an outbound communication that reached its channel.
SENT_STATES = ("queued", "sent", "delivered", "read", "done")
DELIVERED_STATES = ("delivered", "read", "done")


class CollectionCommunicationReport(models.Model):
    """Every contact (dry runs left out) with what it led to.

    A reminder sent the same run by e-mail and SMS is two communications but one reminder:
    ``reminder_count`` and ``amount_reminded`` count it once (on its first communication),
    ``amount_channel`` counts it on each channel for per-channel analysis. The cure rate is the
    share of the amount reminded on a channel that was paid (reconciled) within 7 or 14 days."""

    _name = "collection.communication.report"
    _inherit = ["collection.kpi.mixin"]
    _description = "Communications Analysis"
    _auto = False
    _depends = {
        **KPI_DEPENDS,
        "collection.communication": [
            "date",
            "company_id",
            "partner_id",
            "user_id",
            "channel",
            "direction",
            "state",
            "call_outcome",
            "level_id",
            "run_id",
            "amount_total",
            "line_ids",
        ],
    }
    _order = "date desc"
    _rec_name = "date"

    communication_id = fields.Many2one("collection.communication", readonly=True)
    date = fields.Date(readonly=True)
    company_id = fields.Many2one("res.company", readonly=True)
    company_currency_id = fields.Many2one("res.currency", readonly=True)
    partner_id = fields.Many2one("res.partner", string="Customer", readonly=True)
    country_id = fields.Many2one("res.country", readonly=True)
    author_id = fields.Many2one("res.users", string="By", readonly=True)
    user_id = fields.Many2one("res.users", string="Collector", readonly=True, help="Collector of the customer's case.")
    team_id = fields.Many2one("collection.team", readonly=True)
    channel = fields.Selection(selection="_selection_channel", readonly=True)
    direction = fields.Selection([("outbound", "Outbound"), ("inbound", "Inbound")], readonly=True)
    state = fields.Selection(selection="_selection_state", readonly=True)
    call_outcome = fields.Selection(CALL_OUTCOMES, string="Outcome", readonly=True)
    level_id = fields.Many2one("collection.level", readonly=True)
    run_id = fields.Many2one("collection.run", readonly=True)
    automatic = fields.Boolean(readonly=True, help="Sent by a reminder run.")

    reminder_count = fields.Integer(
        string="Reminders", readonly=True, help="Outbound reminders, counting once those sent on several channels."
    )
    amount_reminded = fields.Monetary(
        currency_field="company_currency_id",
        readonly=True,
        help="Amount of the reminders, counting once a reminder sent on several channels.",
    )
    amount_channel = fields.Monetary(
        string="Amount Reminded on Channel",
        currency_field="company_currency_id",
        readonly=True,
        help="Amount each communication that went out reminded, counted on every channel it went through "
        "(failed ones left out).",
    )
    attempt_count = fields.Integer(string="Attempts", readonly=True, help="Outbound communications sent or tried.")
    sent_count = fields.Integer(string="Sent", readonly=True)
    delivered_count = fields.Integer(string="Delivered", readonly=True)
    read_count = fields.Integer(string="Read", readonly=True)
    failed_count = fields.Integer(string="Failed", readonly=True, help="Bounced or failed.")
    rpc_count = fields.Integer(
        string="Right-Party Contacts",
        readonly=True,
        help="Calls or visits that reached the customer, ended in a promise or a dispute, and messages "
        "received from the customer.",
    )
    amount_paid_7 = fields.Monetary(
        string="Paid within 7 Days",
        currency_field="company_currency_id",
        readonly=True,
        help="Reconciled on the reminded instalments within 7 days after the communication (at most the "
        "amount reminded).",
    )
    amount_paid_14 = fields.Monetary(string="Paid within 14 Days", currency_field="company_currency_id", readonly=True)
    delivery_rate = fields.Float(
        string="Delivery Rate (%)", readonly=True, aggregator="sum", help="Delivered ÷ Attempts × 100."
    )
    read_rate = fields.Float(string="Read Rate (%)", readonly=True, aggregator="sum", help="Read ÷ Attempts × 100.")
    failure_rate = fields.Float(
        string="Failure Rate (%)", readonly=True, aggregator="sum", help="Failed ÷ Attempts × 100."
    )
    contactability = fields.Float(
        string="Contactability (%)",
        readonly=True,
        aggregator="sum",
        help="Customers with a right-party contact ÷ customers worked (with any communication) × 100.",
    )
    cure_rate_7 = fields.Float(
        string="Cure Rate 7 Days (%)",
        readonly=True,
        aggregator="sum",
        help="Paid within 7 Days ÷ Amount Reminded on Channel × 100.",
    )
    cure_rate_14 = fields.Float(
        string="Cure Rate 14 Days (%)",
        readonly=True,
        aggregator="sum",
        help="Paid within 14 Days ÷ Amount Reminded on Channel × 100.",
    )

    @api.model
    def _selection_channel(self):
        """The channels of communications, with those channel modules add (WhatsApp...)."""
        return self.env["collection.communication"]._fields["channel"]._description_selection(self.env)

    @api.model
    def _selection_state(self):
        return self.env["collection.communication"]._fields["state"]._description_selection(self.env)

    @api.model
    def _kpi_ratios(self):
        def rate(numerator, denominator):
            return lambda total, maximum, column: self._kpi_ratio(total(numerator), total(denominator), 100.0)

        def contactability(total, maximum, column):
            return self._kpi_ratio(
                SQL("COUNT(DISTINCT CASE WHEN %s > 0 THEN %s END)", column("rpc_count"), column("partner_id")),
                SQL("COUNT(DISTINCT %s)", column("partner_id")),
                100.0,
            )

        return {
            "delivery_rate": rate("delivered_count", "attempt_count"),
            "read_rate": rate("read_count", "attempt_count"),
            "failure_rate": rate("failed_count", "attempt_count"),
            "cure_rate_7": rate("amount_paid_7", "amount_channel"),
            "cure_rate_14": rate("amount_paid_14", "amount_channel"),
            "contactability": contactability,
        }

    @property
    def _table_query(self):
        return self._kpi_query(SQL("%s %s %s %s", self._with(), self._select(), self._from(), self._where()))

    @api.model
    def _with(self):
        return SQL(
            """
            WITH communications AS (
                SELECT communication.*,
                       communication.direction = 'outbound' AND communication.channel != 'note'
                           AND communication.state NOT IN ('simulated', 'cancelled') AS is_attempt,
                       communication.direction = 'outbound'
                       AND communication.state IN %(sent)s
                       AND ROW_NUMBER() OVER (
                           PARTITION BY COALESCE(communication.run_id, -communication.id), communication.partner_id,
                                        communication.direction, communication.state IN %(sent)s
                           ORDER BY communication.id) = 1 AS is_reminder
                  FROM collection_communication communication
                 WHERE communication.state != 'simulated'
            )
            """,
            sent=SENT_STATES,
        )

    @api.model
    def _select(self):
        paid_7 = SQL("COALESCE(paid.amount_7, 0)")
        paid_14 = SQL("COALESCE(paid.amount_14, 0)")
        amount = SQL(
            "CASE WHEN communications.is_attempt AND communications.state IN %s"
            " THEN COALESCE(communications.amount_total, 0) ELSE 0 END",
            SENT_STATES,
        )
        return SQL(
            """
            SELECT communications.id,
                   communications.id AS communication_id,
                   communications.date::date AS date,
                   communications.company_id,
                   company.currency_id AS company_currency_id,
                   communications.partner_id,
                   partner.country_id,
                   communications.user_id AS author_id,
                   collection_case.user_id,
                   collection_case.team_id,
                   communications.channel,
                   communications.direction,
                   communications.state,
                   communications.call_outcome,
                   communications.level_id,
                   communications.run_id,
                   communications.run_id IS NOT NULL AS automatic,
                   communications.is_reminder::int AS reminder_count,
                   CASE WHEN communications.is_reminder THEN COALESCE(communications.amount_total, 0) ELSE 0 END
                       AS amount_reminded,
                   %(amount)s AS amount_channel,
                   communications.is_attempt::int AS attempt_count,
                   (communications.is_attempt AND communications.state IN %(sent)s)::int AS sent_count,
                   (communications.is_attempt AND communications.state IN %(delivered)s)::int AS delivered_count,
                   (communications.is_attempt AND communications.state = 'read')::int AS read_count,
                   (communications.is_attempt AND communications.state = 'failed')::int AS failed_count,
                   (communications.direction = 'inbound' OR communications.call_outcome IN %(rpc)s)::int AS rpc_count,
                   LEAST(%(paid_7)s, %(amount)s) AS amount_paid_7,
                   LEAST(%(paid_14)s, %(amount)s) AS amount_paid_14,
                   NULL::float AS delivery_rate,
                   NULL::float AS read_rate,
                   NULL::float AS failure_rate,
                   NULL::float AS contactability,
                   %(cure_7)s AS cure_rate_7,
                   %(cure_14)s AS cure_rate_14
            """,
            sent=SENT_STATES,
            delivered=DELIVERED_STATES,
            rpc=RIGHT_PARTY_OUTCOMES,
            amount=amount,
            paid_7=paid_7,
            paid_14=paid_14,
            cure_7=self._kpi_ratio(SQL("LEAST(%s, %s)", paid_7, amount), amount, 100.0),
            cure_14=self._kpi_ratio(SQL("LEAST(%s, %s)", paid_14, amount), amount, 100.0),
        )

    @api.model
    def _from(self):
        return SQL(
            """
              FROM communications
              JOIN res_company company ON company.id = communications.company_id
              JOIN res_partner partner ON partner.id = communications.partner_id
         LEFT JOIN LATERAL (
                   SELECT SUM(partial.amount) FILTER (WHERE partial.max_date <= communications.date::date + 7)
                              AS amount_7,
                          SUM(partial.amount) AS amount_14
                     FROM collection_communication_move_line_rel rel
                     JOIN account_partial_reconcile partial ON partial.debit_move_id = rel.line_id
                    WHERE rel.communication_id = communications.id
                      AND communications.is_attempt
                      AND communications.state IN %(sent)s
                      AND partial.max_date >= communications.date::date
                      AND partial.max_date <= communications.date::date + 14
                   ) paid ON TRUE
              %(case_join)s
            """,
            sent=SENT_STATES,
            case_join=case_scope_join(SQL("communications.partner_id"), SQL("communications.company_id")),
        )

    @api.model
    def _where(self):
        return SQL("")

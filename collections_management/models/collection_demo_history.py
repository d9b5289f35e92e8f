from datetime import timedelta

from odoo import api, fields, models

from .collection_demo import DEMO_CUSTOMERS

# Months of paid history the demo builds, and each customer's delay (days after the due date)
# twelve months ago and today: some improve, some get worse, so the KPIs show trends.
HISTORY_MONTHS = 12
DELAY_PROFILES = [(-2, -2), (3, 1), (10, 4), (25, 35), (45, 20), (60, 90)]


class CollectionDemo(models.AbstractModel):
    _inherit = "collection.demo"

    @api.model
    def _generate_demo_history(self):
        """Twelve months of invoices and payments for half of the demo customers, paid later or
        earlier depending on the customer (and drifting over the year), with reminders and the
        calls of their collectors logged: the KPI reports and the dashboard then show trends, not
        a single snapshot. Runs after the casework, which assigns the collectors."""
        company = self.env.company
        journal = self.env["account.journal"].search([("type", "=", "sale"), ("company_id", "=", company.id)], limit=1)
        names = [name for name, *__ in DEMO_CUSTOMERS]
        partners = self.env["res.partner"].search([("name", "in", names), ("is_company", "=", True)])
        partners = partners.sorted(lambda partner: names.index(partner.name))[::2]
        if not journal or not partners:
            return
        today = fields.Date.context_today(self)
        term_30 = self.env.ref("account.account_payment_term_30days")
        product = self.env["product.product"].search([("name", "=", "Consulting services")], limit=1)
        values, plans = [], []
        for index, partner in enumerate(partners):
            early, late = DELAY_PROFILES[index % len(DELAY_PROFILES)]
            for month in range(HISTORY_MONTHS, 0, -1):
                invoice_date = today - timedelta(days=30 * month + 15)
                delay = round(late + (early - late) * month / HISTORY_MONTHS)
                amount = 400.0 + 150.0 * ((index * 7 + month * 3) % 11)
                values.append(
                    {
                        "move_type": "out_invoice",
                        "partner_id": partner.id,
                        "journal_id": journal.id,
                        "invoice_date": invoice_date,
                        "invoice_payment_term_id": term_30.id,
                        "invoice_line_ids": [
                            fields.Command.create(
                                {
                                    "product_id": product.id,
                                    "name": "Monthly services",
                                    "quantity": 1,
                                    "price_unit": amount,
                                    "tax_ids": [fields.Command.clear()],
                                }
                            )
                        ],
                    }
                )
                plans.append(invoice_date + timedelta(days=30 + delay))
        moves = self.env["account.move"].create(values)
        moves.action_post()
        communications = []
        level = company.collection_policy_id.level_ids.sorted("days")[1:2]
        cases = self.env["collection.case"].search(
            [("partner_id", "in", partners.ids), ("company_id", "=", company.id)]
        )
        collector = {case.partner_id.id: case.user_id.id for case in cases}
        for move, paid_on in zip(moves, plans, strict=True):
            due = move.invoice_date_due
            lines = move.line_ids.filtered(lambda line: line.display_type == "payment_term")
            if paid_on > due + timedelta(days=5) and due + timedelta(days=5) < today:
                communications.append(
                    {
                        "partner_id": move.partner_id.id,
                        "company_id": company.id,
                        "channel": "email",
                        "direction": "outbound",
                        "user_id": False,
                        "state": "read" if move.id % 3 else "delivered",
                        "date": fields.Datetime.to_datetime(due + timedelta(days=5)),
                        "level_id": level.id,
                        "amount_total": move.amount_total,
                        "line_ids": [fields.Command.set(lines.ids)],
                        "subject": "Reminder",
                    }
                )
            if paid_on > due + timedelta(days=20) and due + timedelta(days=20) < today:
                communications.append(
                    {
                        "partner_id": move.partner_id.id,
                        "company_id": company.id,
                        "channel": "call",
                        "direction": "outbound",
                        "user_id": collector.get(move.partner_id.id, False),
                        "state": "done",
                        "call_outcome": "reached" if move.id % 2 else "no_answer",
                        "date": fields.Datetime.to_datetime(due + timedelta(days=20)),
                        # What the collector spoke about, as the log-contact wizard records it.
                        "amount_total": move.amount_total,
                        "line_ids": [fields.Command.set(lines.ids)],
                        "subject": "Call",
                    }
                )
            if paid_on < today:
                self.env["account.payment.register"].with_context(
                    active_model="account.move", active_ids=move.ids
                ).create({"payment_date": paid_on})._create_payments()
        self.env["collection.communication"].create(communications)

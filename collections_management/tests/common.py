from datetime import timedelta

from odoo import Command, fields
from odoo.fields import Domain
from odoo.tests import freeze_time
from odoo.tools import SQL

from odoo.addons.account.tests.common import AccountTestInvoicingCommon


class CollectionsCommon(AccountTestInvoicingCommon):
    """A company with a five-level policy that may contact customers at any hour of any day,
    and customers in several countries. Invoices are built by ``_invoice`` with a due date
    a given number of days before (or after) today."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company = cls.company_data["company"]
        cls.today = fields.Date.context_today(cls.env["collection.run"])
        cls.env.company.partner_id.tz = "UTC"
        cls.policy = cls._create_policy(cls.company)
        cls.level_preventive, cls.level_first, cls.level_second, cls.level_final, cls.level_prelegal = (
            cls.policy.level_ids.sorted("days")
        )
        cls.customer = cls.env["res.partner"].create(
            {
                "name": "Abarrotes del Bajío",
                "is_company": True,
                "email": "cuentas@abarrotes.example.com",
                "phone": "+52 477 123 4567",
                "country_id": cls.env.ref("base.mx").id,
                "street": "Blvd. López Mateos 1520",
                "city": "León",
                "lang": "en_US",
            }
        )
        cls.customer_b = cls.env["res.partner"].create(
            {
                "name": "Northwind Traders",
                "is_company": True,
                "email": "ar@northwind.example.com",
                "phone": "+1 206 555 0142",
                "country_id": cls.env.ref("base.us").id,
                "street": "1200 Pine Street",
                "city": "Seattle",
                "lang": "en_US",
            }
        )

    @classmethod
    def _create_policy(cls, company, **values):
        ref = cls.env.ref
        levels = [
            ("Upcoming due date", -3, "preventive", "mail_template_collection_preventive", False),
            ("First reminder", 5, "administrative", "mail_template_collection_first", False),
            ("Second reminder", 15, "administrative", "mail_template_collection_second", True),
            ("Final notice", 30, "prelegal", "mail_template_collection_final", True),
            ("Pre-legal notice", 60, "prelegal", "mail_template_collection_prelegal", True),
        ]
        policy = (
            cls.env["collection.policy"]
            .with_company(company)
            .create(
                {
                    "name": f"Policy of {company.name}",
                    "company_id": company.id,
                    "min_days_between_contacts": 0,
                    "max_contacts_per_week": 0,
                    "contact_hour_from": 0.0,
                    "contact_hour_to": 24.0,
                    "contact_saturday": True,
                    "contact_sunday": True,
                    "level_ids": [
                        Command.create(
                            {
                                "name": name,
                                "days": days,
                                "stage": stage,
                                "channel_email": True,
                                "mail_template_id": ref(f"collections_management.{template}").id,
                                "channel_sms": sms,
                                "sms_template_id": ref("collections_management.sms_template_collection_reminder").id,
                                "fallback": "task",
                            }
                        )
                        for name, days, stage, template, sms in levels
                    ],
                    **values,
                }
            )
        )
        company.collection_policy_id = policy
        return policy

    @classmethod
    def _invoice(cls, partner, amount, days_late, currency=None, company=None, post=True):
        """A customer invoice of ``amount`` (no tax) falling due ``days_late`` days before today
        (negative: in the future)."""
        company = company or cls.company
        due = cls.today - timedelta(days=days_late)
        invoice_date = min(due, cls.today)
        move = (
            cls.env["account.move"]
            .with_company(company)
            .create(
                {
                    "move_type": "out_invoice",
                    "partner_id": partner.id,
                    "company_id": company.id,
                    "invoice_date": invoice_date,
                    "invoice_date_due": due,
                    "invoice_payment_term_id": False,
                    "currency_id": (currency or company.currency_id).id,
                    "invoice_line_ids": [
                        Command.create(
                            {
                                "name": "Services",
                                "quantity": 1,
                                "price_unit": amount,
                                "tax_ids": [Command.clear()],
                            }
                        )
                    ],
                }
            )
        )
        if post:
            move.action_post()
        return move

    @classmethod
    def _invoice_in_two_instalments(cls, partner, amount, days_since_invoice):
        """A posted invoice of ``amount`` dated ``days_since_invoice`` days ago, half due on its
        date and half 30 days later."""
        term = cls.env["account.payment.term"].create(
            {
                "name": "Half now, half in 30 days",
                "line_ids": [
                    Command.create({"value": "percent", "value_amount": 50.0, "nb_days": 0}),
                    Command.create({"value": "percent", "value_amount": 50.0, "nb_days": 30}),
                ],
            }
        )
        invoice = cls.env["account.move"].create(
            {
                "move_type": "out_invoice",
                "partner_id": partner.id,
                "invoice_date": cls.today - timedelta(days=days_since_invoice),
                "invoice_payment_term_id": term.id,
                "invoice_line_ids": [Command.create({"name": "Services", "price_unit": amount, "tax_ids": []})],
            }
        )
        invoice.action_post()
        return invoice

    @classmethod
    def _instalments(cls, moves):
        return moves.line_ids.filtered(lambda line: line.display_type == "payment_term")

    def _run(self, run_type="manual", date=None, company=None):
        """A run of ``company`` on ``date``. A real run only happens today: one on another date
        runs with the clock moved to that day (same time of day)."""
        company = company or self.company
        date = date or self.today
        Run = self.env["collection.run"].with_company(company)
        if run_type != "dry_run" and date != Run._company_today(company):
            with freeze_time(fields.Datetime.now() + (date - Run._company_today(company))):
                return self._run(run_type=run_type, date=date, company=company)
        run = Run.create({"company_id": company.id, "run_type": run_type, "date": date})
        run._execute()
        return run

    def _communications(self, partner=None, **domain):
        terms = [("partner_id", "=", (partner or self.customer).id)]
        terms += [(key, "=", value) for key, value in domain.items()]
        return self.env["collection.communication"].search(terms, order="id")

    def _mixed_portfolio(self, partner):
        """A month of ``partner``'s receivables mixing what "open instalment" must sort out: an
        invoice partly paid, one paid in full, one in payment, an invoice in two instalments,
        a payment left on account, a credit note, a draft, and an invoice in another company.
        Returns the moves by name; ``open`` holds the instalments that must be chased."""
        other = self.setup_other_company(name="Pampa SA")["company"]
        partly = self._invoice(partner, 300.0, days_late=20)
        self._register_payment(partly, amount=100.0)
        paid = self._invoice(partner, 200.0, days_late=10)
        self._register_payment(paid)
        in_payment = self._invoice(partner, 400.0, days_late=12)
        split = self._invoice_in_two_instalments(partner, 1000.0, days_since_invoice=10)
        on_account = self.env["account.payment"].create(
            {
                "payment_type": "inbound",
                "partner_type": "customer",
                "partner_id": partner.id,
                "amount": 500.0,
                "date": self.today,
                "journal_id": self.company_data["default_journal_bank"].id,
            }
        )
        on_account.action_post()
        credit_note = self.env["account.move"].create(
            {
                "move_type": "out_refund",
                "partner_id": partner.id,
                "invoice_date": self.today,
                "invoice_line_ids": [Command.create({"name": "Credit", "price_unit": 50.0, "tax_ids": []})],
            }
        )
        credit_note.action_post()
        draft = self._invoice(partner, 80.0, days_late=5, post=False)
        elsewhere = self._invoice(partner.with_company(other), 650.0, days_late=9, company=other)
        self.env.flush_all()
        self.env.cr.execute(SQL("UPDATE account_move SET payment_state = 'in_payment' WHERE id = %s", in_payment.id))
        self.env.invalidate_all()
        return {
            "partly": partly,
            "paid": paid,
            "in_payment": in_payment,
            "split": split,
            "on_account": on_account.move_id,
            "credit_note": credit_note,
            "draft": draft,
            "elsewhere": elsewhere,
            "open": self._instalments(partly | split),
        }

    def _owners_open_instalments(self, partner, company=None):
        """What ``account.move.line._collection_open_domain`` says ``partner`` owes in ``company``."""
        Line = self.env["account.move.line"]
        return Line.search(
            Domain([("partner_id", "=", partner.id), ("company_id", "=", (company or self.company).id)])
            & Line._collection_open_domain()
        )

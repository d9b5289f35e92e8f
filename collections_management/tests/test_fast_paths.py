from odoo import Command, fields
from odoo.exceptions import AccessError
from odoo.tests import tagged

from .common_casework import CaseworkCommon


@tagged("post_install", "-at_install")
class TestFastPaths(CaseworkCommon):
    """Every shortcut of ``collection.fast`` against the plain ORM on the same records: same rows,
    same values, same automation rules run, same refusals."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.Fast = cls.env["collection.fast"]

    def _stored(self, records, skip=()):
        """Stored values of ``records`` as the database gives them back (ids and timestamps aside)."""
        records.env.invalidate_all()
        fnames = [
            name
            for name, field in records._fields.items()
            if field.store and name not in ("id", "create_date", "write_date", *skip)
        ]
        return records.read(fnames, load=None)

    def _rule(self, model, trigger, code, fields_watched=()):
        """An automation rule on ``model`` running ``code`` (a server action)."""
        model_id = self.env["ir.model"]._get_id(model)
        return self.env["base.automation"].create(
            {
                "name": f"Fast path rule on {model}",
                "model_id": model_id,
                "trigger": trigger,
                "trigger_field_ids": [
                    Command.set([self.env["ir.model.fields"]._get(model, fname).id for fname in fields_watched])
                ],
                "action_server_ids": [
                    Command.create(
                        {
                            "name": "Mark",
                            "model_id": model_id,
                            "state": "code",
                            "code": code,
                            "usage": "base_automation",
                        }
                    )
                ],
            }
        )

    # INSERT --------------------------------------------------------------

    def test_communication_insert_gives_what_create_gives(self):
        """Communications inserted in one batch read back as the ones create makes from the same
        values: amounts rounded in the company currency, defaults, the level's stage, the
        instalments, and the automation rules on creation run on them too."""
        invoice = self._invoice(self.customer, 1000.0, days_late=20)
        other = self._invoice(self.customer_b, 250.0, days_late=8)
        run = self._run("dry_run")
        self._rule(
            "collection.communication",
            "on_create",
            "for record in records: record.write({'note': 'Seen by the rule: %s' % record.channel})",
        )
        Communication = self.env["collection.communication"]
        vals_list = [
            {
                "subject": "First reminder for O'Brien & <Co>",
                "date": fields.Datetime.now(),
                "company_id": self.company.id,
                "partner_id": self.customer.id,
                "recipient_id": self.customer.id,
                "channel": "email",
                "state": "queued",
                "run_id": run.id,
                "level_id": self.level_first.id,
                "line_ids": [Command.set(self._instalments(invoice).ids)],
                "amount_total": 1000.005,
                "amount_credit": 10.004,
                "is_follow_up": True,
                "user_id": self.env.user.id,
            },
            {
                "subject": "Second",
                "company_id": self.company.id,
                "partner_id": self.customer_b.id,
                "recipient_id": self.customer_b.id,
                "channel": "letter",
                "level_id": self.level_second.id,
                "line_ids": [Command.set(self._instalments(other).ids)],
                "amount_total": 250.0,
            },
        ]
        fast = self.Fast._insert(Communication, vals_list)
        plain = Communication.create(vals_list)
        self.assertEqual(len(fast), 2)
        expected = [dict(values, id=record.id) for record, values in zip(fast, self._stored(plain))]
        self.assertEqual(self._stored(fast), expected)
        self.assertRecordValues(
            fast,
            [
                {
                    "amount_total": 1000.01,
                    "amount_credit": 10.0,
                    "stage": "administrative",
                    "direction": "outbound",
                    "note": "Seen by the rule: email",
                },
                {
                    "amount_total": 250.0,
                    "amount_credit": 0.0,
                    "stage": "administrative",
                    "direction": "outbound",
                    "note": "Seen by the rule: letter",
                },
            ],
        )
        self.assertEqual(fast[0].line_ids, self._instalments(invoice))
        self.assertIn(fast[0], run.communication_ids, "the run sees them at once")

    def test_communication_insert_refuses_what_create_refuses(self):
        """A collector may not create communications, by either path; values the fast path does not
        handle are refused, not written half."""
        Communication = self.env["collection.communication"]
        values = {
            "company_id": self.company.id,
            "partner_id": self.customer.id,
            "channel": "note",
        }
        with self.assertRaises(AccessError):
            Communication.with_user(self.collector_1).create([values])
        with self.assertRaises(AccessError):
            self.Fast.with_user(self.collector_1)._insert(Communication.with_user(self.collector_1), [values])
        with self.assertRaises(ValueError):
            self.Fast._insert(Communication, [dict(values, channel="pigeon")])
        with self.assertRaises(ValueError):
            self.Fast._insert(Communication, [dict(values, move_ids=[Command.set([])])])
        with self.assertRaises(ValueError):
            self.Fast._insert(Communication, [dict(values, line_ids=[Command.create({"name": "x"})])])
        with self.assertRaises(ValueError):
            self.Fast._insert(self.env["collection.case"], [{"partner_id": self.customer.id}])

    def test_decision_insert_gives_what_create_gives(self):
        """The engine stores its decisions in one INSERT: the records read back exactly as the
        ones the ORM's create makes from the same values (company, currency, rounding, empty
        values), and the run sees them at once."""
        self._invoice(self.customer, 300.0, days_late=8)
        run = self._run()
        usd = self.env.ref("base.USD")
        usd.active = True
        vals_list = [
            {
                "run_id": run.id,
                "currency_id": self.company.currency_id.id,
                "partner_id": self.customer.id,
                "policy_id": self.policy.id,
                "level_id": self.level_first.id,
                "reason": "send",
                "detail": "Reminder <b>sent</b> to O'Brien & Co",
                "amount_due": 1234.567,
                "amount_credit": -10.005,
                "amount_net": 1224.562,
                "line_count": 3,
                "channels": "email: Someone",
            },
            {
                "run_id": run.id,
                "partner_id": self.customer_b.id,
                "policy_id": False,
                "level_id": False,
                "reason": "nothing_new",
                "detail": False,
                "amount_due": 0.0,
                "line_count": 0,
                "channels": "",
            },
            {"run_id": run.id, "currency_id": usd.id, "partner_id": self.customer_b.id, "reason": "error"},
        ]
        Decision = self.env["collection.run.decision"]
        before = len(run.decision_ids)
        fast = self.Fast._insert(Decision, vals_list)
        plain = Decision.create(vals_list)
        self.assertEqual(len(run.decision_ids), before + 6, "the run sees the inserted decisions")
        expected = [dict(values, id=record.id) for record, values in zip(fast, self._stored(plain))]
        self.assertEqual(self._stored(fast), expected)
        self.assertRecordValues(
            fast,
            [
                {"amount_due": 1234.57, "company_id": self.company.id, "currency_id": self.company.currency_id.id},
                {"amount_due": 0.0, "company_id": self.company.id, "currency_id": self.company.currency_id.id},
                {"amount_due": 0.0, "company_id": self.company.id, "currency_id": usd.id},
            ],
        )
        self.assertEqual(fast.create_uid, self.env.user)
        self.assertEqual(fast[1].channels, "")
        self.assertFalse(fast[2].detail)
        with self.assertRaises(ValueError):
            self.Fast._insert(Decision, [{"run_id": run.id, "partner_id": self.customer.id, "reason": "no such"}])
        with self.assertRaises(ValueError):
            self.Fast._insert(Decision, [{"run_id": run.id, "partner_id": self.customer.id, "note": "x"}])

    # UPDATE --------------------------------------------------------------

    def test_grouped_write_gives_what_write_gives(self):
        """Values that differ per case, written in one UPDATE, read back as ORM writes of the same
        values; the automation rules watching them run on both, and the amounts are rounded."""
        partners = self.env["res.partner"].create([{"name": f"Twin {index}", "is_company": True} for index in range(4)])
        Case = self.env["collection.case"]
        case_a, case_b, twin_a, twin_b = (
            Case.create({"partner_id": partner.id, "company_id": self.company.id}) for partner in partners
        )
        self._rule(
            "collection.case",
            "on_create_or_write",
            "records.write({'color': 7})",
            fields_watched=["last_payment_date"],
        )
        payment = self._invoice(self.customer, 1.0, days_late=0)
        values = {
            case_a.id: {
                "last_payment_date": self.today,
                "last_payment_move_id": payment.id,
                "last_payment_amount": 12.345,
            },
            case_b.id: {"last_payment_date": False, "last_payment_amount": 3.0},
        }
        self.Fast._write_rows(case_a | case_b, values)
        twin_a.write(values[case_a.id])
        twin_b.write(values[case_b.id])
        skip = ("message_main_attachment_id",)
        for fast, plain in ((case_a, twin_a), (case_b, twin_b)):
            self.assertEqual(
                {
                    key: value
                    for key, value in self._stored(fast, skip)[0].items()
                    if "last_payment" in key or key == "color"
                },
                {
                    key: value
                    for key, value in self._stored(plain, skip)[0].items()
                    if "last_payment" in key or key == "color"
                },
            )
        self.assertRecordValues(
            case_a | case_b,
            [
                {"last_payment_amount": 12.35, "last_payment_date": self.today, "color": 7},
                {"last_payment_amount": 3.0, "last_payment_date": False, "color": 0},
            ],
        )
        self.assertEqual(case_a.write_uid, self.env.user)

    def test_grouped_write_refuses_what_write_refuses(self):
        """A collector changes neither a system field nor a manager field, by either path."""
        self._invoice(self.customer, 100.0, days_late=10)
        self._run()
        case = self._case_of(self.customer)
        case.user_id = self.collector_1
        as_collector = case.with_user(self.collector_1)
        for values in ({"user_id": self.collector_2.id}, {"partner_id": self.customer_b.id}):
            with self.assertRaises(AccessError):
                as_collector.write(values)
            with self.assertRaises(AccessError):
                self.Fast.with_user(self.collector_1)._write_rows(as_collector, {case.id: values})
        self.assertEqual(case.user_id, self.collector_1)
        with self.assertRaises(ValueError):
            self.Fast._write_rows(case, {case.id: {"amount_due": 5.0}})

    def test_instalment_levels_written_as_write_writes_them(self):
        """The engine's level on instalments, written in one UPDATE, reads back as an ORM write."""
        first = self._instalments(self._invoice(self.customer, 100.0, days_late=10))
        second = self._instalments(self._invoice(self.customer, 100.0, days_late=10))
        values = {"collection_level_id": self.level_first.id, "collection_level_date": self.today}
        self.Fast._write_rows(first, {line.id: values for line in first})
        second.write(values)
        fnames = ["collection_level_id", "collection_level_date", "write_uid"]
        self.env.invalidate_all()
        self.assertEqual(first.read(fnames, load=None)[0] | {"id": 0}, second.read(fnames, load=None)[0] | {"id": 0})
        self.assertEqual(first.collection_level_id, self.level_first)

    # Rendering -------------------------------------------------------------

    def test_batch_rendering_gives_what_the_mail_renderer_gives(self):
        """A template rendered for many communications in one pass gives each the body Odoo's mail
        renderer gives it alone, in its recipient's language."""
        self.env["res.lang"]._activate_lang("fr_FR")
        self.customer_b.lang = "fr_FR"
        self.customer.name = "O'Brien & <Sons>"
        self._invoice(self.customer, 1000.0, days_late=20)
        self._invoice(self.customer_b, 250.0, days_late=20)
        run = self._run("dry_run")
        communications = run.communication_ids.filtered(lambda c: c.channel == "email")
        self.assertEqual(len(communications), 2)
        template = self.level_first.mail_template_id
        bodies = self.Fast._render_qweb_batch(template, communications, lambda c: c.recipient_id.lang)
        for communication in communications:
            alone = template.with_context(lang=communication.recipient_id.lang)._render_field(
                "body_html", communication.ids
            )[communication.id]
            self.assertEqual(bodies[communication.id], alone)
        self.assertNotEqual(*bodies.values(), "each its own customer and language")

    def _case_of(self, partner):
        return self.env["collection.case"].search([("partner_id", "=", partner.id)])

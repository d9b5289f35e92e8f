#!/usr/bin/env python3
"""Benchmark of the dunning engine: builds a portfolio and prints, for a dry run and a real run,
the instalments and customers evaluated, wall time, SQL queries and communications.

Usage (Odoo 19 importable, a database with collections_management installed):

    python3 bench/dunning.py --db collections_bench --customers 200 --instalments 10
    python3 bench/dunning.py --db collections_bench --customers 2000 --instalments 10

Everything it creates is rolled back at the end, so it can run again on the same database.
Create the database once with:
    python3 -m odoo -d collections_bench --addons-path=. -i collections_management --stop-after-init
"""

import argparse
import random
import time
from datetime import date, timedelta

import odoo
from odoo import Command, api
from odoo.modules.registry import Registry
from odoo.tools import config


def build_portfolio(env, customers, instalments, seed=7):
    """``customers`` companies, each with one invoice per 10 instalments, every invoice split in
    up to 10 instalments spread over the aging buckets. Created in batches through the ORM."""
    rng = random.Random(seed)
    today = date.today()
    term_lines = [
        Command.create({"value": "percent", "value_amount": 10.0, "nb_days": 20 * index}) for index in range(10)
    ]
    term = env["account.payment.term"].create({"name": "Bench: 10 instalments", "line_ids": term_lines})
    single = env["account.payment.term"].create(
        {
            "name": "Bench: 1 instalment",
            "line_ids": [Command.create({"value": "percent", "value_amount": 100.0, "nb_days": 0})],
        }
    )
    partners = env["res.partner"].create(
        [
            {
                "name": f"Bench customer {index:05d}",
                "is_company": True,
                "email": f"ar{index}@bench.example.com",
                "phone": f"+34 6{index:08d}",
                "country_id": env.ref("base.es").id,
                "street": "Calle Mayor 1",
                "city": "Madrid",
            }
            for index in range(customers)
        ]
    )
    journal = env["account.journal"].search([("type", "=", "sale"), ("company_id", "=", env.company.id)], limit=1)
    per_invoice = 10 if instalments >= 10 else 1
    invoices_per_customer = max(instalments // per_invoice, 1)
    values = []
    for partner in partners:
        for __ in range(invoices_per_customer):
            values.append(
                {
                    "move_type": "out_invoice",
                    "partner_id": partner.id,
                    "journal_id": journal.id,
                    "invoice_date": today - timedelta(days=rng.randint(60, 200)),
                    "invoice_payment_term_id": (term if per_invoice == 10 else single).id,
                    "invoice_line_ids": [
                        Command.create(
                            {
                                "name": "Services",
                                "quantity": 1,
                                "price_unit": rng.choice([100.0, 250.0, 900.0]),
                                "tax_ids": [Command.clear()],
                            }
                        )
                    ],
                }
            )
    moves = env["account.move"]
    for start in range(0, len(values), 500):
        batch = env["account.move"].create(values[start : start + 500])
        batch.action_post()
        moves |= batch
        env.flush_all()
        env.invalidate_all()
    return partners, moves


def measure(env, run_type):
    cr = env.cr
    env.flush_all()
    env.invalidate_all()
    run = env["collection.run"].create({"company_id": env.company.id, "run_type": run_type})
    queries_before = cr.sql_log_count
    start = time.perf_counter()
    run._execute()
    env.flush_all()
    elapsed = time.perf_counter() - start
    queries = cr.sql_log_count - queries_before
    communications = env["collection.communication"].search_count([("run_id", "=", run.id)])
    mails = env["mail.mail"].sudo().search_count([("mail_message_id.collection_communication_id.run_id", "=", run.id)])
    decisions = (
        env["collection.run.decision"].search_count([("run_id", "=", run.id)])
        if "collection.run.decision" in env
        else 0
    )
    print(
        f"  {run_type:8s} instalments={run.line_count:6d} customers={run.partner_count:5d} "
        f"reminded={run.reminded_count:5d} time={elapsed:7.2f}s queries={queries:6d} "
        f"communications={communications:5d} e-mails queued={mails:5d} decisions={decisions:5d} "
        f"ms/instalment={1000 * elapsed / max(run.line_count, 1):.2f} "
        f"queries/instalment={queries / max(run.line_count, 1):.3f}"
    )
    return run


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", required=True)
    parser.add_argument("--addons-path", default=".")
    parser.add_argument("--customers", type=int, default=200)
    parser.add_argument("--instalments", type=int, default=10, help="instalments per customer")
    args = parser.parse_args()
    config.parse_config(["-d", args.db, f"--addons-path={args.addons_path}", "--log-level=warn"])
    registry = Registry(args.db)
    with registry.cursor() as cr:
        env = api.Environment(cr, odoo.SUPERUSER_ID, {})
        env.company.collection_policy_id.write(
            {
                "contact_saturday": True,
                "contact_sunday": True,
                "contact_hour_from": 0.0,
                "contact_hour_to": 24.0,
            }
        )
        start = time.perf_counter()
        partners, moves = build_portfolio(env, args.customers, args.instalments)
        lines = moves.line_ids.filtered(lambda line: line.display_type == "payment_term")
        print(
            f"portfolio: {len(partners)} customers, {len(moves)} invoices, {len(lines)} instalments "
            f"built in {time.perf_counter() - start:.1f}s"
        )
        measure(env, "dry_run")
        measure(env, "manual")
        cr.rollback()


if __name__ == "__main__":
    main()

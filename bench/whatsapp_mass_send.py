#!/usr/bin/env python3
"""Benchmark of the WhatsApp queue: N reminders validated, queued and sent to a fake Graph API
served over real HTTP on 127.0.0.1 (the one the tests use). Prints, for validation + queueing
and for the queue's scheduled action: wall time, messages per second, SQL queries, HTTP requests.

Usage (a database with collections_whatsapp installed):

    python3 bench/whatsapp_mass_send.py --db coll_wa --messages 1000
    python3 bench/whatsapp_mass_send.py --db coll_wa --messages 1000 --pace 80 --stumble

``--pace`` sets the account's messages per second (0: no pacing, the default here);
``--stumble`` makes the fake API answer 429 (Retry-After: 0) and 500 now and then.
Everything it creates is rolled back at the end (and nothing is committed meanwhile).
"""

import argparse
import os
import sys
import time

from odoo import Command, api
from odoo.modules.registry import Registry
from odoo.tools import config

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "collections_whatsapp", "tests"))
from fake_graph_api import FakeGraphAPI, graph_error  # noqa: E402


def out(text):
    sys.stdout.write(f"{text}\n")


class QueryCounter:
    def __init__(self, cr):
        self.cr = cr

    def __enter__(self):
        self.start = self.cr.sql_log_count
        self.time = time.perf_counter()
        return self

    def __exit__(self, *exc):
        self.queries = self.cr.sql_log_count - self.start
        self.elapsed = time.perf_counter() - self.time


def build(env, fake, count, pace):
    company = env.company
    account = env["collection.whatsapp.account"].create(
        {
            "name": "Bench",
            "company_id": company.id,
            "is_default": False,
            "phone_number_id": fake.phone_number_id,
            "waba_id": fake.waba_id,
            "access_token": fake.token,
            "app_secret": "bench",
            "api_base_url": fake.base_url,
            "retry_backoff": 0.001,
            "messages_per_second": pace,
            "batch_size": 100,
            "require_optin": True,
        }
    )
    template = env["collection.whatsapp.template"].create(
        {
            "account_id": account.id,
            "name": "bench_reminder",
            "language": "en_US",
            "status": "approved",
            "body": "Hello {{1}}, {{2}} is overdue since {{3}} (invoices {{4}}): {{5}}",
            "variable_ids": [
                Command.create({"placeholder": str(i + 1), "sequence": i, "value_type": value})
                for i, value in enumerate(
                    ["customer_name", "total_overdue", "oldest_due_date", "invoice_numbers", "portal_url"]
                )
            ],
        }
    )
    policy = env["collection.policy"].create(
        {
            "name": "Bench policy",
            "company_id": company.id,
            "level_ids": [
                Command.create(
                    {
                        "name": "Bench level",
                        "days": 5,
                        "channel_email": False,
                        "channel_whatsapp": True,
                        "whatsapp_template_id": template.id,
                        "fallback": "none",
                    }
                ),
            ],
        }
    )
    mx = env.ref("base.mx")
    partners = env["res.partner"].create(
        [
            {
                "name": f"Bench cliente {index:05d}",
                "is_company": True,
                "country_id": mx.id,
                "lang": "en_US",
                "phone": f"55 {1000 + index % 9000:04d} {index % 10000:04d}",
                "whatsapp_optin": True,
            }
            for index in range(count)
        ]
    )
    lines = env["account.move.line"].search(
        [("display_type", "=", "payment_term"), ("parent_state", "=", "posted"), ("company_id", "=", company.id)],
        limit=3,
    )
    communications = env["collection.communication"].create(
        [
            {
                "subject": "Bench",
                "company_id": company.id,
                "partner_id": partner.id,
                "recipient_id": partner.id,
                "channel": "whatsapp",
                "level_id": policy.level_ids.id,
                "line_ids": [Command.set(lines.ids)],
            }
            for partner in partners
        ]
    )
    return communications


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", required=True)
    parser.add_argument("--addons-path", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
    parser.add_argument("--messages", type=int, default=1000)
    parser.add_argument("--pace", type=float, default=0.0)
    parser.add_argument("--stumble", action="store_true")
    args = parser.parse_args()
    config.parse_config(["-d", args.db, f"--addons-path={args.addons_path}", "--log-level=warn"])
    fake = FakeGraphAPI().start()
    if args.stumble:

        def stumble(index, payload):
            if index % 97 == 50:
                return graph_error(130429, "(#130429) Rate limit hit", http_status=429, headers={"Retry-After": "0"})
            if index % 151 == 75:
                return graph_error(131000, "(#131000) Something went wrong", http_status=500)
            return None

        fake.inject = stumble
    registry = Registry(args.db)
    try:
        with registry.cursor() as cr:
            env = api.Environment(cr, api.SUPERUSER_ID, {"collections_whatsapp_no_commit": True})
            setup_start = time.perf_counter()
            communications = build(env, fake, args.messages, args.pace)
            env.flush_all()
            setup = time.perf_counter() - setup_start
            with QueryCounter(cr) as queue:
                communications._send_whatsapp()
                env.flush_all()
            with QueryCounter(cr) as send:
                env["collection.communication"]._cron_send_whatsapp_queue()
                env.flush_all()
            states = {}
            for state in communications.mapped("state"):
                states[state] = states.get(state, 0) + 1
            sends = len(fake.message_sends())
            once = len(fake.sent) == args.messages and set(fake.sent.values()) == {1}
            out(f"messages               {args.messages}")
            out(f"pace (account)         {args.pace or 'unlimited'} msg/s")
            out(f"setup (not measured)   {setup:.1f} s")
            out(
                f"validate + queue       {queue.elapsed:.2f} s, {args.messages / queue.elapsed:.0f} msg/s, "
                f"{queue.queries} queries"
            )
            out(
                f"send (cron)            {send.elapsed:.2f} s, {args.messages / send.elapsed:.0f} msg/s, "
                f"{send.queries} queries, {sends} HTTP requests"
            )
            out(f"end to end             {args.messages / (queue.elapsed + send.elapsed):.0f} msg/s")
            out(f"states                 {states}")
            out(f"each sent exactly once {once}")
            cr.rollback()
    finally:
        fake.stop()


if __name__ == "__main__":
    main()

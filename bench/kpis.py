#!/usr/bin/env python3
"""Benchmark of the collections KPI reports: builds a receivable history with SQL inserts (fast)
and prints the time of each KPI query and of the dashboard's.

Usage (Odoo 19 importable, a database with collections_management installed):

    python3 bench/kpis.py --db collections_bench --instalments 1000000 --customers 20000

The history spans ``--months`` (24) months: one invoice per instalment, customers from good to
bad payers (some never pay), partial payments, a payment entry per month, manual contacts and
promises. Everything is rolled back at the end (``--keep`` commits it instead), so it can run
again on the same database. Targets: every KPI under 2 s, the aging at a past date under 3 s.
"""

import argparse
import os
import sys
import time
from datetime import date, timedelta

from odoo import api
from odoo.modules.registry import Registry
from odoo.tools import SQL, config

# Customer behaviours, by customer id modulo 5: mean delay (days after the due date), spread,
# share of instalments never paid.
PROFILES = [(-3, 3, 0.0), (2, 5, 0.0), (15, 10, 0.01), (40, 20, 0.03), (75, 30, 0.15)]


def out(text):
    sys.stdout.write(f"{text}\n")
    sys.stdout.flush()


def generate(env, instalments, customers, months, today=None, seed=0.42):
    """Insert the history with SQL: customers, one posted invoice per instalment, payments (one
    payment entry per month holding each payment's receivable line, reconciled with partials),
    contacts and promises. Returns the company."""
    cr = env.cr
    today = today or date.today()
    company = env.company
    receivable = env["account.account"].search(
        [("account_type", "=", "asset_receivable"), ("company_ids", "in", company.id)], limit=1
    )
    sales = env["account.journal"].search([("type", "=", "sale"), ("company_id", "=", company.id)], limit=1)
    bank = env["account.journal"].search([("type", "=", "bank"), ("company_id", "=", company.id)], limit=1)
    currency = company.currency_id.id
    country = env.ref("base.es").id
    user = env.ref("base.user_admin").id
    cr.execute(SQL("SELECT setseed(%s)", seed))
    cr.execute("SELECT last_value FROM res_partner_id_seq")
    first_partner = cr.fetchone()[0] + 1
    cr.execute(
        SQL(
            """
        CREATE TEMP TABLE bench_partner ON COMMIT DROP AS
        WITH created AS (
            INSERT INTO res_partner (name, complete_name, is_company, active, autopost_bills, country_id, type)
            SELECT 'KPI bench ' || n, 'KPI bench ' || n, TRUE, TRUE, 'ask', %(country)s, 'contact'
              FROM generate_series(1, %(customers)s) n
            RETURNING id)
        SELECT id, (id %% 5) AS profile FROM created;
        UPDATE res_partner SET commercial_partner_id = id WHERE id IN (SELECT id FROM bench_partner);
        INSERT INTO collection_case (partner_id, company_id, user_id, name, stage_id)
        SELECT id, %(company)s, CASE WHEN id %% 2 = 0 THEN %(user)s END, 'KPI bench', NULL FROM bench_partner;
            """,
            country=country,
            customers=customers,
            company=company.id,
            user=user,
        )
    )
    profiles = SQL(", ").join(SQL("(%s, %s, %s, %s)", index, *profile) for index, profile in enumerate(PROFILES))
    cr.execute(
        SQL(
            """
        CREATE TEMP TABLE bench_line ON COMMIT DROP AS
        WITH drawn AS (
            SELECT n,
                   %(first_partner)s + floor(random() * %(customers)s)::int AS partner_id,
                   (%(today)s::date - floor(random() * %(days)s)::int) AS date,
                   (ARRAY[0, 15, 30, 30, 60])[1 + floor(random() * 5)::int] AS term,
                   round((100 + random() * 4900)::numeric, 2) AS amount,
                   random() AS u_never, random() AS u1, random() AS u2, random() AS u_split
              FROM generate_series(1, %(instalments)s) n
        )
        SELECT nextval('account_move_id_seq') AS move_id, nextval('account_move_line_id_seq') AS id,
               drawn.partner_id, drawn.date, drawn.date + drawn.term AS date_maturity, drawn.amount,
               CASE WHEN drawn.u_never < profile.never THEN NULL
                    ELSE drawn.date + drawn.term
                         + round(profile.mu
                                 + profile.sigma * sqrt(-2 * ln(1 - drawn.u1)) * cos(2 * pi() * drawn.u2))::int
               END AS date_paid,
               drawn.u_split < 0.2 AS split
          FROM drawn
          JOIN bench_partner partner ON partner.id = drawn.partner_id
          JOIN (VALUES %(profiles)s) profile (profile, mu, sigma, never) ON profile.profile = partner.profile;
        UPDATE bench_line SET date_paid = GREATEST(date_paid, date) WHERE date_paid IS NOT NULL;
        UPDATE bench_line SET date_paid = NULL WHERE date_paid > %(today)s;
            """,
            customers=customers,
            first_partner=first_partner,
            today=today,
            days=months * 30,
            instalments=instalments,
            profiles=profiles,
        )
    )
    # Payment events: the whole amount on the day paid, or half first (halfway) and half then.
    cr.execute(
        SQL(
            """
        CREATE TEMP TABLE bench_payment ON COMMIT DROP AS
        SELECT nextval('account_move_line_id_seq') AS id, line.id AS line_id, line.partner_id,
               line.date_maturity + (line.date_paid - line.date_maturity) / 2 AS date,
               round(line.amount / 2, 2) AS amount
          FROM bench_line line WHERE line.split AND line.date_paid IS NOT NULL
         UNION ALL
        SELECT nextval('account_move_line_id_seq'), line.id, line.partner_id, line.date_paid,
               line.amount - CASE WHEN line.split THEN round(line.amount / 2, 2) ELSE 0 END
          FROM bench_line line WHERE line.date_paid IS NOT NULL;
        CREATE TEMP TABLE bench_payment_move ON COMMIT DROP AS
        SELECT nextval('account_move_id_seq') AS id, month
          FROM (SELECT DISTINCT date_trunc('month', date)::date AS month FROM bench_payment) months;
            """
        )
    )
    cr.execute(
        SQL(
            """
        INSERT INTO account_move (id, name, date, invoice_date, invoice_date_due, move_type, state, journal_id,
                                  company_id, currency_id, partner_id, commercial_partner_id, auto_post,
                                  payment_state)
        SELECT line.move_id, 'BENCH/' || line.move_id, line.date, line.date, line.date_maturity, 'out_invoice',
               'posted', %(sales)s, %(company)s, %(currency)s, line.partner_id, line.partner_id, 'no',
               CASE WHEN line.date_paid IS NULL THEN 'not_paid' ELSE 'paid' END
          FROM bench_line line;
        INSERT INTO account_move (id, name, date, move_type, state, journal_id, company_id, currency_id, auto_post)
        SELECT id, 'BENCHPAY/' || id, month, 'entry', 'posted', %(bank)s, %(company)s, %(currency)s, 'no'
          FROM bench_payment_move;
        INSERT INTO account_move_line (id, move_id, move_name, name, date, date_maturity, company_id,
                                       company_currency_id, currency_id, account_id, partner_id, journal_id,
                                       display_type, parent_state, balance, debit, credit, amount_currency,
                                       amount_residual, amount_residual_currency, reconciled)
        SELECT line.id, line.move_id, 'BENCH/' || line.move_id, 'Instalment', line.date, line.date_maturity,
               %(company)s, %(currency)s, %(currency)s, %(receivable)s, line.partner_id, %(sales)s,
               'payment_term', 'posted', line.amount, line.amount, 0, line.amount,
               CASE WHEN line.date_paid IS NULL THEN line.amount ELSE 0 END,
               CASE WHEN line.date_paid IS NULL THEN line.amount ELSE 0 END,
               line.date_paid IS NOT NULL
          FROM bench_line line;
        INSERT INTO account_move_line (id, move_id, move_name, name, date, company_id, company_currency_id,
                                       currency_id, account_id, partner_id, journal_id, display_type,
                                       parent_state, balance, debit, credit, amount_currency, amount_residual,
                                       amount_residual_currency, reconciled)
        SELECT payment.id, move.id, 'BENCHPAY/' || move.id, 'Payment', payment.date, %(company)s, %(currency)s,
               %(currency)s, %(receivable)s, payment.partner_id, %(bank)s, 'product', 'posted', -payment.amount,
               0, payment.amount, -payment.amount, 0, 0, TRUE
          FROM bench_payment payment
          JOIN bench_payment_move move ON move.month = date_trunc('month', payment.date)::date;
        INSERT INTO account_partial_reconcile (debit_move_id, credit_move_id, amount, debit_amount_currency,
                                               credit_amount_currency, debit_currency_id, credit_currency_id,
                                               max_date, company_id)
        SELECT payment.line_id, payment.id, payment.amount, payment.amount, payment.amount, %(currency)s,
               %(currency)s, payment.date, %(company)s
          FROM bench_payment payment;
            """,
            sales=sales.id,
            bank=bank.id,
            company=company.id,
            currency=currency,
            receivable=receivable.id,
        )
    )
    # Contacts and promises: a call to a tenth of the instalments' customers after the due date,
    # a promise after a third of those calls, kept when the instalment was paid by then.
    cr.execute(
        SQL(
            """
        INSERT INTO collection_communication (partner_id, company_id, user_id, direction, channel, state, date,
                                              call_outcome, amount_total)
        SELECT line.partner_id, %(company)s, %(user)s, 'outbound',
               (ARRAY['call', 'email', 'sms'])[1 + line.id %% 3], 'done',
               (line.date_maturity + 10)::timestamp, CASE WHEN line.id %% 2 = 0 THEN 'reached' ELSE 'no_answer' END,
               line.amount
          FROM bench_line line WHERE line.id %% 10 = 0 AND line.date_maturity + 10 <= %(today)s;
        INSERT INTO collection_promise (partner_id, company_id, user_id, date_made, date, amount, scope, channel,
                                        state, date_settled)
        SELECT line.partner_id, %(company)s, %(user)s, line.date_maturity + 10, line.date_maturity + 20,
               line.amount, 'all', 'call',
               CASE WHEN line.date_maturity + 23 > %(today)s THEN 'open'
                    WHEN line.date_paid <= line.date_maturity + 23 THEN 'kept' ELSE 'broken' END,
               CASE WHEN line.date_maturity + 23 <= %(today)s THEN line.date_maturity + 23 END
          FROM bench_line line WHERE line.id %% 30 = 0 AND line.date_maturity + 10 <= %(today)s;
        ANALYZE res_partner;
        ANALYZE account_move;
        ANALYZE account_move_line;
        ANALYZE account_partial_reconcile;
        ANALYZE collection_case;
        ANALYZE collection_communication;
        ANALYZE collection_promise;
            """,
            company=company.id,
            user=user,
            today=today,
        )
    )
    env.invalidate_all()
    return company


# (label, model, domain, groupby, aggregates, context)
def kpi_queries(today):
    past = today - timedelta(days=180)
    return [
        ("Aging today", "collection.aging.report", [], ["bucket"], ["amount_residual:sum"], {}),
        ("Aging at a date: today", "collection.aging.date.report", [], ["bucket"], ["amount_residual:sum"], {}),
        (
            f"Aging at a date: {past}",
            "collection.aging.date.report",
            [],
            ["bucket"],
            ["amount_residual:sum"],
            {"collection_aging_date": past},
        ),
        (
            "DSO/CEI per month",
            "collection.kpi.report",
            [("period_type", "=", "month")],
            ["date:month"],
            ["dso:sum", "dso_countback:sum", "bpdso:sum", "add:sum", "cei:sum"],
            {},
        ),
        (
            "DSO/CEI per quarter",
            "collection.kpi.report",
            [("period_type", "=", "quarter")],
            ["date:quarter"],
            ["dso:sum", "bpdso:sum", "add:sum", "cei:sum"],
            {},
        ),
        (
            "DSO/CEI per collector",
            "collection.kpi.report",
            [("period_type", "=", "month")],
            ["user_id"],
            ["dso:sum", "cei:sum"],
            {},
        ),
        (
            "Roll rates per month and bucket",
            "collection.roll.rate.report",
            [],
            ["date:month", "bucket"],
            ["roll_rate:sum", "stay_rate:sum", "collection_rate:sum"],
            {},
        ),
        (
            "Promise-kept rate per month",
            "collection.promise.report",
            [],
            ["date_made:month"],
            ["kept_rate:sum", "kept_amount_rate:sum"],
            {},
        ),
        (
            "Contactability and cure per channel",
            "collection.communication.report",
            [],
            ["channel"],
            ["contactability:sum", "delivery_rate:sum", "cure_rate_7:sum", "cure_rate_14:sum"],
            {},
        ),
        (
            "Collector productivity per month",
            "collection.productivity.report",
            [],
            ["user_id", "date:month"],
            ["contact_count:sum", "promise_count:sum", "amount_kept:sum", "amount_collected:sum"],
            {},
        ),
        ("Cash forecast per week", "collection.cash.forecast.report", [], ["week"], ["amount:sum"], {}),
    ]


# What the Collections dashboard's pivots ask (data/files/collections_dashboard.json).
DASHBOARD_QUERIES = [
    ("collection.kpi.report", [("period_type", "=", "month")], ["date:month"], ["dso:sum", "cei:sum", "add:sum"]),
    ("collection.aging.report", [], ["bucket"], ["amount_residual:sum"]),
    ("collection.roll.rate.report", [], ["date:month"], ["roll_rate:sum"]),
    ("collection.promise.report", [], ["date_made:month"], ["kept_rate:sum"]),
    ("collection.cash.forecast.report", [], ["week"], ["amount:sum"]),
    ("collection.productivity.report", [], ["user_id"], ["amount_collected:sum"]),
]


def run_query(env, model, domain, groupby, aggregates, context):
    start = time.perf_counter()
    rows = env[model].with_context(**context)._read_group(domain, groupby, aggregates)
    return time.perf_counter() - start, rows


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", required=True)
    parser.add_argument("--addons-path", default=".")
    parser.add_argument("--instalments", type=int, default=1_000_000)
    parser.add_argument("--customers", type=int, default=20_000)
    parser.add_argument("--months", type=int, default=24)
    parser.add_argument("--keep", action="store_true", help="commit the generated history")
    parser.add_argument(
        "--build-only",
        action="store_true",
        help="build the history, commit it and stop (measure it later with --reuse)",
    )
    parser.add_argument(
        "--reuse",
        action="store_true",
        help="measure the history already in the database (built before with --keep) instead of building one",
    )
    args = parser.parse_args()
    config.parse_config(["-d", args.db, f"--addons-path={args.addons_path}"])
    registry = Registry(args.db)
    with registry.cursor() as cr:
        admin = api.Environment(cr, api.SUPERUSER_ID, {}).ref("base.user_admin")
        env = api.Environment(cr, admin.id, {})
        start = time.perf_counter()
        if not args.reuse:
            generate(env, args.instalments, args.customers, args.months)
        if args.build_only:
            cr.commit()
            out(f"History built and committed in {time.perf_counter() - start:.1f} s")
            return
        cr.execute("SELECT COUNT(*) FROM account_move_line WHERE display_type = 'payment_term'")
        count = cr.fetchone()[0]
        out(
            f"History: {count:,} receivable instalments over {args.months} months, "
            + ("reused" if args.reuse else f"built in {time.perf_counter() - start:.1f} s")
            + f"; load average {' '.join(f'{load:.2f}' for load in os.getloadavg())}"
        )
        if "collection.kpi.snapshot" in env:
            # The monthly snapshot of the months already over: computed once (the daily job or the
            # first report after a change), then only checked.
            snapshot = env["collection.kpi.snapshot"]
            for label in ("Snapshot refresh (as needed)", "Snapshot daily check (nothing changed)"):
                start = time.perf_counter()
                snapshot.action_refresh(check_inputs=True)
                out(f"{label:<40} {time.perf_counter() - start:6.2f} s")
            # A payment entered today, dated 6 months ago, for the customer with the most items:
            # the next report recomputes that customer's rows only.
            cr.execute(
                "SELECT partner_id FROM account_move_line WHERE display_type = 'payment_term'"
                " GROUP BY partner_id ORDER BY COUNT(*) DESC LIMIT 1"
            )
            partner_id = cr.fetchone()[0]
            snapshot._collection_mark_stale([(env.company.id, partner_id, date.today() - timedelta(days=182))])
            start = time.perf_counter()
            snapshot._collection_ensure_fresh()
            out(f"{'Snapshot after a late payment':<40} {time.perf_counter() - start:6.2f} s")
        for label, model, domain, groupby, aggregates, context in kpi_queries(date.today()):
            elapsed, rows = run_query(env, model, domain, groupby, aggregates, context)
            out(f"{label:<40} {elapsed:6.2f} s  ({len(rows)} groups)")
        start = time.perf_counter()
        for model, domain, groupby, aggregates in DASHBOARD_QUERIES:
            run_query(env, model, domain, groupby, aggregates, {})
        out(f"{'Dashboard (all its queries)':<40} {time.perf_counter() - start:6.2f} s")
        out(f"Load average at the end: {' '.join(f'{load:.2f}' for load in os.getloadavg())}")
        if args.keep:
            cr.commit()
        else:
            cr.rollback()


if __name__ == "__main__":
    main()

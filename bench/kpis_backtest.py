#!/usr/bin/env python3
"""Backtest of the expected payment date of open instalments.

Builds a receivable history with known customer behaviours (``bench/kpis.py``: from early
payers to customers 75 days late on average, some never paying), then goes back to a cut-off
date, forecasts from what was known that day the payment date of every instalment open then,
and compares with the day each one was actually paid. Instalments still unpaid today are left
out of the first column; the second counts them as paid today at the earliest (a lower bound of
their error). Prints the mean absolute error in days of:

- the method (``collection.cash.forecast.report._expected_payment_sql``),
- "paid on the due date" (the due date, or the cut-off date when already past),
- "average delay of paid invoices only" (due date + the customer's amount-weighted average delay
  of the instalments fully paid in the 12 months before the cut-off; the portfolio's without
  history; never before the cut-off).

Usage (a database with collections_management installed; everything is rolled back):

    python3 bench/kpis_backtest.py --db collections_bench --instalments 100000 --customers 2000
"""

import argparse
import os
import sys
from datetime import date, timedelta

from odoo import api
from odoo.modules.registry import Registry
from odoo.tools import SQL, config

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from kpis import generate, out  # noqa: E402


def backtest(env, cutoff):
    forecast = env["collection.cash.forecast.report"]._expected_payment_sql(cutoff)
    env.cr.execute(
        SQL(
            """
        WITH forecast AS MATERIALIZED (%(forecast)s),
        closed AS (
            SELECT partial.debit_move_id AS line_id, MAX(partial.max_date) AS date_paid
              FROM account_partial_reconcile partial
              JOIN account_move_line aml ON aml.id = partial.debit_move_id
             WHERE aml.reconciled
             GROUP BY partial.debit_move_id
        ),
        paid_history AS (
            SELECT aml.company_id, aml.partner_id, aml.balance AS weight,
                   (closed.date_paid - aml.date_maturity) AS delay
              FROM account_move_line aml
              JOIN closed ON closed.line_id = aml.id
             WHERE aml.display_type = 'payment_term'
               AND closed.date_paid <= %(cutoff)s
               AND aml.date_maturity BETWEEN %(history_start)s AND %(cutoff)s
        ),
        paid_customers AS (
            SELECT company_id, partner_id, SUM(weight * delay) / SUM(weight) AS delay
              FROM paid_history GROUP BY company_id, partner_id
        ),
        paid_portfolio AS (
            SELECT company_id, SUM(weight * delay) / SUM(weight) AS delay FROM paid_history GROUP BY company_id
        ),
        scored AS (
            SELECT forecast.expected_date AS method,
                   GREATEST(forecast.date_maturity, %(cutoff)s) AS due_date,
                   GREATEST(forecast.date_maturity
                            + ROUND(COALESCE(paid_customers.delay, paid_portfolio.delay, 0))::int,
                            %(cutoff)s) AS paid_only,
                   closed.date_paid AS actual
              FROM forecast
         LEFT JOIN closed ON closed.line_id = forecast.line_id
         LEFT JOIN paid_customers ON paid_customers.company_id = forecast.company_id
                                 AND paid_customers.partner_id = forecast.partner_id
         LEFT JOIN paid_portfolio ON paid_portfolio.company_id = forecast.company_id
        )
        SELECT COUNT(actual),
               AVG(ABS(method - actual)), AVG(ABS(due_date - actual)), AVG(ABS(paid_only - actual)),
               COUNT(*),
               AVG(COALESCE(ABS(method - actual), GREATEST(%(today)s - method, 0))),
               AVG(COALESCE(ABS(due_date - actual), GREATEST(%(today)s - due_date, 0))),
               AVG(COALESCE(ABS(paid_only - actual), GREATEST(%(today)s - paid_only, 0)))
          FROM scored
            """,
            forecast=forecast,
            cutoff=cutoff,
            history_start=cutoff - timedelta(days=365),
            today=date.today(),
        )
    )
    return env.cr.fetchone()


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", required=True)
    parser.add_argument("--addons-path", default=".")
    parser.add_argument("--instalments", type=int, default=100_000)
    parser.add_argument("--customers", type=int, default=2_000)
    parser.add_argument("--months", type=int, default=24)
    parser.add_argument("--cutoff-days", type=int, default=120, help="how many days ago the forecast is made")
    args = parser.parse_args()
    config.parse_config(["-d", args.db, f"--addons-path={args.addons_path}"])
    registry = Registry(args.db)
    with registry.cursor() as cr:
        env = api.Environment(cr, api.SUPERUSER_ID, {})
        generate(env, args.instalments, args.customers, args.months)
        cutoff = date.today() - timedelta(days=args.cutoff_days)
        paid, method, due_date, paid_only, count, method_all, due_date_all, paid_only_all = backtest(env, cutoff)
        out(f"Forecast made on {cutoff} for {count:,} instalments open then, {paid:,} of them paid since.")
        out("Mean absolute error in days           paid since   all (unpaid ones as paid today at the earliest)")
        out(f"  expected payment date (this method)   {method:6.1f}       {method_all:6.1f}")
        out(f"  paid on the due date                  {due_date:6.1f}       {due_date_all:6.1f}")
        out(f"  average delay of paid invoices only   {paid_only:6.1f}       {paid_only_all:6.1f}")
        cr.rollback()


if __name__ == "__main__":
    main()

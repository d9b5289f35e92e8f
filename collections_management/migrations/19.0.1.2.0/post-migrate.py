"""The count-back DSO reads 12 months of sales instead of 6: the stored months of the KPI
snapshot lack the sales of months 6 to 11 before them. Mark them all stale; the next report (or
the daily refresh) recomputes them."""


def migrate(cr, version):
    if not version:
        return
    cr.execute("UPDATE collection_kpi_snapshot_month SET stale = TRUE")

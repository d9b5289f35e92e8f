"""pytest settings for the whole repository.

`make test` installs everything the tests need (Odoo, payment_demo, Chromium, websocket-client,
wkhtmltopdf), so a test that skips is a missing piece, not a pass: report it as a failure with the
reason Odoo gave ("websocket-client module is not installed", "chromium not found", ...).
"""

import pytest


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if report.skipped and not hasattr(report, "wasxfail"):
        longrepr = report.longrepr
        reason = longrepr[2] if isinstance(longrepr, tuple) and len(longrepr) == 3 else str(longrepr)
        report.outcome = "failed"
        report.longrepr = (
            f"{item.nodeid} skipped: {reason}\n"
            "A skip means a missing piece that `make test` installs (see README, Prerequisites): "
            "it counts as a failure here."
        )

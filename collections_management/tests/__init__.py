from . import (
    test_aging_report,
    test_automation,
    test_case_call_log,
    test_case_lifecycle,
    test_dispute,
    test_dunning_engine,
    test_kpi_reports,
    test_promise,
    test_promise_dispute_rules,
    test_security,
    test_team_assignment,
    test_translations,
)

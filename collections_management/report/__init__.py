from . import (
    collection_aging_date_report,
    collection_aging_report,
    collection_cash_forecast_report,
    collection_communication_report,
    collection_kpi_mixin,
    collection_kpi_report,
    collection_kpi_snapshot,
    collection_productivity_report,
    collection_promise_report,
    collection_roll_rate_report,
)

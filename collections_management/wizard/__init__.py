from . import (
    collection_aging_export,
    collection_case_reassign,
    collection_kpi_export,
    collection_level_preview,
    collection_log_contact,
    collection_payment_claim_reject,
    collection_payment_claim_wizard,
)

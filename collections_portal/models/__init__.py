from . import (
    collection_case,
    collection_communication,
    collection_dispute,
    collection_payment_claim,
    collection_policy,
    collection_portal_link,
    collection_promise,
    payment_transaction,
    res_company,
    res_config_settings,
    res_partner,
)

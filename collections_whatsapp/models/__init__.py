from . import (
    collection_case,
    collection_communication,
    collection_level,
    collection_whatsapp_account,
    collection_whatsapp_template,
    collection_whatsapp_template_variable,
    ir_actions_server,
    base_automation,
    res_partner,
)

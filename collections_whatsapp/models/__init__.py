from . import (
    base_automation,
    collection_case,
    collection_communication,
    collection_level,
    collection_whatsapp_account,
    collection_whatsapp_button,
    collection_whatsapp_message,
    collection_whatsapp_optout,
    collection_whatsapp_template,
    collection_whatsapp_template_variable,
    ir_actions_server,
    res_partner,
)

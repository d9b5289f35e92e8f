from . import (
    test_whatsapp_automation,
    test_whatsapp_inbound,
    test_whatsapp_mass_send,
    test_whatsapp_phone,
    test_whatsapp_security,
    test_whatsapp_send,
    test_whatsapp_template,
    test_whatsapp_webhook,
)

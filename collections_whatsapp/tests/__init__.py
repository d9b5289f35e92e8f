from . import test_whatsapp_send

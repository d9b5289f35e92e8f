from . import collection_whatsapp_reply

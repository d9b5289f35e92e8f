from .whatsapp_api import WhatsAppApiError, WhatsAppClient

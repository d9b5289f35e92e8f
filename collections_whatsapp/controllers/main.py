import json
import logging

from odoo import http
from odoo.http import request

_logger = logging.getLogger(__name__)


class CollectionsWhatsappWebhook(http.Controller):
    """Meta's webhook. It only checks who is calling and hands the notification to the models."""

    @http.route(
        "/collections_whatsapp/webhook", type="http", auth="public", methods=["GET"], csrf=False, save_session=False
    )
    def webhook_verify(self, **params):
        """Subscription handshake: echo ``hub.challenge`` when ``hub.verify_token`` is ours."""
        Account = request.env["collection.whatsapp.account"].sudo()
        if params.get("hub.mode") != "subscribe" or not Account._find_by_verify_token(params.get("hub.verify_token")):
            return request.make_response("Forbidden", headers=[("Content-Type", "text/plain")], status=403)
        return request.make_response(params.get("hub.challenge") or "", headers=[("Content-Type", "text/plain")])

    @http.route(
        "/collections_whatsapp/webhook", type="http", auth="public", methods=["POST"], csrf=False, save_session=False
    )
    def webhook_notify(self, **params):
        body = request.httprequest.get_data(cache=True)
        signature = request.httprequest.headers.get("X-Hub-Signature-256")
        account = request.env["collection.whatsapp.account"].sudo()._find_by_signature(body, signature)
        if not account:
            _logger.warning("WhatsApp webhook with a missing or wrong signature rejected")
            return request.make_json_response({"error": "invalid signature"}, status=403)
        try:
            payload = json.loads(body)
            account._webhook_process(payload)
        except (ValueError, TypeError, AttributeError, RecursionError) as exc:
            # One short line: the exception's text may be huge (deep nesting) or hostile.
            _logger.warning(
                "Malformed WhatsApp webhook body rejected (%s, %s bytes)", type(exc).__name__, len(body or b"")
            )
            request.env.cr.rollback()
            return request.make_json_response({"error": "malformed body"}, status=400)
        return request.make_json_response({"status": "ok"})

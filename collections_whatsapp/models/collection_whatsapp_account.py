import hashlib
import hmac
import logging
import unicodedata

from odoo import SUPERUSER_ID, _, api, fields, models
from odoo.exceptions import UserError
from odoo.tools.mimetypes import guess_mimetype

from ..tools import WhatsAppApiError, WhatsAppClient
from .collection_whatsapp_message import _MediaRefused

_logger = logging.getLogger(__name__)

MANAGER = "collections_management.collections_management_group_manager"
DEFAULT_MEDIA_TYPES = (
    "image/jpeg, image/png, image/webp, application/pdf, audio/ogg, audio/mpeg, audio/mp4, audio/aac, audio/amr, "
    "video/mp4, video/3gpp"
)
# The type a file really is may be reported as one of these when Meta declares the first.
MIME_EQUIVALENTS = {"audio/ogg": {"application/ogg", "audio/ogg", "audio/opus"}, "audio/mp4": {"video/mp4"}}


class CollectionWhatsappAccount(models.Model):
    _name = "collection.whatsapp.account"
    _description = "WhatsApp Business Account"
    _order = "company_id, is_default desc, sequence, id"

    name = fields.Char(required=True)
    active = fields.Boolean(default=True)
    sequence = fields.Integer(default=10)
    company_id = fields.Many2one("res.company", required=True, index=True, default=lambda self: self.env.company)
    is_default = fields.Boolean(
        string="Default", help="The account used by the company for replies and for templates chosen without one."
    )
    phone_number_id = fields.Char(
        string="Phone Number ID",
        required=True,
        help="Identifier of the sending phone number in Meta's WhatsApp Manager.",
    )
    waba_id = fields.Char(
        string="Business Account ID",
        required=True,
        help="WhatsApp Business Account (WABA) identifier: templates live here.",
    )
    access_token = fields.Char(groups=MANAGER, copy=False, help="A permanent (system user) access token.")
    app_secret = fields.Char(
        groups=MANAGER,
        copy=False,
        help="Secret of the Meta app: webhook calls are signed with it (X-Hub-Signature-256).",
    )
    verify_token = fields.Char(
        string="Webhook Verify Token",
        groups=MANAGER,
        copy=False,
        help="Any secret string: type the same one in Meta's webhook configuration.",
    )
    api_version = fields.Char(string="Graph API Version", required=True, default="v22.0")
    api_base_url = fields.Char(string="API Base URL", required=True, default="https://graph.facebook.com")
    display_phone_number = fields.Char(readonly=True, copy=False)
    verified_name = fields.Char(readonly=True, copy=False)
    # Delivery settings
    require_optin = fields.Boolean(
        string="Require Opt-in",
        default=True,
        help="Send reminders only to customers who agreed to receive them on WhatsApp (Meta's policy).",
    )
    optout_keywords = fields.Char(
        string="Opt-out Keywords",
        default="STOP, BAJA, ALTO, PARAR, CANCELAR, UNSUBSCRIBE, DESUSCRIBIR",
        help="A customer message made of one of these words (any case, accents ignored) opts the number out.",
    )
    optin_keywords = fields.Char(
        string="Opt-in Keywords",
        default="START, ALTA, SUSCRIBIR, SUBSCRIBE",
        help="A customer message made of one of these words opts the number back in.",
    )
    timeout = fields.Float(string="Timeout (s)", default=10.0, help="Seconds to wait for Meta on each call.")
    max_retries = fields.Integer(default=3, help="Retries of a call refused with 429 or 5xx.")
    retry_backoff = fields.Float(
        string="Retry Backoff (s)",
        default=1.0,
        help="First wait before a retry when Meta gives no Retry-After; doubled at each retry.",
    )
    max_retry_wait = fields.Float(
        string="Longest Wait (s)",
        default=30.0,
        help="Longest pause within a run; when Meta asks to wait longer, messages stay queued for the next run.",
    )
    messages_per_second = fields.Float(
        default=50.0, help="Pace of mass sends (Meta's default limit is 80 per second). 0: as fast as possible."
    )
    batch_size = fields.Integer(default=100, help="Messages sent between two database commits.")
    user_id = fields.Many2one(
        "res.users",
        string="Collections User",
        default=lambda self: self.env.user,
        help="The user in whose name the webhook records customers' messages, notes and tasks.",
    )
    media_max_size = fields.Float(
        string="Largest File (MB)", default=16.0, help="Files customers send that are larger are not downloaded."
    )
    media_mime_types = fields.Char(
        string="Accepted File Types",
        default=DEFAULT_MEDIA_TYPES,
        help="MIME types of the files customers send that are downloaded (comma-separated).",
    )
    button_ids = fields.One2many("collection.whatsapp.button", "account_id", string="Reply Buttons")
    template_ids = fields.One2many("collection.whatsapp.template", "account_id", string="Templates")
    template_count = fields.Integer(compute="_compute_template_count")
    webhook_url = fields.Char(compute="_compute_webhook_url", string="Webhook URL")

    _unique_phone_number = models.Constraint(
        "UNIQUE(phone_number_id)", "This WhatsApp phone number is already configured."
    )
    _unique_default = models.UniqueIndex(
        "(company_id) WHERE is_default IS TRUE AND active IS TRUE", "A company has only one default WhatsApp account."
    )

    @api.depends("template_ids")
    def _compute_template_count(self):
        counts = dict(
            self.env["collection.whatsapp.template"]._read_group(
                [("account_id", "in", self.ids)],
                ["account_id"],
                ["__count"],
            )
        )
        for account in self:
            account.template_count = counts.get(account, 0)

    def _compute_webhook_url(self):
        for account in self:
            account.webhook_url = f"{account.get_base_url()}/collections_whatsapp/webhook"

    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:
            company_id = vals.get("company_id") or self.env.company.id
            if "is_default" not in vals and not self.search_count(
                [("company_id", "=", company_id), ("is_default", "=", True)], limit=1
            ):
                vals["is_default"] = True
        accounts = super().create(vals_list)
        self.env["collection.whatsapp.button"]._create_defaults(accounts)
        return accounts

    def write(self, vals):
        if vals.get("is_default"):
            others = self.search(
                [
                    ("company_id", "in", self.company_id.ids),
                    ("is_default", "=", True),
                    ("id", "not in", self.ids),
                ]
            )
            others.write({"is_default": False})
        return super().write(vals)

    @api.model
    def _get_default(self, company=None):
        company = company or self.env.company
        return self.sudo().search(
            [("company_id", "=", company.id), ("active", "=", True)], order="is_default desc, sequence, id", limit=1
        )

    # ------------------------------------------------------------------
    # Graph API
    # ------------------------------------------------------------------

    def _get_client(self):
        self.ensure_one()
        account = self.sudo()
        return WhatsAppClient(
            account.api_base_url,
            account.api_version,
            account.access_token,
            timeout=account.timeout,
            max_retries=account.max_retries,
            backoff=account.retry_backoff,
            max_wait=account.max_retry_wait,
        )

    def _error_message(self, error):
        """Say in words a user understands why Meta refused a call."""
        self.ensure_one()
        code = error.code
        messages = {
            0: _("WhatsApp refused the access token: check the token of account %s.", self.name),
            100: _("WhatsApp rejected a parameter of the message (%s).", error.details or error.title or ""),
            131008: _("A required parameter of the message is missing (%s).", error.details or ""),
            131009: _("A parameter of the message has an invalid value (%s).", error.details or ""),
            131026: _("The message could not be delivered: the number is not on WhatsApp or cannot receive it."),
            131030: _("The number is not in the list of test recipients allowed for this WhatsApp account."),
            131031: _("The WhatsApp account %s is locked by Meta.", self.name),
            131042: _("Meta refused the message because of a payment problem of the WhatsApp account."),
            131045: _("The sending phone number is not registered with WhatsApp."),
            131047: _(
                "More than 24 hours have passed since the customer last wrote: only approved templates can be sent."
            ),
            131048: _("Meta stopped the message: too many of our messages were reported as spam."),
            131049: _("Meta did not deliver the message to protect the customer from too many business messages."),
            131050: _("The customer stopped receiving marketing messages."),
            131051: _("WhatsApp does not support this kind of message."),
            131056: _("Too many messages were sent to this number in a short time."),
            132000: _("The values sent do not match the variables of the approved template."),
            132001: _("The template does not exist at Meta in this language."),
            132005: _("The template text is too long once its variables are filled."),
            132007: _("The template text breaks Meta's formatting rules once its variables are filled."),
            132012: _("A variable of the template has a value in the wrong format."),
            132015: _("The template is paused by Meta because of its low quality."),
            132016: _("The template is disabled by Meta."),
            133010: _("The sending phone number is not registered with WhatsApp."),
            368: _("The WhatsApp account is temporarily blocked by Meta for policy violations."),
        }
        if code == 190 or error.http_status == 401:
            text = _(
                "WhatsApp refused the access token of account %s: it is invalid or has expired. "
                "Ask a collections manager to renew it.",
                self.name,
            )
        elif code in (10, 200) or error.http_status == 403:
            text = _("The access token of account %s lacks the permission to do this.", self.name)
        elif code in messages:
            text = messages[code]
        elif error.kind == "timeout" and error.uncertain:
            text = _(
                "WhatsApp did not answer in time; the message may or may not have reached the customer, "
                "so it was not sent again."
            )
        elif error.kind == "timeout":
            text = _("WhatsApp did not answer in time.")
        elif error.kind == "connection" and error.uncertain:
            text = _(
                "The connection to WhatsApp broke while sending; the message may or may not have reached "
                "the customer, so it was not sent again."
            )
        elif error.kind == "connection":
            text = _("Could not connect to WhatsApp at %s.", self.api_base_url)
        elif error.kind == "invalid":
            text = _("WhatsApp's answer could not be understood.")
        elif error.code in (4, 80007, 130429) or error.http_status == 429:
            text = _("WhatsApp's sending limit was reached and it did not accept the message after several tries.")
        elif error.http_status and error.http_status >= 500:
            text = _("WhatsApp had a server error and did not accept the message after several tries.")
        else:
            text = _("WhatsApp refused the message.")
        if code or error.title:
            text = _(
                "%(text)s (Meta error %(code)s: %(title)s)",
                text=text,
                code=code or error.http_status,
                title=error.title or "",
            )
        return text

    def action_test_connection(self):
        self.ensure_one()
        try:
            with self._get_client() as client:
                info = client.get_phone_number(self.phone_number_id)
        except WhatsAppApiError as error:
            raise UserError(_("Connection failed: %s", self._error_message(error))) from error
        self.write(
            {
                "display_phone_number": info.get("display_phone_number"),
                "verified_name": info.get("verified_name"),
            }
        )
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "type": "success",
                "title": _("Connection successful"),
                "message": _(
                    "Connected to %(name)s (%(number)s).",
                    name=info.get("verified_name") or self.name,
                    number=info.get("display_phone_number") or self.phone_number_id,
                ),
                "next": {"type": "ir.actions.act_window_close"},
            },
        }

    def action_sync_templates(self):
        for account in self:
            account._sync_templates()
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "type": "success",
                "title": _("Templates synchronised"),
                "message": _("%s templates are known.", sum(self.mapped("template_count"))),
                "next": {"type": "ir.actions.act_window_close"},
            },
        }

    def _sync_templates(self):
        self.ensure_one()
        try:
            with self._get_client() as client:
                remote = client.list_templates(self.waba_id)
        except WhatsAppApiError as error:
            raise UserError(_("Could not read the templates: %s", self._error_message(error))) from error
        return self.env["collection.whatsapp.template"]._sync_from_meta(self, remote)

    def action_view_templates(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "collections_whatsapp.collection_whatsapp_template_action"
        )
        action["domain"] = [("account_id", "=", self.id)]
        action["context"] = {"default_account_id": self.id}
        return action

    def action_process_queue(self):
        """Ask the queue's scheduled action to run now (never sends from a user's request)."""
        self.env.ref("collections_whatsapp.ir_cron_collection_whatsapp_queue").sudo()._trigger()
        return True

    # ------------------------------------------------------------------
    # Sending
    # ------------------------------------------------------------------

    @api.model
    def _to_wa_number(self, e164):
        """Meta's ``to``: the E.164 number without the plus sign."""
        return (e164 or "").lstrip("+")

    def _template_payload(self, number, template, parameters, reference=None):
        body = {
            "messaging_product": "whatsapp",
            "recipient_type": "individual",
            "to": self._to_wa_number(number),
            "type": "template",
            "template": {
                "name": template.name,
                "language": {"code": template.language},
                "components": ([{"type": "body", "parameters": parameters}] if parameters else [])
                + template._get_button_components(),
            },
        }
        if reference:
            body["biz_opaque_callback_data"] = reference
        return body

    def _text_payload(self, number, text, reference=None):
        body = {
            "messaging_product": "whatsapp",
            "recipient_type": "individual",
            "to": self._to_wa_number(number),
            "type": "text",
            "text": {"preview_url": False, "body": text},
        }
        if reference:
            body["biz_opaque_callback_data"] = reference
        return body

    def _send_text(self, number, text):
        """Send a free-text message now (inside the 24-hour window); returns Meta's message id."""
        self.ensure_one()
        with self._get_client() as client:
            return client.send_message(self.sudo().phone_number_id, self._text_payload(number, text))

    # ------------------------------------------------------------------
    # Webhook
    # ------------------------------------------------------------------

    @api.model
    def _find_by_verify_token(self, token):
        if not token:
            return self.browse()
        accounts = self.sudo().search([("verify_token", "!=", False)])
        for account in accounts:
            if hmac.compare_digest(account.verify_token.encode(), token.encode()):
                return account
        return self.browse()

    @api.model
    def _find_by_signature(self, body, signature):
        """The account whose app secret signed ``body`` (``X-Hub-Signature-256: sha256=<hex>``),
        compared in constant time; an empty recordset when none did."""
        if not signature or not signature.startswith("sha256=") or body is None:
            return self.browse()
        received = signature[len("sha256=") :].strip().lower().encode()
        accounts = self.sudo().search([("app_secret", "!=", False)])
        found = self.browse()
        for account in accounts:
            expected = hmac.new(account.app_secret.encode(), body, hashlib.sha256).hexdigest().encode()
            if hmac.compare_digest(expected, received) and not found:
                found = account
        return found

    def _webhook_env_account(self):
        """This account in the environment the webhook works in: the company's collections
        user (tasks and notes are theirs, not the public user's), elevated, in its company."""
        self.ensure_one()
        candidates = self.sudo().user_id | self.env.ref("base.user_admin", raise_if_not_found=False).sudo()
        user = next(
            (u for u in candidates if u.active and self.company_id in u.company_ids),
            self.env["res.users"].browse(SUPERUSER_ID),
        )
        return self.with_user(user).with_company(self.company_id).sudo()

    def _webhook_process(self, payload):
        """Apply a verified webhook notification. Raises ValueError when its shape is wrong."""
        self.ensure_one()
        if not isinstance(payload, dict) or not isinstance(payload.get("entry"), list):
            raise ValueError("no entry list")
        signer = self._webhook_env_account()
        Communication = signer.env["collection.communication"]
        for entry in payload["entry"]:
            if not isinstance(entry, dict) or not isinstance(entry.get("changes", []), list):
                raise ValueError("bad entry")
            for change in entry.get("changes", []):
                if not isinstance(change, dict) or not isinstance(change.get("value", {}), dict):
                    raise ValueError("bad change")
                if change.get("field") == "message_template_status_update":
                    accounts = signer._webhook_waba_accounts(str(entry.get("id") or ""))
                    signer.env["collection.whatsapp.template"]._apply_status_update(accounts, change.get("value") or {})
                    continue
                if change.get("field") != "messages":
                    continue
                value = change.get("value") or {}
                account = signer._webhook_account(value)
                if not account:
                    continue
                statuses = value.get("statuses") or []
                messages = value.get("messages") or []
                if not isinstance(statuses, list) or not isinstance(messages, list):
                    raise ValueError("bad statuses or messages")
                if statuses:
                    Communication._whatsapp_process_statuses(account, statuses)
                if messages:
                    Communication._whatsapp_process_inbound(account, messages, value.get("contacts") or [])
        return True

    def _webhook_waba_accounts(self, waba_id):
        """The accounts of the business account a notification is about that share the app
        secret which signed it (the signing account when the notification names none)."""
        if not waba_id or waba_id == self.waba_id:
            return self
        others = self.sudo().search([("waba_id", "=", waba_id)])
        return others.filtered(lambda a: a.app_secret == self.sudo().app_secret).with_env(self.env)

    # Media ----------------------------------------------------------------------------------------

    def _media_max_bytes(self):
        self.ensure_one()
        return int((self.media_max_size or 16.0) * 1024 * 1024)

    def _media_too_large_message(self):
        self.ensure_one()
        return _("The file is larger than the %s MB accepted from customers.", f"{self.media_max_size:g}")

    def _check_media(self, declared, size, content=None):
        """Refuse (``_MediaRefused``) a file of a type not accepted or too large; with the
        content, also one that is not what Meta declared it to be."""
        self.ensure_one()
        accepted = {t.strip().lower() for t in (self.media_mime_types or "").split(",") if t.strip()}
        if declared not in accepted:
            raise _MediaRefused(_("Files of type %s are not accepted from customers.", declared or "?"))
        try:
            size = int(size) if size is not None else None
        except (TypeError, ValueError):
            size = None
        if size is not None and size > self._media_max_bytes():
            raise _MediaRefused(self._media_too_large_message())
        if content is not None:
            found = guess_mimetype(content, default="application/octet-stream")
            if found != declared and found not in MIME_EQUIVALENTS.get(declared, ()):
                # The first bytes say what a file is; only formats Odoo cannot recognise are trusted.
                if found != "application/octet-stream":
                    raise _MediaRefused(
                        _("The file claims to be %(declared)s but is %(found)s.", declared=declared, found=found)
                    )

    def _webhook_account(self, value):
        """The account a notification is for: the one that verified it, unless the phone number
        id of the notification is another account signed with the same app secret."""
        phone_number_id = (value.get("metadata") or {}).get("phone_number_id") or ""
        if not phone_number_id or phone_number_id == self.phone_number_id:
            return self
        other = self.sudo().search([("phone_number_id", "=", str(phone_number_id))], limit=1)
        if other and other.app_secret == self.sudo().app_secret:
            return other._webhook_env_account()
        _logger.info("WhatsApp webhook for unknown phone number id %s ignored", phone_number_id)
        return self.browse()

    # Keywords -------------------------------------------------------------------------------------

    @api.model
    def _normalize_keyword(self, text):
        text = unicodedata.normalize("NFKD", text or "")
        text = "".join(ch for ch in text if not unicodedata.combining(ch))
        return " ".join("".join(ch if ch.isalnum() else " " for ch in text).upper().split())

    def _keyword_action(self, text):
        """'optout', 'optin' or False for an inbound text."""
        self.ensure_one()
        word = self._normalize_keyword(text)
        if not word:
            return False
        if word in {self._normalize_keyword(k) for k in (self.optout_keywords or "").split(",")} - {""}:
            return "optout"
        if word in {self._normalize_keyword(k) for k in (self.optin_keywords or "").split(",")} - {""}:
            return "optin"
        return False

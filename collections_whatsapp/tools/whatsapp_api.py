"""A small client for Meta's WhatsApp Business Cloud API (Graph API).

It knows nothing about Odoo: it sends a request with a timeout, retries what can succeed later
(HTTP 429 and 5xx, Meta's throttling codes, connections that never reached the server) with an
exponential backoff that honours ``Retry-After``, and turns every refusal into a
:class:`WhatsAppApiError` carrying Meta's error code and title.
"""

import logging
import os
import re
import time
from email.utils import parsedate_to_datetime

import requests
from urllib3.exceptions import NewConnectionError

_logger = logging.getLogger(__name__)

# Meta error codes that mean "try again later" even when the HTTP status is 400.
# 1/2: temporary API errors; 4: application request limit; 80007: business account rate limit;
# 130429: throughput limit of the phone number; 131000: something went wrong;
# 131016: service unavailable; 133004: server temporarily unavailable.
RETRYABLE_CODES = {1, 2, 4, 80007, 130429, 131000, 131016, 133004}
TITLE_RE = re.compile(r"^\(#\d+\)\s*")


class WhatsAppApiError(Exception):
    """A call to the Graph API that did not succeed.

    :param kind: ``http`` (the server answered with an error), ``timeout``, ``connection``
        or ``invalid`` (the answer could not be understood).
    :param retry_later: the server asked to wait longer than we are willing to block;
        the caller should keep the work queued and try again later.
    :param uncertain: the request may have reached Meta (the answer timed out): a message
        must not be sent again or it could arrive twice.
    """

    def __init__(
        self,
        message,
        *,
        kind="http",
        http_status=None,
        code=None,
        title=None,
        details=None,
        retryable=False,
        retry_after=None,
        retry_later=False,
        uncertain=False,
    ):
        super().__init__(message)
        self.message = message
        self.kind = kind
        self.http_status = http_status
        self.code = code
        self.title = title
        self.details = details
        self.retryable = retryable
        self.retry_after = retry_after
        self.retry_later = retry_later
        self.uncertain = uncertain

    def __str__(self):
        parts = [self.message]
        if self.code:
            parts.append(f"code {self.code}")
        if self.http_status:
            parts.append(f"HTTP {self.http_status}")
        return " / ".join(str(part) for part in parts)


def parse_retry_after(value):
    """Seconds to wait from a ``Retry-After`` header (delta-seconds or HTTP date), or None."""
    if not value:
        return None
    value = value.strip()
    if value.replace(".", "", 1).isdigit():
        return float(value)
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(moment.timestamp() - time.time(), 0.0)


def error_from_response(response):
    """Build a :class:`WhatsAppApiError` from an error answer of the Graph API.

    Graph API errors look like ``{"error": {"message": "(#131047) Re-engagement message",
    "type": "OAuthException", "code": 131047, "error_subcode": 2494010,
    "error_data": {"messaging_product": "whatsapp", "details": "..."}, "fbtrace_id": "..."}}``.
    """
    status = response.status_code
    try:
        error = (response.json() or {}).get("error") or {}
    except ValueError:
        error = {}
    if not isinstance(error, dict):
        error = {}
    code = error.get("code")
    try:
        code = int(code) if code is not None else None
    except (TypeError, ValueError):
        code = None
    message = error.get("message") or response.reason or f"HTTP {status}"
    title = error.get("error_user_title") or TITLE_RE.sub("", message)
    error_data = error.get("error_data") or {}
    details = error_data.get("details") if isinstance(error_data, dict) else None
    retryable = status == 429 or status >= 500 or code in RETRYABLE_CODES
    return WhatsAppApiError(
        message,
        http_status=status,
        code=code,
        title=title,
        details=details,
        retryable=retryable,
        retry_after=parse_retry_after(response.headers.get("Retry-After")),
    )


class WhatsAppClient:
    """Graph API calls for one WhatsApp Business account.

    :param base_url: e.g. ``https://graph.facebook.com`` (tests point it at a local server)
    :param version: Graph API version, e.g. ``v22.0``
    :param timeout: seconds for connecting and for reading each answer
    :param max_retries: retries after the first attempt for errors that may succeed later
    :param backoff: first wait in seconds, doubled at each retry (when no ``Retry-After``)
    :param max_wait: longest single wait; a longer ``Retry-After`` raises ``retry_later``
    """

    def __init__(
        self,
        base_url,
        version,
        token,
        *,
        timeout=10.0,
        max_retries=3,
        backoff=1.0,
        max_wait=30.0,
        session=None,
        sleep=time.sleep,
    ):
        self.base_url = (base_url or "https://graph.facebook.com").rstrip("/")
        self.version = (version or "").strip("/")
        self.token = token or ""
        self.timeout = timeout or 10.0
        self.max_retries = max(max_retries or 0, 0)
        self.backoff = max(backoff or 0.0, 0.0)
        self.max_wait = max(max_wait or 0.0, 0.0)
        self.session = session or self._new_session(self.base_url)
        self.sleep = sleep

    @staticmethod
    def _new_session(base_url):
        """A keep-alive session whose proxy and CA settings are read from the environment once,
        not on every request (that lookup costs about a millisecond per message)."""
        session = requests.Session()
        session.proxies.update(requests.utils.get_environ_proxies(base_url))
        ca_bundle = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE")
        if ca_bundle:
            session.verify = ca_bundle
        session.trust_env = False
        return session

    def close(self):
        self.session.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def url(self, path):
        prefix = f"{self.base_url}/{self.version}" if self.version else self.base_url
        return f"{prefix}/{path.lstrip('/')}"

    def request(self, method, path, *, params=None, payload=None, idempotent=None):
        """Call the Graph API and return the decoded JSON answer.

        ``idempotent`` (default: GET only) allows retrying after a read timeout: a message
        POST that timed out may have been accepted by Meta, so it is never sent again.
        """
        if idempotent is None:
            idempotent = method.upper() == "GET"
        url = self.url(path)
        headers = {"Authorization": f"Bearer {self.token}", "Accept": "application/json"}
        attempt = 0
        while True:
            try:
                response = self.session.request(
                    method,
                    url,
                    params=params,
                    json=payload,
                    headers=headers,
                    timeout=self.timeout,
                )
            except requests.ConnectTimeout as exc:
                error = WhatsAppApiError(str(exc), kind="timeout", retryable=True)
            except requests.Timeout as exc:
                error = WhatsAppApiError(str(exc), kind="timeout", retryable=idempotent, uncertain=not idempotent)
            except requests.ConnectionError as exc:
                # Either the connection was refused (nothing sent) or it broke while waiting for
                # the answer (maybe sent): only idempotent calls may be repeated safely.
                reason = getattr(exc.args[0], "reason", None) if exc.args else None
                never_sent = isinstance(reason, NewConnectionError)
                error = WhatsAppApiError(
                    str(exc),
                    kind="connection",
                    retryable=idempotent or never_sent,
                    uncertain=not (idempotent or never_sent),
                )
            except requests.RequestException as exc:
                error = WhatsAppApiError(str(exc), kind="connection")
            else:
                if response.status_code < 400:
                    try:
                        return response.json()
                    except ValueError as exc:
                        raise WhatsAppApiError(
                            "The answer is not JSON",
                            kind="invalid",
                            http_status=response.status_code,
                        ) from exc
                error = error_from_response(response)
            if not error.retryable:
                raise error
            if attempt >= self.max_retries:
                _logger.info("WhatsApp %s %s: giving up after %s attempts: %s", method, path, attempt + 1, error)
                raise error
            wait = error.retry_after if error.retry_after is not None else self.backoff * (2**attempt)
            if wait > self.max_wait:
                error.retry_later = True
                raise error
            _logger.info("WhatsApp %s %s: %s; retry %s in %.2fs", method, path, error, attempt + 1, wait)
            if wait:
                self.sleep(wait)
            attempt += 1

    # Endpoints --------------------------------------------------------------------------------

    def send_message(self, phone_number_id, payload):
        """POST /{phone_number_id}/messages; returns Meta's message id (``wamid....``)."""
        answer = self.request("POST", f"{phone_number_id}/messages", payload=payload)
        messages = answer.get("messages") if isinstance(answer, dict) else None
        message_id = messages and isinstance(messages[0], dict) and messages[0].get("id")
        if not message_id:
            raise WhatsAppApiError("The answer has no message id", kind="invalid", uncertain=True)
        return message_id

    def get_media(self, media_id):
        """GET /{media_id}: ``{"url", "mime_type", "sha256", "file_size", "id"}`` of a file a
        customer sent (the URL is valid for a few minutes and needs the token too)."""
        answer = self.request("GET", str(media_id))
        if not isinstance(answer, dict) or not answer.get("url"):
            raise WhatsAppApiError("The media answer has no URL", kind="invalid")
        return answer

    def download(self, url, max_size):
        """The bytes at ``url`` (a media URL of the Graph API), read with the token; refuses more
        than ``max_size`` bytes without reading them all. Returns (content, content type)."""
        headers = {"Authorization": f"Bearer {self.token}"}
        attempt = 0
        while True:
            try:
                with self.session.get(url, headers=headers, timeout=self.timeout, stream=True) as response:
                    if response.status_code >= 400:
                        error = error_from_response(response)
                    else:
                        length = response.headers.get("Content-Length")
                        if length and length.isdigit() and int(length) > max_size:
                            raise WhatsAppApiError(f"{length} bytes", kind="too_large")
                        content = bytearray()
                        for chunk in response.iter_content(64 * 1024):
                            content += chunk
                            if len(content) > max_size:
                                raise WhatsAppApiError(f"more than {max_size} bytes", kind="too_large")
                        return bytes(content), (response.headers.get("Content-Type") or "").split(";")[0].strip()
            except requests.Timeout as exc:
                error = WhatsAppApiError(str(exc), kind="timeout", retryable=True)
            except requests.RequestException as exc:
                error = WhatsAppApiError(str(exc), kind="connection", retryable=True)
            if not error.retryable or attempt >= self.max_retries:
                raise error
            wait = error.retry_after if error.retry_after is not None else self.backoff * (2**attempt)
            if wait > self.max_wait:
                error.retry_later = True
                raise error
            if wait:
                self.sleep(wait)
            attempt += 1

    def get_phone_number(self, phone_number_id):
        return self.request(
            "GET",
            phone_number_id,
            params={"fields": "display_phone_number,verified_name,quality_rating"},
        )

    def list_templates(self, waba_id, page_size=100):
        """All message templates of a business account, following the paging cursors."""
        params = {
            "fields": "id,name,language,status,category,components,parameter_format,rejected_reason",
            "limit": page_size,
        }
        templates = []
        for __ in range(1000):  # a hard stop against a server that pages forever
            answer = self.request("GET", f"{waba_id}/message_templates", params=params)
            templates.extend(answer.get("data") or [])
            paging = answer.get("paging") or {}
            after = (paging.get("cursors") or {}).get("after")
            if not paging.get("next") or not after:
                break
            params = dict(params, after=after)
        return templates

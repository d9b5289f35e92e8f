"""A fake of Meta's Graph API for the WhatsApp Cloud API, served over real HTTP on 127.0.0.1.

Tests (and ``bench/whatsapp_mass_send.py``) point an account's API base URL at it. It answers
like Meta does: message sends, template listings with paging, phone number details, and errors
(invalid token, 429 with Retry-After, 5xx, refusals with Meta error codes). It records every
request so tests can count them.
"""

import hashlib
import itertools
import json
import re
import socket
import threading
import time
from collections import Counter, deque
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

MESSAGES_RE = re.compile(r"^/(v[\d.]+)/([^/]+)/messages$")
TEMPLATES_RE = re.compile(r"^/(v[\d.]+)/([^/]+)/message_templates$")
NODE_RE = re.compile(r"^/(v[\d.]+)/([^/]+)$")
DOWNLOAD_RE = re.compile(r"^/media-download/([^/]+)$")
# An answer that closes the connection without a word (after the request was read).
CLOSE = "close"


def graph_error(code, message, http_status=400, details=None, headers=None, error_type="OAuthException"):
    """A response tuple (status, body, headers) shaped like a Graph API error."""
    error = {"message": message, "type": error_type, "code": code, "fbtrace_id": "AbCdEfGh"}
    if details:
        error["error_data"] = {"messaging_product": "whatsapp", "details": details}
    return http_status, {"error": error}, headers or {}


class RawBody(bytes):
    """An answer sent as it is (a file), not as JSON."""


class FakeGraphAPI:
    def __init__(self, token="test-token", phone_number_id="109876543210", waba_id="123456789012"):
        self.token = token
        self.phone_number_id = phone_number_id
        self.waba_id = waba_id
        self.lock = threading.Lock()
        self.server = None
        self.thread = None
        self.page_size = None
        self.reset()

    # Control ------------------------------------------------------------------------------------

    def reset(self):
        with self.lock:
            self.generation = getattr(self, "generation", 0) + 1
            self.requests = []
            self.scripted = deque()  # responses for the next message sends, in order
            self.fail_numbers = {}  # 'to' -> response tuple, every time
            self.inject = None  # callable(index, payload) -> response tuple or None
            self.delay = 0.0  # seconds to wait before answering a message send
            self.sent = Counter()  # accepted messages per 'to'
            self.accepted = {}  # message id -> payload
            # Meta's ids are never reused: the counter survives a reset.
            self.ids = getattr(self, "ids", None) or itertools.count(1)
            self.templates = []
            self.message_requests = 0
            # media id -> (content bytes, mime type declared by Meta); answers scripted per media id
            self.media = {}
            self.media_failures = Counter()  # media id -> how many downloads fail (HTTP 500) first

    def script(self, *responses):
        with self.lock:
            self.scripted.extend(responses)

    @property
    def base_url(self):
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self):
        handler = type("Handler", (_Handler,), {"fake": self})
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, name="fake-graph-api", daemon=True)
        self.thread.start()
        return self

    def stop(self):
        if self.server:
            self.server.shutdown()
            self.server.server_close()
            self.server = None

    def message_sends(self):
        return [r for r in self.requests if r["kind"] == "messages"]

    # Answers ------------------------------------------------------------------------------------

    def answer(self, method, path, query, body, headers):
        record = {"method": method, "path": path, "query": query, "body": body, "headers": headers, "kind": None}
        record["kind"] = "messages" if MESSAGES_RE.match(path) else "templates" if TEMPLATES_RE.match(path) else "node"
        if DOWNLOAD_RE.match(path):
            record["kind"] = "download"
        with self.lock:
            self.requests.append(record)
        if headers.get("Authorization") != f"Bearer {self.token}":
            return graph_error(190, "Error validating access token: Session has expired", http_status=401)
        if match := DOWNLOAD_RE.match(path):
            return self._answer_download(match.group(1))
        if match := MESSAGES_RE.match(path):
            if method != "POST":
                return graph_error(100, "Unsupported get request")
            if match.group(2) != self.phone_number_id:
                return graph_error(100, "(#100) Invalid parameter", details="Unknown phone number id")
            return self._answer_message(body)
        if match := TEMPLATES_RE.match(path):
            if match.group(2) != self.waba_id:
                return graph_error(100, "(#100) Invalid parameter", details="Unknown business account")
            return self._answer_templates(query)
        if (match := NODE_RE.match(path)) and match.group(2) in self.media:
            content, mime_type = self.media[match.group(2)]
            return (
                200,
                {
                    "messaging_product": "whatsapp",
                    "url": f"{self.base_url}/media-download/{match.group(2)}",
                    "mime_type": mime_type,
                    "sha256": hashlib.sha256(content).hexdigest(),
                    "file_size": len(content),
                    "id": match.group(2),
                },
                {},
            )
        if match := NODE_RE.match(path):
            if match.group(2) != self.phone_number_id:
                return graph_error(100, "Unsupported get request. Object does not exist")
            return (
                200,
                {
                    "id": self.phone_number_id,
                    "display_phone_number": "+52 55 1234 5678",
                    "verified_name": "Cobranza Demo",
                    "quality_rating": "GREEN",
                },
                {},
            )
        return 404, {"error": {"message": "Unknown path", "code": 803}}, {}

    def _answer_message(self, payload):
        with self.lock:
            index = self.message_requests
            self.message_requests += 1
            scripted = self.scripted.popleft() if self.scripted else None
            generation = self.generation
        if self.delay:
            time.sleep(self.delay)
            if generation != self.generation:
                # The test that sent this request is over: do not count it in the next one.
                return 504, {"error": {"message": "Gateway Timeout", "code": 2}}, {}
        if scripted:
            return scripted
        if self.inject and (injected := self.inject(index, payload)):
            if injected == CLOSE:
                # Meta got the message (it counts as sent) but the answer never comes back.
                self._accept(payload)
            return injected
        if not isinstance(payload, dict) or payload.get("messaging_product") != "whatsapp" or not payload.get("to"):
            return graph_error(100, "(#100) Invalid parameter", details="messaging_product or to missing")
        to = str(payload["to"])
        if to in self.fail_numbers:
            return self.fail_numbers[to]
        if payload.get("type") == "template":
            template = payload.get("template") or {}
            if not template.get("name") or not (template.get("language") or {}).get("code"):
                return graph_error(132001, "(#132001) Template name does not exist in the translation")
        elif payload.get("type") == "text":
            if not (payload.get("text") or {}).get("body"):
                return graph_error(100, "(#100) Invalid parameter", details="text.body is required")
        else:
            return graph_error(131051, "(#131051) Unsupported message type")
        message_id = self._accept(payload)
        return (
            200,
            {
                "messaging_product": "whatsapp",
                "contacts": [{"input": to, "wa_id": to}],
                "messages": [{"id": message_id, "message_status": "accepted"}],
            },
            {},
        )

    def _answer_download(self, media_id):
        if media_id not in self.media:
            return 404, {"error": {"message": "Not found", "code": 100}}, {}
        with self.lock:
            if self.media_failures[media_id] > 0:
                self.media_failures[media_id] -= 1
                return 500, {"error": {"message": "Internal error", "code": 2}}, {}
        content, mime_type = self.media[media_id]
        return 200, RawBody(content), {"Content-Type": mime_type}

    def _accept(self, payload):
        with self.lock:
            message_id = f"wamid.FAKE{next(self.ids):08d}"
            self.accepted[message_id] = payload
            self.sent[str(payload["to"])] += 1
        return message_id

    def _answer_templates(self, query):
        limit = int((query.get("limit") or [self.page_size or 100])[0])
        if self.page_size:
            limit = min(limit, self.page_size)
        start = int((query.get("after") or ["0"])[0])
        page = self.templates[start : start + limit]
        body = {"data": page, "paging": {"cursors": {"before": str(start), "after": str(start + len(page))}}}
        if start + limit < len(self.templates):
            body["paging"]["next"] = f"{self.base_url}/next?after={start + limit}"
        return 200, body, {}


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    fake = None

    def setup(self):
        result = super().setup()
        # Headers and body leave in two writes: without this, Nagle's algorithm and the client's
        # delayed ACK add 40 ms to every answer.
        self.request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return result

    def log_message(self, format, *args):  # noqa: A002 (silence the server)
        return

    def _handle(self, method):
        url = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = raw.decode(errors="replace")
        answered = self.fake.answer(method, url.path, parse_qs(url.query), body, dict(self.headers))
        if answered == CLOSE:
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)
            return
        status, answer, headers = answered
        data = bytes(answer) if isinstance(answer, RawBody) else json.dumps(answer).encode()
        headers = dict(headers)
        try:
            self.send_response(status)
            self.send_header("Content-Type", headers.pop("Content-Type", "application/json"))
            self.send_header("Content-Length", str(len(data)))
            for name, value in headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True

    def do_GET(self):
        self._handle("GET")

    def do_POST(self):
        self._handle("POST")

"""A local fake of the Telegram Bot API, for the notifier's tests (no real network).

A small threaded HTTP server on 127.0.0.1 that answers what the notifier uses:
``getMe``, ``getUpdates`` (offsets confirm updates; a long poll waits up to its
``timeout``), ``sendMessage`` and ``deleteWebhook``. Requests come as
python-telegram-bot sends them (form fields, JSON-encoded values) or as a JSON body.

What a test can do::

    tg = FakeTelegram(token="123:abc").start()
    Bot("123:abc", base_url=tg.base_url)          # python-telegram-bot talks to it
    tg.user_sends(chat_id=42, text="/start TOKEN") # a visitor writes to the bot
    tg.fail(3)                                    # the next 3 requests get a 502
    tg.fail(1, 403, "Forbidden: bot was blocked by the user", method="sendMessage")
    tg.rate_limit(2, retry_after=1)               # the next 2 get a 429 with retry_after
    tg.down() / tg.up()                           # connections dropped without an answer
    tg.wait_sent(lambda m: m.chat_id == 42)       # a message the bot sent (bounded wait)
    tg.sent                                       # every message accepted, in order
"""
from __future__ import annotations

import itertools
import json
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs

WAIT_S = 15.0


@dataclass(frozen=True)
class Sent:
    chat_id: int
    text: str
    message_id: int


class FakeTelegram:
    def __init__(self, token: str = "123456:TEST-token", username: str = "talon_test_bot"):
        self.token = token
        self.username = username
        self.sent: list[Sent] = []
        self.requests: list[str] = []            # method names, in arrival order (answered or not)
        self._updates: list[dict] = []           # not yet confirmed by an offset
        self._update_ids = itertools.count(1)
        self._message_ids = itertools.count(1)
        self._failures: list[tuple[str | None, int, dict]] = []   # (method or any, HTTP status, body)
        self._down = False
        # False: an offset confirms nothing, as when the hub stops before its next poll
        # reaches Telegram (the updates come again to whoever polls without that offset)
        self.confirming = True
        self._cond = threading.Condition()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, name="fake-telegram", daemon=True)

    # ------------------------------------------------------------------ lifecycle
    def start(self) -> FakeTelegram:
        self._thread.start()
        return self

    def stop(self) -> None:
        with self._cond:
            self._down = True
            self._cond.notify_all()
        self._server.shutdown()
        self._server.server_close()

    @property
    def base_url(self) -> str:
        """What ``Bot(token, base_url=...)`` takes (the token is appended to it)."""
        return f"http://127.0.0.1:{self._server.server_address[1]}/bot"

    # ------------------------------------------------------------------ what a test does
    def user_sends(self, chat_id: int, text: str, chat_type: str = "private") -> None:
        """A user writes ``text`` to the bot (in a private chat, or a ``"group"``)."""
        with self._cond:
            self._updates.append({"update_id": next(self._update_ids), "message": {
                "message_id": next(self._message_ids), "date": int(time.time()), "text": text,
                "chat": {"id": chat_id, "type": chat_type, "first_name": "Visitor"},
                "from": {"id": chat_id, "is_bot": False, "first_name": "Visitor"},
                **({"entities": [{"type": "bot_command", "offset": 0, "length": len(text.split()[0])}]}
                   if text.startswith("/") else {})}})
            self._cond.notify_all()

    def fail(self, n: int, status: int = 502, description: str = "Bad Gateway", method: str | None = None) -> None:
        """The next ``n`` requests (of ``method``, or any) get an HTTP error: 502 a gateway
        down, 403 a visitor who blocked the bot, 400 a chat that is gone."""
        with self._cond:
            self._failures += [(method, status, {"ok": False, "error_code": status, "description": description})] * n

    def rate_limit(self, n: int, retry_after: int = 1, method: str | None = None) -> None:
        """The next ``n`` requests (of ``method``, or any) get 429 Too Many Requests with ``retry_after``."""
        with self._cond:
            self._failures += [(method, 429, {"ok": False, "error_code": 429,
                                              "description": f"Too Many Requests: retry after {retry_after}",
                                              "parameters": {"retry_after": retry_after}})] * n

    def down(self) -> None:
        """No internet: every connection is closed without an answer until :meth:`up`."""
        with self._cond:
            self._down = True
            self._cond.notify_all()       # long polls in progress end (dropped) too

    def up(self) -> None:
        with self._cond:
            self._down = False

    def wait_sent(self, pred=lambda m: True, count: int = 1, timeout: float = WAIT_S) -> list[Sent]:
        """The first ``count`` sent messages matching ``pred`` (waits for them, bounded)."""
        with self._cond:
            ok = self._cond.wait_for(lambda: len([m for m in self.sent if pred(m)]) >= count, timeout)
            found = [m for m in self.sent if pred(m)]
        if not ok:
            raise AssertionError(f"{count} matching message(s) not sent within {timeout} s; sent: {self.sent!r}")
        return found[:count]

    def wait_requests(self, method: str, count: int, timeout: float = WAIT_S) -> None:
        """Until ``count`` requests of ``method`` have arrived (answered or not)."""
        with self._cond:
            if not self._cond.wait_for(lambda: self.requests.count(method) >= count, timeout):
                raise AssertionError(f"{count} {method} requests not seen within {timeout} s: {self.requests}")

    def texts(self, chat_id: int) -> list[str]:
        with self._cond:
            return [m.text for m in self.sent if m.chat_id == chat_id]

    # ------------------------------------------------------------------ the API
    def _answer(self, method: str, params: dict) -> tuple[int, dict] | None:
        """(HTTP status, body), or None to drop the connection."""
        with self._cond:
            self.requests.append(method)
            self._cond.notify_all()
            if self._down:
                return None
            for i, (only, status, body) in enumerate(self._failures):
                if only in (None, method):
                    del self._failures[i]
                    return status, body
        if method == "getMe":
            return 200, _ok({"id": int(self.token.split(":")[0]), "is_bot": True, "first_name": "Talon",
                             "username": self.username})
        if method == "deleteWebhook":
            return 200, _ok(True)
        if method == "getUpdates":
            return self._get_updates(params)
        if method == "sendMessage":
            return self._send_message(params)
        return 404, {"ok": False, "error_code": 404, "description": "Not Found: method not found"}

    def _get_updates(self, params: dict) -> tuple[int, dict] | None:
        offset = int(params.get("offset") or 0)
        timeout = float(params.get("timeout") or 0)
        deadline = time.monotonic() + timeout
        with self._cond:
            if offset and self.confirming:
                self._updates = self._pending(offset)          # the ones before it are confirmed
            while not self._pending(offset) and not self._down and time.monotonic() < deadline:
                self._cond.wait(max(0.0, deadline - time.monotonic()))
            if self._down:
                return None
            limit = int(params.get("limit") or 100)
            return 200, _ok(self._pending(offset)[:limit])

    def _pending(self, offset: int) -> list[dict]:
        return [u for u in self._updates if u["update_id"] >= offset]

    def _send_message(self, params: dict) -> tuple[int, dict]:
        chat_id, text = params.get("chat_id"), params.get("text")
        if chat_id is None or not text:
            return 400, {"ok": False, "error_code": 400, "description": "Bad Request: message text is empty"}
        with self._cond:
            message = Sent(int(chat_id), str(text), next(self._message_ids))
            self.sent.append(message)
            self._cond.notify_all()
        return 200, _ok({"message_id": message.message_id, "date": int(time.time()), "text": message.text,
                         "chat": {"id": message.chat_id, "type": "private"},
                         "from": {"id": int(self.token.split(":")[0]), "is_bot": True, "first_name": "Talon"}})


def _ok(result) -> dict:
    return {"ok": True, "result": result}


def _params(content_type: str, body: bytes) -> dict:
    """The request's parameters: a JSON body, or form fields whose values are JSON when not plain strings."""
    if not body:
        return {}
    if content_type.startswith("application/json"):
        return json.loads(body)
    params = {}
    for key, values in parse_qs(body.decode(), keep_blank_values=True).items():
        try:
            params[key] = json.loads(values[0])
        except ValueError:
            params[key] = values[0]
    return params


def _handler(fake: FakeTelegram) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:    # noqa: N802 (http.server's naming)
            self._serve()

        def do_GET(self) -> None:     # noqa: N802
            self._serve()

        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            token, _, method = self.path.split("?")[0].removeprefix("/bot").partition("/")
            if token != fake.token:
                with fake._cond:
                    fake.requests.append(method)
                    fake._cond.notify_all()
                self._reply(401, {"ok": False, "error_code": 401, "description": "Unauthorized"})
                return
            answer = fake._answer(method, _params(self.headers.get("Content-Type", ""), body))
            if answer is None:
                self.close_connection = True          # dropped: the client sees no answer
                return
            self._reply(*answer)

        def _reply(self, status: int, body: dict) -> None:
            data = json.dumps(body).encode()
            try:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
            except (BrokenPipeError, ConnectionResetError):
                pass          # the client gave up (a long poll cancelled at its stop)

        def log_message(self, *args) -> None:
            pass

    return Handler

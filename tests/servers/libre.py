"""A LibreTranslate-compatible server on 127.0.0.1 for tests (real HTTP, real client).

It speaks the part of the API deep-translator uses: ``POST /translate`` with
``q``, ``source``, ``target``, ``format`` and ``api_key`` (deep-translator
sends them in the query string) and answers ``{"translatedText": ...}``.
The "translation" is deterministic: ``"[en] "`` + the text, so tests can
check what was sent and in what order.

``mode`` selects a failure: ok, hang, 429 (with Retry-After), 500, 503,
burst (500 then 503 alternately, then ok), quota (403 with a quota message),
garbage (200 with a non-JSON body), badkey (403 "Invalid API key").

``failures`` limits a failing mode to the first N requests, after which the
server answers normally (``burst`` defaults to 2; the others fail for ever
when it is None). ``retry_after`` is the ``Retry-After`` sent with 429 and
503: a number of seconds (``"2"``), ``"date:N"`` for an HTTP-date N seconds
ahead (rounded up to the whole second the format can say), or None for no
header.

Every request is recorded in ``requests`` (its parameters), ``chars`` (the
length of every ``q`` received, answered or not) and ``log``
(``time.monotonic()`` of arrival, and the status answered); ``promised``
holds the wait each ``Retry-After`` sent stood for, in seconds.
"""

from __future__ import annotations

import json
import math
import threading
import time
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qs, urlsplit

from reaim.loopback import LoopbackServer


class LibreServer:
    def __init__(
        self,
        mode: str = "ok",
        api_key: str | None = None,
        *,
        failures: int | None = None,
        retry_after: str | int | None = "2",
        glossary: dict[str, str] | None = None,
    ) -> None:
        self.mode = mode
        # Texts with a known translation (a real one, for cross-language tests); others get "[en] text".
        self.glossary = glossary or {}
        self.api_key = api_key
        self.failures = 2 if failures is None and mode == "burst" else failures
        self.retry_after = retry_after
        self.requests: list[dict[str, Any]] = []
        self.log: list[tuple[float, int]] = []
        self.promised: list[float] = []  # seconds each Retry-After sent stood for, when it was sent
        self.chars = 0
        self._lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            # Headers and body go out as two writes; with Nagle on, the body waits for the
            # client's delayed ACK (40 ms on Linux) and every request looks slow.
            disable_nagle_algorithm = True

            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                arrived = time.monotonic()
                parts = urlsplit(self.path)
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length).decode("utf-8") if length else ""
                params = {k: v[0] for k, v in parse_qs(parts.query).items()}
                params.update({k: v[0] for k, v in parse_qs(body).items()})
                with server._lock:
                    n = len(server.requests)
                    server.requests.append(params)
                    server.chars += len(params.get("q", ""))
                status = server.respond(self, parts.path, params, n)
                with server._lock:
                    server.log.append((arrived, status))

        self._loop = LoopbackServer(Handler, poll_interval=0.05, name="libre")
        self.url = self._loop.base_url + "/"

    def _retry_after(self) -> dict[str, str]:
        value = self.retry_after
        if value is None:
            return {}
        if isinstance(value, str) and value.startswith("date:"):
            now = time.time()
            when = math.ceil(now + float(value[5:]))
            self.promised.append(when - now)
            return {"Retry-After": formatdate(when, usegmt=True)}
        self.promised.append(float(value))
        return {"Retry-After": str(value)}

    def respond(self, h: BaseHTTPRequestHandler, path: str, params: dict[str, str], n: int) -> int:
        def send(status: int, body: bytes, ctype: str = "application/json", headers: dict[str, str] | None = None) -> int:
            h.send_response(status)
            h.send_header("Content-Type", ctype)
            h.send_header("Content-Length", str(len(body)))
            for k, v in (headers or {}).items():
                h.send_header(k, v)
            h.end_headers()
            h.wfile.write(body)
            return status

        if path.rstrip("/") != "/translate":
            return send(404, b'{"error": "Not Found"}')
        mode = self.mode if self.failures is None or n < self.failures else "ok"
        if mode == "hang":
            time.sleep(30)
            return send(200, b'{"translatedText": "late"}')
        if mode == "429":
            return send(429, b'{"error": "Slowdown"}', headers=self._retry_after())
        if mode == "500" or (mode == "burst" and n % 2 == 0):
            return send(500, b'{"error": "internal"}')
        if mode in ("503", "burst"):
            return send(503, b'{"error": "unavailable"}', headers=self._retry_after())
        if mode == "quota":
            return send(403, b'{"error": "Quota exceeded"}')
        if mode == "garbage":
            return send(200, b"<html>Service temporarily unavailable</html>", "text/html")
        if mode == "badkey" or (self.api_key is not None and params.get("api_key") != self.api_key):
            return send(403, b'{"error": "Invalid API key"}')
        text = params.get("q", "")
        translated = f"[{params.get('target')}] {text}"
        for source, target in self.glossary.items():  # a known passage inside the text: its real translation
            if source in text:
                translated = text.replace(source, target)
        return send(200, json.dumps({"translatedText": translated}).encode())

    def __enter__(self) -> LibreServer:
        self._loop.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._loop.stop()

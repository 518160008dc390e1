"""A LibreTranslate-compatible server on 127.0.0.1 for tests (real HTTP, real client).

It speaks the part of the API deep-translator uses: ``POST /translate`` with
``q``, ``source``, ``target``, ``format`` and ``api_key`` (deep-translator
sends them in the query string) and answers ``{"translatedText": ...}``.
The "translation" is deterministic: ``"[en] "`` + the text, so tests can
check what was sent and in what order.

``mode`` selects a failure: ok, hang, 429 (with Retry-After), 500, quota
(403 with a quota message), garbage (200 with a non-JSON body), badkey (403).
"""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit


class LibreServer:
    def __init__(self, mode: str = "ok", api_key: str | None = None) -> None:
        self.mode = mode
        self.api_key = api_key
        self.requests: list[dict[str, Any]] = []
        self.chars = 0
        self._lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                parts = urlsplit(self.path)
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length).decode("utf-8") if length else ""
                params = {k: v[0] for k, v in parse_qs(parts.query).items()}
                params.update({k: v[0] for k, v in parse_qs(body).items()})
                with server._lock:
                    server.requests.append(params)
                    server.chars += len(params.get("q", ""))
                server.respond(self, parts.path, params)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/"
        self._thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def respond(self, h: BaseHTTPRequestHandler, path: str, params: dict[str, str]) -> None:
        def send(status: int, body: bytes, ctype: str = "application/json", headers: dict[str, str] | None = None) -> None:
            h.send_response(status)
            h.send_header("Content-Type", ctype)
            h.send_header("Content-Length", str(len(body)))
            for k, v in (headers or {}).items():
                h.send_header(k, v)
            h.end_headers()
            h.wfile.write(body)

        if path.rstrip("/") != "/translate":
            return send(404, b'{"error": "Not Found"}')
        mode = self.mode
        if mode == "hang":
            time.sleep(30)
            return send(200, b'{"translatedText": "late"}')
        if mode == "429":
            return send(429, b'{"error": "Slowdown"}', headers={"Retry-After": "2"})
        if mode == "500":
            return send(500, b'{"error": "internal"}')
        if mode == "quota":
            return send(403, b'{"error": "Quota exceeded"}')
        if mode == "garbage":
            return send(200, b"<html>Service temporarily unavailable</html>", "text/html")
        if self.api_key is not None and params.get("api_key") != self.api_key:
            return send(403, b'{"error": "Invalid API key"}')
        text = params.get("q", "")
        return send(200, json.dumps({"translatedText": f"[{params.get('target')}] {text}"}).encode())

    def __enter__(self) -> LibreServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

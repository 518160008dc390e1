"""A scriptable news site on 127.0.0.1 for crawler tests: each path answers
what the test says (status, headers, body), can change between crawls, and
every hit is logged with its time and request headers."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any

from reaim.loopback import LoopbackServer


@dataclass
class Route:
    body: bytes = b""
    status: int = 200
    headers: dict[str, str] = field(default_factory=lambda: {"Content-Type": "text/html; charset=utf-8"})
    # Answers for the first hits, then ``status``/``body``: e.g. [(429, {"Retry-After": "2"})]
    first: list[tuple[int, dict[str, str]]] = field(default_factory=list)
    etag: str | None = None  # answer 304 to a matching If-None-Match
    delay: float = 0.0  # seconds before answering (a slow site)


@dataclass
class Hit:
    path: str
    at: float
    status: int
    headers: dict[str, str]


class NewsSite:
    def __init__(self) -> None:
        self.routes: dict[str, Route] = {}
        self.hits: list[Hit] = []
        self._lock = threading.Lock()
        site = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_GET(self) -> None:  # noqa: N802
                path = self.path.split("?", 1)[0]
                if "://" in path:  # absolute form: the site is being used as a forward proxy
                    path = "/" + path.split("://", 1)[1].split("/", 1)[-1] if "/" in path.split("://", 1)[1] else "/"
                route = site.routes.get(path)
                headers = {k: v for k, v in self.headers.items()}
                with site._lock:
                    if route is None:
                        status, extra, body = 404, {"Content-Type": "text/plain"}, b"not found"
                    elif route.first:
                        status, extra = route.first.pop(0)
                        body = b"busy"
                    elif route.etag and self.headers.get("If-None-Match") == route.etag:
                        status, extra, body = 304, {"ETag": route.etag}, b""
                    else:
                        status, extra, body = route.status, dict(route.headers), route.body
                        if route.etag:
                            extra["ETag"] = route.etag
                    site.hits.append(Hit(path, time.monotonic(), status, headers))
                if route is not None and route.delay:
                    time.sleep(route.delay)
                self.send_response(status)
                for k, v in extra.items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self._loop = LoopbackServer(Handler, name="news-site")
        self.url = self._loop.base_url

    def __enter__(self) -> NewsSite:
        self._loop.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._loop.stop()

    def add(self, path: str, body: str | bytes = b"", **kwargs: Any) -> Route:
        route = Route(body=body.encode("utf-8") if isinstance(body, str) else body, **kwargs)
        self.routes[path] = route
        return route

    def paths_hit(self) -> list[str]:
        return [h.path for h in self.hits]

"""A loopback HTTP server for the bundled sample news site.

Every servable path is listed in ``site.yaml`` (the manifest) with the file
that holds its template, the exact Content-Type header to send, and the codec
the page is encoded into before sending. Templates are stored as UTF-8 and
contain ``{{BASE}}`` wherever a real site would print its own origin
(absolute links, canonical URLs, og:url, feed links); the server replaces it
with the base URL it is answering for.

Only the standard library: ``http.server.ThreadingHTTPServer`` in a daemon
thread. GET and HEAD; the query string is ignored for routing (so
``/x.html?utm_source=rss`` serves ``/x.html``); unknown paths are a 404.

A request in absolute form (``GET http://reaim-sample.test/x.html``, as an
HTTP client sends it to a forward proxy) is served too, and ``{{BASE}}`` then
becomes that URL's origin, so the site can answer under a stable host name
while listening on a free loopback port (see ``crawler/middlewares.py``).
"""

from __future__ import annotations

import codecs
import collections
import threading
from dataclasses import dataclass
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from types import TracebackType
from typing import Any
from urllib.parse import unquote, urlsplit

import yaml

from reaim.loopback import LoopbackServer

SITE_DIR = Path(__file__).resolve().parent
MANIFEST = "site.yaml"
PLACEHOLDER = "{{BASE}}"

NOT_FOUND_BODY = (
    b'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>404 Not Found</title></head>\n'
    b"<body><h1>404 Not Found</h1><p>No page at this address.</p></body></html>\n"
)


class ManifestError(ValueError):
    """The manifest cannot be used; the message names the file and the bad entry."""


@dataclass(frozen=True)
class Route:
    path: str
    file: Path
    content_type: str
    encoding: str = "utf-8"
    status: int = 200


def load_manifest(root: Path | None = None) -> dict[str, Route]:
    """Read and check ``site.yaml``: path -> Route. Raises ManifestError naming the bad entry."""
    root = Path(root) if root is not None else SITE_DIR
    manifest = root / MANIFEST
    try:
        data = yaml.safe_load(manifest.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ManifestError(f"no manifest at {manifest}") from None
    except yaml.YAMLError as exc:
        raise ManifestError(f"{manifest}: not valid YAML: {exc}") from None
    entries = data.get("pages") if isinstance(data, dict) else data
    if not isinstance(entries, list):
        raise ManifestError(f"{manifest}: expected a list of pages (or a mapping with a 'pages' list)")
    routes: dict[str, Route] = {}
    for n, entry in enumerate(entries, 1):
        where = f"{manifest}: entry #{n}"
        if not isinstance(entry, dict):
            raise ManifestError(f"{where}: expected a mapping with path, file and content_type")
        path = entry.get("path")
        if isinstance(path, str):
            where = f"{manifest}: entry #{n} ({path})"
        if not isinstance(path, str) or not path.startswith("/") or "?" in path or "#" in path:
            raise ManifestError(f"{where}: 'path' must be a URL path starting with '/', without query or fragment")
        if path in routes:
            raise ManifestError(f"{where}: duplicate path")
        unknown = set(entry) - {"path", "file", "content_type", "encoding", "status"}
        if unknown:
            raise ManifestError(f"{where}: unknown key(s) {', '.join(sorted(unknown))}")
        file = entry.get("file")
        if not isinstance(file, str) or not file:
            raise ManifestError(f"{where}: 'file' is required")
        file_path = (root / file).resolve()
        if not file_path.is_relative_to(root.resolve()):
            raise ManifestError(f"{where}: file {file!r} is outside {root}")
        if not file_path.is_file():
            raise ManifestError(f"{where}: file {file!r} does not exist")
        content_type = entry.get("content_type")
        if not isinstance(content_type, str) or not content_type.strip() or "\n" in content_type:
            raise ManifestError(f"{where}: 'content_type' is required (the exact Content-Type header)")
        encoding = entry.get("encoding", "utf-8")
        try:
            codecs.lookup(encoding)
        except (LookupError, TypeError):
            raise ManifestError(f"{where}: unknown encoding {encoding!r}") from None
        status = entry.get("status", 200)
        if not isinstance(status, int) or isinstance(status, bool) or not 100 <= status <= 599:
            raise ManifestError(f"{where}: 'status' must be an HTTP status code")
        routes[path] = Route(path=path, file=file_path, content_type=content_type, encoding=encoding, status=status)
    return routes


def render(route: Route, base_url: str) -> bytes:
    """The bytes the server sends for ``route`` when its base URL is ``base_url``."""
    text = route.file.read_text(encoding="utf-8").replace(PLACEHOLDER, base_url.rstrip("/"))
    try:
        return text.encode(route.encoding)
    except UnicodeEncodeError as exc:
        bad = text[exc.start : exc.end]
        raise ManifestError(
            f"{route.file}: {bad!r} cannot be encoded as {route.encoding} (path {route.path})"
        ) from None


class _Handler(BaseHTTPRequestHandler):
    server_version = "ReaimSampleSite/1.0"
    sys_version = ""
    protocol_version = "HTTP/1.1"
    timeout = 30  # seconds an idle keep-alive connection may hold its thread
    site: SampleSite  # set on the subclass made per server

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - signature from the base class
        pass  # no per-request lines on stderr

    def do_GET(self) -> None:  # noqa: N802 - http.server naming
        self._respond(send_body=True)

    def do_HEAD(self) -> None:  # noqa: N802
        self._respond(send_body=False)

    def _respond(self, *, send_body: bool) -> None:
        target = self.path
        base = self.site.base_url
        if "://" in target.split("?", 1)[0]:  # absolute form: we are being used as a forward proxy
            parts = urlsplit(target)
            base = f"{parts.scheme}://{parts.netloc}"
            path = parts.path or "/"
        else:
            path = urlsplit(target).path or "/"
        path = unquote(path)
        self.site._count(path)
        route = self.site.routes.get(path)
        if route is None:
            self._send(HTTPStatus.NOT_FOUND, "text/html; charset=utf-8", NOT_FOUND_BODY, send_body)
            return
        try:
            body = self.site._body(route, base)
        except (OSError, ManifestError) as exc:
            msg = f"<!DOCTYPE html><title>500</title><p>{type(exc).__name__}</p>\n".encode()
            self._send(HTTPStatus.INTERNAL_SERVER_ERROR, "text/html; charset=utf-8", msg, send_body)
            return
        self._send(route.status, route.content_type, body, send_body)

    def _send(self, status: int, content_type: str, body: bytes, send_body: bool) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-cache")
        self.end_headers()
        if send_body:
            self.wfile.write(body)


class SampleSite:
    """Serves the sample site on a loopback port in a daemon thread.

    >>> with SampleSite() as site:          # doctest: +SKIP
    ...     print(site.base_url)            # http://127.0.0.1:54321
    """

    def __init__(self, host: str = "127.0.0.1", port: int = 0, root: Path | None = None) -> None:
        self.host = host
        self.port = port
        self.root = Path(root) if root is not None else SITE_DIR
        self.routes = load_manifest(self.root)  # fail early, with the bad entry named
        self.base_url = ""
        self.hits: collections.Counter[str] = collections.Counter()
        self._lock = threading.Lock()
        self._cache: dict[tuple[str, str], bytes] = {}
        self._loop: LoopbackServer | None = None

    def start(self) -> str:
        """Start serving; return the base URL (``http://127.0.0.1:PORT``, no trailing slash)."""
        if self._loop is None:
            handler = type("SampleSiteHandler", (_Handler,), {"site": self})
            self._loop = LoopbackServer(handler, self.host, self.port, name="sample-site")
            self.base_url, self.port = self._loop.base_url, int(self._loop.port)
            self._loop.start()
        return self.base_url

    def stop(self) -> None:
        loop, self._loop = self._loop, None
        if loop is not None:
            loop.stop()

    def __enter__(self) -> SampleSite:
        self.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def url(self, path: str) -> str:
        """Absolute URL of ``path`` on the running site."""
        return self.base_url + (path if path.startswith("/") else "/" + path)

    def render(self, path: str, base_url: str | None = None) -> bytes:
        """The bytes served for ``path`` (without a request); KeyError if it is not in the manifest."""
        return self._body(self.routes[path], base_url or self.base_url)

    # --- used by the handler threads ----------------------------------------
    def _count(self, path: str) -> None:
        with self._lock:
            self.hits[path] += 1

    def _body(self, route: Route, base: str) -> bytes:
        key = (route.path, base)
        with self._lock:
            cached = self._cache.get(key)
        if cached is None:
            cached = render(route, base)
            with self._lock:
                self._cache[key] = cached
        return cached

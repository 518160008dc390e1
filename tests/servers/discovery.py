"""Stand-ins for the GDELT DOC 2.0 API and Google News RSS search on 127.0.0.1, for tests.

Real HTTP with the services' own formats, answered from
``tests/fixtures/discovery`` so that the discovery helpers and the spider are
tested without the network:

* ``/api/v2/doc/doc`` (GDELT ArtList JSON): the records for the
  ``sourcelang:`` in ``query`` (korean, english; any other: ``{}``) whose
  seendate lies in [startdatetime, enddatetime], newest first, cut at
  ``maxrecords`` (default 75, at most 250) as GDELT does. The English pool is
  the 250 records of ``gdelt_artlist_cap.json`` plus 60 older ones made here,
  so a window over both returns exactly the cap fixture and only splitting it
  finds the rest. A request less than ``min_interval`` seconds after the
  previous one gets GDELT's plain-text rate-limit message (status
  ``rate_limit_status``, 200 by default as GDELT long did) unless
  ``rate_limit=False``.
* ``/rss/search`` (Google News RSS): the fixture for ``hl`` (es, ko; any
  other: a feed with no items).
* ``/rss/articles/<id>``: a 302 to the publisher page (``google_links=
  "redirect"``, how Google answered until 2024) or a 200 page that only
  redirects by script (``"interstitial"``, how it answers now).
* ``/pub/...``: a publisher article page for every URL the fixtures list.

Fixtures say ``{BASE}`` where the server puts its own origin. A request in
absolute form (the server used as a forward proxy) gets that URL's origin
instead, as ``reaim/sample_site`` does.
"""

from __future__ import annotations

import html
import json
import re
import threading
import time
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from types import TracebackType
from typing import Any
from urllib.parse import parse_qsl, urlsplit
from xml.etree import ElementTree

from reaim.loopback import LoopbackServer

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "discovery"
PLACEHOLDER = "{BASE}"

GDELT_PATH = "/api/v2/doc/doc"
GOOGLE_NEWS_PATH = "/rss/search"
GDELT_POOLS = {"korean": ("gdelt_artlist_ko.json",), "english": ("gdelt_artlist_cap.json",)}
GOOGLE_NEWS_FIXTURES = {"es": "google_news_es.xml", "ko": "google_news_ko.xml"}
EXTRA_ENGLISH = 60  # older English records beyond the cap fixture

# Google News article id -> publisher path. Ids in the post-2024 form (an
# opaque AU_yqL… token), so only the redirect tells where they lead.
GOOGLE_NEWS_TARGETS: dict[str, str] = {
    "CBMiZ0FVX3lxTG9OYzEtNGVBS09rTTVCLW9heWdzdHdKckxsazZTbkR2dTcyTHpfTzIteWgxOURjUUdOMjhTOWRQNjhnem45ejNabGlCRVQ2LXVaaC03XzNFbG82TTRoNVgyOUlpX3ZNWTA":
        "/pub/diariodelorzan.example/coruna/2026/02/04/cumbre-reaim-palexco.html",
    "CBMiaUFVX3lxTDVCTEE1S1pmUEZpdFRBby1SYzhRbEsxVVJuMHhUWndCTnhKR3N0REQ4cG01cFBfN1ZUYTNyNmRJekVaV0ZHNVk5Q1FiUlVYeGkyMUt4blhzV2g3XzFrN1dwOTRQak1iZEFMNg":
        "/pub/cronicapeninsular.example/internacional/2026/02/04/palexco-delegaciones-reaim.html",
    "CBMidUFVX3lxTDBYRHRVdGJPamJsaVFNaE0zVk5IdFhOb2pJbG9VaGdJQjBnMUJITWVDblBNc282RXpvYjcyUHZneGx0SDNEa3FsUG0xb0NyWkhPVVBQRVF0bUQyUXQxeHdlMWNRWER5Z1NkQ0NqOTFob1JMV0Vocg":
        "/pub/gacetaatlantica.example/politica/2026-02-05/35-paises-firman-vias-para-la-accion.html",
    "CBMiiAFBVV95cUxvSEJmOEhjVHp1ZGpyWnZ0NjY4bllVMFQtQXQwRVdLbXZoUk1DYm5GeXdVTktTeHFobkZZVWxsa3RSeFlCOTJ0VkRXb1NVRE9Bdkl2bWJUZlFOcC1OSndobVBzOF9QZnQ2c0tJTF9uaGNWcDNxcF96b1daN2NzczB3YlQ0UTNpcVBv":
        "/pub/agenciaiberica.example/noticia/20260205/eeuu-china-no-respaldan-coruna.html",
    "CBMicUFVX3lxTDRoU2lkcVNQaWw2enpDcTByTV9hMnRxSHpXQmlnUXExODlyQkVjUGlwQ2E2anZLWUJNVHFjN2FWbksxUk5EaTFGWGQ4cnJzbzlnLXBnRS1SQzl1Zzdadmp6bWJHMEltOUxwLW9ydVhKV2d4":
        "/pub/elfaroderiazor.example/2026/02/06/claves-cumbre-reaim-drones-derecho-humanitario/",
    "CBMiiAFBVV95cUxOYkQ3ZWEyUWJpLVJwdXlZVFRTUUhFam1XUml0UTZWWEdYVDAtRG1jdUw3MFRwU0Y4QUhNdGdxRFVZTDIzWlZlY19idlUyMjZ1YW40OUxiWk9LdFVPV2EzWTJEU2lrdXlCOTZpdC1STlNjdDZ3R3BnSzc3c01qbEVLRkk1Tng2OUNU":
        "/pub/gacetaatlantica.example/politica/2026-02-05/camino-para-la-accion-que-compromete.html",
    "CBMidEFVX3lxTFJETnlMVmdDRkpQcVRuOGVwN2Z6ZW8xRi1mWDRZTzh3OUNfYnhFN1JsZW9pM0R0VlB2YkpWNnpPTjF6QWZaR2hWaXZLZ1ZFYk81RXQ3RVk5R2xMVklqYUFrRjhoSlZlX0d0ZHk3TGZFQjB4TDRX":
        "/pub/mirinaeilbo.example/news/2024/09/09/reaim-seoul-opening.html",
    "CBMiakFVX3lxTGVWWnJ6alY3TENzSlFmOFRwV19PUkF3TF8xcnRLQ2dlT3dmbVduQkRyVzZNZjhVOU9JUUFuUzBnQzRsVHdBNFBNZHA0SXhqNDRtZzUwOGxvVk5EYWJsemNwVk1keFFxeWFtd2g":
        "/pub/hanbitnews.example/politics/20240909/reaim-96-countries.html",
    "CBMidkFVX3lxTDVmV21FWm1WM1E0d19IbkVybTBja3NzeGNCMTJ4dWZ3dEROZWJXLXk4VTNZdkRLTU9ieVA2c00xZXBuQU1JclQ2ME1OWS1yWFBMc2VUNDdNMlFMQzcySTRfSDU4c01HMFgySWdmMk5zVkJTbmgzTmM":
        "/pub/hanulilbo.example/2024/09/10/blueprint-for-action-adopted.html",
    "CBMid0FVX3lxTEowS2hvMm5kWDFnRWc2bDBoYTRVdG5obk9mQVpyb1ByejI3d052MzVwd3RCdHhzZzlCdTA3RkNsR09xM2h4bWdBYWJISmRXR3U2TkdsUU4xZE9JTkp4RVI0RGswdjRZRzFuVGlWeUdJNjA5NFNBa01R":
        "/pub/cheongsol.example/news/read_20240910_1130.html",
    "CBMie0FVX3lxTFlpN1RhcFVsRE5ZN3hKdXlKQnVMamNZcmdMbU9KYzdzUlZUWWdQeGc4dVlZV3U4SVJrR3NjajhFblRpNnlOYW5QaDFKOW9rbVFHSWwzTFpaQkRvWkRvTWdfMHFjRnRfLTJIcnVaZ3N6S0MzN0dGOFM4elB0UA":
        "/pub/namsanilbo.example/opinion/2024/09/11/editorial-military-ai-rules.html",
}

BODY_TEXT = {
    "ko": (
        "군사적 영역에서의 책임 있는 인공지능(REAIM) 고위급회의가 서울에서 열렸다. 각국 정부 대표와 국제기구, 학계, "
        "산업계, 시민사회 관계자들이 참석해 인공지능을 군사적으로 이용할 때 인간의 책임과 통제를 어떻게 보장할지 논의했다.",
        "참가국들은 국제인도법 준수, 위험 평가와 시험·검증, 의도하지 않은 확전 방지 등을 주요 의제로 다뤘다. 일부 국가는 "
        "법적 구속력이 있는 규칙이 필요하다고 주장했고, 다른 국가들은 정치적 선언을 먼저 이행하자는 입장을 보였다.",
        "회의 결과 문서는 개발도상국의 역량 강화와 다양한 이해관계자의 참여도 강조했다. 주최 측은 후속 논의를 이어가기 위해 "
        "다음 회의 개최국과 협의하고 있다고 밝혔다.",
    ),
    "es": (
        "La tercera cumbre sobre Inteligencia Artificial Responsable en el Ámbito Militar (REAIM) reúne en el Palexco de "
        "A Coruña a delegaciones gubernamentales, organismos internacionales, expertos académicos, empresas y "
        "organizaciones de la sociedad civil.",
        "Los debates giran en torno a la responsabilidad humana en el uso de sistemas de inteligencia artificial, el "
        "respeto del derecho internacional humanitario, la evaluación de riesgos y la prevención de una escalada no "
        "deseada entre potencias.",
        "El documento final, conocido como «vías para la acción», recoge compromisos voluntarios sobre pruebas, "
        "verificación y formación, y deja abierta la discusión sobre normas jurídicamente vinculantes.",
    ),
    "en": (
        "The third summit on Responsible Artificial Intelligence in the Military Domain (REAIM) brought government "
        "delegations, international organisations, researchers, industry and civil society to the Palexco conference "
        "centre in A Coruña, Spain.",
        "Discussions centred on keeping humans responsible for the use of force, compliance with international "
        "humanitarian law, testing and assurance of AI systems, and the risk of unintended escalation.",
        "The outcome document, Pathways for Action, sets out voluntary commitments; several delegations said binding "
        "rules would still be needed, while others preferred to build on political declarations.",
    ),
}
_GDELT_LANG = {"Korean": "ko", "English": "en", "Spanish": "es"}
_EMPTY_FEED = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?><rss xmlns:media="http://search.yahoo.com/mrss/" '
    'version="2.0"><channel><generator>NFE/5.0</generator><title>Google News</title><language>en</language>'
    "<description>Google News</description></channel></rss>\n"
)


def fixture_text(name: str, base: str = PLACEHOLDER) -> str:
    """A fixture file with ``{BASE}`` replaced by ``base`` (no trailing slash)."""
    return (FIXTURES / name).read_text(encoding="utf-8").replace(PLACEHOLDER, base.rstrip("/"))


def extra_english_records() -> list[dict[str, Any]]:
    """60 English records older than every record of the cap fixture (1-2 Feb 2026, every 30 minutes)."""
    first = datetime(2026, 2, 1, tzinfo=UTC)
    records = []
    for n in range(EXTRA_ENGLISH):
        seen = first + n * timedelta(minutes=30)
        records.append({
            "url": f"{PLACEHOLDER}/pub/previewwire.example/{seen:%Y/%m/%d}/spain-prepares-reaim-summit-{n:03d}.html",
            "url_mobile": "", "title": "Preview: Spain prepares to host the REAIM summit in A Coruña",
            "seendate": f"{seen:%Y%m%dT%H%M%SZ}", "socialimage": "", "domain": "previewwire.example",
            "language": "English", "sourcecountry": "United States",
        })
    return records


def _gdelt_time(raw: str) -> datetime:
    return datetime.strptime(raw, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)


class DiscoveryServer:
    """GDELT and Google News stand-ins plus publisher pages, in a daemon thread on a free loopback port.

    >>> with DiscoveryServer(rate_limit=False) as server:   # doctest: +SKIP
    ...     server.url("/rss/search?q=REAIM&hl=es&gl=ES&ceid=ES:es")
    """

    def __init__(
        self,
        *,
        rate_limit: bool = True,
        min_interval: float = 5.0,
        rate_limit_status: int = 200,
        google_links: str = "redirect",
    ) -> None:
        if google_links not in ("redirect", "interstitial"):
            raise ValueError(f"google_links must be 'redirect' or 'interstitial', not {google_links!r}")
        self.rate_limit = rate_limit
        self.min_interval = min_interval
        self.rate_limit_status = rate_limit_status
        self.google_links = google_links
        self.requests: list[tuple[str, dict[str, str]]] = []  # (path, query parameters), in arrival order
        self.base_url = ""
        self._lock = threading.Lock()
        self._last_gdelt: float | None = None
        self.pools: dict[str, list[dict[str, Any]]] = {
            lang: [r for name in names for r in json.loads(fixture_text(name))["articles"]]
            for lang, names in GDELT_POOLS.items()
        }
        self.pools["english"].extend(extra_english_records())
        self.pages = self._page_index()
        self._loop: LoopbackServer | None = None

    # --- lifecycle --------------------------------------------------------
    def start(self) -> str:
        handler = type("DiscoveryHandler", (_Handler,), {"app": self})
        self._loop = LoopbackServer(handler, name="discovery")
        self.base_url = self._loop.start()
        return self.base_url

    def stop(self) -> None:
        if self._loop is not None:
            self._loop.stop()
        self._loop = None

    def __enter__(self) -> DiscoveryServer:
        self.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def url(self, path: str) -> str:
        return self.base_url + (path if path.startswith("/") else "/" + path)

    # --- content ----------------------------------------------------------
    def _page_index(self) -> dict[str, tuple[str, str, str]]:
        """Publisher path -> (title, language, ISO date) for every article the fixtures point to."""
        pages: dict[str, tuple[str, str, str]] = {}
        for records in self.pools.values():
            for r in records:
                path = urlsplit(r["url"].replace(PLACEHOLDER, "http://x")).path
                pages[path] = (r["title"], _GDELT_LANG.get(r["language"], "en"), _gdelt_time(r["seendate"]).isoformat())
        for lang, name in GOOGLE_NEWS_FIXTURES.items():
            root = ElementTree.fromstring(fixture_text(name, "http://x").encode())
            for item in root.iterfind("channel/item"):
                gid = urlsplit(item.findtext("link") or "").path.rsplit("/", 1)[-1]
                outlet = item.findtext("source") or ""
                title = (item.findtext("title") or "").removesuffix(f" - {outlet}")
                published = datetime.strptime(item.findtext("pubDate") or "", "%a, %d %b %Y %H:%M:%S GMT")
                if gid in GOOGLE_NEWS_TARGETS:
                    pages.setdefault(GOOGLE_NEWS_TARGETS[gid], (title, lang, published.replace(tzinfo=UTC).isoformat()))
        return pages

    def gdelt(self, params: dict[str, str], base: str) -> tuple[int, str, bytes]:
        now = time.monotonic()
        with self._lock:
            too_soon = self._last_gdelt is not None and now - self._last_gdelt < self.min_interval
            self._last_gdelt = now
        if self.rate_limit and too_soon:
            return self.rate_limit_status, "text/html; charset=utf-8", (FIXTURES / "gdelt_rate_limited.txt").read_bytes()
        query = params.get("query", "")
        lang = re.search(r"sourcelang:(\w+)", query, re.IGNORECASE)
        pool = self.pools.get(lang[1].lower(), []) if lang else [r for p in self.pools.values() for r in p]
        start = datetime.strptime(params.get("startdatetime", "20170101000000"), "%Y%m%d%H%M%S").replace(tzinfo=UTC)
        end = datetime.strptime(params.get("enddatetime", "20991231235959"), "%Y%m%d%H%M%S").replace(tzinfo=UTC)
        limit = min(int(params.get("maxrecords") or 75), 250)
        chosen = sorted((r for r in pool if start <= _gdelt_time(r["seendate"]) <= end),
                        key=lambda r: r["seendate"], reverse=True)[:limit]
        if not chosen:
            return 200, "application/json; charset=utf-8", (FIXTURES / "gdelt_empty.json").read_bytes()
        lines = ",\n".join(" " + json.dumps({**r, "url": r["url"].replace(PLACEHOLDER, base)}, ensure_ascii=False)
                           for r in chosen)
        return 200, "application/json; charset=utf-8", ('{"articles": [\n' + lines + "\n] }\n").encode()

    def google_news(self, params: dict[str, str], base: str) -> tuple[int, str, bytes]:
        hl = params.get("hl", "").split("-")[0].lower()
        name = GOOGLE_NEWS_FIXTURES.get(hl)
        body = fixture_text(name, base) if name else _EMPTY_FEED
        return 200, "application/xml; charset=utf-8", body.encode()

    def google_article(self, gid: str, base: str) -> tuple[int, str, bytes, dict[str, str]]:
        target = GOOGLE_NEWS_TARGETS.get(gid)
        if target is None:
            return 404, "text/html; charset=utf-8", b"<!DOCTYPE html><title>Not Found</title>\n", {}
        if self.google_links == "redirect":
            return 302, "text/html; charset=utf-8", b"", {"Location": base + target}
        page = (
            '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>Google News</title></head><body>'
            f'<c-wiz><div jscontroller="aLI87" data-n-a-id="{html.escape(gid)}" data-n-a-ts="1770192000" '
            'data-n-a-sg="AZ5r3eT0kenSign"></div></c-wiz><noscript>Opening the article…</noscript></body></html>\n'
        )
        return 200, "text/html; charset=utf-8", page.encode(), {}

    def publisher_page(self, path: str, base: str) -> tuple[int, str, bytes]:
        entry = self.pages.get(path)
        if entry is None:
            return 404, "text/html; charset=utf-8", b"<!DOCTYPE html><title>404</title><p>No such article.</p>\n"
        title, lang, published = entry
        paragraphs = "\n".join(f"<p>{html.escape(p)}</p>" for p in BODY_TEXT.get(lang, BODY_TEXT["en"]))
        page = (
            f'<!DOCTYPE html>\n<html lang="{lang}"><head><meta charset="utf-8"><title>{html.escape(title)}</title>\n'
            f'<link rel="canonical" href="{html.escape(base + path)}">\n'
            f'<meta property="article:published_time" content="{published}"></head>\n'
            f"<body><article><h1>{html.escape(title)}</h1>\n<time datetime=\"{published}\">{published[:10]}</time>\n"
            f"{paragraphs}\n</article></body></html>\n"
        )
        return 200, "text/html; charset=utf-8", page.encode()


class _Handler(BaseHTTPRequestHandler):
    app: DiscoveryServer  # set on the subclass made per server

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - signature from the base class
        pass

    def do_GET(self) -> None:  # noqa: N802 - http.server naming
        parts = urlsplit(self.path)
        base = f"{parts.scheme}://{parts.netloc}" if parts.scheme else self.app.base_url
        path = parts.path or "/"
        params = {k.lower(): v for k, v in parse_qsl(parts.query, keep_blank_values=True)}
        with self.app._lock:
            self.app.requests.append((path, params))
        headers: dict[str, str] = {}
        if path == GDELT_PATH:
            status, ctype, body = self.app.gdelt(params, base)
        elif path == GOOGLE_NEWS_PATH:
            status, ctype, body = self.app.google_news(params, base)
        elif path.startswith("/rss/articles/"):
            status, ctype, body, headers = self.app.google_article(path.rsplit("/", 1)[-1], base)
        elif path.startswith("/pub/"):
            status, ctype, body = self.app.publisher_page(path, base)
        else:
            status, ctype, body = 404, "text/html; charset=utf-8", b"<!DOCTYPE html><title>404</title>\n"
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        for key, value in headers.items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(body)

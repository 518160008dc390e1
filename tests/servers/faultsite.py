"""A news site on 127.0.0.1 that misbehaves on purpose, for the fault-injection suite (tests/faults/).

Two parts:

* :class:`FaultSite`: a scriptable HTTP/1.1 server (one port). Each path is a
  :class:`Route` (status, headers, body) that can misbehave on its first hits
  (``first``) or on every hit (``always``) with a :class:`Fault`: an HTTP
  status (5xx bursts, 429/503 with ``Retry-After``), a connection reset
  mid-response, a request answered with nothing (no headers), a body that
  stalls, a body that drips in slowly, a slow answer. Prefix routes answer
  whole URL spaces (a calendar trap). Every hit is logged; ``faults_served``
  counts the injected faults.
* :class:`HeadlineSite`: the issue-7 headline site, several outlets (one
  ``FaultSite`` each, so each is its own origin, 127.0.0.1:port, for
  robots.txt and ``Retry-After``; Scrapy's download slot is per host name,
  so they share one) with 500 distinct, relevant REAIM articles in English,
  Korean (UTF-8, and EUC-KR declared nowhere), Spanish, French and German,
  AMP and utm copies, and the faults mixed in at known rates from a seed.

Helpers: :func:`gzip_bomb` / :func:`deflate_bomb` (a few KB that inflate to
many MB), :func:`refused_port` (a port where nothing listens), :func:`article_page`,
:func:`rss` and :func:`sitemap`.

Run the headline site on its own: ``python tests/servers/faultsite.py --sources-out /tmp/s.yaml``.
"""

from __future__ import annotations

import contextlib
import functools
import gzip
import random
import re
import socket
import struct
import threading
import time
import zlib
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from html import escape
from http.server import BaseHTTPRequestHandler
from importlib import resources
from typing import Any

from reaim.loopback import LoopbackServer

HTML = "text/html; charset=utf-8"

# --- faults -------------------------------------------------------------------

FAULT_KINDS = {
    "status": "answer `status` (with `headers`) and a short body",
    "reset": "headers with the full Content-Length, half the body, then a TCP reset (RST)",
    "reset_nolength": "headers without Content-Length (Connection: close), half the body, then a TCP reset",
    "drop": "read the request, then close the connection without sending a byte",
    "stall_headers": "read the request, then send nothing for `seconds`",
    "stall_body": "headers and half the body, then nothing for `seconds`",
    "drip": "the whole answer, `chunk` bytes every `seconds`",
    "slow": "wait `seconds`, then answer normally",
}


@dataclass(frozen=True)
class Fault:
    kind: str
    status: int = 503
    headers: dict[str, str] = field(default_factory=dict)
    seconds: float = 0.0
    chunk: int = 64

    def __post_init__(self) -> None:
        if self.kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault {self.kind!r}; one of {', '.join(FAULT_KINDS)}")

    @property
    def label(self) -> str:
        return f"{self.status}" if self.kind == "status" else self.kind


@dataclass
class Route:
    body: bytes = b""
    status: int = 200
    headers: dict[str, str] = field(default_factory=lambda: {"Content-Type": HTML})
    first: list[Fault] = field(default_factory=list)  # faults for the first hits, in order
    always: Fault | None = None  # a fault on every hit (after ``first``)
    length: bool = True  # send Content-Length; False: close-delimited body (Connection: close)
    etag: str | None = None  # answer 304 to a matching If-None-Match


@dataclass
class Hit:
    path: str
    at: float
    outcome: str  # the status answered, or the fault's kind
    headers: dict[str, str]


class FaultSite:
    """A scriptable, misbehaving HTTP/1.1 site on 127.0.0.1 (one port).

    ``add(path, body, ...)`` adds a :class:`Route`; ``add_prefix(prefix, fn)``
    answers every path under ``prefix`` with ``fn(path)`` (a Route, or None for
    a 404). Stalls end early when the site stops, so a test never waits for
    them at shutdown.
    """

    def __init__(self, name: str = "site") -> None:
        self.name = name
        self.routes: dict[str, Route] = {}
        self.prefixes: list[tuple[str, Callable[[str], Route | None]]] = []
        self.hits: list[Hit] = []
        self.faults_served: Counter[str] = Counter()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        site = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True

            def log_message(self, *args: Any) -> None:
                pass

            def do_GET(self) -> None:  # noqa: N802
                site._serve(self)

            def finish(self) -> None:
                with contextlib.suppress(OSError):
                    super().finish()

            def handle(self) -> None:
                with contextlib.suppress(OSError):
                    super().handle()

        self._loop = LoopbackServer(Handler, poll_interval=0.05, name="fault-site")
        self.port = self._loop.port
        self.url = self._loop.base_url

    # --- set-up -------------------------------------------------------------
    def __enter__(self) -> FaultSite:
        self._loop.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._stop.set()
        self._loop.stop()

    def add(self, path: str, body: str | bytes = b"", **kwargs: Any) -> Route:
        route = Route(body=body.encode("utf-8") if isinstance(body, str) else body, **kwargs)
        self.routes[path] = route
        return route

    def add_prefix(self, prefix: str, fn: Callable[[str], Route | None]) -> None:
        self.prefixes.append((prefix, fn))

    def allow_all(self) -> None:
        self.add("/robots.txt", "User-agent: *\nAllow: /\n", headers={"Content-Type": "text/plain"})

    # --- reading the log ----------------------------------------------------
    def paths_hit(self) -> list[str]:
        with self._lock:
            return [h.path for h in self.hits]

    def hits_for(self, path: str) -> list[Hit]:
        with self._lock:
            return [h for h in self.hits if h.path == path]

    @property
    def injected(self) -> int:
        with self._lock:
            return sum(self.faults_served.values())

    # --- serving ------------------------------------------------------------
    def _route(self, path: str) -> Route | None:
        route = self.routes.get(path)
        if route is None:
            for prefix, fn in self.prefixes:
                if path.startswith(prefix):
                    route = fn(path)
                    break
        return route

    def _serve(self, h: BaseHTTPRequestHandler) -> None:
        path = h.path.split("?", 1)[0]
        route = self._route(path)
        headers = dict(h.headers.items())
        fault: Fault | None = None
        with self._lock:
            if route is not None and route.first:
                fault = route.first.pop(0)
            elif route is not None:
                fault = route.always
            if fault is not None:
                self.faults_served[fault.label] += 1
        if route is None:
            status, extra, body, length = 404, {"Content-Type": "text/plain"}, b"not found", True
        elif route.etag and h.headers.get("If-None-Match") == route.etag and fault is None:
            status, extra, body, length = 304, {"ETag": route.etag}, b"", True
        else:
            status, extra, body, length = route.status, dict(route.headers), route.body, route.length
            if route.etag:
                extra["ETag"] = route.etag
        with self._lock:
            self.hits.append(Hit(path, time.monotonic(), fault.kind if fault and fault.kind != "status"
                                 else str(fault.status if fault else status), headers))
        if fault is None:
            self._send(h, status, extra, body, length)
        elif fault.kind == "status":
            self._send(h, fault.status, {"Content-Type": "text/plain", **fault.headers}, b"try again later", True)
        elif fault.kind == "slow":
            self._stop.wait(fault.seconds)
            self._send(h, status, extra, body, length)
        elif fault.kind == "drop":
            self._close(h, reset=False)
        elif fault.kind == "stall_headers":
            self._stop.wait(fault.seconds)
            self._close(h, reset=False)
        elif fault.kind in ("reset", "reset_nolength", "stall_body"):
            with_length = fault.kind != "reset_nolength"
            self._head(h, status, extra, len(body) if with_length else None)
            h.wfile.write(body[: len(body) // 2])
            h.wfile.flush()
            if fault.kind == "stall_body":
                self._stop.wait(fault.seconds)
            self._close(h, reset=fault.kind != "stall_body")
        elif fault.kind == "drip":
            self._head(h, status, extra, len(body))
            for i in range(0, len(body), fault.chunk):
                if self._stop.wait(fault.seconds):
                    break
                h.wfile.write(body[i : i + fault.chunk])
                h.wfile.flush()
            h.close_connection = True

    @staticmethod
    def _head(h: BaseHTTPRequestHandler, status: int, headers: dict[str, str], length: int | None) -> None:
        h.send_response(status)
        for k, v in headers.items():
            h.send_header(k, v)
        if length is None:
            h.send_header("Connection", "close")
            h.close_connection = True
        else:
            h.send_header("Content-Length", str(length))
        h.end_headers()

    def _send(self, h: BaseHTTPRequestHandler, status: int, headers: dict[str, str], body: bytes, length: bool) -> None:
        self._head(h, status, headers, len(body) if length else None)
        h.wfile.write(body)

    @staticmethod
    def _close(h: BaseHTTPRequestHandler, *, reset: bool) -> None:
        h.close_connection = True
        sock = h.connection
        if reset:  # SO_LINGER 0: close() sends RST instead of FIN
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        with contextlib.suppress(OSError):
            if not reset:
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()


# --- payloads -----------------------------------------------------------------


def gzip_bomb(size: int) -> bytes:
    """``size`` zero bytes, gzipped: about size/1000 bytes on the wire."""
    return gzip.compress(b"\0" * size, compresslevel=9, mtime=0)


def deflate_bomb(size: int) -> bytes:
    """``size`` zero bytes as zlib-wrapped deflate (``Content-Encoding: deflate``)."""
    return zlib.compress(b"\0" * size, 9)


@contextlib.contextmanager
def refused_port() -> Iterator[int]:
    """A loopback port bound but not listening: connecting gets ECONNREFUSED (held, so no one else takes it)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    try:
        yield sock.getsockname()[1]
    finally:
        sock.close()


def rss(base: str, paths: list[str], title: str = "Feed") -> str:
    items = "".join(f"<item><title>{escape(p)}</title><link>{escape(base + p)}</link></item>" for p in paths)
    return f"<?xml version='1.0' encoding='utf-8'?><rss version='2.0'><channel><title>{title}</title>{items}</channel></rss>"


def sitemap(base: str, paths: list[str]) -> str:
    urls = "".join(f"<url><loc>{escape(base + p)}</loc></url>" for p in paths)
    return ("<?xml version='1.0' encoding='utf-8'?>"
            f"<urlset xmlns='http://www.sitemaps.org/schemas/sitemap/0.9'>{urls}</urlset>")


# --- article texts ------------------------------------------------------------
# Filler vocabulary per language (ordinary words, so language detection has
# something to read), and one REAIM sentence per language, so every article is
# relevant. Prose is drawn from a seeded generator: character 5-gram Jaccard
# between two articles stays far below the near-duplicate threshold (0.6).

WORDS = {
    "en": """government ministers delegates agreed yesterday morning committee proposal national defence budget
        officials said country would review standards before next year while experts warned about risks
        engineers tested systems during exercise navy army pilots commanders training software sensors data
        analysis report published parliament debate vote allies partners treaty negotiation framework legal
        obligations humanitarian law accountability oversight transparency researchers university students
        industry companies contracts procurement testing evaluation safety human judgement decision weapons
        targeting control escalation crisis diplomats meeting capital delegation statement closing session
        regional security cooperation dialogue principles guidelines implementation progress challenges
        commitments declaration signatories observers campaigners civil society journalists interview
        spokesperson announcement agreement document chapter article section paragraph evidence history future
        technology innovation investment research laboratory prototype deployment doctrine strategy policy""".split(),
    "ko": """정부 장관 대표단 어제 오전 위원회 제안 국가 국방 예산 관계자 국가는 내년 기준 검토 전문가 위험 경고
        기술자 시스템 시험 훈련 해군 육군 조종사 지휘관 소프트웨어 센서 데이터 분석 보고서 발표 국회 토론 표결
        동맹국 협력국 조약 협상 체계 법적 의무 인도법 책임성 감독 투명성 연구자 대학 학생 산업 기업 계약 조달
        평가 안전 인간 판단 결정 무기 표적 통제 확전 위기 외교관 회의 수도 성명 폐막 회기 지역 안보 협력 대화
        원칙 지침 이행 진전 과제 약속 선언 서명국 참관국 시민사회 기자 인터뷰 대변인 발표문 합의 문서 조항 증거
        역사 미래 기술 혁신 투자 연구소 시제품 배치 교리 전략 정책 군사 인공지능 규범 논의 참석 강조 우려 지원
        필요 방안 마련 추진 계획 확대 강화 점검 공유 제시 설명 주장 입장 의견 결과 과정 단계 내용 분야 문제""".split(),
    "es": """gobierno ministros delegados acordaron ayer mañana comisión propuesta nacional defensa presupuesto
        funcionarios dijeron país revisaría normas antes próximo año mientras expertos advirtieron riesgos
        ingenieros probaron sistemas durante ejercicio armada ejército pilotos mandos formación programas sensores
        datos análisis informe publicado parlamento debate votación aliados socios tratado negociación marco
        obligaciones jurídicas derecho humanitario rendición cuentas supervisión transparencia investigadores
        universidad estudiantes industria empresas contratos adquisiciones pruebas evaluación seguridad juicio
        humano decisión armas objetivos control escalada crisis diplomáticos reunión capital delegación
        declaración clausura sesión regional cooperación diálogo principios directrices aplicación progreso
        desafíos compromisos firmantes observadores activistas sociedad civil periodistas entrevista portavoz
        anuncio acuerdo documento capítulo artículo sección párrafo pruebas historia futuro tecnología
        innovación inversión investigación laboratorio prototipo despliegue doctrina estrategia política""".split(),
    "fr": """gouvernement ministres délégués ont convenu hier matin commission proposition nationale défense budget
        responsables ont déclaré pays réexaminerait normes avant année prochaine tandis experts ont averti
        risques ingénieurs ont testé systèmes pendant exercice marine armée pilotes commandants formation
        logiciels capteurs données analyse rapport publié parlement débat vote alliés partenaires traité
        négociation cadre obligations juridiques droit humanitaire responsabilité contrôle transparence
        chercheurs université étudiants industrie entreprises contrats achats essais évaluation sécurité jugement
        humain décision armes ciblage escalade crise diplomates réunion capitale délégation déclaration clôture
        séance régionale coopération dialogue principes lignes directrices mise œuvre progrès défis engagements
        signataires observateurs militants société civile journalistes entretien porte-parole annonce accord
        document chapitre article section paragraphe preuves histoire avenir technologie innovation
        investissement recherche laboratoire prototype déploiement doctrine stratégie politique""".split(),
    "de": """Regierung Minister Delegierte einigten sich gestern Vormittag Ausschuss Vorschlag nationale
        Verteidigung Haushalt Beamte sagten Land würde Standards vor nächstem Jahr überprüfen während Experten
        warnten Risiken Ingenieure testeten Systeme während Übung Marine Armee Piloten Kommandeure Ausbildung
        Software Sensoren Daten Analyse Bericht veröffentlicht Parlament Debatte Abstimmung Verbündete Partner
        Vertrag Verhandlung Rahmen rechtliche Pflichten humanitäres Völkerrecht Rechenschaft Aufsicht
        Transparenz Forscher Universität Studenten Industrie Unternehmen Verträge Beschaffung Prüfung Bewertung
        Sicherheit menschliches Urteil Entscheidung Waffen Zielauswahl Kontrolle Eskalation Krise Diplomaten
        Treffen Hauptstadt Delegation Erklärung Abschluss Sitzung regionale Zusammenarbeit Dialog Grundsätze
        Leitlinien Umsetzung Fortschritt Herausforderungen Zusagen Unterzeichner Beobachter Aktivisten
        Zivilgesellschaft Journalisten Interview Sprecherin Ankündigung Abkommen Dokument Kapitel Abschnitt
        Absatz Beweise Geschichte Zukunft Technologie Innovation Investition Forschung Labor Prototyp Einsatz
        Doktrin Strategie Politik""".split(),
}

REAIM_SENTENCE = {
    "en": "The summit on Responsible AI in the Military Domain (REAIM) discussed human control over military "
          "artificial intelligence in {city}.",
    "ko": "군사 분야 인공지능의 책임 있는 이용에 관한 고위급 회의(REAIM)가 {city}에서 열려 군사 인공지능에 대한 "
          "인간의 통제를 논의했다.",
    "es": "La cumbre sobre el uso responsable de la inteligencia artificial en el ámbito militar (REAIM) debatió "
          "en {city} el control humano de la inteligencia artificial militar.",
    "fr": "Le sommet sur l'intelligence artificielle responsable dans le domaine militaire (REAIM) a débattu à "
          "{city} du contrôle humain de l'intelligence artificielle militaire.",
    "de": "Der Gipfel zu verantwortungsvoller künstlicher Intelligenz im militärischen Bereich (REAIM) beriet in "
          "{city} über menschliche Kontrolle militärischer künstlicher Intelligenz.",
}
TITLE = {
    "en": "REAIM summit: {a} and {b} in {city} ({n})",
    "ko": "REAIM 회의, {city}에서 {a}·{b} 논의 ({n})",
    "es": "Cumbre REAIM: {a} y {b} en {city} ({n})",
    "fr": "Sommet REAIM : {a} et {b} à {city} ({n})",
    "de": "REAIM-Gipfel: {a} und {b} in {city} ({n})",
}
CITIES = {
    "en": ["The Hague", "Seoul", "A Coruna", "Geneva", "New York", "Singapore"],
    "ko": ["헤이그", "서울", "아코루냐", "제네바", "뉴욕", "싱가포르"],
    "es": ["La Haya", "Seúl", "A Coruña", "Ginebra", "Nueva York", "Singapur"],
    "fr": ["La Haye", "Séoul", "La Corogne", "Genève", "New York", "Singapour"],
    "de": ["Den Haag", "Seoul", "A Coruña", "Genf", "New York", "Singapur"],
}
SENTENCE_END = {"ko": "다.", "en": ".", "es": ".", "fr": ".", "de": "."}


_NO_WORDS = frozenset({"유료", "구독자", "전용", "기사", "captcha", "robot", "human", "subscribe", "subscribers"})


@functools.cache
def vocabulary(language: str) -> tuple[str, ...]:
    """``WORDS[language]`` and every word of the bundled sample site's articles in that language, sorted.

    A large vocabulary keeps two generated articles' shared character 5-grams
    few (measured: exact Jaccard at most about 0.15 within a language).
    Korean words are kept only if EUC-KR can encode them; words that the
    paywall and bot-challenge markers could match are left out.
    """
    import yaml
    from lxml import html as lxml_html

    root = resources.files("reaim.sample_site")
    expected = yaml.safe_load((root / "expected.yaml").read_text(encoding="utf-8"))["articles"]
    found: set[str] = set(WORDS[language])
    pattern = re.compile(r"[가-힣]{2,}" if language == "ko" else r"[^\W\d_]{3,}")
    for path, entry in sorted(expected.items()):
        if entry.get("language") != language:
            continue
        page = root / "pages" / path.lstrip("/")
        if not page.is_file():
            continue
        doc = lxml_html.fromstring(page.read_text(encoding="utf-8"))
        found.update(pattern.findall(" ".join(p.text_content() for p in doc.iter("p"))))
    words = []
    for word in sorted(found):
        if word.lower() in _NO_WORDS:
            continue
        if language == "ko":
            try:
                word.encode("euc-kr")
            except UnicodeEncodeError:
                continue
        words.append(word)
    return tuple(words)


@dataclass(frozen=True)
class Story:
    n: int
    language: str
    title: str
    paragraphs: tuple[str, ...]
    published: str

    @property
    def marker(self) -> str:
        """A sentence that must appear in the archived text, exactly (a mis-decoded page lacks it)."""
        return self.paragraphs[1][:60]


def make_story(n: int, language: str, seed: int = 7) -> Story:
    """Article ``n``: the REAIM sentence, then four paragraphs of seeded prose from :func:`vocabulary`."""
    rng = random.Random(f"{seed}:{language}:{n}")
    words = vocabulary(language)
    city = rng.choice(CITIES[language])
    end = SENTENCE_END[language]
    paragraphs = [REAIM_SENTENCE[language].format(city=city)]
    words_per_sentence = 14 if language == "ko" else 12
    for _ in range(4):
        sentences = []
        for _ in range(4):
            sentence = " ".join(rng.choice(words) for _ in range(words_per_sentence))
            sentences.append(sentence[0].upper() + sentence[1:] + end)
        paragraphs.append(" ".join(sentences))
    a, b = rng.sample(WORDS[language], 2)
    title = TITLE[language].format(a=a, b=b, city=city, n=n)
    day = 1 + n % 28
    published = f"2024-09-{day:02d}T{8 + n % 10:02d}:{n % 60:02d}:00+00:00"
    return Story(n, language, title, tuple(paragraphs), published)


def article_page(story: Story, *, canonical: str | None = None, amp: bool = False, charset_meta: bool = True) -> str:
    lang = story.language
    links = f"<link rel='canonical' href='{escape(canonical)}'>" if canonical else ""
    meta = "<meta charset='utf-8'>" if charset_meta else ""
    body = "".join(f"<p>{escape(p)}</p>" for p in story.paragraphs)
    html_attr = f" lang='{lang}'" + (" amp" if amp else "")
    return (f"<!doctype html><html{html_attr}><head>{meta}<title>{escape(story.title)}</title>{links}"
            f"<meta property='article:published_time' content='{story.published}'></head>"
            "<body><nav><a href='/'>Home</a> | <a href='/world/'>World</a></nav>"
            f"<article><h1>{escape(story.title)}</h1>{body}</article>"
            "<footer>Contact | Privacy</footer></body></html>")


# --- the headline site --------------------------------------------------------


@dataclass(frozen=True)
class Outlet:
    id: str
    language: str
    count: int
    kind: str  # rss or sitemap
    encoding: str = "utf-8"  # euc-kr: the page is sent in EUC-KR with no charset anywhere


OUTLETS = (
    Outlet("wire-en", "en", 110, "rss"),
    Outlet("ledger-en", "en", 100, "sitemap"),
    Outlet("ilbo-ko", "ko", 50, "rss"),
    Outlet("hanmun-ko", "ko", 50, "rss", encoding="euc-kr"),
    Outlet("diario-es", "es", 90, "sitemap"),
    Outlet("echo-fr", "fr", 50, "rss"),
    Outlet("kurier-de", "de", 50, "sitemap"),
)

# Fault rates of the headline site (share of articles, each article at most one fault).
RATES = {
    "503 then ok": 0.08,  # one 503 without Retry-After: Scrapy retries it at once
    "503+Retry-After then ok": 0.01,  # one 503 with Retry-After: 1, honoured per host (the host waits)
    "429+Retry-After then ok": 0.01,
    "500 x2 then ok": 0.02,  # a 5xx burst within Scrapy's 2 retries
    "reset then ok": 0.05,  # RST mid-body (Content-Length sent)
    "slow (1 s)": 0.05,  # slow but inside DOWNLOAD_TIMEOUT
    "timeout x3 then ok": 0.01,  # no headers for 3 tries: fails run 1, frontier retries in run 2
    "503 x3 then ok": 0.01,  # a burst longer than Scrapy's retries: fails run 1, ok in run 2
    "reset x3 then ok": 0.01,  # resets on every try of run 1
}
AMP_SHARE = 0.05  # articles also listed under an AMP URL (rel=canonical to the article)
UTM_SHARE = 0.05  # articles also listed with ?utm_source=rss


def _faults_for(label: str, timeout: float) -> list[Fault]:
    return {
        "503 then ok": [Fault("status", 503)],
        "503+Retry-After then ok": [Fault("status", 503, {"Retry-After": "1"})],
        "429+Retry-After then ok": [Fault("status", 429, {"Retry-After": "1"})],
        "500 x2 then ok": [Fault("status", 500)] * 2,
        "reset then ok": [Fault("reset")],
        "slow (1 s)": [Fault("slow", seconds=1.0)],
        "timeout x3 then ok": [Fault("stall_headers", seconds=timeout + 2)] * 3,
        "503 x3 then ok": [Fault("status", 503)] * 3,
        "reset x3 then ok": [Fault("reset")] * 3,
    }[label]


@dataclass
class Expected:
    url: str  # the article's own URL
    outlet: str
    story: Story
    fault: str | None
    variants: list[str] = field(default_factory=list)  # AMP/utm URLs also listed


class HeadlineSite:
    """The issue-7 headline site: ``OUTLETS`` (500 articles), each outlet its own host.

    ``expected`` is the ground truth (one entry per distinct article);
    ``injected`` counts the faults served so far over all outlets.
    ``timeout`` is the crawl's DOWNLOAD_TIMEOUT (a stall must outlast it).
    """

    def __init__(self, seed: int = 7, timeout: float = 3.0, outlets: tuple[Outlet, ...] = OUTLETS) -> None:
        self.seed = seed
        self.outlets = outlets
        self.sites = {o.id: FaultSite(o.id) for o in outlets}
        self.expected: list[Expected] = []
        self.plan: Counter[str] = Counter()
        rng = random.Random(seed)
        total = sum(o.count for o in outlets)
        labels: list[str | None] = []
        for name, rate in RATES.items():
            labels += [name] * round(rate * total)
        labels += [None] * (total - len(labels))
        rng.shuffle(labels)
        variant_kind: list[str | None] = []
        variant_kind += ["amp"] * round(AMP_SHARE * total) + ["utm"] * round(UTM_SHARE * total)
        variant_kind += [None] * (total - len(variant_kind))
        rng.shuffle(variant_kind)
        i = 0
        for outlet in outlets:
            site = self.sites[outlet.id]
            site.allow_all()
            listed: list[str] = []
            for _ in range(outlet.count):
                story = make_story(i, outlet.language, seed)
                path = f"/{outlet.id}/2024/09/story-{i:04d}.html"
                url = site.url + path
                encoded = outlet.encoding != "utf-8"
                page = article_page(story, canonical=url, charset_meta=not encoded)
                headers = {"Content-Type": "text/html" if encoded else HTML}
                label = labels[i]
                site.add(path, page.encode(outlet.encoding), headers=headers,
                         first=_faults_for(label, timeout) if label else [])
                if label:
                    self.plan[label] += 1
                entry = Expected(url, outlet.id, story, label)
                listed.append(path)
                if variant_kind[i] == "amp":
                    amp_path = f"/{outlet.id}/amp/2024/09/story-{i:04d}.html"
                    site.add(amp_path, article_page(story, canonical=url, amp=True,
                                                    charset_meta=not encoded).encode(outlet.encoding),
                             headers=headers)
                    listed.append(amp_path)
                    entry.variants.append(site.url + amp_path)
                elif variant_kind[i] == "utm":
                    listed.append(path + "?utm_source=rss&utm_medium=feed")
                    entry.variants.append(url + "?utm_source=rss&utm_medium=feed")
                self.expected.append(entry)
                i += 1
            doc = rss(site.url, listed, outlet.id) if outlet.kind == "rss" else sitemap(site.url, listed)
            ctype = "application/rss+xml" if outlet.kind == "rss" else "application/xml"
            site.add(f"/{outlet.id}/{outlet.kind}.xml", doc, headers={"Content-Type": ctype}, etag=f'"{outlet.id}-v1"')

    def __enter__(self) -> HeadlineSite:
        for site in self.sites.values():
            site.__enter__()
        return self

    def __exit__(self, *exc: Any) -> None:
        for site in self.sites.values():
            site.__exit__(*exc)

    @property
    def injected(self) -> int:
        return sum(s.injected for s in self.sites.values())

    def injected_by_kind(self) -> Counter[str]:
        total: Counter[str] = Counter()
        for s in self.sites.values():
            total.update(s.faults_served)
        return total

    def sources_yaml(self) -> str:
        lines = []
        for o in self.outlets:
            site = self.sites[o.id]
            lines.append(f"- {{id: {o.id}, name: {o.id}, language: {o.language}, timezone: UTC, kind: {o.kind}, "
                         f"urls: ['{site.url}/{o.id}/{o.kind}.xml']}}")
        return "\n".join(lines) + "\n"


def main() -> None:
    import argparse
    from pathlib import Path

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sources-out", type=Path, help="write the sources YAML here")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    with HeadlineSite(seed=args.seed) as site:
        if args.sources_out:
            args.sources_out.write_text(site.sources_yaml(), encoding="utf-8")
        print(site.sources_yaml(), end="")
        print(f"{len(site.expected)} articles; faults planned: {dict(site.plan)}; Ctrl-C to stop")
        with contextlib.suppress(KeyboardInterrupt):
            while True:
                time.sleep(1)


if __name__ == "__main__":
    main()

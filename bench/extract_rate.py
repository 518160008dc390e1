"""Extraction cost per page: ``decode_html`` + ``extract_article`` next to a bare lxml parse.

Pages: ``--pages`` generated pages (bench/gen_site.py, default 500: articles,
republications and video stubs, 20-100 KB, nine languages) and every HTML page
of the bundled sample site (reaim/sample_site, 5-15 KB), each decoded with its
outlet's language and extracted with its outlet's time zone and name, as the
spider does. For each page, in turn:

  decode    crawler.charset.decode_html(body, content_type, language)
  extract   crawler.extract.extract_article(text, url, ...)
  lxml      lxml.html.fromstring(text) on the same decoded text (the floor:
            extraction parses the page at least once, trafilatura again)

Times are CPU time of this thread (time.thread_time), so other processes on a
busy machine do not inflate them; the wall-clock median of decode + extract is
shown beside them. Median and p95 per group, in milliseconds.

    python bench/extract_rate.py                    # 500 generated pages + the sample site
    python bench/extract_rate.py --pages 2000 --by-language
    python bench/extract_rate.py --profile /tmp/extract.pstats
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
BENCH = Path(__file__).resolve().parent
for _p in (str(ROOT), str(BENCH)):
    if _p not in sys.path:
        sys.path.insert(0, _p)

EXTRACT_SPOTS: tuple[tuple[str, str, str], ...] = (
    ("crawler/charset.py", "decode_html", "charset.decode_html"),
    ("crawler/charset.py", "_profile", "  charset._profile (per-character scoring)"),
    ("crawler/extract.py", "extract_article", "extract.extract_article"),
    ("crawler/extract.py", "_body", "  trafilatura body (extract._body)"),
    ("trafilatura/core.py", "extract", "    trafilatura.extract (all passes)"),
    ("trafilatura/external.py", "justext_rescue", "      justext fallback inside trafilatura"),
    ("trafilatura/htmlprocessing.py", "prune_unwanted_nodes", "      trafilatura prune_unwanted_nodes"),
    ("crawler/extract.py", "_published", "  date (extract._published)"),
    ("htmldate/core.py", "find_date", "    htmldate.find_date"),
    ("crawler/extract.py", "_jsonld_article", "  JSON-LD"),
    ("crawler/extract.py", "_first_text", "  _first_text (title/byline XPath)"),
    ("lxml/html/__init__.py", "fromstring", "lxml.html.fromstring (all callers)"),
)


@dataclass
class Page:
    group: str  # generated | sample
    language: str | None
    url: str
    body: bytes
    content_type: str | None
    timezone: str | None = None
    site_name: str | None = None


@dataclass
class Timing:
    decode: list[float] = field(default_factory=list)
    extract: list[float] = field(default_factory=list)
    total: list[float] = field(default_factory=list)
    lxml: list[float] = field(default_factory=list)
    wall_total: list[float] = field(default_factory=list)
    kb: list[float] = field(default_factory=list)


def generated_pages(n: int, seed: int) -> list[Page]:
    from gen_site import OUTLETS, generate_site

    site = generate_site("http://127.0.0.1:8000", n, seed=seed)
    outlets = {o.id: o for o in OUTLETS}
    pages = []
    for info in site.pages:
        res = site.routes.get(info.path)
        if res is None:
            continue  # a 404 in the sitemap
        o = outlets[info.outlet]
        pages.append(Page("generated", o.language, site.url(info.path), res.body, res.content_type, o.timezone, o.name))
    return pages


def sample_pages() -> list[Page]:
    import yaml

    from reaim.sample_site.server import SITE_DIR, load_manifest, render

    base = "http://reaim-sample.test"
    sources = yaml.safe_load((SITE_DIR / "sources.yaml").read_text(encoding="utf-8"))
    entries: list[dict[str, Any]] = (sources.get("sources") if isinstance(sources, dict) else sources) or []
    by_outlet: dict[str, dict[str, Any]] = {}
    for s in entries:
        for url in s.get("urls") or [s.get("url")]:
            outlet = url.replace("{site}", "").lstrip("/").split("/", 1)[0]
            by_outlet.setdefault(outlet, s)
    pages = []
    for path, route in sorted(load_manifest().items()):
        if route.status != 200 or "html" not in route.content_type:
            continue
        src = by_outlet.get(path.lstrip("/").split("/", 1)[0], {})
        pages.append(Page("sample", src.get("language"), base + path, render(route, base), route.content_type,
                          src.get("timezone"), src.get("name")))
    return pages


def _pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


def run(pages: list[Page], key: Callable[[Page], str]) -> dict[str, Timing]:
    import lxml.html

    from crawler.charset import decode_html
    from crawler.extract import extract_article

    for page in pages[:5]:  # warm-up: imports, trafilatura and htmldate caches
        extract_article(decode_html(page.body, page.content_type, page.language).text, page.url)
    clock, wall = time.thread_time, time.perf_counter
    out: dict[str, Timing] = {}
    for page in pages:
        w0, t0 = wall(), clock()
        decoded = decode_html(page.body, page.content_type, page.language)
        t1 = clock()
        extract_article(decoded.text, page.url, source_timezone=page.timezone, site_name=page.site_name)
        t2, w2 = clock(), wall()
        lxml.html.fromstring(decoded.text)
        t3 = clock()
        for name in ("all " + page.group, key(page)):
            t = out.setdefault(name, Timing())
            t.decode.append(1000 * (t1 - t0))
            t.extract.append(1000 * (t2 - t1))
            t.total.append(1000 * (t2 - t0))
            t.lxml.append(1000 * (t3 - t2))
            t.wall_total.append(1000 * (w2 - w0))
            t.kb.append(len(page.body) / 1024)
    return out


def table(results: dict[str, Timing]) -> str:
    head = (f"  {'pages':<22}{'n':>5}{'KB med':>8}  {'decode med/p95':>15}  {'extract med/p95':>16}  "
            f"{'decode+extract':>15}  {'lxml med/p95':>13}  {'total/lxml':>10}  {'wall med':>8}")
    lines = [head]
    for name, t in results.items():
        def mp(v: list[float]) -> str:
            return f"{statistics.median(v):6.2f}/{_pct(v, 0.95):<7.2f}"

        ratio = statistics.median(t.total) / max(statistics.median(t.lxml), 1e-9)
        lines.append(
            f"  {name:<22}{len(t.total):>5}{statistics.median(t.kb):>8.1f}  {mp(t.decode):>15}  {mp(t.extract):>16}  "
            f"{mp(t.total):>15}  {mp(t.lxml):>13}  {ratio:>9.1f}x  {statistics.median(t.wall_total):>8.2f}"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--pages", type=int, default=500, help="generated pages (default 500)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--no-sample", action="store_true", help="leave out the bundled sample site's pages")
    ap.add_argument("--by-language", action="store_true", help="a row per language as well")
    ap.add_argument("--profile", type=Path, help="after timing, profile decode + extract of the generated pages")
    args = ap.parse_args(argv)

    t0 = time.perf_counter()
    pages = generated_pages(args.pages, args.seed)
    if not args.no_sample:
        pages += sample_pages()
    print(f"{len(pages)} pages ready in {time.perf_counter() - t0:.1f} s; timing ...", flush=True)
    key: Callable[[Page], str] = (lambda p: f"{p.group} {p.language}") if args.by_language else (lambda p: "all " + p.group)
    results = run(pages, key)
    order = sorted(results, key=lambda k: (not k.startswith("all"), k))
    print(f"\nExtraction cost, CPU ms per page (Python {sys.version.split()[0]})")
    print(table({k: results[k] for k in order}))
    if args.profile:
        import cProfile

        from crawl_rate import summarize_profile

        from crawler.charset import decode_html
        from crawler.extract import extract_article

        gen = [p for p in pages if p.group == "generated"]
        prof = cProfile.Profile()
        prof.enable()
        for p in gen:
            decoded = decode_html(p.body, p.content_type, p.language)
            extract_article(decoded.text, p.url, source_timezone=p.timezone, site_name=p.site_name)
        prof.disable()
        prof.dump_stats(str(args.profile))
        print()
        print(summarize_profile(args.profile, spots=EXTRACT_SPOTS, top=20))
    return 0


if __name__ == "__main__":
    sys.exit(main())

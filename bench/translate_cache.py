"""What the translation cache saves: the sample site processed twice over one archive.

Every article page listed in ``reaim/sample_site/expected.yaml`` is rendered
(no server: ``SampleSite().render``), decoded with ``crawler.charset`` and
extracted with ``crawler.extract`` once, up front. Then the processing stages
(normalize, language, relevance, translate, tag: ``pipeline.process.Processor``)
run over all of them without translation (a warm-up, then a baseline), then
twice with it, translating through deep-translator's real client
against the loopback LibreTranslate of the tests, with one ``ArchiveCache`` on
a temporary SQLite archive. Printed per pass: articles per second, articles
translated, and characters sent (as counted by the server) per article; the
second pass must send nothing.

    python bench/translate_cache.py               # first 2,000 characters of each text (the default)
    python bench/translate_cache.py --full-text   # whole texts, chunked
    python bench/translate_cache.py --check       # exit 1 unless the second pass sent 0 characters

Nothing leaves 127.0.0.1.
"""

from __future__ import annotations

import argparse
import copy
import sys
import tempfile
import time
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from crawler.charset import decode_html  # noqa: E402
from crawler.extract import extract_article  # noqa: E402
from crawler.items import Article  # noqa: E402
from pipeline.process import Processor  # noqa: E402
from pipeline.translate import DEFAULT_MAX_CHARS, ArchiveCache, CharBudget, DeepTranslator  # noqa: E402
from reaim.sample_site.server import SampleSite  # noqa: E402
from servers.libre import LibreServer  # noqa: E402

BASE = "http://reaim-sample.test"


def _load(name: str) -> Any:
    return yaml.safe_load((resources.files("reaim.sample_site") / name).read_text(encoding="utf-8"))


def _outlet(source_id: str) -> str:
    return source_id.split("-seccion")[0].split("-rss")[0].split("-sitemap")[0]


def load_articles() -> list[Article]:
    expected = _load("expected.yaml")["articles"]
    sources = {_outlet(s["id"]): s for s in _load("sources.yaml")}
    site = SampleSite()
    articles = []
    for path, truth in expected.items():
        source = sources[truth["outlet"]]
        route = site.routes[path]
        decoded = decode_html(site.render(path, BASE), route.content_type, source["language"])
        article = extract_article(decoded.text, BASE + path, source_timezone=source["timezone"], site_name=source["name"])
        article.encoding = decoded.encoding
        articles.append(article)
    return articles


def run_pass(processor: Processor, articles: list[Article], server: LibreServer) -> dict[str, Any]:
    batch = copy.deepcopy(articles)
    chars_before = server.chars
    requests_before = len(server.requests)
    started = time.perf_counter()
    done = [processor.process(a) for a in batch]
    seconds = time.perf_counter() - started
    statuses: dict[str, int] = {}
    for a in done:
        status = a.translation_status or "off-topic"  # not relevant: never sent for translation
        statuses[status] = statuses.get(status, 0) + 1
    translated = sum(1 for a in done if a.translation_status in ("done", "pending"))
    chars = server.chars - chars_before
    return {
        "articles": len(done),
        "seconds": seconds,
        "rate": len(done) / seconds if seconds else float("inf"),
        "translated": translated,
        "statuses": statuses,
        "chars": chars,
        "requests": len(server.requests) - requests_before,
        "chars_per_article": chars / len(done) if done else 0.0,
        "chars_per_translated": chars / translated if translated else 0.0,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--full-text", action="store_true", help="translate whole texts (TRANSLATE_MAX_CHARS=0)")
    parser.add_argument("--check", action="store_true", help="exit 1 unless the second pass sent nothing")
    args = parser.parse_args(argv)

    started = time.perf_counter()
    articles = load_articles()
    print(f"{len(articles)} sample-site articles rendered, decoded and extracted in "
          f"{time.perf_counter() - started:.2f}s (not counted below)")
    max_chars = None if args.full_text else DEFAULT_MAX_CHARS
    with tempfile.TemporaryDirectory() as tmp, LibreServer() as server:
        db_path = str(Path(tmp) / "bench.db")
        cache = ArchiveCache(db_path)
        translator = DeepTranslator("libre", url=server.url, budget=CharBudget(None))
        processor = Processor(translator=translator, cache=cache, max_chars=max_chars)
        # A warm-up loads what loads once (language models, compiled lexicon); pass 0 then
        # gives the rate of the same stages without translation, to compare with.
        untranslated = Processor(taxonomy=processor.taxonomy, translate=False)
        run_pass(untranslated, articles, server)
        baseline = run_pass(untranslated, articles, server)
        results = [run_pass(processor, articles, server) for _ in range(2)]
        cached_rows = cache.db.execute("select count(*), coalesce(sum(chars), 0) from translation_cache").fetchall()[0]
    mode = "full text" if args.full_text else f"first {DEFAULT_MAX_CHARS} characters"
    print(f"translation through loopback LibreTranslate ({mode}), one ArchiveCache on a temporary SQLite archive")
    print(f"pass 0: {baseline['articles']} articles in {baseline['seconds']:.2f}s = {baseline['rate']:.1f} articles/s "
          "without translation (baseline, after a warm-up)")
    for n, r in enumerate(results, 1):
        statuses = ", ".join(f"{k} {v}" for k, v in sorted(r["statuses"].items()))
        print(f"pass {n}: {r['articles']} articles in {r['seconds']:.2f}s = {r['rate']:.1f} articles/s; "
              f"translated {r['translated']} ({statuses}); {r['requests']} requests, {r['chars']} chars sent = "
              f"{r['chars_per_article']:.0f} per article, {r['chars_per_translated']:.0f} per translated article")
    print(f"cache: {cached_rows[0]} chunks, {cached_rows[1]} characters")
    second = results[1]["chars"]
    print("second pass sent " + ("nothing: every chunk came from the cache" if second == 0 else f"{second} chars (!)"))
    return 1 if args.check and second != 0 else 0


if __name__ == "__main__":
    sys.exit(main())

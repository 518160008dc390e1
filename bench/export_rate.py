"""Export speed: rows per second for each format, on a synthetic archive.

Builds an archive of ``--rows`` relevant articles (default 100,000) with the
project's schema (archive.schema.open_db) and sqlite-utils ``insert_all``:
each article has ``--chars`` characters of text and as many of English text,
two event tags and three theme tags with evidence. Then times ``reaim export``
(archive.export.export_archive) per format, with and without the texts.

    python bench/export_rate.py                    # 100k rows
    python bench/export_rate.py --rows 20000 --formats csv jsonl
    python bench/export_rate.py --keep /tmp/bench  # keep the archive and the exports

Nothing leaves the machine; the archive is built in a temporary folder.
"""

from __future__ import annotations

import argparse
import random
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from archive.export import FORMATS, export_archive  # noqa: E402
from archive.schema import open_db  # noqa: E402
from archive.store import save_sources, save_taxonomy  # noqa: E402
from pipeline.taxonomy import load_taxonomy  # noqa: E402

LANGUAGES = ["en", "ko", "es", "nl", "fr", "de", "zh", "ja", "ru"]
WORDS = ("summit military artificial intelligence responsible domain delegates declaration blueprint "
         "human control weapons autonomy governance states endorsed Seoul Hague Coruña").split()


def build(db_path: Path, rows: int, chars: int, seed: int = 7) -> None:
    rnd = random.Random(seed)
    taxonomy = load_taxonomy()
    db = open_db(db_path)
    save_taxonomy(db, taxonomy.event_rows(), taxonomy.theme_rows(), taxonomy.version)
    save_sources(db, [{"id": "bench", "name": "Bench Daily", "language": "en", "country": "NL", "kind": "rss",
                       "urls": ["https://news.example/rss"]}])
    events = [e.id for e in taxonomy.events]
    themes = [t.id for t in taxonomy.themes]
    vocabulary = WORDS + [f"{w}{n}" for w in WORDS for n in range(50)]  # less compressible than real text

    def filler() -> str:
        return " ".join(rnd.choices(vocabulary, k=chars // 7 + 1))[:chars]
    batch = 5000
    db.conn.execute("PRAGMA synchronous = OFF")
    for start in range(0, rows, batch):
        articles, tags_e, tags_t = [], [], []
        for i in range(start, min(start + batch, rows)):
            aid = f"{i:016x}"
            evs = rnd.sample(events, 2)
            text = filler()
            day = f"2023-{rnd.randint(1, 12):02d}-{rnd.randint(1, 28):02d}"
            articles.append({
                "id": aid, "url": f"https://news.example/{i}", "canonical_url": f"https://news.example/{i}",
                "source_id": "bench", "outlet": "Bench Daily", "country": "NL",
                "title": f"Article {i} on military AI", "text": text, "language": rnd.choice(LANGUAGES),
                "language_confidence": 0.99, "published": f"{day}T08:00:00+00:00", "published_month": day[:7],
                "relevant": 1, "relevance": 0.9, "primary_event": evs[0], "title_en": f"Article {i}",
                "text_en": filler(), "translation_status": "done", "fetched_at": "2026-01-01T00:00:00+00:00",
                "first_seen": "2026-01-01T00:00:00+00:00", "updated_at": "2026-01-01T00:00:00+00:00",
            })
            evidence = '{"score": 0.8, "snippet": "' + text[:200] + '", "terms": ["summit"], "text": "original"}'
            tags_e += [{"article_id": aid, "event_id": e, "is_primary": int(j == 0), "score": 0.8 - j / 10,
                        "evidence": evidence, "taxonomy_version": taxonomy.version} for j, e in enumerate(evs)]
            tags_t += [{"article_id": aid, "theme_id": t, "score": 0.6, "evidence": evidence,
                        "taxonomy_version": taxonomy.version} for t in rnd.sample(themes, 3)]
        with db.conn:
            db["articles"].insert_all(articles, batch_size=1000)
            db["article_events"].insert_all(tags_e, batch_size=1000)
            db["article_themes"].insert_all(tags_t, batch_size=1000)
    db.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--chars", type=int, default=1500, help="characters of text (and of text_en) per article")
    parser.add_argument("--formats", nargs="+", default=list(FORMATS), choices=FORMATS)
    parser.add_argument("--keep", type=Path, default=None, help="build in this folder and keep it")
    args = parser.parse_args()

    work = args.keep or Path(tempfile.mkdtemp(prefix="reaim-export-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    db_path = work / "bench.db"
    try:
        if not db_path.exists():
            t0 = time.perf_counter()
            build(db_path, args.rows, args.chars)
            print(f"built {args.rows} articles in {time.perf_counter() - t0:.1f} s "
                  f"({db_path.stat().st_size / 1e6:.0f} MB)")
        print("(CPU: this process's CPU time; wall clock depends on the disk and on other load)")
        print(f"{'format':8} {'text':5} {'wall s':>7} {'CPU s':>6} {'rows/s wall':>12} {'rows/s CPU':>11} {'articles MB':>12}")
        for fmt in args.formats:
            for include_text in (True, False):
                out = work / f"out-{fmt}-{'text' if include_text else 'notext'}"
                t0, c0 = time.perf_counter(), time.process_time()
                result = export_archive(db_path, out, fmt=fmt, include_text=include_text)
                secs, cpu = time.perf_counter() - t0, time.process_time() - c0
                size = (out / f"articles.{fmt}").stat().st_size / 1e6
                print(f"{fmt:8} {'yes' if include_text else 'no':5} {secs:7.1f} {cpu:6.1f} "
                      f"{result.articles / secs:12.0f} {result.articles / cpu:11.0f} {size:12.1f}")
    finally:
        if args.keep is None:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()

"""Articles fetched elsewhere, into the archive: the ``reaim process`` stages,
then the same dedupe and store rules as a crawl (``reaim import``)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import sqlite_utils

from archive.crawlstate import mark_seen
from archive.store import add_alias, article_exists, demote_to_alias, save_article, save_taxonomy, write_txn
from crawler.urls import canonicalize
from pipeline.dedupe import NearDuplicateIndex, fingerprint, from_hex, is_earlier, to_hex
from pipeline.process import BadRecord, Processor
from pipeline.store import article_record


@dataclass
class ImportReport:
    new: int = 0
    updated: int = 0
    off_topic: int = 0
    duplicates: int = 0
    bad: list[str] = field(default_factory=list)  # "line N: reason"


def import_records(
    db: sqlite_utils.Database,
    lines: Iterable[str],
    processor: Processor,
    *,
    on_bad: Callable[[str], None] | None = None,
) -> ImportReport:
    """Process and archive each JSON line; a bad line is reported and skipped, never fatal."""
    report = ImportReport()
    tax = processor.taxonomy
    save_taxonomy(db, tax.event_rows(), tax.theme_rows(), tax.version)  # tags reference them
    rows = db.execute("select id, fingerprint, published from articles where fingerprint is not null").fetchall()
    published = {r[0]: r[2] for r in rows}
    index = NearDuplicateIndex((r[0], from_hex(r[1])) for r in rows)
    for n, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
            article = processor.process(processor.article_from_record(record))
        except (ValueError, BadRecord) as exc:  # json errors are ValueErrors too
            message = f"line {n}: {exc}"
            report.bad.append(message)
            if on_bad:
                on_bad(message)
            continue
        article.discovered_via = article.discovered_via or "import"
        article.canonical_url = canonicalize(article.canonical_url or article.url)
        urls = [canonicalize(u) for u in (article.url, article.canonical_url, *article.aliases)]
        if not article.relevant:
            report.off_topic += 1
            mark_seen(db, urls, outcome="off_topic", source_id=article.source_id, reason=f"relevance {article.relevance}")
            continue
        sig = fingerprint(article)
        supersedes = None
        if sig is not None:
            article.fingerprint = to_hex(sig)
            match = index.nearest(sig, exclude=article.id)
            if match is not None:
                original = match[0]
                if not is_earlier(article.published, published.get(original)) and article_exists(db, original):
                    report.duplicates += 1
                    with write_txn(db):
                        add_alias(db, article.url, original, "near-duplicate", article.outlet)
                    mark_seen(db, urls, outcome="duplicate", source_id=article.source_id, article_id=original)
                    continue
                supersedes = original
                index.remove(original)
            index.add(article.id, sig)
            published[article.id] = article.published
        result = save_article(db, article_record(article, processor.taxonomy.version), article.id)
        if supersedes:
            demote_to_alias(db, supersedes, article.id)
        mark_seen(db, urls, outcome="article", source_id=article.source_id, article_id=article.id)
        if result.created:
            report.new += 1
        else:
            report.updated += 1
    return report

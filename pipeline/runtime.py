"""What the Scrapy adapters of the stages share within one crawl: the archive
handle, the taxonomy and the run id.

Each adapter could open its own connection, but one per crawl keeps writes
serialised in one place and lets the dedupe stage see what the store stage
wrote a moment ago.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import sqlite_utils

from archive.schema import default_db_path, open_db

if TYPE_CHECKING:
    from scrapy.crawler import Crawler

    from pipeline.taxonomy import Taxonomy


@dataclass
class CrawlContext:
    db: sqlite_utils.Database
    run_id: int | None
    taxonomy: Taxonomy


def crawl_context(crawler: Crawler) -> CrawlContext:
    """The crawl's shared context, created on first use and kept on the crawler."""
    ctx: CrawlContext | None = getattr(crawler, "_reaim_context", None)
    if ctx is None:
        from pipeline.taxonomy import load_taxonomy

        settings = crawler.settings
        db = open_db(settings.get("REAIM_DB") or default_db_path())
        run_id = settings.getint("REAIM_RUN_ID") or None
        taxonomy = load_taxonomy(settings.get("TAG_TAXONOMY") or None)
        ctx = CrawlContext(db=db, run_id=run_id, taxonomy=taxonomy)
        crawler._reaim_context = ctx  # type: ignore[attr-defined]
    return ctx


def stats_inc(crawler: Crawler, key: str, count: int = 1) -> None:
    if crawler.stats is not None:
        crawler.stats.inc_value(key, count)


def as_article(item: Any) -> Any:
    """The item as an ``Article``, or None for items the stages pass through untouched
    (``FetchFailure``, ``PageSkipped``). A dict is accepted too (tests, other producers)."""
    from crawler.items import Article, FetchFailure, PageSkipped

    if isinstance(item, Article):
        return item
    if isinstance(item, (FetchFailure, PageSkipped)):
        return None
    return Article.from_dict(dict(item))

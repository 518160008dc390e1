"""Stage 7: write the article (or the failure) to the archive.

The pure part lives in ``archive.store.save_article``; this adapter only
turns items into records and keeps the counts the run summary reports.
"""

from __future__ import annotations

from typing import Any

from archive.store import record_failure, save_article
from crawler.items import Article, FetchFailure


def article_record(article: Article, taxonomy_version: str | None = None) -> dict[str, Any]:
    """The record the archive stores: everything but the raw HTML."""
    record = article.to_dict()
    record.pop("html", None)
    if taxonomy_version:
        record["taxonomy_version"] = taxonomy_version
    return record


class StorePipeline:
    def __init__(self, crawler):  # type: ignore[no-untyped-def]
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler):  # type: ignore[no-untyped-def]
        return cls(crawler)

    def open_spider(self) -> None:
        from archive.store import save_sources, save_taxonomy
        from pipeline.runtime import crawl_context

        ctx = crawl_context(self.crawler)
        save_taxonomy(ctx.db, ctx.taxonomy.event_rows(), ctx.taxonomy.theme_rows(), ctx.taxonomy.version)
        spider = self.crawler.spider
        save_sources(ctx.db, [s.as_dict() for s in getattr(spider, "sources", [])])

    def process_item(self, item):  # type: ignore[no-untyped-def]
        from pipeline.runtime import as_article, crawl_context, stats_inc

        ctx = crawl_context(self.crawler)
        if isinstance(item, FetchFailure):
            record_failure(ctx.db, run_id=ctx.run_id, source_id=item.source_id, url=item.url,
                           stage=item.stage, error=item.error)
            stats_inc(self.crawler, f"failures/{item.stage}")
            return item
        article = as_article(item)
        result = save_article(ctx.db, article_record(article, ctx.taxonomy.version), article.id)
        stats_inc(self.crawler, "store/new" if result.created else "store/updated")
        return article

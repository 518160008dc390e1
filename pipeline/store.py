"""Stage 7: write the article (or the failure) to the archive.

The pure part lives in ``archive.store.save_article``; this adapter only
turns items into records and keeps the counts the run summary reports.
"""

from __future__ import annotations

from typing import Any

from archive.crawlstate import mark_seen
from archive.store import (
    add_alias,
    article_exists,
    demote_to_alias,
    link_story,
    record_failure,
    save_article,
    write_txn,
)
from crawler.items import Article, FetchFailure, PageSkipped
from crawler.urls import canonicalize


def article_record(article: Article, taxonomy_version: str | None = None) -> dict[str, Any]:
    """The record the archive stores: everything but the raw HTML."""
    record = article.to_dict()
    record.pop("html", None)
    if taxonomy_version:
        record["taxonomy_version"] = taxonomy_version
    return record


def _urls(article: Article) -> list[str]:
    """Every URL the article was reached under, in canonical form (the incremental check's key)."""
    return [canonicalize(u) for u in (article.url, article.canonical_url, *article.aliases) if u]


class StorePipeline:
    def __init__(self, crawler):  # type: ignore[no-untyped-def]
        self.crawler = crawler
        self.created: set[str] = set()
        self.waiting: dict[str, list[Article]] = {}  # original id -> copies that arrived before it

    @classmethod
    def from_crawler(cls, crawler):  # type: ignore[no-untyped-def]
        from scrapy import signals

        pipeline = cls(crawler)
        crawler.signals.connect(pipeline.item_error, signal=signals.item_error)
        return pipeline

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
        if isinstance(item, PageSkipped):
            mark_seen(ctx.db, [canonicalize(item.url)], outcome="not_article", source_id=item.source_id,
                      reason=item.reason, run_id=ctx.run_id)
            stats_inc(self.crawler, f"skipped/{item.kind}")
            return item
        if isinstance(item, FetchFailure):
            record_failure(ctx.db, run_id=ctx.run_id, source_id=item.source_id, url=item.url,
                           stage=item.stage, error=item.error)
            stats_inc(self.crawler, f"failures/{item.stage}")
            return item
        article = as_article(item)
        if article.duplicate_of:
            from scrapy.exceptions import DropItem

            reason = "url-variant" if article.duplicate_of == article.id else "near-duplicate"
            if article_exists(ctx.db, article.duplicate_of):
                self._fold(article)
            else:  # its original is still in an earlier stage (translation): folded when it is saved
                self.waiting.setdefault(article.duplicate_of, []).append(article)
            raise DropItem(f"{reason} of article {article.duplicate_of}: {article.url}", log_level="INFO")
        result = save_article(ctx.db, article_record(article, ctx.taxonomy.version), article.id)
        for copy in self.waiting.pop(article.id, []):
            self._fold(copy)
        mark_seen(ctx.db, _urls(article), outcome="article", source_id=article.source_id,
                  article_id=article.id, run_id=ctx.run_id)
        stats_inc(self.crawler, "store/new" if result.created else "store/updated")
        if result.created:
            self.created.add(article.id)
            if article.source_id:
                stats_inc(self.crawler, f"source/{article.source_id}/new")
        if article.story_of and article_exists(ctx.db, article.story_of):
            link_story(ctx.db, article.id, article.story_of, article.story_similarity or 0.0)
            stats_inc(self.crawler, "dedupe/story_link")
        if article.supersedes:
            demote_to_alias(ctx.db, article.supersedes, article.id)
            if article.supersedes in self.created:  # the run's count is of rows, not of saves
                stats_inc(self.crawler, "store/new", -1)
        return article

    def _fold(self, article: Article) -> None:
        """Record a duplicate's URLs as aliases of the archived article it copies."""
        from pipeline.runtime import crawl_context

        ctx = crawl_context(self.crawler)
        target = article.duplicate_of
        assert target is not None
        reason = "url-variant" if target == article.id else "near-duplicate"
        with write_txn(ctx.db):
            for url in dict.fromkeys([article.url, article.canonical_url or article.url, *article.aliases]):
                if reason == "near-duplicate" or url != article.canonical_url:
                    add_alias(ctx.db, url, target, reason, article.outlet)
        own = canonicalize(article.canonical_url or article.url)
        urls = [u for u in _urls(article) if reason == "near-duplicate" or u != own]  # the archived row's own URL stays "article"
        mark_seen(ctx.db, urls, outcome="duplicate", source_id=article.source_id,
                  article_id=target, reason=reason, run_id=ctx.run_id)
        if reason == "near-duplicate":
            # URL variants of this copy were waiting for it to be stored; it never will be.
            for copy in self.waiting.pop(article.id, []):
                copy.duplicate_of = target
                self._fold(copy)

    def close_spider(self) -> None:
        """Copies whose original never reached the archive are failures, retried next run."""
        from pipeline.runtime import crawl_context, stats_inc

        ctx = crawl_context(self.crawler)
        for target, copies in self.waiting.items():
            for article in copies:
                record_failure(ctx.db, run_id=ctx.run_id, source_id=article.source_id, url=article.url,
                               stage="dedupe", error=f"copy of article {target}, which was not archived this run")
                stats_inc(self.crawler, "failures/dedupe")
        self.waiting.clear()

    def item_error(self, item, response, spider, failure):  # type: ignore[no-untyped-def]
        """A stage raised: the article is recorded as a failure, never lost silently."""
        from pipeline.runtime import crawl_context, stats_inc

        url = getattr(item, "url", None) or (response.url if response is not None else "?")
        source_id = getattr(item, "source_id", None)
        error = " ".join(f"{failure.type.__name__}: {failure.getErrorMessage()}".split())[:300]
        if getattr(failure.value, "sqlite_errorname", None):
            error += f" ({failure.value.sqlite_errorname})"
        record_failure(crawl_context(self.crawler).db, run_id=crawl_context(self.crawler).run_id,
                       source_id=source_id, url=url, stage="process", error=error)
        stats_inc(self.crawler, "failures/process")

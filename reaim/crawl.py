"""Running one crawl in-process and turning its stats into a report.

Shared by ``reaim crawl`` and ``reaim demo``. Scrapy's reactor cannot be
restarted, so one process runs at most one crawl; tests run crawls in
subprocesses through the CLI.
"""

from __future__ import annotations

import contextlib
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from archive.crawlstate import previous_links, save_health
from archive.locks import exclusive_lock
from archive.schema import open_db
from archive.store import finish_run, first_row, start_run, summary
from reaim.monitors import check_run

logger = logging.getLogger(__name__)


class CrawlError(RuntimeError):
    """The crawl as a whole could not run (not a failing source: those are reported per source)."""


@dataclass
class SourceReport:
    id: str
    discovery_pages: int = 0
    pages: int = 0
    articles: int = 0
    errors: int = 0
    links: int = 0
    new: int = 0
    skipped_seen: int = 0
    not_modified: int = 0
    failed: bool = False
    reason: str | None = None
    flagged: str | None = None

    def health_row(self, db: Any, run_id: int) -> dict[str, Any]:
        kinds = dict(db.execute(
            "select stage, count(*) from failures where run_id = ? and source_id = ? group by stage", [run_id, self.id]
        ).fetchall())
        status = "failed" if self.failed else "flagged" if self.flagged else (
            "not_modified" if self.not_modified and not self.links else "ok")
        return {"source_id": self.id, "status": status, "discovery_pages": self.discovery_pages, "links": self.links,
                "pages": self.pages, "articles": self.articles, "new": self.new, "errors": self.errors,
                "errors_by_kind": kinds, "reason": self.reason or self.flagged}


@dataclass
class CrawlReport:
    run_id: int
    status: str  # ok, partial, alert, failed
    stats: dict[str, Any]
    sources: list[SourceReport]
    archive: dict[str, Any]
    counts: dict[str, int] = field(default_factory=dict)
    alerts: list[Any] = field(default_factory=list)

    @property
    def exit_code(self) -> int:
        return EXIT_CODES[self.status]


# What cron, systemd and scripts see. 75 is EX_TEMPFAIL: try again later.
EXIT_CODES = {"ok": 0, "failed": 1, "partial": 3, "alert": 4}
EXIT_LOCKED = 75


class CrawlLocked(CrawlError):
    """Another crawl holds the archive's lock."""


def crawl_lock(db_path: str | Path) -> contextlib.AbstractContextManager[None]:
    """One crawl per archive at a time: an exclusive lock on ``<db>.lock`` (archive/locks.py)."""
    return exclusive_lock(f"{db_path}.lock", "crawl", db_path, error=CrawlLocked)


def build_settings(
    *,
    db: str,
    sources: str | None,
    source_ids: list[str] | None,
    site: str | None,
    translator: str | None,
    translator_url: str | None,
    overrides: dict[str, Any] | None = None,
) -> Any:
    from scrapy.settings import Settings

    settings = Settings()
    settings.setmodule("crawler.settings", priority="project")
    settings.set("REAIM_DB", str(db), priority="cmdline")
    if sources:
        settings.set("REAIM_SOURCES", str(sources), priority="cmdline")
    if source_ids:
        settings.set("REAIM_SOURCE_IDS", list(source_ids), priority="cmdline")
    if site:
        settings.set("REAIM_SITE", site, priority="cmdline")
    if translator:
        settings.set("TRANSLATE_PROVIDER", translator, priority="cmdline")
    if translator_url:
        settings.set("TRANSLATE_URL", translator_url, priority="cmdline")
    for key, value in (overrides or {}).items():
        settings.set(key, value, priority="cmdline")
    return settings


def run_crawl(settings: Any, *, command: str) -> CrawlReport:
    """Run the news spider over the configured sources and report per source (under the archive's lock)."""
    with crawl_lock(settings.get("REAIM_DB")):
        return _run_crawl(settings, command=command)


def _run_crawl(settings: Any, *, command: str) -> CrawlReport:
    db = open_db(settings.get("REAIM_DB"))
    run_id = start_run(db, command)
    try:
        return _crawl_and_report(settings, db, run_id)
    except Exception as exc:
        try:  # best effort: the run row must not stay "running" (it may fail again if the disk is full)
            finish_run(db, run_id, "failed", {}, {"error": f"{type(exc).__name__}: {exc}"})
        except Exception:  # noqa: BLE001 - the original error is the one to report
            logger.debug("could not mark run %s failed", run_id, exc_info=True)
        raise


def run_news_spider(settings: Any) -> tuple[Any, Any]:
    """Run the news spider to the end in this process: (crawler, the Failure that kept it from starting, or None)."""
    from scrapy.crawler import CrawlerProcess

    from crawler.spiders.news import NewsSpider

    process = CrawlerProcess(settings)
    crawler = process.create_crawler(NewsSpider)
    startup_errors: list[Any] = []
    process.crawl(crawler).addErrback(startup_errors.append)
    process.start()
    return crawler, (startup_errors[0] if startup_errors else None)


def _crawl_and_report(settings: Any, db: Any, run_id: int) -> CrawlReport:
    from crawler.sources import load_sources

    settings.set("REAIM_RUN_ID", run_id, priority="cmdline")
    # Validate sources before the reactor starts, so a bad file is a one-line error.
    sources = load_sources(
        settings.get("REAIM_SOURCES"), only=settings.getlist("REAIM_SOURCE_IDS") or None, site=settings.get("REAIM_SITE")
    )
    crawler, failure = run_news_spider(settings)
    if failure is not None:
        logger.debug("crawl failed to start:\n%s", failure.getTraceback())
        finish_run(db, run_id, "failed", {}, {"error": failure.getErrorMessage()})
        raise CrawlError(f"the crawl could not start: {failure.type.__name__}: {failure.getErrorMessage()}")
    stats: dict[str, Any] = {k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in (crawler.stats.get_stats() if crawler.stats else {}).items()}

    reports = []
    for source in sources:
        def stat(name: str, sid: str = source.id) -> int:
            return int(stats.get(f"source/{sid}/{name}", 0))

        rep = SourceReport(
            id=source.id, discovery_pages=stat("discovery_pages"), pages=stat("pages"),
            articles=stat("articles"), errors=stat("errors"), links=stat("links"), new=stat("new"),
            skipped_seen=stat("skipped_seen"), not_modified=stat("not_modified"),
        )
        if rep.discovery_pages == 0:
            rep.failed = True
            row = first_row(
                db, "select error from failures where run_id = ? and source_id = ? order by id limit 1",
                [run_id, source.id],
            )
            rep.reason = row[0] if row else "no discovery document could be fetched"
        elif rep.links == 0 and rep.not_modified == 0 and (before := previous_links(db, source.id, run_id)) > 0:
            rep.flagged = f"discovery found no links; it found {before} in a recent run (layout or feed changed?)"
        reports.append(rep)
    save_health(db, run_id, [r.health_row(db, run_id) for r in reports])

    counts = {
        "new": int(stats.get("store/new", 0)),
        "updated": int(stats.get("store/updated", 0)),
        "off_topic": int(stats.get("relevance/off_topic", 0)),
        "url_variants": int(stats.get("dedupe/url_variant", 0)),
        "near_duplicates": int(stats.get("dedupe/near_duplicate", 0)),
        "failed_pages": sum(int(v) for k, v in stats.items() if k.startswith("failures/")),
        "skipped_seen": int(stats.get("incremental/skipped", 0)),
        "not_articles": sum(int(v) for k, v in stats.items() if k.endswith("/not_articles")),
        "translation_pending": int(stats.get("translate/pending", 0)),
        "translation_done": int(stats.get("translate/done", 0)),
        "translation_chars_sent": int(stats.get("translate/chars_sent", 0)),
        "translation_budget_exhausted": int(stats.get("translate/budget_exhausted", 0)),
        "translation_retries": int(stats.get("translate/retries", 0)),
    }
    failed = [r for r in reports if r.failed]
    status = "ok" if not failed else ("failed" if len(failed) == len(reports) else "partial")
    alerts = check_run(reports, stats, settings)
    if alerts and status == "ok":
        status = "alert"
    if stats.get("finish_reason") not in (None, "finished"):
        status = "failed"
    for alert in alerts:
        logger.error("monitor %s failed for %s: %s", alert.check, alert.source_id, alert.message)
    archive_summary = summary(db)
    finish_run(db, run_id, status, stats, {"counts": counts, "archive": archive_summary,
                                            "sources": [r.__dict__ for r in reports],
                                            "alerts": [a.__dict__ for a in alerts]})
    return CrawlReport(run_id, status, stats, reports, archive_summary, counts, alerts)


def format_report(report: CrawlReport, db_path: str | Path) -> str:
    """The summary a user reads after a run: what came in, what was left out, what is pending."""
    a, c = report.archive, report.counts
    lines = [f"Archive: {db_path}  (run {report.run_id}: {report.status})"]
    lines.append(f"Articles in archive: {a['articles']}  (this run: {c['new']} new, {c['updated']} updated)")
    lines.append("By language: " + (", ".join(f"{k} {v}" for k, v in a["by_language"].items()) or "none"))
    lines.append("By summit (primary event): " + (", ".join(f"{k} {v}" for k, v in a["by_primary_event"].items()) or "none"))
    lines.append("By event (tagged): " + (", ".join(f"{k} {v}" for k, v in a["by_event"].items()) or "none"))
    lines.append(f"Off-topic (not archived): {c['off_topic']}")
    lines.append(
        f"Duplicates folded: {c['url_variants'] + c['near_duplicates']} "
        f"({c['url_variants']} URL variants, {c['near_duplicates']} republications)"
    )
    lines.append(f"Not articles (index pages, teasers): {c['not_articles']}")
    lines.append(f"Failed pages: {c['failed_pages']}")
    pending = a["translation"].get("pending", 0)
    lines.append(
        "Translation: " + (", ".join(f"{k} {v}" for k, v in a["translation"].items()) or "none")
        + f"; characters sent this run: {c['translation_chars_sent']}"
        + (f", retries {c['translation_retries']}" if c["translation_retries"] else "")
        + (f", {c['translation_budget_exhausted']} left pending by the character budget"
           if c["translation_budget_exhausted"] else "")
    )
    if pending:
        lines.append(f"  {pending} article(s) archived with translation pending; retry with `reaim translate --pending`.")
    lines.append(f"Already archived, not fetched again: {c['skipped_seen']}")
    for alert in report.alerts:
        lines.append(f"ALERT {alert.check} ({alert.source_id}): {alert.message}")
    for r in report.sources:
        if r.failed:
            lines.append(f"Source {r.id}: FAILED: {r.reason}")
            continue
        line = (f"Source {r.id}: {r.links} links, {r.pages} pages fetched, {r.articles} articles "
                f"({r.new} new), {r.errors} errors")
        if r.not_modified:
            line += ", feed not modified"
        if r.flagged:
            line += f"; FLAGGED: {r.flagged}"
        lines.append(line)
    return "\n".join(lines)

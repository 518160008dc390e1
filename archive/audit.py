"""``reaim audit``: what are we missing?

Asks the discovery services (GDELT DOC, Google News) what they list for the
configured queries over a period, and sorts each listed article by what the
archive knows of it: archived, judged off-topic, not an article, folded as a
duplicate, failed (with the reason; robots.txt refusals named as such),
still pending in the frontier, or never seen. The findings go to the
``audit_findings`` table, so Datasette shows them too.
"""

from __future__ import annotations

import json
import time
import urllib.request
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

import sqlite_utils

from archive.store import first_row, utcnow, write_txn
from crawler.discovery import (
    DiscoveryError,
    gdelt_requests,
    gdelt_split_needed,
    google_news_url,
    parse_gdelt,
    parse_google_news,
    split_request,
)
from crawler.urls import canonicalize

USER_AGENT = "reaim-tracker audit (+https://github.com/reaim-tracker)"


@dataclass
class Listed:
    url: str
    title: str | None
    outlet: str | None
    language: str | None
    source_id: str


@dataclass
class AuditReport:
    audit_id: int
    listed: int = 0
    by_status: Counter[str] = field(default_factory=Counter)
    by_language: dict[str, Counter[str]] = field(default_factory=dict)
    by_outlet: dict[str, Counter[str]] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)


def classify(db: sqlite_utils.Database, url: str) -> tuple[str, str | None]:
    """(status, reason) of one listed URL in the archive."""
    key = canonicalize(url)
    if first_row(db, "select 1 from articles where canonical_url = ?", [key]):
        return "archived", None
    alias = first_row(db, "select reason, article_id from article_aliases where url in (?, ?) limit 1", [url, key])
    if alias:  # a URL variant is the archived article; a republication was folded into another
        return ("archived", None) if alias[0] == "url-variant" else ("duplicate", f"copy of article {alias[1]}")
    seen = first_row(db, "select outcome, reason from seen_urls where url = ?", [key])
    if seen:
        return seen[0], seen[1]
    failure = first_row(db, "select stage, error from failures where url in (?, ?) order by id desc limit 1", [url, key])
    if failure:
        if "robots" in (failure[1] or "").lower():
            return "robots", failure[1]
        return "failed", f"{failure[0]}: {failure[1]}"
    if first_row(db, "select 1 from frontier where url = ? and status = 'pending'", [key]):
        return "pending", "discovered, not yet fetched"
    return "never_seen", None


def _fetch(url: str, timeout: float) -> bytes:
    request = urllib.request.Request(url, headers={"User-Agent": USER_AGENT})
    with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 - http(s) URLs from the sources file
        return response.read()


def listings(
    sources: Iterable[Any], since: date, until: date, *, fetch: Callable[[str], bytes], gdelt_interval: float = 5.0,
    errors: list[str],
) -> Iterable[Listed]:
    """What each discovery-service source lists for the period (GDELT windows split at the cap)."""
    start = datetime(since.year, since.month, since.day)
    end = datetime(until.year, until.month, until.day) + timedelta(days=1)
    last_gdelt = 0.0
    for source in sources:
        x = source.extra
        if source.kind == "gdelt":
            queue = gdelt_requests(x["query"], languages=[source.language], start=start, end=end,
                                   slice_hours=int(x.get("slice_hours", 24)), base_url=source.urls[0])
            while queue:
                url = queue.pop(0)
                wait = gdelt_interval - (time.monotonic() - last_gdelt)
                if wait > 0:
                    time.sleep(wait)  # GDELT: one request every 5 seconds
                last_gdelt = time.monotonic()
                try:
                    records = parse_gdelt(fetch(url))
                except (DiscoveryError, OSError) as exc:
                    errors.append(f"{source.id}: {exc}")
                    continue
                if gdelt_split_needed(records):
                    try:
                        queue[:0] = list(split_request(url))
                        continue
                    except ValueError:
                        errors.append(f"{source.id}: one 15-minute batch over GDELT's cap; some listings not seen")
                for rec in records:
                    yield Listed(rec["url"], rec.get("title"), rec.get("domain"), rec.get("language"), source.id)
        elif source.kind == "google_news":
            url = google_news_url(x["query"], hl=x["hl"], gl=x["gl"], ceid=x["ceid"], after=since - timedelta(days=1),
                                  before=until + timedelta(days=1), base_url=source.urls[0])
            try:
                items = parse_google_news(fetch(url))
            except (DiscoveryError, OSError) as exc:
                errors.append(f"{source.id}: {exc}")
                continue
            for item in items:
                yield Listed(item.get("publisher_url") or item["link"], item.get("title"), item.get("outlet"),
                             source.language, source.id)


def run_audit(
    db: sqlite_utils.Database, sources: Iterable[Any], since: date, until: date, *,
    fetch: Callable[[str], bytes] | None = None, gdelt_interval: float = 5.0, timeout: float = 30.0,
) -> AuditReport:
    services = [s for s in sources if s.kind in ("gdelt", "google_news")]
    with write_txn(db):
        audit_id = int(db["audits"].insert({"started": utcnow(), "since": since.isoformat(),
                                             "until": until.isoformat(), "sources": json.dumps([s.id for s in services])},
                                            pk="id").last_pk)
    report = AuditReport(audit_id)
    rows = []
    seen: set[str] = set()
    for item in listings(services, since, until, fetch=fetch or (lambda u: _fetch(u, timeout)),
                         gdelt_interval=gdelt_interval, errors=report.errors):
        key = canonicalize(item.url)
        if key in seen:
            continue
        seen.add(key)
        status, reason = classify(db, item.url)
        report.listed += 1
        report.by_status[status] += 1
        report.by_language.setdefault(item.language or "und", Counter())[status] += 1
        report.by_outlet.setdefault(item.outlet or "?", Counter())[status] += 1
        rows.append({"audit_id": audit_id, "url": item.url, "title": item.title, "outlet": item.outlet,
                     "language": item.language, "source_id": item.source_id, "status": status, "reason": reason})
    with write_txn(db):
        db["audit_findings"].insert_all(rows, pk=("audit_id", "url"), replace=True)
        db["audits"].update(audit_id, {"ended": utcnow(), "listed": report.listed,
                                       "summary": json.dumps(dict(report.by_status)),
                                       "errors": json.dumps(report.errors, ensure_ascii=False)})
    return report


def format_audit(report: AuditReport) -> str:
    order = ["archived", "off_topic", "not_article", "duplicate", "failed", "robots", "pending", "never_seen"]
    lines = [f"Audit {report.audit_id}: {report.listed} articles listed by the discovery services"]
    lines.append("  " + ", ".join(f"{s} {report.by_status[s]}" for s in order if report.by_status[s]))
    lines.append("By language (archived / listed):")
    for lang, c in sorted(report.by_language.items()):
        lines.append(f"  {lang}: {c['archived']} / {sum(c.values())}")
    missing = sorted(((sum(c.values()) - c["archived"], o) for o, c in report.by_outlet.items()), reverse=True)[:10]
    if any(n for n, _ in missing):
        lines.append("Outlets with the most missing articles:")
        lines += [f"  {o}: {n} missing" for n, o in missing if n]
    for error in report.errors:
        lines.append(f"  discovery error: {error}")
    lines.append("Details: table audit_findings (Datasette), audit_id " + str(report.audit_id))
    return "\n".join(lines)

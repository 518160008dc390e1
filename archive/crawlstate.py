"""Crawl state kept in the archive between runs: seen URLs, feed validators,
source health. Plain functions over the archive connection, so Scrapy
components and the CLI share them and the tests need no crawler."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

import sqlite_utils

from archive.store import first_row, utcnow, write_txn


def is_seen(db: sqlite_utils.Database, url: str) -> bool:
    """True when the canonical ``url`` was already handled (archived, folded or judged off-topic)."""
    return first_row(db, "select 1 from seen_urls where url = ?", [url]) is not None


def mark_seen(
    db: sqlite_utils.Database,
    urls: Iterable[str],
    *,
    outcome: str,
    source_id: str | None,
    article_id: str | None = None,
    reason: str | None = None,
    run_id: int | None = None,
) -> None:
    now = utcnow()
    with write_txn(db):
        for url in dict.fromkeys(u for u in urls if u):
            db.execute(
                "insert into seen_urls (url, source_id, outcome, reason, article_id, first_seen, last_seen, run_id) "
                "values (?, ?, ?, ?, ?, ?, ?, ?) on conflict(url) do update set outcome = excluded.outcome, "
                "reason = excluded.reason, article_id = coalesce(excluded.article_id, article_id), "
                "last_seen = excluded.last_seen, run_id = excluded.run_id",
                [url, source_id, outcome, reason, article_id, now, now, run_id],
            )


def feed_validators(db: sqlite_utils.Database, url: str) -> tuple[str | None, str | None]:
    row = first_row(db, "select etag, last_modified from feed_state where url = ?", [url])
    return (row[0], row[1]) if row else (None, None)


def save_feed_validators(
    db: sqlite_utils.Database, url: str, source_id: str | None, etag: str | None, last_modified: str | None, status: int
) -> None:
    with write_txn(db):
        db.execute(
            "insert into feed_state (url, source_id, etag, last_modified, last_status, checked_at) "
            "values (?, ?, ?, ?, ?, ?) on conflict(url) do update set "
            "etag = coalesce(excluded.etag, etag), last_modified = coalesce(excluded.last_modified, last_modified), "
            "last_status = excluded.last_status, checked_at = excluded.checked_at",
            [url, source_id, etag, last_modified, status, utcnow()],
        )


def previous_links(db: sqlite_utils.Database, source_id: str, run_id: int, last: int = 3) -> int:
    """The most links a source's discovery gave in its last few runs before ``run_id``."""
    row = first_row(
        db,
        "select max(links) from (select links from source_health where source_id = ? and run_id < ? "
        "order by run_id desc limit ?)",
        [source_id, run_id, last],
    )
    return int(row[0] or 0) if row else 0


def save_health(db: sqlite_utils.Database, run_id: int, rows: Iterable[Mapping[str, Any]]) -> None:
    now = utcnow()
    with write_txn(db):
        for r in rows:
            row = {**r, "run_id": run_id, "at": now}
            if isinstance(row.get("errors_by_kind"), dict):
                row["errors_by_kind"] = json.dumps(row["errors_by_kind"], sort_keys=True)
            db["source_health"].upsert(row, pk=("run_id", "source_id"))
            if row.get("status") in ("ok", "not_modified", "flagged"):
                db.execute("update sources set last_success = ? where id = ?", [now, row["source_id"]])


# Requeued this many times without an outcome, a URL is abandoned (and recorded as a failure).
MAX_ATTEMPTS = 3


def frontier_add(
    db: sqlite_utils.Database, url: str, request_url: str, *, source_id: str | None, discovered_via: str | None,
    discovery: Mapping[str, Any] | None, run_id: int | None,
) -> None:
    with write_txn(db):
        db.execute(
            "insert into frontier (url, request_url, source_id, discovered_via, discovery, status, attempts, run_id, "
            "added_at) values (?, ?, ?, ?, ?, 'pending', 0, ?, ?) on conflict(url) do update set "
            "status = case when status = 'done' then 'pending' else status end, run_id = excluded.run_id",
            [url, request_url, source_id, discovered_via, json.dumps(dict(discovery or {}), ensure_ascii=False),
             run_id, utcnow()],
        )


def frontier_settle(db: sqlite_utils.Database) -> None:
    """Entries whose URL now has an outcome are done."""
    with write_txn(db):
        db.execute("update frontier set status = 'done' where status = 'pending' "
                   "and url in (select url from seen_urls)")


def frontier_resume(db: sqlite_utils.Database, run_id: int | None) -> list[dict[str, Any]]:
    """Pending entries left by earlier runs (killed, or pages that failed), to fetch first.

    Each call counts an attempt; past MAX_ATTEMPTS an entry is abandoned and
    recorded in ``failures``, so a page that always fails is not retried forever.
    """
    frontier_settle(db)
    rows = [dict(zip(("url", "request_url", "source_id", "discovered_via", "discovery", "attempts"), r, strict=True))
            for r in db.execute("select url, request_url, source_id, discovered_via, discovery, attempts from frontier "
                                "where status = 'pending' and (run_id is null or run_id != ?)", [run_id]).fetchall()]
    keep = []
    with write_txn(db):
        for row in rows:
            if row["attempts"] >= MAX_ATTEMPTS:
                db.execute("update frontier set status = 'abandoned' where url = ?", [row["url"]])
                db.execute("insert into failures (run_id, source_id, url, stage, error, at) values (?, ?, ?, ?, ?, ?)",
                           [run_id, row["source_id"], row["request_url"], "frontier",
                            f"no outcome after {MAX_ATTEMPTS} attempts; abandoned", utcnow()])
                continue
            db.execute("update frontier set attempts = attempts + 1, run_id = ? where url = ?", [run_id, row["url"]])
            row["discovery"] = json.loads(row["discovery"] or "{}")
            keep.append(row)
    return keep


def alias_seen_variant(db: sqlite_utils.Database, url: str, key: str, outlet: str | None) -> None:
    """Record ``url`` as an alias of the archived article its canonical form ``key`` belongs to."""
    from archive.store import add_alias

    row = first_row(db, "select article_id from seen_urls where url = ? and outcome in ('article', 'duplicate') "
                        "and article_id in (select id from articles)", [key])
    if row and row[0]:
        with write_txn(db):
            add_alias(db, url, row[0], "url-variant", outlet)

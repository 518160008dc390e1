"""Writes and reads of the archive, as plain functions over a sqlite-utils Database.

Every write is idempotent (upserts on natural keys), because a crawl can be
killed between a commit and its acknowledgement and then re-run: the same
article arriving twice must leave one row.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import sqlite_utils

from archive.search_index import index_article, unindex_article
from archive.txn import first_row, write_txn


def utcnow() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _json(value: Any) -> str | None:
    if value is None:
        return None
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


@dataclass(frozen=True)
class SaveResult:
    article_id: str
    created: bool  # False when the row existed and was updated


ARTICLE_COLUMNS = (
    "url canonical_url source_id outlet country title text language language_confidence "
    "language_method published published_raw published_method section image relevance "
    "primary_event title_en text_en translation_status translation_provider translation_error "
    "fingerprint fingerprint_en encoding encoding_method discovered_via fetched_at"
).split()
JSON_COLUMNS = ("authors", "discovery", "provenance", "relevance_evidence", "extra")


def article_row(record: Mapping[str, Any], article_id: str) -> dict[str, Any]:
    """Map an article record (``Article.to_dict()`` or an import line) to an ``articles`` row."""
    row: dict[str, Any] = {"id": article_id}
    for column in ARTICLE_COLUMNS:
        row[column] = record.get(column)
    for column in JSON_COLUMNS:
        row[column] = _json(record.get(column) or None)
    row["relevant"] = None if record.get("relevant") is None else int(bool(record["relevant"]))
    row["mojibake"] = int(bool(record.get("mojibake")))
    published = record.get("published")
    row["published_month"] = published[:7] if published else None
    row["canonical_url"] = record.get("canonical_url") or record.get("url")
    return row


def save_article(db: sqlite_utils.Database, record: Mapping[str, Any], article_id: str) -> SaveResult:
    """Upsert one processed article with its aliases and tags, in one transaction."""
    now = utcnow()
    row = article_row(record, article_id)
    row["updated_at"] = now
    with write_txn(db):
        existing = first_row(db, "select first_seen from articles where id = ?", [article_id])
        row["first_seen"] = existing[0] if existing else now
        db["articles"].upsert(row, pk="id", alter=False)
        aliases = set(record.get("aliases") or [])
        aliases.add(record.get("url") or "")
        aliases.discard(row["canonical_url"])
        aliases.discard("")
        for url in sorted(aliases):
            add_alias(db, url, article_id, "url-variant", record.get("outlet"), now)
        replace_tags(db, article_id, record)
        if isinstance(record.get("endorsements"), list):
            version = record.get("taxonomy_version") or (record.get("extra") or {}).get("taxonomy_version")
            replace_endorsements(db, article_id, record["endorsements"], version=version)
        index_article(db, article_id)
    return SaveResult(article_id, created=existing is None)


def add_alias(
    db: sqlite_utils.Database,
    url: str,
    article_id: str,
    reason: str,
    outlet: str | None = None,
    now: str | None = None,
) -> None:
    """Record another URL under which an article was found; first sighting wins."""
    db.execute(
        "insert into article_aliases (url, article_id, reason, outlet, first_seen) "
        "values (?, ?, ?, ?, ?) on conflict(url) do nothing",
        [url, article_id, reason, outlet, now or utcnow()],
    )


def demote_to_alias(db: sqlite_utils.Database, old_id: str, new_id: str, reason: str = "near-duplicate") -> None:
    """Fold archived article ``old_id`` into ``new_id``, found later to be its original.

    Its URLs become aliases of the original, its tags go; one transaction.
    """
    with write_txn(db):
        row = first_row(db, "select canonical_url, outlet from articles where id = ?", [old_id])
        if row is None:
            return
        db.execute("update article_aliases set article_id = ? where article_id = ?", [new_id, old_id])
        db.execute("update seen_urls set outcome = 'duplicate', reason = 'near-duplicate', article_id = ? "
                   "where article_id = ?", [new_id, old_id])
        add_alias(db, row[0], new_id, reason, row[1])
        db.execute("delete from article_events where article_id = ?", [old_id])
        db.execute("delete from article_themes where article_id = ?", [old_id])
        db.execute("update or ignore story_links set article_id = ? where article_id = ?", [new_id, old_id])
        db.execute("update or ignore story_links set related_id = ? where related_id = ?", [new_id, old_id])
        db.execute("delete from story_links where ? in (article_id, related_id)", [old_id])
        db.execute("delete from articles where id = ?", [old_id])
        unindex_article(db, old_id)


def link_story(db: sqlite_utils.Database, article_id: str, related_id: str, similarity: float,
               basis: str = "english-side") -> None:
    """Record that two articles (in different languages) tell the same story, both ways."""
    with write_txn(db):
        for a, b in ((article_id, related_id), (related_id, article_id)):
            db.execute("insert into story_links (article_id, related_id, similarity, basis, linked_at) "
                       "values (?, ?, ?, ?, ?) on conflict do update set similarity = excluded.similarity",
                       [a, b, similarity, basis, utcnow()])


def replace_tags(db: sqlite_utils.Database, article_id: str, record: Mapping[str, Any]) -> None:
    evidence: Mapping[str, Any] = record.get("evidence") or {}
    version = record.get("taxonomy_version") or (record.get("extra") or {}).get("taxonomy_version")
    db.execute("delete from article_events where article_id = ?", [article_id])
    db.execute("delete from article_themes where article_id = ?", [article_id])
    primary = record.get("primary_event")
    event_rows = [
        {
            "article_id": article_id,
            "event_id": event_id,
            "is_primary": int(event_id == primary),
            "score": (evidence.get(event_id) or {}).get("score"),
            "evidence": _json(evidence.get(event_id)),
            "taxonomy_version": version,
        }
        for event_id in dict.fromkeys(record.get("events") or [])
    ]
    theme_rows = [
        {
            "article_id": article_id,
            "theme_id": theme_id,
            "score": (evidence.get(theme_id) or {}).get("score"),
            "evidence": _json(evidence.get(theme_id)),
            "taxonomy_version": version,
        }
        for theme_id in dict.fromkeys(record.get("themes") or [])
    ]
    if event_rows:
        db["article_events"].insert_all(event_rows, pk=("article_id", "event_id"))
    if theme_rows:
        db["article_themes"].insert_all(theme_rows, pk=("article_id", "theme_id"))


def replace_endorsements(
    db: sqlite_utils.Database,
    article_id: str,
    rows: Iterable[Mapping[str, Any]],
    *,
    version: str | None = None,
) -> None:
    """Replace an article's endorsements with ``rows`` (``Endorsement.as_dict()`` or the same keys:
    state, stance, document, evidence, language; ``taxonomy_version`` defaults to ``version``).
    One row per (state, document): the first wins. Commits nothing: call it inside a transaction."""
    db.execute("delete from endorsements where article_id = ?", [article_id])
    out: dict[tuple[str, str], dict[str, Any]] = {}
    for r in rows:
        key = (str(r["state"]), str(r["document"]))
        if key not in out:
            out[key] = {
                "article_id": article_id,
                "state": key[0],
                "stance": r["stance"],
                "document": key[1],
                "evidence": r.get("evidence"),
                "language": r.get("language"),
                "taxonomy_version": r.get("taxonomy_version") or version,
            }
    if out:
        db["endorsements"].insert_all(out.values(), pk=("article_id", "state", "document"))


def article_exists(db: sqlite_utils.Database, article_id: str) -> bool:
    return db.execute("select 1 from articles where id = ?", [article_id]).fetchall() != []


def lookup_url(db: sqlite_utils.Database, url: str) -> str | None:
    """The article id a URL (canonical or alias) is archived under, if any."""
    row = first_row(
        db,
        "select id from articles where canonical_url = ? "
        "union all select article_id from article_aliases where url = ? limit 1",
        [url, url],
    )
    return row[0] if row else None


def save_taxonomy(
    db: sqlite_utils.Database,
    events: Iterable[Mapping[str, Any]],
    themes: Iterable[Mapping[str, Any]],
    version: str,
) -> None:
    """Write the event and theme tables from the taxonomy data (ids are stable)."""
    with write_txn(db):
        db["events"].upsert_all(
            [
                {
                    "id": e["id"],
                    "label": e["label"],
                    "kind": e.get("kind"),
                    "start_date": e.get("start_date"),
                    "end_date": e.get("end_date"),
                    "place": e.get("place"),
                    "country": e.get("country"),
                    "labels": _json(e.get("labels")),
                    "taxonomy_version": version,
                }
                for e in events
            ],
            pk="id",
        )
        db["themes"].upsert_all(
            [
                {
                    "id": t["id"],
                    "label": t["label"],
                    "labels": _json(t.get("labels")),
                    "taxonomy_version": version,
                }
                for t in themes
            ],
            pk="id",
        )


def save_sources(db: sqlite_utils.Database, sources: Iterable[Mapping[str, Any]]) -> None:
    rows = [
        {
            "id": s["id"],
            "name": s.get("name"),
            "language": s.get("language"),
            "country": s.get("country"),
            "timezone": s.get("timezone"),
            "kind": s.get("kind"),
            "urls": _json(list(s.get("urls") or [])),
            "updates": int(bool(s.get("updates"))),
        }
        for s in sources
    ]
    if rows:
        with write_txn(db):
            db["sources"].upsert_all(rows, pk="id")


def start_run(db: sqlite_utils.Database, command: str) -> int:
    with write_txn(db):
        table = db["crawl_runs"].insert(
            {"command": command, "started": utcnow(), "status": "running"}, pk="id"
        )
    assert table.last_pk is not None
    return int(table.last_pk)


def finish_run(
    db: sqlite_utils.Database, run_id: int, status: str, stats: Mapping[str, Any], summary: Mapping[str, Any]
) -> None:
    with write_txn(db):
        db["crawl_runs"].update(
            run_id,
            {"ended": utcnow(), "status": status, "stats": _json(dict(stats)), "summary": _json(dict(summary))},
        )


def record_failure(
    db: sqlite_utils.Database,
    *,
    run_id: int | None,
    source_id: str | None,
    url: str | None,
    stage: str,
    error: str,
) -> None:
    with write_txn(db):
        db["failures"].insert(
            {
                "run_id": run_id,
                "source_id": source_id,
                "url": url,
                "stage": stage,
                "error": error[:2000],
                "at": utcnow(),
            },
            pk="id",
        )


def cache_get(db: sqlite_utils.Database, key: str) -> str | None:
    row = first_row(db, "select translated from translation_cache where key = ?", [key])
    return row[0] if row else None


def cache_put(
    db: sqlite_utils.Database,
    *,
    key: str,
    provider: str,
    source_lang: str,
    target_lang: str,
    text_sha256: str,
    translated: str,
    chars: int,
) -> None:
    with write_txn(db):
        db["translation_cache"].upsert(
            {
                "key": key,
                "provider": provider,
                "source_lang": source_lang,
                "target_lang": target_lang,
                "text_sha256": text_sha256,
                "translated": translated,
                "chars": chars,
                "created": utcnow(),
            },
            pk="key",
        )


def summary(db: sqlite_utils.Database) -> dict[str, Any]:
    """Counts a user wants after a run: by language, by summit, and what is pending."""

    def pairs(sql: str) -> dict[str, int]:
        return {str(k): int(v) for k, v in db.execute(sql).fetchall()}

    return {
        "articles": db.execute("select count(*) from articles where relevant = 1").fetchall()[0][0],
        "by_language": pairs(
            "select coalesce(language, 'und'), count(*) from articles where relevant = 1 "
            "group by 1 order by 2 desc, 1"
        ),
        "by_event": pairs(
            "select e.event_id, count(*) from article_events e join articles a on a.id = e.article_id "
            "where a.relevant = 1 group by 1 order by 2 desc, 1"
        ),
        "by_primary_event": pairs(
            "select coalesce(primary_event, '(none)'), count(*) from articles where relevant = 1 "
            "group by 1 order by 2 desc, 1"
        ),
        "translation": pairs(
            "select coalesce(translation_status, 'unknown'), count(*) from articles "
            "where relevant = 1 group by 1 order by 1"
        ),
        "off_topic_archived": db.execute(
            "select count(*) from articles where relevant = 0"
        ).fetchall()[0][0],
        "aliases": db.execute("select count(*) from article_aliases").fetchall()[0][0],
    }

"""The archive's schema, declared in one place.

Versioned changes are sqlite-utils ``Migrations`` (each runs once, recorded in
``_sqlite_migrations``); everything that can be re-derived at any time (FTS,
views, indexes) is in :func:`ensure_db_shape`, which is idempotent. Table and
column names here are a public contract: users' SQL, saved Datasette queries
and exports rely on them.
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

import sqlite_utils
from sqlite_utils.migrations import Migrations

from archive.search_index import ensure_search_index
from archive.txn import first_row, write_txn

DEFAULT_DB = "reaim.db"

migrations = Migrations("reaim-archive")


@migrations()
def m001_initial(db: sqlite_utils.Database) -> None:
    db["sources"].create(
        {
            "id": str,
            "name": str,
            "language": str,
            "country": str,
            "timezone": str,
            "kind": str,
            "urls": str,  # JSON list
            "updates": int,
        },
        pk="id",
    )
    db["events"].create(
        {
            "id": str,
            "label": str,
            "kind": str,
            "start_date": str,
            "end_date": str,
            "place": str,
            "country": str,
            "labels": str,  # JSON: language -> label
            "taxonomy_version": str,
        },
        pk="id",
    )
    db["themes"].create(
        {"id": str, "label": str, "labels": str, "taxonomy_version": str},
        pk="id",
    )
    db["articles"].create(
        {
            "id": str,
            "url": str,
            "canonical_url": str,
            "source_id": str,
            "outlet": str,
            "country": str,
            "title": str,
            "text": str,
            "language": str,
            "language_confidence": float,
            "language_method": str,
            "published": str,
            "published_month": str,
            "published_raw": str,
            "published_method": str,
            "authors": str,
            "section": str,
            "image": str,
            "relevant": int,
            "relevance": float,
            "relevance_evidence": str,
            "primary_event": str,
            "title_en": str,
            "text_en": str,
            "translation_status": str,
            "translation_provider": str,
            "translation_error": str,
            "fingerprint": str,
            "encoding": str,
            "encoding_method": str,
            "mojibake": int,
            "discovered_via": str,
            "discovery": str,
            "provenance": str,
            "extra": str,
            "fetched_at": str,
            "first_seen": str,
            "updated_at": str,
        },
        pk="id",
        foreign_keys=[("primary_event", "events", "id"), ("source_id", "sources", "id")],
    )
    db["article_aliases"].create(
        {"url": str, "article_id": str, "reason": str, "outlet": str, "first_seen": str},
        pk="url",
        foreign_keys=[("article_id", "articles", "id")],
    )
    db["article_events"].create(
        {
            "article_id": str,
            "event_id": str,
            "is_primary": int,
            "score": float,
            "evidence": str,
            "taxonomy_version": str,
        },
        pk=("article_id", "event_id"),
        foreign_keys=[("article_id", "articles", "id"), ("event_id", "events", "id")],
    )
    db["article_themes"].create(
        {
            "article_id": str,
            "theme_id": str,
            "score": float,
            "evidence": str,
            "taxonomy_version": str,
        },
        pk=("article_id", "theme_id"),
        foreign_keys=[("article_id", "articles", "id"), ("theme_id", "themes", "id")],
    )
    db["crawl_runs"].create(
        {
            "id": int,
            "command": str,
            "started": str,
            "ended": str,
            "status": str,
            "stats": str,
            "summary": str,
        },
        pk="id",
    )
    db["failures"].create(
        {
            "id": int,
            "run_id": int,
            "source_id": str,
            "url": str,
            "stage": str,
            "error": str,
            "at": str,
        },
        pk="id",
    )
    db["translation_cache"].create(
        {
            "key": str,
            "provider": str,
            "source_lang": str,
            "target_lang": str,
            "text_sha256": str,
            "translated": str,
            "chars": int,
            "created": str,
        },
        pk="key",
    )


@migrations()
def m002_crawl_state(db: sqlite_utils.Database) -> None:
    """What the crawler remembers between runs: URLs already handled (so an
    unchanged page is not fetched again), feed validators (conditional GET)
    and each source's health per run."""
    db["seen_urls"].create(
        {
            "url": str,  # canonical form (crawler/urls.py)
            "source_id": str,
            "outcome": str,  # article, duplicate, off_topic, not_article
            "reason": str,
            "article_id": str,
            "first_seen": str,
            "last_seen": str,
            "run_id": int,
        },
        pk="url",
    )
    db["feed_state"].create(
        {"url": str, "source_id": str, "etag": str, "last_modified": str, "last_status": int, "checked_at": str},
        pk="url",
    )
    db["source_health"].create(
        {
            "run_id": int,
            "source_id": str,
            "status": str,  # ok, failed, not_modified, flagged
            "discovery_pages": int,
            "links": int,
            "pages": int,
            "articles": int,
            "new": int,
            "errors": int,
            "errors_by_kind": str,  # JSON
            "reason": str,
            "at": str,
        },
        pk=("run_id", "source_id"),
    )
    db["sources"].add_column("last_success", str)
    # Article requests discovered but not yet handled: a crawl killed with
    # SIGKILL resumes from here (Scrapy's JOBDIR loses pages after SIGKILL).
    db["frontier"].create(
        {
            "url": str,  # canonical form, the same key as seen_urls
            "request_url": str,
            "source_id": str,
            "discovered_via": str,
            "discovery": str,  # JSON
            "status": str,  # pending, done, abandoned
            "attempts": int,
            "run_id": int,
            "added_at": str,
        },
        pk="url",
    )


@migrations()
def m003_endorsements(db: sqlite_utils.Database) -> None:
    """Which state endorsed (or did not endorse) which outcome document, as an
    article says (pipeline/endorse.py). Rows go with their article: deleting or
    folding the article (``demote_to_alias``) deletes them."""
    db.execute(
        """
        create table endorsements (
            article_id text not null references articles(id) on delete cascade,
            state text not null,              -- ISO 3166-1 alpha-2
            stance text not null check (stance in ('endorsed', 'not_endorsed')),
            document text not null,           -- id of pipeline/taxonomy/documents.yaml
            evidence text,                    -- the sentence that says it
            language text,                    -- of that sentence (en: from the translation)
            taxonomy_version text,
            primary key (article_id, state, document)
        )
        """
    )
    db.execute("create index endorsements_state on endorsements (state)")
    db.execute("create index endorsements_document on endorsements (document)")


@migrations()
def m004_audits(db: sqlite_utils.Database) -> None:
    """``reaim audit``: what the discovery services list that the archive lacks, and why."""
    db["audits"].create(
        {"id": int, "started": str, "ended": str, "since": str, "until": str, "sources": str, "listed": int,
         "summary": str, "errors": str},
        pk="id",
    )
    db["audit_findings"].create(
        {"audit_id": int, "url": str, "title": str, "outlet": str, "language": str, "source_id": str,
         "status": str, "reason": str},
        pk=("audit_id", "url"),
        foreign_keys=[("audit_id", "audits", "id")],
    )


@migrations()
def m005_stories(db: sqlite_utils.Database) -> None:
    """The same story across languages (pipeline/dedupe.py): linked, not folded."""
    db["articles"].add_column("fingerprint_en", str)
    db["story_links"].create(
        {"article_id": str, "related_id": str, "similarity": float, "basis": str, "linked_at": str},
        pk=("article_id", "related_id"),
        foreign_keys=[("article_id", "articles", "id"), ("related_id", "articles", "id")],
    )


FTS_COLUMNS = ["title", "text", "title_en", "text_en"]

VIEWS = {
    # One row per archived article with its tags as JSON arrays, so that
    # Datasette can facet on them with _facet_array.
    "article_list": """
        select
          a.id, a.published, a.published_month, a.language, a.outlet, a.country,
          a.title, a.title_en, a.primary_event,
          (select json_group_array(event_id) from (
              select event_id from article_events e where e.article_id = a.id
              order by e.is_primary desc, e.score desc)) as events,
          (select json_group_array(theme_id) from (
              select theme_id from article_themes t where t.article_id = a.id
              order by t.score desc)) as themes,
          a.translation_status, a.canonical_url as url
        from articles a
        where a.relevant = 1
    """,
}

INDEXES = [
    ("articles", ["published"]),
    ("articles", ["canonical_url"]),  # URL lookups: aliases, audit, incremental checks
    ("articles", ["language"]),
    ("articles", ["primary_event"]),
    ("articles", ["source_id"]),
    ("articles", ["translation_status"]),
    # Column facets of the articles table (metadata.yml): each one an index-only count, not a scan
    # of every row with its texts.
    ("articles", ["outlet"]),
    ("articles", ["country"]),
    ("articles", ["published_month"]),
    ("article_aliases", ["article_id"]),
    ("article_events", ["event_id"]),
    ("article_themes", ["theme_id"]),
    ("failures", ["run_id"]),
    ("seen_urls", ["article_id"]),
    ("frontier", ["status"]),
    ("story_links", ["related_id"]),
    ("source_health", ["source_id"]),
]


# Partial indexes over the relevant articles, which is what the article_list view, its facets,
# its row count and the charts (archive/datasette_plugin.py) read: each of those queries is an
# index-only scan of one of these. ``relevant`` ends every column list although the WHERE
# already fixes it: SQLite 3.40's planner counts a partial index as covering only when the
# index holds every column the query names, so without it the count of article_list scanned
# the table and the charts' joins picked a plain index that reads each row (texts included).
RELEVANT_INDEXES = {
    "idx_articles_relevant_language": ["language", "published"],  # also the export's language filter, in order
    "idx_articles_relevant_outlet": ["outlet", "language"],  # also top_outlets_by_language
    "idx_articles_relevant_country": ["country"],
    "idx_articles_relevant_month": ["published_month", "language"],  # month facet, timeline charts
    "idx_articles_relevant_event": ["primary_event", "language", "id"],  # per-event charts, themes join
    "idx_articles_relevant_published": ["published", "language"],  # weeks around each summit
}

# The tables whose planner statistics (sqlite_stat1) the pages' queries need: without them,
# SQLite 3.40 answers the charts' window join with a throwaway automatic index built from a
# scan of every article. Not the whole file: ANALYZE of a table without an index (the FTS
# shadow tables, several GB at 1M articles) reads every row.
ANALYZED_TABLES = ["articles", "article_events", "article_themes", "events", "themes"]
# No statistics below this many articles: every query is fast there whatever the plan, and
# statistics of a few hundred rows steer the planner to table scans it would not choose at
# scale. ANALYZE again each time articles has grown REANALYZE_GROWTH times over.
ANALYZE_MIN_ROWS = 10_000
REANALYZE_GROWTH = 10


def ensure_indexes(db: sqlite_utils.Database) -> None:
    for table, columns in INDEXES:
        db[table].create_index(columns, if_not_exists=True)
    for name, columns in RELEVANT_INDEXES.items():
        wanted = [*columns, "relevant"]
        found = [row[2] for row in db.execute(f"pragma index_info([{name}])").fetchall()]
        if found and found != wanted:  # an earlier definition under the same name
            db.execute(f"drop index [{name}]")
        db.execute(f"create index if not exists [{name}] on articles "
                   f"({', '.join(f'[{c}]' for c in wanted)}) where relevant = 1")


def statistics_stale(db: sqlite_utils.Database) -> bool:
    """True when articles has ANALYZE_MIN_ROWS rows or more and sqlite_stat1 lacks one of the
    indexes above, or was made when articles had a tenth of the rows it has now. Reads a few
    index pages, never the table (max(rowid) stands for the number of rows)."""
    newest = first_row(db, "select max(rowid) from articles")
    rows = int(newest[0]) if newest and newest[0] else 0
    if rows < ANALYZE_MIN_ROWS:
        return False
    stats: dict[str, str] = {}
    if first_row(db, "select 1 from sqlite_master where name = 'sqlite_stat1'"):
        stats = dict(db.execute("select idx, stat from sqlite_stat1 where tbl = 'articles'").fetchall())
    names = [f"idx_articles_{'_'.join(columns)}" for table, columns in INDEXES if table == "articles"]
    if first_row(db, "select 1 from articles where relevant = 1 limit 1"):  # else the partial ones are empty
        names += list(RELEVANT_INDEXES)
    if any(name not in stats for name in names):
        return True
    analyzed = max(int((stat or "0").split()[0]) for stat in stats.values())
    return rows >= REANALYZE_GROWTH * analyzed


def ensure_statistics(db: sqlite_utils.Database) -> bool:
    """ANALYZE the tables the Datasette pages query, when :func:`statistics_stale`: once the archive
    has ANALYZE_MIN_ROWS articles, then each time it grows tenfold. True when it ran."""
    if not statistics_stale(db):
        return False
    with write_txn(db):
        for table in ANALYZED_TABLES:
            db.execute(f"analyze [{table}]")
    return True


def ensure_db_shape(db: sqlite_utils.Database) -> None:
    """Apply pending migrations, then (re)create FTS, indexes and views, and planner statistics.

    Safe to call on every open: each step checks before it creates.
    """
    migrations.apply(db)
    if not db["articles"].detect_fts():
        db["articles"].enable_fts(FTS_COLUMNS, create_triggers=True)
    ensure_indexes(db)
    ensure_search_index(db)  # owns its own index, idx_articles_updated_at
    for name, sql in VIEWS.items():
        # Stripped: SQLite stores a view's SQL without trailing space, and sqlite-utils replaces the
        # view unless the text matches; a replaced view is a schema change on every open, which
        # makes a running Datasette reload its schema mid-request (HTTP 500 seen under a crawl).
        db.create_view(name, sql.strip(), replace=True)
    ensure_statistics(db)


def default_db_path() -> str:
    """``REAIM_DB`` when set, else ``./reaim.db``: the one rule every command follows."""
    return os.environ.get("REAIM_DB") or DEFAULT_DB


def open_db(path: str | Path, *, create: bool = True) -> sqlite_utils.Database:
    """Open the archive with WAL and a busy timeout, and bring its shape up to date.

    WAL lets Datasette read while a crawl writes; the busy timeout makes a
    second writer wait instead of failing at once.
    """
    path = Path(path)
    if not create and not path.exists():
        raise FileNotFoundError(f"no archive at {path}")
    if path.parent and not path.parent.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
    db = sqlite_utils.Database(path)
    # sqlite-utils finds out whether SQLite has ON CONFLICT (3.24+) by creating and dropping a
    # table on the first upsert of each connection: a schema change, which makes a running
    # Datasette reload its schema and can fail a request (HTTP 500, seen under a crawl). Every
    # SQLite this project runs on has it; say so instead (attribute of sqlite-utils 4.x, pinned).
    db._supports_on_conflict = sqlite3.sqlite_version_info >= (3, 24, 0)  # type: ignore[attr-defined]
    db.execute("PRAGMA busy_timeout = 30000")
    db.enable_wal()
    db.execute("PRAGMA foreign_keys = ON")
    ensure_db_shape(db)
    return db

"""The search index ``articles_search``: keeping it current, and rebuilding it without stopping the archive.

Python-side tokens (:mod:`archive.analysis`) cannot come from an SQL trigger,
so the index is written by the code that writes articles:
:func:`index_article` runs inside ``archive.store.save_article``'s
transaction, and :func:`ensure_search_index` (called on every ``open_db``)
catches up with rows another writer changed behind its back.

Tables:

* ``articles_search`` (FTS5): the tokens of ``title``, ``body``, ``title_en``,
  ``body_en``, plus two filter columns: ``language`` (the code as one token)
  and ``flags`` (``offtopic`` for articles with ``relevant`` != 1). Filtering
  inside the MATCH lets FTS5 answer "Korean, relevant, best 20" from its own
  doclists; a join to ``articles`` per match cost ~15 µs and made broad
  queries grow with the number of matches (docs/archive-scale.md).
* ``articles_search_ids``: entry (the FTS rowid) -> ``article_id`` and the
  ``updated_at`` indexed. Entries are handed out in increasing order, which
  is what FTS5 appends cheapest, and survive ``VACUUM`` (``articles``' own
  rowids may not).
* ``articles_search_meta``: the ``format`` (table layout + kind of analysis)
  and exact ``analyzer`` (with library versions) of the live index, the
  high-water mark ``hwm`` (the largest ``updated_at`` known to be indexed),
  and the progress of a rebuild in flight (``next_*``).

A full rebuild (:func:`rebuild`, ``reaim reindex``) writes a second pair of
tables, ``articles_search_next*``, in batches: each batch is read and
analysed outside any transaction (optionally in worker processes) and
written in a short write transaction of its own, with the cursor saved, so
crawls and ``reaim translate`` keep writing between batches, searches keep
using the old index, and an interrupted rebuild resumes where it stopped.
While it runs, :func:`index_article` writes both pairs. At the end one short
transaction swaps the tables.

``open_db`` never starts a long rebuild by itself: below
:data:`INLINE_REBUILD_MAX` articles it rebuilds in place (seconds); above, it
logs what to run, and a library upgrade (new Snowball stems) keeps the old
index in service until ``reaim reindex`` refreshes it.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import time
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass
from typing import Any

import sqlite_utils

from archive.analysis import DEFAULT_ANALYZER, Analyzer
from archive.locks import Locked, exclusive_lock
from archive.txn import first_row, write_txn

log = logging.getLogger(__name__)

SEARCH_TABLE = "articles_search"
IDS_TABLE = "articles_search_ids"
META_TABLE = "articles_search_meta"
NEXT_SEARCH_TABLE = "articles_search_next"
NEXT_IDS_TABLE = "articles_search_next_ids"
# Bump when the tables' columns change.
LAYOUT_VERSION = "2"
TEXT_COLUMNS = ("title", "body", "title_en", "body_en")
# bm25 weights per column: titles 3, bodies 1, the filter columns nothing.
BM25_WEIGHTS = (3.0, 1.0, 3.0, 1.0, 0.0, 0.0)
OFF_TOPIC = "offtopic"
# Rebuild inside open_db only below this many articles (about 1.2 ms of CPU each: a few seconds).
INLINE_REBUILD_MAX = int(os.environ.get("REAIM_INLINE_REINDEX_MAX", "5000"))
# Articles per write transaction in a rebuild or catch-up.
BATCH_SIZE = 500
# What makes the catch-up on open cost nothing: the rows past the high-water mark are an index range.
UPDATED_AT_INDEX = "idx_articles_updated_at"

Entry = tuple[str, str | None, tuple[str, ...]]  # article_id, updated_at as read, the six column values
Tables = tuple[str, str]  # (fts table, ids table)
LIVE: Tables = (SEARCH_TABLE, IDS_TABLE)
NEXT: Tables = (NEXT_SEARCH_TABLE, NEXT_IDS_TABLE)

_ARTICLE_COLUMNS = "id, updated_at, language, relevant, title, text, title_en, text_en"


class SearchIndexNotReady(RuntimeError):
    """The index was built for another layout or analysis and must be rebuilt before it is searched."""


class RebuildInProgress(Locked):
    """Another process is rebuilding this archive's search index."""


def _rebuild_lock(db: sqlite_utils.Database) -> contextlib.AbstractContextManager[None]:
    """One rebuild per archive file (none needed for an in-memory database)."""
    path = next((row[2] for row in db.execute("pragma database_list").fetchall() if row[1] == "main"), "")
    if not path:
        return contextlib.nullcontext()
    return exclusive_lock(f"{path}.reindex.lock", "search-index rebuild", path, error=RebuildInProgress)


def index_format(analyzer: Analyzer) -> str:
    return f"layout{LAYOUT_VERSION};{analyzer.kind}"


def language_token(language: str | None) -> str:
    """The ``language`` column's single token for a code (zh-TW -> zhtw; none -> und)."""
    return re.sub(r"[^0-9a-z]", "", (language or "").lower()) or "und"


def analyse(analyzer: Analyzer, row: Sequence[Any]) -> Entry:
    """One ``articles`` row (``_ARTICLE_COLUMNS``) -> the index entry's column values."""
    article_id, updated_at, language, relevant, title, text, title_en, text_en = row
    return (article_id, updated_at, (
        analyzer.index_text(title, language), analyzer.index_text(text, language),
        analyzer.index_text(title_en, "en"), analyzer.index_text(text_en, "en"),
        language_token(language), "" if relevant == 1 else OFF_TOPIC,
    ))


_worker_analyzers: dict[tuple[str, bool], Analyzer] = {}


def _analyse_in_worker(config: tuple[str, bool], rows: list[tuple[Any, ...]]) -> list[Entry]:
    analyzer = _worker_analyzers.get(config)
    if analyzer is None:
        analyzer = _worker_analyzers[config] = Analyzer(korean=config[0], stem=config[1])
    return [analyse(analyzer, row) for row in rows]


# -- tables and meta -----------------------------------------------------------


def _create(db: sqlite_utils.Database, tables: Tables) -> None:
    fts, ids = tables
    db.execute(
        f"create virtual table if not exists {fts} using fts5("
        f"{', '.join(TEXT_COLUMNS)}, language, flags, tokenize = 'unicode61 remove_diacritics 0')"
    )
    db.execute(f"create table if not exists {ids} (entry integer primary key, article_id text not null unique, "
               "updated_at text)")
    # A deleted article leaves the index whoever deletes it, in SQL, without a scan for orphans on open.
    db.execute(
        f"create trigger if not exists {fts}_forget after delete on articles begin "
        f"delete from {fts} where rowid = (select entry from {ids} where article_id = old.id); "
        f"delete from {ids} where article_id = old.id; end"
    )


def _drop(db: sqlite_utils.Database, tables: Tables) -> None:
    db.execute(f"drop trigger if exists {tables[0]}_forget")
    for table in tables:
        db.execute(f"drop table if exists {table}")


def _meta(db: sqlite_utils.Database) -> dict[str, str]:
    if not _exists(db, META_TABLE):
        return {}
    return {k: v for k, v in db.execute(f"select key, value from {META_TABLE}").fetchall()}


def _set_meta(db: sqlite_utils.Database, **values: str | None) -> None:
    for key, value in values.items():
        if value is None:
            db.execute(f"delete from {META_TABLE} where key = ?", [key])
        else:
            db.execute(f"insert or replace into {META_TABLE} (key, value) values (?, ?)", [key, value])


def _exists(db: sqlite_utils.Database, table: str) -> bool:
    return first_row(db, "select 1 from sqlite_master where name = ?", [table]) is not None


def _live_ready(meta: dict[str, str], analyzer: Analyzer) -> bool:
    return meta.get("format") == index_format(analyzer)


def _building(meta: dict[str, str], analyzer: Analyzer) -> bool:
    return meta.get("next_format") == index_format(analyzer)


def _targets(db: sqlite_utils.Database, analyzer: Analyzer) -> list[Tables]:
    """The table pairs an article write must reach: the live index if it has this format, a rebuild in flight."""
    meta = _meta(db)
    out = [LIVE] if _live_ready(meta, analyzer) else []
    if _building(meta, analyzer):
        out.append(NEXT)
    return out


def _max_updated_at(db: sqlite_utils.Database) -> str:
    row = first_row(db, "select max(updated_at) from articles")
    return (row[0] if row else None) or ""


# -- writing entries -----------------------------------------------------------


def _upsert(db: sqlite_utils.Database, tables: Tables, entry: Entry) -> None:
    fts, ids = tables
    article_id, updated_at, columns = entry
    row = first_row(db, f"select entry from {ids} where article_id = ?", [article_id])
    if row:
        key = row[0]
        db.execute(f"delete from {fts} where rowid = ?", [key])
        db.execute(f"update {ids} set updated_at = ? where entry = ?", [updated_at, key])
    else:
        key = db.execute(f"insert into {ids} (article_id, updated_at) values (?, ?)", [article_id, updated_at]).lastrowid
    db.execute(f"insert into {fts} (rowid, {', '.join(TEXT_COLUMNS)}, language, flags) values (?, ?, ?, ?, ?, ?, ?)",
               [key, *columns])


def _remove(db: sqlite_utils.Database, tables: Tables, article_id: str) -> None:
    fts, ids = tables
    row = first_row(db, f"select entry from {ids} where article_id = ?", [article_id])
    if row:
        db.execute(f"delete from {fts} where rowid = ?", [row[0]])
        db.execute(f"delete from {ids} where entry = ?", [row[0]])


def _write_current(db: sqlite_utils.Database, targets: Sequence[Tables], entries: Iterable[Entry]) -> int:
    """Write entries whose article still has the ``updated_at`` they were analysed from; inside a transaction.

    A row changed since it was read was (or will be) indexed by its writer or
    the next catch-up; writing the older analysis would undo that.
    """
    n = 0
    for entry in entries:
        current = first_row(db, "select updated_at from articles where id = ?", [entry[0]])
        if current is None or current[0] != entry[1]:
            continue
        for tables in targets:
            _upsert(db, tables, entry)
        n += 1
    return n


def index_article(db: sqlite_utils.Database, article_id: str, *, analyzer: Analyzer | None = None) -> None:
    """(Re)index one article from its ``articles`` row, or drop it when the row is gone.

    Commits nothing: call it inside the transaction that wrote the row.
    """
    analyzer = analyzer or DEFAULT_ANALYZER
    targets = _targets(db, analyzer)
    if targets:
        _index_one(db, targets, analyzer, article_id)


def _index_one(db: sqlite_utils.Database, targets: Sequence[Tables], analyzer: Analyzer, article_id: str) -> bool:
    """Write one article's current row to ``targets`` (or drop it there); True when the row exists."""
    row = first_row(db, f"select {_ARTICLE_COLUMNS} from articles where id = ?", [article_id])
    for tables in targets:
        if row is None:
            _remove(db, tables, article_id)
        else:
            _upsert(db, tables, analyse(analyzer, row))
    return row is not None


def unindex_article(db: sqlite_utils.Database, article_id: str, *, analyzer: Analyzer | None = None) -> None:
    """Drop an article from the index (it was deleted or folded into another). Commits nothing."""
    for tables in _targets(db, analyzer or DEFAULT_ANALYZER):
        _remove(db, tables, article_id)


def reindex(db: sqlite_utils.Database, ids: Iterable[str] | None = None, *,
            analyzer: Analyzer | None = None, **rebuild_options: Any) -> int:
    """Rebuild the whole index (``ids=None``, see :func:`rebuild`) or reindex the given articles.

    Returns the number of articles indexed.
    """
    analyzer = analyzer or DEFAULT_ANALYZER
    if ids is None:
        return rebuild(db, analyzer=analyzer, **rebuild_options).indexed
    wanted = list(dict.fromkeys(ids))
    n = 0
    for start in range(0, len(wanted), BATCH_SIZE):
        chunk = wanted[start:start + BATCH_SIZE]
        with write_txn(db):
            targets = _targets(db, analyzer)
            if targets:
                n += sum(_index_one(db, targets, analyzer, article_id) for article_id in chunk)
    return n


# -- the full rebuild ----------------------------------------------------------


@dataclass
class RebuildReport:
    indexed: int = 0
    batches: int = 0
    resumed_at: int = 0  # articles rowid the rebuild resumed after (0: started afresh)
    finished: bool = False
    max_write_s: float = 0.0  # the longest write transaction: how long other writers could have waited
    orphans: int = 0
    seconds: float = 0.0  # wall time of this call


def _default_workers(articles: int) -> int:
    return 1 if articles < 20_000 else max(1, min(4, os.cpu_count() or 1))


def rebuild(db: sqlite_utils.Database, *, analyzer: Analyzer | None = None, batch_size: int = BATCH_SIZE,
            workers: int | None = None, max_batches: int | None = None,
            progress: Callable[[int, int], None] | None = None) -> RebuildReport:
    """Build a fresh index beside the live one, batch by batch, then swap it in.

    Resumes a rebuild that was interrupted with the same analysis. ``workers``
    > 1 analyses batches in that many processes while this one writes.
    ``max_batches`` stops early (the next call resumes), for tests and
    maintenance windows. ``progress(done, total)`` is called after each batch.
    Raises :class:`RebuildInProgress` when another process is rebuilding.
    """
    started = time.perf_counter()
    with _rebuild_lock(db):
        report = _rebuild(db, analyzer or DEFAULT_ANALYZER, batch_size, workers, max_batches, progress)
    report.seconds = time.perf_counter() - started
    return report


def _rebuild(db: sqlite_utils.Database, analyzer: Analyzer, batch_size: int, workers: int | None,
             max_batches: int | None, progress: Callable[[int, int], None] | None) -> RebuildReport:
    report = RebuildReport()
    with write_txn(db):
        db.execute(f"create table if not exists {META_TABLE} (key text primary key, value text)")
        meta = _meta(db)
        if meta.get("next_analyzer") == analyzer.id and _building(meta, analyzer) and _exists(db, NEXT_SEARCH_TABLE):
            report.resumed_at = int(meta.get("next_cursor") or 0)
        else:
            _drop(db, NEXT)
            _create(db, NEXT)
            # Rows changed after this mark are looked at again after the swap.
            _set_meta(db, next_format=index_format(analyzer), next_analyzer=analyzer.id, next_cursor="0",
                      next_hwm=_max_updated_at(db))
    cursor = report.resumed_at
    total = first_row(db, "select count(*) from articles")[0]
    done = first_row(db, "select count(*) from articles where rowid <= ?", [cursor])[0] if cursor else 0
    workers = workers or _default_workers(total)
    pool = ProcessPoolExecutor(workers) if workers > 1 else None
    pending: deque[tuple[int, Future[list[Entry]] | list[Entry], int]] = deque()

    def read_next() -> bool:
        nonlocal cursor
        rows = db.execute(f"select rowid, {_ARTICLE_COLUMNS} from articles where rowid > ? order by rowid limit ?",
                          [cursor, batch_size]).fetchall()
        if not rows:
            return False
        cursor = rows[-1][0]
        body = [tuple(r[1:]) for r in rows]
        work = (pool.submit(_analyse_in_worker, (analyzer.korean, analyzer.stem), body) if pool
                else [analyse(analyzer, r) for r in body])
        pending.append((cursor, work, len(rows)))
        return True

    try:
        more = True
        while True:
            while more and len(pending) < (2 * workers if pool else 1):
                more = read_next()
            if not pending:
                break
            batch_cursor, work, size = pending.popleft()
            entries = work.result() if isinstance(work, Future) else work
            started = time.perf_counter()
            with write_txn(db):
                report.indexed += _write_current(db, [NEXT], entries)
                _set_meta(db, next_cursor=str(batch_cursor))
            report.max_write_s = max(report.max_write_s, time.perf_counter() - started)
            report.batches += 1
            done += size
            if progress:
                progress(done, total)
            if max_batches is not None and report.batches >= max_batches:
                return report
    finally:
        if pool:
            pool.shutdown(cancel_futures=True)
    report.orphans = _swap(db, analyzer, report)
    report.finished = True
    catch_up(db, analyzer=analyzer)
    return report


def _swap(db: sqlite_utils.Database, analyzer: Analyzer, report: RebuildReport) -> int:
    started = time.perf_counter()
    with write_txn(db):
        orphans = [r[0] for r in db.execute(
            f"select article_id from {NEXT_IDS_TABLE} where article_id not in (select id from articles)").fetchall()]
        for article_id in orphans:  # deleted before the rebuild's trigger existed
            _remove(db, NEXT, article_id)
        hwm = _meta(db).get("next_hwm") or ""
        _drop(db, LIVE)
        db.execute(f"drop trigger if exists {NEXT_SEARCH_TABLE}_forget")
        db.execute(f"alter table {NEXT_SEARCH_TABLE} rename to {SEARCH_TABLE}")
        db.execute(f"alter table {NEXT_IDS_TABLE} rename to {IDS_TABLE}")
        _create(db, LIVE)  # the live trigger
        _set_meta(db, format=index_format(analyzer), analyzer=analyzer.id, hwm=hwm,
                  next_format=None, next_analyzer=None, next_cursor=None, next_hwm=None)
    report.max_write_s = max(report.max_write_s, time.perf_counter() - started)
    return len(orphans)


# -- keeping it current --------------------------------------------------------


def catch_up(db: sqlite_utils.Database, *, analyzer: Analyzer | None = None) -> int:
    """Index the articles written since the high-water mark that the index does not have as they are now.

    Looks only at rows with ``updated_at`` >= the mark (an index range), so
    it costs nothing when nothing changed, whatever the archive's size.
    Deleted articles are dropped by their writers (``unindex_article``) and
    by :func:`rebuild`.
    """
    analyzer = analyzer or DEFAULT_ANALYZER
    meta = _meta(db)
    if not _live_ready(meta, analyzer):
        return 0
    mark = _max_updated_at(db)
    # INDEXED BY: with many rows sharing one updated_at (a bulk import), the planner's statistics
    # make a full scan of articles look cheaper than the range; at 1M articles that scan reads GBs.
    newer = (f"select a.id from articles a indexed by {UPDATED_AT_INDEX} left join {IDS_TABLE} s "
             "on s.article_id = a.id where a.updated_at {} and (s.article_id is null or s.updated_at is not a.updated_at)")
    stale = db.execute(newer.format(">= :hwm") + " union all " + newer.format("is null"),
                       {"hwm": meta.get("hwm") or ""}).fetchall()
    n = reindex(db, [r[0] for r in stale], analyzer=analyzer) if stale else 0
    if mark != meta.get("hwm"):
        with write_txn(db):
            _set_meta(db, hwm=mark)
    return n


def _ensure_updated_at_index(db: sqlite_utils.Database) -> None:
    if not _exists(db, UPDATED_AT_INDEX):
        with write_txn(db):
            db.execute(f"create index if not exists {UPDATED_AT_INDEX} on articles (updated_at)")


def _article_count(db: sqlite_utils.Database) -> int:
    return first_row(db, "select count(*) from articles")[0]


def ensure_search_index(db: sqlite_utils.Database, *, analyzer: Analyzer | None = None,
                        inline_max: int | None = None) -> None:
    """Create the index on a new archive and keep it current; called by ``open_db``.

    Never starts a long rebuild: an index of another format (or an
    interrupted rebuild) is rebuilt here only when the archive has at most
    ``inline_max`` articles; otherwise a warning says to run ``reaim
    reindex``, and searches fail with :class:`SearchIndexNotReady` until then.
    """
    analyzer = analyzer or DEFAULT_ANALYZER
    inline_max = INLINE_REBUILD_MAX if inline_max is None else inline_max
    if not _exists(db, "articles"):
        return
    _ensure_updated_at_index(db)
    meta = _meta(db)
    if not meta and not _exists(db, SEARCH_TABLE):
        with write_txn(db):  # a new archive (or one from before search): an empty index, filled by catch_up
            db.execute(f"create table if not exists {META_TABLE} (key text primary key, value text)")
            _create(db, LIVE)
            _set_meta(db, format=index_format(analyzer), analyzer=analyzer.id, hwm="")
        meta = _meta(db)
    ready = _live_ready(meta, analyzer)
    # Another layout, an interrupted rebuild, other library versions: rebuilt here only when small.
    outdated = not ready or bool(meta.get("next_format")) or meta.get("analyzer") != analyzer.id
    if outdated and _article_count(db) <= inline_max and _rebuild_unless_running(db, analyzer):
        return
    if not ready:
        log.warning("the search index was built for %s, this version searches with %s: searches fail until "
                    "`reaim reindex` rebuilds it (crawls and other writes go on meanwhile)",
                    meta.get("format") or meta.get("analyzer") or "an older layout", index_format(analyzer))
        return
    if meta.get("analyzer") != analyzer.id:
        log.info("the search index was built with %s; this installation has %s. It stays in service; "
                 "`reaim reindex` refreshes it.", meta.get("analyzer"), analyzer.id)
    catch_up(db, analyzer=analyzer)


def _rebuild_unless_running(db: sqlite_utils.Database, analyzer: Analyzer) -> bool:
    """Rebuild now; False when another process is at it (its rebuild will swap in, our writes reach it)."""
    try:
        rebuild(db, analyzer=analyzer)
        return True
    except RebuildInProgress as exc:
        log.info("%s", exc)
        return False


def index_status(db: sqlite_utils.Database, *, analyzer: Analyzer | None = None) -> dict[str, Any]:
    """What ``reaim reindex --status`` prints: the live index, a rebuild in flight, what is behind."""
    analyzer = analyzer or DEFAULT_ANALYZER
    meta = _meta(db)
    status: dict[str, Any] = {
        "ready": _live_ready(meta, analyzer), "format": meta.get("format"), "analyzer": meta.get("analyzer"),
        "current_analyzer": analyzer.id, "high_water_mark": meta.get("hwm"),
        "articles": _article_count(db) if _exists(db, "articles") else 0,
        "indexed": first_row(db, f"select count(*) from {IDS_TABLE}")[0] if _exists(db, IDS_TABLE) else 0,
    }
    if meta.get("next_format"):
        cursor = int(meta.get("next_cursor") or 0)
        status["rebuild"] = {"analyzer": meta.get("next_analyzer"), "cursor": cursor,
                             "done": first_row(db, "select count(*) from articles where rowid <= ?", [cursor])[0]}
    return status


def require_ready(db: sqlite_utils.Database, analyzer: Analyzer) -> None:
    meta = _meta(db)
    if not _live_ready(meta, analyzer):
        raise SearchIndexNotReady(
            "the search index was built by another version of reaim-tracker "
            f"({meta.get('format') or meta.get('analyzer') or 'none'}); run `reaim reindex` to rebuild it"
        )

"""The search index's upkeep at scale (issue 6): batched, resumable rebuilds that never stop other writers,
no silent rebuild on open, a catch-up that looks only at what changed."""

from __future__ import annotations

import logging
import re
import sqlite3
import threading
import time
from pathlib import Path
from typing import Any

import pytest
import sqlite_utils
from click.testing import CliRunner

import archive.search_index as search_index
from archive.schema import open_db
from archive.search import SearchIndexNotReady, search
from archive.search_index import (
    IDS_TABLE,
    META_TABLE,
    NEXT_SEARCH_TABLE,
    SEARCH_TABLE,
    ensure_search_index,
    index_status,
    rebuild,
)
from archive.store import save_article
from reaim.cli import cli

WORDS = ["summit", "cumbre", "Gipfel", "top", "sommet", "саммит"]
SUMMIT = sum(1 for n in range(240) if n % 6 == 0 and n % 10)  # relevant articles saying "summit"


def record(n: int, word: str = "") -> dict[str, Any]:
    language = ["en", "es", "de", "nl", "fr", "ru", "ko"][n % 7]
    text = f"Article number {n} on military AI. {WORDS[n % len(WORDS)]} {word} 군사 인공지능 회의에서 논의"
    return {"url": f"https://example.org/{n}", "canonical_url": f"https://example.org/{n}", "outlet": "Test",
            "language": language, "title": f"Headline {n} {word}", "text": text, "relevant": n % 10 != 0,
            "published": f"2024-09-{1 + n % 28:02d}T00:00:00+00:00", "primary_event": None,
            "events": [], "themes": []}


@pytest.fixture
def archive(tmp_path: Path) -> Path:
    path = tmp_path / "archive.db"
    db = open_db(path)
    with db.conn:
        pass
    for n in range(240):
        save_article(db, record(n), f"a{n}")
    db.conn.close()
    return path


def entries(db: sqlite_utils.Database) -> dict[str, tuple[Any, ...]]:
    return {r[0]: tuple(r[1:]) for r in db.execute(
        f"select i.article_id, s.title, s.body, s.title_en, s.body_en, s.language, s.flags "
        f"from {IDS_TABLE} i join {SEARCH_TABLE} s on s.rowid = i.entry").fetchall()}


def test_rebuild_writes_in_short_transactions_while_another_process_writes(archive: Path) -> None:
    db = open_db(archive)
    before = entries(db)
    started, errors, saved = threading.Event(), [], []

    def other_writer() -> None:  # a crawl saving articles while the rebuild runs, on its own connection
        other = open_db(archive)
        other.execute("PRAGMA busy_timeout = 5000")
        started.wait(10)
        for n in range(1000, 1015):
            try:
                save_article(other, record(n, "zebrafinch"), f"new{n}")
                saved.append(n)
            except sqlite3.OperationalError as exc:
                errors.append(str(exc))
            time.sleep(0.01)
        other.conn.close()

    thread = threading.Thread(target=other_writer)
    thread.start()

    def progress(done: int, total: int) -> None:
        started.set()
        time.sleep(0.02)

    report = rebuild(db, batch_size=10, progress=progress)
    thread.join(30)
    assert errors == [] and len(saved) == 15
    assert report.finished and report.batches >= 24
    assert report.max_write_s < 2.0
    after = entries(db)
    assert len(after) == db["articles"].count == 255
    assert {k: after[k] for k in before} == before  # the same analysis, rebuilt
    assert len(search(db, "zebrafinch", limit=50)) == sum(1 for n in saved if n % 10)  # off-topic left out
    assert not db[NEXT_SEARCH_TABLE].exists()


def test_an_interrupted_rebuild_resumes_and_the_old_index_serves_meanwhile(
        archive: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(search_index, "INLINE_REBUILD_MAX", 100)  # 240 articles count as large here
    db = open_db(archive)
    first = rebuild(db, batch_size=50, max_batches=2)
    assert not first.finished and first.indexed == 100
    status = index_status(db)
    assert status["ready"] and status["rebuild"]["done"] == 100
    assert len(search(db, "summit", limit=100)) == SUMMIT  # the live index answers during the rebuild
    save_article(db, record(5001, "latecomer"), "late")  # written to both the live and the new index
    assert [h["id"] for h in search(db, "latecomer")] == ["late"]
    db.conn.close()

    db = open_db(archive)  # a new process: open_db does not restart or finish a large rebuild by itself...
    assert index_status(db)["rebuild"]["done"] == 100
    second = rebuild(db, batch_size=50)
    assert second.finished and second.resumed_at > 0
    assert second.indexed == 241 - 100
    assert len(entries(db)) == 241
    assert [h["id"] for h in search(db, "latecomer")] == ["late"]
    assert "rebuild" not in index_status(db)


def test_an_index_of_another_layout_on_a_large_archive_is_not_rebuilt_on_open(
        archive: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    monkeypatch.setattr(search_index, "INLINE_REBUILD_MAX", 100)  # 240 articles count as large here
    db = sqlite_utils.Database(archive)
    with db.conn:
        db.execute(f"update {META_TABLE} set value = 'layout1;v1;ko=bigram;stem=snowball' where key = 'format'")
    db.conn.close()
    with caplog.at_level(logging.WARNING, logger="archive.search_index"):
        db = open_db(archive)
    assert "reaim reindex" in caplog.text
    assert not db[NEXT_SEARCH_TABLE].exists()  # nothing started
    with pytest.raises(SearchIndexNotReady, match="reaim reindex"):
        search(db, "summit")
    save_article(db, record(7001, "meanwhile"), "meanwhile")  # writes go on
    db.conn.close()

    runner = CliRunner()
    result = runner.invoke(cli, ["search", "summit", "--db", str(archive)])
    assert result.exit_code == 1 and "reaim reindex" in result.output
    result = runner.invoke(cli, ["reindex", "--db", str(archive), "--batch-size", "100"])
    assert result.exit_code == 0, result.output
    assert "swapped in: 241 articles indexed in 3 batches" in result.output
    result = runner.invoke(cli, ["search", "meanwhile", "--db", str(archive), "--json"])
    assert result.exit_code == 0 and '"https://example.org/7001"' in result.output


def test_a_library_upgrade_keeps_a_large_index_in_service(
        archive: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    monkeypatch.setattr(search_index, "INLINE_REBUILD_MAX", 100)
    db = sqlite_utils.Database(archive)
    with db.conn:
        db.execute(f"update {META_TABLE} set value = 'v1;ko=bigram;stem=snowball-0.0.1' where key = 'analyzer'")
    entries_before = db.execute(f"select entry, article_id from {IDS_TABLE} order by entry").fetchall()
    db.conn.close()
    with caplog.at_level(logging.INFO, logger="archive.search_index"):
        db = open_db(archive)
    assert "snowball-0.0.1" in caplog.text and "stays in service" in caplog.text
    assert db.execute(f"select entry, article_id from {IDS_TABLE} order by entry").fetchall() == entries_before
    assert len(search(db, "summit", limit=100)) == SUMMIT
    assert rebuild(db).finished
    assert index_status(db)["analyzer"] == index_status(db)["current_analyzer"]


def test_worker_processes_build_the_same_index(archive: Path) -> None:
    db = open_db(archive)
    rebuild(db, batch_size=30, workers=1)
    one = entries(db)
    report = rebuild(db, batch_size=30, workers=2)
    assert report.finished and report.indexed == 240
    assert entries(db) == one


def test_open_looks_only_at_rows_past_the_high_water_mark(archive: Path) -> None:
    db = open_db(archive)
    statements: list[str] = []
    db.conn.set_trace_callback(statements.append)
    ensure_search_index(db)
    db.conn.set_trace_callback(None)
    plans = [" ".join(r[3] for r in db.execute("explain query plan " + sql).fetchall())
             for sql in statements if "from articles" in sql and "sqlite_master" not in sql]
    assert plans and not any(re.search(r"\bSCAN (a|articles)\b(?!_)", p) for p in plans), plans
    assert any("idx_articles_updated_at" in p for p in plans)
    # A row changed behind the index's back with a newer updated_at is picked up; the mark moves on.
    with db.conn:
        db.execute("update articles set title_en = 'Quokka summit', updated_at = '2099-01-01' where id = 'a1'")
    ensure_search_index(db)
    assert [h["id"] for h in search(db, "quokka")] == ["a1"]
    assert db.execute(f"select value from {META_TABLE} where key = 'hwm'").fetchone()[0] == "2099-01-01"
    # Deleted behind its back: the trigger drops the entry.
    with db.conn:
        db.execute("delete from articles where id = 'a1'")
    assert search(db, "quokka") == []
    assert db.execute(f"select count(*) from {IDS_TABLE}").fetchone()[0] == db["articles"].count


def test_an_archive_indexed_by_the_previous_layout_is_rebuilt_on_open_when_small(archive: Path) -> None:
    # The first release's layout: article id and updated_at as unindexed columns, a SHA-1 rowid, no ids table.
    db = sqlite_utils.Database(archive)
    with db.conn:
        for name in ("articles_search_forget",):
            db.execute(f"drop trigger {name}")
        db.execute(f"drop table {SEARCH_TABLE}")
        db.execute(f"drop table {IDS_TABLE}")
        db.execute(f"create virtual table {SEARCH_TABLE} using fts5(article_id unindexed, updated_at unindexed, "
                   "title, body, title_en, body_en, tokenize = 'unicode61 remove_diacritics 0')")
        db.execute(f"insert into {SEARCH_TABLE} (rowid, article_id, title) values (12345, 'a1', 'stale')")
        db.execute(f"delete from {META_TABLE}")
        db.execute(f"insert into {META_TABLE} values ('analyzer', 'v1;ko=bigram;stem=snowball-3.1.1')")
    db.conn.close()
    db = open_db(archive)
    assert index_status(db)["ready"] and index_status(db)["indexed"] == 240
    assert len(search(db, "summit", limit=100)) == SUMMIT
    assert search(db, "stale") == []


def test_a_second_reindex_waits_for_the_first(archive: Path) -> None:
    from archive.locks import exclusive_lock
    from reaim.crawl import EXIT_LOCKED, crawl_lock

    runner = CliRunner()
    with exclusive_lock(f"{archive}.reindex.lock", "search-index rebuild", archive):  # as rebuild() takes it
        result = runner.invoke(cli, ["reindex", "--db", str(archive)])
        assert result.exit_code == EXIT_LOCKED
        assert "another search-index rebuild is running" in result.output
        with crawl_lock(archive):  # a crawl's lock is another one: crawls go on during a rebuild
            pass
    result = runner.invoke(cli, ["reindex", "--db", str(archive)])
    assert result.exit_code == 0 and "swapped in: 240 articles" in result.output


def test_opening_and_writing_change_no_schema(archive: Path) -> None:
    # Any schema change makes a running Datasette reload its schema mid-request, and that reload
    # can fail (HTTP 500 in tests/faults/test_faults_processes.py). Opening the archive and saving
    # articles must leave sqlite_master alone once the archive exists.
    def version() -> int:
        conn = sqlite3.connect(archive)
        try:
            return int(conn.execute("pragma schema_version").fetchone()[0])
        finally:
            conn.close()

    open_db(archive).conn.close()  # the first open after an upgrade may still bring the shape up to date
    before = version()
    db = open_db(archive)
    save_article(db, record(9001, "unchanged"), "unchanged")
    db.conn.close()
    open_db(archive).conn.close()
    assert version() == before

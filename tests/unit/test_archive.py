"""The archive on a fresh in-memory-like database: whole rows, idempotent writes."""

from __future__ import annotations

import json

import pytest
import sqlite_utils

from archive.schema import ensure_db_shape, open_db
from archive.store import lookup_url, save_article, save_taxonomy, summary


@pytest.fixture
def db() -> sqlite_utils.Database:
    database = sqlite_utils.Database(memory=True)
    ensure_db_shape(database)
    save_taxonomy(
        database,
        [{"id": "reaim-2024", "label": "REAIM 2024 (Seoul)", "start_date": "2024-09-09"},
         {"id": "reaim-2023", "label": "REAIM 2023 (The Hague)", "start_date": "2023-02-15"}],
        [{"id": "human-control", "label": "Human control"}],
        "test-1",
    )
    return database


RECORD = {
    "url": "https://news.example.kr/view/1?utm_source=rss",
    "canonical_url": "https://news.example.kr/view/1",
    "aliases": ["https://news.example.kr/amp/view/1"],
    "outlet": "Example Ilbo",
    "title": "서울에서 REAIM 고위급회의 개막",
    "text": "군사 영역에서의 책임 있는 인공지능(REAIM) 고위급회의가 서울에서 열렸다.",
    "language": "ko",
    "published": "2024-09-09T00:00:00+00:00",
    "relevant": True,
    "relevance": 0.92,
    "primary_event": "reaim-2024",
    "events": ["reaim-2024", "reaim-2023"],
    "themes": ["human-control"],
    "evidence": {"reaim-2024": {"terms": ["REAIM", "서울"], "score": 0.9},
                 "human-control": {"terms": ["인간의 통제"], "score": 0.6}},
    "translation_status": "pending",
    "authors": ["김기자"],
    "html": "<html>not stored</html>",
}


def test_save_article_writes_whole_row_tags_and_aliases(db: sqlite_utils.Database) -> None:
    result = save_article(db, RECORD, "a1")
    assert result.created
    row = db["articles"].get("a1")
    assert row["canonical_url"] == "https://news.example.kr/view/1"
    assert row["language"] == "ko" and row["relevant"] == 1 and row["published_month"] == "2024-09"
    assert json.loads(row["authors"]) == ["김기자"]
    assert "html" not in row
    events = list(db.query("select event_id, is_primary from article_events order by event_id"))
    assert events == [{"event_id": "reaim-2023", "is_primary": 0}, {"event_id": "reaim-2024", "is_primary": 1}]
    theme = db["article_themes"].get(("a1", "human-control"))
    assert json.loads(theme["evidence"])["terms"] == ["인간의 통제"]
    aliases = {r["url"] for r in db["article_aliases"].rows}
    assert aliases == {RECORD["url"], "https://news.example.kr/amp/view/1"}
    assert lookup_url(db, "https://news.example.kr/amp/view/1") == "a1"


def test_second_save_is_an_update_not_a_new_row(db: sqlite_utils.Database) -> None:
    save_article(db, RECORD, "a1")
    first_seen = db["articles"].get("a1")["first_seen"]
    again = save_article(db, {**RECORD, "themes": []}, "a1")
    assert not again.created
    assert db["articles"].count == 1
    assert db["articles"].get("a1")["first_seen"] == first_seen
    assert db["article_themes"].count == 0  # tags replaced, not accumulated
    assert db["article_events"].count == 2


def test_fts_finds_original_and_translation(db: sqlite_utils.Database) -> None:
    save_article(db, {**RECORD, "title_en": "REAIM high-level meeting opens in Seoul"}, "a1")
    hits = list(db["articles"].search("Seoul"))
    assert [h["id"] for h in hits] == ["a1"]


def test_summary_counts_by_language_and_event(db: sqlite_utils.Database) -> None:
    save_article(db, RECORD, "a1")
    save_article(db, {**RECORD, "canonical_url": "https://x.example/2", "url": "https://x.example/2", "aliases": [],
                      "relevant": False, "primary_event": None, "events": [], "themes": []}, "a2")
    s = summary(db)
    assert s["articles"] == 1
    assert s["by_language"] == {"ko": 1}
    assert s["by_primary_event"] == {"reaim-2024": 1}
    assert s["off_topic_archived"] == 1
    assert s["translation"] == {"pending": 1}


def test_open_db_is_idempotent_and_uses_wal(tmp_path) -> None:
    path = tmp_path / "a.db"
    open_db(path).close()
    db = open_db(path)
    assert db.journal_mode == "wal"
    assert "article_list" in db.view_names()
    assert db["articles"].detect_fts() == "articles_fts"

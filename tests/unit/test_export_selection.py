"""The article selection ``export_articles`` (archive/metadata.yml): the rows, in
their order, for every combination of filters, against a plain reference; and
its cost: each filter is served by an index, so a filtered selection reads
what it selects, not the whole archive.

The archive is built in memory with the real schema (tables and indexes) and
rows inserted directly: small, with the edge cases the filters have (undated
articles, the bounds of a date range, equal publication times, articles that
are not relevant, unknown and malformed filter values)."""

from __future__ import annotations

import datetime as dt
import itertools
import json
import random
import re
import sqlite3
from collections.abc import Iterator
from typing import Any

import pytest
import sqlite_utils

from archive.queries import FILTER_PARAMS, ArticleFilters, article_selection
from archive.schema import ensure_db_shape

EVENTS = ["reaim-2023", "reaim-2024", "gge-2024"]
THEMES = ["human-control", "autonomy", "ethics"]
LANGUAGES = ["en", "en", "ko", "de"]
# The bounds of 2025-01-01..2025-03-31 and around them, each day and time more than once
# (equal publication times are ordered by id), and undated articles.
PUBLISHED = [
    None, "2024-12-31T23:59:59+00:00", "2025-01-01T00:00:00+00:00", "2025-01-01T00:00:00+00:00", "2025-01-01",
    "2025-02-14T09:30:00+00:00", "2025-03-31T23:59:59+00:00", "2025-03-31", "2025-04-01T00:00:00+00:00",
    "2023-06-01T12:00:00+00:00", "2026-02-01T08:00:00+00:00",
]
# Each filter: not set, a value with articles, and a value without (unknown or malformed).
VALUES = {
    "event": ["", "reaim-2024", "no-such-event"],
    "theme": ["", "autonomy"],
    "language": ["", "ko", "xx"],
    "since": ["", "2025-01-01", "2025-13-45"],
    "until": ["", "2025-03-31"],
}
COLUMNS = [
    "id", "url", "canonical_url", "outlet", "source_id", "country", "language", "language_confidence", "published",
    "title", "title_en", "text", "text_en", "translation_status", "primary_event", "events", "themes", "relevance",
    "fetched_at", "first_seen",
]


def _archive(n: int, seed: int = 7, languages: list[str] = LANGUAGES) -> sqlite_utils.Database:
    db = sqlite_utils.Database(memory=True)
    ensure_db_shape(db)
    db.table("events").insert_all({"id": e, "label": e, "start_date": "2024-01-01"} for e in EVENTS)
    db.table("themes").insert_all({"id": t, "label": t} for t in THEMES)
    rnd = random.Random(seed)
    articles, events, themes = [], [], []
    for i in range(n):
        aid = f"a{rnd.randrange(10**6):06d}-{i}"
        relevant = int(rnd.random() < 0.85)
        tagged = rnd.sample(EVENTS, rnd.randint(0, 2))
        articles.append({
            "id": aid, "url": f"https://example.org/{i}", "canonical_url": f"https://example.org/{i}",
            "source_id": None, "outlet": f"outlet-{i % 4}", "country": "KR", "title": f"title {i}",
            "text": "text " * rnd.randint(1, 200), "language": rnd.choice(languages),
            "language_confidence": 0.9, "published": rnd.choice(PUBLISHED), "relevant": relevant,
            "relevance": round(rnd.random(), 3), "primary_event": tagged[0] if tagged else None,
            "title_en": f"title {i}", "text_en": "english " * rnd.randint(1, 50), "translation_status": "done",
            "fetched_at": "2025-05-01T00:00:00+00:00", "first_seen": "2025-05-01T00:00:00+00:00",
        })
        for j, e in enumerate(tagged):
            events.append({"article_id": aid, "event_id": e, "is_primary": int(j == 0),
                           "score": rnd.choice([0.5, 0.7, 0.9]), "evidence": "{}", "taxonomy_version": "1"})
        for t in rnd.sample(THEMES, rnd.randint(0, 3)):
            themes.append({"article_id": aid, "theme_id": t, "score": rnd.choice([0.5, 0.7]),
                           "evidence": "{}", "taxonomy_version": "1"})
    db.table("articles").insert_all(articles)
    db.table("article_events").insert_all(events)
    db.table("article_themes").insert_all(themes)
    return db


@pytest.fixture(scope="module")
def conn() -> Iterator[sqlite3.Connection]:
    db = _archive(300)
    yield db.conn
    db.conn.close()


def _combinations() -> Iterator[dict[str, str]]:
    for values in itertools.product(*VALUES.values()):
        yield dict(zip(VALUES, values, strict=True))


def _reference(conn: sqlite3.Connection, p: dict[str, str]) -> list[tuple[Any, ...]]:
    """The selection written the plain way, in Python: every relevant article, each filter that is set."""
    conn.row_factory = sqlite3.Row
    try:
        articles = [dict(r) for r in conn.execute("select * from articles")]
        ev = [dict(r) for r in conn.execute("select * from article_events")]
        th = [dict(r) for r in conn.execute("select * from article_themes")]
    finally:
        conn.row_factory = None

    def day(text: str, plus: int = 0) -> str | None:
        try:
            return (dt.date.fromisoformat(text) + dt.timedelta(days=plus)).isoformat()
        except ValueError:
            return None  # SQLite's date() of a malformed date is null: it matches nothing

    rows = []
    for a in articles:
        events = [e["event_id"] for e in sorted(
            (e for e in ev if e["article_id"] == a["id"]), key=lambda e: (-e["is_primary"], -e["score"], e["event_id"]))]
        themes = [t["theme_id"] for t in sorted(
            (t for t in th if t["article_id"] == a["id"]), key=lambda t: (-t["score"], t["theme_id"]))]
        since, until = day(p["since"]) if p["since"] else "", day(p["until"], 1) if p["until"] else ""
        published = a["published"]
        if (
            a["relevant"] != 1
            or (p["event"] and p["event"] not in events)
            or (p["theme"] and p["theme"] not in themes)
            or (p["language"] and a["language"] != p["language"])
            or (p["since"] and (published is None or since is None or published < since))
            or (p["until"] and (published is None or until is None or published >= until))
        ):
            continue
        rows.append({**a, "events": events, "themes": themes})
    rows.sort(key=lambda r: (r["published"] is None, r["published"] or "", r["id"]))
    return [tuple(r[c] for c in COLUMNS) for r in rows]


def _selected(conn: sqlite3.Connection, p: dict[str, str]) -> tuple[list[str], list[tuple[Any, ...]]]:
    sql, _ = article_selection(ArticleFilters())
    cursor = conn.execute(sql, p)
    names = [d[0] for d in cursor.description]
    rows = [
        tuple(json.loads(v) if c in ("events", "themes") else v for c, v in zip(names, row, strict=True))
        for row in cursor
    ]
    return names, rows


def test_every_filter_combination_selects_the_reference_rows_in_order(conn: sqlite3.Connection) -> None:
    seen_rows = 0
    for p in _combinations():
        names, rows = _selected(conn, p)
        assert names == COLUMNS
        assert rows == _reference(conn, p), p
        seen_rows += bool(rows)
    assert seen_rows > 20  # the combinations are not all empty


def test_undated_articles_are_in_only_without_a_date_filter(conn: sqlite3.Connection) -> None:
    blank = dict.fromkeys(FILTER_PARAMS, "")
    _, everything = _selected(conn, blank)
    undated = [r for r in everything if r[COLUMNS.index("published")] is None]
    assert undated and everything[-len(undated):] == undated  # last, by id
    for key in ("since", "until"):
        _, rows = _selected(conn, {**blank, key: "2025-01-01"})
        assert rows and all(r[COLUMNS.index("published")] is not None for r in rows)


def test_null_parameters_mean_no_filter_like_blank_ones(conn: sqlite3.Connection) -> None:
    blank = dict.fromkeys(FILTER_PARAMS, "")
    nulls: dict[str, str | None] = dict.fromkeys(FILTER_PARAMS, None)
    sql, _ = article_selection(ArticleFilters())
    assert conn.execute(sql, nulls).fetchall() == conn.execute(sql, blank).fetchall()
    assert conn.execute(sql, {**nulls, "language": "ko"}).fetchall() == conn.execute(
        sql, {**blank, "language": "ko"}).fetchall()


# --- cost -----------------------------------------------------------------------------------------


def _plan(conn: sqlite3.Connection, p: dict[str, str]) -> list[str]:
    sql, _ = article_selection(ArticleFilters())
    return [row[3] for row in conn.execute("explain query plan " + sql, p)]


# The steps of the branch that serves each filter (the article "a" found through an index on
# the filtered column), whatever the indexes are called: archive/schema.py may add partial ones.
INDEX_SEARCHES = {
    "language": [r"SEARCH a USING (COVERING )?INDEX \S+ \(language=\?"],
    "event": [r"SEARCH article_events USING INDEX \S+ \(event_id=\?\)", r"SEARCH a USING INDEX \S+ \(id=\?\)"],
    "dates": [r"SEARCH a USING (COVERING )?INDEX \S+ \(published>\? AND published<\?\)"],
}


@pytest.mark.parametrize(("name", "filters"), [
    ("language", {"language": "ko"}),
    ("event", {"event": "reaim-2024"}),
    ("dates", {"since": "2025-01-01", "until": "2025-03-31"}),
])
def test_a_filtered_selection_finds_its_articles_through_an_index(
    conn: sqlite3.Connection, name: str, filters: dict[str, str]
) -> None:
    plan = _plan(conn, {**dict.fromkeys(FILTER_PARAMS, ""), **filters})
    for step in INDEX_SEARCHES[name]:
        assert any(re.match(step, s) for s in plan), (step, plan)
    # No step reads the articles or a tag table from end to end, but one: the branch for no
    # filter at all, in publication order through an index. It runs only when no filter is
    # set (the plan is the same for every value: the next test measures what runs).
    full = [s for s in plan if re.match(r"SCAN (a|articles|article_events|article_themes|e|t|fe|ft)\b", s)]
    assert len(full) == 1 and re.fullmatch(r"SCAN a USING INDEX \S*published\S*", full[0]), plan


def _steps(conn: sqlite3.Connection, p: dict[str, str]) -> int:
    """Virtual machine instructions SQLite runs for the selection: its cost, whatever the plan says."""
    sql, _ = article_selection(ArticleFilters())
    steps = 0

    def count() -> int:
        nonlocal steps
        steps += 1
        return 0

    conn.set_progress_handler(count, 1)
    try:
        conn.execute(sql, p).fetchall()
    finally:
        conn.set_progress_handler(None, 1)
    return steps


MATCH_NOTHING = [{"language": "xx"}, {"event": "no-such-event", "since": "2025-01-01"}, {"since": "2025-13-45"}]


@pytest.mark.parametrize("filters", [
    {"language": "ko"}, {"event": "reaim-2024"}, {"theme": "autonomy"},
    {"since": "2025-01-01", "until": "2025-03-31"}, {"since": "2025-01-01"}, {"until": "2025-01-01"},
    {"language": "ko", "event": "reaim-2024", "since": "2025-01-01"},
    *MATCH_NOTHING,
])
def test_a_filtered_selection_costs_what_it_selects_not_the_archive_size(filters: dict[str, str]) -> None:
    # The same articles, then with 600 more that match none of the filters (English, undated,
    # no tags): the work done for the filtered selection does not change.
    small = _archive(150)
    big = _archive(150)
    big.table("articles").insert_all(
        {"id": f"other-{i}", "language": "en", "relevant": 1, "published": None, "text": "text " * 200}
        for i in range(600)
    )
    p = {**dict.fromkeys(FILTER_PARAMS, ""), **filters}
    rows = small.conn.execute(article_selection(ArticleFilters())[0], p).fetchall()
    assert bool(rows) == (filters not in MATCH_NOTHING)
    assert _steps(big.conn, p) <= _steps(small.conn, p) * 1.05 + 200, filters
    # whereas no filter at all reads every article
    blank = dict.fromkeys(FILTER_PARAMS, "")
    assert _steps(big.conn, blank) > 3 * _steps(small.conn, blank)

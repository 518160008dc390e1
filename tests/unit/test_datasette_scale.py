"""The Datasette pages at scale (issue 6, docs/archive-scale.md sections 3 and 4).

What keeps the pages fast on a large archive, checked on a small one: no facet
suggestions, no array facets by default, the indexes and planner statistics
open_db makes, the query plans of the facets and charts (index-only), the
charts' numbers unchanged by their rewrite, and a /-/charts page that still
answers when a chart query hits the SQL time limit.
"""

from __future__ import annotations

import asyncio
import json
import re
import sqlite3
from collections.abc import Iterator
from importlib import resources
from pathlib import Path
from typing import Any

import pytest
import yaml

from archive import datasette as datasette_module
from archive import schema
from archive.datasette import datasette_app, datasette_settings, metadata_for, serve_command
from archive.datasette_plugin import CHART_QUERIES, WINDOW_WEEKS
from archive.schema import RELEVANT_INDEXES, open_db, statistics_stale
from archive.store import save_article, save_taxonomy

EVENTS = [
    {"id": "reaim-2023", "label": "REAIM 2023 summit (The Hague)", "kind": "summit", "start_date": "2023-02-15",
     "end_date": "2023-02-16", "place": "The Hague", "country": "NL"},
    {"id": "reaim-2024", "label": "REAIM 2024 summit (Seoul)", "kind": "summit", "start_date": "2024-09-09",
     "end_date": "2024-09-10", "place": "Seoul", "country": "KR"},
    {"id": "reaim-2026", "label": "REAIM 2026 summit (A Coruña)", "kind": "summit", "start_date": "2026-02-04",
     "end_date": "2026-02-05", "place": "A Coruña", "country": "ES"},
    {"id": "unga", "label": "UN General Assembly resolution", "kind": "resolution", "start_date": "2024-11-06"},
]
THEMES = [{"id": "human-control", "label": "Human control"}, {"id": "international-law", "label": "International law"},
          {"id": "arms-race", "label": "Arms race"}]
LANGUAGES = ["en", "ko", "nl", "zh"]

# Publication times around the window edges (6 weeks before the summit's first day to the
# last day of the 6th week after it) and ones no window holds.
EDGES = ["2024-07-29T00:00:00+00:00", "2024-07-28T23:59:59+00:00", "2024-10-27T23:59:59+00:00",
         "2024-10-28T00:00:00+00:00", "2023-01-04T12:00:00+00:00", "2023-02-15", "2026-02-04T09:00:00Z",
         "2025-06-01T00:00:00+00:00", None, "not a date"]

# The chart SQL before it was rewritten for the indexes: the rewrite must give the same rows.
OLD_AROUND_SUMMITS = f"""
select e.id as summit_id, e.label as summit, e.start_date, e.end_date, a.language,
  cast((julianday(substr(a.published, 1, 10)) - julianday(e.start_date)) / 7.0 + 1000 as integer) - 1000 as week,
  count(*) as articles
from events e
join articles a on a.relevant = 1 and a.published is not null
  and julianday(substr(a.published, 1, 10))
    between julianday(e.start_date) - {7 * WINDOW_WEEKS} and julianday(e.start_date) + {7 * WINDOW_WEEKS + 6}
where e.kind = 'summit' and e.start_date is not null
group by e.id, week, a.language
order by e.start_date, week, a.language
"""
OLD_THEMES_BY_SUMMIT = """
select e.id as summit_id, e.label as summit, e.start_date, t.theme_id, coalesce(th.label, t.theme_id) as theme,
  count(distinct a.id) as articles,
  (select count(*) from articles a2 where a2.relevant = 1 and a2.primary_event = e.id) as summit_articles
from events e
join articles a on a.primary_event = e.id and a.relevant = 1
join article_themes t on t.article_id = a.id
left join themes th on th.id = t.theme_id
where e.kind = 'summit'
group by e.id, t.theme_id
order by e.start_date, articles desc, t.theme_id
"""
OLD_SUMMIT_LANGUAGE = """
select coalesce(e.label, a.primary_event, '(none)') as event, coalesce(e.start_date, '9999') as start_date,
  a.language, count(*) as articles
from articles a left join events e on e.id = a.primary_event
where a.relevant = 1
group by a.primary_event, a.language
order by start_date, a.language
"""
OLD_BY_MONTH = """
select published_month as month, language, count(*) as articles
from articles where relevant = 1 and published_month is not null
group by published_month, language order by published_month, language
"""
OLD_CHART_SQL = {"around": OLD_AROUND_SUMMITS, "themes": OLD_THEMES_BY_SUMMIT,
                 "summit_language": OLD_SUMMIT_LANGUAGE, "by_month": OLD_BY_MONTH}

# Never ends: the SQL time limit interrupts it.
ENDLESS = "with recursive n(i) as (select 1 union all select i + 1 from n) select count(*) as articles from n"


def records(n: int) -> Iterator[tuple[str, dict[str, Any]]]:
    """n articles spread over the summits' windows, languages, outlets, tags; some off topic."""
    events = [e["id"] for e in EVENTS]
    for i in range(n):
        if i < len(EDGES):
            published = EDGES[i]
        else:
            summit = EVENTS[i % 3]["start_date"]
            published = f"{summit[:8]}{(i * 7) % 28 + 1:02d}T{i % 24:02d}:00:00+00:00"
            if i % 5 == 0:
                published = f"20{23 + i % 4}-{i % 12 + 1:02d}-15T08:00:00+00:00"
        primary = None if i % 11 == 0 else events[i % len(events)]
        themes = [t["id"] for j, t in enumerate(THEMES) if (i >> j) & 1]
        yield f"a{i:04d}", {
            "url": f"https://news{i % 7}.example/{i}", "canonical_url": f"https://news{i % 7}.example/{i}",
            "outlet": f"Outlet {i % 7}", "country": ["KR", "NL", "US"][i % 3], "language": LANGUAGES[i % 4],
            "title": f"Summit story {i}", "text": f"Delegates met for story {i}.", "relevant": i % 9 != 0,
            "published": published, "primary_event": primary,
            "events": [e for e in (primary, events[(i + 1) % len(events)]) if e], "themes": themes,
            "translation_status": "not_needed",
        }


def build(path: Path, n: int = 240) -> Path:
    """An archive of n articles, opened once more as the next command would: indexes there and,
    as on an archive of ANALYZE_MIN_ROWS articles or more, planner statistics made."""
    db = open_db(path)
    save_taxonomy(db, EVENTS, THEMES, "test-1")
    for key, rec in records(n):
        save_article(db, rec, key)
    db.close()
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(schema, "ANALYZE_MIN_ROWS", 100)
        open_db(path).close()
    return path


@pytest.fixture(scope="module")
def big(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build(tmp_path_factory.mktemp("scale") / "scale.db")


def get(path: Path, *urls: str, public: bool = False) -> list[Any]:
    async def go() -> list[Any]:
        app = datasette_app(path, public=public)
        return [await app.client.get(url) for url in urls]

    return asyncio.run(go())


def plan(conn: sqlite3.Connection, sql: str) -> str:
    return "\n".join(row[3] for row in conn.execute("explain query plan " + sql))


# -- settings and metadata ---------------------------------------------------------------------------


@pytest.mark.parametrize("public", [False, True])
def test_facet_suggestions_are_off_in_both_modes(big: Path, plugin: None, public: bool) -> None:
    assert datasette_settings(public)["suggest_facets"] is False
    cmd = serve_command(big, public=public)
    assert "suggest_facets" in [cmd[i + 1] for i, arg in enumerate(cmd) if arg == "--setting"]
    assert cmd[cmd.index("suggest_facets") + 1] == "off"
    (response,) = get(big, "/scale/articles.json?_extra=suggested_facets", public=public)
    assert response.status_code == 200
    assert response.json()["suggested_facets"] == []


def test_article_list_has_no_array_facets_and_facets_its_primary_event(big: Path, plugin: None) -> None:
    meta = yaml.safe_load((resources.files("archive") / "metadata.yml").read_text(encoding="utf-8"))
    facets = meta["databases"]["reaim"]["tables"]["article_list"]["facets"]
    assert all(isinstance(f, str) for f in facets), facets  # no {"array": ...}
    assert facets == ["language", "primary_event", "outlet", "country", "published_month"]
    response, page = get(big, "/scale/article_list.json?_extra=facet_results", "/scale/article_list")
    results = response.json()["facet_results"]
    assert set(results) == set(facets)
    assert 'id="facet-events"' not in page.text and 'id="facet-primary_event"' in page.text
    assert "timed out" not in page.text
    counts = {v["value"]: v["count"] for v in results["primary_event"]["results"]}
    with sqlite3.connect(big) as conn:
        expected = dict(conn.execute("select primary_event, count(*) from articles "
                                     "where relevant = 1 and primary_event is not null group by 1").fetchall())
    assert counts == expected


def test_article_list_links_counts_per_event_and_theme_for_any_database_name(big: Path, plugin: None) -> None:
    html = get(big, "/scale/article_list")[0].text
    assert 'href="/scale/article_events?_facet=event_id"' in html
    assert 'href="/scale/article_themes?_facet=theme_id"' in html
    assert "/reaim/" not in metadata_for(big)["databases"]["scale"]["tables"]["article_list"]["description_html"]
    events, themes = get(big, "/scale/article_events.json?_facet=event_id&_extra=facet_results",
                         "/scale/article_themes.json?_facet=theme_id&_extra=facet_results")
    by_event = {v["value"]: v["count"] for v in events.json()["facet_results"]["event_id"]["results"]}
    by_theme = {v["value"]: v["count"] for v in themes.json()["facet_results"]["theme_id"]["results"]}
    with sqlite3.connect(big) as conn:
        assert by_event == dict(conn.execute("select event_id, count(*) from article_events group by 1").fetchall())
        assert by_theme == dict(conn.execute("select theme_id, count(*) from article_themes group by 1").fetchall())


# -- indexes, statistics and query plans -------------------------------------------------------------


def test_open_db_makes_the_facet_and_chart_indexes(big: Path) -> None:
    with sqlite3.connect(big) as conn:
        indexes = {name: sql for name, sql in conn.execute(
            "select name, sql from sqlite_master where type = 'index' and tbl_name = 'articles'")}
        for name in ("idx_articles_outlet", "idx_articles_country", "idx_articles_published_month",
                     "idx_articles_updated_at"):
            assert name in indexes, name
        for name, columns in RELEVANT_INDEXES.items():
            assert name in indexes, name
            assert re.search(r"where\s+relevant\s*=\s*1\s*$", indexes[name], re.I), indexes[name]
            assert [r[2] for r in conn.execute(f"pragma index_info([{name}])")] == [*columns, "relevant"]
        analyzed = {r[0] for r in conn.execute("select idx from sqlite_stat1 where tbl = 'articles'")}
        assert set(RELEVANT_INDEXES) <= analyzed and "idx_articles_updated_at" in analyzed


def test_statistics_are_made_once_and_again_when_the_archive_grows_tenfold(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(schema, "ANALYZE_MIN_ROWS", 30)
    path = tmp_path / "grow.db"
    db = open_db(path)
    save_taxonomy(db, EVENTS, THEMES, "test-1")
    for key, rec in list(records(30))[:29]:
        save_article(db, rec, key)
    assert not statistics_stale(db)  # under ANALYZE_MIN_ROWS: no statistics
    save_article(db, dict(records(30))["a0029"], "a0029")
    assert statistics_stale(db)
    db.close()
    db = open_db(path)
    assert not statistics_stale(db)
    made = db.execute("select stat from sqlite_stat1 where idx = 'sqlite_autoindex_articles_1'").fetchall()[0][0]
    assert made.split()[0] == "30"
    more = dict(records(300))
    for key in list(more)[30:299]:  # 299 rows: under 10 x 30
        save_article(db, more[key], key)
    assert not statistics_stale(db)
    save_article(db, more["a0299"], "a0299")
    assert statistics_stale(db)
    db.close()
    db = open_db(path)
    assert not statistics_stale(db)
    db.close()


def test_a_small_archive_gets_no_statistics(tmp_path: Path) -> None:
    path = tmp_path / "small.db"
    db = open_db(path)
    save_taxonomy(db, EVENTS, THEMES, "test-1")
    for key, rec in records(20):
        save_article(db, rec, key)
    db.close()
    open_db(path).close()
    with sqlite3.connect(path) as conn:
        assert conn.execute("select count(*) from sqlite_master where name = 'sqlite_stat1'").fetchone()[0] == 0


def test_an_index_of_the_same_name_with_other_columns_is_replaced(tmp_path: Path) -> None:
    path = build(tmp_path / "old.db", n=20)
    with sqlite3.connect(path) as conn:  # as the scale bench's --add-indexes made it
        conn.execute("drop index idx_articles_relevant_month")
        conn.execute("create index idx_articles_relevant_month on articles (published_month) where relevant = 1")
    open_db(path).close()
    with sqlite3.connect(path) as conn:
        columns = [r[2] for r in conn.execute("pragma index_info(idx_articles_relevant_month)")]
    assert columns == [*RELEVANT_INDEXES["idx_articles_relevant_month"], "relevant"]


FACET_SQL = ("select [{col}] as value, count(*) as count from (select * from [{table}]) where [{col}] is not null "
             "group by [{col}] order by count desc, value limit 31")


@pytest.mark.parametrize(("table", "column", "index"), [
    ("article_list", "language", "idx_articles_relevant_language"),
    ("article_list", "primary_event", "idx_articles_relevant_event"),
    ("article_list", "outlet", "idx_articles_relevant_outlet"),
    ("article_list", "country", "idx_articles_relevant_country"),
    ("article_list", "published_month", "idx_articles_relevant_month"),
    ("articles", "outlet", "idx_articles_outlet"),
    ("articles", "country", "idx_articles_country"),
    ("articles", "published_month", "idx_articles_published_month"),
    ("articles", "language", "idx_articles_language"),
])
def test_column_facets_read_an_index_only(big: Path, table: str, column: str, index: str) -> None:
    with sqlite3.connect(big) as conn:
        found = plan(conn, FACET_SQL.format(col=column, table=table))
    assert f"COVERING INDEX {index} " in found, found


def test_the_article_list_count_reads_a_partial_index(big: Path) -> None:
    with sqlite3.connect(big) as conn:
        found = plan(conn, "select count(*) from article_list")
    assert re.search(r"COVERING INDEX idx_articles_relevant_\w+", found), found


@pytest.mark.parametrize(("key", "indexes"), [
    ("around", ["idx_articles_relevant_published (published>? AND published<?)"]),
    ("by_month", ["idx_articles_relevant_month"]),
    ("summit_language", ["idx_articles_relevant_event"]),
    ("themes", ["idx_articles_relevant_event (primary_event=?)", "sqlite_autoindex_article_themes_1 (article_id=?)"]),
])
def test_chart_queries_read_indexes_only(big: Path, key: str, indexes: list[str]) -> None:
    with sqlite3.connect(big) as conn:
        found = plan(conn, CHART_QUERIES[key])
    for index in indexes:
        assert f"COVERING INDEX {index}" in found, found
    # Every step on articles goes through a covering index: no row (with its texts) is read.
    steps = [line for line in found.splitlines() if re.match(r"(SCAN|SEARCH) (a|articles)\b", line)]
    assert steps and all("COVERING INDEX" in line and "AUTOMATIC" not in line for line in steps), found


@pytest.mark.parametrize("key", sorted(OLD_CHART_SQL))
def test_rewritten_chart_queries_give_the_same_rows(big: Path, key: str) -> None:
    with sqlite3.connect(big) as conn:
        new = conn.execute(CHART_QUERIES[key]).fetchall()
        old = conn.execute(OLD_CHART_SQL[key]).fetchall()
    assert new and sorted(new, key=repr) == sorted(old, key=repr)
    if key != "summit_language":  # the old order left ties between events of one start_date open
        assert new == old


# -- /-/charts when a query hits the time limit ------------------------------------------------------


def chart_ids(html: str) -> set[str]:
    return set(re.findall(r'<script type="application/json" id="spec-([\w-]+)">', html))


def test_charts_page_draws_every_chart(big: Path, plugin: None) -> None:
    (response,) = get(big, "/-/charts")
    assert response.status_code == 200
    assert chart_ids(response.text) == {"around-summits", "timeline", "themes-by-summit", "summit-language"}
    assert "Timed out" not in response.text


def test_charts_page_shows_the_charts_that_finished_and_names_the_one_that_timed_out(
        big: Path, plugin: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(datasette_module.SETTINGS, "sql_time_limit_ms", 300)
    monkeypatch.setitem(CHART_QUERIES, "themes", ENDLESS)
    (response,) = get(big, "/-/charts")
    assert response.status_code == 200, response.text[:2000]
    assert chart_ids(response.text) == {"around-summits", "timeline", "summit-language"}
    notice = re.search(r'<p class="reaim-timed-out"[^>]*>(.*?)</p>', response.text, re.S)
    assert notice, response.text
    text = " ".join(re.sub(r"<[^>]+>", "", notice.group(1)).split())
    assert text.startswith("Timed out: Themes per summit.") and "(300 ms)" in text, text
    assert "No relevant articles" not in response.text
    spec = re.search(r'id="spec-timeline">(.*?)</script>', response.text, re.S)
    assert spec and json.loads(spec.group(1))["layer"][0]["data"]["values"]  # the others are complete


def test_charts_page_answers_when_every_chart_query_times_out(
        big: Path, plugin: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(datasette_module.SETTINGS, "sql_time_limit_ms", 100)
    for key in ("around", "by_month", "themes", "summit_language"):
        monkeypatch.setitem(CHART_QUERIES, key, ENDLESS)
    (response,) = get(big, "/-/charts")
    assert response.status_code == 200, response.text[:2000]
    assert chart_ids(response.text) == set()
    assert "Coverage around each summit, per language, Coverage over time, per language, summits marked, " \
           "Themes per summit, Articles per event and language" in " ".join(response.text.split())
    assert "No relevant articles" not in response.text

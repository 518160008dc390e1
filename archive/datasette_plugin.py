"""Datasette plugin: the archive's search functions, article page and charts.

Registered on every connection Datasette opens, so the canned query
``search`` in archive/metadata.yml (and any SQL a user writes) can search
``articles_search`` with the same analysis as ``reaim search``:

* ``reaim_match(q [, language])``: the FTS5 MATCH expression for a user's
  query (``'""'``, which matches nothing, when the query has no searchable word);
* ``reaim_tokens(text, language)``: the tokenised form of a text, as indexed;
* ``reaim_snippet(q, language, title, text, title_en, text_en)``: an extract
  with the matches in **bold**.

For people rather than SQL (docs/datasette.md):

* the row page of ``articles`` (``/<db>/articles/<id>``, archive/templates/row.html)
  shows the original and the English text side by side, every tag with its
  evidence (terms, snippet, which text, score) and a link to the source;
* ``/-/charts``: coverage per language around each summit, the whole timeline
  with the summits marked, themes per summit (Vega-Lite, served from
  archive/static/vendor, never a CDN);
* headlines in ``article_list`` and in saved queries link to the article page,
  and the ``**`` highlights of search snippets are shown in bold;
* saved queries that need a table an older archive lacks (who endorsed what)
  are offered only when the table exists (``plugins.reaim.optional_queries``
  in the metadata).

Scraped text reaches the page only through Jinja's autoescape or
``markupsafe.escape``: never as markup.

Loaded through the ``datasette`` entry point in pyproject.toml
(``reaim = "archive.datasette_plugin"``); the templates and static files are
mounted by archive/datasette.py (``--template-dir``, ``--static``).
"""

from __future__ import annotations

import asyncio
import copy
import json
import re
import sqlite3
from collections import defaultdict
from datetime import date
from typing import Any
from urllib.parse import quote, urlsplit

from datasette import hookimpl
from datasette.database import QueryInterrupted
from datasette.utils import tilde_decode, tilde_encode
from datasette.utils.asgi import NotFound, Response
from markupsafe import Markup, escape

from archive.datasette import STATIC_MOUNT
from archive.search import match_expression, search_tokens, snippet
from crawler.items import article_id

NO_MATCH = '""'
PLUGIN_KEY = "reaim"
VEGA_FILES = ("vendor/vega-6.4.0/vega.min.js", "vendor/vega-lite-6.5.0/vega-lite.min.js")

LANGUAGE_NAMES = {
    "de": "German", "en": "English", "es": "Spanish", "fr": "French", "ja": "Japanese",
    "ko": "Korean", "nl": "Dutch", "ru": "Russian", "zh": "Chinese", "und": "undetermined",
}


# -- search functions ------------------------------------------------------------------------


def reaim_match(query: str | None, language: str | None = None) -> str:
    return match_expression(query, language or None) or NO_MATCH


def reaim_tokens(text: str | None, language: str | None = None) -> str:
    return search_tokens(text, language or None)


def reaim_snippet(query: str | None, language: str | None, title: str | None, text: str | None,
                  title_en: str | None = None, text_en: str | None = None) -> str:
    return snippet(query or "", language or None, title, text, title_en, text_en)


def register_functions(conn: sqlite3.Connection) -> None:
    conn.create_function("reaim_match", 1, reaim_match, deterministic=True)
    conn.create_function("reaim_match", 2, reaim_match, deterministic=True)
    conn.create_function("reaim_tokens", 1, reaim_tokens, deterministic=True)
    conn.create_function("reaim_tokens", 2, reaim_tokens, deterministic=True)
    conn.create_function("reaim_snippet", 4, reaim_snippet, deterministic=True)
    conn.create_function("reaim_snippet", 6, reaim_snippet, deterministic=True)


@hookimpl
def prepare_connection(conn: sqlite3.Connection, database: str, datasette: Any) -> None:
    register_functions(conn)


# -- helpers for the pages (pure, unit-tested) ------------------------------------------------


def language_label(code: str | None) -> str:
    if not code:
        return "unknown"
    name = LANGUAGE_NAMES.get(code)
    return f"{name} ({code})" if name else code


def safe_href(url: str | None) -> str | None:
    """The URL when it is http(s), else None: a scraped ``javascript:`` URL never becomes a link."""
    if not url or not isinstance(url, str):
        return None
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return None
    if parts.scheme.lower() in ("http", "https") and parts.netloc:
        return url.strip()
    return None


def _term_pattern(terms: list[str]) -> re.Pattern[str] | None:
    words = []
    for term in sorted({t.strip() for t in terms if isinstance(t, str) and t.strip()}, key=len, reverse=True):
        parts = [re.escape(p) for p in re.split(r"[\s\-‐-―]+", term) if p]
        if parts:
            words.append(r"[\s\-‐-―]*".join(parts))
    if not words:
        return None
    return re.compile("|".join(words), re.IGNORECASE)


def mark_terms(text: str | None, terms: list[str]) -> list[dict[str, Any]]:
    """``text`` cut into segments, ``{"text", "mark"}``, mark True where one of ``terms`` occurs.

    Matching ignores case and lets spaces and hyphens vary; the segments are
    plain strings for the template to escape, never markup.
    """
    if not text:
        return []
    pattern = _term_pattern(terms)
    if pattern is None:
        return [{"text": text, "mark": False}]
    out: list[dict[str, Any]] = []
    pos = 0
    for m in pattern.finditer(text):
        if m.end() == m.start():
            continue
        if m.start() > pos:
            out.append({"text": text[pos:m.start()], "mark": False})
        out.append({"text": m.group(0), "mark": True})
        pos = m.end()
    if pos < len(text):
        out.append({"text": text[pos:], "mark": False})
    return out


def paragraphs(text: str | None, terms: list[str]) -> list[list[dict[str, Any]]]:
    return [mark_terms(p.strip(), terms) for p in (text or "").split("\n") if p.strip()]


def bold_markers(value: str) -> Markup:
    """``a **b** c`` as escaped HTML with ``<strong>b</strong>``."""
    parts = value.split("**")
    html = []
    for i, part in enumerate(parts):
        if i % 2 == 1 and i < len(parts) - 1:
            html.append(Markup("<strong>{}</strong>").format(part))
        else:
            html.append(escape(("**" if i % 2 == 1 else "") + part))
    return Markup("").join(html)


def _evidence(raw: str | None) -> dict[str, Any]:
    try:
        value = json.loads(raw) if raw else {}
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def _date_range(start: str | None, end: str | None) -> str:
    if not start:
        return ""
    try:
        a = date.fromisoformat(start[:10])
        b = date.fromisoformat(end[:10]) if end else a
    except ValueError:
        return start if not end or end == start else f"{start} to {end}"
    if a == b:
        return f"{a.day} {a:%b %Y}"
    if (a.year, a.month) == (b.year, b.month):
        return f"{a.day}–{b.day} {a:%b %Y}"
    if a.year == b.year:
        return f"{a.day} {a:%b} – {b.day} {b:%b %Y}"
    return f"{a.day} {a:%b %Y} – {b.day} {b:%b %Y}"


async def _table_exists(datasette: Any, database: str, table: str) -> bool:
    try:
        return bool(await datasette.get_database(database).table_exists(table))
    except KeyError:
        return False


# -- saved queries that need optional tables --------------------------------------------------


@hookimpl
def canned_queries(datasette: Any, database: str, actor: Any) -> Any:
    config = datasette.plugin_config(PLUGIN_KEY, database=database) or {}
    optional = config.get("optional_queries") or {}
    if not optional:
        return None

    async def inner() -> dict[str, Any]:
        queries: dict[str, Any] = {}
        for name, query in optional.items():
            needs = query.get("requires") or []
            if all([await _table_exists(datasette, database, t) for t in needs]):
                queries[name] = {k: copy.deepcopy(v) for k, v in query.items() if k != "requires"}
        return queries

    return inner


# -- links and highlights in tables and query results -----------------------------------------


def _article_link(datasette: Any, database: str, article_id: str, label: Any) -> Markup:
    href = datasette.urls.row(database, "articles", tilde_encode(str(article_id)))
    return Markup('<a href="{}">{}</a>').format(href, label)


@hookimpl
def render_cell(row: Any, value: Any, column: str, table: str | None, database: str, datasette: Any) -> Any:
    if value is None:
        return None
    if table in ("article_list", "articles") and column == "title" and "id" in row.keys():
        return _article_link(datasette, database, row["id"], value)
    if table is not None:
        return None
    # A saved query or arbitrary SQL: only columns named as ours are touched.
    if column == "snippet" and isinstance(value, str) and "**" in value:
        return bold_markers(value)
    keys = row.keys()
    if column == "article_id" and isinstance(value, str):
        async def link_id() -> Any:
            db = datasette.get_database(database)
            if not await _table_exists(datasette, database, "articles"):
                return None
            found = await db.execute("select 1 from articles where id = ?", [value])
            return _article_link(datasette, database, value, value) if found.first() else None
        return link_id
    if column == "title" and isinstance(value, str) and ("id" in keys or "url" in keys or "canonical_url" in keys):
        async def link_title() -> Any:
            if not await _table_exists(datasette, database, "articles"):
                return None
            db = datasette.get_database(database)
            # Primary-key lookups only (one per cell): the id given, else the id of the
            # canonical URL (crawler.items.article_id), else the URL as an alias.
            if "id" in keys and row["id"] is not None:
                candidates = [str(row["id"])]
            else:
                url = str(row["canonical_url"] if "canonical_url" in keys else row["url"] or "")
                candidates = [article_id(url)]
                if await _table_exists(datasette, database, "article_aliases"):
                    alias = (await db.execute("select article_id from article_aliases where url = ?", [url])).first()
                    if alias:
                        candidates.append(alias[0])
            for candidate in candidates:
                found = (await db.execute("select id from articles where id = ? and title is ?",
                                          [candidate, value])).first()
                if found:
                    return _article_link(datasette, database, found[0], value)
            return None
        return link_title
    return None


# -- the article page (row.html for the articles table) ---------------------------------------


def _static_url(datasette: Any, path: str) -> str:
    return datasette.urls.path(f"/{STATIC_MOUNT}/{path}")


async def load_article(datasette: Any, database: str, article_id: str) -> dict[str, Any] | None:
    """Everything the article page shows, as plain values (the template escapes them)."""
    db = datasette.get_database(database)
    row = (await db.execute("select * from articles where id = ?", [article_id])).first()
    if row is None:
        return None
    a = dict(row)
    tags: list[dict[str, Any]] = []
    # Each tag links to the other articles with it: the tag table filtered on an index, with
    # its count; not article_list?events__arraycontains=, which builds the JSON arrays of every
    # article for the filter, its count and each facet (6 s at 100k articles, facets timed out).
    events = await db.execute(
        "select ae.event_id as id, ae.is_primary, ae.score, ae.evidence, e.label, e.kind, e.start_date, e.end_date "
        "from article_events ae left join events e on e.id = ae.event_id where ae.article_id = ? "
        "order by ae.is_primary desc, ae.score desc, ae.event_id", [article_id])
    for r in events.rows:
        tags.append({"kind": "event", "id": r["id"], "label": r["label"] or r["id"], "primary": bool(r["is_primary"]),
                     "score": r["score"], "evidence": _evidence(r["evidence"]),
                     "detail": _date_range(r["start_date"], r["end_date"]),
                     "list_url": datasette.urls.table(database, "article_events") + "?event_id="
                     + quote(str(r["id"]))})
    themes = await db.execute(
        "select at.theme_id as id, at.score, at.evidence, t.label "
        "from article_themes at left join themes t on t.id = at.theme_id where at.article_id = ? "
        "order by at.score desc, at.theme_id", [article_id])
    for r in themes.rows:
        tags.append({"kind": "theme", "id": r["id"], "label": r["label"] or r["id"], "primary": False,
                     "score": r["score"], "evidence": _evidence(r["evidence"]), "detail": "",
                     "list_url": datasette.urls.table(database, "article_themes") + "?theme_id="
                     + quote(str(r["id"]))})
    terms_by_side: dict[str, list[str]] = defaultdict(list)
    for tag in tags:
        ev = tag["evidence"]
        terms = [t for t in (ev.get("terms") or []) if isinstance(t, str)]
        side = ev.get("text") if ev.get("text") in ("original", "translation") else "original"
        tag["terms"] = terms
        tag["side"] = side
        tag["snippet"] = mark_terms(ev.get("snippet") if isinstance(ev.get("snippet"), str) else "", terms)
        terms_by_side[side].extend(terms)
    endorsements: list[dict[str, Any]] = []
    if await _table_exists(datasette, database, "endorsements"):
        rows = await db.execute("select state, stance, document, evidence, language from endorsements "
                                "where article_id = ? order by document, stance, state", [article_id])
        endorsements = [dict(r) for r in rows.rows]
    aliases = []
    if await _table_exists(datasette, database, "article_aliases"):
        rows = await db.execute("select url, reason, outlet from article_aliases where article_id = ? order by url",
                                [article_id])
        aliases = [{**dict(r), "href": safe_href(r["url"])} for r in rows.rows]
    status = a.get("translation_status")
    english_original = status == "not_needed" or a.get("language") == "en"
    return {
        "id": a["id"],
        "title": a.get("title"),
        "title_en": a.get("title_en"),
        "language": a.get("language") or "und",
        "language_label": language_label(a.get("language")),
        "outlet": a.get("outlet"),
        "country": a.get("country"),
        "published": a.get("published"),
        "published_raw": a.get("published_raw"),
        "translation_status": status,
        "translation_provider": a.get("translation_provider"),
        "english_original": english_original,
        "relevant": a.get("relevant"),
        "relevance": a.get("relevance"),
        "primary_event": a.get("primary_event"),
        "url": a.get("canonical_url") or a.get("url"),
        "href": safe_href(a.get("canonical_url")) or safe_href(a.get("url")),
        "original": paragraphs(a.get("text"), terms_by_side["original"]),
        "title_marked": mark_terms(a.get("title"), terms_by_side["original"]),
        "english": paragraphs(a.get("text_en"), terms_by_side["translation"]),
        "title_en_marked": mark_terms(a.get("title_en"), terms_by_side["translation"]),
        "tags": tags,
        "endorsements": endorsements,
        "aliases": aliases,
    }


@hookimpl
def extra_template_vars(template: str, database: str | None, table: str | None, view_name: str,
                        request: Any, datasette: Any) -> Any:
    if view_name != "row" or table != "articles" or request is None or not database:
        return None

    async def inner() -> dict[str, Any]:
        pks = request.url_vars.get("pks", "")
        article_id = tilde_decode(pks.split(",")[0]) if pks else ""
        article = await load_article(datasette, database, article_id)
        return {"reaim_article": article, "reaim_css": _static_url(datasette, "reaim.css")}

    return inner


# -- charts -----------------------------------------------------------------------------------

WINDOW_WEEKS = 6

# The charts' SQL reads the partial indexes on relevant = 1 of archive/schema.py
# (RELEVANT_INDEXES) and the tag tables' primary keys, never the articles' rows with
# their texts: index-only scans, tested with EXPLAIN QUERY PLAN in
# tests/unit/test_datasette_scale.py.

# published is ISO 8601 (UTC): the string range finds the window in idx_articles_relevant_published;
# the julianday test is the exact rule (a malformed date never counts).
SQL_AROUND_SUMMITS = f"""
select e.id as summit_id, e.label as summit, e.start_date, e.end_date, a.language,
  cast((julianday(substr(a.published, 1, 10)) - julianday(e.start_date)) / 7.0 + 1000 as integer) - 1000 as week,
  count(*) as articles
from events e
join articles a on a.relevant = 1
  and a.published >= date(e.start_date, '-{7 * WINDOW_WEEKS} days')
  and a.published < date(e.start_date, '+{7 * WINDOW_WEEKS + 7} days')
  and julianday(substr(a.published, 1, 10))
    between julianday(e.start_date) - {7 * WINDOW_WEEKS} and julianday(e.start_date) + {7 * WINDOW_WEEKS + 6}
where e.kind = 'summit' and e.start_date is not null
group by e.id, week, a.language
order by e.start_date, week, a.language
"""

SQL_SUMMITS = """
select id, label, start_date, end_date, place from events
where kind = 'summit' and start_date is not null order by start_date
"""

SQL_BY_MONTH = """
select published_month as month, language, count(*) as articles
from articles where relevant = 1 and published_month is not null
group by published_month, language order by published_month, language
"""

# An article has one primary event, and (article_id, theme_id) is the key of article_themes:
# count(*) per summit and theme counts articles. INDEXED BY: at 1M articles (41% of them summit
# coverage) the planner's statistics chose the plain primary_event index, which reads every
# summit article's row with its texts: 5.1 s, over the time limit; the covering partial index
# takes 2.2 s. The index is made by archive/schema.py, which `reaim serve` runs first.
SQL_THEMES_BY_SUMMIT = """
with summits as (
  select e.id, e.label, e.start_date,
    (select count(*) from articles a where a.relevant = 1 and a.primary_event = e.id) as articles
  from events e where e.kind = 'summit'),
counts as (
  select s.id as summit_id, t.theme_id, count(*) as articles
  from summits s
  join articles a indexed by idx_articles_relevant_event on a.relevant = 1 and a.primary_event = s.id
  join article_themes t on t.article_id = a.id
  group by s.id, t.theme_id)
select s.id as summit_id, s.label as summit, s.start_date, c.theme_id, coalesce(th.label, c.theme_id) as theme,
  c.articles, s.articles as summit_articles
from counts c
join summits s on s.id = c.summit_id
left join themes th on th.id = c.theme_id
order by s.start_date, c.articles desc, c.theme_id
"""

SQL_SUMMIT_LANGUAGE = """
with counts as (
  select primary_event, language, count(*) as articles
  from articles where relevant = 1
  group by primary_event, language)
select coalesce(e.label, c.primary_event, '(none)') as event, coalesce(e.start_date, '9999') as start_date,
  c.language, c.articles
from counts c left join events e on e.id = c.primary_event
order by start_date, c.language, c.primary_event
"""

# Each chart's title and the queries it is drawn from (chart_data's keys): a chart one of whose
# queries timed out is left out and named on the page.
CHART_QUERIES = {"summits": SQL_SUMMITS, "around": SQL_AROUND_SUMMITS, "by_month": SQL_BY_MONTH,
                 "themes": SQL_THEMES_BY_SUMMIT, "summit_language": SQL_SUMMIT_LANGUAGE}
CHART_SOURCES = {
    "around-summits": ("Coverage around each summit, per language", ("summits", "around")),
    "timeline": ("Coverage over time, per language, summits marked", ("by_month",)),
    "themes-by-summit": ("Themes per summit", ("themes",)),
    "summit-language": ("Articles per event and language", ("summit_language",)),
}

FONT = "system-ui, -apple-system, 'Segoe UI', 'Noto Sans', 'Noto Sans CJK KR', sans-serif"


def _config() -> dict[str, Any]:
    return {"font": FONT, "view": {"stroke": None}, "axis": {"labelFontSize": 11, "titleFontSize": 12},
            "legend": {"labelFontSize": 11, "titleFontSize": 12}, "header": {"labelFontSize": 12}}


def _language_color(languages: list[str]) -> dict[str, Any]:
    return {"field": "language", "type": "nominal", "title": "Language",
            "scale": {"domain": languages, "scheme": "tableau10"}}


def _short(label: str) -> str:
    return re.sub(r"\s+summit\b", "", label or "")


def build_charts(data: dict[str, list[dict[str, Any]]]) -> list[dict[str, Any]]:
    """The page's charts: id, title, description, Vega-Lite spec (data inline), table of numbers, query link."""
    data = {key: data.get(key) or [] for key in CHART_QUERIES}  # a query that timed out: no rows
    languages = sorted({r["language"] for key in ("by_month", "summit_language", "around") for r in data[key]})
    color = _language_color(languages)
    charts: list[dict[str, Any]] = []

    # 1. Around each summit: weeks from the first day, per language, one panel per summit.
    summits = data["summits"]
    weeks = list(range(-WINDOW_WEEKS, WINDOW_WEEKS + 1))
    panels = []
    around_rows = []
    for s in summits:
        values = [{**r, "language_name": language_label(r["language"])} for r in data["around"]
                  if r["summit_id"] == s["id"]]
        around_rows += values
        title = f"{s['label']}, {_date_range(s['start_date'], s['end_date'])}"
        panels.append({
            "title": {"text": title, "anchor": "start", "fontSize": 13},
            "width": 560, "height": 120,
            "layer": [
                {"data": {"values": [{"week": 0}]},
                 "mark": {"type": "rect", "color": "#f4b400", "opacity": 0.25},
                 "encoding": {"x": {"field": "week", "type": "ordinal"}}},
                {"data": {"values": values},
                 "mark": {"type": "bar", "tooltip": True},
                 "encoding": {
                     "x": {"field": "week", "type": "ordinal", "scale": {"domain": weeks},
                           "title": "Weeks from the summit's first day (0: the summit week, shaded)",
                           "axis": {"labelAngle": 0, "labelAlign": "center"}},
                     "y": {"aggregate": "sum", "field": "articles", "type": "quantitative", "title": "Articles",
                           "axis": {"tickMinStep": 1}},
                     "color": color,
                     "tooltip": [{"field": "language_name", "title": "Language"},
                                 {"field": "week", "title": "Week"},
                                 {"aggregate": "sum", "field": "articles", "title": "Articles"}],
                 }},
            ],
        })
    if summits:
        charts.append({
            "id": "around-summits",
            "title": CHART_SOURCES["around-summits"][0],
            "description": (f"Relevant articles published from {WINDOW_WEEKS} weeks before to {WINDOW_WEEKS} weeks "
                            "after each summit's first day, per week and language (an article counts for every "
                            "summit whose window it falls in)."),
            "spec": {"config": _config(), "vconcat": panels, "resolve": {"scale": {"y": "shared"}}},
            "columns": ["summit", "week", "language", "articles"],
            "rows": around_rows,
            "query": "coverage_timeline",
        })

    # 2. The whole timeline, per month and language, summits marked.
    by_month = [{**r, "date": f"{r['month']}-01", "language_name": language_label(r["language"])}
                for r in data["by_month"]]
    if by_month:
        marks = [{"date": s["start_date"], "label": _short(s["label"]),
                  "dates": _date_range(s["start_date"], s["end_date"])} for s in summits]
        charts.append({
            "id": "timeline",
            "title": CHART_SOURCES["timeline"][0],
            "description": "Relevant articles per month of publication and language; the dashed lines are the "
                           "summits' first days.",
            "spec": {
                "config": _config(), "width": 760, "height": 260,
                "layer": [
                    {"data": {"values": by_month},
                     "mark": {"type": "bar", "tooltip": True},
                     "encoding": {
                         "x": {"field": "date", "type": "temporal", "timeUnit": "yearmonth", "title": "Month",
                               "axis": {"format": "%b %Y", "labelAngle": -40}},
                         "y": {"aggregate": "sum", "field": "articles", "type": "quantitative", "title": "Articles",
                               "axis": {"tickMinStep": 1}},
                         "color": color,
                         "tooltip": [{"field": "month", "title": "Month"},
                                     {"field": "language_name", "title": "Language"},
                                     {"aggregate": "sum", "field": "articles", "title": "Articles"}]}},
                    {"data": {"values": marks},
                     "mark": {"type": "rule", "strokeDash": [4, 3], "color": "#333", "tooltip": True},
                     "encoding": {"x": {"field": "date", "type": "temporal"},
                                  "tooltip": [{"field": "label", "title": "Summit"},
                                              {"field": "dates", "title": "Dates"}]}},
                    # Labels right of their line, the last one left of it (it would leave the chart).
                    *[{"data": {"values": group},
                       "mark": {"type": "text", "align": align, "dx": 4 if align == "left" else -4, "baseline": "top",
                                "y": 0, "fontSize": 11, "fontWeight": "bold", "color": "#333"},
                       "encoding": {"x": {"field": "date", "type": "temporal"}, "text": {"field": "label"}}}
                      for align, group in (("left", marks[:-1]), ("right", marks[-1:])) if group],
                ],
            },
            "columns": ["month", "language", "articles"],
            "rows": data["by_month"],
            "query": "timeline_by_month",
        })

    # 3. Themes per summit: share of the summit's articles with each theme.
    themes = [{**r, "share": (r["articles"] / r["summit_articles"]) if r["summit_articles"] else 0,
               "summit_short": _short(r["summit"])} for r in data["themes"]]
    if themes:
        order = sorted({r["theme"] for r in themes},
                       key=lambda t: (-sum(r["articles"] for r in themes if r["theme"] == t), t))
        summit_order = [_short(s["label"]) for s in summits]
        charts.append({
            "id": "themes-by-summit",
            "title": CHART_SOURCES["themes-by-summit"][0],
            "description": "Share of each summit's articles (its primary event) tagged with each theme; the "
                           "number in the cell is the count of articles.",
            "spec": {
                "config": _config(), "data": {"values": themes},
                "width": {"step": 150}, "height": {"step": 24},
                "encoding": {
                    "x": {"field": "summit_short", "type": "nominal", "sort": summit_order, "title": None,
                          "axis": {"orient": "top", "labelAngle": 0, "labelLimit": 150}},
                    "y": {"field": "theme", "type": "nominal", "sort": order, "title": None,
                          "axis": {"labelLimit": 260}},
                },
                "layer": [
                    {"mark": {"type": "rect", "tooltip": True},
                     "encoding": {
                         "color": {"field": "share", "type": "quantitative", "title": "Share of articles",
                                   "scale": {"scheme": "blues", "domain": [0, 1]}, "legend": {"format": ".0%"}},
                         "tooltip": [{"field": "summit", "title": "Summit"}, {"field": "theme", "title": "Theme"},
                                     {"field": "articles", "title": "Articles"},
                                     {"field": "share", "title": "Share", "format": ".0%"}]}},
                    {"mark": {"type": "text", "fontSize": 11},
                     "encoding": {
                         "text": {"field": "articles", "type": "quantitative"},
                         "color": {"condition": {"test": "datum.share > 0.55", "value": "white"}, "value": "#222"}}},
                ],
            },
            "columns": ["summit", "theme", "articles", "summit_articles"],
            "rows": data["themes"],
            "query": "themes_by_summit",
        })

    # 4. Coverage by primary event and language.
    summit_language = [{**r, "language_name": language_label(r["language"])} for r in data["summit_language"]]
    if summit_language:
        event_order = []
        for r in summit_language:
            if r["event"] not in event_order:
                event_order.append(r["event"])
        charts.append({
            "id": "summit-language",
            "title": CHART_SOURCES["summit-language"][0],
            "description": "Relevant articles by their primary event (the event they are mainly about) and language.",
            "spec": {
                "config": _config(), "data": {"values": summit_language},
                "width": 560, "height": {"step": 26},
                "mark": {"type": "bar", "tooltip": True},
                "encoding": {
                    "y": {"field": "event", "type": "nominal", "sort": event_order, "title": None,
                          "axis": {"labelLimit": 320}},
                    "x": {"aggregate": "sum", "field": "articles", "type": "quantitative", "title": "Articles",
                          "axis": {"tickMinStep": 1}},
                    "color": color,
                    "tooltip": [{"field": "event", "title": "Event"}, {"field": "language_name", "title": "Language"},
                                {"aggregate": "sum", "field": "articles", "title": "Articles"}],
                },
            },
            "columns": ["event", "language", "articles"],
            "rows": data["summit_language"],
            "query": "coverage_by_summit_language",
        })
    return charts


async def chart_data(datasette: Any, database: str) -> tuple[dict[str, list[dict[str, Any]]], list[str]]:
    """The rows of each chart query, and the keys of the queries that hit the SQL time limit
    (``sql_time_limit_ms``): those have no rows, and the page says which charts are missing."""
    db = datasette.get_database(database)
    data: dict[str, list[dict[str, Any]]] = {}
    timed_out: list[str] = []

    async def run(key: str, sql: str) -> None:
        try:
            data[key] = [dict(r) for r in (await db.execute(sql)).rows]
        except QueryInterrupted:
            timed_out.append(key)

    # Side by side on Datasette's SQL threads: the page waits for the slowest query, not the sum.
    await asyncio.gather(*(run(key, sql) for key, sql in CHART_QUERIES.items()))
    return data, [key for key in CHART_QUERIES if key in timed_out]


def timed_out_charts(timed_out: list[str]) -> list[str]:
    """The ids of the charts drawn from a query that timed out."""
    return [chart for chart, (_, sources) in CHART_SOURCES.items() if set(sources) & set(timed_out)]


async def _archive_databases(datasette: Any) -> list[str]:
    names = []
    for name, db in datasette.databases.items():
        if name.startswith("_"):
            continue
        if await db.table_exists("articles") and await db.table_exists("events"):
            names.append(name)
    return names


async def charts_view(datasette: Any, request: Any) -> Response:
    names = await _archive_databases(datasette)
    wanted = request.args.get("db")
    if wanted and wanted not in names:
        raise NotFound(f"no archive named {wanted}")
    database = wanted or (names[0] if names else None)
    permissions: list[Any] = ["view-instance"]
    if database:
        permissions.insert(0, ("view-database", database))
    await datasette.ensure_permissions(request.actor, permissions)
    charts: list[dict[str, Any]] = []
    missing: list[str] = []
    if database:
        data, timed_out = await chart_data(datasette, database)
        missing = timed_out_charts(timed_out)
        charts = [c for c in build_charts(data) if c["id"] not in missing]
    context = {
        "archive_db": database,
        "archive_dbs": names,
        "charts": charts,
        "timed_out": [CHART_SOURCES[c][0] for c in missing],
        "time_limit_ms": datasette.setting("sql_time_limit_ms"),
        "reaim_css": _static_url(datasette, "reaim.css"),
        "chart_scripts": [_static_url(datasette, f) for f in (*VEGA_FILES, "charts.js")],
    }
    return Response.html(await datasette.render_template("reaim_charts.html", context, request=request))


@hookimpl
def register_routes(datasette: Any) -> list[tuple[str, Any]]:
    return [(r"^/-/charts$", charts_view)]


@hookimpl
def menu_links(datasette: Any, actor: Any, request: Any) -> list[dict[str, str]]:
    return [{"href": datasette.urls.path("/-/charts"), "label": "Charts"}]

"""The archive in Datasette, in-process: metadata, article page, charts, safety settings.

The same server as `reaim serve` (archive.datasette.datasette_app shares its
settings, templates and static mount with serve_command), on a small archive
built here; tests/browser/test_ui.py looks at the demo archive in Chromium.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import re
from html import unescape
from importlib import resources
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

import pytest
import sqlite_utils
import yaml

from archive.datasette import (
    PUBLIC_SETTINGS,
    STATIC_MOUNT,
    datasette_app,
    metadata_for,
    serve_command,
    static_dir,
    templates_dir,
)
from archive.datasette_plugin import VEGA_FILES, bold_markers, mark_terms, safe_href
from archive.schema import open_db
from archive.store import save_article, save_taxonomy
from crawler.items import article_id

XSS_TITLE = "<script>alert(1)</script> Summit news"
XSS_TEXT = "Delegates met in Seoul.\n<img src=x onerror=alert(2)> and <svg onload=alert(3)>"

EVENTS = [
    {"id": "reaim-2023", "label": "REAIM 2023 summit (The Hague)", "kind": "summit", "start_date": "2023-02-15",
     "end_date": "2023-02-16", "place": "The Hague", "country": "NL"},
    {"id": "reaim-2024", "label": "REAIM 2024 summit (Seoul)", "kind": "summit", "start_date": "2024-09-09",
     "end_date": "2024-09-10", "place": "Seoul", "country": "KR"},
    {"id": "unga", "label": "UN General Assembly resolution", "kind": "resolution", "start_date": "2024-11-06"},
]
THEMES = [{"id": "human-control", "label": "Human control and responsibility"},
          {"id": "international-law", "label": "International law"}]


def record(url: str, language: str, title: str, text: str, **extra: Any) -> dict[str, Any]:
    return {"url": url, "canonical_url": url, "outlet": "Test Daily", "country": "KR", "language": language,
            "title": title, "text": text, "relevant": True,
            "published": extra.pop("published", "2024-09-09T06:00:00+00:00"),
            "primary_event": "reaim-2024", "events": ["reaim-2024"], "themes": [], **extra}


KO_TEXT = ("REAIM 고위급회의가 9일 서울에서 개막했다.\n"
           "참석자들은 무기체계가 어떤 경우에도 인간의 통제 아래 있어야 한다는 데 공감대를 이뤘다.")
KO_TEXT_EN = ("The REAIM high-level meeting opened in Seoul on the 9th.\n"
              "Participants agreed that weapon systems must remain under human control in all cases.")

ARTICLES = {
    "ko1": record(
        "https://ko.example/news/1", "ko", "REAIM 고위급회의 서울서 개막…\"AI 군사적 이용, 인간의 통제 아래 둬야\"",
        KO_TEXT, title_en="REAIM high-level meeting opens in Seoul", text_en=KO_TEXT_EN,
        translation_status="done", translation_provider="libre",
        events=["reaim-2024", "reaim-2023"], themes=["human-control"],
        evidence={
            "reaim-2024": {"score": 0.84, "terms": ["서울", "고위급회의"], "text": "original",
                           "snippet": "REAIM 고위급회의가 9일 서울에서 개막했다."},
            "reaim-2023": {"score": 0.4, "terms": ["The Hague"], "text": "translation",
                           "snippet": "after the first summit in The Hague"},
            "human-control": {"score": 0.65, "terms": ["인간의 통제"], "text": "original",
                              "snippet": "무기체계가 어떤 경우에도 인간의 통제 아래 있어야 한다"},
        }),
    "en1": record("https://en.example/seoul", "en", "Seoul summit backs a blueprint for military AI",
                  "About 60 countries endorsed the Blueprint for Action in Seoul.", translation_status="not_needed",
                  themes=["international-law", "human-control"], published="2024-09-10T12:00:00+00:00",
                  evidence={"reaim-2024": {"score": 0.9, "terms": ["Seoul"], "text": "original",
                                           "snippet": "the Blueprint for Action in Seoul"}}),
    "nl1": record("https://nl.example/haag", "nl", "Top in Den Haag", "De REAIM-top in Den Haag is begonnen.",
                  title_en="Summit in The Hague", text_en="The REAIM summit in The Hague has begun.",
                  translation_status="done", primary_event="reaim-2023", events=["reaim-2023"],
                  themes=["international-law"], published="2023-02-15T10:00:00+00:00"),
    "xss": record("javascript:alert(5)", "en", XSS_TITLE, XSS_TEXT, outlet="<b>Evil</b> Times",
                  translation_status="not_needed", themes=["human-control"],
                  evidence={"human-control": {"score": 0.5, "terms": ["<script>"], "text": "original",
                                              "snippet": "<svg onload=alert(4)> <script>x</script>"}}),
}
ENDORSEMENTS = [
    {"article_id": "en1", "state": "KR", "stance": "endorsed", "document": "blueprint-for-action-2024",
     "evidence": "About 60 countries endorsed the Blueprint for Action.", "language": "en"},
    {"article_id": "en1", "state": "CN", "stance": "not_endorsed", "document": "blueprint-for-action-2024",
     "evidence": "China did not endorse it.", "language": "en"},
    {"article_id": "ko1", "state": "CN", "stance": "endorsed", "document": "blueprint-for-action-2024",
     "evidence": "중국도 지지했다.", "language": "ko"},
]


def build_archive(path: Path, *, endorsements: bool = True) -> Path:
    database = open_db(path)
    save_taxonomy(database, EVENTS, THEMES, "test-1")
    for key, rec in ARTICLES.items():
        save_article(database, rec, key)
    if endorsements:
        database["endorsements"].insert_all(ENDORSEMENTS, pk=("article_id", "state", "document"), replace=True)
    elif database["endorsements"].exists():
        database["endorsements"].drop()
    database.close()
    return path


@pytest.fixture
def archive(tmp_path: Path, plugin: None) -> Path:
    return build_archive(tmp_path / "tiny.db")


def get(path: Path, *urls: str, public: bool = False) -> list[Any]:
    async def go() -> list[Any]:
        app = datasette_app(path, public=public)
        return [await app.client.get(url) for url in urls]

    return asyncio.run(go())


def get_html(path: Path, url: str, public: bool = False) -> str:
    (response,) = get(path, url, public=public)
    assert response.status_code == 200, (url, response.status_code, response.text[:2000])
    return response.text


# Assets a page loads: script src, link href (stylesheets, icons), img src, CSS url().
ASSET = re.compile(r"""<(?:script|img|iframe|source)\b[^>]*\bsrc\s*=\s*["']?([^"'\s>]+)"""
                   r"""|<link\b[^>]*\bhref\s*=\s*["']?([^"'\s>]+)|url\(\s*["']?([^"')\s]+)""", re.I)


def remote_assets(html: str) -> list[str]:
    """Every asset URL of the page that is not on this server or loopback."""
    out = []
    for groups in ASSET.findall(html):
        url = unescape(next(g for g in groups if g))
        parts = urlsplit(url)
        if parts.scheme in ("", "data") and not url.startswith("//"):
            continue
        if parts.hostname in ("127.0.0.1", "localhost", "::1"):
            continue
        out.append(url)
    return out


# -- serve_command and settings ----------------------------------------------------------------


def _settings(cmd: list[str]) -> dict[str, str]:
    return {cmd[i + 1]: cmd[i + 2] for i, arg in enumerate(cmd) if arg == "--setting"}


def test_serve_command_is_read_only_safe_and_mounts_templates_and_static(tmp_path: Path) -> None:
    db = tmp_path / "reaim.db"
    cmd = serve_command(db, port=8123)
    assert "-i" not in cmd and "--immutable" not in cmd  # a crawl may be writing the live file
    assert cmd[cmd.index("--host") + 1] == "127.0.0.1" and cmd[cmd.index("--port") + 1] == "8123"
    assert cmd[cmd.index("--template-dir") + 1] == str(templates_dir())
    assert cmd[cmd.index("--static") + 1] == f"{STATIC_MOUNT}:{static_dir()}"
    settings = _settings(cmd)
    assert settings["allow_download"] == "off"
    assert int(settings["sql_time_limit_ms"]) <= 3000 and int(settings["facet_time_limit_ms"]) <= 1000
    assert "default_allow_sql" not in settings

    public = _settings(serve_command(db, public=True))
    assert public["default_allow_sql"] == "off" and public["allow_download"] == "off"
    assert public["allow_csv_stream"] == "off"
    assert int(public["max_returned_rows"]) <= 500
    assert int(public["sql_time_limit_ms"]) <= 2000
    assert set(PUBLIC_SETTINGS) <= set(public)
    assert serve_command(db, extra=["--get", "/"])[-2:] == ["--get", "/"]


def test_templates_and_vendored_js_are_package_data_with_their_licences() -> None:
    for name in ("row.html", "reaim_charts.html"):
        assert (templates_dir() / name).is_file(), f"archive/templates/{name} missing: package-data?"
    for name in ("charts.js", "reaim.css", *VEGA_FILES):
        assert (static_dir() / name).is_file(), f"archive/static/{name} missing: package-data?"
    readme = (static_dir() / "vendor" / "README.md").read_text(encoding="utf-8")
    for name in VEGA_FILES:
        path = static_dir() / name
        assert (path.parent / "LICENSE").is_file() and "Redistribution" in (path.parent / "LICENSE").read_text()
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        assert digest in readme, f"{name}: sha256 {digest} is not the one recorded in vendor/README.md"
        text = path.read_text(encoding="utf-8")
        # Nothing fetched at run time: the only absolute URLs are XML namespaces and doc links.
        for url in re.findall(r"https?://[\w./-]+", text):
            assert url.startswith(("http://www.w3.org/", "https://vega.github.io/schema/", "https://github.com/")), url


# -- metadata ------------------------------------------------------------------------------------


def test_metadata_describes_tables_facets_and_queries() -> None:
    meta = yaml.safe_load((resources.files("archive") / "metadata.yml").read_text(encoding="utf-8"))
    assert meta["title"] and meta["description_html"] and meta["license"] and meta["source"]
    db = meta["databases"]["reaim"]
    tables = db["tables"]
    facets = tables["article_list"]["facets"]
    assert {"language", "primary_event", "outlet", "country", "published_month"} <= set(facets)
    # No default array facets: on this view they time out from ~20k articles (docs/archive-scale.md).
    assert all(isinstance(f, str) for f in facets)
    assert tables["article_list"]["sort_desc"] == "published" and tables["articles"]["sort_desc"] == "published"
    assert tables["events"]["label_column"] == "label" and tables["themes"]["label_column"] == "label"
    for name in ("articles", "article_list", "events", "themes", "article_events", "article_themes", "endorsements"):
        assert tables[name].get("description") or tables[name].get("description_html"), name
    for name in ("articles", "article_list", "events", "article_events", "endorsements"):
        assert tables[name].get("columns"), name
    queries = db["queries"]
    assert {"search", "coverage_by_summit_language", "timeline_by_month", "top_outlets_by_language",
            "themes_by_summit", "export_articles", "coverage_timeline"} <= set(queries)
    optional = db["plugins"]["reaim"]["optional_queries"]
    assert optional["who_endorsed_what"]["requires"] == ["endorsements"]


def test_metadata_links_follow_the_database_name(tmp_path: Path) -> None:
    meta = metadata_for(tmp_path / "custom.db")
    assert "/custom/article_list" in meta["description_html"] and "/reaim/" not in meta["description_html"]
    assert "/-/charts" in meta["description_html"]
    assert "plugins" in meta["databases"]["custom"]


# -- pages ---------------------------------------------------------------------------------------


def test_article_page_shows_original_and_english_side_by_side_with_evidence(archive: Path) -> None:
    html = get_html(archive, "/tiny/articles/ko1")
    assert '<section class="original" lang="ko"' in html and '<section class="english" lang="en">' in html
    assert "REAIM high-level meeting opens in Seoul" in html
    assert "Participants agreed that weapon systems must remain under" in html
    # Evidence: tag labels, scores, terms marked in the snippet and the text, which text matched.
    assert "REAIM 2024 summit (Seoul)" in html and "primary event" in html and "0.84" in html
    assert "<mark>인간의 통제</mark>" in html and "<mark>서울</mark>" in html
    assert "the English translation" in html and "<mark>The Hague</mark>" in html
    assert "9–10 Sep 2024" in html
    assert 'href="https://ko.example/news/1"' in html and "Read it at the source" in html
    assert "/tiny/article_events?event_id=reaim-2024" in html and "/tiny/article_themes?theme_id=human-control" in html
    # Endorsements reported by this article, and every stored column still there.
    assert "blueprint-for-action-2024" in html and "중국도 지지했다." in html
    assert "Every column, as stored" in html and "translation_status" in html


def test_article_already_in_english_has_one_column(archive: Path) -> None:
    html = get_html(archive, "/tiny/articles/en1")
    assert "side-by-side single" in html and '<section class="english"' not in html
    assert "Original (English)" in html


def test_scraped_text_is_escaped_everywhere(archive: Path) -> None:
    for url in ("/tiny/articles/xss", "/tiny/article_list", "/tiny/articles", "/tiny/search?q=summit",
                "/tiny/export_articles", "/-/charts"):
        html = get_html(archive, url)
        assert "<script>alert(1)" not in html, url
        assert "<img src=x onerror" not in html and "<svg onload" not in html, url
        assert "<b>Evil</b>" not in html, url
    html = get_html(archive, "/tiny/articles/xss")
    assert "&lt;script&gt;alert(1)&lt;/script&gt; Summit news" in html
    assert "&lt;img src=x onerror=alert(2)&gt;" in html
    assert "&lt;b&gt;Evil&lt;/b&gt; Times" in html
    assert 'href="javascript:' not in html.lower()  # a scraped javascript: URL is shown, never linked
    assert "Source (not a web link)" in html


def test_article_list_facets_and_headline_links(archive: Path) -> None:
    (response,) = get(archive, "/tiny/article_list.json?_facet=language&_facet_array=events&_facet_array=themes"
                               "&_extra=facet_results")
    facets = response.json()["facet_results"]
    counts = {f: {v["value"]: v["count"] for v in facets[f]["results"]} for f in facets}
    assert counts["language"] == {"en": 2, "ko": 1, "nl": 1}
    assert counts["events"]["reaim-2024"] == 3 and counts["events"]["reaim-2023"] == 2
    assert counts["themes"]["human-control"] == 3
    html = get_html(archive, "/tiny/article_list")
    for name in ("language", "primary_event", "outlet", "country", "published_month"):
        assert f'id="facet-{name}"' in html, name  # the metadata's facets, without asking
    assert '<a href="/tiny/articles/ko1">REAIM 고위급회의' in html


def test_search_results_link_to_the_article_and_show_matches_in_bold(archive: Path) -> None:
    # The search query gives URLs, not ids: the link is found by the id of the canonical URL (as
    # the crawler makes it), or by an alias URL; never by a scan of the articles table.
    database = open_db(archive)
    url = "https://ko.example/news/2"
    save_article(database, record(url, "ko", "서울 회의 폐막", "서울 회의가 폐막했다."), article_id(url))
    save_article(database, record("https://ko.example/amp/3", "ko", "제네바 회의 개막", "제네바 회의가 열렸다.",
                                  canonical_url="https://ko.example/news/3",
                                  aliases=["https://ko.example/amp/3"]), "old-id-3")
    # Its URL in the archive is now the AMP one (as after a re-crawl), which is also an alias.
    database.execute("update articles set canonical_url = 'https://ko.example/amp/3' where id = 'old-id-3'")
    database.conn.commit()
    database.close()
    html = get_html(archive, "/tiny/search?q=" + quote("회의"))
    assert f'<a href="/tiny/articles/{article_id(url)}">서울 회의 폐막</a>' in html
    assert '<a href="/tiny/articles/old-id-3">제네바 회의 개막</a>' in html
    assert "<strong>회의</strong>" in html and "**" not in html.split("<tbody>")[1]


def test_who_endorsed_what_is_offered_only_with_the_endorsements_table(tmp_path: Path, plugin: None) -> None:
    with_table = build_archive(tmp_path / "with.db")
    (response,) = get(with_table, "/with/who_endorsed_what.json?_shape=array")
    assert response.status_code == 200, response.text
    rows = {(r["document"], r["state"], r["stance"]): r for r in response.json()}
    assert rows[("blueprint-for-action-2024", "CN", "not_endorsed")]["conflicting"] == 1
    assert rows[("blueprint-for-action-2024", "KR", "endorsed")]["articles"] == 1
    (filtered,) = get(with_table, "/with/who_endorsed_what.json?_shape=array&state=kr")
    assert [r["state"] for r in filtered.json()] == ["KR"]
    html = get_html(with_table, "/with/who_endorsed_what")
    assert '<a href="/with/articles/en1">en1</a>' in html  # the article_id column links to the article
    assert "Who endorsed what" in get_html(with_table, "/with")

    without = build_archive(tmp_path / "without.db", endorsements=False)
    assert not sqlite_utils.Database(without)["endorsements"].exists()
    (missing,) = get(without, "/without/who_endorsed_what")
    assert missing.status_code == 404
    assert "Who endorsed what" not in get_html(without, "/without")
    assert get_html(without, "/without/articles/ko1")  # the article page needs no endorsements either


def test_coverage_timeline_marks_each_summit_and_fills_empty_months(archive: Path) -> None:
    (response,) = get(archive, "/tiny/coverage_timeline.json?_shape=array")
    rows = {r["month"]: r for r in response.json()}
    assert list(rows)[0] == "2023-02" and list(rows)[-1] == "2024-09" and len(rows) == 20
    assert rows["2023-02"]["articles"] == 1 and "◆ REAIM 2023 summit (The Hague), 2023-02-15 to 2023-02-16" \
        in rows["2023-02"]["summit"]
    assert rows["2023-03"]["articles"] == 0 and rows["2023-03"]["summit"] is None
    assert rows["2024-09"]["articles"] == 3 and rows["2024-09"]["bar"] == "███"
    assert rows["2024-09"]["by_language"] == "en 2, ko 1"


def test_charts_page_has_inline_specs_and_local_scripts_only(archive: Path) -> None:
    html = get_html(archive, "/-/charts")
    specs = {m[0]: json.loads(m[1]) for m in re.findall(r'<script type="application/json" id="spec-([\w-]+)">(.*?)</script>', html, re.S)}
    assert set(specs) == {"around-summits", "timeline", "themes-by-summit", "summit-language"}
    around = specs["around-summits"]["vconcat"]
    assert [p["title"]["text"] for p in around] == ["REAIM 2023 summit (The Hague), 15–16 Feb 2023",
                                                    "REAIM 2024 summit (Seoul), 9–10 Sep 2024"]
    seoul = around[1]["layer"][1]["data"]["values"]
    assert {(r["week"], r["language"]): r["articles"] for r in seoul} == {(0, "en"): 2, (0, "ko"): 1}
    themes = {(r["summit_id"], r["theme_id"]): r["articles"] for r in specs["themes-by-summit"]["data"]["values"]}
    assert themes == {("reaim-2023", "international-law"): 1, ("reaim-2024", "human-control"): 3,
                      ("reaim-2024", "international-law"): 1}
    scripts = re.findall(r'<script src="([^"]+)"', html)
    assert scripts == [f"/{STATIC_MOUNT}/{f}" for f in (*VEGA_FILES, "charts.js")]
    assert remote_assets(html) == []


def test_static_files_are_served(archive: Path) -> None:
    urls = [f"/{STATIC_MOUNT}/{f}" for f in (*VEGA_FILES, "charts.js", "reaim.css")]
    for url, response in zip(urls, get(archive, *urls), strict=True):
        assert response.status_code == 200, url
        assert len(response.content) > 100


def test_no_page_loads_anything_from_another_host(archive: Path) -> None:
    urls = ["/", "/tiny", "/tiny/article_list", "/tiny/articles", "/tiny/articles/ko1", "/tiny/articles/xss",
            "/tiny/search?q=" + quote("회의"), "/tiny/coverage_timeline", "/tiny/who_endorsed_what", "/-/charts",
            "/tiny/events", "/tiny/article_events"]
    for url, response in zip(urls, get(archive, *urls), strict=True):
        assert response.status_code == 200, (url, response.status_code)
        assert remote_assets(response.text) == [], url


def test_home_page_links_the_charts_and_the_article_list(archive: Path) -> None:
    html = get_html(archive, "/")
    assert 'href="/-/charts"' in html and 'href="/tiny/article_list"' in html
    assert "REAIM news archive" in html


# -- safety ----------------------------------------------------------------------------------------


def test_public_mode_refuses_arbitrary_sql_but_keeps_the_archive_browsable(archive: Path) -> None:
    sql = "/tiny.json?sql=" + quote("select 1 as x")
    (private,) = get(archive, sql)
    assert private.status_code == 200
    pages = ["/tiny/article_list", "/tiny/articles/ko1", "/tiny/search?q=" + quote("회의"), "/-/charts",
             "/tiny/coverage_timeline", "/tiny/who_endorsed_what"]
    refused, *rest = get(archive, sql, *pages, public=True)
    assert refused.status_code == 403
    for url, response in zip(pages, rest, strict=True):
        assert response.status_code == 200, (url, response.status_code)
    (settings,) = get(archive, "/-/settings.json", public=True)
    assert settings.json()["max_returned_rows"] <= 500 and settings.json()["allow_download"] is False


def test_the_database_file_is_not_downloadable(archive: Path) -> None:
    (response,) = get(archive, "/tiny.db")
    assert response.status_code in (403, 404)


# -- helpers ---------------------------------------------------------------------------------------


def test_mark_terms_cuts_text_into_plain_segments() -> None:
    segments = mark_terms("Summit in The  Hague; the hague again", ["The Hague"])
    assert [(s["text"], s["mark"]) for s in segments] == [
        ("Summit in ", False), ("The  Hague", True), ("; ", False), ("the hague", True), (" again", False)]
    assert mark_terms("<b>x</b>", ["<b>"]) == [{"text": "<b>", "mark": True}, {"text": "x</b>", "mark": False}]
    assert mark_terms("text", []) == [{"text": "text", "mark": False}]
    assert mark_terms(None, ["x"]) == []


def test_safe_href_and_bold_markers() -> None:
    assert safe_href("https://example.org/a?b=1") == "https://example.org/a?b=1"
    for bad in ("javascript:alert(1)", " JavaScript:alert(1)", "data:text/html,x", "//evil", "", None, "ftp://x/"):
        assert safe_href(bad) is None, bad
    assert str(bold_markers("a **b** <i>c</i>")) == "a <strong>b</strong> &lt;i&gt;c&lt;/i&gt;"
    assert str(bold_markers("**<x>** and **y")) == "<strong>&lt;x&gt;</strong> and **y"


def test_the_serve_command_line_runs_with_every_setting(archive: Path) -> None:
    """The real `datasette serve` parses the command line: settings, template dir, static mount."""
    import subprocess

    cmd = serve_command(archive, public=True, extra=["--get", "/-/settings.json"])
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    settings = json.loads(proc.stdout)
    for name, value in PUBLIC_SETTINGS.items():
        assert settings[name] == value, name
    page = subprocess.run(serve_command(archive, extra=["--get", "/tiny/articles/ko1"]),
                          capture_output=True, text=True, timeout=60)
    assert page.returncode == 0, page.stderr
    assert '<section class="english" lang="en">' in page.stdout and f"/{STATIC_MOUNT}/reaim.css" in page.stdout
    js = subprocess.run(serve_command(archive, extra=["--get", f"/{STATIC_MOUNT}/charts.js"]),
                        capture_output=True, text=True, timeout=60)
    assert js.returncode == 0 and "vegaLite.compile" in js.stdout


def test_an_empty_archive_still_has_working_pages(tmp_path: Path, plugin: None) -> None:
    empty = tmp_path / "empty.db"
    open_db(empty).close()
    html = get_html(empty, "/-/charts")
    assert "No relevant articles in this archive yet" in html and "data-vega-lite" not in html
    for url in ("/", "/empty/article_list", "/empty/coverage_timeline", "/empty/search?q=x"):
        get_html(empty, url)


def test_pending_translation_and_no_tags(tmp_path: Path, plugin: None) -> None:
    path = tmp_path / "pending.db"
    database = open_db(path)
    save_taxonomy(database, EVENTS, THEMES, "test-1")
    save_article(database, record("https://fr.example/1", "fr", "Sommet à Séoul", "Le sommet s'ouvre à Séoul.",
                                  translation_status="pending", events=[], primary_event=None), "fr1")
    database.close()
    html = get_html(path, "/pending/articles/fr1")
    assert "Translation pending" in html and "reaim translate --pending" in html
    assert "No event or theme tags." in html


def test_serve_command_reuses_one_metadata_file_per_archive(tmp_path) -> None:  # type: ignore[no-untyped-def]
    import tempfile
    from pathlib import Path

    from archive.datasette import serve_command

    db = tmp_path / "a.db"
    db.touch()
    before = set(Path(tempfile.gettempdir()).glob("reaim-datasette-*"))
    first = serve_command(db, port=8123)
    second = serve_command(db, port=8124)
    path = Path(first[first.index("--metadata") + 1])
    assert path == Path(second[second.index("--metadata") + 1]) and path.is_file()
    assert set(Path(tempfile.gettempdir()).glob("reaim-datasette-*")) - before <= {path}

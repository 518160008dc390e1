"""Extraction on the sample site's pages (written by us, messy like the real web)
and on small pages for the edge cases."""

from __future__ import annotations

from importlib import resources
from typing import Any

import pytest
import yaml

from crawler.dates import parse_date, to_utc_iso
from crawler.extract import extract_article, language_code
from reaim.sample_site.server import SampleSite

BASE = "http://reaim-sample.test"


def _load(name: str) -> Any:
    return yaml.safe_load((resources.files("reaim.sample_site") / name).read_text(encoding="utf-8"))


EXPECTED = _load("expected.yaml")["articles"]
ZONES = {s["id"].split("-seccion")[0].split("-rss")[0].split("-sitemap")[0]: s["timezone"] for s in _load("sources.yaml")}
NAMES = {s["id"].split("-seccion")[0].split("-rss")[0].split("-sitemap")[0]: s["name"] for s in _load("sources.yaml")}
SITE = SampleSite()


def _page(path: str) -> str:
    route = SITE.routes[path]
    return SITE.render(path, BASE).decode(route.encoding or "utf-8")


@pytest.fixture(scope="module")
def extracted() -> dict[str, Any]:
    return {
        p: extract_article(_page(p), BASE + p, source_timezone=ZONES[a["outlet"]], site_name=NAMES[a["outlet"]])
        for p, a in EXPECTED.items()
    }


def test_every_page_yields_title_and_body_without_boilerplate(extracted: dict[str, Any]) -> None:
    for path, art in extracted.items():
        lang = EXPECTED[path]["language"]
        assert len(art.text or "") >= (300 if lang in ("zh", "ja", "ko") else 900), path
        assert art.title and len(art.title) > 10, path
        for chrome in ("Cookie", "cookies", "Newsletter", "로그인", "회원가입"):
            assert chrome not in art.title, path


def test_titles_lose_the_outlet_name(extracted: dict[str, Any]) -> None:
    for path, art in extracted.items():
        assert art.title == " ".join(EXPECTED[path]["title"].split()), (path, art.title)


def test_dates_on_the_page_come_out_in_utc(extracted: dict[str, Any]) -> None:
    exact = 0
    checked = 0
    for path, art in extracted.items():
        a = EXPECTED[path]
        if a.get("date_only_in"):
            continue  # the page has none: only the feed or sitemap does (see the spider test)
        checked += 1
        truth = parse_date(a["published"])
        assert art.published is not None, path
        if art.published == to_utc_iso(truth.value):
            exact += 1
        else:  # the page prints a day only: the day must be right in the outlet's zone
            assert "date only" in art.published_method, (path, art.published, art.published_method)
            got = parse_date(art.published)
            assert got.value.astimezone(truth.value.tzinfo).date() == truth.value.date(), path
    assert exact >= checked - 3, (exact, checked)


def test_discovery_date_is_used_when_the_page_has_none() -> None:
    path = next(p for p, a in EXPECTED.items() if a.get("date_only_in") == "sitemap")
    art = extract_article(_page(path), BASE + path, source_timezone=ZONES[EXPECTED[path]["outlet"]],
                          fallback_published=EXPECTED[path]["published"])
    assert art.published == to_utc_iso(parse_date(EXPECTED[path]["published"]).value)
    assert art.published_method == "discovery"


def test_amp_copy_and_wire_republication_canonical_urls(extracted: dict[str, Any]) -> None:
    for path, a in EXPECTED.items():
        art = extracted[path]
        if a.get("duplicate_of") and "/amp/" in path:
            assert art.canonical_url == BASE + a["duplicate_of"], path  # AMP → its clean page
        elif a.get("duplicate_of"):
            assert art.canonical_url == BASE + path, path  # a republication keeps its own URL
        else:
            assert art.canonical_url == BASE + path, path


def test_language_hints_are_normalised(extracted: dict[str, Any]) -> None:
    hints = [h for art in extracted.values() for h in art.language_hints.values()]
    assert hints and all(h.isalpha() and h.islower() and len(h) in (2, 3) for h in hints)
    assert language_code("ko-KR") == "ko" and language_code("zh_CN") == "zh" and language_code("") is None


BODY = "<p>" + "Delegates from sixty countries discussed military uses of artificial intelligence in Seoul. " * 6 + "</p>"


def test_structured_metadata_and_provenance() -> None:
    html = f"""<html lang="en-GB"><head><title>Ignored | Example Times</title>
    <meta property="og:site_name" content="Example Times">
    <link rel="canonical" href="https://www.example.org/world/summit?utm_source=tw">
    <script type="application/ld+json">{{"@context": "https://schema.org", "@graph": [
      {{"@type": "WebSite", "name": "Example Times"}},
      {{"@type": "NewsArticle", "headline": "Summit backs blueprint", "datePublished": "2024-09-10T18:30:00+09:00",
        "author": [{{"@type": "Person", "name": "Ana Ruiz"}}, {{"@type": "Person", "name": "Kim Min-ji"}}],
        "articleSection": ["World"], "image": {{"url": "/img/summit.jpg"}}}}]}}</script>
    </head><body><article><h1>Summit backs blueprint</h1>{BODY}</article></body></html>"""
    art = extract_article(html, "https://example.org/world/summit?fbclid=1")
    assert art.title == "Summit backs blueprint" and art.provenance["title"] == "json-ld"
    assert art.canonical_url == "https://example.org/world/summit"
    assert art.authors == ["Ana Ruiz", "Kim Min-ji"] and art.section == "World"
    assert art.image == "https://example.org/img/summit.jpg"
    assert art.published == "2024-09-10T09:30:00+00:00" and art.published_raw == "2024-09-10T18:30:00+09:00"
    assert art.provenance["published"] == "json-ld" and art.language_hints["html_lang"] == "en"


def test_future_dates_are_rejected_and_a_cross_site_canonical_is_not_followed() -> None:
    html = f"""<html><head><meta property="article:published_time" content="2099-01-01T00:00:00Z">
    <link rel="canonical" href="https://wire.example/original"></head>
    <body><article><h1>Wire copy of the summit story</h1><time datetime="2024-09-10T10:00:00Z">10 Sep</time>{BODY}</article></body></html>"""
    art = extract_article(html, "https://local.example/news/1")
    assert art.published == "2024-09-10T10:00:00+00:00" and art.provenance["published"] == "time-element"
    assert art.canonical_url == "https://local.example/news/1"
    assert art.provenance["canonical_url_other_site"] == "https://wire.example/original"


def test_json_ld_article_body_when_the_page_body_is_a_teaser() -> None:
    body = "The Blueprint for Action was endorsed by about sixty states at the Seoul meeting. " * 6
    html = f"""<html><head><script type="application/ld+json">
    {{"@type": "NewsArticle", "headline": "Blueprint endorsed", "articleBody": "{body}"}}</script></head>
    <body><div class="teaser"><p>Subscribe to read more.</p></div></body></html>"""
    art = extract_article(html, "https://example.org/a")
    assert art.text == body.strip() and art.provenance["text"] == "json-ld-articleBody"


def test_garbage_input_does_not_raise() -> None:
    art = extract_article("\x00\x01 not html at all", "https://example.org/x")
    assert art.published is None and art.provenance["published"] == "not found"

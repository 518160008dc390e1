"""The bundled sample news site: its server, its manifest, and the ground truth the demo is checked against."""

from __future__ import annotations

import difflib
import html
import re
import urllib.error
import urllib.request
from collections import Counter
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit

import pytest
import yaml

from crawler.sources import load_sources
from reaim.sample_site.server import SITE_DIR, ManifestError, SampleSite, load_manifest

EVENTS = {
    "reaim-2023",
    "reaim-2024",
    "reaim-2026",
    "rok-un-geneva-2023",
    "us-political-declaration",
    "unga-resolution-ai-military",
    "gc-reaim",
}
THEMES = {
    "human-control",
    "international-law",
    "autonomous-weapons",
    "risk-and-testing",
    "escalation-and-stability",
    "nuclear-and-wmd",
    "data-governance",
    "capacity-building",
    "multistakeholder",
    "endorsement-and-geopolitics",
    "civilian-protection",
    "national-frameworks",
    "decision-support-and-targeting",
}
LANGUAGES = {"en", "ko", "es", "nl", "fr", "de", "zh", "ja", "ru"}


# --- helpers ------------------------------------------------------------------
def _get(url: str, method: str = "GET") -> tuple[int, dict[str, str], bytes]:
    request = urllib.request.Request(url, method=method)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, dict(response.headers.items()), response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers.items()), exc.read()


@pytest.fixture(scope="module")
def site():
    with SampleSite() as running:
        yield running


@pytest.fixture(scope="module")
def manifest():
    return load_manifest()


@pytest.fixture(scope="module")
def expected() -> dict[str, Any]:
    return yaml.safe_load((SITE_DIR / "expected.yaml").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def articles(expected) -> dict[str, dict[str, Any]]:
    return expected["articles"]


def _template(manifest, path: str, base: str) -> str:
    return manifest[path].file.read_text(encoding="utf-8").replace("{{BASE}}", base)


def _links(text: str, base_url: str) -> list[str]:
    """Every URL a feed, sitemap or HTML page points at (href, <link>, <loc>), absolute."""
    found = re.findall(r'href="([^"]+)"', text)
    found += re.findall(r"<link>\s*([^<\s]+)\s*</link>", text)
    found += re.findall(r"<loc>\s*([^<\s]+)\s*</loc>", text)
    return [urljoin(base_url, html.unescape(u)) for u in found]


def _decoded(manifest, path: str, body: bytes) -> str:
    return body.decode(manifest[path].encoding)


@pytest.fixture(scope="module")
def discovery(site, manifest) -> dict[str, Any]:
    """Walk the demo's sources the way the spider does: discovery documents, and the links they lead to.

    Section pages count only links their `allow`/`deny` let through, and follow
    listing pages by `follow` up to `max_depth`. A page also counts as linked when
    a linked page names it as rel=canonical (the AMP case).
    """
    sources = load_sources(SITE_DIR / "sources.yaml", site=site.base_url)
    docs: set[str] = set()
    linked: set[str] = set()  # what the spider would fetch as an article
    mentioned: set[str] = set()  # any same-site link in a discovery document
    for source in sources:
        queue = [(url, 0) for url in source.urls]
        while queue:
            url, depth = queue.pop()
            path = urlsplit(url).path
            docs.add(path)
            status, _, body = _get(url)
            assert status == 200, (source.id, url)
            text = _decoded(manifest, path, body)
            for link in _links(text, url):
                parts = urlsplit(link)
                if parts.netloc != urlsplit(site.base_url).netloc:
                    continue
                mentioned.add(parts.path)
                if source.kind == "section":
                    if any(re.search(p, link) for p in source.deny):
                        continue
                    if any(re.search(p, link) for p in source.allow):
                        linked.add(parts.path)
                    elif depth < source.max_depth and any(re.search(p, link) for p in source.follow):
                        queue.append((link, depth + 1))
                elif link != url:
                    linked.add(parts.path)
    canonical_of: dict[str, str] = {}
    for path in linked & set(manifest):
        text = _template(manifest, path, site.base_url)
        match = re.search(r'<link rel="canonical" href="([^"]+)"', text)
        if match:
            canonical_of[path] = urlsplit(match.group(1)).path
    return {
        "sources": sources,
        "docs": docs,
        "linked": linked | set(canonical_of.values()),
        "mentioned": mentioned,
        "canonical_of": canonical_of,
    }


# --- the server -----------------------------------------------------------------
def test_base_url_is_loopback_without_trailing_slash(site) -> None:
    assert re.fullmatch(r"http://127\.0\.0\.1:\d+", site.base_url)


def test_every_path_is_served_with_the_manifest_content_type(site, manifest) -> None:
    for path, route in manifest.items():
        status, headers, body = _get(site.url(path))
        assert status == route.status, path
        assert headers["Content-Type"] == route.content_type, path
        assert int(headers["Content-Length"]) == len(body) > 0, path


def test_base_placeholder_is_substituted(site, manifest) -> None:
    for path in manifest:
        _, _, body = _get(site.url(path))
        text = _decoded(manifest, path, body)
        assert "{{BASE}}" not in text, path
    _, _, body = _get(site.url("/lowlands-ledger/2023/02/13/hague-military-ai-summit-preview.html"))
    canonical = f'<link rel="canonical" href="{site.base_url}/lowlands-ledger/2023/02/13/hague-military-ai-summit-preview.html">'
    assert canonical in body.decode("utf-8")


def test_query_string_is_ignored_for_routing(site) -> None:
    path = "/diario-orzan/2026/02/05/solo-35-paises-firman-vias-para-la-accion.html"
    plain = _get(site.url(path))
    tagged = _get(site.url(path + "?utm_source=rss&utm_medium=feed"))
    assert plain[0] == tagged[0] == 200
    assert plain[2] == tagged[2]
    assert site.hits[path] >= 2


def test_unknown_path_is_404_with_html(site) -> None:
    status, headers, body = _get(site.url("/no/such/page.html"))
    assert status == 404
    assert headers["Content-Type"].startswith("text/html")
    assert b"404" in body


def test_head_sends_headers_only(site, manifest) -> None:
    path = "/mirinae/sitemap-news.xml"
    status, headers, body = _get(site.url(path), method="HEAD")
    assert status == 200 and body == b""
    assert headers["Content-Type"] == manifest[path].content_type
    assert int(headers["Content-Length"]) > 0


def test_robots_txt_allows_all_and_names_a_sitemap(site) -> None:
    status, headers, body = _get(site.url("/robots.txt"))
    text = body.decode("utf-8")
    assert status == 200 and headers["Content-Type"].startswith("text/plain")
    assert "User-agent: *" in text and "Disallow: /\n" not in text
    assert f"Sitemap: {site.base_url}/" in text


def test_absolute_form_request_uses_that_origin_as_base(site) -> None:
    """As a forward proxy (crawler/middlewares.py): links point at the requested host, not the port."""
    import http.client

    conn = http.client.HTTPConnection("127.0.0.1", site.port, timeout=10)
    conn.request("GET", "http://reaim-sample.test/polderpost/sitemap.xml")
    response = conn.getresponse()
    text = response.read().decode("utf-8")
    conn.close()
    assert response.status == 200
    assert "<loc>http://reaim-sample.test/polderpost/" in text and site.base_url not in text


def test_two_sites_run_side_by_side_and_stop() -> None:
    with SampleSite() as first, SampleSite() as second:
        assert first.base_url != second.base_url
        assert _get(first.url("/robots.txt"))[0] == _get(second.url("/robots.txt"))[0] == 200
    with pytest.raises(OSError):
        urllib.request.urlopen(first.url("/robots.txt"), timeout=2)


def test_bad_manifest_entries_are_named(tmp_path: Path) -> None:
    (tmp_path / "a.html").write_text("<p>hi</p>", encoding="utf-8")
    cases = {
        "- {path: /a.html, file: missing.html, content_type: text/html}": "missing.html",
        "- {path: a.html, file: a.html, content_type: text/html}": "entry #1",
        "- {path: /a.html, file: a.html}": "content_type",
        "- {path: /a.html, file: a.html, content_type: text/html, encoding: klingon}": "klingon",
        "- {path: /a.html, file: a.html, content_type: text/html}\n- {path: /a.html, file: a.html, content_type: text/html}": "entry #2 (/a.html): duplicate",
        "- {path: /a.html, file: ../x.html, content_type: text/html}": "outside",
        "- {path: /a.html, file: a.html, content_type: text/html, status: two}": "status",
        "pages: {oops}": "list of pages",
    }
    for text, needle in cases.items():
        (tmp_path / "site.yaml").write_text(text, encoding="utf-8")
        with pytest.raises(ManifestError) as info:
            load_manifest(tmp_path)
        assert needle in str(info.value), (text, str(info.value))


# --- legacy Korean charsets --------------------------------------------------------
def test_euc_kr_pages_are_euc_kr_bytes_not_utf8(site, manifest, articles) -> None:
    legacy = [p for p, r in manifest.items() if r.encoding.replace("_", "-").lower() == "euc-kr"]
    assert len(legacy) >= 5
    for path in legacy:
        _, headers, body = _get(site.url(path))
        assert body.decode("euc-kr") == _template(manifest, path, site.base_url), path
        with pytest.raises(UnicodeDecodeError):
            body.decode("utf-8")
    cases = Counter(a["charset_case"] for a in articles.values() if a.get("charset_case"))
    assert cases["euc-kr-meta-only"] >= 2 and cases["euc-kr-undeclared"] >= 2


def test_charset_cases_declare_what_they_say(site, manifest, articles) -> None:
    for path, article in articles.items():
        case = article.get("charset_case")
        if not case:
            continue
        route = manifest[path]
        assert route.encoding == "euc-kr" and "charset" not in route.content_type.lower(), path
        text = _template(manifest, path, site.base_url).lower()
        metas = re.findall(r"<meta[^>]*charset[^>]*>", text)
        if case == "euc-kr-meta-only":
            assert metas == ['<meta charset="euc-kr">'], path
        else:
            assert case == "euc-kr-undeclared" and metas == [], path
        hangul = sum(1 for c in text if "\uac00" <= c <= "\ud7a3")
        assert hangul > 300, path


# --- ground truth --------------------------------------------------------------------
def test_expected_entries_are_well_formed(articles) -> None:
    for path, a in articles.items():
        assert a["language"] in LANGUAGES, path
        assert set(a["events"]) <= EVENTS and set(a["themes"]) <= THEMES, path
        if a["relevant"]:
            assert a["primary_event"] in EVENTS and a["events"][0] == a["primary_event"], path
            assert 1 <= len(a["themes"]) <= 4, path
        else:
            assert a["primary_event"] is None and a["events"] == [] and a["themes"] == [], path
        if a.get("duplicate_of"):
            original = articles[a["duplicate_of"]]
            assert not original.get("duplicate_of"), path
            for key in ("language", "relevant", "primary_event"):
                assert a[key] == original[key], (path, key)


def test_counts_meet_the_requirements(articles, expected) -> None:
    originals = {p: a for p, a in articles.items() if not a.get("duplicate_of")}
    assert len(articles) >= 48 and len(originals) >= 48
    by_lang = Counter(a["language"] for a in originals.values())
    assert set(by_lang) == LANGUAGES
    assert min(by_lang.values()) >= 4
    assert all(by_lang[lang] > 4 for lang in ("en", "ko", "es"))
    relevant = [a for a in originals.values() if a["relevant"]]
    assert len(relevant) >= 34
    assert len(originals) - len(relevant) >= 12
    primary = Counter(a["primary_event"] for a in relevant)
    assert primary["reaim-2023"] >= 8 and primary["reaim-2024"] >= 10 and primary["reaim-2026"] >= 8
    langs_2023 = {a["language"] for a in relevant if a["primary_event"] == "reaim-2023"}
    assert len(langs_2023) >= 4
    assert sum(a["language"] == "ko" for a in relevant if a["primary_event"] == "reaim-2024") >= 4
    assert sum(a["language"] == "es" for a in relevant if a["primary_event"] == "reaim-2026") >= 3
    mentioned = Counter(e for a in relevant for e in a["events"])
    assert all(mentioned[e] >= 1 for e in EVENTS)
    # one Seoul article names The Hague as background and A Coruna as next host
    assert any(
        a["primary_event"] == "reaim-2024" and {"reaim-2023", "reaim-2026"} <= set(a["events"]) for a in relevant
    )
    assert len(expected["non_articles"]) >= 2


def test_every_page_is_in_the_manifest_and_reachable(articles, expected, manifest, discovery) -> None:
    for path in list(articles) + list(expected["non_articles"]):
        assert path in manifest, path
    for path in articles:
        assert path in discovery["linked"], f"{path} is not linked from any discovery document"
    for path in expected["non_articles"]:
        assert path not in articles, path
        assert path in discovery["docs"] or path in discovery["mentioned"], path
    # some non-article pages are fetched as article candidates (and must be rejected downstream)
    assert set(expected["non_articles"]) & discovery["linked"]


def test_discovery_uses_all_four_kinds(discovery, manifest) -> None:
    kinds = {s.kind for s in discovery["sources"]}
    assert kinds == {"rss", "atom", "sitemap", "section"}
    news_sitemaps = [p for p in discovery["docs"] if "sitemap-news/0.9" in _template(manifest, p, "http://x")]
    assert news_sitemaps
    text = _template(manifest, news_sitemaps[0], "http://x")
    for tag in ("news:publication>", "news:publication_date>", "news:title>", "news:language>", "news:keywords>"):
        assert tag in text
    rss = [p for p in discovery["docs"] if '<rss version="2.0"' in _template(manifest, p, "http://x")]
    assert rss and any(
        re.search(
            r"<pubDate>\w{3}, \d\d \w{3} \d{4} \d\d:\d\d:\d\d ([+-]\d{4}|GMT)</pubDate>",
            _template(manifest, p, "http://x"),
        )
        for p in rss
    )
    section = next(s for s in discovery["sources"] if s.kind == "section" and s.follow)
    page = _template(manifest, urlsplit(section.urls[0]).path, "http://x")
    rejected = [
        u
        for u in _links(page, "http://x")
        if u.startswith("http://x/diario-orzan/")
        and (any(re.search(p, u) for p in section.deny) or not any(re.search(p, u) for p in section.allow))
    ]
    assert any("quienes-somos" in u for u in rejected) and any("etiqueta" in u for u in rejected)
    assert any("usuarios/acceso" in u for u in rejected)


def test_duplicates(articles, manifest, discovery) -> None:
    duplicates = {p: a["duplicate_of"] for p, a in articles.items() if a.get("duplicate_of")}
    amp = [p for p in duplicates if "/amp/" in p]
    assert amp, "an AMP duplicate"
    for path in amp:
        original = duplicates[path]
        assert discovery["canonical_of"][path] == original
        assert f'<link rel="amphtml" href="http://x{path}">' in _template(manifest, original, "http://x")
    feeds = "".join(_template(manifest, d, "http://x") for d in discovery["docs"])
    assert any(f"http://x{duplicates[p]}?utm_source=" in feeds for p in amp), "utm-tagged link in a feed"
    wire = [p for p in duplicates if "/amp/" not in p]
    assert wire, "a wire republication"
    for path in wire:
        original = duplicates[path]
        assert path.split("/")[1] != original.split("/")[1]  # another outlet
        copy, source = (_template(manifest, p, "http://x") for p in (path, original))
        assert re.search(r'rel="canonical" href="http://x' + re.escape(path), copy)
        assert _title(copy) != _title(source)

        def body(t: str) -> str:
            return re.sub(r"<[^>]+>", "", " ".join(re.findall(r"<p>(.*?)</p>", t, flags=re.S)))

        assert difflib.SequenceMatcher(None, body(copy), body(source)).ratio() > 0.9


def _title(text: str) -> str:
    return re.search(r"<h1[^>]*>(.*?)</h1>", text, flags=re.S).group(1)


def test_html_lang_present_missing_and_wrong(articles, manifest) -> None:
    seen = Counter()
    for path, a in articles.items():
        match = re.search(r"<html([^>]*)>", _template(manifest, path, "http://x"))
        lang = re.search(r'lang="([^"]+)"', match.group(1)) if match else None
        if lang is None:
            seen["missing"] += 1
        elif lang.group(1).split("-")[0].lower() != a["language"]:
            seen["wrong"] += 1
        else:
            seen["right"] += 1
    assert seen["missing"] >= 2 and seen["wrong"] >= 1 and seen["right"] > len(articles) / 2


def test_date_formats_vary(articles, manifest, discovery) -> None:
    pages = {p: _template(manifest, p, "http://x") for p in articles}
    joined = "\n".join(pages.values())
    for needle in (
        "2024년 9월 9일 오후 3:12",
        "9 septembre 2024",
        "2024年9月10日",
        'property="article:published_time"',
        '"datePublished"',
    ):
        assert needle in joined, needle
    assert re.search(r'<meta name="date" content="\d{4}-\d\d-\d\d \d\d:\d\d">', joined)  # naive local time

    undated = [p for p, a in articles.items() if a.get("date_only_in")]
    assert undated, "a page whose only date is in its feed or sitemap entry"
    feeds = "".join(_template(manifest, d, "http://x") for d in discovery["docs"])
    for path in undated:
        page = pages[path]
        assert not re.search(r'datePublished|published_time|DC\.date|<time|name="date"', page), path
        story = re.search(r"<article\b.*?</article>", page, flags=re.S).group(0)
        assert not re.search(r"20\d\d", re.sub(r"<[^>]+>", " ", story)), path
        entry = re.search(re.escape(f"http://x{path}") + r"(.*?)</(item|url|entry)>", feeds, flags=re.S)
        assert entry and re.search(r"<(pubDate|news:publication_date|published)>", entry.group(1)), path


def test_structured_metadata_on_some_pages_only(articles, manifest) -> None:
    kinds = Counter()
    for path in articles:
        text = _template(manifest, path, "http://x")
        ld, og = '"@type": "NewsArticle"' in text, 'property="og:title"' in text
        kinds[(ld, og)] += 1
        if '"articleBody"' in text:
            kinds["body"] += 1
    assert kinds[(True, True)] and kinds[(True, False)] and kinds[(False, True)] and kinds[(False, False)]
    assert kinds["body"] >= 3


def test_near_misses_do_not_mention_the_topic(articles, manifest) -> None:
    for path, a in articles.items():
        if a["relevant"]:
            continue
        body = " ".join(re.findall(r"<p>(.*?)</p>", _template(manifest, path, "http://x"), flags=re.S))
        for word in ("REAIM", "military AI", "militaire AI", "IA militar", "군사 AI", "군사적 이용", "Militär-KI"):
            assert word not in body, (path, word)

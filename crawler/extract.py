"""One decoded HTML page → one ``Article``: body text, metadata, date, canonical URL.

trafilatura does the body (precision settings first, recall settings and its
baseline as fallbacks) and htmldate the date-only fallback. Metadata comes from
the page's own structured data (JSON-LD, OpenGraph, meta), in that order,
because outlets fill those for search engines and keep them right. Every field
records which method produced it in ``article.provenance``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from typing import Any
from urllib.parse import urljoin

import htmldate
import lxml.html
import trafilatura

from crawler.dates import ParsedDate, find_text_datetime, parse_date, plausible, to_utc_iso
from crawler.items import Article
from crawler.urls import canonicalize, is_amp, same_site

# Below this, the precision pass missed the body (a short article, an odd layout).
MIN_BODY_CHARS = 250
_TITLE_SUFFIX = re.compile(r"\s+\|\s+[^|]{2,60}$")  # only "|": dashes and colons occur in headlines
_LANG = re.compile(r"^([a-zA-Z]{2,3})(?:[-_].*)?$")

PUBLISHED_META = (
    ("property", "article:published_time"),
    ("property", "og:published_time"),
    ("itemprop", "datePublished"),
    ("name", "article:published_time"),
    ("name", "pubdate"),
    ("name", "publishdate"),
    ("name", "publish-date"),
    ("name", "parsely-pub-date"),
    ("name", "sailthru.date"),
    ("name", "dc.date.issued"),
    ("name", "dcterms.created"),
    ("name", "date"),
)
ARTICLE_TYPES = {"article", "newsarticle", "reportage", "analysisnewsarticle", "opinionnewsarticle",
                 "reviewnewsarticle", "backgroundnewsarticle", "blogposting", "report", "webpage"}


def language_code(value: str | None) -> str | None:
    """``ko-KR``, ``zh_CN``, ``EN`` → ``ko``, ``zh``, ``en``; None if not a language tag."""
    if not value:
        return None
    m = _LANG.match(value.strip())
    return m.group(1).lower() if m else None


def _jsonld_objects(tree: lxml.html.HtmlElement) -> Iterator[dict[str, Any]]:
    for script in tree.xpath("//script[@type='application/ld+json']"):
        try:
            data = json.loads(script.text_content() or "null", strict=False)
        except ValueError:
            continue  # broken JSON-LD is common; the other sources still count
        stack = [data]
        while stack:
            node = stack.pop()
            if isinstance(node, list):
                stack.extend(node)
            elif isinstance(node, dict):
                if "@graph" in node:
                    stack.extend(node["@graph"] if isinstance(node["@graph"], list) else [node["@graph"]])
                yield node


def _jsonld_article(tree: lxml.html.HtmlElement) -> dict[str, Any]:
    """The page's Article-like JSON-LD object, or {}."""
    for node in _jsonld_objects(tree):
        types = node.get("@type")
        types = types if isinstance(types, list) else [types]
        if any(isinstance(t, str) and t.lower() in ARTICLE_TYPES for t in types):
            if any(k in node for k in ("headline", "datePublished", "articleBody")):
                return node
    return {}


def _names(value: Any) -> list[str]:
    if isinstance(value, str):
        return [v.strip() for v in re.split(r"\s*(?:,|;| and | und | et | y |、)\s*", value) if v.strip()]
    if isinstance(value, dict):
        return _names(value.get("name"))
    if isinstance(value, list):
        return [n for v in value for n in _names(v)]
    return []


class _Meta:
    """<meta> lookup by property/name/itemprop, case-insensitive, first non-empty wins."""

    def __init__(self, tree: lxml.html.HtmlElement) -> None:
        self.values: dict[tuple[str, str], str] = {}
        for el in tree.xpath("//meta[@content]"):
            content = (el.get("content") or "").strip()
            if not content:
                continue
            for attr in ("property", "name", "itemprop", "http-equiv"):
                key = el.get(attr)
                if key:
                    self.values.setdefault((attr, key.strip().lower()), content)

    def get(self, attr: str, key: str) -> str | None:
        return self.values.get((attr, key.lower()))


def _first_text(tree: lxml.html.HtmlElement, xpath: str) -> str | None:
    for el in tree.xpath(xpath):
        text = " ".join(el.text_content().split()) if hasattr(el, "text_content") else str(el).strip()
        if text:
            return text
    return None


def _strip_site_suffix(title: str, site_names: list[str]) -> str:
    """"Headline | Outlet" and "Outlet - Headline" → "Headline"."""
    for name in site_names:
        for sep in (" | ", " - ", " – ", " — ", " : ", " · "):
            if name and title.endswith(sep + name):
                return title[: -len(sep + name)].strip()
            if name and title.startswith(name + sep):
                return title[len(name + sep) :].strip()
    m = _TITLE_SUFFIX.search(title)
    return title[: m.start()].strip() if m and m.start() > 15 else title


def _body(html: str, url: str, jsonld_body: str | None) -> tuple[str | None, str]:
    """Body text and the method that produced it; precision first, then fallbacks."""
    common = {"url": url, "include_comments": False, "include_tables": True, "deduplicate": True,
              "output_format": "txt", "with_metadata": False}
    text = trafilatura.extract(html, favor_precision=True, **common)
    if text and len(text) >= MIN_BODY_CHARS:
        return text, "trafilatura-precision"
    if jsonld_body and len(jsonld_body.strip()) >= max(MIN_BODY_CHARS, len(text or "")):
        return jsonld_body.strip(), "json-ld-articleBody"
    recall = trafilatura.extract(html, favor_recall=True, **common)
    if recall and is_prose(recall) and len(recall) > len(text or ""):
        return recall, "trafilatura-recall"
    if text:
        return text, "trafilatura-precision"
    _, baseline_text, _ = trafilatura.baseline(html)
    if baseline_text and is_prose(baseline_text):
        return baseline_text, "trafilatura-baseline"
    return None, "no body found"


def is_prose(text: str) -> bool:
    """True when most of ``text`` is in sentence-length lines, not a menu or link list.

    The recall fallback returns a page's navigation when it has no body (video
    stubs, galleries); that must not pass for an article.
    """
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    if not lines:
        return False
    cjk = sum(1 for ch in text if ord(ch) > 0x2E80) > len(text) / 3
    long_enough = 25 if cjk else 60
    prose = sum(len(line) for line in lines if len(line) >= long_enough)
    return prose >= 0.6 * sum(len(line) for line in lines)


def _published(
    tree: lxml.html.HtmlElement,
    html: str,
    body_text: str | None,
    jsonld: Mapping[str, Any],
    meta: _Meta,
    source_timezone: str | None,
    fallback_published: str | None,
) -> tuple[ParsedDate, str, str] | None:
    """(date, raw value, method) from the most trustworthy source that gives a plausible one."""
    candidates: list[tuple[str | None, str]] = [(jsonld.get("datePublished"), "json-ld")]
    candidates += [(meta.get(attr, key), f"meta:{key}") for attr, key in PUBLISHED_META]
    for el in tree.xpath("//time[@datetime]"):
        candidates.append((el.get("datetime"), "time-element"))
    for raw, method in candidates:
        if isinstance(raw, str) and (parsed := parse_date(raw, source_timezone)) and plausible(parsed.value):
            return parsed, raw, method
    # Time of day printed only in the text (CJK, Korean styles); the top of the page first.
    page_text = " ".join(tree.xpath("//body//text()[not(ancestor::script) and not(ancestor::style)]"))
    for text in (page_text[:4000], body_text or ""):
        found = find_text_datetime(text, source_timezone)
        if found and plausible(found[1].value):
            return found[1], found[0], "text"
    if fallback_published and (parsed := parse_date(fallback_published, source_timezone)) and plausible(parsed.value):
        return parsed, fallback_published, "discovery"
    try:
        day = htmldate.find_date(html, original_date=True, extensive_search=True, outputformat="%Y-%m-%d")
    except Exception:  # htmldate raises on odd markup; a missing date is not an extraction failure
        day = None
    if day and (parsed := parse_date(day, source_timezone)) and plausible(parsed.value):
        return parsed, day, "htmldate"
    return None


def extract_article(
    html: str,
    url: str,
    *,
    source_timezone: str | None = None,
    fallback_published: str | None = None,
    http_headers: Mapping[str, str] | None = None,
    site_name: str | None = None,
) -> Article:
    """Extract ``html`` fetched from ``url``. Never returns partial junk silently:
    a field not found stays None and its provenance says so."""
    headers = {k.lower(): v for k, v in (http_headers or {}).items()}
    article = Article(url=url)
    prov = article.provenance
    try:
        tree = lxml.html.fromstring(html)
    except (lxml.etree.ParserError, ValueError):
        tree = lxml.html.fromstring("<html><body></body></html>")
    jsonld = _jsonld_article(tree)
    meta = _Meta(tree)

    # Canonical URL: the page's own claim (same site only), else a guess from the URL.
    canonical_claims = [
        (tree.xpath("string(//link[translate(@rel,'CANONICAL','canonical')='canonical']/@href)"), "rel=canonical"),
        (meta.get("property", "og:url"), "og:url"),
    ]
    article.canonical_url, prov["canonical_url"] = canonicalize(url), "request-url"
    for claim, method in canonical_claims:
        claim = (claim or "").strip()
        if claim:
            absolute = urljoin(url, claim)
            if same_site(absolute, url):
                article.canonical_url, prov["canonical_url"] = canonicalize(absolute), method
                break
            prov["canonical_url_other_site"] = absolute
    else:
        if is_amp(url):
            article.canonical_url, prov["canonical_url"] = canonicalize(url), "amp-path-guess"
    if article.canonical_url != url:
        article.aliases.append(url)

    # Title.
    site_names = [n for n in (meta.get("property", "og:site_name"), site_name) if n]
    for value, method in (
        (jsonld.get("headline"), "json-ld"),
        (meta.get("property", "og:title"), "og:title"),
        (meta.get("name", "twitter:title"), "twitter:title"),
        (_first_text(tree, "//article//h1 | //h1"), "h1"),
        (_first_text(tree, "//title"), "title-element"),
    ):
        if isinstance(value, str) and value.strip():
            article.title, prov["title"] = _strip_site_suffix(" ".join(value.split()), site_names), method
            break

    # Body.
    jsonld_body = jsonld.get("articleBody") if isinstance(jsonld.get("articleBody"), str) else None
    article.text, prov["text"] = _body(html, url, jsonld_body)

    # Authors.
    for value, method in (
        (_names(jsonld.get("author")), "json-ld"),
        (_names(meta.get("name", "author")), "meta:author"),
        ([a for a in _names(meta.get("property", "article:author")) if "://" not in a], "meta:article:author"),
        (_names(_first_text(tree, "//*[@rel='author' or @itemprop='author' or contains(@class,'byline')]//text()/..")), "byline"),
    ):
        if value:
            article.authors, prov["authors"] = list(dict.fromkeys(value))[:10], method
            break

    # Section and image.
    section = jsonld.get("articleSection")
    section = section[0] if isinstance(section, list) and section else section
    for value, method in ((section, "json-ld"), (meta.get("property", "article:section"), "meta:article:section")):
        if isinstance(value, str) and value.strip():
            article.section, prov["section"] = value.strip(), method
            break
    image = jsonld.get("image")
    image = (image[0] if isinstance(image, list) and image else image)
    image = image.get("url") if isinstance(image, dict) else image
    for value, method in ((image, "json-ld"), (meta.get("property", "og:image"), "og:image")):
        if isinstance(value, str) and value.strip():
            article.image, prov["image"] = urljoin(url, value.strip()), method
            break

    # Language hints: every signal, reconciled later by the language stage.
    hints = {
        "html_lang": language_code(tree.get("lang") or tree.get("xml:lang")),
        "og_locale": language_code(meta.get("property", "og:locale")),
        "content_language": language_code(meta.get("http-equiv", "content-language") or headers.get("content-language")),
        "jsonld": language_code(jsonld.get("inLanguage") if isinstance(jsonld.get("inLanguage"), str) else None),
    }
    article.language_hints = {k: v for k, v in hints.items() if v}

    # Publication date, stored in UTC with its raw form and origin.
    found = _published(tree, html, article.text, jsonld, meta, source_timezone, fallback_published)
    if found:
        parsed, raw, method = found
        article.published = to_utc_iso(parsed.value)
        article.published_raw = str(raw)
        article.published_method = method + (" (zone assumed: source)" if parsed.assumed_zone else "") + (
            " (date only)" if parsed.date_only else ""
        )
        prov["published"] = article.published_method
    else:
        prov["published"] = "not found"
    return article


"""One generic spider for every source; the source's ``kind`` picks the discovery parser.

One spider rather than one per kind, so that an article listed by both a feed
and a sitemap shares one dupefilter and is fetched once.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import scrapy
from scrapy.http import Response
from scrapy.linkextractors import LinkExtractor
from twisted.python.failure import Failure

from crawler.charset import decode_html
from crawler.classify import PageVerdict, classify_extracted, classify_response
from crawler.discovery import (
    DiscoveryError,
    gdelt_requests,
    gdelt_split_needed,
    google_news_url,
    is_google_news_link,
    parse_gdelt,
    parse_google_news,
    split_request,
)
from crawler.extract import extract_article
from crawler.items import Article, FetchFailure, PageSkipped
from crawler.sources import Source, load_sources
from crawler.urls import is_amp

# Minimum body text for a page to count as an article rather than an index,
# teaser or error page. CJK packs more meaning per character.
MIN_ARTICLE_CHARS = {"ko": 80, "ja": 80, "zh": 60}
DEFAULT_MIN_ARTICLE_CHARS = 200


def _when(value: Any) -> datetime | None:
    """A source's ``start``/``end`` (YAML date or datetime, or ISO text) as aware UTC."""
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if not isinstance(value, datetime):  # a date
        value = datetime(value.year, value.month, value.day)
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _one_line(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()[:300]


class NewsSpider(scrapy.Spider):
    name = "news"

    def __init__(self, sources: str | None = None, source: str | None = None, site: str | None = None, **kwargs: Any):
        super().__init__(**kwargs)
        self._sources_arg = sources
        self._only_arg = [s for s in (source or "").split(",") if s]
        self._site_arg = site
        self.sources: list[Source] = []

    @classmethod
    def from_crawler(cls, crawler, *args, **kwargs):  # type: ignore[no-untyped-def]
        spider = super().from_crawler(crawler, *args, **kwargs)
        s = crawler.settings
        spider.sources = load_sources(
            spider._sources_arg or s.get("REAIM_SOURCES"),
            only=spider._only_arg or s.getlist("REAIM_SOURCE_IDS") or None,
            site=spider._site_arg or s.get("REAIM_SITE"),
        )
        return spider

    # --- start -----------------------------------------------------------
    async def start(self) -> AsyncIterator[Any]:
        parsers = {"rss": self.parse_feed, "atom": self.parse_feed, "sitemap": self.parse_sitemap,
                   "section": self.parse_section, "gdelt": self.parse_gdelt, "google_news": self.parse_google_news}
        for source in self.sources:
            for url in self._start_urls(source):
                yield scrapy.Request(
                    url,
                    callback=parsers[source.kind],
                    errback=self.on_error,
                    meta={"source": source, "section_depth": 0, "discovery_doc": True,
                          "conditional": source.kind in ("rss", "atom", "sitemap"),
                          **({"download_slot": "gdelt"} if source.kind == "gdelt" else {})},
                    dont_filter=True,
                )

    def _start_urls(self, source: Source) -> list[str]:
        """Feeds and pages as listed; for the discovery services, the query URLs built from the source."""
        x = source.extra
        if source.kind == "gdelt":
            end = _when(x.get("end")) or datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
            start = _when(x.get("start")) or end - timedelta(days=float(x.get("window_days", 7)))
            return gdelt_requests(x["query"], languages=[source.language], start=start, end=end,
                                  slice_hours=int(x.get("slice_hours", 24)), base_url=source.urls[0])
        if source.kind == "google_news":
            return [google_news_url(x["query"], hl=x["hl"], gl=x["gl"], ceid=x["ceid"], when=x.get("when"),
                                    base_url=source.urls[0])]
        return list(source.urls)

    def _count(self, source: Source, what: str) -> None:
        assert self.crawler.stats is not None
        self.crawler.stats.inc_value(f"source/{source.id}/{what}")

    def _not_modified(self, response: Response, source: Source) -> bool:
        """A 304 to a conditional GET: the feed is unchanged since the last run."""
        self._count(source, "discovery_pages")
        if response.status == 304:
            self._count(source, "not_modified")
            return True
        return False

    def _article_request(self, url: str, source: Source, via: str, discovery: dict[str, Any]) -> scrapy.Request:
        self._count(source, "links")
        return scrapy.Request(
            url,
            callback=self.parse_article,
            errback=self.on_error,
            meta={"source": source, "discovered_via": via, "discovery": discovery, "article": True},
        )

    # --- discovery -------------------------------------------------------
    def parse_feed(self, response: Response) -> Iterator[Any]:
        """RSS 2.0 and Atom: one request per item, with the feed's date and title kept."""
        source: Source = response.meta["source"]
        if self._not_modified(response, source):
            return
        sel = response.selector
        sel.remove_namespaces()
        items = sel.xpath("//item | //entry")
        if not items:
            yield FetchFailure(response.url, source.id, "discovery", "feed has no items (not RSS or Atom?)")
            return
        for item in items:
            link = item.xpath("link/@href[../@rel='alternate' or not(../@rel)]").get() or item.xpath(
                "link/text()"
            ).get() or item.xpath("guid[not(@isPermaLink='false')]/text()").get()
            if not link:
                continue
            discovery = {
                "feed_url": response.url,
                "title": (item.xpath("title/text()").get() or "").strip() or None,
                "published": (item.xpath("pubDate/text() | published/text() | date/text() | updated/text()").get() or "").strip() or None,
            }
            yield self._article_request(response.urljoin(link.strip()), source, source.kind, discovery)

    def parse_sitemap(self, response: Response) -> Iterator[Any]:
        """Sitemaps, sitemap indexes and Google News sitemaps.

        Parsed here rather than with SitemapSpider because that drops the
        news:* fields, which carry the publication date, title and keywords.
        """
        source: Source = response.meta["source"]
        if self._not_modified(response, source):
            return
        sel = response.selector
        sel.remove_namespaces()
        for loc in sel.xpath("//sitemapindex/sitemap/loc/text()").getall():
            yield response.follow(loc.strip(), callback=self.parse_sitemap, errback=self.on_error,
                                  meta={"source": source, "discovery_doc": True, "conditional": True})
        for url in sel.xpath("//urlset/url"):
            loc = (url.xpath("loc/text()").get() or "").strip()
            if not loc:
                continue
            discovery = {
                "sitemap_url": response.url,
                "lastmod": url.xpath("lastmod/text()").get(),
                "published": url.xpath("news/publication_date/text()").get(),
                "title": url.xpath("news/title/text()").get(),
                "language": url.xpath("news/publication/language/text()").get(),
                "keywords": url.xpath("news/keywords/text()").get(),
            }
            discovery = {k: v.strip() if isinstance(v, str) else v for k, v in discovery.items() if v}
            yield self._article_request(response.urljoin(loc), source, "sitemap", discovery)

    def parse_gdelt(self, response: Response) -> Iterator[Any]:
        """GDELT DOC 2.0 ArtList: a full answer (the 250 cap) is split in two windows and asked again."""
        source: Source = response.meta["source"]
        self._count(source, "discovery_pages")
        try:
            records = parse_gdelt(response.body)
        except DiscoveryError as exc:
            tries = response.meta.get("gdelt_tries", 0)
            if exc.retryable and tries < 3:  # the 5-second rule: the gdelt slot's delay spaces the retry
                yield response.request.replace(dont_filter=True, meta={**response.meta, "gdelt_tries": tries + 1})
            else:
                yield FetchFailure(response.url, source.id, "discovery", f"GDELT: {exc}")
            return
        if gdelt_split_needed(records):
            try:
                halves = split_request(response.url)
            except ValueError:
                self.crawler.stats.inc_value("gdelt/truncated")  # one 15-minute batch over the cap
            else:
                self.crawler.stats.inc_value("gdelt/split")
                for url in halves:
                    yield response.request.replace(url=url, meta={**response.meta, "gdelt_tries": 0})
                return
        for rec in records:
            discovery = {"service": "gdelt", "title": rec.get("title"), "seen": rec.get("seendate"),
                         "domain": rec.get("domain"), "language": rec.get("language"),
                         "sourcecountry": rec.get("sourcecountry"), "outlet": rec.get("domain")}
            yield self._article_request(rec["url"], source, "gdelt", {k: v for k, v in discovery.items() if v})

    def parse_google_news(self, response: Response) -> Iterator[Any]:
        """Google News RSS search: each item to the publisher's own page, with the outlet kept."""
        source: Source = response.meta["source"]
        self._count(source, "discovery_pages")
        try:
            items = parse_google_news(response.body)
        except DiscoveryError as exc:
            yield FetchFailure(response.url, source.id, "discovery", f"Google News: {exc}")
            return
        for item in items:
            discovery = {"service": "google_news", "title": item.get("title"), "outlet": item.get("outlet"),
                         "outlet_url": item.get("outlet_url"), "published": item.get("published"),
                         "google_link": item.get("link")}
            # The publisher's URL when the item carries it; else the Google link, which
            # redirects (older items) or not (then parse_article records a failure).
            target = item.get("publisher_url") or item["link"]
            yield self._article_request(target, source, "google_news", {k: v for k, v in discovery.items() if v})

    def parse_section(self, response: Response) -> Iterator[Any]:
        """Section and search pages: article links by ``allow``/``deny``, listing links by ``follow``."""
        source: Source = response.meta["source"]
        depth = response.meta.get("section_depth", 0)
        self._count(source, "discovery_pages")
        articles = LinkExtractor(allow=source.allow, deny=source.deny, unique=True)
        for link in articles.extract_links(response):
            yield self._article_request(link.url, source, "section", {"section_url": response.url, "anchor": link.text.strip() or None})
        if source.follow and depth < source.max_depth:
            listings = LinkExtractor(allow=source.follow, deny=source.deny, unique=True)
            for link in listings.extract_links(response):
                yield scrapy.Request(link.url, callback=self.parse_section, errback=self.on_error,
                                     meta={"source": source, "section_depth": depth + 1, "discovery_doc": True})

    # --- articles --------------------------------------------------------
    def parse_article(self, response: Response) -> Iterator[Any]:
        source: Source = response.meta["source"]
        self._count(source, "pages")
        if "partial" in response.flags:
            # A close-delimited body cut short (connection reset): never archive half an article.
            self._count(source, "errors")
            listed = (response.meta.get("redirect_urls") or [response.url])[0]
            yield FetchFailure(listed, source.id, "fetch", "response truncated (connection closed before the end)")
            return
        if is_google_news_link(response.url):
            yield FetchFailure(response.url, source.id, "discovery",
                               "Google News link did not redirect to the publisher (script-only interstitial)")
            return
        content_type = response.headers.get("Content-Type", b"").decode("latin-1") or None
        verdict = classify_response(content_type, response.body[:20000].decode("utf-8", "replace"))
        if verdict is not None:
            yield from self._skip(response.url, source, verdict)
            return
        decoded = decode_html(response.body, content_type, source.language)
        discovery: dict[str, Any] = dict(response.meta.get("discovery") or {})
        try:
            article: Article = extract_article(
                decoded.text,
                response.url,
                source_timezone=source.timezone,
                fallback_published=discovery.get("published"),
                http_headers={k.decode("latin-1"): v[0].decode("latin-1") for k, v in response.headers.items() if v},
                site_name=source.name,
            )
        except Exception as exc:  # an extractor bug must not abort the crawl
            yield FetchFailure(response.url, source.id, "extract", _one_line(f"{type(exc).__name__}: {exc}"))
            return
        if (is_amp(response.url) and not response.meta.get("from_amp")
                and article.provenance.get("canonical_url") in ("rel=canonical", "og:url")):
            # An AMP copy's text differs from the page's own; take the text from
            # the canonical page every time, so the archive does not depend on
            # which copy was found first. Fetched even if already seen, so the
            # AMP URL is recorded as an alias either way.
            aliases = [*response.meta.get("aliases", []), response.url]
            yield response.follow(article.canonical_url or response.url, callback=self.parse_article,
                                  errback=self.on_error, dont_filter=True,
                                  meta={**response.meta, "aliases": aliases, "from_amp": True, "article": False})
            return
        minimum = MIN_ARTICLE_CHARS.get(source.language, DEFAULT_MIN_ARTICLE_CHARS)
        verdict = classify_extracted(decoded.text[:200000], article.text, minimum)
        if verdict is not None:
            yield from self._skip(response.url, source, verdict)
            return
        if decoded.mojibake:
            # Never stored as clean text: recorded, and retried by a later run.
            yield FetchFailure(response.url, source.id, "charset",
                               f"text still garbled after charset repair ({decoded.encoding}, {decoded.method})")
            return
        article.aliases.extend(response.meta.get("aliases", []))
        if response.url != (response.request.url if response.request else response.url):
            article.aliases.append(response.request.url)  # type: ignore[union-attr]
        if (req_url := response.meta.get("redirect_urls")):
            article.aliases.extend(req_url)
        article.source_id = source.id
        article.outlet = discovery.get("outlet") or source.name
        article.country = source.country
        article.discovered_via = response.meta.get("discovered_via")
        article.discovery = discovery
        article.fetched_at = datetime.now(UTC).isoformat(timespec="seconds")
        article.encoding = decoded.encoding
        article.encoding_method = decoded.method
        article.mojibake = decoded.mojibake
        article.language_hints = {**article.language_hints, "source": source.language}
        if discovery.get("language"):
            article.language_hints.setdefault("sitemap", discovery["language"])
        self._count(source, "articles")
        yield article

    def _skip(self, url: str, source: Source, verdict: PageVerdict) -> Iterator[Any]:
        self._count(source, "not_articles")
        self._count(source, f"skipped/{verdict.kind}")
        if verdict.retry:
            yield FetchFailure(url, source.id, "blocked", verdict.reason)
        else:
            yield PageSkipped(url, source.id, verdict.kind, verdict.reason)

    def on_error(self, failure: Failure) -> Iterator[Any]:
        request = failure.request  # type: ignore[attr-defined]
        source: Source | None = request.meta.get("source")
        reason = _one_line(failure.getErrorMessage() or failure.type.__name__)
        status = getattr(getattr(failure.value, "response", None), "status", None)
        if status:
            reason = f"HTTP {status}"
        if source is not None:
            self._count(source, "errors")
            if request.meta.get("discovery_doc"):
                self._count(source, "discovery_errors")
        # Filed under the URL that was listed (and that the frontier holds), not a redirect's last hop.
        listed = (request.meta.get("redirect_urls") or [request.url])[0]
        yield FetchFailure(listed, source.id if source else None, "fetch", f"{failure.type.__name__}: {reason}")

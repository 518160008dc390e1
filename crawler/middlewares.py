"""Downloader and spider middlewares of our own, each for something Scrapy does not do.

The ones that remember state between runs (conditional GET, incremental
crawling) keep it in the archive through ``archive.crawlstate``, reached via
the crawl's shared context.
"""

from __future__ import annotations

import asyncio
import email.utils
import ipaddress
import logging
import time
from collections.abc import AsyncIterator, Iterable
from typing import Any
from urllib.parse import urlsplit

from scrapy import Request
from scrapy.downloadermiddlewares.robotstxt import RobotsTxtMiddleware
from scrapy.exceptions import IgnoreRequest, NotConfigured
from scrapy.http import Response
from scrapy.utils.misc import build_from_crawler

from crawler.urls import canonicalize

logger = logging.getLogger(__name__)

DISALLOW_ALL = b"User-agent: *\nDisallow: /\n"


class FixedProxyMiddleware:
    """Send every request through one HTTP proxy (setting ``REAIM_PROXY``).

    The demo uses it to give the bundled sample site a stable host name
    (``http://reaim-sample.test``) while it listens on a free loopback port:
    the site itself answers as a forward proxy, so article URLs, and hence
    archive ids, are the same from run to run. Off when the setting is empty.
    """

    def __init__(self, proxy: str) -> None:
        self.proxy = proxy

    @classmethod
    def from_crawler(cls, crawler: Any) -> FixedProxyMiddleware:
        proxy = crawler.settings.get("REAIM_PROXY")
        if not proxy:
            raise NotConfigured
        return cls(proxy)

    def process_request(self, request: Request, spider: Any = None) -> None:
        request.meta.setdefault("proxy", self.proxy)


def private_reason(url: str) -> str | None:
    """Why ``url`` points inside the machine or its network, or None.

    Checked on literal addresses and local names. A public name that resolves
    to a private address (DNS rebinding) is not caught here: that needs the
    resolver, and is documented in docs/crawling.md.
    """
    host = (urlsplit(url).hostname or "").strip("[]").lower()
    if host == "localhost" or host.endswith((".localhost", ".local", ".internal")):
        return f"{host} is a local name"
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return None
    if (address.is_private or address.is_loopback or address.is_link_local or address.is_reserved
            or address.is_multicast or address.is_unspecified):
        return f"{host} is a private or loopback address"
    return None


class PrivateTargetMiddleware:
    """Refuse requests to loopback, private and link-local targets, checked again
    after every redirect (each redirect is a new request through this chain).

    A sources file or a feed must not turn the crawler against the machine it
    runs on or its network. Tests and the demo opt in to loopback with the
    setting or environment variable ``REAIM_ALLOW_PRIVATE``.
    """

    def __init__(self, crawler: Any) -> None:
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Any) -> PrivateTargetMiddleware:
        import os

        if crawler.settings.getbool("REAIM_ALLOW_PRIVATE") or os.environ.get("REAIM_ALLOW_PRIVATE") in ("1", "true"):
            raise NotConfigured
        return cls(crawler)

    def process_request(self, request: Request, spider: Any = None) -> None:
        reason = private_reason(request.url)
        if reason is not None:
            self.crawler.stats.inc_value("security/private_target_refused")
            raise IgnoreRequest(f"refused: {reason} (set REAIM_ALLOW_PRIVATE to allow)")


class StrictRobotsTxtMiddleware(RobotsTxtMiddleware):
    """robots.txt as RFC 9309 says: unreachable (5xx, timeout, refused) means
    disallow for this run; 4xx means allow. Scrapy 2.19 fails open on both."""

    def __init__(self, crawler: Any) -> None:
        super().__init__(crawler)
        self._unavailable: dict[str, str] = {}

    async def _parse_robots(self, response: Response, netloc: str, request: Request) -> None:
        if response.status >= 500:
            self._unavailable[netloc] = f"robots.txt unavailable (HTTP {response.status}): disallowed for this run"
            response = response.replace(body=DISALLOW_ALL)
        elif response.status >= 400:
            response = response.replace(body=b"")
        await super()._parse_robots(response, netloc, request)

    def _robots_error(self, exc: Exception, netloc: str) -> None:
        if isinstance(exc, IgnoreRequest):
            return super()._robots_error(exc, netloc)
        self._stats.inc_value(f"robotstxt/exception_count/{type(exc)}")
        self._unavailable[netloc] = f"robots.txt unavailable ({type(exc).__name__}): disallowed for this run"
        rp = build_from_crawler(self._parserimpl, self.crawler, DISALLOW_ALL)
        deferred = self._parsers[netloc]
        self._parsers[netloc] = rp
        deferred.callback(rp)  # type: ignore[union-attr]

    def process_request_2(self, rp: Any, request: Request) -> None:
        try:
            super().process_request_2(rp, request)
        except IgnoreRequest:
            reason = self._unavailable.get(urlsplit(request.url).netloc)
            raise IgnoreRequest(reason or "Forbidden by robots.txt") from None


def retry_after_seconds(value: bytes | str | None, now: float | None = None) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or HTTP-date)."""
    if not value:
        return None
    text = value.decode("latin-1") if isinstance(value, bytes) else value
    text = text.strip()
    if text.isdigit():
        return float(text)
    try:
        when = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - (now if now is not None else time.time()))


class RetryAfterMiddleware:
    """No request to a host before its Retry-After is up (Scrapy retries a 429
    or 503 at once and ignores the header). A wait longer than
    ``RETRY_AFTER_MAX`` gives the host up for this run: its requests fail with
    the reason and are retried by the next run."""

    def __init__(self, crawler: Any) -> None:
        self.crawler = crawler
        self.max_wait = crawler.settings.getfloat("RETRY_AFTER_MAX", 600.0)
        self.not_before: dict[str, float] = {}

    @classmethod
    def from_crawler(cls, crawler: Any) -> RetryAfterMiddleware:
        return cls(crawler)

    async def process_request(self, request: Request, spider: Any = None) -> None:
        host = urlsplit(request.url).netloc
        wait = self.not_before.get(host, 0.0) - time.monotonic()
        if wait > self.max_wait:
            raise IgnoreRequest(f"{host} asked to wait {wait:.0f} s (Retry-After); left for the next run")
        if wait > 0:
            self.crawler.stats.inc_value("retry_after/waits")
            await asyncio.sleep(wait)

    def process_response(self, request: Request, response: Response, spider: Any = None) -> Response:
        if response.status in (429, 503):
            seconds = retry_after_seconds(response.headers.get("Retry-After"))
            if seconds is not None:
                host = urlsplit(request.url).netloc
                self.not_before[host] = max(self.not_before.get(host, 0.0), time.monotonic() + seconds)
                self.crawler.stats.inc_value("retry_after/honoured")
        return response


class ConditionalGetMiddleware:
    """Feeds and sitemaps are fetched with If-None-Match / If-Modified-Since
    from the last run, so an unchanged feed costs one 304."""

    def __init__(self, crawler: Any) -> None:
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Any) -> ConditionalGetMiddleware:
        return cls(crawler)

    def _db(self) -> Any:
        from pipeline.runtime import crawl_context

        return crawl_context(self.crawler).db

    def process_request(self, request: Request, spider: Any = None) -> None:
        if not request.meta.get("conditional"):
            return
        from archive.crawlstate import feed_validators

        etag, last_modified = feed_validators(self._db(), request.url)
        if etag:
            request.headers.setdefault("If-None-Match", etag)
        if last_modified:
            request.headers.setdefault("If-Modified-Since", last_modified)
        request.meta.setdefault("handle_httpstatus_list", [304])

    def process_response(self, request: Request, response: Response, spider: Any = None) -> Response:
        if request.meta.get("conditional") and response.status in (200, 304):
            # Saved by FrontierMiddleware only once every link of this feed is in the
            # frontier: saved now, a crash before the links are queued would turn the
            # next run's fetch into a 304 and lose them until the feed changes.
            header = response.headers.get
            request.meta["feed_validators"] = (
                (header("ETag") or b"").decode("latin-1") or None,
                (header("Last-Modified") or b"").decode("latin-1") or None,
                response.status,
            )
        return response


class FrontierMiddleware:
    """The crawl frontier in the archive, for incremental and crash-safe crawls.

    - Article requests for URLs already handled are dropped, unless the
      source says its pages update (spider middleware: a skipped URL is simply
      not requested, no errback, no failure row).
    - Every other article request is written to the ``frontier`` table before
      it is scheduled; its outcome (archived, folded, off-topic, not an
      article) settles it. A run killed with SIGKILL leaves entries pending,
      and the next run fetches those first, even if no feed lists them any more.
    """

    def __init__(self, crawler: Any) -> None:
        self.crawler = crawler
        self.enabled = crawler.settings.getbool("REAIM_INCREMENTAL", True)

    @classmethod
    def from_crawler(cls, crawler: Any) -> FrontierMiddleware:
        from scrapy import signals

        mw = cls(crawler)
        crawler.signals.connect(mw.spider_closed, signal=signals.spider_closed)
        crawler.signals.connect(mw.request_dropped, signal=signals.request_dropped)
        return mw

    def request_dropped(self, request: Request, spider: Any = None) -> None:
        """A redirect hop the dupefilter dropped is a redirect loop: record it, or the page vanishes."""
        hops = request.meta.get("redirect_urls")
        if not hops or not request.meta.get("article"):
            return
        from archive.store import record_failure

        ctx = self._ctx()
        source = request.meta.get("source")
        record_failure(ctx.db, run_id=ctx.run_id, source_id=getattr(source, "id", None), url=hops[0], stage="fetch",
                       error=f"redirect loop: {' -> '.join([*hops, request.url])[:250]}")
        self.crawler.stats.inc_value("failures/fetch")
        if source is not None:
            self.crawler.stats.inc_value(f"source/{source.id}/errors")

    def _ctx(self) -> Any:
        from pipeline.runtime import crawl_context

        return crawl_context(self.crawler)

    async def process_start(self, start: AsyncIterator[Any]) -> AsyncIterator[Any]:
        from archive.crawlstate import frontier_resume

        spider = self.crawler.spider
        sources = {s.id: s for s in getattr(spider, "sources", [])}
        resumed = 0
        for row in frontier_resume(self._ctx().db, self._ctx().run_id):
            source = sources.get(row["source_id"])
            if source is None:
                continue  # a source no longer configured (or not selected this run)
            resumed += 1
            request = spider._article_request(row["request_url"], source, row["discovered_via"] or "frontier",
                                              row["discovery"])
            request.meta["resumed"] = True
            yield request
        if resumed:
            self.crawler.stats.set_value("frontier/resumed", resumed)
        async for obj in start:
            yield obj

    def _keep(self, obj: Any) -> bool:
        if not (isinstance(obj, Request) and obj.meta.get("article")):
            return True
        from archive.crawlstate import frontier_add, is_seen

        source = obj.meta.get("source")
        key = canonicalize(obj.url)
        ctx = self._ctx()
        if self.enabled and not (source is not None and source.updates) and is_seen(ctx.db, key):
            if obj.url != key:  # a new variant (utm, AMP) of a handled URL: its alias is kept, unfetched
                from archive.crawlstate import alias_seen_variant

                alias_seen_variant(ctx.db, obj.url, key, getattr(source, "name", None))
            self.crawler.stats.inc_value("incremental/skipped")
            if source is not None:
                self.crawler.stats.inc_value(f"source/{source.id}/skipped_seen")
            return False
        if not obj.meta.get("resumed"):
            frontier_add(ctx.db, key, obj.url, source_id=getattr(source, "id", None),
                         discovered_via=obj.meta.get("discovered_via"), discovery=obj.meta.get("discovery"),
                         run_id=ctx.run_id)
        return True

    def process_spider_output(self, response: Response, result: Iterable[Any], spider: Any = None) -> Iterable[Any]:
        for obj in result:
            if self._keep(obj):
                yield obj
        self._feed_done(response)

    async def process_spider_output_async(
        self, response: Response, result: AsyncIterator[Any], spider: Any = None
    ) -> AsyncIterator[Any]:
        async for obj in result:
            if self._keep(obj):
                yield obj
        self._feed_done(response)

    def _feed_done(self, response: Response) -> None:
        """Every link of a feed is in the frontier now: its validators may be saved."""
        validators = response.meta.get("feed_validators")
        if not validators:
            return
        from archive.crawlstate import save_feed_validators

        source = response.meta.get("source")
        url = (response.meta.get("redirect_urls") or [response.url])[0]  # the URL the next run will ask for
        save_feed_validators(self._ctx().db, url, getattr(source, "id", None), *validators)

    def spider_closed(self, spider: Any = None) -> None:
        from archive.crawlstate import frontier_settle

        frontier_settle(self._ctx().db)

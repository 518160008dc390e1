"""Downloader middlewares of our own, each for something Scrapy does not do."""

from __future__ import annotations

from typing import Any


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
        from scrapy.exceptions import NotConfigured

        proxy = crawler.settings.get("REAIM_PROXY")
        if not proxy:
            raise NotConfigured
        return cls(proxy)

    def process_request(self, request: Any) -> None:
        request.meta.setdefault("proxy", self.proxy)
        return None

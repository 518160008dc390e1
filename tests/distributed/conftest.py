"""A real redis-server on a free 127.0.0.1 port with a password, and a loopback news
site of many small, distinct, relevant pages."""

from __future__ import annotations

import secrets
import shutil
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from servers.briefings import page, rss
from servers.newsite import NewsSite

REDIS_SERVER = shutil.which("redis-server")


@dataclass
class RedisServer:
    port: int
    password: str

    @property
    def url(self) -> str:  # no password in it: it goes in $REAIM_REDIS_PASSWORD
        return f"redis://127.0.0.1:{self.port}/0"

    def client(self):  # type: ignore[no-untyped-def]
        import redis

        return redis.Redis(host="127.0.0.1", port=self.port, password=self.password)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[RedisServer]:
    if REDIS_SERVER is None:
        pytest.skip("redis-server is not installed (Debian: apt-get install -y redis-server)")
    pytest.importorskip("scrapy_redis", reason="scrapy-redis is not installed (pip install '.[test]')")
    password = secrets.token_hex(12)
    for _attempt in range(3):
        port = _free_port()
        proc = subprocess.Popen(
            [REDIS_SERVER, "--port", str(port), "--bind", "127.0.0.1", "--requirepass", password,
             "--save", "", "--appendonly", "no", "--dir", str(tmp_path), "--logfile", str(tmp_path / "redis.log")],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        server = RedisServer(port, password)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                if server.client().ping():
                    break
            except Exception:
                time.sleep(0.05)
        if proc.poll() is None:
            break
    else:
        pytest.fail(f"redis-server did not start: {(tmp_path / 'redis.log').read_text(errors='replace')[-500:]}")
    try:
        yield server
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()




def build_site(site: NewsSite, pages: int, feeds: int, sources: Path, *, delay: float = 0.0) -> None:
    """``pages`` articles listed by ``feeds`` RSS feeds of one source; writes the sources file."""
    site.add("/robots.txt", "User-agent: *\nAllow: /\n", headers={"Content-Type": "text/plain"})
    per = -(-pages // feeds)
    urls = []
    for f in range(feeds):
        ids = list(range(f * per, min(pages, (f + 1) * per)))
        site.add(f"/feed{f}.xml", rss(site.url, ids), headers={"Content-Type": "application/rss+xml"})
        urls.append(f"'{site.url}/feed{f}.xml'")
    for i in range(pages):
        site.add(f"/a/{i}.html", page(i), delay=delay)
    sources.write_text(f"- {{id: w, name: W, language: en, kind: rss, urls: [{', '.join(urls)}]}}\n")


@dataclass
class LoopbackNews:
    site: NewsSite
    sources: Path  # the sources file listing its feeds
    pages: int

    def served(self) -> int:
        """Article pages the site has answered (each re-fetch counts)."""
        return sum(1 for h in self.site.hits if h.path.startswith("/a/"))


@pytest.fixture
def loopback_news(tmp_path: Path) -> Iterator[Callable[..., LoopbackNews]]:
    """``loopback_news(pages, feeds)``: a running site of that many articles, and its sources file."""
    with NewsSite() as site:

        def build(pages: int, feeds: int) -> LoopbackNews:
            sources = tmp_path / "sources.yaml"
            build_site(site, pages, feeds, sources)
            return LoopbackNews(site, sources, pages)

        yield build

"""The crawler against a scripted site on 127.0.0.1, through the real CLI and
Scrapy's real downloader: robots.txt, Retry-After, conditional GET,
incremental re-crawls, pages that are not articles, source health."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import sqlite_utils

from servers.newsite import NewsSite

pytestmark = pytest.mark.e2e

PARAGRAPH = (
    "<p>Delegations from some sixty countries met for the summit on Responsible AI in the Military Domain "
    "(REAIM), where ministers discussed human control over weapons that use artificial intelligence, "
    "international humanitarian law and the risks of autonomous weapons on the battlefield.</p>"
)


STORIES = {
    "Summit opens in Seoul": "Officials arrived early at the convention centre, and the host minister opened the "
    "first plenary with a call to keep commanders accountable for every decision a machine supports.",
    "Blueprint for Action endorsed in Seoul": "The closing document, a blueprint for action, was endorsed by about "
    "sixty governments, while China and several others stayed away from the text on the final afternoon.",
    "REAIM summit closes with call for human control": "Campaigners outside the hall held banners about killer "
    "robots, and inside a panel of young researchers presented a tabletop exercise on escalation risks.",
}


def article_html(title: str, extra: str = "") -> str:
    lead = f"<p>{STORIES.get(title, title)}</p>"
    body = lead * 3 + PARAGRAPH * 2 + lead
    return (f"<html lang='en'><head><title>{title}</title>"
            "<meta property='article:published_time' content='2024-09-10T09:00:00+09:00'>"
            f"{extra}</head><body><nav>Home | World | Tech</nav><article><h1>{title}</h1>"
            + body + "</article><footer>Contact us</footer></body></html>")


def rss(base: str, paths: list[str]) -> str:
    items = "".join(f"<item><title>{p}</title><link>{base}{p}</link></item>" for p in paths)
    return f"<?xml version='1.0'?><rss version='2.0'><channel><title>T</title>{items}</channel></rss>"


def crawl(tmp_path: Path, site: NewsSite, *extra: str, feed: str | None = None,
          allow_private: bool = True) -> subprocess.CompletedProcess[str]:
    tmp_path.mkdir(parents=True, exist_ok=True)
    sources = tmp_path / "sources.yaml"
    sources.write_text(
        f"- {{id: wire, name: Wire, language: en, timezone: UTC, kind: rss, urls: ['{feed or site.url + '/feed.xml'}']}}\n",
        encoding="utf-8",
    )
    env = {**os.environ, "REAIM_TRANSLATOR": "none"}
    if not allow_private:
        env.pop("REAIM_ALLOW_PRIVATE", None)
    return subprocess.run(
        [sys.executable, "-m", "reaim.cli", "crawl", "--db", str(tmp_path / "a.db"), "--sources", str(sources),
         "-s", "DOWNLOAD_DELAY=0", "-s", "AUTOTHROTTLE_ENABLED=False", *extra],
        capture_output=True, text=True, timeout=120, env=env,
    )


def test_robots_txt_that_fails_means_disallow(tmp_path: Path) -> None:
    with NewsSite() as site:
        site.add("/robots.txt", "oops", status=503)
        site.add("/feed.xml", rss(site.url, ["/a.html"]), headers={"Content-Type": "application/rss+xml"})
        site.add("/a.html", article_html("Summit opens"))
        proc = crawl(tmp_path, site, "-s", "RETRY_TIMES=0")
        assert "/feed.xml" not in site.paths_hit() and "/a.html" not in site.paths_hit()
    assert proc.returncode == 1
    assert "Source wire: FAILED:" in proc.stdout and "robots.txt unavailable (HTTP 503)" in proc.stdout


def test_retry_after_is_honoured(tmp_path: Path) -> None:
    with NewsSite() as site:
        site.add("/robots.txt", "User-agent: *\nAllow: /\n", headers={"Content-Type": "text/plain"})
        site.add("/feed.xml", rss(site.url, ["/a.html"]), headers={"Content-Type": "application/rss+xml"},
                 first=[(429, {"Retry-After": "2"})])
        site.add("/a.html", article_html("Summit opens in Seoul"))
        proc = crawl(tmp_path, site)
        feed_hits = [h for h in site.hits if h.path == "/feed.xml"]
    assert proc.returncode == 0, proc.stdout
    assert [h.status for h in feed_hits] == [429, 200]
    assert feed_hits[1].at - feed_hits[0].at >= 1.9


def test_second_crawl_costs_a_304_and_fetches_no_article_again(tmp_path: Path) -> None:
    with NewsSite() as site:
        site.add("/robots.txt", "User-agent: *\nAllow: /\n", headers={"Content-Type": "text/plain"})
        site.add("/feed.xml", rss(site.url, ["/a.html", "/b.html?utm_source=rss"]),
                 headers={"Content-Type": "application/rss+xml"}, etag='"v1"')
        site.add("/a.html", article_html("Summit opens in Seoul"))
        site.add("/b.html", article_html("Blueprint for Action endorsed in Seoul"))
        first = crawl(tmp_path, site)
        hits_first = len(site.hits)
        second = crawl(tmp_path, site)
        second_hits = site.hits[hits_first:]
        # The feed changes: one new link, one old one; only the new page is fetched.
        site.routes["/feed.xml"].etag = '"v2"'
        site.routes["/feed.xml"].body = rss(site.url, ["/a.html", "/c.html"]).encode()
        site.add("/c.html", article_html("REAIM summit closes with call for human control"))
        third = crawl(tmp_path, site)
    assert first.returncode == 0 and "(this run: 2 new," in first.stdout, first.stdout
    assert [(h.path, h.status) for h in second_hits if h.path != "/robots.txt"] == [("/feed.xml", 304)]
    assert second_hits[-1].headers.get("If-None-Match") == '"v1"'
    assert "feed not modified" in second.stdout and "(this run: 0 new," in second.stdout
    assert "(this run: 1 new," in third.stdout
    db = sqlite_utils.Database(tmp_path / "a.db")
    assert db["articles"].count == 3
    health = list(db.query("select run_id, status, links, new from source_health order by run_id"))
    assert [(h["status"], h["new"]) for h in health] == [("ok", 2), ("not_modified", 0), ("ok", 1)]


def test_pages_that_are_not_articles_are_recorded_not_archived(tmp_path: Path) -> None:
    teaser = article_html("REAIM: what the summit means", '<script type="application/ld+json">'
                          '{"@type": "NewsArticle", "headline": "x", "isAccessibleForFree": "False"}</script>')
    teaser = teaser.replace(PARAGRAPH * 2, "<div class='paywall'>Subscribe to continue reading</div>")
    with NewsSite() as site:
        site.add("/robots.txt", "User-agent: *\nAllow: /\n", headers={"Content-Type": "text/plain"})
        site.add("/feed.xml", rss(site.url, ["/ok.html", "/teaser.html", "/doc.pdf", "/challenge.html", "/tag.html"]),
                 headers={"Content-Type": "application/rss+xml"})
        site.add("/ok.html", article_html("Summit opens in Seoul"))
        site.add("/teaser.html", teaser)
        site.add("/doc.pdf", b"%PDF-1.7 ...", headers={"Content-Type": "application/pdf"})
        site.add("/challenge.html", "<html><head><title>Just a moment...</title></head><body>"
                 "<div id='cf-browser-verification'>Checking your browser</div></body></html>")
        site.add("/tag.html", "<html><body><a href='/ok.html'>Summit opens</a></body></html>")
        proc = crawl(tmp_path, site)
    db = sqlite_utils.Database(tmp_path / "a.db")
    assert [r["url"] for r in db.query("select url from articles")] == [f"{site.url}/ok.html"]
    seen = {r["url"].rsplit("/", 1)[1]: r["reason"] for r in db.query("select url, reason from seen_urls where outcome = 'not_article'")}
    assert set(seen) == {"teaser.html", "doc.pdf", "tag.html"}
    assert "paywall" in seen["teaser.html"] and "application/pdf" in seen["doc.pdf"]
    blocked = list(db.query("select url, stage, error from failures"))
    assert [(b["stage"], "bot challenge" in b["error"]) for b in blocked] == [("blocked", True)]
    assert "Failed pages: 1" in proc.stdout
    # A bot wall is a monitor alert: the run says so and cron sees exit code 4.
    assert proc.returncode == 4 and "ALERT bot_wall (wire)" in proc.stdout


def test_a_source_that_stops_yielding_links_is_flagged(tmp_path: Path) -> None:
    with NewsSite() as site:
        site.add("/robots.txt", "User-agent: *\nAllow: /\n", headers={"Content-Type": "text/plain"})
        site.add("/feed.xml", rss(site.url, ["/a.html"]), headers={"Content-Type": "application/rss+xml"})
        site.add("/a.html", article_html("Summit opens in Seoul"))
        crawl(tmp_path, site)
        site.routes["/feed.xml"].body = rss(site.url, []).encode()
        proc = crawl(tmp_path, site)
    assert "FLAGGED" in proc.stdout or "FAILED" in proc.stdout, proc.stdout
    db = sqlite_utils.Database(tmp_path / "a.db")
    last = list(db.query("select status, reason from source_health order by run_id desc limit 1"))[0]
    assert last["status"] in ("flagged", "failed") and last["reason"]


def test_loopback_targets_are_refused_unless_allowed_even_after_a_redirect(tmp_path: Path) -> None:
    with NewsSite() as site:
        site.add("/robots.txt", "User-agent: *\nAllow: /\n", headers={"Content-Type": "text/plain"})
        site.add("/feed.xml", rss("http://news.example", ["/a.html"]), headers={"Content-Type": "application/rss+xml"})
        site.add("/a.html", "", status=302, headers={"Location": f"{site.url}/b.html"})
        site.add("/b.html", article_html("Summit opens in Seoul"))
        direct = crawl(tmp_path / "direct", site, allow_private=False)
        hits_direct = list(site.paths_hit())
        # Through a proxy the feed's host is public; its article redirects to loopback.
        redirected = crawl(tmp_path / "redirect", site, "-s", f"REAIM_PROXY={site.url}",
                           feed="http://news.example/feed.xml", allow_private=False)
        hits_after = site.paths_hit()[len(hits_direct):]
    assert hits_direct == []
    assert "refused: 127.0.0.1 is a private or loopback address" in direct.stdout
    assert "/a.html" in hits_after and "/b.html" not in hits_after, (hits_after, redirected.stdout)
    db = sqlite_utils.Database(tmp_path / "redirect" / "a.db")
    errors = [r["error"] for r in db.query("select error from failures")]
    assert any("refused: 127.0.0.1" in e for e in errors), errors


def test_a_second_crawl_on_the_same_archive_waits_its_turn(tmp_path: Path) -> None:
    from reaim.crawl import crawl_lock

    with NewsSite() as site:
        site.add("/robots.txt", "User-agent: *\nAllow: /\n", headers={"Content-Type": "text/plain"})
        site.add("/feed.xml", rss(site.url, []), headers={"Content-Type": "application/rss+xml"})
        with crawl_lock(tmp_path / "a.db"):
            locked = crawl(tmp_path, site)
        free = crawl(tmp_path, site)
    assert locked.returncode == 75 and "another crawl is running" in locked.stderr
    assert "Traceback" not in locked.stderr and site.paths_hit().count("/feed.xml") == 1
    assert free.returncode == 0, free.stdout


def test_schedule_runs_the_crawl_on_its_interval(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from reaim.cli import cli

    with NewsSite() as site:
        site.add("/robots.txt", "User-agent: *\nAllow: /\n", headers={"Content-Type": "text/plain"})
        site.add("/feed.xml", rss(site.url, ["/a.html"]), headers={"Content-Type": "application/rss+xml"})
        site.add("/a.html", article_html("Summit opens in Seoul"))
        sources = tmp_path / "s.yaml"
        sources.write_text(f"- {{id: wire, name: Wire, language: en, kind: rss, urls: ['{site.url}/feed.xml']}}\n")
        result = CliRunner().invoke(cli, ["schedule", "--every", "1s", "--times", "2", "--db", str(tmp_path / "a.db"),
                                          "--sources", str(sources)])
        feed_hits = site.paths_hit().count("/feed.xml")
    assert result.exit_code == 0, result.output
    runs = [line for line in result.output.splitlines() if "] run " in line]
    assert len(runs) == 2 and "exit 0" in runs[0] and "(this run: 1 new," in runs[0] and "(this run: 0 new," in runs[1]
    assert feed_hits == 2
    assert sqlite_utils.Database(tmp_path / "a.db")["crawl_runs"].count == 2

"""GDELT and Google News discovery through the real spider and downloader, against
stand-ins on 127.0.0.1 that speak the services' own formats."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import sqlite_utils

from servers.discovery import DiscoveryServer

pytestmark = pytest.mark.e2e


def crawl(tmp_path: Path, sources: str) -> subprocess.CompletedProcess[str]:
    path = tmp_path / "sources.yaml"
    path.write_text(sources, encoding="utf-8")
    env = {**os.environ, "REAIM_TRANSLATOR": "none"}
    return subprocess.run(
        [sys.executable, "-m", "reaim.cli", "crawl", "--db", str(tmp_path / "a.db"), "--sources", str(path),
         "-s", "DOWNLOAD_DELAY=0", "-s", "AUTOTHROTTLE_ENABLED=False", "-s", "ROBOTSTXT_OBEY=False",
         "-s", 'DOWNLOAD_SLOTS={"gdelt": {"concurrency": 1, "delay": 0.3}}'],
        capture_output=True, text=True, timeout=180, env=env,
    )


def test_gdelt_slices_split_and_keep_discovery_metadata(tmp_path: Path) -> None:
    with DiscoveryServer(rate_limit=True, min_interval=0.2) as server:
        proc = crawl(tmp_path, (
            f"- {{id: gdelt-ko, kind: gdelt, name: GDELT Korean, language: ko, urls: ['{server.base_url}/api/v2/doc/doc'],\n"
            "   query: '(REAIM OR \"military AI\")', start: 2024-09-08, end: 2024-09-12, slice_hours: 48}\n"
            f"- {{id: gdelt-en, kind: gdelt, name: GDELT English, language: en, urls: ['{server.base_url}/api/v2/doc/doc'],\n"
            "   query: '(REAIM OR \"military AI\")', start: 2026-01-25, end: 2026-02-07, slice_hours: 312}\n"
        ))
        gdelt_requests = [p for p in server.requests if p[0] == "/api/v2/doc/doc"]
    assert proc.returncode in (0, 3), proc.stdout + proc.stderr[-2000:]
    db = sqlite_utils.Database(tmp_path / "a.db")
    stats = json.loads(list(db.query("select stats from crawl_runs order by id desc limit 1"))[0]["stats"])
    assert stats.get("gdelt/split", 0) >= 1  # the English window came back at the 250 cap and was split
    assert len(gdelt_requests) >= 4
    assert all("sourcelang:" in params["query"] for _, params in gdelt_requests)
    ko = list(db.query("select outlet, discovery, language from articles where source_id = 'gdelt-ko'"))
    assert ko, proc.stdout
    meta = json.loads(ko[0]["discovery"])
    assert meta["service"] == "gdelt" and meta["seen"].endswith("+00:00") and meta["domain"]
    assert ko[0]["outlet"] == meta["domain"] and ko[0]["language"] == "ko"


@pytest.mark.parametrize("links", ["redirect", "interstitial"])
def test_google_news_items_reach_the_publishers_page(tmp_path: Path, links: str) -> None:
    with DiscoveryServer(google_links=links) as server:
        proc = crawl(tmp_path, (
            f"- {{id: gnews-es, kind: google_news, name: Google News ES, language: es, urls: ['{server.base_url}/rss/search'],\n"
            "   query: 'REAIM OR \"IA militar\"', hl: es, gl: ES, ceid: 'ES:es', when: 7d}\n"
        ))
        searched = [p for p in server.requests if p[0] == "/rss/search"]
    assert searched and "when:7d" in searched[0][1]["q"] and searched[0][1]["ceid"] == "ES:es"
    db = sqlite_utils.Database(tmp_path / "a.db")
    rows = list(db.query("select url, outlet, discovery from articles"))
    failures = list(db.query("select stage, error from failures"))
    assert rows, proc.stdout
    assert all("/pub/" in r["url"] and json.loads(r["discovery"])["service"] == "google_news" for r in rows)
    assert all(r["outlet"] and "Google" not in r["outlet"] for r in rows)
    if links == "interstitial":  # opaque links that do not redirect are recorded, not lost
        assert any("did not redirect" in f["error"] for f in failures)
    else:
        assert not any("did not redirect" in f["error"] for f in failures)

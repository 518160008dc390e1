"""A crawl killed with SIGKILL loses no page: the next run starts from the
frontier kept in the archive, even for links no feed lists any more."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from servers.briefings import page, rss
from servers.newsite import NewsSite

pytestmark = pytest.mark.e2e



def test_sigkill_mid_crawl_then_rerun_loses_nothing_and_duplicates_nothing(tmp_path: Path) -> None:
    db_path = tmp_path / "a.db"
    sources = tmp_path / "s.yaml"
    first_batch, second_batch = list(range(30)), list(range(30, 35))
    with NewsSite() as site:
        sources.write_text(f"- {{id: w, name: W, language: en, kind: rss, urls: ['{site.url}/feed.xml']}}\n")
        site.add("/robots.txt", "User-agent: *\nAllow: /\n", headers={"Content-Type": "text/plain"})
        site.add("/feed.xml", rss(site.url, first_batch), headers={"Content-Type": "application/rss+xml"})
        for i in first_batch + second_batch:
            site.add(f"/a/{i}.html", page(i, sentences=14), delay=0.15)
        cmd = [sys.executable, "-m", "reaim.cli", "crawl", "--db", str(db_path), "--sources", str(sources),
               "-s", "DOWNLOAD_DELAY=0", "-s", "AUTOTHROTTLE_ENABLED=False", "-s", "CONCURRENT_REQUESTS_PER_DOMAIN=2"]
        env = {**os.environ, "REAIM_TRANSLATOR": "none"}
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
        deadline = time.monotonic() + 60
        stored = 0
        while time.monotonic() < deadline and stored < 5:
            time.sleep(0.1)
            try:
                with sqlite3.connect(db_path, timeout=5) as conn:
                    stored = conn.execute("select count(*) from articles").fetchone()[0]
            except sqlite3.OperationalError:
                stored = 0  # the schema is still being created
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        assert 5 <= stored < 30, stored
        # The feed moves on: the first batch is no longer listed anywhere.
        site.routes["/feed.xml"].body = rss(site.url, second_batch).encode()
        rerun = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=120)
        assert rerun.returncode == 0, rerun.stdout
    with sqlite3.connect(db_path) as conn:
        urls = [r[0] for r in conn.execute("select canonical_url from articles")]
        pending = conn.execute("select count(*) from frontier where status = 'pending'").fetchone()[0]
    assert sorted(int(u.rsplit("/", 1)[1].split(".")[0]) for u in urls) == first_batch + second_batch
    assert len(urls) == len(set(urls)) and pending == 0

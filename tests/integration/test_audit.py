"""reaim audit: what the discovery services list that the archive lacks, and why."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from servers.discovery import DiscoveryServer

pytestmark = pytest.mark.e2e


def test_audit_sorts_every_listed_article_by_what_the_archive_knows(tmp_path: Path) -> None:
    db = tmp_path / "a.db"
    env = {**os.environ, "REAIM_TRANSLATOR": "none"}
    with DiscoveryServer(rate_limit=False) as server:
        sources = tmp_path / "s.yaml"
        crawled = (f"- {{id: gdelt-ko, kind: gdelt, name: GDELT Korean, language: ko, "
                   f"urls: ['{server.base_url}/api/v2/doc/doc'], query: 'REAIM', start: 2024-09-08, end: 2024-09-13, "
                   "slice_hours: 120}\n")
        sources.write_text(crawled)
        crawl = subprocess.run(
            [sys.executable, "-m", "reaim.cli", "crawl", "--db", str(db), "--sources", str(sources),
             "-s", "DOWNLOAD_DELAY=0", "-s", "ROBOTSTXT_OBEY=False", "-s", 'DOWNLOAD_SLOTS={"gdelt": {"delay": 0}}'],
            capture_output=True, text=True, env=env, timeout=120)
        assert crawl.returncode in (0, 3, 4), crawl.stdout
        # The audit also asks a Google News edition that was never crawled.
        sources.write_text(crawled + (
            f"- {{id: gnews-es, kind: google_news, name: Google News ES, language: es, "
            f"urls: ['{server.base_url}/rss/search'], query: 'REAIM', hl: es, gl: ES, ceid: 'ES:es'}}\n"))
        audit = subprocess.run(
            [sys.executable, "-m", "reaim.cli", "audit", "--db", str(db), "--sources", str(sources),
             "--since", "2024-09-08", "--until", "2024-09-12"],
            capture_output=True, text=True, env=env, timeout=120)
    assert audit.returncode == 0, audit.stdout + audit.stderr
    with sqlite3.connect(db) as conn:
        archived = {r[0] for r in conn.execute("select canonical_url from articles")}
        findings = conn.execute("select source_id, status, url from audit_findings").fetchall()
        listed = conn.execute("select listed from audits").fetchone()[0]
    ko = [f for f in findings if f[0] == "gdelt-ko"]
    es = [f for f in findings if f[0] == "gnews-es"]
    assert ko and es and listed == len(findings)
    assert all(status != "never_seen" for _, status, _ in ko), ko  # crawled: each has an outcome
    assert sum(1 for _, status, _ in ko if status == "archived") == len(archived)
    assert {status for _, status, _ in es} == {"never_seen"}
    assert "articles listed by the discovery services" in audit.stdout and "never_seen" in audit.stdout

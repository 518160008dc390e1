"""What the fault-injection tests share: running `reaim crawl` in a subprocess, and reading back
what became of each URL (archived, recorded as not an article, a failure row, or nothing at all)."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from crawler.urls import canonicalize

ROOT = Path(__file__).resolve().parents[2]
# Our sites are on loopback: no politeness delay (as in tests/integration).
FAST = ("-s", "DOWNLOAD_DELAY=0", "-s", "AUTOTHROTTLE_ENABLED=False")
# The longest any crawl subprocess may take before the test calls it a hang.
HANG = 150.0
# pytest's record_property fixture.
RecordProperty = Callable[[str, object], None]


@dataclass
class Crawl:
    returncode: int
    stdout: str
    stderr: str
    elapsed: float

    def line(self, prefix: str) -> str:
        """The first summary line that starts with ``prefix`` ("" if none)."""
        return next((ln for ln in self.stdout.splitlines() if ln.startswith(prefix)), "")


def crawl_env(**extra: str | None) -> dict[str, str]:
    env = {**os.environ, "REAIM_TRANSLATOR": "none", "REAIM_ALLOW_PRIVATE": "1"}
    env.pop("REAIM_TRANSLATOR_URL", None)
    env.pop("REAIM_DB", None)
    for key, value in extra.items():
        if value is None:
            env.pop(key, None)
        else:
            env[key] = value
    return env


def crawl_cmd(db: Path, sources: Path, *settings: str) -> list[str]:
    return [sys.executable, "-m", "reaim.cli", "crawl", "--db", str(db), "--sources", str(sources), *FAST, *settings]


def run_crawl(db: Path, sources: Path, *settings: str, env: dict[str, str] | None = None,
              timeout: float = HANG, preexec_fn: Callable[[], Any] | None = None) -> Crawl:
    """`reaim crawl` in a subprocess; a crawl that outlives ``timeout`` fails the test (TimeoutExpired)."""
    started = time.monotonic()
    proc = subprocess.run(crawl_cmd(db, sources, *settings), capture_output=True, text=True, timeout=timeout,
                          env=env or crawl_env(), cwd=ROOT, preexec_fn=preexec_fn)
    return Crawl(proc.returncode, proc.stdout, proc.stderr, round(time.monotonic() - started, 1))


def reaim(*args: str, env: dict[str, str] | None = None, timeout: float = HANG) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "reaim.cli", *args], capture_output=True, text=True,
                          timeout=timeout, env=env or crawl_env(), cwd=ROOT)


def connect(db: Path) -> sqlite3.Connection:
    return sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=30)


def scalar(db: Path, sql: str, params: Sequence[Any] = ()) -> Any:
    with connect(db) as conn:
        return conn.execute(sql, list(params)).fetchone()[0]


@dataclass(frozen=True)
class Outcome:
    kind: str  # article, not_article, duplicate, off_topic, failure, none
    reason: str | None = None

    def __str__(self) -> str:
        return f"{self.kind}: {self.reason}" if self.reason else self.kind


def outcome(db: Path, url: str) -> Outcome:
    """What the archive says about ``url``: an article row (by URL or canonical URL), else its
    ``seen_urls`` outcome with the reason, else its latest ``failures`` row, else "none" (lost silently)."""
    canon = canonicalize(url)
    with connect(db) as conn:
        if conn.execute("select 1 from articles where url = ? or canonical_url = ?", [url, canon]).fetchone():
            return Outcome("article")
        row = conn.execute("select outcome, reason from seen_urls where url = ?", [canon]).fetchone()
        if row:
            return Outcome(row[0], row[1])
        row = conn.execute("select stage, error from failures where url = ? or url = ? order by id desc limit 1",
                           [url, canon]).fetchone()
        if row:
            return Outcome("failure", f"{row[0]}: {row[1]}")
    return Outcome("none")


def integrity(db: Path) -> str:
    with sqlite3.connect(db, timeout=30) as conn:
        return str(conn.execute("pragma integrity_check").fetchone()[0])


def report(record_property: RecordProperty, name: str, value: object) -> None:
    """A figure for the junit XML (``record_property``) and for ``pytest -s`` readers."""
    record_property(name, value)
    print(f"[faults] {name}: {value}")

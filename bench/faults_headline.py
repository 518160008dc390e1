"""The fault-injection headline (issue 7): 500 articles through a misbehaving site, and what reached the archive.

Serves ``tests/servers/faultsite.py``'s :class:`HeadlineSite` on 127.0.0.1
(seven outlets, each on its own port: English, Korean in UTF-8 and in EUC-KR
declared nowhere, Spanish, French, German; AMP and utm copies; first-try
503s and 429s with and without Retry-After, 5xx bursts, connection resets
mid-body, slow answers, and a few pages that time out or fail on every try of
the first run) and a LibreTranslate stand-in (``tests/servers/libre.py``) that
answers 500 during the first run. Then, each in its own subprocess, exactly
as a user would:

    REAIM_ALLOW_PRIVATE=1 REAIM_TRANSLATOR=libre REAIM_TRANSLATOR_URL=http://127.0.0.1:P/ \\
        python -m reaim.cli crawl --db WORK/headline.db --sources WORK/sources.yaml \\
        -s DOWNLOAD_DELAY=0 -s AUTOTHROTTLE_ENABLED=False -s CONCURRENT_REQUESTS=32 \\
        -s CONCURRENT_REQUESTS_PER_DOMAIN=16 -s DOWNLOAD_TIMEOUT=3 -s TRANSLATE_TIMEOUT=5

(the outlets are separate ports of 127.0.0.1, which Scrapy counts as one
host: one download slot for all of them)

repeated (the translator healthy from the second run on) until every article
is archived or ``--max-runs`` is reached: pages that failed in one run are
not "seen", so the next run fetches them from the frontier (the feeds answer
304). Then ``reaim translate --pending`` for what the translator left pending.

Prints detail lines, then exactly one headline line, last:

    500 of 500 articles archived, 0 duplicates, 0 mis-decoded, 0 pending translation, after K injected faults (2 crawl runs)

* archived: ground-truth stories with a row in ``articles`` whose canonical URL is the story's;
* duplicates: article rows beyond one per story (an AMP or utm copy, or a
  story stored twice); the copies are expected as aliases instead;
* mis-decoded: archived stories whose stored title or text is not the
  served one (a wrong charset), or flagged as mojibake, or in another language;
* pending translation: rows with ``translation_status = 'pending'`` at the end;
* injected faults: faulty answers the site and the translator actually gave.

    python bench/faults_headline.py                 # about 45 s on 2 cores
    python bench/faults_headline.py --no-translator # REAIM_TRANSLATOR=none (non-English rows stay pending)
    python bench/faults_headline.py --json out.json
"""

from __future__ import annotations

import argparse
import json
import os
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT))

from servers.faultsite import HeadlineSite  # noqa: E402
from servers.libre import LibreServer  # noqa: E402

CRAWL_SETTINGS = ["-s", "DOWNLOAD_DELAY=0", "-s", "AUTOTHROTTLE_ENABLED=False",
                  "-s", "CONCURRENT_REQUESTS=32", "-s", "CONCURRENT_REQUESTS_PER_DOMAIN=16"]


@dataclass
class Run:
    exit_code: int
    elapsed: float
    new: int
    failed_pages: int
    summary_tail: str


@dataclass
class HeadlineResult:
    expected: int
    archived: int
    duplicates: int
    mis_decoded: int
    pending: int
    injected: int
    runs: list[Run] = field(default_factory=list)
    translate_exit: int | None = None
    pending_before_translate: int = 0
    variants: int = 0
    variants_folded: int = 0
    failure_rows: int = 0
    failure_stages: dict[str, int] = field(default_factory=dict)
    faults_planned: dict[str, int] = field(default_factory=dict)
    faults_served: dict[str, int] = field(default_factory=dict)
    translator_faults: int = 0
    missing: list[str] = field(default_factory=list)
    mis_decoded_urls: list[str] = field(default_factory=list)
    elapsed: float = 0.0

    def headline(self) -> str:
        runs = len(self.runs)
        return (f"{self.archived} of {self.expected} articles archived, {self.duplicates} duplicates, "
                f"{self.mis_decoded} mis-decoded, {self.pending} pending translation, "
                f"after {self.injected} injected faults ({runs} crawl run{'s' if runs != 1 else ''})")


def _env(translator_url: str | None) -> dict[str, str]:
    env = {**os.environ, "REAIM_ALLOW_PRIVATE": "1", "PYTHONPATH": str(ROOT)}
    env.pop("REAIM_DB", None)
    if translator_url:
        env.update(REAIM_TRANSLATOR="libre", REAIM_TRANSLATOR_URL=translator_url)
    else:
        env["REAIM_TRANSLATOR"] = "none"
        env.pop("REAIM_TRANSLATOR_URL", None)
    return env


def _count_line(stdout: str, prefix: str) -> int:
    for line in stdout.splitlines():
        if line.startswith(prefix):
            digits = line[len(prefix):].strip().split()[0]
            return int(digits)
    return -1


def run_headline(work: Path, *, seed: int = 7, timeout: float = 3.0, max_runs: int = 3,
                 translator: bool = True, log: Any = None) -> HeadlineResult:
    """Crawl the headline site into ``work/headline.db`` until all is archived (at most ``max_runs``)."""
    def say(msg: str) -> None:
        if log is not None:
            print(msg, file=log, flush=True)

    work.mkdir(parents=True, exist_ok=True)
    db_path = work / "headline.db"
    for suffix in ("", "-wal", "-shm", ".lock"):
        Path(f"{db_path}{suffix}").unlink(missing_ok=True)
    sources = work / "sources.yaml"
    started = time.monotonic()
    libre = LibreServer(mode="500")
    with HeadlineSite(seed=seed, timeout=timeout) as site, libre:
        sources.write_text(site.sources_yaml(), encoding="utf-8")
        env = _env(libre.url if translator else None)
        cmd = [sys.executable, "-m", "reaim.cli", "crawl", "--db", str(db_path), "--sources", str(sources),
               *CRAWL_SETTINGS, "-s", f"DOWNLOAD_TIMEOUT={timeout:g}", "-s", "TRANSLATE_TIMEOUT=5"]
        result = HeadlineResult(expected=len(site.expected), archived=0, duplicates=0, mis_decoded=0, pending=0,
                                injected=0, faults_planned=dict(site.plan))
        for n in range(1, max_runs + 1):
            t0 = time.monotonic()
            proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=600, cwd=ROOT)
            run = Run(proc.returncode, round(time.monotonic() - t0, 1),
                      _new(proc.stdout),
                      _count_line(proc.stdout, "Failed pages:"), "\n".join(proc.stdout.splitlines()[:12]))
            result.runs.append(run)
            say(f"run {n}: exit {run.exit_code}, {run.elapsed} s, {run.new} new, {run.failed_pages} failed pages; "
                f"site faults so far {site.injected}")
            if proc.returncode not in (0, 3, 4):
                say(proc.stdout + proc.stderr)
                break
            libre.mode = "ok"  # the translator recovers after the first run
            if _archived(db_path, site) == len(site.expected):
                break
        result.pending_before_translate = _pending(db_path)
        if translator and result.pending_before_translate:
            t0 = time.monotonic()
            proc = subprocess.run([sys.executable, "-m", "reaim.cli", "translate", "--pending", "--db", str(db_path)],
                                  capture_output=True, text=True, env=env, timeout=600, cwd=ROOT)
            result.translate_exit = proc.returncode
            say(f"reaim translate --pending: exit {proc.returncode}, {time.monotonic() - t0:.1f} s: "
                f"{proc.stdout.strip() or proc.stderr.strip()[-300:]}")
        result.faults_served = dict(site.injected_by_kind())
        result.translator_faults = sum(1 for _, status in libre.log if status != 200)
        result.injected = site.injected + result.translator_faults
        _measure(db_path, site, result)
    result.elapsed = round(time.monotonic() - started, 1)
    return result


def _new(stdout: str) -> int:
    for line in stdout.splitlines():
        if line.startswith("Articles in archive:") and "(this run: " in line:
            return int(line.split("(this run: ", 1)[1].split()[0])
    return -1


def _connect(db_path: Path) -> sqlite3.Connection:
    return sqlite3.connect(f"file:{db_path}?mode=ro", uri=True, timeout=30)


def _archived(db_path: Path, site: HeadlineSite) -> int:
    with _connect(db_path) as conn:
        urls = {r[0] for r in conn.execute("select coalesce(canonical_url, url) from articles")}
    return sum(1 for e in site.expected if e.url in urls)


def _pending(db_path: Path) -> int:
    with _connect(db_path) as conn:
        return int(conn.execute("select count(*) from articles where translation_status = 'pending'").fetchone()[0])


def _measure(db_path: Path, site: HeadlineSite, result: HeadlineResult) -> None:
    from crawler.urls import canonicalize

    with _connect(db_path) as conn:
        rows = conn.execute("select id, url, canonical_url, title, text, language, mojibake from articles").fetchall()
        aliases = dict(conn.execute("select url, article_id from article_aliases").fetchall())
        seen = dict(conn.execute("select url, article_id from seen_urls").fetchall())
        stages = Counter(r[0] for r in conn.execute("select stage from failures"))
        result.failure_rows = sum(stages.values())
        result.failure_stages = dict(stages)
        result.pending = int(conn.execute(
            "select count(*) from articles where translation_status = 'pending'").fetchone()[0])
    by_url: dict[str, list[tuple[Any, ...]]] = {}
    for row in rows:  # keyed by canonical URL: a row's url is the copy fetched first (a utm link, say)
        by_url.setdefault(row[2] or row[1], []).append(row)
    archived = mis = variants = folded = 0
    for e in site.expected:
        hits = by_url.get(e.url, [])
        if not hits:
            result.missing.append(e.url)
            continue
        archived += 1
        article_id, _url, _canon, title, text, language, mojibake = hits[0]
        good = (title == e.story.title and e.story.marker in (text or "") and not mojibake
                and language == e.story.language)
        if not good:
            mis += 1
            result.mis_decoded_urls.append(e.url)
        for v in e.variants:
            variants += 1
            if aliases.get(v) == article_id or seen.get(canonicalize(v)) == article_id:
                folded += 1
    result.archived = archived
    result.duplicates = len(rows) - archived
    result.mis_decoded = mis
    result.variants = variants
    result.variants_folded = folded


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--work", type=Path, default=None, help="directory for the archive (default: a temp dir)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--timeout", type=float, default=3.0, help="DOWNLOAD_TIMEOUT for the crawls (s)")
    parser.add_argument("--max-runs", type=int, default=3)
    parser.add_argument("--no-translator", action="store_true", help="crawl with REAIM_TRANSLATOR=none")
    parser.add_argument("--json", type=Path, default=None, help="also write the figures here")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="reaim-faults-") as tmp:
        work = args.work or Path(tmp)
        result = run_headline(work, seed=args.seed, timeout=args.timeout, max_runs=args.max_runs,
                              translator=not args.no_translator, log=sys.stdout)
    print(f"faults planned (articles): {result.faults_planned}")
    print(f"faults served by the site: {result.faults_served}; by the translator: {result.translator_faults}")
    print(f"URL variants listed: {result.variants}, folded as aliases: {result.variants_folded}")
    print(f"failure rows: {result.failure_rows} {result.failure_stages}; pending translation before "
          f"`reaim translate --pending`: {result.pending_before_translate}")
    if result.missing or result.mis_decoded_urls:
        print(f"missing: {result.missing[:10]}; mis-decoded: {result.mis_decoded_urls[:10]}")
    print(f"elapsed: {result.elapsed} s")
    if args.json:
        args.json.write_text(json.dumps(asdict(result), indent=2, ensure_ascii=False), encoding="utf-8")
    print(result.headline())


if __name__ == "__main__":
    main()

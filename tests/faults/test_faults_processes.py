"""Process and storage faults: SIGKILL mid-run (twice), two overlapping runs, a disk that
fills up (RLIMIT_FSIZE in the crawl subprocess), and Datasette reading while the crawler writes."""

from __future__ import annotations

import json
import os
import resource
import signal
import socket
import sqlite3
import subprocess
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from faults.kit import HANG, Crawl, RecordProperty, connect, crawl_cmd, crawl_env, integrity, report, run_crawl, scalar
from servers.faultsite import Fault, FaultSite, article_page, make_story, rss

pytestmark = pytest.mark.e2e


def _site(site: FaultSite, ids: range, *, slow: float = 0.0) -> None:
    site.allow_all()
    for i in ids:
        path = f"/news/{i}.html"
        site.add(path, article_page(make_story(5000 + i, "en"), canonical=site.url + path),
                 always=Fault("slow", seconds=slow) if slow else None)


def _feed(site: FaultSite, ids: range | list[int]) -> None:
    site.add("/feed.xml", rss(site.url, [f"/news/{i}.html" for i in ids]), headers={"Content-Type": "application/rss+xml"})


def _sources(path: Path, site: FaultSite) -> Path:
    path.write_text(f"- {{id: wire, name: Wire, language: en, kind: rss, urls: ['{site.url}/feed.xml']}}\n",
                    encoding="utf-8")
    return path


def _count(db: Path) -> int:
    try:
        return int(scalar(db, "select count(*) from articles"))
    except sqlite3.OperationalError:
        return 0  # the archive is still being created


def _wait_for(pred: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not pred():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


# --- SIGKILL ------------------------------------------------------------------


def test_sigkill_twice_then_rerun_archives_all_200_once(tmp_path: Path, record_property: RecordProperty) -> None:
    db, n = tmp_path / "a.db", 200
    with FaultSite() as site:
        _site(site, range(n), slow=0.02)
        _feed(site, range(n))
        sources = _sources(tmp_path / "s.yaml", site)
        cmd = crawl_cmd(db, sources, "-s", "CONCURRENT_REQUESTS_PER_DOMAIN=4")
        stored_at_kill = []
        started = time.monotonic()
        for kill_at, later_feed in ((40, range(150, n)), (120, range(190, n))):
            proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=crawl_env())
            def killable(k: int = kill_at, p: subprocess.Popen[bytes] = proc) -> bool:
                return _count(db) >= k or p.poll() is not None

            try:
                _wait_for(killable, HANG, f"{kill_at} articles")
            finally:
                os.kill(proc.pid, signal.SIGKILL)
                proc.wait()
            stored_at_kill.append(_count(db))
            assert integrity(db) == "ok"
            # The feed moves on: the earlier links are listed nowhere any more, only the frontier has them.
            _feed(site, later_feed)
        final = run_crawl(db, sources, "-s", "CONCURRENT_REQUESTS_PER_DOMAIN=4")
        elapsed = round(time.monotonic() - started, 1)
        hits = [p for p in site.paths_hit() if p.startswith("/news/")]
    report(record_property, "SIGKILL: articles stored at each kill", stored_at_kill)
    report(record_property, "SIGKILL: pages fetched (200 distinct)", len(hits))
    report(record_property, "SIGKILL: elapsed for 3 runs (s)", elapsed)
    assert stored_at_kill[0] < stored_at_kill[1] < n, stored_at_kill  # both kills landed mid-run
    assert final.returncode == 0, final.stdout + final.stderr
    with connect(db) as conn:
        urls = [r[0] for r in conn.execute("select canonical_url from articles")]
        pending = conn.execute("select count(*) from frontier where status != 'done'").fetchone()[0]
        runs = conn.execute("select count(*) from crawl_runs").fetchone()[0]
    assert sorted(int(u.rsplit("/", 1)[1].split(".")[0]) for u in urls) == list(range(n))
    assert len(urls) == len(set(urls)) and pending == 0 and runs == 3
    assert integrity(db) == "ok"


# --- overlapping runs ---------------------------------------------------------


def test_a_second_run_while_one_is_running_exits_75_and_does_nothing(tmp_path: Path, record_property: RecordProperty) -> None:
    db = tmp_path / "a.db"
    lock, log = Path(f"{db}.lock"), tmp_path / "a.crawl.log"
    with FaultSite() as site:
        _site(site, range(30), slow=0.2)
        _feed(site, range(30))
        sources = _sources(tmp_path / "s.yaml", site)
        first = subprocess.Popen(crawl_cmd(db, sources), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                 env=crawl_env())
        try:
            _wait_for(lambda: _count(db) >= 1, HANG, "the first run to archive something")
            hits_before, runs_before = len(site.hits), scalar(db, "select count(*) from crawl_runs")
            log_before = log.read_text(encoding="utf-8")[:200]
            second = run_crawl(db, sources, timeout=60)
            hits_during = [h.path for h in site.hits[hits_before:]]
            runs_after = scalar(db, "select count(*) from crawl_runs")
            out, err = first.communicate(timeout=HANG)
        finally:
            if first.poll() is None:
                first.kill()
                first.wait()
    report(record_property, "overlap: second run exit code", second.returncode)
    report(record_property, "overlap: second run elapsed (s)", second.elapsed)
    assert second.returncode == 75
    assert second.stderr.strip().splitlines() == [f"Error: another crawl is running on {db} "
                                                  f"(pid {first.pid}); try again later"], second.stderr
    assert second.stdout == ""
    assert runs_after == runs_before == 1  # no crawl_runs row
    assert "/robots.txt" not in hits_during  # it never started a crawler (the first run fetched robots.txt)
    assert log.read_text(encoding="utf-8")[:200] == log_before  # and did not truncate the first run's log
    assert first.returncode == 0, out + err
    assert _count(db) == 30
    assert lock.read_text() == ""  # released


# --- disk full ----------------------------------------------------------------

FSIZE_LIMIT = 2_000_000  # bytes per file: the archive's WAL reaches it a few articles into the run
DISK_FULL_PAGES = 50


def _fsize_limit(limit: int) -> Callable[[], None]:
    def apply() -> None:  # in the child, before exec; Python ignores SIGXFSZ, so writes fail with EFBIG
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
    return apply


@dataclass
class DiskFull:
    limited: Crawl
    rerun: Crawl
    stored_before: int
    integrity_after: str
    articles_after: int
    distinct_after: int
    running_rows: int


@pytest.fixture(scope="module")
def disk_full(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DiskFull]:
    from archive.schema import open_db

    tmp = tmp_path_factory.mktemp("diskfull")
    db = tmp / "a.db"
    open_db(db).conn.close()  # the archive exists (as after earlier runs); this run is the one that fills the disk
    # langdetect: py3langid unpacks a 68 MB model to a temporary file, which the limit would stop
    # before the archive is touched (that case is the xfail test below).
    env = crawl_env(REAIM_LANGID="langdetect")
    with FaultSite() as site:
        _site(site, range(DISK_FULL_PAGES))
        _feed(site, range(DISK_FULL_PAGES))
        sources = _sources(tmp / "s.yaml", site)
        limited = run_crawl(db, sources, env=env, preexec_fn=_fsize_limit(FSIZE_LIMIT))
        stored = _count(db)
        state = integrity(db)
        rerun = run_crawl(db, sources, env=env)
    with connect(db) as conn:
        articles, distinct = conn.execute("select count(*), count(distinct canonical_url) from articles").fetchone()
        running = conn.execute("select count(*) from crawl_runs where status = 'running'").fetchone()[0]
    yield DiskFull(limited, rerun, stored, state, articles, distinct, running)


def test_disk_full_fails_the_run_and_leaves_a_readable_archive_that_a_rerun_completes(
        disk_full: DiskFull, record_property: RecordProperty) -> None:
    d = disk_full
    report(record_property, "disk full: exit code", d.limited.returncode)
    report(record_property, "disk full: articles stored before the limit", d.stored_before)
    report(record_property, "disk full: integrity_check", d.integrity_after)
    report(record_property, "disk full: re-run archived", f"{d.articles_after}/{DISK_FULL_PAGES}")
    report(record_property, "disk full: crawl_runs rows left 'running'", d.running_rows)
    assert d.limited.returncode != 0
    assert d.stored_before < DISK_FULL_PAGES
    assert d.integrity_after == "ok"
    assert d.rerun.returncode == 0, d.rerun.stdout + d.rerun.stderr
    assert d.articles_after == d.distinct_after == DISK_FULL_PAGES


def test_disk_full_is_reported_in_one_clear_line(disk_full: DiskFull, record_property: RecordProperty) -> None:
    err = disk_full.limited.stderr
    report(record_property, "disk full: stderr lines / last line",
           (len(err.strip().splitlines()), (err.strip().splitlines() or [""])[-1]))
    assert "Traceback" not in err, err[-400:]
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: ")
    assert any(w in lines[0].lower() for w in ("disk", "file too large", "space", "full"))


def test_a_run_where_every_page_fails_processing_is_not_ok(tmp_path: Path, record_property: RecordProperty) -> None:
    with FaultSite() as site:
        _site(site, range(20))
        _feed(site, range(20))
        sources = _sources(tmp_path / "s.yaml", site)
        crawl = run_crawl(tmp_path / "a.db", sources, preexec_fn=_fsize_limit(FSIZE_LIMIT))
    stages = dict(sqlite3.connect(tmp_path / "a.db").execute("select stage, count(*) from failures group by 1"))
    report(record_property, "processing failures: exit code / failures by stage", (crawl.returncode, stages))
    assert _count(tmp_path / "a.db") == 0 and stages.get("process") == 20  # the premise
    assert crawl.returncode != 0, crawl.stdout


# --- Datasette while the crawler writes ---------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_datasette_reads_while_the_crawler_writes(tmp_path: Path, record_property: RecordProperty) -> None:
    from archive.datasette import serve_command
    from archive.schema import open_db

    db, n = tmp_path / "a.db", 120
    open_db(db).conn.close()
    port = _free_port()
    base = f"http://127.0.0.1:{port}/{db.stem}"
    server = subprocess.Popen(serve_command(db, port=port), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                              text=True)
    counts: list[int] = []
    errors: list[str] = []
    stop = threading.Event()

    def get(url: str) -> object:
        with urllib.request.urlopen(url, timeout=10) as resp:  # noqa: S310 (loopback)
            return json.loads(resp.read())

    def hammer() -> None:
        count_url = f"{base}.json?sql=select+count(*)+as+n+from+articles&_shape=array"
        table_url = f"{base}/articles.json?_size=5&_shape=objects"
        while not stop.is_set():
            try:
                counts.append(int(get(count_url)[0]["n"]))  # type: ignore[index]
                get(table_url)
            except (urllib.error.URLError, OSError, ValueError, KeyError) as exc:
                errors.append(f"{type(exc).__name__}: {exc}")

    try:
        _wait_for(lambda: _up(f"http://127.0.0.1:{port}/-/versions.json"), 60, "Datasette to start")
        with FaultSite() as site:
            _site(site, range(n), slow=0.02)
            _feed(site, range(n))
            sources = _sources(tmp_path / "s.yaml", site)
            reader = threading.Thread(target=hammer, daemon=True)
            reader.start()
            crawl = run_crawl(db, sources, "-s", "CONCURRENT_REQUESTS_PER_DOMAIN=4")
            stop.set()
            reader.join(30)
        final = int(get(f"{base}.json?sql=select+count(*)+as+n+from+articles&_shape=array")[0]["n"])  # type: ignore[index]
    finally:
        stop.set()
        server.terminate()
        try:
            server.wait(10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
    report(record_property, "datasette: requests during the crawl", 2 * len(counts))
    report(record_property, "datasette: errors", len(errors))
    report(record_property, "datasette: distinct counts seen", len(set(counts)))
    assert crawl.returncode == 0, crawl.stdout + crawl.stderr
    assert errors == [], errors[:5]
    assert len(counts) >= 10 and counts == sorted(counts), counts
    assert final == n


def _up(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2):  # noqa: S310 (loopback)
            return True
    except (urllib.error.URLError, OSError):
        return False

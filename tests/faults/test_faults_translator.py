"""A translator that fails during the crawl (tests/servers/libre.py: hang, 429, 500, garbage):
the articles are archived all the same, with translation_status 'pending' and the reason, and
`reaim translate --pending` finishes the job once the service is healthy again.

The four crawls (one archive and one LibreTranslate stand-in per mode) run at the same time:
each spends most of its time waiting on its translator."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from faults.kit import HANG, Crawl, RecordProperty, connect, crawl_cmd, crawl_env, reaim, report
from servers.faultsite import FaultSite, article_page, make_story, rss
from servers.libre import LibreServer

pytestmark = pytest.mark.e2e

MODES = ("hang", "429", "500", "garbage")
LANGS = {"ko": 3, "es": 2, "en": 1}  # articles per language; English needs no translation
TRANSLATED = sum(n for lang, n in LANGS.items() if lang != "en")
# A hanging translator is given up after TRANSLATE_TIMEOUT; a 429 asks for 2 s (Retry-After). One retry
# per request instead of three keeps the suite short (the retry policy has its own unit tests).
SETTINGS = ("-s", "TRANSLATE_TIMEOUT=2", "-s", "TRANSLATE_RETRIES=1")


@dataclass
class ModeRun:
    mode: str
    db: Path
    crawl: Crawl
    statuses: dict[str, int]
    errors: list[str]
    requests_during_crawl: int
    translate: subprocess.CompletedProcess[str] | None = None
    statuses_after: dict[str, int] | None = None
    text_en_ok: int = 0


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, ModeRun]]:
    tmp = tmp_path_factory.mktemp("translator")
    servers = {mode: LibreServer(mode=mode) for mode in MODES}
    with FaultSite() as site:
        site.allow_all()
        lines = []
        n = 6000
        for lang, count in LANGS.items():
            paths = []
            for _ in range(count):
                path = f"/{lang}/{n}.html"
                site.add(path, article_page(make_story(n, lang), canonical=site.url + path))
                paths.append(path)
                n += 1
            site.add(f"/{lang}/feed.xml", rss(site.url, paths), headers={"Content-Type": "application/rss+xml"})
            lines.append(f"- {{id: {lang}, name: {lang}, language: {lang}, kind: rss, "
                         f"urls: ['{site.url}/{lang}/feed.xml']}}")
        sources = tmp / "sources.yaml"
        sources.write_text("\n".join(lines) + "\n", encoding="utf-8")
        for server in servers.values():
            server.__enter__()
        try:
            procs = {}
            started = time.monotonic()
            for mode, server in servers.items():
                env = crawl_env(REAIM_TRANSLATOR="libre", REAIM_TRANSLATOR_URL=server.url)
                procs[mode] = subprocess.Popen(crawl_cmd(tmp / f"{mode}.db", sources, *SETTINGS), env=env,
                                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            finished: dict[str, float] = {}
            while len(finished) < len(procs) and time.monotonic() - started < HANG:
                finished.update({m: time.monotonic() - started for m, p in procs.items()
                                 if m not in finished and p.poll() is not None})
                time.sleep(0.05)
            results: dict[str, ModeRun] = {}
            for mode, proc in procs.items():
                out, err = proc.communicate(timeout=HANG)  # raises if it hung
                crawl = Crawl(proc.returncode, out, err, round(finished[mode], 1))
                db = tmp / f"{mode}.db"
                results[mode] = ModeRun(mode, db, crawl, _statuses(db), _errors(db), len(servers[mode].requests))
            # The service is healthy again: translate what was left pending, all four at once.
            translators = {}
            for mode, server in servers.items():
                server.mode = "ok"
                env = crawl_env(REAIM_TRANSLATOR="libre", REAIM_TRANSLATOR_URL=server.url)
                translators[mode] = subprocess.Popen(
                    [*crawl_cmd(tmp / f"{mode}.db", sources)[:3], "translate", "--pending", "--db",
                     str(tmp / f"{mode}.db")], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            for mode, proc in translators.items():
                out, err = proc.communicate(timeout=HANG)
                run = results[mode]
                run.translate = subprocess.CompletedProcess(proc.args, proc.returncode, out, err)
                run.statuses_after = _statuses(run.db)
                with connect(run.db) as conn:
                    run.text_en_ok = conn.execute(
                        "select count(*) from articles where language != 'en' and text_en like '[en] %'").fetchone()[0]
        finally:
            for server in servers.values():
                server.__exit__(None, None, None)
        yield results


def _statuses(db: Path) -> dict[str, int]:
    with connect(db) as conn:
        return dict(conn.execute("select translation_status, count(*) from articles group by 1").fetchall())


def _errors(db: Path) -> list[str]:
    with connect(db) as conn:
        return [r[0] for r in conn.execute("select translation_error from articles where translation_status = "
                                           "'pending'").fetchall()]


# What the pending articles' translation_error says, per mode.
REASONS = {"hang": "timed out", "429": "429", "500": "500", "garbage": ""}


@pytest.mark.parametrize("mode", MODES)
def test_a_failing_translator_leaves_articles_archived_and_pending(runs: dict[str, ModeRun], mode: str,
                                                                    record_property: RecordProperty) -> None:
    run = runs[mode]
    report(record_property, f"translator {mode}: crawl elapsed (s)", run.crawl.elapsed)
    report(record_property, f"translator {mode}: statuses after the crawl", run.statuses)
    report(record_property, f"translator {mode}: requests the translator received", run.requests_during_crawl)
    report(record_property, f"translator {mode}: a pending article's reason", (run.errors or [""])[0])
    assert run.crawl.returncode == 0, run.crawl.stdout + run.crawl.stderr
    assert run.statuses == {"pending": TRANSLATED, "not_needed": LANGS["en"]}
    assert all(e for e in run.errors) and all(REASONS[mode].lower() in e.lower() for e in run.errors), run.errors
    assert f"{TRANSLATED} article(s) archived with translation pending" in run.crawl.stdout


@pytest.mark.parametrize("mode", MODES)
def test_translate_pending_finishes_once_the_service_is_back(runs: dict[str, ModeRun], mode: str,
                                                            record_property: RecordProperty) -> None:
    run = runs[mode]
    assert run.translate is not None
    report(record_property, f"translator {mode}: `reaim translate --pending`", run.translate.stdout.strip())
    assert run.translate.returncode == 0, run.translate.stdout + run.translate.stderr
    assert run.statuses_after == {"done": TRANSLATED, "not_needed": LANGS["en"]}
    assert run.text_en_ok == TRANSLATED


def test_reaim_translate_with_the_service_still_down_keeps_them_pending(tmp_path: Path,
                                                                       record_property: RecordProperty) -> None:
    """`reaim translate --pending` against a dead service: exit 3, nothing lost, still pending."""
    from archive.schema import open_db

    db = tmp_path / "a.db"
    archive = open_db(db)
    archive.table("articles").insert({"id": "x1", "url": "http://127.0.0.1/x", "title": "REAIM 회의", "text": "군사 인공지능",
                                "language": "ko", "translation_status": "pending"})
    archive.conn.close()
    with LibreServer(mode="500") as server:
        proc = reaim("translate", "--pending", "--db", str(db),
                     env=crawl_env(REAIM_TRANSLATOR="libre", REAIM_TRANSLATOR_URL=server.url,
                                   REAIM_TRANSLATE_BUDGET=None))
    report(record_property, "translator still down: `reaim translate --pending`",
           (proc.returncode, proc.stdout.strip()))
    assert proc.returncode == 3, proc.stdout + proc.stderr
    assert "translated 0, still pending 1" in proc.stdout

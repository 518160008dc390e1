"""End to end: `reaim demo` crawls the sample site on loopback through Scrapy's real
downloader, processes, translates through a loopback LibreTranslate, and archives.
Then the same again, which must add nothing and send nothing."""

from __future__ import annotations

import os
import subprocess
import sys
from collections import Counter
from importlib import resources
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import sqlite_utils
import yaml

from servers.libre import LibreServer

pytestmark = pytest.mark.e2e


def _expected() -> dict[str, Any]:
    text = (resources.files("reaim.sample_site") / "expected.yaml").read_text(encoding="utf-8")
    return yaml.safe_load(text)


def _articles(expected: dict[str, Any]) -> dict[str, dict[str, Any]]:
    data = expected.get("articles", expected)
    if isinstance(data, list):
        return {a["path"]: a for a in data}
    return dict(data)


def _run_demo(db: Path, libre_url: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "REAIM_TRANSLATOR": "libre", "REAIM_TRANSLATOR_URL": libre_url}
    return subprocess.run(
        [sys.executable, "-m", "reaim.cli", "demo", "--no-serve", "--db", str(db)],
        capture_output=True, text=True, timeout=600, env=env,
    )


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    db = tmp_path_factory.mktemp("demo") / "demo.db"
    with LibreServer() as libre:
        first = _run_demo(db, libre.url)
        chars_first = libre.chars
        rows_first = sqlite_utils.Database(db)["articles"].count if db.exists() else 0
        second = _run_demo(db, libre.url)
        chars_second = libre.chars - chars_first
    return {"db": sqlite_utils.Database(db), "first": first, "second": second, "rows_first": rows_first,
            "chars_first": chars_first, "chars_second": chars_second}


def _path(url: str) -> str:
    return urlsplit(url).path


def test_demo_succeeds_and_prints_the_summary(demo: dict[str, Any]) -> None:
    first = demo["first"]
    assert first.returncode == 0, first.stdout + first.stderr[-3000:]
    for line in ("By language:", "By summit (primary event):", "Off-topic (not archived):",
                 "Duplicates folded:", "Failed pages:", "Translation:"):
        assert line in first.stdout
    assert "Traceback" not in first.stderr


def test_counts_per_language_and_per_summit_match_the_ground_truth(demo: dict[str, Any]) -> None:
    articles = _articles(_expected())
    originals = [a for a in articles.values() if a["relevant"] and not a.get("duplicate_of")]
    db = demo["db"]
    by_lang = {r["language"]: r["n"] for r in db.query(
        "select language, count(*) n from articles where relevant = 1 group by language")}
    assert by_lang == dict(Counter(a["language"] for a in originals))
    by_event = {r["primary_event"]: r["n"] for r in db.query(
        "select primary_event, count(*) n from articles where relevant = 1 group by primary_event")}
    assert by_event == dict(Counter(a["primary_event"] for a in originals))
    for summit in ("reaim-2023", "reaim-2024", "reaim-2026"):
        assert by_event.get(summit, 0) >= 3


def test_no_off_topic_article_is_archived_as_relevant(demo: dict[str, Any]) -> None:
    articles = _articles(_expected())
    archived = [_path(r["canonical_url"]) for r in demo["db"].query("select canonical_url from articles where relevant = 1")]
    wrong = [p for p in archived if not articles.get(p, {}).get("relevant")]
    assert wrong == []
    off_topic = sum(1 for a in articles.values() if not a["relevant"] and not a.get("duplicate_of"))
    assert f"Off-topic (not archived): {off_topic}" in demo["first"].stdout


def test_each_duplicate_group_is_one_row_with_aliases(demo: dict[str, Any]) -> None:
    articles = _articles(_expected())
    db = demo["db"]
    paths = Counter(_path(r["canonical_url"]) for r in db.query("select canonical_url from articles"))
    assert all(n == 1 for n in paths.values())
    duplicates = {p: a["duplicate_of"] for p, a in articles.items() if a.get("duplicate_of")}
    assert duplicates, "the sample site must contain duplicates"
    for dup, original in duplicates.items():
        assert dup not in paths, f"{dup} archived as its own row"
        alias = list(db.query(
            "select a.canonical_url from article_aliases x join articles a on a.id = x.article_id "
            "where x.url like ?", ["%" + dup + "%"]))
        assert [_path(r["canonical_url"]) for r in alias] == [original], dup
    utm = db.execute("select count(*) from article_aliases where url like '%utm_%'").fetchone()[0]
    assert utm >= 1


def test_euc_kr_pages_come_out_as_correct_hangul(demo: dict[str, Any]) -> None:
    articles = _articles(_expected())
    legacy = [p for p, a in articles.items() if a.get("charset_case")]
    assert len(legacy) >= 4
    db = demo["db"]
    for path in legacy:
        rows = list(db.query("select text, encoding, mojibake from articles where canonical_url like ?", ["%" + path]))
        if not articles[path]["relevant"]:
            continue
        assert rows, path
        text = rows[0]["text"]
        letters = [c for c in text if c.isalpha()]
        hangul = sum(1 for c in letters if "\uac00" <= c <= "\ud7a3")
        assert hangul / len(letters) > 0.6, (path, text[:80])
        assert rows[0]["mojibake"] == 0 and rows[0]["encoding"] in ("cp949", "euc-kr", "euc_kr")


def test_translation_went_through_loopback_and_was_cached(demo: dict[str, Any]) -> None:
    db = demo["db"]
    statuses = dict(db.execute(
        "select translation_status, count(*) from articles where relevant = 1 group by 1").fetchall())
    assert statuses.get("done", 0) > 0 and statuses.get("pending", 0) == 0
    assert set(statuses) <= {"done", "not_needed"}
    assert demo["chars_first"] > 0
    assert demo["chars_second"] == 0


def test_second_run_adds_nothing(demo: dict[str, Any]) -> None:
    second = demo["second"]
    assert second.returncode == 0, second.stdout + second.stderr[-3000:]
    assert "(this run: 0 new," in second.stdout
    assert demo["db"]["articles"].count == demo["rows_first"]


def test_tags_have_evidence(demo: dict[str, Any]) -> None:
    db = demo["db"]
    missing = db.execute("select count(*) from article_events where evidence is null").fetchone()[0]
    assert missing == 0
    assert db.execute("select count(*) from article_themes").fetchone()[0] > 0

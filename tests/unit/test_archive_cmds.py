"""reaim import (articles from other tools into the archive) and reaim backup."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from click.testing import CliRunner

from reaim.cli import cli

KO_TEXT = ("서울에서 열린 제2차 인공지능의 책임 있는 군사적 이용에 관한 고위급회의(REAIM)가 10일 폐막했다. "
           "약 60개국이 '행동을 위한 청사진'을 지지했으며 중국은 지지하지 않았다. 참가국들은 무력 사용 결정에 "
           "인간의 통제와 관여가 유지되어야 한다는 데 뜻을 모았다. 회의에는 정부 대표와 군 관계자, 학계와 기업 "
           "관계자 등 2천여 명이 참석했고, 다음 회의는 스페인에서 열린다.")
EN_TEXT = ("About 60 countries endorsed a Blueprint for Action on the responsible use of artificial intelligence "
           "by the military at the close of the REAIM summit in Seoul on Tuesday; China did not endorse it. "
           "Delegates agreed that humans must remain responsible for decisions on the use of force, and the "
           "next summit will be held in Spain.")


def _lines() -> list[str]:
    return [
        json.dumps({"url": "https://ko.example/news/1", "title": "REAIM 고위급회의 서울서 폐막", "text": KO_TEXT,
                    "published": "2024-09-10T09:00:00+00:00", "language": "ko"}, ensure_ascii=False),
        json.dumps({"url": "https://wire.example/a", "title": "Seoul summit backs military AI blueprint",
                    "text": EN_TEXT, "published": "2024-09-10T10:00:00+00:00"}),
        json.dumps({"url": "https://copy.example/a?utm_source=x", "title": "Military AI blueprint backed",
                    "text": EN_TEXT + " Reporting by A. Writer.", "published": "2024-09-11T01:00:00+00:00"}),
        json.dumps({"url": "https://x.example/phone", "title": "A new phone", "text": "The phone has a faster chip "
                    "and a better camera, the company said on Tuesday at its launch event in California." * 2}),
        "{broken",
    ]


def test_import_stores_relevant_articles_folds_copies_and_reports_bad_lines(tmp_path: Path) -> None:
    src = tmp_path / "in.jsonl"
    src.write_text("\n".join(_lines()) + "\n", encoding="utf-8")
    db = tmp_path / "a.db"
    first = CliRunner().invoke(cli, ["import", str(src), "--db", str(db), "--no-translate"])
    assert first.exit_code == 1
    assert "2 new, 0 updated, 1 duplicates folded, 1 off-topic (not stored), 1 bad lines" in first.stdout
    assert "line 5:" in first.stderr
    with sqlite3.connect(db) as conn:
        rows = dict(conn.execute("select canonical_url, language from articles").fetchall())
        alias = conn.execute("select url, reason from article_aliases").fetchall()
        events = conn.execute("select distinct event_id from article_events where is_primary = 1").fetchall()
    assert rows == {"https://ko.example/news/1": "ko", "https://wire.example/a": "en"}
    assert alias == [("https://copy.example/a?utm_source=x", "near-duplicate")]
    assert events == [("reaim-2024",)]
    again = CliRunner().invoke(cli, ["import", str(src), "--db", str(db), "--no-translate"])
    assert "0 new, 2 updated, 1 duplicates folded" in again.stdout


def test_backup_is_a_checked_consistent_copy(tmp_path: Path) -> None:
    src = tmp_path / "in.jsonl"
    src.write_text(_lines()[0] + "\n", encoding="utf-8")
    db = tmp_path / "a.db"
    CliRunner().invoke(cli, ["import", str(src), "--db", str(db), "--no-translate"])
    out = tmp_path / "backups" / "copy.db"
    result = CliRunner().invoke(cli, ["backup", "--db", str(db), "--out", str(out)])
    assert result.exit_code == 0 and "1 articles, integrity ok" in result.stdout
    with sqlite3.connect(out) as conn:
        assert conn.execute("select count(*) from articles").fetchone()[0] == 1
    again = CliRunner().invoke(cli, ["backup", "--db", str(db), "--out", str(out)])
    assert again.exit_code != 0 and "exists" in again.output

"""Every command: help with an example, and one-line errors for user mistakes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from reaim.cli import cli

COMMANDS = sorted(cli.commands)


def test_the_contract_commands_exist() -> None:
    assert {"demo", "crawl", "serve", "extract", "process", "translate"} <= set(COMMANDS)


@pytest.mark.parametrize("command", COMMANDS)
def test_help_has_an_example(command: str) -> None:
    result = CliRunner().invoke(cli, [command, "--help"])
    assert result.exit_code == 0
    assert "Example" in result.output and f"reaim {command}" in result.output


def test_commands_touching_the_archive_take_db() -> None:
    for command in ("demo", "crawl", "serve", "translate"):
        assert "--db" in CliRunner().invoke(cli, [command, "--help"]).output


def test_process_keeps_input_fields_adds_labels_and_reports_bad_lines(tmp_path: Path) -> None:
    lines = [
        json.dumps({"url": "https://x.example/1", "title": "REAIM summit opens in Seoul",
                    "text": "The second summit on Responsible AI in the Military Domain (REAIM) opened in Seoul, "
                            "where delegates discussed the Blueprint for Action and human control over weapons.",
                    "myfield": 7}),
        "{not json",
        json.dumps({"url": "https://x.example/2", "title": ""}),
        json.dumps({"url": "https://x.example/3", "title": "Apple launches a new phone",
                    "text": "The phone has a faster chip and a better camera, the company said on Tuesday in California."}),
    ]
    src = tmp_path / "in.jsonl"
    src.write_text("\n".join(lines) + "\n", encoding="utf-8")
    out = tmp_path / "out.jsonl"
    result = CliRunner().invoke(cli, ["process", str(src), "-o", str(out), "--no-translate"])
    assert result.exit_code == 1
    assert "line 2: not valid JSON" in result.output
    assert "line 3: missing or empty field(s): title, text" in result.output
    rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [r["url"] for r in rows] == ["https://x.example/1", "https://x.example/3"]
    first, second = rows
    assert first["myfield"] == 7
    assert first["language"] == "en" and first["relevant"] is True and first["primary_event"] == "reaim-2024"
    assert first["events"][0] == "reaim-2024"
    assert set(first) >= {"language_confidence", "relevance", "themes", "evidence"}
    assert second["relevant"] is False and second["primary_event"] is None


def test_process_translates_through_a_loopback_libre(tmp_path: Path, libre) -> None:  # type: ignore[no-untyped-def]
    src = tmp_path / "in.jsonl"
    src.write_text(json.dumps({"url": "https://x.example/ko", "title": "서울 REAIM 고위급회의 개막",
                               "text": "군사적 영역에서의 책임 있는 인공지능(REAIM) 고위급회의가 서울에서 열렸다."}) + "\n",
                   encoding="utf-8")
    result = CliRunner().invoke(cli, ["process", str(src), "--translator", "libre", "--translator-url", libre.url])
    assert result.exit_code == 0, result.output
    row = json.loads(result.stdout.splitlines()[0])
    assert row["translation_status"] == "done"
    assert row["title_en"] == "[en] 서울 REAIM 고위급회의 개막"


def test_extract_prints_the_contract_keys(tmp_path: Path) -> None:
    page = tmp_path / "p.html"
    page.write_text(
        "<html lang='en'><head><title>Summit opens | Daily</title>"
        "<link rel='canonical' href='https://daily.example/news/1'>"
        "<meta property='article:published_time' content='2024-09-09T09:00:00+09:00'></head>"
        "<body><nav>Home | World</nav><article><h1>Summit opens</h1>"
        + "<p>Delegates from ninety countries met in Seoul to talk about military uses of artificial intelligence.</p>" * 4
        + "</article></body></html>",
        encoding="utf-8",
    )
    result = CliRunner().invoke(cli, ["extract", str(page), "--url", "https://daily.example/news/1?utm_source=x"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert {"url", "canonical_url", "title", "text", "published", "language", "authors"} <= set(data)
    assert data["canonical_url"] == "https://daily.example/news/1"
    assert data["published"] == "2024-09-09T00:00:00+00:00"
    assert data["language"] == "en" and isinstance(data["authors"], list)


def test_user_errors_are_one_line(tmp_path: Path) -> None:
    runner = CliRunner()
    missing = runner.invoke(cli, ["serve", "--db", str(tmp_path / "none.db")])
    assert missing.exit_code != 0 and "no archive at" in missing.output and "Traceback" not in missing.output
    bad = tmp_path / "bad.yaml"
    bad.write_text("- {id: x, name: X, language: en, kind: telepathy, urls: [u]}", encoding="utf-8")
    result = runner.invoke(cli, ["crawl", "--db", str(tmp_path / "a.db"), "--sources", str(bad)])
    assert result.exit_code != 0 and "kind 'telepathy'" in result.output and "Traceback" not in result.output


def test_crawl_without_reachable_sources_fails_per_source_with_a_reason(tmp_path: Path) -> None:
    """Closed loopback ports stand in for an offline machine: no traffic leaves it."""
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    sources = tmp_path / "s.yaml"
    sources.write_text(
        f"- {{id: one, name: One, language: en, kind: rss, urls: ['http://127.0.0.1:{port}/rss.xml']}}\n"
        f"- {{id: two, name: Two, language: ko, kind: sitemap, urls: ['http://127.0.0.1:{port}/sitemap.xml']}}\n",
        encoding="utf-8",
    )
    proc = subprocess.run(
        [sys.executable, "-m", "reaim.cli", "crawl", "--db", str(tmp_path / "a.db"), "--sources", str(sources)],
        capture_output=True, text=True, timeout=120,
    )
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "Source one: FAILED:" in proc.stdout and "Source two: FAILED:" in proc.stdout
    assert "Connection" in proc.stdout or "refused" in proc.stdout
    assert "Traceback" not in proc.stdout + proc.stderr


def test_datasette_serves_the_archive_with_metadata(tmp_path: Path) -> None:
    from archive.datasette import serve_command
    from archive.schema import open_db

    db = tmp_path / "custom.db"
    open_db(db).close()
    cmd = serve_command(db, extra=["--get", "/custom.json"])
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    tables = {t["name"] for t in json.loads(proc.stdout)["tables"]}
    assert {"articles", "events", "themes", "article_events", "article_themes"} <= tables
    queries = subprocess.run(serve_command(db, extra=["--get", "/custom/coverage_by_summit_language.json"]),
                             capture_output=True, text=True, timeout=60)
    assert queries.returncode == 0 and '"rows"' in queries.stdout


def test_extract_batch_keeps_order_and_reports_failures(tmp_path: Path) -> None:
    body = "<p>Delegates met in Seoul to discuss the military uses of artificial intelligence and human control.</p>" * 4
    pages = []
    for i in range(3):
        page = tmp_path / f"p{i}.html"
        page.write_text(f"<html><head><title>Story {i}</title></head><body><article><h1>Story {i}</h1>{body}"
                        "</article></body></html>", encoding="utf-8")
        pages.append({"path": str(page), "url": f"https://daily.example/news/{i}"})
    pages.insert(1, {"path": str(tmp_path / "missing.html"), "url": "https://daily.example/x"})
    listing = tmp_path / "list.jsonl"
    listing.write_text("\n".join(json.dumps(p) for p in pages) + "\n", encoding="utf-8")
    result = CliRunner().invoke(cli, ["extract", "--batch", str(listing)])
    assert result.exit_code == 1
    lines = [json.loads(x) for x in result.stdout.splitlines() if x.startswith("{")]
    assert [x["path"] for x in lines] == [p["path"] for p in pages]
    assert "error" in lines[1] and "FileNotFoundError" in lines[1]["error"]
    assert [x["title"] for x in (lines[0], lines[2], lines[3])] == ["Story 0", "Story 1", "Story 2"]
    assert {"url", "canonical_url", "text", "published", "language", "authors"} <= set(lines[0])

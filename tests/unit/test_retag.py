"""Endorsements in the archive, and ``reaim retag``: the current taxonomy re-applied to every archived article."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
import sqlite_utils
from click.testing import CliRunner

from archive.schema import open_db
from archive.store import demote_to_alias, replace_endorsements, save_article, save_taxonomy, write_txn
from pipeline.retag import retag_archive
from pipeline.taxonomy import load_taxonomy
from reaim.tag_cmds import retag

TAXONOMY = load_taxonomy()
OLD = "2020.1.1"

SEOUL_EN = {
    "url": "https://wire.example/2024/09/10/seoul",
    "title": "Around 60 nations back military AI blueprint in Seoul; China holds back",
    "text": "About 60 countries endorsed a Blueprint for Action at the REAIM summit in Seoul on Tuesday, but China "
    "was not among them. The text says humans must keep control over decisions on nuclear weapons.",
    "language": "en",
    "published": "2024-09-10T10:40:00+00:00",
    "relevant": True,
    # tags of an older taxonomy: a wrong primary, a theme that is gone, no endorsements
    "primary_event": "reaim-2023",
    "events": ["reaim-2023"],
    "themes": ["data-governance"],
    "taxonomy_version": OLD,
}
CORUNA_KO = {
    "url": "https://ilbo.example/view/2026",
    "title": "스페인서 3차 REAIM 회의 폐막…'행동을 위한 경로' 서명국 35개국에 그쳐",
    "text": "제3차 REAIM 정상회의가 '행동을 위한 경로' 문서를 채택하고 막을 내렸다. 미국과 중국은 모두 서명하지 않았다.",
    "title_en": "Third REAIM meeting closes in Spain",
    "text_en": "Japan signed the Pathways for Action.",
    "language": "ko",
    "published": "2026-02-06T09:10:00+09:00",
    "relevant": True,
    "taxonomy_version": OLD,
}
OFF_TOPIC = {
    "url": "https://daily.example/phones",
    "title": "Phone makers bet on AI assistants",
    "text": "Smartphone makers add AI assistants to revive sales.",
    "language": "en",
    "published": "2025-01-22",
    "relevant": False,
    "taxonomy_version": OLD,
}


@pytest.fixture
def db(tmp_path: Path) -> sqlite_utils.Database:
    database = open_db(tmp_path / "archive.db")
    save_taxonomy(database, TAXONOMY.event_rows(), TAXONOMY.theme_rows(), OLD)
    save_article(database, SEOUL_EN, "seoul")
    save_article(database, CORUNA_KO, "coruna")
    save_article(database, OFF_TOPIC, "phones")
    return database


def _rows(db: sqlite_utils.Database, sql: str) -> list[tuple]:
    return [tuple(r) for r in db.execute(sql).fetchall()]


def test_retag_rewrites_every_tag_with_the_current_version(db: sqlite_utils.Database) -> None:
    report = retag_archive(db, TAXONOMY, batch_size=2)
    assert report.articles == 3 and report.batches == 2
    assert report.version == TAXONOMY.version
    assert report.old_versions == {OLD: 2}  # the two tags the crawl stored
    assert report.primary_changed == 2  # seoul: 2023 -> 2024; coruna: none -> 2026
    assert report.events_removed == 1  # seoul's reaim-2023 (it names no Hague)
    assert report.themes_removed == 1  # data-governance
    assert report.endorsements_added == 4  # CN on Seoul; US, CN and (from the translation) JP on A Coruña
    assert report.tags_changed == (
        report.events_added + report.events_removed + report.themes_added + report.themes_removed
        + report.endorsements_added + report.endorsements_removed + report.endorsements_changed
    )
    assert "tag(s) changed" in report.summary()

    assert _rows(db, "select id, primary_event from articles order by id") == [
        ("coruna", "reaim-2026"), ("phones", None), ("seoul", "reaim-2024"),
    ]
    assert _rows(db, "select article_id, event_id, is_primary from article_events order by 1, 2")[-1] == (
        "seoul", "reaim-2024", 1,
    )
    versions = _rows(
        db,
        "select taxonomy_version from article_events union select taxonomy_version from article_themes "
        "union select taxonomy_version from endorsements",
    )
    assert versions == [(TAXONOMY.version,)]
    assert _rows(db, "select article_id, state, stance, document, language from endorsements order by 1, 2") == [
        ("coruna", "CN", "not_endorsed", "pathways-for-action-2026", "ko"),
        ("coruna", "JP", "endorsed", "pathways-for-action-2026", "en"),
        ("coruna", "US", "not_endorsed", "pathways-for-action-2026", "ko"),
        ("seoul", "CN", "not_endorsed", "blueprint-for-action-2024", "en"),
    ]
    evidence = _rows(db, "select evidence from endorsements where article_id = 'seoul'")[0][0]
    assert "China" in evidence and len(evidence) <= 200


def test_a_second_retag_changes_nothing(db: sqlite_utils.Database) -> None:
    retag_archive(db, TAXONOMY)
    before = _rows(db, "select * from endorsements order by 1, 2, 4")
    again = retag_archive(db, TAXONOMY)
    assert again.tags_changed == 0 and again.primary_changed == 0 and again.articles_changed == 0
    assert again.old_versions == {TAXONOMY.version: sum(again.old_versions.values())}
    assert _rows(db, "select * from endorsements order by 1, 2, 4") == before


def test_a_failing_batch_leaves_its_articles_as_they_were(db: sqlite_utils.Database, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import pipeline.retag as retag_module

    calls = {"n": 0}
    real = retag_module.endorse_article

    def flaky(*args, **kwargs):  # type: ignore[no-untyped-def]
        calls["n"] += 1
        if calls["n"] == 2:  # the second article of the first batch
            raise RuntimeError("boom")
        return real(*args, **kwargs)

    monkeypatch.setattr(retag_module, "endorse_article", flaky)
    with pytest.raises(RuntimeError):
        retag_archive(db, TAXONOMY, batch_size=2)
    # the first batch (coruna, phones) rolled back as a whole: nothing carries the new version
    assert _rows(db, "select count(*) from endorsements") == [(0,)]
    assert _rows(db, "select distinct taxonomy_version from article_events") == [(OLD,)]
    monkeypatch.setattr(retag_module, "endorse_article", real)
    assert retag_archive(db, TAXONOMY).articles == 3  # and it can simply be run again


def test_save_article_stores_and_replaces_endorsements(tmp_path: Path) -> None:
    database = open_db(tmp_path / "a.db")
    save_taxonomy(database, TAXONOMY.event_rows(), TAXONOMY.theme_rows(), TAXONOMY.version)
    rows = [
        {"state": "CN", "stance": "not_endorsed", "document": "blueprint-for-action-2024", "evidence": "China held back.",
         "language": "en", "text": "original", "cue": "held back"},
        {"state": "CN", "stance": "endorsed", "document": "blueprint-for-action-2024"},  # same key: the first wins
    ]
    save_article(database, {**SEOUL_EN, "taxonomy_version": "v1", "endorsements": rows}, "seoul")
    assert _rows(database, "select state, stance, document, evidence, taxonomy_version from endorsements") == [
        ("CN", "not_endorsed", "blueprint-for-action-2024", "China held back.", "v1"),
    ]
    save_article(database, {**SEOUL_EN, "title": "changed"}, "seoul")  # no "endorsements": left alone
    assert _rows(database, "select count(*) from endorsements") == [(1,)]
    save_article(database, {**SEOUL_EN, "endorsements": []}, "seoul")  # an empty list: none now
    assert _rows(database, "select count(*) from endorsements") == [(0,)]


def test_endorsements_go_with_their_article(tmp_path: Path) -> None:
    database = open_db(tmp_path / "a.db")
    save_taxonomy(database, TAXONOMY.event_rows(), TAXONOMY.theme_rows(), TAXONOMY.version)
    save_article(database, SEOUL_EN, "copy")
    save_article(database, {**SEOUL_EN, "url": "https://wire.example/original"}, "original")
    with write_txn(database):
        replace_endorsements(
            database, "copy", [{"state": "CN", "stance": "not_endorsed", "document": "blueprint-for-action-2024"}]
        )
    with pytest.raises(sqlite3.IntegrityError):  # only an archived article has endorsements
        with write_txn(database):
            replace_endorsements(database, "nope", [{"state": "JP", "stance": "endorsed", "document": "x"}])
    with pytest.raises(sqlite3.IntegrityError):  # and only these two stances
        with write_txn(database):
            replace_endorsements(database, "copy", [{"state": "JP", "stance": "maybe", "document": "x"}])
    demote_to_alias(database, "copy", "original")  # deletes the row: its endorsements follow
    assert _rows(database, "select count(*) from endorsements") == [(0,)]
    assert "m003_endorsements" in [m["name"] for m in database["_sqlite_migrations"].rows]


def test_retag_command(db: sqlite_utils.Database, tmp_path: Path) -> None:
    path = tmp_path / "archive.db"
    db.close()
    result = CliRunner().invoke(retag, ["--db", str(path), "--batch-size", "1"])
    assert result.exit_code == 0, result.output
    assert f"Retagged 3 article(s) with taxonomy {TAXONOMY.version}" in result.output
    assert "tag(s) changed in 2 article(s)" in result.output
    again = CliRunner().invoke(retag, ["--db", str(path)])
    assert "0 tag(s) changed" in again.output

    missing = CliRunner().invoke(retag, ["--db", str(tmp_path / "none.db")])
    assert missing.exit_code == 1 and "no archive at" in missing.output and "Traceback" not in missing.output


def test_retag_help_has_an_example() -> None:
    result = CliRunner().invoke(retag, ["--help"])
    assert result.exit_code == 0
    assert "Example:" in result.output and "reaim retag" in result.output and "--db" in result.output


def test_db_option_is_reaim_clis() -> None:
    """--db is the shared one (reaim.options)."""
    import click

    from reaim.cli import db_option as cli_db_option
    from reaim.tag_cmds import db_option

    def options(decorate):  # type: ignore[no-untyped-def]
        command = click.command()(decorate(lambda db: None))
        (param,) = command.params
        return (param.opts, param.default, param.show_default, param.help, type(param.type), param.type.dir_okay)

    assert options(db_option) == options(cli_db_option)


def test_a_broken_taxonomy_is_one_line(db: sqlite_utils.Database, tmp_path: Path) -> None:
    (tmp_path / "tax").mkdir()
    (tmp_path / "tax" / "events.yaml").write_text("version: [", encoding="utf-8")
    result = CliRunner().invoke(retag, ["--db", str(tmp_path / "archive.db"), "--taxonomy", str(tmp_path / "tax")])
    assert result.exit_code == 1 and "not valid YAML" in result.output and "Traceback" not in result.output

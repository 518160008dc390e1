"""Search in every language (issue 6): archive.search, `reaim search` and the Datasette canned query."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import sqlite_utils
from click.testing import CliRunner

from archive.analysis import match_expression as text_match
from archive.schema import ensure_db_shape, open_db
from archive.search import (
    META_TABLE,
    SEARCH_TABLE,
    ensure_search_index,
    match_expression,
    reindex,
    search,
    search_tokens,
    snippet,
)
from archive.store import demote_to_alias, save_article, save_taxonomy
from reaim.search_cmd import search as search_command

ROOT = Path(__file__).resolve().parents[2]


def record(url: str, language: str, title: str, text: str, **extra: Any) -> dict[str, Any]:
    return {"url": url, "canonical_url": url, "outlet": "Test", "language": language, "title": title,
            "text": text, "relevant": True, "published": extra.pop("published", "2024-09-09T00:00:00+00:00"),
            "primary_event": "reaim-2024", "events": [], "themes": [], **extra}


ARTICLES = {
    "ko1": record("https://ko.example/1", "ko", "서울에서 REAIM 고위급회의 개막",
                  "군사 영역에서의 책임 있는 인공지능 고위급회의가 서울에서 열렸다. 각국은 AI의 군사적 이용에 관한 "
                  "원칙을 논의했고, 회의에서는 인간의 통제가 강조됐다.",
                  title_en="REAIM high-level meeting opens in Seoul",
                  text_en="A high-level meeting on responsible AI in the military domain opened in Seoul."),
    "ko2": record("https://ko.example/2", "ko", "국방부 예산안 발표", "국방부는 내년 예산안을 발표했다. 장병 복지 예산이 늘었다."),
    "zh1": record("https://zh.example/1", "zh", "首尔峰会通过“行动蓝图”",
                  "第二届军事领域负责任人工智能峰会10日在韩国首尔闭幕，约60个国家支持会议通过的“行动蓝图”。"),
    "ja1": record("https://ja.example/1", "ja", "軍事AIの責任ある利用へ初の国際会議",
                  "人工知能（AI）の軍事利用のあり方を話し合う初の国際会議がオランダ・ハーグで閉幕した。米国や中国を含む約60か国が賛同した。"),
    "en1": record("https://en.example/1", "en", "Seoul summit backs a blueprint for military AI",
                  "About 60 countries endorsed the Blueprint for Action, which keeps human control over decisions "
                  "on the use of force.", published="2024-09-10T00:00:00+00:00"),
    "de1": record("https://de.example/1", "de", "Militärgipfel in Seoul",
                  "Zum Abschluss des zweiten Militärgipfels billigten rund 60 Staaten einen Aktionsplan."),
    "ru1": record("https://ru.example/1", "ru", "В Сеуле одобрили план действий",
                  "Второй саммит завершился в Сеуле принятием плана действий по военному ИИ."),
    "off": record("https://ko.example/off", "ko", "주민 회의 열려", "아파트 주민 회의가 열렸다.", relevant=False),
}


def ids(hits: list[dict[str, Any]]) -> list[str]:
    return [h["id"] for h in hits]


@pytest.fixture
def db() -> sqlite_utils.Database:
    database = sqlite_utils.Database(memory=True)
    ensure_db_shape(database)
    ensure_search_index(database)
    for article_id, rec in ARTICLES.items():
        save_article(database, rec, article_id)
    return database


# -- the analysis ----------------------------------------------------------------


def test_tokens_are_bigrams_for_hangul_and_han_and_folded_stemmed_words_elsewhere() -> None:
    assert search_tokens("회의가 서울에서", "ko").split() == ["회의", "의가", "가", "서울", "울에", "에서", "서"]
    assert search_tokens("首尔峰会", "zh").split() == ["首尔", "尔峰", "峰会", "会"]
    assert search_tokens("軍事AIの", "ja").split() == ["軍事", "事", "ai", "の"]
    assert search_tokens("В Сеуле", "ru").split() == ["в", "сеуле", "сеул"]
    assert search_tokens("Seúl aprueba", "es").split() == ["seul", "aprueba", "aprueb"]
    assert search_tokens("ＡＩ ｿｳﾙ", "ja").split() == ["ai", "ソウ", "ウル", "ル"]  # NFKC: full/half width


def test_match_expression_quotes_everything_the_user_types() -> None:
    assert text_match("회의") == '"회의"'
    assert text_match("人工智能") == '"人工 工智 智能"'  # a phrase: the characters in a row
    assert text_match("회의에서") == '("회의 의에 에서" OR "회의")'  # the particle may go
    assert text_match("米") == '"米"*'
    assert text_match('"AND" OR NEAR(') == '"and" AND "or" AND "near"'
    assert text_match("militär*") == '"militar"*'
    assert text_match("  ,.!  ") is None and text_match("") is None


def test_the_filters_are_part_of_the_match_expression() -> None:
    # Language and relevance are filtered by FTS5 itself, before anything is joined to articles.
    assert match_expression("회의", "ko") == '({title body title_en body_en} : ("회의") AND language : "ko") NOT flags : offtopic'
    assert match_expression("회의", include_off_topic=True) == '{title body title_en body_en} : ("회의")'
    assert match_expression("") is None


# -- searching ---------------------------------------------------------------------


@pytest.mark.parametrize("query", ["회의", "군사", "서울", "회의에서", "인공지능", "고위급회의"])
def test_korean_nouns_match_with_particles_attached(db: sqlite_utils.Database, query: str) -> None:
    # The text has 회의가, 회의에서, 군사적, 서울에서: never the bare noun.
    assert ids(search(db, query)) == ["ko1"]


@pytest.mark.parametrize(("query", "expected"), [
    ("人工智能", ["zh1"]), ("首尔峰会", ["zh1"]), ("峰会", ["zh1"]), ("行动蓝图", ["zh1"]),
    ("軍事", ["ja1"]), ("国際会議", ["ja1"]), ("ハーグ", ["ja1"]), ("米", ["ja1"]),
])
def test_chinese_and_japanese_need_no_spaces(db: sqlite_utils.Database, query: str, expected: list[str]) -> None:
    assert ids(search(db, query)) == expected


def test_english_finds_the_original_and_the_translation(db: sqlite_utils.Database) -> None:
    hits = search(db, "Seoul")
    assert set(ids(hits)) == {"ko1", "en1", "de1"}  # ko1 only through title_en / text_en
    korean = next(h for h in hits if h["id"] == "ko1")
    assert "**Seoul**" in korean["snippet"]  # the snippet comes from the English text when the original lacks it
    assert ids(search(db, "human control")) == ["en1"]
    assert ids(search(db, "blueprints")) == ["en1"]  # stems: blueprints -> blueprint


def test_language_filter(db: sqlite_utils.Database) -> None:
    assert ids(search(db, "Seoul", language="ko")) == ["ko1"]
    assert ids(search(db, "Seoul", language="en")) == ["en1"]
    assert search(db, "Seoul", language="fr") == []


def test_inflected_forms_and_accents(db: sqlite_utils.Database) -> None:
    assert ids(search(db, "Сеул")) == ["ru1"]  # the text only has Сеуле
    assert ids(search(db, "саммиты")) == ["ru1"]
    assert ids(search(db, "Staat")) == ["de1"]  # Staaten
    assert ids(search(db, "Séoul")) == ids(search(db, "Seoul"))


def test_german_closed_compounds_match_by_prefix_not_by_their_last_part(db: sqlite_utils.Database) -> None:
    """What works for German: hyphenated compounds split (KI-Gipfel), closed ones don't (Militärgipfel)."""
    assert search_tokens("KI-Gipfel", "de").split() == ["ki", "gipfel"]
    assert search_tokens("Militärgipfel", "de").split() == ["militargipfel"]
    assert search(db, "Gipfel") == []
    assert ids(search(db, "Militär*", language="de")) == ["de1"]  # without the filter, military too
    assert ids(search(db, "Militärgipfel")) == ["de1"]


def test_results_carry_the_contract_fields_best_first(db: sqlite_utils.Database) -> None:
    save_article(db, record("https://ko.example/3", "ko", "회의 회의 회의", "회의가 또 회의를 낳았다."), "ko3")
    hits = search(db, "회의")
    assert ids(hits) == ["ko3", "ko1"]
    assert {"url", "title", "language", "published", "primary_event", "snippet"} <= set(hits[0])
    assert hits[1]["url"] == "https://ko.example/1" and hits[1]["primary_event"] == "reaim-2024"
    assert hits[0]["score"] <= hits[1]["score"]  # bm25: lower is better
    assert len(search(db, "회의", limit=1)) == 1


def test_off_topic_articles_only_when_asked(db: sqlite_utils.Database) -> None:
    assert "off" not in ids(search(db, "주민"))
    assert ids(search(db, "주민", include_off_topic=True)) == ["off"]


def test_snippet_highlights_matches_in_the_original_first() -> None:
    text = "첫 문장이다. " * 30 + "회의에서 인간의 통제가 강조됐다. " + "끝 문장이다. " * 30
    out = snippet("회의 통제", "ko", "제목", text)
    assert "**회의**에서 인간의 **통제**가" in out
    assert out.startswith("…") and out.endswith("…") and len(out) < 200
    assert snippet("米", "ja", None, "米国と中国") == "**米**国と中国"


# -- keeping the index in step --------------------------------------------------------


def test_save_updates_and_demotion_keep_the_index_in_step(db: sqlite_utils.Database) -> None:
    save_article(db, {**ARTICLES["ko2"], "text": "국방부는 군축 회의를 열었다."}, "ko2")
    assert ids(search(db, "군축")) == ["ko2"]
    assert ids(search(db, "예산안")) == ["ko2"]  # still in the title
    assert search(db, "장병") == []  # gone with the old text
    demote_to_alias(db, "ko2", "ko1")
    assert search(db, "군축") == []
    assert db.execute(f"select count(*) from {SEARCH_TABLE}").fetchone()[0] == db["articles"].count


def test_ensure_repairs_rows_written_behind_its_back_and_is_idempotent(db: sqlite_utils.Database) -> None:
    # As `reaim translate --pending` does: a direct update of the English text with a new updated_at.
    with db.conn:
        db["articles"].update("zh1", {"title_en": "Seoul summit adopts blueprint", "updated_at": "later"})
        db.execute("delete from articles where id = 'ja1'")
    assert "zh1" not in ids(search(db, "blueprint"))
    ensure_search_index(db)
    assert "zh1" in ids(search(db, "blueprint"))
    assert search(db, "軍事") == []
    before = db.execute(f"select count(*) from {SEARCH_TABLE}").fetchone()[0]
    ensure_search_index(db)
    ensure_search_index(db)
    assert db.execute(f"select count(*) from {SEARCH_TABLE}").fetchone()[0] == before == db["articles"].count


def test_an_index_built_by_another_version_is_rebuilt(db: sqlite_utils.Database) -> None:
    with db.conn:
        db.execute(f"update {META_TABLE} set value = 'v0' where key = 'analyzer'")
        db.execute(f"delete from {SEARCH_TABLE}")
    ensure_search_index(db)
    assert ids(search(db, "회의")) == ["ko1"]
    assert reindex(db, ["ko1", "missing"]) == 1


# -- reaim search -------------------------------------------------------------------------


@pytest.fixture
def archive_file(tmp_path: Path) -> Path:
    path = tmp_path / "archive.db"
    database = open_db(path)  # foreign keys on: the events must exist
    save_taxonomy(database, [{"id": "reaim-2024", "label": "REAIM 2024 (Seoul)"}], [], "test-1")
    for article_id, rec in ARTICLES.items():
        save_article(database, rec, article_id)
    database.close()
    return path


def test_cli_json_is_one_array_with_the_contract_fields(archive_file: Path) -> None:
    result = CliRunner().invoke(search_command, ["회의", "--db", str(archive_file), "--json"])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.output)
    assert [r["url"] for r in rows] == ["https://ko.example/1"]
    assert set(rows[0]) == {"url", "title", "language", "published", "primary_event", "snippet"}
    assert "**회의**" in rows[0]["snippet"]
    result = CliRunner().invoke(search_command, ["Seoul", "--db", str(archive_file), "--json", "-l", "KO", "-n", "5"])
    assert [r["language"] for r in json.loads(result.output)] == ["ko"]


def test_cli_prints_matches_best_first_and_says_when_there_are_none(archive_file: Path) -> None:
    result = CliRunner().invoke(search_command, ["Seoul", "--db", str(archive_file)])
    assert result.exit_code == 0
    assert result.output.startswith("1. ") and "2. " in result.output and "https://en.example/1" in result.output
    result = CliRunner().invoke(search_command, ["존재하지않는말", "--db", str(archive_file), "--json"])
    assert result.exit_code == 0 and json.loads(result.output) == []
    result = CliRunner().invoke(search_command, ["존재하지않는말", "--db", str(archive_file)])
    assert result.exit_code == 0 and "No matches" in result.output


def test_cli_missing_archive_is_a_one_line_error(tmp_path: Path) -> None:
    result = CliRunner().invoke(search_command, ["회의", "--db", str(tmp_path / "none.db")])
    assert result.exit_code != 0 and "no archive at" in result.output and "Traceback" not in result.output
    assert not (tmp_path / "none.db").exists()
    help_text = CliRunner().invoke(search_command, ["--help"]).output
    assert "Example" in help_text and "reaim search" in help_text


# -- Datasette ------------------------------------------------------------------------------


def _datasette_get(path: Path, url: str) -> Any:
    from datasette.app import Datasette

    from archive.datasette import metadata_for

    async def go() -> Any:
        ds = Datasette(files=[str(path)], metadata=metadata_for(path))
        response = await ds.client.get(url)
        assert response.status_code == 200, response.text
        return response.json()

    return asyncio.run(go())


@pytest.mark.parametrize("query", ["회의", "人工智能", "Seoul", "Сеул"])
def test_datasette_canned_query_returns_the_same_top_hit(archive_file: Path, plugin: None, query: str) -> None:
    from urllib.parse import quote

    rows = _datasette_get(archive_file, f"/archive/search.json?q={quote(query)}&_shape=array")
    expected = search(sqlite_utils.Database(archive_file), query)
    assert [r["url"] for r in rows] == [h["url"] for h in expected]
    assert rows[0]["snippet"] == expected[0]["snippet"]


def test_datasette_canned_query_language_and_empty_query(archive_file: Path, plugin: None) -> None:
    rows = _datasette_get(archive_file, "/archive/search.json?q=Seoul&language=ko&_shape=array")
    assert [r["language"] for r in rows] == ["ko"]
    assert _datasette_get(archive_file, "/archive/search.json?q=&_shape=array") == []
    tokens = _datasette_get(archive_file, "/archive.json?sql=select+reaim_tokens('회의가','ko')+as+t&_shape=array")
    assert tokens == [{"t": "회의 의가 가"}]


def test_datasette_cli_loads_the_plugin(archive_file: Path, tmp_path: Path) -> None:
    """`datasette serve ... --plugins-dir DIR` with a one-line module, as a deployment without the entry point would."""
    from archive.datasette import serve_command

    plugins = tmp_path / "plugins"
    plugins.mkdir()
    (plugins / "reaim_search.py").write_text("from archive.datasette_plugin import prepare_connection  # noqa: F401\n")
    cmd = serve_command(archive_file, extra=["--plugins-dir", str(plugins),
                                             "--get", "/archive/search.json?q=%E5%B3%B0%E4%BC%9A&_shape=array"])
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=60, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr
    assert [r["url"] for r in json.loads(proc.stdout)] == ["https://zh.example/1"]


# -- the demo archive -------------------------------------------------------------------------


@pytest.fixture(scope="session")
def demo_db(tmp_path_factory: pytest.TempPathFactory) -> sqlite_utils.Database:
    path = tmp_path_factory.mktemp("search-demo") / "demo.db"
    env = {**os.environ, "REAIM_TRANSLATOR": "none"}
    env.pop("REAIM_DB", None)
    proc = subprocess.run([sys.executable, "-m", "reaim.cli", "demo", "--no-serve", "--db", str(path)],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=180)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    database = sqlite_utils.Database(path)
    ensure_search_index(database)
    return database


def test_demo_korean_query_finds_the_korean_reaim_articles(demo_db: sqlite_utils.Database) -> None:
    korean = {r["id"] for r in demo_db.query("select id from articles where language = 'ko' and relevant = 1")}
    assert len(korean) >= 5
    hits = search(demo_db, "회의", limit=50)
    assert {h["id"] for h in hits} == korean  # every Korean article speaks of the 회의 (meeting), none other
    assert all(h["language"] == "ko" and "**회의**" in h["snippet"] for h in hits)
    assert {h["primary_event"] for h in hits} >= {"reaim-2023", "reaim-2024", "reaim-2026"}


@pytest.mark.parametrize(("query", "language", "at_least"), [
    ("서울", "ko", 8), ("군사", "ko", 8), ("人工智能", "zh", 3), ("軍事", "ja", 3), ("首尔峰会", "zh", 1),
    ("Сеул", "ru", 2), ("cumbre", "es", 6), ("sommet", "fr", 3),
])
def test_demo_queries_in_every_language(demo_db: sqlite_utils.Database, query: str, language: str,
                                        at_least: int) -> None:
    hits = search(demo_db, query, limit=50)
    assert len(hits) >= at_least and all(h["language"] == language for h in hits)

"""The language stage measured on the hand-written labelled set.

Targets (issue 4): text only, at least 99% on paragraphs and 95% on titles;
a title labelled wrong is never labelled confidently. The figures for every
detector are in docs/language.md (bench/lang_compare.py).
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
import yaml

from pipeline.language import DEFAULT_DETECTOR, TRACKED, LanguageResult, detect_language, resolve_detector

LABELLED = Path(__file__).resolve().parents[1] / "fixtures" / "langid" / "labelled.yaml"
KINDS = ("title", "sentence", "paragraph")
Row = dict[str, str]


@pytest.fixture(scope="module")
def labelled() -> list[Row]:
    return yaml.safe_load(LABELLED.read_text(encoding="utf-8"))


def _run(rows: list[Row], hinted: bool) -> list[tuple[Row, LanguageResult]]:
    assert resolve_detector(DEFAULT_DETECTOR) == DEFAULT_DETECTOR, f"{DEFAULT_DETECTOR} is not installed: pip install -e ."
    return [(r, detect_language(r["text"], {"source": r["language"]} if hinted else None, DEFAULT_DETECTOR)) for r in rows]


@pytest.fixture(scope="module")
def text_only(labelled: list[Row]) -> list[tuple[Row, LanguageResult]]:
    return _run(labelled, hinted=False)


@pytest.fixture(scope="module")
def with_hint(labelled: list[Row]) -> list[tuple[Row, LanguageResult]]:
    return _run(labelled, hinted=True)


def _accuracy(results: list[tuple[Row, LanguageResult]], kind: str) -> float:
    rows = [(r, res) for r, res in results if r["kind"] == kind]
    return sum(res.language == r["language"] for r, res in rows) / len(rows)


def test_the_set_is_large_balanced_and_well_formed(labelled: list[Row]) -> None:
    assert len(labelled) >= 300
    assert {r["language"] for r in labelled} == TRACKED
    assert all(set(r) == {"text", "language", "kind"} and r["kind"] in KINDS for r in labelled)
    per = Counter((r["language"], r["kind"]) for r in labelled)
    for lang in TRACKED:
        assert sum(per[lang, k] for k in KINDS) >= 35, lang
        assert all(per[lang, k] >= 11 for k in KINDS), lang
    assert all(len(r["text"]) < 40 for r in labelled if r["kind"] == "title")
    assert len({r["text"] for r in labelled}) == len(labelled), "duplicate texts"


def test_paragraphs_text_only(text_only: list[tuple[Row, LanguageResult]]) -> None:
    assert _accuracy(text_only, "paragraph") >= 0.99


def test_sentences_text_only(text_only: list[tuple[Row, LanguageResult]]) -> None:
    assert _accuracy(text_only, "sentence") >= 0.97


def test_titles_text_only(text_only: list[tuple[Row, LanguageResult]]) -> None:
    assert _accuracy(text_only, "title") >= 0.95


@pytest.mark.parametrize("kind", KINDS)
def test_with_the_correct_hint(with_hint: list[tuple[Row, LanguageResult]], kind: str) -> None:
    assert _accuracy(with_hint, kind) >= 0.99


def test_a_wrong_title_is_never_confident(text_only: list[tuple[Row, LanguageResult]]) -> None:
    confident_wrong = [
        (r["text"], res)
        for r, res in text_only
        if r["kind"] == "title" and res.language not in (r["language"], "und") and res.confidence >= 0.5
    ]
    assert confident_wrong == []

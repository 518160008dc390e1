"""The taxonomy data is complete and well-formed: ids, labels and terms in every language."""

from __future__ import annotations

import datetime as dt
import re
import shutil
from pathlib import Path

import pytest

from pipeline.relevance import score_relevance
from pipeline.taxonomy import DEFAULT_DIR, load_taxonomy

EVENT_IDS = [
    "reaim-2023",
    "reaim-2024",
    "reaim-2026",
    "rok-un-geneva-2023",
    "us-political-declaration",
    "unga-resolution-ai-military",
    "gc-reaim",
]
THEME_IDS = {
    "human-control",
    "international-law",
    "autonomous-weapons",
    "risk-and-testing",
    "escalation-and-stability",
    "nuclear-and-wmd",
    "data-governance",
    "capacity-building",
    "multistakeholder",
    "endorsement-and-geopolitics",
    "civilian-protection",
    "national-frameworks",
    "decision-support-and-targeting",
}
LANGUAGES = ["en", "ko", "es", "nl", "fr", "de", "zh", "ja", "ru"]

TAXONOMY = load_taxonomy()
VERSION = TAXONOMY.version


def test_version_and_languages() -> None:
    assert re.fullmatch(r"\d{4}\.\d+\.\d+", TAXONOMY.version)
    assert TAXONOMY.lexicon.version == TAXONOMY.version
    assert list(TAXONOMY.languages) == LANGUAGES


def test_event_ids_are_exactly_the_seven_in_order() -> None:
    assert [e.id for e in TAXONOMY.events] == EVENT_IDS


def test_theme_ids_are_exactly_the_thirteen() -> None:
    ids = [t.id for t in TAXONOMY.themes]
    assert len(ids) == len(set(ids)) == 13
    assert set(ids) == THEME_IDS


@pytest.mark.parametrize("event_id", EVENT_IDS)
def test_every_event_has_a_label_and_names_in_every_language(event_id: str) -> None:
    event = TAXONOMY.event(event_id)
    for lang in LANGUAGES:
        assert event.labels.get(lang, "").strip(), (event_id, lang, "label")
        names = list(event.names.get(lang, ())) + list(event.names.get("any", ()))
        assert names, (event_id, lang, "names")
        own = event.names.get(lang, ())
        assert own, f"{event_id}: no name written in {lang}"


@pytest.mark.parametrize("event_id", ["reaim-2023", "reaim-2024", "reaim-2026", "rok-un-geneva-2023"])
def test_events_held_in_a_city_have_its_name_in_every_language(event_id: str) -> None:
    event = TAXONOMY.event(event_id)
    for lang in LANGUAGES:
        assert event.places.get(lang), (event_id, lang)


@pytest.mark.parametrize("theme_id", sorted(THEME_IDS))
def test_every_theme_has_a_label_and_several_terms_in_every_language(theme_id: str) -> None:
    theme = TAXONOMY.theme_by_id[theme_id]
    for lang in LANGUAGES:
        assert theme.labels.get(lang, "").strip(), (theme_id, lang)
        assert len(theme.terms.get(lang, ())) >= 3, (theme_id, lang)


def test_event_dates_parse_and_are_ordered() -> None:
    for event in TAXONOMY.events:
        assert isinstance(event.start_date, dt.date)
        assert event.end_date is None or event.end_date >= event.start_date
    summits = {e.id: e for e in TAXONOMY.events if e.kind == "summit"}
    assert summits["reaim-2023"].start_date == dt.date(2023, 2, 15)
    assert summits["reaim-2024"].start_date == dt.date(2024, 9, 9)
    assert summits["reaim-2026"].end_date == dt.date(2026, 2, 5)
    assert all(e.series == "reaim" for e in summits.values())


def test_rows_for_the_archive() -> None:
    rows = TAXONOMY.event_rows()
    assert rows[1] == {
        "id": "reaim-2024",
        "label": TAXONOMY.event("reaim-2024").labels["en"],
        "kind": "summit",
        "start_date": "2024-09-09",
        "end_date": "2024-09-10",
        "place": "Seoul",
        "country": "KR",
        "labels": dict(TAXONOMY.event("reaim-2024").labels),
    }
    assert {r["id"] for r in TAXONOMY.theme_rows()} == THEME_IDS
    assert all(set(r["labels"]) == set(LANGUAGES) for r in TAXONOMY.theme_rows())


def test_every_language_has_relevance_terms_in_each_strong_group() -> None:
    for group_id in ("summit-name", "core-phrase", "military-ai"):
        group = TAXONOMY.lexicon.group_by_id[group_id]
        for lang in LANGUAGES:
            assert group.terms.get(lang), (group_id, lang)
    pair = TAXONOMY.lexicon.group_by_id["ai-military"]
    for side in pair.sides.values():
        for lang in LANGUAGES:
            assert side.get(lang), ("ai-military", lang)


def test_each_series_name_alone_makes_a_text_relevant() -> None:
    """The summit's own name, in any language, is enough (and the lexicon agrees with events.yaml)."""
    for lang, specs in TAXONOMY.series["reaim"].items():
        for spec in specs:
            text = f"« {spec.term} »"
            result = score_relevance(None, text, None if lang == "any" else lang, TAXONOMY.lexicon)
            assert result.relevant, (lang, spec.term, result)


def test_loading_is_cached_and_the_data_is_frozen() -> None:
    assert load_taxonomy() is TAXONOMY
    assert load_taxonomy(DEFAULT_DIR / "events.yaml") is TAXONOMY
    with pytest.raises(AttributeError):
        TAXONOMY.version = "x"  # type: ignore[misc]
    with pytest.raises(TypeError):
        TAXONOMY.event("reaim-2024").labels["en"] = "x"  # type: ignore[index]


def _copy(tmp_path: Path) -> Path:
    target = tmp_path / "taxonomy"
    shutil.copytree(DEFAULT_DIR, target)
    return target


def test_another_topic_directory_can_be_loaded(tmp_path: Path) -> None:
    target = _copy(tmp_path)
    for name in ("events.yaml", "themes.yaml", "lexicon.yaml", "states.yaml", "documents.yaml"):
        path = target / name
        path.write_text(
            path.read_text(encoding="utf-8").replace(f'version: "{VERSION}"', 'version: "9.9.9"'), encoding="utf-8"
        )
    other = load_taxonomy(target)
    assert other.version == "9.9.9" and other is not TAXONOMY
    assert other.path == target.resolve()


@pytest.mark.parametrize(
    ("file", "old", "new", "message"),
    [
        ("events.yaml", "start_date: 2024-09-09", "start_date: 9 September", "event 'reaim-2024': start_date"),
        ("events.yaml", "kind: conference", "kind: party", "event 'rok-un-geneva-2023': kind"),
        ("events.yaml", "  - id: gc-reaim", "  - id: reaim-2023", "duplicate id"),
        ("themes.yaml", "  - id: data-governance", "  - id: Data Governance", "id must be lowercase"),
        ("themes.yaml", f'version: "{VERSION}"', 'version: "1999.1.1"', "differs from events.yaml"),
        ("states.yaml", f'version: "{VERSION}"', 'version: "1999.1.1"', "differs from events.yaml"),
        ("documents.yaml", f'version: "{VERSION}"', 'version: "1999.1.1"', "differs from events.yaml"),
        ("states.yaml", "  - code: KP", "  - code: Korea", "ISO 3166-1 alpha-2"),
        ("states.yaml", "  - code: CN", "  - code: US", "state 'US': duplicate code"),
        ("documents.yaml", "    event: reaim-2026", "    event: reaim-2030", "document 'pathways-for-action-2026': event"),
        ("documents.yaml", "  not_after:", "  not_really:", "unknown cue kind"),
        ("documents.yaml", "trug … nicht mit,", "trug … ,", "cues.reject: 'trug …': a gap needs words on both sides"),
        ("lexicon.yaml", "    weight: 0.75", "    weight: 7.5", "group 'acronym': weight"),
        (
            "lexicon.yaml",
            "  - id: host-city\n    weight: 0.15\n    bucket: context\n    requires: [ai-military,",
            "  - id: host-city\n    weight: 0.15\n    bucket: context\n    requires: [nothing,",
            "group 'host-city': requires",
        ),
        (
            "events.yaml",
            "      ko: [헤이그]",
            "      xx: [헤이그]",
            "event 'reaim-2023': terms in unconfigured language 'xx'",
        ),
        (
            "themes.yaml",
            "      en: [international law,",
            "      en: ['*', international law,",
            "theme 'international-law'",
        ),
    ],
)
def test_malformed_data_names_the_file_and_the_id(tmp_path: Path, file: str, old: str, new: str, message: str) -> None:
    target = _copy(tmp_path)
    path = target / file
    text = path.read_text(encoding="utf-8")
    assert old in text, old
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    with pytest.raises(ValueError) as info:
        load_taxonomy(target)
    assert file in str(info.value)
    assert message in str(info.value)


def test_a_missing_file_is_a_clear_error(tmp_path: Path) -> None:
    target = _copy(tmp_path)
    (target / "lexicon.yaml").unlink()
    with pytest.raises(ValueError, match="lexicon.yaml: taxonomy file not found"):
        load_taxonomy(target)


def test_states_and_documents_are_optional_but_go_together(tmp_path: Path) -> None:
    target = _copy(tmp_path)
    (target / "documents.yaml").unlink()
    with pytest.raises(ValueError, match="documents.yaml: taxonomy file not found"):
        load_taxonomy(target)
    (target / "states.yaml").unlink()
    assert load_taxonomy(target).endorsement is None


# --- states, outcome documents, endorsement cues ----------------------------------------------------

ENDORSEMENT = TAXONOMY.endorsement
DOCUMENT_IDS = [
    "call-to-action-2023",
    "blueprint-for-action-2024",
    "pathways-for-action-2026",
    "us-political-declaration",
    "unga-resolution-79-239",
]


def test_about_sixty_states_each_named_in_every_language() -> None:
    assert ENDORSEMENT is not None
    codes = [s.code for s in ENDORSEMENT.states]
    assert len(codes) == len(set(codes)) >= 60
    assert {"US", "CN", "RU", "KR", "NL", "ES", "GB", "JP", "DE", "FR", "SG", "KE"} <= set(codes)
    for state in ENDORSEMENT.states:
        assert re.fullmatch(r"[A-Z]{2}", state.code) and state.label.strip(), state
        for lang in LANGUAGES:
            assert state.names.get(lang), f"{state.code}: no name in {lang}"


def test_every_document_has_a_label_and_names_in_every_language() -> None:
    assert ENDORSEMENT is not None
    assert [d.id for d in ENDORSEMENT.documents] == DOCUMENT_IDS
    for doc in ENDORSEMENT.documents:
        assert doc.event in {e.id for e in TAXONOMY.events}
        for lang in LANGUAGES:
            assert doc.labels.get(lang, "").strip(), (doc.id, lang, "label")
            assert list(doc.names.get(lang, ())) + list(doc.names.get("any", ())), (doc.id, lang, "names")
    # each summit's outcome document is the one the archive links it to
    assert ENDORSEMENT.document_of_event["reaim-2024"] == "blueprint-for-action-2024"


@pytest.mark.parametrize("kind", ["endorse", "reject", "include", "modal", "document", "other_document"])
def test_every_language_has_cue_words(kind: str) -> None:
    assert ENDORSEMENT is not None
    for lang in LANGUAGES:
        assert ENDORSEMENT.cues[kind].get(lang), (kind, lang)

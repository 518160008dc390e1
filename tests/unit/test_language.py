from __future__ import annotations

import sys

import pytest

from pipeline import language
from pipeline.language import (
    DEFAULT_DETECTOR,
    DETECTOR_ENV,
    DETECTORS,
    HINT_ORDER,
    detect_language,
    resolve_detector,
)

PARAGRAPHS = {
    "en": "The second summit on responsible military use of artificial intelligence opened in Seoul on Monday.",
    "es": "La cumbre sobre el uso responsable de la inteligencia artificial en el ámbito militar se celebró en A Coruña.",
    "fr": "Le sommet sur l'utilisation responsable de l'intelligence artificielle dans le domaine militaire s'est ouvert.",
    "de": "Der Gipfel über den verantwortungsvollen Einsatz künstlicher Intelligenz im Militär begann am Montag.",
    "nl": "De top over verantwoord gebruik van kunstmatige intelligentie in het militaire domein begon maandag in Den Haag.",
    "ru": "Саммит по ответственному использованию искусственного интеллекта в военной сфере открылся в понедельник.",
    "ko": "군사적 영역에서의 책임 있는 인공지능 고위급회의가 서울에서 개막했다.",
    "ja": "軍事領域における責任あるAI利用に関するサミットがソウルで開幕した。",
    "zh": "军事领域负责任人工智能峰会在首尔开幕，各国代表出席。",
}


@pytest.mark.parametrize("lang", sorted(PARAGRAPHS))
def test_paragraphs_in_nine_languages(lang: str) -> None:
    result = detect_language(PARAGRAPHS[lang])
    assert result.language == lang
    assert result.confidence >= 0.7


def test_script_overrides_a_wrong_html_lang() -> None:
    result = detect_language(PARAGRAPHS["ko"], {"html_lang": "en"})
    assert result.language == "ko" and result.method == "script:hangul"


def test_long_text_overrides_a_cms_default_hint() -> None:
    text = " ".join([PARAGRAPHS["es"]] * 3)
    result = detect_language(text, {"html_lang": "en"})
    assert result.language == "es"


def test_short_text_without_hints_is_undetermined_not_confidently_wrong() -> None:
    result = detect_language("REAIM 2024")
    assert result.language == "und" or result.confidence < 0.6


def test_short_text_follows_hint_with_modest_confidence() -> None:
    result = detect_language("Top in Den Haag", {"source": "nl"})
    assert result.language == "nl" and result.confidence <= 0.9


def test_deterministic() -> None:
    text = "Summit Gipfel sommet cumbre"
    assert len({detect_language(text) for _ in range(5)}) == 1


# --- script rules for Han text without kana --------------------------------


def test_kanji_only_japanese_title_is_told_by_its_character_forms() -> None:
    result = detect_language("日経平均株価、3日続落")  # 経 価 続 are Japanese forms
    assert result.language == "ja" and result.method == "script:kanji"


def test_simplified_chinese_is_chinese_even_against_a_ja_hint() -> None:
    result = detect_language("中方未签署首尔行动蓝图", {"html_lang": "ja"})
    assert result.language == "zh" and result.method == "script:han"


def test_han_with_no_telling_character_is_zh_but_unsure_or_follows_the_hint() -> None:
    unsure = detect_language("日本代表、決勝進出")
    assert unsure.language == "zh" and unsure.confidence < 0.5
    assert detect_language("日本代表、決勝進出", {"source": "ja"}).language == "ja"


# --- hints -----------------------------------------------------------------


def test_sitemap_hint_ranks_right_after_source() -> None:
    assert HINT_ORDER[:2] == ("source", "sitemap")
    result = detect_language("Top in Den Haag", {"sitemap": "nl", "html_lang": "en"})
    assert result.language == "nl" and result.method == "hint"


def test_short_text_trusts_a_hint_over_a_disagreeing_detector() -> None:
    result = detect_language("Ajax wint van Feyenoord", {"html_lang": "de"})
    assert result.language == "de" and result.confidence <= 0.75


# --- labels outside the tracked languages, titles ----------------------------


@pytest.mark.parametrize(
    ("lang", "text"),
    [
        ("uk", "Міністерство оборони України випробовує нові системи штучного інтелекту для захисту неба."),
        ("pt", "A cimeira sobre inteligência artificial militar decorreu na Corunha, com ministros de vários países."),
    ],
)
def test_a_text_clearly_in_another_language_keeps_its_label(lang: str, text: str) -> None:
    assert detect_language(text).language == lang


def test_a_title_alone_is_never_confident() -> None:
    result = detect_language("Kabinet wil regels voor AI-wapens")
    assert result.language == "nl" and result.confidence < 0.5


# --- detector selection ----------------------------------------------------


@pytest.fixture
def fresh_backends():  # type: ignore[no-untyped-def]
    """Forget which libraries imported, before and after the test."""
    language._available.cache_clear()
    yield
    language._available.cache_clear()


@pytest.mark.parametrize("detector", DETECTORS)
def test_every_detector_gets_the_paragraphs_right(detector: str) -> None:
    if detector != "langdetect":
        pytest.importorskip(detector)
    for lang in ("en", "es", "nl", "de", "fr", "ru"):
        result = detect_language(PARAGRAPHS[lang], detector=detector)
        assert result.language == lang and result.method.startswith(detector), (lang, result)


def test_env_selects_the_detector(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(DETECTOR_ENV, "langdetect")
    assert resolve_detector() == "langdetect"
    assert detect_language(PARAGRAPHS["nl"]).method == "langdetect"
    assert resolve_detector("py3langid") == "py3langid"  # an explicit argument wins


def test_unknown_env_value_warns_and_uses_the_default(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv(DETECTOR_ENV, "fasttext")
    assert resolve_detector() == DEFAULT_DETECTOR
    assert DETECTOR_ENV in caplog.text


def test_unknown_detector_argument_is_a_bug() -> None:
    with pytest.raises(ValueError, match="unknown language detector"):
        detect_language(PARAGRAPHS["en"], detector="fasttext")


def test_missing_library_falls_back_to_langdetect_with_a_warning(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture, fresh_backends: None
) -> None:
    monkeypatch.setitem(sys.modules, "lingua", None)  # import lingua now raises ImportError
    result = detect_language(PARAGRAPHS["de"], detector="lingua")
    assert result.language == "de" and result.method == "langdetect"
    assert "falling back to langdetect" in caplog.text

from __future__ import annotations

import pytest

from pipeline.language import detect_language

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

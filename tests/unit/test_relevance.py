"""Relevance scoring, and the normalisation and matching it stands on.

The texts are short news items written for these tests, in the nine tracked
languages: the summits under their names, paraphrases, and the near misses
that share words with the topic (another summit in Seoul, AI without the
military, the military without AI, The Hague's court, A Coruña's football,
corporate "responsible AI").
"""

from __future__ import annotations

import unicodedata

import pytest

from pipeline.relevance import Relevance, score_relevance
from pipeline.taxonomy import load_taxonomy
from pipeline.textmatch import Matcher, compile_term, language_order, normalize, normalize_text, snippet

LEXICON = load_taxonomy().lexicon


def found(term: str, text: str, language: str = "any") -> list[str]:
    """The occurrences of one term in a text, as written in the text."""
    norm = normalize_text(text)
    spans = [norm.span(*s) for s in compile_term(term, language).spans(norm.text)]
    return [text[a:b] for a, b in spans]


# --- normalisation and matching ------------------------------------------------------


def test_hangul_is_never_decomposed_and_decomposed_input_is_recomposed() -> None:
    assert normalize("헤이그에서 열린 정상회의") == "헤이그에서 열린 정상회의"
    decomposed = unicodedata.normalize("NFD", "헤이그에서 열린")
    assert len(decomposed) > len("헤이그에서 열린")  # jamo
    assert normalize(decomposed) == "헤이그에서 열린"
    assert found("헤이그", decomposed, "ko") == [unicodedata.normalize("NFD", "헤이그")]


def test_accents_case_width_and_punctuation_are_folded() -> None:
    assert normalize("A Coruña, Séoul; MILITÄRISCHEN") == "a coruna seoul militarischen"
    assert normalize("Ла-Корунья, ёмкость") == "ла корунья емкость"
    assert normalize("ＲＥＡＩＭ　サミット") == "reaim サミット"
    assert normalize("ア・コルーニャ") == "アコルーニャ"  # no space inside Japanese
    assert normalize("Ver\u00adteidigung l’action") == "verteidigung l action"
    assert normalize("cafe\u0301") == "cafe"  # a combining accent on its own


def test_spans_point_into_the_original_text() -> None:
    text = "Le 5 février, à ＳＥＯＵＬ et à Séoul, l’Appel à l’action…"
    assert found("Séoul", text, "fr") == ["ＳＥＯＵＬ", "Séoul"]
    assert found("Appel à l'action", text, "fr") == ["Appel à l’action"]


def test_korean_particles_attach_to_nouns_but_words_keep_their_start() -> None:
    assert found("헤이그", "지난해 헤이그에서 열린 회의", "ko") == ["헤이그"]
    assert found("서울", "9일 서울에서 개막했다", "ko") == ["서울"]
    assert found("서울", "남서울 지역", "ko") == []
    assert found("정상회의", "REAIM 정상회의의 성과", "ko") == ["정상회의"]
    # spacing inside a Korean compound varies from outlet to outlet
    assert found("고위급회의", "REAIM 고위급 회의가 열렸다", "ko") == ["고위급 회의"]
    assert found("인간의 통제", "인간의 통제가 필요하다", "ko") == ["인간의 통제"]


def test_spanish_and_french_plurals_and_accents() -> None:
    assert found("cumbre", "Las cumbres de Seúl y la cumbre de A Coruña", "es") == ["cumbres", "cumbre"]
    assert found("Coruña", "en A Coruna, La Coruña o Corunna", "es") == ["Coruna", "Coruña", "Corunna"]
    assert found("armas autónomas", "sistemas de armas autonomos y armas autónomas letales", "es") == [
        "armas autonomos",
        "armas autónomas",
    ]
    assert found("sommet", "les sommets de La Haye et de Séoul", "fr") == ["sommets"]
    assert found("La Corogne", "à La Corogne", "fr") == ["La Corogne"]


def test_russian_case_endings() -> None:
    text = "на саммите в Гааге, после саммита в Сеуле и перед саммитом в Ла-Корунье"
    assert found("саммит", text, "ru") == ["саммите", "саммита", "саммитом"]
    assert found("Гаага", text, "ru") == ["Гааге"]
    assert found("Сеул", text, "ru") == ["Сеуле"]
    assert found("Ла-Корунья", text, "ru") == ["Ла-Корунье"]
    assert found("в военной сфере", "ИИ в военной сфере", "ru") == ["в военной сфере"]


def test_german_compounds_only_where_the_data_says_so() -> None:
    assert found("Gipfel", "Der Gipfeltreffen-Auftakt", "de") == []
    assert found("REAIM-Gipfel*", "beim REAIM-Gipfeltreffen", "de") == ["REAIM-Gipfeltreffen"]
    assert found("*drohnen", "Kampfdrohnen und Drohnen", "de") == ["drohnen", "Drohnen"]
    assert found("militärischen Bereich", "im militärischen Bereich", "de") == ["militärischen Bereich"]


def test_chinese_and_japanese_match_without_spaces() -> None:
    assert found("海牙", "首届峰会在荷兰海牙举行", "zh") == ["海牙"]
    assert found("行动蓝图", "会议通过了“行动蓝图”。", "zh") == ["行动蓝图"]
    assert found("ア・コルーニャ", "スペインのアコルーニャで開幕", "ja") == ["アコルーニャ"]
    assert found("AI", "关于AI的军事应用", "zh") == ["AI"]


def test_acronyms_match_whole_words_only() -> None:
    assert found("AI", "AI, aid, AIM, Thai, A.I. and ai-enabled") == ["AI", "ai"]
    assert found("REAIM", "REAIM정상회의와 reaim-top") == ["REAIM", "reaim"]
    assert found("KI", "KI-Gipfel und Kiel", "de") == ["KI"]


def test_matcher_drops_occurrences_inside_longer_ones_and_masks_exclusions() -> None:
    from pipeline.textmatch import EXCLUDE

    matcher = Matcher(
        [
            ("en", "REAIM", "acronym"),
            ("en", "REAIM summit", "name"),
            ("en", "Seoul", "city"),
            ("en", "AI Seoul Summit", EXCLUDE),
        ]
    )
    hits = matcher.find(normalize_text("The REAIM summit, unlike the AI Seoul Summit, met in Seoul."))
    assert [(h.key, h.found) for h in hits] == [("name", "REAIM summit"), ("city", "Seoul")]


def test_language_order() -> None:
    langs = ("en", "ko", "es", "nl", "fr", "de", "zh", "ja", "ru")
    order, primary = language_order("ko-KR", langs)
    assert order[:2] == ["ko", "en"] and set(order) == set(langs)
    assert primary == {"ko", "en", "any"}
    assert language_order(None, langs) == (list(langs), None)
    assert language_order("und", langs) == (list(langs), None)


def test_snippet_is_short_and_centred() -> None:
    text = "x" * 300 + " REAIM " + "y" * 300
    piece = snippet(text, 301, 306)
    assert len(piece) <= 200 and "REAIM" in piece
    assert snippet("short text", 0, 5) == "short text"


# --- relevance: positives in every language --------------------------------------------

POSITIVES = [
    (
        "en",
        "Seoul opens second summit on military AI",
        "Officials from about 90 countries gathered in Seoul on Monday for the second summit on Responsible AI "
        "in the Military Domain (REAIM), co-hosted by South Korea and the Netherlands. Delegates are expected "
        "to adopt a Blueprint for Action on Tuesday.",
        "REAIM",
    ),
    (
        "ko",
        "REAIM 고위급회의 서울서 개막",
        "'군사적 영역에서의 책임 있는 인공지능(REAIM) 고위급회의'가 9일 서울에서 개막했다. 지난해 헤이그에서 "
        "열린 첫 회의에 이어 두 번째로 열리는 이번 회의에는 90여 개국 대표단이 참석했다.",
        "군사적 영역에서의 책임 있는 인공지능",
    ),
    (
        "es",
        "Arranca en A Coruña la cumbre sobre IA militar",
        "La tercera cumbre sobre Inteligencia Artificial Responsable en el Ambito Militar abrió este miércoles sus "
        "puertas en el Palexco de A Coruña, con delegaciones de más de 80 países.",
        "Inteligencia Artificial Responsable en el Ambito Militar",
    ),
    (
        "nl",
        "Den Haag ontvangt top over militaire AI",
        "In het World Forum in Den Haag begint woensdag een internationale top over verantwoord gebruik van AI in "
        "het militaire domein. Ministers en experts uit tientallen landen praten twee dagen over afspraken.",
        "verantwoord gebruik van AI in het militaire domein",
    ),
    (
        "fr",
        "À Séoul, un sommet sur l'IA militaire",
        "Le deuxième sommet sur l’IA responsable dans le domaine militaire s’est ouvert lundi à Séoul. Les "
        "délégations de quelque 90 pays doivent adopter un plan d’action mardi.",
        "IA responsable dans le domaine militaire",
    ),
    (
        "de",
        "Gipfel zu KI im Militär beginnt in Den Haag",
        "In Den Haag hat am Mittwoch der erste internationale Gipfel zur verantwortungsvollen KI im militärischen "
        "Bereich begonnen. Vertreter aus rund 60 Staaten beraten über Regeln für die Streitkräfte.",
        "verantwortungsvollen KI im militärischen Bereich",
    ),
    (
        "zh",
        "第二届军事领域负责任人工智能峰会在首尔开幕",
        "第二届军事领域负责任人工智能峰会9日在韩国首尔开幕，来自90多个国家的代表出席会议，讨论人工智能在军事领域的应用与治理。",
        "军事领域负责任人工智能",
    ),
    (
        "ja",
        "ア・コルーニャで軍事AI会議開幕",
        "軍事領域における責任あるAI利用に関する第3回サミットが4日、スペイン北西部のア・コルーニャで開幕した。約80か国の代表が参加している。",
        "軍事領域における責任あるAI",
    ),
    (
        "ru",
        "В Гааге открылся саммит по военному ИИ",
        "В Гааге в среду открылся первый саммит по ответственному использованию ИИ в военной сфере (REAIM). "
        "В нем участвуют представители около 60 государств.",
        "ответственному использованию ИИ в военной сфере",
    ),
]


@pytest.mark.parametrize(("language", "title", "text", "term"), POSITIVES, ids=[p[0] for p in POSITIVES])
def test_positive_in_every_language(language: str, title: str, text: str, term: str) -> None:
    result = score_relevance(title, text, language, LEXICON)
    assert isinstance(result, Relevance)
    assert result.relevant and result.score >= 0.9, result
    assert term in result.evidence  # as found in the text, accents and all


@pytest.mark.parametrize(("language", "title", "text", "term"), POSITIVES, ids=[p[0] for p in POSITIVES])
def test_positive_without_a_language_or_with_a_wrong_one(language: str, title: str, text: str, term: str) -> None:
    wrong = "de" if language != "de" else "ja"
    for given in (None, "und", wrong):
        result = score_relevance(title, text, given, LEXICON)
        assert result.relevant, (given, result)


PARAPHRASES = [
    (
        "en",
        "The Hague hosts first global summit on military AI",
        "Government ministers, military officers and researchers from dozens of countries meet in The Hague this "
        "week for the first international summit on the military use of artificial intelligence.",
    ),
    (
        "ko",
        "군사 AI 국제회의 서울서 개막",
        "인공지능의 군사적 이용을 논의하는 국제회의가 9일 서울에서 개막했다. 90여 개국 대표단이 참석해 책임 있는 이용 원칙을 논의한다.",
    ),
    (
        "es",
        "La cumbre de IA militar arranca en A Coruña",
        "Delegaciones de 80 países debaten desde este miércoles en A Coruña el uso militar de la inteligencia "
        "artificial y las normas que deberían seguir los ejércitos.",
    ),
]


@pytest.mark.parametrize(("language", "title", "text"), PARAPHRASES, ids=[p[0] for p in PARAPHRASES])
def test_military_ai_summit_without_the_summits_name(language: str, title: str, text: str) -> None:
    result = score_relevance(title, text, language, LEXICON)
    assert result.relevant, result


# --- relevance: near misses -----------------------------------------------------------

NEAR_MISSES = [
    (
        "another summit in Seoul",
        "en",
        "Seoul hosts Korea-Pacific Islands summit",
        "Leaders from 18 Pacific island nations met in Seoul for a two-day summit on climate change, fisheries and "
        "maritime security. The summit ended with a joint declaration on ocean protection.",
    ),
    (
        "the AI Seoul Summit",
        "en",
        "AI Seoul Summit: leaders agree on safety institutes",
        "Leaders meeting in Seoul for the AI Seoul Summit agreed to build a network of AI safety institutes. "
        "Frontier AI companies pledged to publish safety frameworks before releasing new models.",
    ),
    (
        "the AI Seoul Summit, in Korean",
        "ko",
        "AI 서울 정상회의 폐막",
        "인공지능(AI) 안전과 혁신을 논의한 'AI 서울 정상회의'가 22일 서울에서 폐막했다. 정상들은 AI 안전연구소 네트워크를 만들기로 했다.",
    ),
    (
        "AI news, no military",
        "en",
        "Phone makers bet on AI assistants",
        "Smartphone makers are adding generative AI assistants that summarise calls and edit photos on the device, "
        "hoping the features will revive sluggish sales.",
    ),
    (
        "AI news, no military, in Chinese",
        "zh",
        "多家厂商推出AI大模型手机",
        "多家手机厂商近日推出搭载人工智能大模型的新机型，可以实时翻译通话、自动整理相册。分析人士认为，消费者是否买账仍有待观察。",
    ),
    (
        "defence without AI",
        "de",
        "Haushaltsausschuss gibt grünes Licht für neue Transportpanzer",
        "Der Haushaltsausschuss des Bundestages hat den Kauf von 120 Transportpanzern für die Bundeswehr gebilligt. "
        "Das Verteidigungsministerium rechnet mit Kosten von 1,9 Milliarden Euro.",
    ),
    (
        "defence without AI, in Korean",
        "ko",
        "방사청, 해상초계기 추가 도입",
        "방위사업청은 해군의 해상초계기 6대를 추가 도입하는 사업에 착수했다고 밝혔다. 총사업비는 2조 원 규모로, 국방부와 협의를 거쳐 기종을 정할 예정이다.",
    ),
    (
        "The Hague for the ICC",
        "en",
        "International Criminal Court opens its doors",
        "The International Criminal Court in The Hague welcomed visitors on its open day. Judges explained how war "
        "crimes cases are built under international law.",
    ),
    (
        "football in A Coruña",
        "es",
        "El Deportivo gana en Riazor y se acerca a la cumbre de la tabla",
        "El Deportivo de La Coruña venció 2-1 en Riazor y se sitúa a tres puntos de la cumbre de la tabla. "
        "La afición coruñesa celebró la remontada.",
    ),
    (
        "corporate responsible AI",
        "en",
        "Conglomerate unveils 'responsible AI' charter",
        "After a chatbot misstep, the group published a responsible AI charter with principles on transparency, "
        "fairness and human oversight, and set up a governance board for its AI products.",
    ),
    (
        "corporate responsible AI, in French",
        "fr",
        "IA responsable : un distributeur se dote d'une charte",
        "Le groupe de distribution adopte une charte pour une IA responsable : transparence des algorithmes, "
        "protection des données des clients et gouvernance interne.",
    ),
    (
        "a drone light show",
        "ja",
        "夜空に2000機のドローン",
        "港まつりで2000機のドローンによる光のショーが行われ、約5万人の観客が夜空を見上げた。",
    ),
    (
        "neural networks in banking",
        "ru",
        "Банки расширяют применение нейросетей",
        "Крупные банки расширяют применение искусственного интеллекта и нейросетей в обслуживании клиентов.",
    ),
]


@pytest.mark.parametrize(("case", "language", "title", "text"), NEAR_MISSES, ids=[n[0] for n in NEAR_MISSES])
def test_near_misses_score_low(case: str, language: str, title: str, text: str) -> None:
    result = score_relevance(title, text, language, LEXICON)
    assert not result.relevant, (case, result)
    assert result.score < 0.3, (case, result)


def test_the_ai_seoul_summit_with_a_military_aside_stays_below_the_threshold() -> None:
    text = (
        "Leaders at the AI Seoul Summit agreed on AI safety institutes. Delegates noted that military uses of "
        "artificial intelligence were outside the scope of the summit in Seoul, whose governance talks "
        "focused on frontier models."
    )
    result = score_relevance("AI Seoul Summit ends", text, "en", LEXICON)
    assert not result.relevant and result.score > 0, result  # some evidence, not enough


@pytest.mark.parametrize(
    "word",
    [
        "AI",
        "summit",
        "Seoul",
        "military",
        "The Hague",
        "A Coruña",
        "인공지능",
        "정상회의",
        "서울",
        "cumbre",
        "Gipfel",
        "峰会",
        "サミット",
        "саммит",
        "军事",
        "military summit",
    ],
)
def test_a_generic_word_alone_is_never_relevant(word: str) -> None:
    for language in (None, "en"):
        result = score_relevance(word, f"{word}. {word}, {word}!", language, LEXICON)
        assert result.score == 0.0 and not result.relevant, (word, result)


def test_generic_words_together_add_up_to_little() -> None:
    text = "The AI summit in Seoul brought the military, industry and governments together to discuss governance."
    result = score_relevance(None, text, "en", LEXICON)
    assert 0 < result.score < 0.5, result


def test_a_title_match_weighs_more_than_the_same_match_in_the_body() -> None:
    body = "Analysts said the plan would take years. " * 3
    in_title = score_relevance("Pentagon expands military AI programme", body, "en", LEXICON)
    in_body = score_relevance("Pentagon plan", body + " It is part of a military AI programme.", "en", LEXICON)
    assert in_title.score > in_body.score > 0


def test_the_topic_named_only_in_a_sidebar_line_counts_half() -> None:
    story = (
        "Mayors and experts from twenty Asia-Pacific cities opened a three-day urban summit in Seoul on "
        "Tuesday, looking for answers to heatwaves and traffic jams; the host city presented traffic lights "
        "timed by artificial intelligence."
    )
    sidebar = "Most read\n· [Editorial] Military AI 'Blueprint for Action' must be put into practice"
    aside = score_relevance("City summit opens", f"{story}\n{sidebar}", "en", LEXICON)
    assert not aside.relevant, aside
    prose = score_relevance(
        "City summit opens",
        f"{story} Officials also discussed the military AI 'Blueprint "
        "for Action' adopted in Seoul by some 60 countries.",
        "en",
        LEXICON,
    )
    assert prose.relevant and prose.score > 2 * aside.score - 0.01, (prose, aside)


def test_empty_input() -> None:
    assert score_relevance(None, None, None, LEXICON) == Relevance(0.0, False, [])
    assert score_relevance("", "   ", "en", LEXICON) == Relevance(0.0, False, [])


def test_threshold_is_a_parameter() -> None:
    text = "The ministry is testing military AI for logistics."
    loose = score_relevance(None, text, "en", LEXICON, threshold=0.2)
    strict = score_relevance(None, text, "en", LEXICON, threshold=0.9)
    assert loose.score == strict.score
    assert loose.relevant and not strict.relevant

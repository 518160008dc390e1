"""Tagging: events (with the primary one) and themes, with their evidence, in every language."""

from __future__ import annotations

import pytest

from pipeline.tag import Tags, tag_article
from pipeline.taxonomy import load_taxonomy

TAXONOMY = load_taxonomy()


def tag(title: str | None, text: str | None, language: str | None, published: str | None = None, **kw: str) -> Tags:
    return tag_article(title, text, language, published, TAXONOMY, **kw)


def assert_evidence(tags: Tags, side: str = "original") -> None:
    for tag_id in tags.events + tags.themes:
        ev = tags.evidence[tag_id]
        assert set(ev) == {"terms", "snippet", "text", "score"}, tag_id
        assert ev["terms"] and all(isinstance(t, str) and t for t in ev["terms"]), tag_id
        assert 0 < len(ev["snippet"]) <= 200, tag_id
        assert ev["text"] == side, tag_id
        assert 0 < ev["score"] < 1, tag_id
    assert set(tags.evidence) == set(tags.events) | set(tags.themes)


# --- the Seoul article that recalls The Hague and announces A Coruña --------------------

SEOUL_EN = (
    "Seoul opens second REAIM summit, aiming to build on The Hague",
    "SEOUL — South Korea opened the second REAIM summit in Seoul on Monday, with delegations from 96 countries "
    "and hundreds of researchers, industry representatives and civil society groups. The first summit, held in "
    "The Hague in February 2023, ended with a Call to Action endorsed by about 60 states. This time the hosts "
    "hope to agree on a Blueprint for Action by Tuesday. Spain has offered to host the third summit in A Coruña.",
)
SEOUL_KO = (
    "REAIM 고위급회의 서울서 개막…90여개국 참석",
    "군사적 영역에서의 책임 있는 인공지능(REAIM) 고위급회의가 9일 서울에서 개막했다. 지난해 2월 헤이그에서 열린 "
    "첫 회의에 이어 두 번째로 열리는 이번 회의에는 90여 개국 대표단이 참석했다. 참가국들은 10일 '행동을 위한 "
    "청사진'을 채택할 예정이다. 다음 회의는 스페인 아코루냐에서 열린다.",
)
SEOUL_ES = (
    "Seúl acoge la segunda cumbre REAIM",
    "La segunda cumbre sobre Inteligencia Artificial Responsable en el Ámbito Militar se inauguró este lunes en "
    "Seúl. La primera se celebró en La Haya en 2023 y la próxima tendrá lugar en La Coruña.",
)


@pytest.mark.parametrize(
    ("title", "text", "language"), [(*SEOUL_EN, "en"), (*SEOUL_KO, "ko"), (*SEOUL_ES, "es")], ids=["en", "ko", "es"]
)
def test_seoul_article_mentioning_the_hague_and_a_coruna(title: str, text: str, language: str) -> None:
    tags = tag(title, text, language, "2024-09-09T09:00:00+09:00")
    assert tags.primary_event == "reaim-2024"
    assert tags.events[0] == "reaim-2024"
    assert set(tags.events) == {"reaim-2024", "reaim-2023", "reaim-2026"}
    assert tags.evidence["reaim-2024"]["score"] > tags.evidence["reaim-2023"]["score"]
    assert tags.evidence["reaim-2024"]["score"] > tags.evidence["reaim-2026"]["score"]
    assert_evidence(tags)


def test_the_primary_does_not_depend_on_the_publication_date_alone() -> None:
    """The same Seoul story, undated or dated far from any summit, is still about Seoul."""
    for published in (None, "2025-06-01"):
        assert tag(*SEOUL_EN, "en", published).primary_event == "reaim-2024"


def test_a_coruna_article_recalling_the_hague_and_seoul() -> None:
    text = (
        "La cumbre REAIM se cerró este jueves en A Coruna con la firma de las 'Vías para la acción' por 35 "
        "países. En La Haya, en 2023, y en Seúl, en 2024, los documentos finales habían reunido unos 60 apoyos."
    )
    tags = tag("Solo 35 países firman en A Coruna", text, "es", "2026-02-05T19:30:00+01:00")
    assert tags.primary_event == "reaim-2026"
    assert tags.events[0] == "reaim-2026" and set(tags.events) == {"reaim-2026", "reaim-2023", "reaim-2024"}
    assert "A Coruna" in tags.evidence["reaim-2026"]["terms"]  # as written: no tilde
    assert_evidence(tags)


# --- each language ---------------------------------------------------------------------

BY_LANGUAGE = [
    (
        "en",
        "Around 60 nations back military AI blueprint in Seoul",
        "About 60 countries endorsed a Blueprint for Action at the REAIM summit in Seoul on Tuesday, but China did "
        "not sign. The text says humans must keep control over decisions on the use of nuclear weapons.",
        "2024-09-10T10:40:00+00:00",
        "reaim-2024",
        {"endorsement-and-geopolitics", "nuclear-and-wmd"},
    ),
    (
        "ko",
        "헤이그서 첫 '군사 AI' 국제회의…60개국 '행동 촉구' 동참",
        "군사 분야에서 인공지능을 책임 있게 이용하는 방안을 논의하는 첫 국제회의가 네덜란드 헤이그에서 열렸다. "
        "'군사적 영역에서의 책임 있는 인공지능'(REAIM) 정상회의 참가국들은 '행동 촉구'를 발표했다. 미국과 중국을 포함해 약 "
        "60개국이 동참했다. 행동 촉구는 인간이 책임을 지고 인간의 통제를 유지해야 한다는 원칙을 담았다.",
        "2023-02-17T08:00:00+09:00",
        "reaim-2023",
        {"human-control"},
    ),
    (
        "es",
        "Albares abre la cumbre de Palexco",
        "El ministro José Manuel Albares inauguró en el Palexco de A Coruña la tercera cumbre REAIM. Pidió mantener "
        "el control humano sobre las armas autónomas y recordó que el derecho internacional humanitario se aplica "
        "a los sistemas autónomos. Las ONG reclamaron un tratado contra los robots asesinos.",
        "2026-02-04 13:45",
        "reaim-2026",
        {"human-control", "autonomous-weapons"},
    ),
    (
        "nl",
        "Den Haag ontvangt eerste top over militaire AI",
        "In het World Forum in Den Haag begint woensdag de eerste REAIM-top. Landen praten over de inzet van "
        "autonome wapens en over menselijke controle. Ook bedrijfsleven, wetenschappers en maatschappelijke "
        "organisaties schuiven aan.",
        "2023-02-14",
        "reaim-2023",
        {"autonomous-weapons", "human-control"},
    ),
    (
        "fr",
        "À Séoul, les États cherchent des règles pour l'IA militaire",
        "Le deuxième sommet REAIM s’ouvre à Séoul. Au cœur des débats, les systèmes d’aide à la décision et le "
        "ciblage : des logiciels proposent des cibles aux opérateurs. Pour les ONG, la protection des civils est "
        "la question centrale.",
        "2024-09-09",
        "reaim-2024",
        {"decision-support-and-targeting", "civilian-protection"},
    ),
    (
        "de",
        "Erster Gipfel zu KI im Militär beginnt in Den Haag",
        "In Den Haag hat der erste Gipfel zur verantwortungsvollen KI im militärischen Bereich begonnen. Es geht um "
        "autonome Waffensysteme und um das humanitäre Völkerrecht; eine rechtlich bindende Regel ist nicht in Sicht.",
        "2023-02-15T10:00:00+01:00",
        "reaim-2023",
        {"autonomous-weapons", "international-law"},
    ),
    (
        "zh",
        "首尔峰会通过“行动蓝图” 中国未予支持",
        "第二届军事领域负责任人工智能峰会10日在韩国首尔闭幕，约60个国家支持“行动蓝图”。中国没有签署该文件。"
        "文件强调，在涉及核武器使用的决策中应保持人类控制。",
        "2024-09-10",
        "reaim-2024",
        {"nuclear-and-wmd", "human-control"},
    ),
    (
        "ja",
        "軍事AIサミット、署名35か国にとどまる",
        "軍事領域における責任あるAI利用に関する第3回サミットが5日、スペインのア・コルーニャで閉幕した。成果文書"
        "「行動への道筋」に署名したのは35か国にとどまり、米国と中国は署名しなかった。",
        "2026-02-06",
        "reaim-2026",
        {"endorsement-and-geopolitics"},
    ),
    (
        "ru",
        "В Гааге прошел первый саммит по военному ИИ",
        "В Гааге завершился первый саммит по ответственному использованию ИИ в военной сфере. Около 60 государств, "
        "включая США и Китай, поддержали призыв к действию. Россию на встречу не пригласили. Эксперты говорили "
        "об автономном оружии и о международном гуманитарном праве.",
        "2023-02-16",
        "reaim-2023",
        {"endorsement-and-geopolitics", "international-law"},
    ),
]


@pytest.mark.parametrize(
    ("language", "title", "text", "published", "primary", "themes"), BY_LANGUAGE, ids=[b[0] for b in BY_LANGUAGE]
)
def test_tags_in_every_language(
    language: str, title: str, text: str, published: str, primary: str, themes: set[str]
) -> None:
    tags = tag(title, text, language, published)
    assert tags.primary_event == primary, tags
    assert themes <= set(tags.themes), tags.themes
    assert len(tags.themes) <= TAXONOMY.theme_scoring.max_themes
    assert_evidence(tags)


def test_korean_particles_and_russian_cases_name_the_cities() -> None:
    ko = tag(None, "REAIM 회의가 헤이그에서 열린 지 1년 만에 서울에서 2차 회의가 열렸다.", "ko", "2024-09-09")
    assert ko.primary_event == "reaim-2024" and "reaim-2023" in ko.events
    assert "헤이그" in ko.evidence["reaim-2023"]["terms"]
    ru = tag(
        None,
        "Саммит REAIM прошел в Сеуле; первый саммит состоялся в Гааге, следующий пройдет в Ла-Корунье.",
        "ru",
        "2024-09-10",
    )
    assert ru.primary_event == "reaim-2024"
    assert set(ru.events) == {"reaim-2024", "reaim-2023", "reaim-2026"}
    assert "Ла-Корунье" in ru.evidence["reaim-2026"]["terms"]


def test_the_related_initiatives() -> None:
    declaration = tag(
        "US opens political declaration on military AI to wider endorsement",
        "The United States said 45 countries have now endorsed the Political Declaration on Responsible Military Use "
        "of Artificial Intelligence and Autonomy, first presented at the REAIM summit in The Hague in February.",
        "en",
        "2023-11-14T15:00:00+00:00",
    )
    assert declaration.primary_event == "us-political-declaration"
    assert set(declaration.events) == {"us-political-declaration", "reaim-2023"}

    hague = tag(
        "Summit in The Hague ends with call to action",
        "The REAIM summit in The Hague closed on Thursday with a Call to Action backed by about 60 countries. The "
        "United States used the summit to launch a Political Declaration on Responsible Military Use of "
        "Artificial Intelligence and Autonomy.",
        "en",
        "2023-02-16T18:00:00+01:00",
    )
    assert hague.primary_event == "reaim-2023"
    assert hague.events == ["reaim-2023", "us-political-declaration"]

    geneva = tag(
        "제네바서 한-유엔 군축회의",
        "제22차 한-유엔 군축·비확산 공동회의가 4~5일 스위스 제네바에서 '군사 영역에서의 인공지능 거버넌스'를 주제로 열렸다. "
        "정부는 내년 서울에서 열리는 제2차 REAIM 고위급회의를 앞두고 이번 회의 논의를 반영할 방침이다.",
        "ko",
        "2023-12-05",
    )
    assert geneva.primary_event == "rok-un-geneva-2023"
    assert "reaim-2024" in geneva.events

    resolution = tag(
        "UN-Generalversammlung verabschiedet Resolution zu KI im Militär",
        "Die UN-Generalversammlung hat eine Resolution zu künstlicher Intelligenz im militärischen Bereich "
        "angenommen. Eingebracht hatten sie die Niederlande und Südkorea, die Initiatoren der REAIM-Gipfel.",
        "de",
        "2024-12-24",
    )
    assert resolution.primary_event == "unga-resolution-ai-military"

    commission = tag(
        "Global commission on military AI sets out its agenda",
        "The Global Commission on Responsible AI in the Military Domain (GC REAIM), launched by the Netherlands, met "
        "for the first time to plan two years of consultations with industry and civil society.",
        "en",
        "2023-06-21",
    )
    assert commission.primary_event == "gc-reaim"


def test_a_summit_outranks_the_declaration_launched_at_it() -> None:
    tags = tag(
        "Military AI summit opens in The Hague",
        "Ministers and military officers from some 60 countries met on Wednesday for a summit on military "
        "AI. The United States launched its Political Declaration on Responsible Military Use of Artificial "
        "Intelligence and Autonomy at the meeting.",
        "en",
        "2023-02-15T18:00:00+01:00",
    )
    assert tags.primary_event == "reaim-2023"
    assert tags.events == ["reaim-2023", "us-political-declaration"]


def test_a_short_word_of_another_language_is_not_a_place() -> None:
    """Spanish "Seúl" folds to "seul", French for "alone": not evidence in a French article."""
    tags = tag(
        "À La Corogne, seuls 35 États signent",
        "Le troisième sommet REAIM s'est achevé à La Corogne : seuls "
        "35 États ont signé le document final, seuls les Pays-Bas ont salué le texte.",
        "fr",
        "2026-02-05",
    )
    assert tags.events == ["reaim-2026"]


# --- the publication date ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("published", "expected"),
    [
        ("2024-09-10T10:40:00+00:00", "reaim-2024"),
        ("2024-09-10T10:40:00Z", "reaim-2024"),
        ("2026-02-04", "reaim-2026"),
        ("2023-01-20T08:00:00+01:00", "reaim-2023"),  # a preview, weeks before
        ("2025-06-01", None),  # between summits: no way to tell
        (None, None),
        ("last Tuesday", None),
    ],
)
def test_an_article_that_names_no_summit_is_placed_by_its_date(published: str | None, expected: str | None) -> None:
    text = "Delegates at the REAIM summit debated how far military AI should be allowed to go."
    tags = tag("Military AI summit debates limits", text, "en", published)
    assert tags.primary_event == expected
    assert tags.events == ([expected] if expected else [])
    if expected:
        assert tags.evidence[expected]["terms"] == ["REAIM"]


def test_a_place_needs_the_topic_and_a_date_alone_tags_nothing() -> None:
    for title, text, language, published in [
        (
            "Korea-Pacific summit opens in Seoul",
            "Leaders from 18 Pacific island nations met in Seoul for a summit on climate change and fisheries.",
            "en",
            "2024-09-09",
        ),
        (
            "AI Seoul Summit ends",
            "Leaders at the AI Seoul Summit in Seoul agreed on AI safety institutes.",
            "en",
            "2024-09-10",
        ),
        (
            "Court open day",
            "The International Criminal Court in The Hague opened its doors to visitors.",
            "en",
            "2023-02-15",
        ),
        (
            "El Deportivo gana en Riazor",
            "El Deportivo de La Coruña venció 2-1 y se acerca a la cumbre de la tabla en A Coruña.",
            "es",
            "2026-02-05",
        ),
    ]:
        tags = tag(title, text, language, published)
        assert tags == Tags(None, [], [], {}) or (tags.primary_event is None and tags.events == []), (title, tags)


# --- the translation ---------------------------------------------------------------------------


def test_evidence_found_only_in_the_translation_says_so() -> None:
    title = "군 AI 규범 논의 다자회의 폐막…'실행 설계도' 채택"
    text = "각국 대표들이 군 AI 이용 규범을 논의한 다자회의가 10일 막을 내렸다. 참가국들은 '실행 설계도'를 채택했다."
    original_only = tag(title, text, "ko", "2025-05-01")
    assert original_only.events == [] and original_only.themes == []

    tags = tag(
        title,
        text,
        "ko",
        "2025-05-01",
        title_en="Multilateral meeting on military AI norms closes in Seoul; 'Blueprint for Action' adopted",
        text_en="Delegates who discussed norms for the military use of AI closed their meeting in Seoul on "
        "the 10th and adopted a Blueprint for Action that keeps human control over weapons and "
        "meaningful human control over the use of force.",
    )
    assert tags.primary_event == "reaim-2024"
    assert tags.evidence["reaim-2024"]["text"] == "translation"
    assert "Blueprint for Action" in tags.evidence["reaim-2024"]["terms"]
    assert "Blueprint for Action" in tags.evidence["reaim-2024"]["snippet"]
    assert "human-control" in tags.themes and tags.evidence["human-control"]["text"] == "translation"


def test_the_original_wins_when_both_sides_find_the_same() -> None:
    title, text = SEOUL_KO
    tags = tag(
        title,
        text,
        "ko",
        "2024-09-09",
        title_en="REAIM high-level meeting opens in Seoul",
        text_en="The REAIM high-level meeting opened in Seoul on the 9th.",
    )
    assert tags.primary_event == "reaim-2024"
    assert tags.evidence["reaim-2024"]["text"] == "original"
    assert "서울" in tags.evidence["reaim-2024"]["terms"]


# --- themes ----------------------------------------------------------------------------------------


def test_one_weak_term_does_not_tag_a_theme_two_do() -> None:
    base = "The REAIM summit in Seoul closed on Tuesday."
    assert tag(None, base + " A drone flew over the venue.", "en", "2024-09-10").themes == []
    two = tag(None, base + " Delegates debated drones and loitering munitions.", "en", "2024-09-10")
    assert two.themes == ["autonomous-weapons"]
    strong = tag(None, base + " Delegates called for meaningful human control.", "en", "2024-09-10")
    assert strong.themes == ["human-control"]
    assert strong.evidence["human-control"]["terms"] == ["meaningful human control"]


def test_themes_are_ordered_strongest_first_and_capped() -> None:
    text = (
        "The REAIM summit debated autonomous weapons, killer robots, lethal autonomous weapons systems and "
        "drone swarms at length. Speakers called for meaningful human control and human oversight, for "
        "international humanitarian law and legally binding rules, warned of an arms race and unintended "
        "escalation, of nuclear weapons and nuclear command and control, and of civilian casualties."
    )
    tags = tag("Killer robots dominate summit", text, "en", "2024-09-10")
    assert tags.themes[0] == "autonomous-weapons"
    assert len(tags.themes) == TAXONOMY.theme_scoring.max_themes  # five clearly discussed, four kept
    scores = [tags.evidence[t]["score"] for t in tags.themes]
    assert scores == sorted(scores, reverse=True)
    # a theme far below the strongest is left out even above min_score
    aside = tag(
        "Killer robots dominate summit",
        text.split(" Speakers")[0] + " Civilian casualties were mentioned.",
        "en",
        "2024-09-10",
    )
    assert aside.themes == ["autonomous-weapons"]


def test_themes_use_the_articles_language_and_english_only() -> None:
    """ "burgers" is Dutch for civilians, and English for burgers."""
    text = "The REAIM summit canteen served burgers and Burgers to delegates. Burgers again."
    assert "civilian-protection" not in tag(None, text, "en", "2024-09-10").themes
    assert (
        "civilian-protection"
        in tag(None, "De REAIM-top sprak over burgers en burgerslachtoffers.", "nl", "2023-02-15").themes
    )


def test_nothing_to_tag() -> None:
    assert tag(None, None, None) == Tags(None, [], [], {})
    assert tag("", "  ", "en", "2024-09-10") == Tags(None, [], [], {})
    phone = tag(
        "Phone makers bet on AI assistants", "Smartphone makers add AI assistants to revive sales.", "en", "2025-01-22"
    )
    assert phone.primary_event is None and phone.events == [] and phone.themes == []


def test_a_preview_outranks_a_past_document_it_recalls() -> None:
    """Weeks before A Coruña, an article that recalls the Seoul blueprint by name is about A Coruña."""
    tags = tag(
        "軍事AIの国際会議、来月スペインで 第3回サミット",
        "AIの軍事利用のルールを話し合う第3回の国際サミットが2月4、5日、スペインのア・コルーニャで開かれる。"
        "前回のソウル会議では日本も「行動のための青写真」に賛同した。",
        "ja",
        "2026-01-21T07:00:00+09:00",
    )
    assert tags.primary_event == "reaim-2026"
    assert set(tags.events) == {"reaim-2026", "reaim-2024"}

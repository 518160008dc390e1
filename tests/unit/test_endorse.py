"""Endorsements: which state endorsed which outcome document, in every language, and only where a text says so."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from pipeline.endorse import ENDORSED, NOT_ENDORSED, endorse_article, find_endorsements, sentences
from pipeline.process import Processor
from pipeline.taxonomy import DEFAULT_DIR, load_taxonomy

TAXONOMY = load_taxonomy()
BLUEPRINT, PATHWAYS, CALL = "blueprint-for-action-2024", "pathways-for-action-2026", "call-to-action-2023"
DECLARATION, RESOLUTION = "us-political-declaration", "unga-resolution-79-239"
SEOUL = ("reaim-2024", ["reaim-2024", "reaim-2023"])
CORUNA = ("reaim-2026", ["reaim-2026"])


def found(text: str, language: str, context: tuple[str | None, list[str]] = SEOUL, title: str | None = None) -> set:
    primary, events = context
    return {(e.state, e.stance, e.document) for e in find_endorsements(title, text, language, TAXONOMY, primary, events)}


CASES = [
    # (language, text, article's primary event and events, expected)
    ("en", "Japan and 34 other countries signed the blueprint, but India did not.", SEOUL,
     {("JP", ENDORSED, BLUEPRINT), ("IN", NOT_ENDORSED, BLUEPRINT)}),
    ("en", "About 60 countries endorsed the Blueprint for Action on Tuesday, but China was not among them.", SEOUL,
     {("CN", NOT_ENDORSED, BLUEPRINT)}),
    ("en", "Thirty-five countries signed the text in northwestern Spain, with neither the United States nor China "
     "among them.", CORUNA, {("US", NOT_ENDORSED, PATHWAYS), ("CN", NOT_ENDORSED, PATHWAYS)}),
    ("en", "Japan has not yet signed the Blueprint for Action.", SEOUL, {("JP", NOT_ENDORSED, BLUEPRINT)}),
    ("en", "The US signed the blueprint; China held back.", SEOUL,
     {("US", ENDORSED, BLUEPRINT), ("CN", NOT_ENDORSED, BLUEPRINT)}),
    ("en", "All participating states except China and Russia endorsed the document.", SEOUL,
     {("CN", NOT_ENDORSED, BLUEPRINT), ("RU", NOT_ENDORSED, BLUEPRINT)}),
    ("en", "Japan signed the blueprint, but China was not invited.", SEOUL, {("JP", ENDORSED, BLUEPRINT)}),
    ("en", "Unlike China, Japan signed the text.", SEOUL, {("CN", NOT_ENDORSED, BLUEPRINT), ("JP", ENDORSED, BLUEPRINT)}),
    ("en", "China, which endorsed the call to action in The Hague, did not sign the blueprint in Seoul.", SEOUL,
     {("CN", ENDORSED, CALL), ("CN", NOT_ENDORSED, BLUEPRINT)}),
    ("en", "The text was endorsed by some 60 states, including Japan, South Korea and Germany.", SEOUL,
     {("JP", ENDORSED, BLUEPRINT), ("KR", ENDORSED, BLUEPRINT), ("DE", ENDORSED, BLUEPRINT)}),
    ("en", "China and Russia have not endorsed the declaration.", ("us-political-declaration", ["us-political-declaration"]),
     {("CN", NOT_ENDORSED, DECLARATION), ("RU", NOT_ENDORSED, DECLARATION)}),
    ("en", "Russia voted against the draft resolution.", ("unga-resolution-ai-military", ["unga-resolution-ai-military"]),
     {("RU", NOT_ENDORSED, RESOLUTION)}),
    ("de", "Die USA unterzeichneten den Text, China dagegen nicht.", SEOUL,
     {("US", ENDORSED, BLUEPRINT), ("CN", NOT_ENDORSED, BLUEPRINT)}),
    ("de", "China, das den Aufruf zum Handeln beim ersten Gipfel noch mitgetragen hatte, schloss sich diesmal nicht an.",
     SEOUL, {("CN", ENDORSED, CALL), ("CN", NOT_ENDORSED, BLUEPRINT)}),
    ("nl", "De Verenigde Staten en China staan er niet onder.", CORUNA,
     {("US", NOT_ENDORSED, PATHWAYS), ("CN", NOT_ENDORSED, PATHWAYS)}),
    ("nl", "Ook België en Luxemburg hebben het slotdocument ondertekend.", CORUNA,
     {("BE", ENDORSED, PATHWAYS), ("LU", ENDORSED, PATHWAYS)}),
    ("fr", "Ni les États-Unis ni la Chine ne figurent parmi les signataires.", CORUNA,
     {("US", NOT_ENDORSED, PATHWAYS), ("CN", NOT_ENDORSED, PATHWAYS)}),
    ("fr", "Le Japon n'a pas signé le document final.", CORUNA, {("JP", NOT_ENDORSED, PATHWAYS)}),
    ("es", "México y Chile firmaron el documento, pero Brasil no lo firmó.", CORUNA,
     {("MX", ENDORSED, PATHWAYS), ("CL", ENDORSED, PATHWAYS), ("BR", NOT_ENDORSED, PATHWAYS)}),
    ("es", "China, que sí apoyó el llamamiento aprobado en La Haya en 2023, se quedó esta vez fuera.", SEOUL,
     {("CN", ENDORSED, CALL), ("CN", NOT_ENDORSED, BLUEPRINT)}),
    ("ru", "Индия воздержалась, а Япония подписала документ.", SEOUL,
     {("IN", NOT_ENDORSED, BLUEPRINT), ("JP", ENDORSED, BLUEPRINT)}),
    ("ru", "Китай, направивший на встречу свою делегацию, подписывать его не стал.", SEOUL,
     {("CN", NOT_ENDORSED, BLUEPRINT)}),
    ("ru", "Около 60 государств, в том числе США и Китай, поддержали итоговый документ — «призыв к действию».",
     ("reaim-2023", ["reaim-2023"]), {("US", ENDORSED, CALL), ("CN", ENDORSED, CALL)}),
    ("zh", "日本和韩国签署了《行动路径》，巴西尚未签署。", CORUNA,
     {("JP", ENDORSED, PATHWAYS), ("KR", ENDORSED, PATHWAYS), ("BR", NOT_ENDORSED, PATHWAYS)}),
    ("zh", "只有35个国家签署了成果文件，中美均未签署。", CORUNA,
     {("CN", NOT_ENDORSED, PATHWAYS), ("US", NOT_ENDORSED, PATHWAYS)}),
    ("ja", "韓国は成果文書に署名したが、インドは署名を見送った。", CORUNA,
     {("KR", ENDORSED, PATHWAYS), ("IN", NOT_ENDORSED, PATHWAYS)}),
    ("ja", "会議には中国も代表団を派遣したが、文書には賛同しなかった。", SEOUL, {("CN", NOT_ENDORSED, BLUEPRINT)}),
    ("ko", "일본과 독일은 문서에 서명했지만 인도는 서명하지 않았다.", CORUNA,
     {("JP", ENDORSED, PATHWAYS), ("DE", ENDORSED, PATHWAYS), ("IN", NOT_ENDORSED, PATHWAYS)}),
    ("ko", "중국은 대표단을 보내 회의에 참석했지만 지지국 명단에는 이름을 올리지 않았다.", SEOUL,
     {("CN", NOT_ENDORSED, BLUEPRINT)}),
]


@pytest.mark.parametrize(("language", "text", "context", "expected"), CASES, ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)])
def test_what_the_sentence_says(language: str, text: str, context: tuple[str, list[str]], expected: set) -> None:
    assert found(text, language, context) == expected


NOTHING = [
    ("en", "China is expected to sign the Blueprint for Action next year."),  # not a fact
    ("en", "Washington invited other governments to endorse the blueprint."),  # an invitation
    ("en", "It is up to us to sign the blueprint, said the minister."),  # "us" is not the US
    ("en", "Japan and India signed a defence pact on the sidelines of the summit."),  # another document
    ("en", "The summit in Seoul was co-hosted by Kenya, Singapore and the Netherlands."),  # hosting is not endorsing
    ("en", "Spain hosted the signing ceremony, and 60 countries signed the blueprint."),  # the count is the subject
    ("en", "US officials said dozens of countries had already signed on to the blueprint."),
    ("en", "Russia has not been invited. Delegations from the United States and China are expected to attend."),
    ("ko", "정부는 다음 회의에서 문서에 서명할 예정이다."),  # 예정: planned
    ("ko", "이번 회의에는 미국과 중국 등 주요국 대표단도 참석할 예정인 것으로 알려졌다."),
    ("zh", "美国在峰会期间另行发布了政治宣言，邀请其他国家加入。"),  # 邀请: an invitation
    ("ja", "米国が主導する政治宣言の賛同国が50か国を超えた。"),  # the US leads it; others endorse
    ("es", "Estados Unidos aprovechó la cita para presentar una declaración, que espera que suscriban otros gobiernos."),
]


@pytest.mark.parametrize(("language", "text"), NOTHING, ids=[f"{c[0]}-{i}" for i, c in enumerate(NOTHING)])
def test_precision_over_recall(language: str, text: str) -> None:
    context = ("us-political-declaration", ["us-political-declaration"]) if "宣言" in text else SEOUL
    assert found(text, language, context) == set()
    if language == "en":  # with only the primary event's document to go on, still nothing
        assert found(text, language, ("reaim-2024", ["reaim-2024"])) == set()


def test_a_generic_name_needs_the_event_a_document_name_does_not() -> None:
    assert found("Japan signed the blueprint.", "en", (None, [])) == set()
    assert found("Japan signed the Blueprint for Action.", "en", (None, [])) == {("JP", ENDORSED, BLUEPRINT)}
    # "the text" is the primary event's document; without one there is nothing to attach it to
    assert found("Japan signed the text.", "en", (None, [])) == set()
    assert found("Japan signed the text.", "en", ("gc-reaim", ["gc-reaim"])) == set()


def test_a_weak_verb_needs_a_document_next_to_it() -> None:
    assert found("Kenya supported developing countries throughout the summit.", "en") == set()
    assert found("Kenya supported the blueprint.", "en") == {("KE", ENDORSED, BLUEPRINT)}
    assert found("Kenya signed.", "en") == {("KE", ENDORSED, BLUEPRINT)}  # a strong verb: the primary's


def test_a_state_in_a_place_phrase_is_not_an_actor() -> None:
    assert found("In Spain, 35 countries signed the document.", "en", CORUNA) == set()
    assert found("스페인에서 35개국이 문서에 서명했다.", "ko", CORUNA) == set()
    assert found("在西班牙，35个国家签署了成果文件。", "zh", CORUNA) == set()


def test_the_title_counts_and_korean_particles_attach() -> None:
    title = "REAIM 고위급회의, '행동 청사진' 채택하고 폐막…중국은 지지 안 해"
    assert found("", "ko", SEOUL, title=title) == {("CN", NOT_ENDORSED, BLUEPRINT)}
    assert found("Rund 60 Staaten billigen Aktionsplan für Militär-KI – China nicht", "de") == {
        ("CN", NOT_ENDORSED, BLUEPRINT)
    }


def test_a_contradiction_is_dropped() -> None:
    text = "Japan signed the Blueprint for Action. Japan did not sign the Blueprint for Action."
    assert found(text, "en") == set()


def test_evidence_is_the_sentence_with_the_cue() -> None:
    text = "The summit closed in Seoul on Tuesday. China sent a delegation but did not endorse the text. Kenya spoke."
    (e,) = find_endorsements("Seoul summit", text, "en", TAXONOMY, *SEOUL)
    assert (e.state, e.stance, e.document, e.language, e.text) == ("CN", NOT_ENDORSED, BLUEPRINT, "en", "original")
    assert e.evidence == "China sent a delegation but did not endorse the text."
    assert e.cue == "did not endorse"
    assert set(e.as_dict()) == {"state", "stance", "document", "evidence", "language", "text", "cue"}


def test_the_translation_adds_what_the_original_lacks_and_never_overrides_it() -> None:
    out = endorse_article(
        "군 AI 다자회의 폐막",
        "일본은 문서에 서명했다.",
        "ko",
        TAXONOMY,
        *SEOUL,
        title_en="Multilateral military AI meeting closes",
        text_en="Japan did not sign the document. Kenya signed the Blueprint for Action.",
    )
    assert [(e.state, e.stance, e.text, e.language) for e in out] == [
        ("JP", ENDORSED, "original", "ko"),
        ("KE", ENDORSED, "translation", "en"),
    ]


def test_sentences_keep_abbreviations_and_ordinals_whole() -> None:
    text = "The U.S. delegation signed. Am 5. Februar unterzeichneten 35 Staaten.\n중국은 서명하지 않았다. 中国未签署。日本は署名した。"
    spans = [text[a:b].strip() for a, b in sentences(text)]
    assert spans == [
        "The U.S. delegation signed.",
        "Am 5. Februar unterzeichneten 35 Staaten.",
        "중국은 서명하지 않았다.",
        "中国未签署。",
        "日本は署名した。",
    ]


def test_a_taxonomy_without_states_reads_no_endorsements(tmp_path: Path) -> None:
    target = tmp_path / "taxonomy"
    shutil.copytree(DEFAULT_DIR, target)
    (target / "states.yaml").unlink()
    (target / "documents.yaml").unlink()
    other = load_taxonomy(target)
    assert other.endorsement is None
    assert find_endorsements(None, "Japan signed the Blueprint for Action.", "en", other, "reaim-2024") == []


def test_reaim_process_output_has_the_endorsements() -> None:
    out = Processor(translate=False).process_record(
        {
            "url": "https://news.example/1",
            "title": "Around 60 nations back military AI blueprint in Seoul; China holds back",
            "text": "About 60 countries endorsed a Blueprint for Action at the REAIM summit in Seoul on Tuesday, "
            "but China was not among them. The text says humans must keep control over nuclear weapons.",
            "published": "2024-09-10T10:40:00+00:00",
            "language": "en",
        }
    )
    assert out["primary_event"] == "reaim-2024"
    assert [(e["state"], e["stance"], e["document"]) for e in out["endorsements"]] == [("CN", NOT_ENDORSED, BLUEPRINT)]
    assert out["endorsements"][0]["evidence"]

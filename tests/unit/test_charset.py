"""crawler.charset.decode_html: declarations that lie, detectors that guess wrong, and bytes that are garbage."""

from __future__ import annotations

import dataclasses
import random
import re
from pathlib import Path

import charset_normalizer
import pytest

import crawler.charset as charset
from crawler.charset import Decoded, decode_html
from reaim.sample_site.server import SITE_DIR, load_manifest, render

KO_TEXT = (
    "인공지능의 책임 있는 군사적 이용에 관한 고위급 회의(REAIM)가 9일 서울에서 이틀 일정으로 개막했다. "
    "국방부와 외교부가 공동 주최한 이번 회의에는 90여 개국 정부 대표와 국제기구, 학계, 산업계 인사 2천여 명이 참석했다. "
    "지난해 네덜란드 헤이그에서 열린 첫 회의에 이어 두 번째로 열리는 이번 회의에서 참가국들은 인공지능이 국제 평화와 안보에 "
    "미치는 영향을 논의하고, 군사 영역에서 인간의 통제와 판단이 유지되어야 한다는 원칙을 담은 '행동을 위한 청사진'을 "
    "채택할 예정이다. 국방부 관계자는 \"책임 있는 이용을 위한 국제 규범을 함께 만들어 가겠다\"고 말했다."
)
FR_TEXT = (
    "Le deuxième sommet sur l'utilisation responsable de l'intelligence artificielle dans le domaine militaire "
    "s'est ouvert à Séoul. « Nous devons garantir un contrôle humain », a déclaré le ministre des Armées. "
    "Les délégués de près de 90 pays ont discuté des risques liés aux systèmes d'armes autonomes."
)
ES_TEXT = (
    "El año próximo la cumbre se celebrará en A Coruña, señaló la delegación española. "
    "«Es un paso histórico para el control humano», dijo el ministro. ¿Quién firmará la declaración?"
)
JA_TEXT = (
    "軍事領域における人工知能の責任ある利用に関する閣僚級会合（REAIM）が９日、ソウルで開幕した。"
    "日本からは防衛省と外務省の代表が参加し、人間による関与の確保や国際法の遵守について議論した。"
    "会議では「行動のための青写真」が採択される見通しだ。"
)
ZH_TEXT = (
    "第二届军事领域负责任使用人工智能峰会９日在韩国首尔开幕。来自约９０个国家的政府代表、国际组织和学术界人士出席会议。"
    "与会各方讨论了人工智能对国际和平与安全的影响，强调在军事领域必须保持人类的控制与判断。"
)
ZH_HANT_TEXT = "軍事領域負責任使用人工智慧峰會在首爾開幕，來自約九十個國家的政府代表出席會議，與會各方討論了人工智慧對國際和平與安全的影響。"
RU_TEXT = (
    "В Сеуле открылся второй саммит по ответственному использованию искусственного интеллекта в военной сфере. "
    "Представители около девяноста государств обсуждают влияние искусственного интеллекта на международный мир и "
    "безопасность. Участники подчеркнули, что решения о применении силы должны оставаться под контролем человека."
)


def page(text: str, head: str = "", title: str = "REAIM 2024") -> str:
    """A small but realistic news page: markup, a script, and the article text."""
    return (
        "<!DOCTYPE html>\n<html>\n<head>\n" + head + f"<title>{title}</title>\n"
        '<link rel="stylesheet" href="/css/style.css">\n'
        "<script>function fontSize(n) { document.getElementById('body').style.fontSize = n + 'px'; }</script>\n"
        "</head>\n<body>\n<div id=\"menu\"><a href=\"/\">Home</a> | <a href=\"/politics\">Politics</a></div>\n"
        f'<div id="body"><h1>{title}</h1>\n<p>{text}</p>\n</div>\n</body>\n</html>\n'
    )


META_EUC_KR = '<meta charset="euc-kr">\n'
KO_PAGE = page(KO_TEXT, title="서울서 군사 인공지능 고위급 회의 개막")


def hangul_ratio(html: str) -> float:
    """Share of Hangul syllables among the letters of the visible text (tags, scripts and styles removed)."""
    visible = re.sub(r"(?is)<(script|style)\b.*?</\1\s*>|<[^>]*>", " ", html)
    letters = [c for c in visible if c.isalpha()]
    return sum("\uac00" <= c <= "\ud7a3" for c in letters) / len(letters)


# --- the API -----------------------------------------------------------------
def test_decoded_is_a_frozen_record_with_the_agreed_fields() -> None:
    decoded = decode_html(b"<p>hello</p>")
    assert [f.name for f in dataclasses.fields(Decoded)] == ["text", "encoding", "method", "mojibake"]
    with pytest.raises(dataclasses.FrozenInstanceError):
        decoded.text = "x"  # type: ignore[misc]


def test_pure_ascii_undeclared_is_utf8() -> None:
    decoded = decode_html(page("Seoul hosts the second REAIM summit.").encode("ascii"))
    assert (decoded.encoding, decoded.method, decoded.mojibake) == ("utf-8", "detected", False)


def test_utf8_undeclared_is_utf8() -> None:
    decoded = decode_html(KO_PAGE.encode("utf-8"), "text/html", "ko")
    assert (decoded.encoding, decoded.method, decoded.mojibake) == ("utf-8", "detected", False)
    assert decoded.text == KO_PAGE


# --- Korean: EUC-KR declared, undeclared, and lied about -----------------------
def test_euc_kr_declared_in_meta_only() -> None:
    html = page(KO_TEXT, head=META_EUC_KR)
    decoded = decode_html(html.encode("euc-kr"), "text/html", "ko")
    assert (decoded.encoding, decoded.method, decoded.mojibake) == ("cp949", "meta", False)
    assert decoded.text == html


def test_meta_in_http_equiv_form_and_ks_c_5601_label_map_to_cp949() -> None:
    html = page(KO_TEXT, head='<meta http-equiv="Content-Type" content="text/html; charset=ks_c_5601-1987">\n')
    decoded = decode_html(html.encode("euc-kr"), None, None)
    assert (decoded.encoding, decoded.method) == ("cp949", "meta")
    assert decoded.text == html


@pytest.mark.parametrize("language", ["ko", "ko-KR", None])
def test_euc_kr_undeclared(language: str | None) -> None:
    decoded = decode_html(KO_PAGE.encode("euc-kr"), "text/html", language)
    assert (decoded.encoding, decoded.method, decoded.mojibake) == ("cp949", "detected", False)
    assert decoded.text == KO_PAGE
    assert hangul_ratio(decoded.text) > 0.9


@pytest.mark.parametrize("language", ["ko", None])
@pytest.mark.parametrize("header", ["text/html; charset=utf-8", "text/html; charset=ISO-8859-1"])
def test_http_charset_that_lies_about_euc_kr_bytes_is_repaired(header: str, language: str | None) -> None:
    """A server default (utf-8 or iso-8859-1) in front of EUC-KR bytes: the header is overruled."""
    decoded = decode_html(KO_PAGE.encode("euc-kr"), header, language)
    assert (decoded.encoding, decoded.method, decoded.mojibake) == ("cp949", "repaired", False)
    assert decoded.text == KO_PAGE


def test_lying_http_header_falls_back_to_an_honest_meta() -> None:
    html = page(KO_TEXT, head=META_EUC_KR)
    decoded = decode_html(html.encode("euc-kr"), "text/html; charset=utf-8", "ko")
    assert (decoded.encoding, decoded.method) == ("cp949", "repaired")
    assert decoded.text == html


def test_http_outranks_meta_when_both_read_cleanly() -> None:
    # EUC-KR bytes read as cp1251 are Cyrillic, so the Russian label is taken at its word when nothing contradicts it.
    html = page(RU_TEXT, head=META_EUC_KR)
    decoded = decode_html(html.encode("cp1251"), "text/html; charset=windows-1251", None)
    assert (decoded.encoding, decoded.method) == ("cp1251", "http")
    assert decoded.text == html


# --- BOM ----------------------------------------------------------------------
def test_bom_outranks_http_and_meta() -> None:
    html = page(KO_TEXT, head=META_EUC_KR)
    decoded = decode_html(b"\xef\xbb\xbf" + html.encode("utf-8"), "text/html; charset=iso-8859-1", "ko")
    assert (decoded.encoding, decoded.method, decoded.mojibake) == ("utf-8", "bom", False)
    assert decoded.text == html  # BOM stripped


def test_utf16_bom() -> None:
    decoded = decode_html(b"\xff\xfe" + KO_PAGE.encode("utf-16-le"), None, "ko")
    assert (decoded.encoding, decoded.method, decoded.text) == ("utf-16-le", "bom", KO_PAGE)


def test_bom_in_front_of_euc_kr_bytes_is_flagged_as_mojibake() -> None:
    decoded = decode_html(b"\xef\xbb\xbf" + KO_PAGE.encode("euc-kr"), None, "ko")
    assert (decoded.encoding, decoded.method, decoded.mojibake) == ("utf-8", "bom", True)
    assert "\ufffd" in decoded.text


# --- Western: Latin-1 and UTF-8 confusions -------------------------------------
@pytest.mark.parametrize("where", ["meta", "http"])
def test_utf8_page_declaring_iso_8859_1_comes_out_as_utf8(where: str) -> None:
    head = '<meta charset="iso-8859-1">\n' if where == "meta" else ""
    header = "text/html; charset=iso-8859-1" if where == "http" else "text/html"
    html = page(FR_TEXT, head=head, title="Sommet REAIM à Séoul")
    decoded = decode_html(html.encode("utf-8"), header, "fr")
    assert (decoded.encoding, decoded.method, decoded.mojibake) == ("utf-8", "repaired", False)
    assert decoded.text == html
    assert "Ã©" not in decoded.text


@pytest.mark.parametrize("language", ["fr", "es", None])
@pytest.mark.parametrize("text", [FR_TEXT, ES_TEXT], ids=["fr", "es"])
def test_undeclared_latin1_page_is_cp1252(text: str, language: str | None) -> None:
    html = page(text, title="Cumbre REAIM en A Coruña")
    decoded = decode_html(html.encode("latin-1"), "text/html", language)
    assert (decoded.encoding, decoded.method, decoded.mojibake) == ("cp1252", "detected", False)
    assert decoded.text == html
    assert "«" in decoded.text and "ñ" in decoded.text


# Short Latin-1 fragments (headlines, teasers) that charset-normalizer 3.5.2 calls cp1250, measured on this machine.
LATIN1_TRAPS = [
    "<h1>Élysée: sommet IA militaire, déclaration à Séoul le 10 septembre</h1>",
    "<title>Cumbre de A Coruña: España y el año de la IA militar</title>",
    "<p>El año próximo la cumbre se celebrará en A Coruña, señaló la delegación española. "
    "«Es un paso histórico», dijo el ministro.</p>",
]


@pytest.mark.parametrize("html", LATIN1_TRAPS, ids=["fr-headline", "es-title", "es-teaser"])
def test_charset_normalizer_misnames_latin1_but_decode_html_does_not(html: str) -> None:
    """The trap this module exists for: a wrong Latin code page, and not one U+FFFD to show it."""
    body = html.encode("latin-1")
    guess = charset_normalizer.from_bytes(body).best()
    assert guess is not None and guess.encoding == "cp1250"
    assert "\ufffd" not in str(guess) and str(guess) != html
    decoded = decode_html(body)
    assert (decoded.encoding, decoded.method, decoded.text, decoded.mojibake) == ("cp1252", "detected", html, False)


def test_latin1_bytes_behind_a_utf8_header_are_repaired() -> None:
    html = page(ES_TEXT)
    decoded = decode_html(html.encode("latin-1"), "text/html; charset=utf-8", "es")
    assert (decoded.encoding, decoded.method, decoded.mojibake) == ("cp1252", "repaired", False)
    assert decoded.text == html


@pytest.mark.parametrize("wrong_guesses", [["cp1250"], ["mac-iceland"], ["mac-iceland", "cp1250"], []])
def test_detector_traps_are_overruled(monkeypatch: pytest.MonkeyPatch, wrong_guesses: list[str]) -> None:
    """Reported on this machine: undeclared EUC-KR guessed as cp1250, Latin-1 as mac-iceland. Replay those guesses."""
    monkeypatch.setattr(charset, "_detector_guesses", lambda body: list(wrong_guesses))
    korean = decode_html(KO_PAGE.encode("euc-kr"))
    assert (korean.encoding, korean.text, korean.mojibake) == ("cp949", KO_PAGE, False)
    french = decode_html(page(FR_TEXT).encode("latin-1"))
    assert (french.encoding, french.text, french.mojibake) == ("cp1252", page(FR_TEXT), False)


# --- Japanese, Chinese, Russian ------------------------------------------------
@pytest.mark.parametrize(
    ("codec", "expected"),
    [("shift_jis", {"cp932", "shift_jis"}), ("euc_jp", {"euc_jp"}), ("iso2022_jp", {"iso2022_jp"})],
)
def test_undeclared_japanese(codec: str, expected: set[str]) -> None:
    html = page(JA_TEXT, title="ソウルでREAIM会合開幕")
    decoded = decode_html(html.encode(codec), "text/html", "ja")
    assert decoded.encoding in expected and decoded.method == "detected" and not decoded.mojibake
    assert decoded.text == html


def test_undeclared_shift_jis_without_language() -> None:
    html = page(JA_TEXT)
    decoded = decode_html(html.encode("shift_jis"))
    assert decoded.encoding in {"cp932", "shift_jis"} and decoded.text == html


@pytest.mark.parametrize("language", ["zh", None])
def test_undeclared_gb2312(language: str | None) -> None:
    html = page(ZH_TEXT, title="军事人工智能峰会在首尔开幕")
    decoded = decode_html(html.encode("gb2312"), "text/html", language)
    assert (decoded.encoding, decoded.method, decoded.mojibake) == ("gb18030", "detected", False)
    assert decoded.text == html


def test_gb2312_label_maps_to_gb18030() -> None:
    html = page(ZH_TEXT, head='<meta http-equiv="Content-Type" content="text/html; charset=gb2312">\n')
    decoded = decode_html(html.encode("gb2312"), "text/html", "zh")
    assert (decoded.encoding, decoded.method, decoded.text) == ("gb18030", "meta", html)


def test_undeclared_big5() -> None:
    html = page(ZH_HANT_TEXT)
    decoded = decode_html(html.encode("big5"), None, "zh")
    assert decoded.encoding == "big5hkscs" and decoded.text == html


@pytest.mark.parametrize("language", ["ru", None])
@pytest.mark.parametrize(("codec", "expected"), [("koi8_r", "koi8-r"), ("cp1251", "cp1251")])
def test_undeclared_russian(codec: str, expected: str, language: str | None) -> None:
    """KOI8-R and cp1251 both decode any byte to Cyrillic; only letter case tells them apart."""
    html = page(RU_TEXT, title="В Сеуле открылся саммит REAIM")
    decoded = decode_html(html.encode(codec), "text/html", language)
    assert (decoded.encoding, decoded.method, decoded.mojibake) == (expected, "detected", False)
    assert decoded.text == html


# --- mojibake and garbage ------------------------------------------------------
def test_double_encoded_utf8_is_flagged() -> None:
    soup = FR_TEXT.encode("utf-8").decode("cp1252")  # "Séoul" -> "SÃ©oul", then saved as UTF-8 again
    decoded = decode_html(page(soup).encode("utf-8"), "text/html; charset=utf-8", "fr")
    assert (decoded.encoding, decoded.method, decoded.mojibake) == ("utf-8", "http", True)


@pytest.mark.parametrize("language", [None, "ko", "ja", "zh", "ru", "fr", "el", "xx-unknown"])
@pytest.mark.parametrize("seed", range(6))
def test_random_bytes_never_raise(seed: int, language: str | None) -> None:
    rng = random.Random(seed)
    header = rng.choice([None, "text/html", "text/html; charset=utf-8", "text/html; charset=euc-kr",
                         "text/html; charset=utf-16", "text/html; charset=utf-7", "text/html; charset=bogus"])
    body = rng.randbytes(rng.choice([1, 7, 300, 5000]))
    decoded = decode_html(body, header, language)
    assert isinstance(decoded.text, str) and decoded.encoding and decoded.method
    if len(body) >= 300 and header in (None, "text/html"):
        assert decoded.mojibake and decoded.method == "default" and decoded.encoding == "utf-8"


@pytest.mark.parametrize(
    "body",
    [b"", b"\xff", b"\xef\xbb\xbf", b"\xfe\xff\x00", b"\x1b$B", b"<meta charset=utf-16>\xff\xfe",
     KO_PAGE.encode("euc-kr")[:-1] + b"\xb0", bytearray(b"<p>caf\xe9</p>")],
)
def test_odd_inputs_never_raise(body: bytes) -> None:
    for header in (None, "text/html; charset=utf-8", "text/html; charset=shift_jis"):
        for language in (None, "ko", "ja"):
            assert isinstance(decode_html(body, header, language), Decoded)


# --- the sample site's legacy Korean outlets -----------------------------------
ROUTES_BY_FILE = {route.file: route for route in load_manifest().values()}
LEGACY_FILES = sorted(
    f for outlet in ("cheongsol", "hanul-ilbo") for f in (SITE_DIR / "pages" / outlet).rglob("*") if f.is_file()
)


def test_legacy_outlets_have_pages() -> None:
    assert len(LEGACY_FILES) >= 5
    assert all(f.resolve() in ROUTES_BY_FILE for f in LEGACY_FILES)


@pytest.mark.parametrize("language", ["ko", None])
@pytest.mark.parametrize("file", LEGACY_FILES, ids=lambda f: str(f.relative_to(SITE_DIR / "pages")))
def test_sample_site_euc_kr_pages(file: Path, language: str | None) -> None:
    """The bytes the sample server sends (templates are stored as UTF-8 and encoded to EUC-KR when served)."""
    route = ROUTES_BY_FILE[file.resolve()]
    assert route.encoding == "euc-kr"
    base = "http://127.0.0.1:8765"
    decoded = decode_html(render(route, base), route.content_type, language)
    assert decoded.encoding == "cp949"
    assert decoded.method == ("meta" if "/cheongsol/" in route.path else "detected")
    assert not decoded.mojibake
    assert decoded.text == file.read_text(encoding="utf-8").replace("{{BASE}}", base)
    assert hangul_ratio(decoded.text) > 0.6


@pytest.mark.parametrize("file", LEGACY_FILES[:1] + LEGACY_FILES[-1:], ids=lambda f: f.name)
def test_sample_site_templates_on_disk_are_utf8(file: Path) -> None:
    """Read straight from disk, a cheongsol template is UTF-8 under a stale ``<meta charset="euc-kr">``."""
    decoded = decode_html(file.read_bytes(), None, "ko")
    assert decoded.encoding == "utf-8" and not decoded.mojibake
    assert decoded.method == ("repaired" if "cheongsol" in file.parts else "detected")

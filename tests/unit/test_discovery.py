"""Discovery helpers for GDELT DOC 2.0 and Google News RSS: URLs, parsing, slicing, and real HTTP on loopback."""

from __future__ import annotations

import base64
import http.client
import json
import re
import urllib.error
import urllib.request
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta, timezone
from urllib.parse import parse_qs, urlsplit

import pytest

from crawler.discovery import (
    GDELT_MAX_RECORDS,
    DiscoveryError,
    decode_google_news_link,
    gdelt_language,
    gdelt_request,
    gdelt_requests,
    gdelt_seendate,
    gdelt_split_needed,
    gdelt_window,
    google_news_url,
    is_google_news_link,
    parse_gdelt,
    parse_google_news,
    publisher_url,
    split_request,
    split_window,
)
from servers.discovery import EXTRA_ENGLISH, FIXTURES, DiscoveryServer, fixture_text

BASE = "http://127.0.0.1:9"  # for parsing fixtures offline; never requested
FEB1 = datetime(2026, 2, 1, tzinfo=UTC)
FEB7 = datetime(2026, 2, 7, tzinfo=UTC)
WIDE = (FEB1, FEB7 - timedelta(seconds=1))  # as GDELT reads it: all 310 English records of the stand-in
SEOUL = (datetime(2024, 9, 8, tzinfo=UTC), datetime(2024, 9, 13, tzinfo=UTC))
Q = '("REAIM" OR "military AI")'


def fixture(name: str) -> bytes:
    return fixture_text(name, BASE).encode()


def params(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


def legacy_id(url: str, amp: str | None = None) -> str:
    """A pre-2024 Google News article id: base64 of a protobuf whose field 4 is the URL (field 26 the AMP URL)."""
    def field(tag: int, value: bytes) -> bytes:
        n, out = len(value), b""
        while True:
            out += bytes([(n & 0x7F) | (0x80 if n > 0x7F else 0)])
            n >>= 7
            if not n:
                break
        key = bytes([(tag << 3 | 2) | 0x80, (tag << 3 | 2) >> 7]) if tag >= 16 else bytes([tag << 3 | 2])
        return key + out + value

    data = b"\x08\x13" + field(4, url.encode()) + (field(26, amp.encode()) if amp else b"")
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


# --- GDELT: request URLs -----------------------------------------------------
def test_one_request_per_language_per_slice_with_artlist_parameters() -> None:
    urls = gdelt_requests(Q, languages=["en", "ko"], start=FEB1, end=FEB1 + timedelta(days=3), slice_hours=24)
    assert len(urls) == 6
    assert all(u.startswith("https://api.gdeltproject.org/api/v2/doc/doc?") for u in urls)
    first = params(urls[0])
    assert first == {
        "query": '("REAIM" OR "military AI") sourcelang:english', "mode": "ArtList", "format": "json",
        "maxrecords": "250", "sort": "DateDesc", "startdatetime": "20260201000000", "enddatetime": "20260201235959",
    }
    assert [params(u)["query"].rsplit(" ", 1)[1] for u in urls] == ["sourcelang:english"] * 3 + ["sourcelang:korean"] * 3
    windows = [(params(u)["startdatetime"], params(u)["enddatetime"]) for u in urls[:3]]
    # [start, end) in slices that touch without overlapping: each ends one second before the next starts
    assert windows == [("20260201000000", "20260201235959"), ("20260202000000", "20260202235959"),
                       ("20260203000000", "20260203235959")]


def test_last_slice_is_cut_at_the_end_and_naive_or_zoned_times_become_utc() -> None:
    kst = timezone(timedelta(hours=9))
    urls = gdelt_requests("REAIM", languages=["ko"], start=datetime(2024, 9, 9, 9, 0, tzinfo=kst),
                          end=datetime(2024, 9, 10, 5, 30), slice_hours=12)
    assert [(params(u)["startdatetime"], params(u)["enddatetime"]) for u in urls] == [
        ("20240909000000", "20240909115959"), ("20240909120000", "20240909235959"), ("20240910000000", "20240910052959")]


def test_query_is_percent_encoded_and_round_trips() -> None:
    url = gdelt_request('("REAIM" OR "군사 AI")', language="Korean", start=FEB1, end=FEB1 + timedelta(hours=1))
    query_string = urlsplit(url).query
    assert " " not in query_string and '"' not in query_string and "(" not in query_string
    assert "%22REAIM%22" in query_string and "sourcelang%3Akorean" in query_string
    assert params(url)["query"] == '("REAIM" OR "군사 AI") sourcelang:korean'


def test_or_terms_are_put_in_parentheses_because_gdelt_rejects_them_bare() -> None:
    assert params(gdelt_request('REAIM OR "military AI"', language="en", start=FEB1, end=FEB1))["query"] == (
        '(REAIM OR "military AI") sourcelang:english')
    assert params(gdelt_request('"REAIM summit"', language="en", start=FEB1, end=FEB1))["query"] == (
        '"REAIM summit" sourcelang:english')


@pytest.mark.parametrize(("code", "name"), [("en", "English"), ("ko", "Korean"), ("es", "Spanish"), ("nl", "Dutch"),
                                            ("fr", "French"), ("de", "German"), ("zh", "Chinese"), ("ja", "Japanese"),
                                            ("ru", "Russian"), ("JAPANESE", "Japanese")])
def test_language_codes_map_to_gdelt_names(code: str, name: str) -> None:
    assert gdelt_language(code) == name


def test_bad_request_arguments_are_refused() -> None:
    with pytest.raises(ValueError, match="no GDELT language"):
        gdelt_requests("REAIM", languages=["xx"], start=FEB1, end=FEB1 + timedelta(days=1), slice_hours=24)
    with pytest.raises(ValueError, match="slice_hours"):
        gdelt_requests("REAIM", languages=["en"], start=FEB1, end=FEB1 + timedelta(days=1), slice_hours=0)
    with pytest.raises(ValueError, match="empty"):
        gdelt_requests("REAIM", languages=["en"], start=FEB1, end=FEB1, slice_hours=24)
    with pytest.raises(ValueError, match="no languages"):
        gdelt_requests("REAIM", languages=[], start=FEB1, end=FEB1 + timedelta(days=1), slice_hours=24)
    with pytest.raises(ValueError, match="empty GDELT query"):
        gdelt_request("  ", language="en", start=FEB1, end=FEB1)


# --- GDELT: splitting a full answer -------------------------------------------
def test_split_window_halves_at_a_batch_stamp_without_gap_or_overlap() -> None:
    (a, b), (c, d) = split_window(*WIDE)
    assert (a, d) == WIDE
    assert c == datetime(2026, 2, 4, tzinfo=UTC) and b == c - timedelta(seconds=1)


def test_split_window_of_unaligned_times_keeps_a_batch_on_each_side() -> None:
    (a, b), (c, d) = split_window(datetime(2026, 2, 4, 12, 7, tzinfo=UTC), datetime(2026, 2, 4, 12, 40, tzinfo=UTC))
    assert (a.minute, b.minute, b.second, c.minute, d.minute) == (7, 29, 59, 30, 40)  # stamps 12:15 | 12:30


def test_a_window_with_one_batch_cannot_be_split() -> None:
    with pytest.raises(ValueError, match="15-minute"):
        split_window(datetime(2026, 2, 4, 12, 0, tzinfo=UTC), datetime(2026, 2, 4, 12, 14, 59, tzinfo=UTC))
    halves = split_window(datetime(2026, 2, 4, 12, 0, tzinfo=UTC), datetime(2026, 2, 4, 12, 29, 59, tzinfo=UTC))
    assert [h[0].minute for h in halves] == [0, 15]


def test_split_request_changes_the_window_only() -> None:
    url = gdelt_request(Q, language="ko", start=WIDE[0], end=WIDE[1], base_url="http://127.0.0.1:1/api/v2/doc/doc")
    first, second = split_request(url)
    for half in (first, second):
        assert half.startswith("http://127.0.0.1:1/api/v2/doc/doc?")
        assert {k: v for k, v in params(half).items() if "datetime" not in k} == {
            k: v for k, v in params(url).items() if "datetime" not in k}
    assert gdelt_window(first) == split_window(*WIDE)[0]
    assert gdelt_window(second) == split_window(*WIDE)[1]
    assert gdelt_window(url) == WIDE
    with pytest.raises(ValueError, match="not a GDELT request"):
        gdelt_window("https://api.gdeltproject.org/api/v2/doc/doc?query=REAIM")


def test_split_needed_at_the_cap_only() -> None:
    cap = fixture("gdelt_artlist_cap.json")
    assert gdelt_split_needed(cap) is True
    assert gdelt_split_needed(parse_gdelt(cap)) is True
    assert gdelt_split_needed(fixture("gdelt_artlist_ko.json")) is False
    assert gdelt_split_needed(b"{}") is False
    assert gdelt_split_needed([]) is False
    with pytest.raises(DiscoveryError, match="rate limit"):
        gdelt_split_needed(fixture("gdelt_rate_limited.txt"))


# --- GDELT: parsing ------------------------------------------------------------
def test_parses_korean_artlist_with_iso_dates_and_codes() -> None:
    articles = parse_gdelt(fixture("gdelt_artlist_ko.json"))
    assert len(articles) == 7
    assert all(set(a) == {"url", "title", "seendate", "domain", "language", "sourcecountry"} for a in articles)
    assert all(a["language"] == "ko" and a["url"].startswith(BASE + "/pub/") for a in articles)
    newest = articles[0]
    assert newest["title"] == "[사설] 군사 영역 AI 규범, 선언 넘어 실천으로"
    assert newest["seendate"] == "2024-09-11T01:00:00+00:00"
    assert newest["domain"] == "namsanilbo.example" and newest["sourcecountry"] == "South Korea"
    assert any(a["sourcecountry"] == "United States" for a in articles)
    assert any("“" in a["title"] for a in articles)  # typographic quotes survive


def test_cap_fixture_has_exactly_the_cap_newest_first() -> None:
    articles = parse_gdelt(fixture("gdelt_artlist_cap.json"))
    assert len(articles) == GDELT_MAX_RECORDS == 250
    assert len({a["url"] for a in articles}) == 250
    dates = [a["seendate"] for a in articles]
    assert dates == sorted(dates, reverse=True)
    assert {a["language"] for a in articles} == {"en"}


@pytest.mark.parametrize("body", [b"", b"  \n", b"{}", b"{}\n", b'{"articles": []}', "\ufeff{}".encode()])
def test_no_results_is_an_empty_list(body: bytes) -> None:
    assert parse_gdelt(body) == []


def test_empty_fixture_is_no_results() -> None:
    assert (FIXTURES / "gdelt_empty.json").read_bytes().strip() == b"{}"
    assert parse_gdelt((FIXTURES / "gdelt_empty.json").read_bytes()) == []


def test_rate_limit_message_is_a_retryable_error() -> None:
    with pytest.raises(DiscoveryError) as info:
        parse_gdelt((FIXTURES / "gdelt_rate_limited.txt").read_bytes())
    assert info.value.retryable is True
    assert "\n" not in str(info.value)
    assert str(info.value).startswith("GDELT rate limit: Please limit requests to one every 5 seconds")


@pytest.mark.parametrize("body", [
    b"The specified phrase is too short.",
    b"<html><body><p>The specified phrase is too short.</p></body></html>\n",
])
def test_error_messages_with_status_200_are_errors(body: bytes) -> None:
    with pytest.raises(DiscoveryError, match=r"^GDELT error: The specified phrase is too short\.$") as info:
        parse_gdelt(body)
    assert info.value.retryable is False


def test_raw_control_characters_and_bad_escapes_are_repaired() -> None:
    body = (
        b'{"articles": [\n'
        b' {"url": "https://a.example/1", "title": "REAIM\tsummit\x01 opens\nin Seoul", "seendate": "20240909T001500Z",'
        b' "domain": "a.example", "language": "English", "sourcecountry": "South Korea"},\n'
        b' {"url": "https://a.example/2", "title": "C:\\drive \\x41 and \\u00e9t\\u00e9", "seendate": "20240909T003000Z",'
        b' "domain": "a.example", "language": "French", "sourcecountry": "France"}\n] }'
    )
    first, second = parse_gdelt(body)
    assert first["title"] == "REAIM summit opens in Seoul"  # control characters dropped, whitespace folded
    assert second["title"] == "C:\\drive \\x41 and été"
    assert second["language"] == "fr"
    # a valid escaped backslash next to a stray one stays valid
    (third,) = parse_gdelt(b'{"articles": [{"url": "u", "title": "a \\\\d \\d \\u00e9"}]}')
    assert third["title"] == "a \\d \\d \u00e9"


def test_json_that_cannot_be_repaired_is_a_one_line_error() -> None:
    truncated = fixture("gdelt_artlist_ko.json")[:700]
    with pytest.raises(DiscoveryError, match=r"^GDELT answer is not valid JSON: .* at line \d+ column \d+$"):
        parse_gdelt(truncated)
    with pytest.raises(DiscoveryError, match="no article list"):
        parse_gdelt(b'{"timeline": []}')


def test_odd_records_are_skipped_or_left_blank() -> None:
    body = json.dumps({"articles": [
        {"url": "", "title": "no url"},
        "not a record",
        {"url": " https://a.example/3 ", "title": "", "seendate": "yesterday", "language": "Klingon"},
    ]}).encode()
    assert parse_gdelt(body) == [{"url": "https://a.example/3", "title": None, "seendate": None, "domain": None,
                                  "language": None, "sourcecountry": None}]


def test_seendate_conversion() -> None:
    assert gdelt_seendate("20240910T123000Z") == "2024-09-10T12:30:00+00:00"
    assert gdelt_seendate("2024-09-10") is None and gdelt_seendate(None) is None


# --- Google News: URL ------------------------------------------------------------
def test_google_news_url_quotes_q_and_keeps_the_edition() -> None:
    url = google_news_url('REAIM OR "IA militar"', hl="es", gl="ES", ceid="ES:es", when="7d")
    assert url.startswith("https://news.google.com/rss/search?q=")
    assert " " not in url and '"' not in url
    assert params(url) == {"q": 'REAIM OR "IA militar" when:7d', "hl": "es", "gl": "ES", "ceid": "ES:es"}
    ko = google_news_url('"REAIM 고위급회의"', hl="ko", gl="KR", ceid="KR:ko", after=date(2024, 9, 8),
                         before=date(2024, 9, 12), base_url="http://127.0.0.1:1/rss/search")
    assert ko.startswith("http://127.0.0.1:1/rss/search?")
    assert params(ko)["q"] == '"REAIM 고위급회의" after:2024-09-08 before:2024-09-12'
    assert "when" not in params(google_news_url("REAIM", hl="en-US", gl="US", ceid="US:en"))["q"]


def test_google_news_url_refuses_bad_arguments() -> None:
    with pytest.raises(ValueError, match="when"):
        google_news_url("REAIM", hl="es", gl="ES", ceid="ES:es", when="a week")
    with pytest.raises(ValueError, match="empty"):
        google_news_url(" ", hl="es", gl="ES", ceid="ES:es")


# --- Google News: parsing -------------------------------------------------------
def test_parses_spanish_feed() -> None:
    items = parse_google_news(fixture("google_news_es.xml"))
    assert len(items) == 6
    assert all(set(i) == {"link", "title", "outlet", "outlet_url", "published", "publisher_url"} for i in items)
    assert all(i["link"].startswith(BASE + "/rss/articles/CBMi") for i in items)
    first = items[0]
    assert first["title"] == "A Coruña acoge la cumbre REAIM sobre el uso responsable de la IA en el ámbito militar"
    assert first["outlet"] == "Diario del Orzán" and first["outlet_url"] == "https://www.diariodelorzan.example"
    assert first["published"] == "2026-02-04T07:30:00+00:00"
    assert first["publisher_url"] == BASE + "/pub/diariodelorzan.example/coruna/2026/02/04/cumbre-reaim-palexco.html"
    by_title = {i["title"]: i for i in items}
    assert "35 países firman en A Coruña las «vías para la acción» sobre IA militar" in by_title
    # only the outlet's own suffix is cut, not a " - " inside the headline
    cluster = by_title["REAIM 2026 - Camino para la acción: qué compromete la declaración de A Coruña"]
    assert cluster["outlet"] == "Gaceta Atlántica"
    assert cluster["publisher_url"] is None  # every href is Google's; the spider follows the link
    assert sum(i["publisher_url"] is None for i in items) == 5


def test_parses_korean_feed() -> None:
    items = parse_google_news(fixture("google_news_ko.xml"))
    assert len(items) == 5
    assert items[0]["title"] == "서울서 REAIM 고위급회의 개막…'군사 AI 책임 있는 이용' 논의"
    assert items[0]["outlet"] == "미리내일보"
    assert items[0]["published"] == "2024-09-09T00:40:00+00:00"
    assert [i["publisher_url"] is not None for i in items] == [True, False, False, True, False]


def test_feed_without_items_is_an_empty_list() -> None:
    body = b'<?xml version="1.0"?><rss version="2.0"><channel><title>x</title></channel></rss>'
    assert parse_google_news(body) == []


@pytest.mark.parametrize(("body", "reason"), [
    (b"", "empty"),
    (b"<!DOCTYPE html><html><head><title>Before you continue</title></head><body><form>", "not RSS"),
    (b"<html><body><h1>Our systems have detected unusual traffic</h1></body></html>", "not RSS: root element <html>"),
    (b'<?xml version="1.0"?><feed xmlns="http://www.w3.org/2005/Atom"></feed>', "not RSS: root element"),
])
def test_non_rss_answers_are_errors(body: bytes, reason: str) -> None:
    with pytest.raises(DiscoveryError, match=reason) as info:
        parse_google_news(body)
    assert "\n" not in str(info.value)


def test_published_dates_in_other_zones_become_utc_and_junk_becomes_none() -> None:
    body = (b'<rss version="2.0"><channel>'
            b"<item><title>A - X</title><link>https://news.google.com/rss/articles/abc</link>"
            b"<pubDate>Thu, 05 Feb 2026 17:45:00 +0100</pubDate><source url='https://x.example'>X</source></item>"
            b"<item><title>B</title><link>https://news.google.com/rss/articles/def</link><pubDate>soon</pubDate></item>"
            b"<item><title>no link</title></item></channel></rss>")
    first, second = parse_google_news(body)
    assert first["published"] == "2026-02-05T16:45:00+00:00" and first["title"] == "A"
    assert second["published"] is None and second["outlet"] is None and second["title"] == "B"


# --- Google News: the publisher's URL ---------------------------------------------
def test_publisher_url_from_description_href() -> None:
    html = ('<a href="https://www.example.es/noticia?id=1&amp;s=2" target="_blank">T</a>&nbsp;&nbsp;'
            '<font color="#6f6f6f">Outlet</font>')
    assert publisher_url(html) == "https://www.example.es/noticia?id=1&s=2"


def test_publisher_url_skips_google_links_and_returns_none_when_only_google_is_known() -> None:
    opaque = "https://news.google.com/rss/articles/CBMiakFVX3lxTGVWWnJ6alY3TENzSlFmOFRwV19PUkF3TF8xcnRLQ2dlT3dm?oc=5"
    html = f'<ol><li><a href="{opaque}">T</a></li><li><a href="https://news.google.com/stories/CAAq?oc=5">all</a></li></ol>'
    assert publisher_url(html) is None
    assert publisher_url(opaque) is None
    assert publisher_url(None) is None and publisher_url("") is None


def test_publisher_url_of_a_plain_publisher_link_is_itself() -> None:
    assert publisher_url("https://www.example.kr/news/1.html") == "https://www.example.kr/news/1.html"


def test_legacy_article_ids_carry_the_publisher_url() -> None:
    target = "https://www.example.es/2023/02/15/cumbre-reaim-la-haya.html"
    link = f"https://news.google.com/rss/articles/{legacy_id(target, amp=target.replace('.html', '/amp'))}?oc=5"
    assert link.startswith("https://news.google.com/rss/articles/CBMi")
    assert decode_google_news_link(link) == target
    assert publisher_url(link) == target
    assert publisher_url(f'<a href="{link}">T</a>') == target  # a description holding only Google's link


def test_new_style_and_malformed_ids_decode_to_none() -> None:
    for link in [
        "https://news.google.com/rss/articles/" + next(iter(_server_ids())),
        "https://news.google.com/rss/articles/@@@",
        "https://news.google.com/rss/articles/CBMi",
        "https://news.google.com/topics/CAAqJQgKIh9DQkFTRVFvSUwyMHZNRGx1YlY4U0FtVnpHZ0pGVXlnQVAB",
    ]:
        assert decode_google_news_link(link) is None


def test_google_news_links_are_recognised_on_any_host_by_path() -> None:
    assert is_google_news_link("https://news.google.com/stories/CAAq")
    assert is_google_news_link("http://127.0.0.1:8080/rss/articles/CBMiabc?oc=5")
    assert not is_google_news_link("https://www.example.es/articles/reaim.html")


def _server_ids() -> Iterator[str]:
    from servers.discovery import GOOGLE_NEWS_TARGETS

    yield from GOOGLE_NEWS_TARGETS


# --- fixtures are what the brief says ------------------------------------------
def test_fixture_shapes() -> None:
    ko = json.loads(fixture("gdelt_artlist_ko.json"))["articles"]
    assert len(ko) >= 5 and all(re.fullmatch(r"\d{8}T\d{6}Z", r["seendate"]) for r in ko)
    assert all(any(ord(c) > 0x3000 for c in r["title"]) for r in ko)
    assert len(json.loads(fixture("gdelt_artlist_cap.json"))["articles"]) == 250
    for name in ("gdelt_artlist_ko.json", "gdelt_artlist_cap.json", "google_news_es.xml", "google_news_ko.xml"):
        text = (FIXTURES / name).read_text(encoding="utf-8")
        assert "{BASE}/" in text and "127.0.0.1" not in text


# --- real HTTP against the loopback stand-ins --------------------------------------
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # never an environment proxy


def fetch(url: str) -> tuple[int, str, bytes]:
    """(status, final URL, body) with urllib, following redirects; an HTTP error status is returned, not raised."""
    try:
        with _OPENER.open(url, timeout=10) as response:
            return response.status, response.url, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, url, exc.read()


@pytest.fixture
def server() -> Iterator[DiscoveryServer]:
    with DiscoveryServer(rate_limit=False) as s:
        yield s


def collect(first: list[str]) -> tuple[list[dict[str, object]], list[str]]:
    """What the spider does: fetch each request, split full answers, keep every article; returns (articles, URLs asked)."""
    queue, asked, articles = list(first), [], []
    while queue:
        url = queue.pop(0)
        asked.append(url)
        status, _, body = fetch(url)
        assert status == 200
        if gdelt_split_needed(body):
            queue.extend(split_request(url))
        articles.extend(parse_gdelt(body))
    return articles, asked


def test_gdelt_round_trip_korean(server: DiscoveryServer) -> None:
    urls = gdelt_requests(Q, languages=["ko"], start=SEOUL[0], end=SEOUL[1], slice_hours=24,
                          base_url=server.url("/api/v2/doc/doc"))
    articles, asked = collect(urls)
    assert len(asked) == 5
    assert len(articles) == 7 and {a["language"] for a in articles} == {"ko"}
    assert all(a["url"].startswith(server.base_url + "/pub/") for a in articles)
    assert server.requests[0][1]["query"] == '("REAIM" OR "military AI") sourcelang:korean'
    status, _, page = fetch(articles[0]["url"])
    assert status == 200 and html_title(page) == articles[0]["title"] and len(page.decode()) > 400


def test_gdelt_full_answer_is_split_until_nothing_is_cut(server: DiscoveryServer) -> None:
    (url,) = gdelt_requests(Q, languages=["en"], start=FEB1, end=FEB7, slice_hours=144,
                            base_url=server.url("/api/v2/doc/doc"))
    status, _, body = fetch(url)
    wide = parse_gdelt(body)
    assert status == 200 and len(wide) == 250 and gdelt_split_needed(body)
    # what the wide window returns is the cap fixture: the 60 older records were cut
    assert [a["url"] for a in wide] == [a["url"] for a in parse_gdelt(fixture_text("gdelt_artlist_cap.json", server.base_url).encode())]
    articles, asked = collect([url])
    assert len(asked) == 3  # the wide window, then its two halves, neither of them full
    halves = articles[len(wide):]
    assert len(halves) == len({a["url"] for a in halves}) == 250 + EXTRA_ENGLISH  # none lost, none twice


def test_daily_slices_stay_under_the_cap(server: DiscoveryServer) -> None:
    urls = gdelt_requests(Q, languages=["en", "nl"], start=FEB1, end=FEB7, slice_hours=24,
                          base_url=server.url("/api/v2/doc/doc"))
    articles, asked = collect(urls)
    assert len(asked) == len(urls) == 12  # no slice needed splitting; Dutch answers {}
    assert len({a["url"] for a in articles}) == 250 + EXTRA_ENGLISH


def test_gdelt_rate_limit_over_real_http() -> None:
    with DiscoveryServer(rate_limit=True, min_interval=5.0) as limited:
        url = gdelt_request(Q, language="ko", start=SEOUL[0], end=SEOUL[1], base_url=limited.url("/api/v2/doc/doc"))
        assert len(parse_gdelt(fetch(url)[2])) == 7
        status, _, body = fetch(url)  # at once: too soon
        assert status == 200
        with pytest.raises(DiscoveryError) as info:
            parse_gdelt(body)
        assert info.value.retryable
    with DiscoveryServer(rate_limit=True, rate_limit_status=429) as limited:
        url = gdelt_request(Q, language="ko", start=SEOUL[0], end=SEOUL[1], base_url=limited.url("/api/v2/doc/doc"))
        fetch(url)
        status, _, body = fetch(url)
        assert status == 429
        with pytest.raises(DiscoveryError, match="rate limit"):
            parse_gdelt(body)


def test_google_news_round_trip_reaches_every_publisher_page(server: DiscoveryServer) -> None:
    for hl, gl, ceid, count in [("es", "ES", "ES:es", 6), ("ko", "KR", "KR:ko", 5)]:
        url = google_news_url('REAIM OR "IA militar"', hl=hl, gl=gl, ceid=ceid, when="7d",
                              base_url=server.url("/rss/search"))
        status, _, body = fetch(url)
        items = parse_google_news(body)
        assert status == 200 and len(items) == count
        for item in items:
            status, final, page = fetch(item["publisher_url"] or item["link"])  # the spider's choice
            assert status == 200 and urlsplit(final).path.startswith("/pub/"), final
            assert html_title(page) == item["title"]
    assert server.requests[0] == ("/rss/search", {"q": 'REAIM OR "IA militar" when:7d', "hl": "es", "gl": "ES",
                                                   "ceid": "ES:es"})


def test_google_news_interstitial_is_not_the_article() -> None:
    with DiscoveryServer(rate_limit=False, google_links="interstitial") as s:
        items = parse_google_news(fetch(s.url("/rss/search?q=REAIM&hl=es&gl=ES&ceid=ES:es"))[2])
        item = next(i for i in items if i["publisher_url"] is None)
        status, final, page = fetch(item["link"])
        assert status == 200 and "/rss/articles/" in final
        assert b"data-n-a-id" in page and item["title"].encode() not in page


def test_unknown_edition_answers_an_empty_feed_and_unknown_paths_404(server: DiscoveryServer) -> None:
    assert parse_google_news(fetch(server.url("/rss/search?q=REAIM&hl=fr&gl=FR&ceid=FR:fr"))[2]) == []
    assert fetch(server.url("/pub/nowhere.example/1.html"))[0] == 404
    assert fetch(server.url("/rss/articles/CBMinope"))[0] == 404
    assert fetch(server.url("/elsewhere"))[0] == 404


def test_absolute_form_request_gets_urls_on_that_origin(server: DiscoveryServer) -> None:
    url = gdelt_request(Q, language="ko", start=SEOUL[0], end=SEOUL[1], base_url="http://reaim-discovery.test/api/v2/doc/doc")
    conn = http.client.HTTPConnection("127.0.0.1", int(server.base_url.rsplit(":", 1)[1]), timeout=10)
    try:
        conn.request("GET", url)
        body = conn.getresponse().read()
    finally:
        conn.close()
    assert {urlsplit(a["url"]).netloc for a in parse_gdelt(body)} == {"reaim-discovery.test"}


def html_title(page: bytes) -> str:
    from html import unescape

    match = re.search(rb"<h1>(.*?)</h1>", page)
    assert match
    return unescape(match[1].decode())

"""Discovery services: article lists from the GDELT DOC 2.0 API and Google News RSS search.

Pure functions (parameters in, URLs out; bytes in, plain dicts out) with no
Scrapy import, so that they are tested on their own and the spider only wires
requests and callbacks to them.

GDELT DOC 2.0 (``mode=ArtList``) answers at most 250 articles per request,
newest first, and says nothing when it stopped at that cap. So requests are
made per language and per time slice, and a slice that comes back full is
split in halves and asked again (``gdelt_split_needed`` / ``split_request``).
Its failures arrive as HTTP 200 (or 429) with a one-line English message
instead of JSON, and its JSON sometimes holds raw control characters or bad
backslash escapes copied from page titles: ``parse_gdelt`` repairs what it can
and raises ``DiscoveryError`` with a one-line reason for the rest.

Google News RSS search gives about 100 items per query and edition; its item
links point to news.google.com, not to the publisher (see ``publisher_url``).
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from datetime import UTC, date, datetime, timedelta
from email.utils import parsedate_to_datetime
from html import unescape
from html.parser import HTMLParser
from typing import Any
from urllib.parse import parse_qsl, quote, urlencode, urlsplit, urlunsplit
from xml.etree import ElementTree

GDELT_DOC_URL = "https://api.gdeltproject.org/api/v2/doc/doc"
GOOGLE_NEWS_SEARCH_URL = "https://news.google.com/rss/search"

GDELT_MAX_RECORDS = 250  # the API's hard cap per request (its default is 75)
# GDELT stamps articles in 15-minute batches (seendate ends in :00, :15, :30 or
# :45), so a window holding one batch stamp cannot be split any further.
GDELT_BATCH = timedelta(minutes=15)
_SECOND = timedelta(seconds=1)

# ISO 639-1 -> the language name GDELT uses in ``sourcelang:`` and in its output.
GDELT_LANGUAGES: dict[str, str] = {
    "en": "English", "ko": "Korean", "es": "Spanish", "nl": "Dutch", "fr": "French", "de": "German",
    "zh": "Chinese", "ja": "Japanese", "ru": "Russian",
    # not tracked today, but named in output that the parser should still map
    "pt": "Portuguese", "it": "Italian", "ar": "Arabic", "uk": "Ukrainian", "pl": "Polish", "tr": "Turkish",
}
_GDELT_CODES = {name.lower(): code for code, name in GDELT_LANGUAGES.items()}

_GOOGLE_NEWS_HOST = "news.google.com"
# Path of a Google News article link (RSS items use /rss/articles/, the web app /articles/ and /read/).
_GOOGLE_ARTICLE_PATH = re.compile(r"^/(?:rss/)?(?:articles|read)/(?P<id>[A-Za-z0-9_-]+)")
_WHEN = re.compile(r"^\d+[hd]$")


class DiscoveryError(ValueError):
    """A discovery service answered with something other than results.

    ``str(exc)`` is one line naming the service and the reason; ``retryable``
    is True when asking again later may work (rate limit, temporary outage).
    """

    def __init__(self, reason: str, *, retryable: bool = False) -> None:
        super().__init__(_one_line(reason))
        self.retryable = retryable


_CONTROL = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f]")


def _one_line(text: str, limit: int = 200) -> str:
    text = re.sub(r"\s+", " ", _CONTROL.sub("", text)).strip()
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _utc(dt: datetime) -> datetime:
    """Aware UTC to the second; a naive value is taken to be UTC already (as the archive stores it)."""
    dt = dt.replace(tzinfo=UTC) if dt.tzinfo is None else dt.astimezone(UTC)
    return dt.replace(microsecond=0)


def _iso(dt: datetime) -> str:
    return dt.astimezone(UTC).isoformat(timespec="seconds")


# --- GDELT DOC 2.0: requests -------------------------------------------------
def gdelt_language(code_or_name: str) -> str:
    """GDELT's name for a language given as an ISO 639-1 code (``ko``) or as a GDELT name (``Korean``)."""
    key = code_or_name.strip()
    if key.lower() in GDELT_LANGUAGES:
        return GDELT_LANGUAGES[key.lower()]
    if key.lower() in _GDELT_CODES:
        return GDELT_LANGUAGES[_GDELT_CODES[key.lower()]]
    raise ValueError(f"no GDELT language for {code_or_name!r}; known: {', '.join(GDELT_LANGUAGES)}")


def _gdelt_query(query: str, language: str) -> str:
    query = query.strip()
    if not query:
        raise ValueError("empty GDELT query")
    # GDELT rejects OR'd terms that are not inside parentheses.
    if re.search(r"\bOR\b", query) and "(" not in query:
        query = f"({query})"
    return f"{query} sourcelang:{gdelt_language(language).lower()}"


def gdelt_request(
    query: str, *, language: str, start: datetime, end: datetime, base_url: str = GDELT_DOC_URL
) -> str:
    """One ArtList URL for ``query`` in one source language over [start, end], both included as GDELT reads them."""
    start, end = _utc(start), _utc(end)
    if end < start:
        raise ValueError(f"GDELT window ends before it starts: {start} > {end}")
    params = {
        "query": _gdelt_query(query, language),
        "mode": "ArtList",
        "format": "json",
        "maxrecords": str(GDELT_MAX_RECORDS),
        "sort": "DateDesc",
        "startdatetime": start.strftime("%Y%m%d%H%M%S"),
        "enddatetime": end.strftime("%Y%m%d%H%M%S"),
    }
    return f"{base_url}?{urlencode(params, quote_via=quote, safe='')}"


def gdelt_requests(
    query: str,
    *,
    languages: list[str],
    start: datetime,
    end: datetime,
    slice_hours: int,
    base_url: str = GDELT_DOC_URL,
) -> list[str]:
    """ArtList URLs for ``query``: one per language per time slice, so that no single answer hits the cap.

    The slices cover [start, end), ``end`` excluded (pass midnights to get
    whole days). GDELT's own window includes both of its ends, so each slice
    ends one second before the next starts: no gap and no overlap. The last
    slice is cut short at ``end``. Languages are ISO 639-1 codes or GDELT
    names; naive datetimes are UTC. A slice that still comes back full is
    split with ``split_request``.

    GDELT documents its DOC API as covering the last three months; older
    windows may answer, but not reliably.
    """
    if slice_hours <= 0:
        raise ValueError(f"slice_hours must be positive, not {slice_hours}")
    if not languages:
        raise ValueError("no languages given")
    start, end = _utc(start), _utc(end)
    if end <= start:
        raise ValueError(f"GDELT window is empty: {start} to {end}")
    step = timedelta(hours=slice_hours)
    windows: list[tuple[datetime, datetime]] = []
    cursor = start
    while cursor < end:
        windows.append((cursor, min(cursor + step, end) - _SECOND))
        cursor += step
    return [
        gdelt_request(query, language=lang, start=a, end=b, base_url=base_url)
        for lang in languages
        for a, b in windows
    ]


def gdelt_window(url: str) -> tuple[datetime, datetime]:
    """The (start, end) a GDELT request URL asks for, as aware UTC datetimes."""
    params = {k.lower(): v for k, v in parse_qsl(urlsplit(url).query)}
    try:
        start, end = (datetime.strptime(params[k], "%Y%m%d%H%M%S") for k in ("startdatetime", "enddatetime"))
    except (KeyError, ValueError):
        raise ValueError(f"not a GDELT request with a start and end: {url}") from None
    return start.replace(tzinfo=UTC), end.replace(tzinfo=UTC)


def split_window(start: datetime, end: datetime) -> tuple[tuple[datetime, datetime], tuple[datetime, datetime]]:
    """Halves of the inclusive window [start, end]: (start, mid - 1 s) and (mid, end).

    ``mid`` is a 15-minute batch stamp near the middle, so that each half
    holds at least one batch. Raises ValueError when the window holds fewer
    than two batch stamps: all its articles share one seendate and no split
    can return more of them (the caller keeps the 250 it got and counts it).
    """
    start, end = _utc(start), _utc(end)
    epoch = datetime(1970, 1, 1, tzinfo=UTC)
    first = epoch + -((epoch - start) // GDELT_BATCH) * GDELT_BATCH  # first stamp >= start
    last = epoch + ((end - epoch) // GDELT_BATCH) * GDELT_BATCH  # last stamp <= end
    stamps = (last - first) // GDELT_BATCH + 1 if last >= first else 0
    if stamps < 2:
        raise ValueError(f"GDELT window {start:%Y-%m-%d %H:%M:%S} to {end:%Y-%m-%d %H:%M:%S} holds one 15-minute batch at most")
    mid = first + (stamps // 2) * GDELT_BATCH
    return (start, mid - _SECOND), (mid, end)


def split_request(url: str) -> tuple[str, str]:
    """The two requests that replace a GDELT request whose answer was full (same query, halved window)."""
    parts = urlsplit(url)
    params = parse_qsl(parts.query, keep_blank_values=True)
    halves = split_window(*gdelt_window(url))
    urls = []
    for a, b in halves:
        new = {"startdatetime": a.strftime("%Y%m%d%H%M%S"), "enddatetime": b.strftime("%Y%m%d%H%M%S")}
        query = urlencode([(k, new.get(k.lower(), v)) for k, v in params], quote_via=quote, safe="")
        urls.append(urlunsplit(parts._replace(query=query)))
    return urls[0], urls[1]


# --- GDELT DOC 2.0: answers --------------------------------------------------
# A JSON escape, valid (group 1) or not: GDELT copies backslashes from titles raw.
_ESCAPE = re.compile(r'\\(["\\/bfnrt]|u[0-9a-fA-F]{4})?')


def _gdelt_json(body: bytes) -> Any:
    """The decoded JSON of a GDELT answer, or DiscoveryError with GDELT's own message as the reason."""
    text = body.decode("utf-8", errors="replace").lstrip("\ufeff").strip()
    if not text:
        return {}
    if text[0] not in "{[":
        message = _one_line(unescape(re.sub(r"<[^>]+>", " ", text)))
        if "limit requests" in message.lower() or "too many requests" in message.lower():
            raise DiscoveryError(f"GDELT rate limit: {message}", retryable=True)
        raise DiscoveryError(f"GDELT error: {message}")
    try:
        # strict=False admits raw control characters inside strings.
        return json.loads(text, strict=False)
    except json.JSONDecodeError:
        pass
    try:
        repaired = _ESCAPE.sub(lambda m: m[0] if m[1] else "\\\\", text)  # a stray backslash becomes a literal one
        return json.loads(repaired, strict=False)
    except json.JSONDecodeError as exc:
        raise DiscoveryError(f"GDELT answer is not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}") from None


def _gdelt_articles(body: bytes) -> list[Any]:
    data = _gdelt_json(body)
    if data == {} or data == []:
        return []  # GDELT's "no results"
    if not isinstance(data, dict) or not isinstance(data.get("articles"), list):
        what = f"keys {', '.join(sorted(data))}" if isinstance(data, dict) else type(data).__name__
        raise DiscoveryError(f"GDELT answer has no article list ({what}); not mode=ArtList&format=json?")
    return data["articles"]


def gdelt_seendate(raw: str | None) -> str | None:
    """GDELT's ``20240910T123000Z`` as ISO 8601 UTC (``2024-09-10T12:30:00+00:00``); None if unreadable."""
    if not raw:
        return None
    try:
        return _iso(datetime.strptime(raw.strip(), "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC))
    except ValueError:
        return None


def parse_gdelt(body: bytes) -> list[dict[str, Any]]:
    """Articles of a GDELT ArtList JSON answer: url, title, seendate (ISO UTC), domain, language (ISO), sourcecountry.

    [] for GDELT's empty answers (empty body, ``{}``). ``seendate`` is when
    GDELT first saw the URL, not the publication time. ``language`` is None
    for a language GDELT names that is not in ``GDELT_LANGUAGES``.
    Duplicates are kept: the spider's dupefilter drops them, and the count
    stays comparable with the cap (``gdelt_split_needed``).
    """
    articles = []
    for record in _gdelt_articles(body):
        if not isinstance(record, dict) or not isinstance(record.get("url"), str) or not record["url"].strip():
            continue
        language = record.get("language")
        articles.append({
            "url": record["url"].strip(),
            "title": _one_line(record.get("title") or "", 500) or None,
            "seendate": gdelt_seendate(record.get("seendate")),
            "domain": record.get("domain") or None,
            "language": _GDELT_CODES.get(language.strip().lower()) if isinstance(language, str) else None,
            "sourcecountry": record.get("sourcecountry") or None,
        })
    return articles


def gdelt_split_needed(payload: bytes | list[Any], *, cap: int = GDELT_MAX_RECORDS) -> bool:
    """True when an answer holds ``cap`` (250) records: GDELT stopped there, so more may exist in that window.

    ``payload`` is the raw body or the list from ``parse_gdelt``; records are
    counted as GDELT sent them. The caller then asks ``split_request(url)``,
    which raises ValueError once the window cannot be split further.
    """
    records = _gdelt_articles(payload) if isinstance(payload, bytes | bytearray) else payload
    return len(records) >= cap


# --- Google News RSS search --------------------------------------------------
def google_news_url(
    query: str,
    *,
    hl: str,
    gl: str,
    ceid: str,
    when: str | None = None,
    after: date | None = None,
    before: date | None = None,
    base_url: str = GOOGLE_NEWS_SEARCH_URL,
) -> str:
    """A Google News RSS search URL for one language edition (``hl=es&gl=ES&ceid=ES:es``).

    ``when`` (``7d``, ``12h``) keeps recent items only; ``after``/``before``
    (dates) bound an older period. Google answers about 100 items per
    query, so a past summit is best searched in slices of days, as for GDELT.
    """
    if not query.strip():
        raise ValueError("empty Google News query")
    terms = [query.strip()]
    if when is not None:
        if not _WHEN.match(when):
            raise ValueError(f"when must look like '7d' or '12h', not {when!r}")
        terms.append(f"when:{when}")
    if after is not None:
        terms.append(f"after:{after.isoformat()}")
    if before is not None:
        terms.append(f"before:{before.isoformat()}")
    return f"{base_url}?{urlencode({'q': ' '.join(terms), 'hl': hl, 'gl': gl, 'ceid': ceid})}"


class _Hrefs(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.hrefs: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "a":
            self.hrefs.extend(v.strip() for k, v in attrs if k == "href" and v and v.strip())


def is_google_news_link(url: str) -> bool:
    """True for a link to news.google.com, or to the feed's ``/rss/articles/<id>`` path on any host (a test stand-in)."""
    parts = urlsplit(url)
    return parts.hostname == _GOOGLE_NEWS_HOST or parts.path.startswith("/rss/articles/")


def _varint(data: bytes, pos: int) -> tuple[int, int]:
    value = shift = 0
    while pos < len(data):
        byte = data[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return value, pos
        shift += 7
    raise ValueError("truncated varint")


def decode_google_news_link(url: str) -> str | None:
    """The publisher URL inside a Google News article id, for the ids that carry it; else None.

    Ids made before mid-2024 (``CBMi…``) are base64 of a small protobuf
    whose first string field is the publisher's URL. Later ids hold an
    opaque token (``AU_yqL…``) that only Google's own web app can resolve.
    """
    match = _GOOGLE_ARTICLE_PATH.match(urlsplit(url).path)
    if not match or not is_google_news_link(url):
        return None
    token = match["id"]
    try:
        data = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
    except (binascii.Error, ValueError):
        return None
    pos = 0
    try:
        while pos < len(data):
            key, pos = _varint(data, pos)
            wire = key & 7
            if wire == 0:
                _, pos = _varint(data, pos)
            elif wire == 2:
                length, pos = _varint(data, pos)
                value = data[pos : pos + length]
                pos += length
                if value.startswith((b"http://", b"https://")):
                    text = value.decode("utf-8", errors="strict")
                    return text if not re.search(r"\s", text) else None
            else:
                return None
    except (ValueError, UnicodeDecodeError):
        return None
    return None


def publisher_url(item_link_html_or_description: str | None) -> str | None:
    """Best effort at the publisher's own URL for a Google News item, from its description or link.

    1. The first ``<a href>`` in the description (HTML) that is not a Google
       News link: older feeds and some editions link the publisher there.
    2. A legacy article id that carries the URL (``decode_google_news_link``).
    3. Otherwise None: the spider then requests the news.google.com link and
       lets it redirect. Note that since mid-2024 Google answers such links
       with a 200 page that redirects by JavaScript, not with an HTTP 3xx,
       so that request may yield Google's page rather than the article.
    A plain URL that is not a Google News link is returned as it is.
    """
    if not item_link_html_or_description:
        return None
    text = item_link_html_or_description.strip()
    if "<" in text:
        parser = _Hrefs()
        parser.feed(text)
        parser.close()
        candidates = parser.hrefs
    else:
        candidates = [unescape(text)]
    for href in candidates:
        if urlsplit(href).scheme in ("http", "https") and not is_google_news_link(href):
            return href
    for href in candidates:
        if is_google_news_link(href) and (decoded := decode_google_news_link(href)):
            return decoded
    return None


def _rfc822_utc(raw: str | None) -> str | None:
    if not raw or not raw.strip():
        return None
    try:
        dt = parsedate_to_datetime(raw.strip())
    except (TypeError, ValueError, IndexError):
        return None
    return _iso(_utc(dt))


def _strip_outlet(title: str, outlet: str | None) -> str:
    """Google appends " - Outlet" to every title; cut it only when it is exactly the outlet's name."""
    if outlet and title.endswith(f" - {outlet}"):
        return title[: -len(outlet) - 3].rstrip()
    return title


def parse_google_news(body: bytes) -> list[dict[str, Any]]:
    """Items of a Google News RSS answer: link, title, outlet, outlet_url, published (ISO UTC), publisher_url.

    ``link`` is the news.google.com article link; ``publisher_url`` is
    ``publisher_url(description)`` (None when only Google's link is known);
    ``outlet_url`` is the outlet's home page from ``<source url>``, metadata
    only. [] for a feed without items; DiscoveryError for anything that is
    not RSS (an empty body, Google's consent or "unusual traffic" page).
    """
    if not body.strip():
        raise DiscoveryError("Google News answer is empty")
    try:
        root = ElementTree.fromstring(body)
    except ElementTree.ParseError as exc:
        head = _one_line(re.sub(r"<[^>]+>", " ", body[:300].decode("utf-8", errors="replace")), 80)
        raise DiscoveryError(f"Google News answer is not RSS ({exc}): {head}") from None
    if root.tag != "rss" or root.find("channel") is None:
        raise DiscoveryError(f"Google News answer is not RSS: root element <{root.tag}>")
    items = []
    for item in root.iterfind("channel/item"):
        link = (item.findtext("link") or "").strip()
        if not link:
            continue
        source = item.find("source")
        outlet = (_one_line(source.text or "") or None) if source is not None else None
        outlet_url = ((source.get("url") or "").strip() or None) if source is not None else None
        title = _strip_outlet(_one_line(item.findtext("title") or "", 500), outlet)
        description = item.findtext("description") or ""
        items.append({
            "link": link,
            "title": title or None,
            "outlet": outlet,
            "outlet_url": outlet_url,
            "published": _rfc822_utc(item.findtext("pubDate")),
            "publisher_url": publisher_url(description) or publisher_url(link),
        })
    return items

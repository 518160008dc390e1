"""Publication dates: parse what outlets print, place it in a time zone, store UTC.

htmldate finds *which* date a page carries (in many languages), but returns a
calendar day only. Outlets' own fields (JSON-LD, meta, feeds) carry a time and
often a zone; Korean, Chinese and Japanese pages often print the time only in
the text ("2024년 9월 9일 오후 3:12", "2024年9月10日 21時05分"), which no
library here parses, so those patterns are ours.
"""

from __future__ import annotations

import email.utils
import re
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from dateutil import parser as dateutil_parser

# Before this, no online outlet we track published; after now + slack, a clock or CMS is wrong.
EARLIEST = datetime(1995, 1, 1, tzinfo=UTC)
FUTURE_SLACK = timedelta(days=1)
# A date with no time is placed at local noon, so that the calendar day
# survives conversion to UTC in every zone from UTC-11 to UTC+12.
DATE_ONLY_TIME = time(12, 0)

_CJK = re.compile(
    r"(?P<y>(?:19|20)\d{2})\s*[년年.\-/]\s*(?P<m>\d{1,2})\s*[월月.\-/]\s*(?P<d>\d{1,2})\s*[일日]?"
    r"(?:\s*[(（][^)）]{1,3}[)）])?"  # weekday: (월), （火）
    r"(?:\s*(?P<ampm>오전|오후|午前|午後|上午|下午|AM|PM|am|pm)?\s*(?P<H>\d{1,2})\s*(?:[:時时시点]\s*(?P<M>\d{2}))?)?"
)


@dataclass(frozen=True)
class ParsedDate:
    value: datetime  # aware
    assumed_zone: bool  # the raw value had no zone; the source's was applied
    date_only: bool


def zone(name: str | None) -> ZoneInfo | None:
    if not name:
        return None
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None


def _place(dt: datetime, tz_name: str | None, *, date_only: bool = False) -> ParsedDate:
    if dt.tzinfo is not None:
        return ParsedDate(dt, False, date_only)
    tz = zone(tz_name) or UTC
    return ParsedDate(dt.replace(tzinfo=tz), True, date_only)


def parse_date(raw: str | None, tz_name: str | None = None) -> ParsedDate | None:
    """Parse one date string as outlets write it; None when it is not a date.

    A value without a zone takes ``tz_name`` (the source's zone; UTC when
    unknown) and says so, so that the archive can tell measured from assumed.
    """
    if not raw or not (raw := raw.strip()):
        return None
    # ISO 8601 (the common case): fromisoformat takes "Z" and offsets in 3.11.
    try:
        dt = datetime.fromisoformat(raw.replace(" ", "T", 1) if re.match(r"\d{4}-\d\d-\d\d \d", raw) else raw)
        if len(raw) <= 10:
            return _place(datetime.combine(dt.date(), DATE_ONLY_TIME), tz_name, date_only=True)
        return _place(dt, tz_name)
    except ValueError:
        pass
    # RFC 822 (RSS pubDate).
    if re.match(r"^(?:[A-Za-z]{3},\s*)?\d{1,2}\s+[A-Za-z]{3}\s+\d{4}", raw):
        try:
            dt = email.utils.parsedate_to_datetime(raw)
            if dt.tzinfo is not None and raw.rstrip().endswith("-0000"):
                dt = dt.replace(tzinfo=None)  # RFC 5322: -0000 means "zone unknown"
            return _place(dt, tz_name)
        except (TypeError, ValueError):
            pass
    m = _CJK.search(raw)
    if m:
        return _from_cjk(m, tz_name)
    try:
        default = datetime(2000, 1, 1)
        dt = dateutil_parser.parse(raw, default=default, fuzzy=False)
        has_time = bool(re.search(r"\d{1,2}:\d{2}", raw))
        if not has_time:
            dt = datetime.combine(dt.date(), DATE_ONLY_TIME, dt.tzinfo)
        return _place(dt, tz_name, date_only=not has_time)
    except (ValueError, OverflowError):
        return None


def _from_cjk(m: re.Match[str], tz_name: str | None) -> ParsedDate | None:
    try:
        day = datetime(int(m["y"]), int(m["m"]), int(m["d"]))
    except ValueError:
        return None
    if m["H"] is None:
        return _place(datetime.combine(day.date(), DATE_ONLY_TIME), tz_name, date_only=True)
    hour, minute = int(m["H"]), int(m["M"] or 0)
    if m["ampm"] in ("오후", "午後", "下午", "PM", "pm") and hour < 12:
        hour += 12
    elif m["ampm"] in ("오전", "午前", "上午", "AM", "am") and hour == 12:
        hour = 0
    if hour > 23 or minute > 59:
        return _place(datetime.combine(day.date(), DATE_ONLY_TIME), tz_name, date_only=True)
    return _place(day.replace(hour=hour, minute=minute), tz_name)


def find_text_datetime(text: str, tz_name: str | None) -> tuple[str, ParsedDate] | None:
    """The first CJK-style date *with a time* in visible text, and its raw form."""
    for m in _CJK.finditer(text):
        if m["H"] is not None and (m["M"] is not None or m["ampm"]):
            parsed = _from_cjk(m, tz_name)
            if parsed is not None and not parsed.date_only:
                return m.group(0).strip(), parsed
    return None


def plausible(value: datetime, *, earliest: datetime = EARLIEST, now: datetime | None = None) -> bool:
    """Not in the future (beyond clock slack), not before the outlet could exist."""
    now = now or datetime.now(UTC)
    return earliest <= value <= now + FUTURE_SLACK


def to_utc_iso(value: datetime) -> str:
    return value.astimezone(UTC).isoformat(timespec="seconds")

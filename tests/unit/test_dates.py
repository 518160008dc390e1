"""Dates as outlets print them → aware datetimes → UTC, saying when the zone was assumed."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from crawler.dates import find_text_datetime, parse_date, plausible, to_utc_iso


@pytest.mark.parametrize(
    ("raw", "zone", "utc", "assumed"),
    [
        ("2024-09-09T09:00:00+09:00", None, "2024-09-09T00:00:00+00:00", False),
        ("2024-09-09T00:00:00Z", None, "2024-09-09T00:00:00+00:00", False),
        ("Mon, 09 Sep 2024 15:12:00 +0900", None, "2024-09-09T06:12:00+00:00", False),
        ("Mon, 09 Sep 2024 15:12:00 GMT", None, "2024-09-09T15:12:00+00:00", False),
        ("2026-02-04 13:45", "Europe/Madrid", "2026-02-04T12:45:00+00:00", True),
        ("2024년 9월 9일 오후 3:12", "Asia/Seoul", "2024-09-09T06:12:00+00:00", True),
        ("2024年9月10日 21時05分", "Asia/Tokyo", "2024-09-10T12:05:00+00:00", True),
        ("2024年9月10日 20:15", "Asia/Singapore", "2024-09-10T12:15:00+00:00", True),
        ("2024.09.10 17:25", "Asia/Seoul", "2024-09-10T08:25:00+00:00", True),
        # A day with no time sits at local noon, so the calendar day survives the move to UTC.
        ("2024-09-11", "Asia/Seoul", "2024-09-11T03:00:00+00:00", True),
        ("2024-09-11", "Pacific/Auckland", "2024-09-11T00:00:00+00:00", True),
    ],
)
def test_parse_date(raw: str, zone: str | None, utc: str, assumed: bool) -> None:
    parsed = parse_date(raw, zone)
    assert parsed is not None
    assert to_utc_iso(parsed.value) == utc
    assert parsed.assumed_zone is assumed


def test_not_a_date() -> None:
    assert parse_date("yesterday-ish", "UTC") is None
    assert parse_date("", "UTC") is None


def test_time_in_text_only_when_a_time_is_printed() -> None:
    found = find_text_datetime("기사입력 : 2024-09-10 17:25 | 정하늘 기자", "Asia/Seoul")
    assert found is not None and to_utc_iso(found[1].value) == "2024-09-10T08:25:00+00:00"
    assert find_text_datetime("등록일 2024.09.11 | 한울일보", "Asia/Seoul") is None


def test_future_and_prehistoric_dates_are_implausible() -> None:
    now = datetime(2026, 11, 30, tzinfo=UTC)
    assert plausible(datetime(2024, 9, 9, tzinfo=UTC), now=now)
    assert not plausible(datetime(2031, 1, 1, tzinfo=UTC), now=now)
    assert not plausible(datetime(1970, 1, 1, tzinfo=UTC), now=now)

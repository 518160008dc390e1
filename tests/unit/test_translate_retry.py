"""Retries, back-off, Retry-After, quota and bad keys: real HTTP through
deep-translator's real client against the loopback LibreTranslate."""

from __future__ import annotations

import time
from email.utils import formatdate

import pytest

import pipeline.translate as tr
from crawler.items import Article
from pipeline.translate import (
    CircuitBreaker,
    DeepTranslator,
    MemoryCache,
    parse_retry_after,
    translate_article,
)
from servers.libre import LibreServer

KO = Article(url="https://x.example/1", title="서울 REAIM 회의", text="인공지능의 군사적 이용. 인간의 통제가 필요하다.", language="ko")


def client(server: LibreServer, **kwargs: float) -> DeepTranslator:
    options = {"timeout": 5.0, "retries": 3, "backoff": 0.01, "backoff_cap": 5.0, **kwargs}
    return DeepTranslator("libre", url=server.url, api_key=server.api_key, **options)  # type: ignore[arg-type]


def statuses(server: LibreServer) -> list[int]:
    return [status for _, status in server.log]


def test_a_5xx_burst_is_retried_and_then_served() -> None:
    with LibreServer(mode="burst", failures=2, retry_after=None) as server:
        translator = client(server)
        out = translate_article(KO, translator, MemoryCache())
    assert out.status == "done" and out.title == "[en] 서울 REAIM 회의"
    assert statuses(server) == [500, 503, 200, 200]  # title: two failures then served; text: served
    assert translator.retries_made == 2
    assert out.chars_sent == len(KO.title or "") + len(KO.text or "")  # failed attempts cost no budget


def test_a_burst_longer_than_the_retries_leaves_pending_and_counts_once_for_the_breaker() -> None:
    breaker = CircuitBreaker(threshold=2, cooldown=60)
    with LibreServer(mode="burst", failures=100, retry_after=None) as server:
        out = translate_article(KO, client(server, retries=2), MemoryCache(), breaker=breaker)
    assert out.status == "pending" and "server error (HTTP 5" in (out.error or "")
    assert len(server.requests) == 3  # 1 + 2 retries of the title; the text was never tried
    assert breaker.failures == 1 and breaker.allow()


def test_429_retry_after_in_seconds_is_honoured_and_the_request_then_served() -> None:
    with LibreServer(mode="429", failures=1, retry_after="1") as server:
        start = time.monotonic()
        out = translate_article(KO, client(server), MemoryCache())
        elapsed = time.monotonic() - start
    assert out.status == "done"
    assert statuses(server)[:2] == [429, 200]
    (first, _), (second, _) = server.log[:2]
    assert second - first >= 1.0 and elapsed >= 1.0


def test_429_retry_after_as_an_http_date_is_honoured() -> None:
    with LibreServer(mode="429", failures=1, retry_after="date:0.5") as server:
        out = translate_article(KO, client(server), MemoryCache())
    assert out.status == "done"
    assert statuses(server)[:2] == [429, 200]
    (first, _), (second, _) = server.log[:2]
    assert server.promised[0] >= 0.5  # an HTTP-date has whole seconds: rounded up, never earlier than asked
    assert second - first >= server.promised[0] - 0.01


def test_retry_after_beyond_the_wait_bound_gives_up_at_once_and_opens_the_breaker() -> None:
    breaker = CircuitBreaker(threshold=3, cooldown=0)
    with LibreServer(mode="429", retry_after="60") as server:
        start = time.monotonic()
        out = translate_article(KO, client(server, backoff_cap=5), MemoryCache(), breaker=breaker)
        assert time.monotonic() - start < 2
        assert len(server.requests) == 1
    assert out.status == "pending" and "Retry-After 60s" in (out.error or "")
    assert not breaker.allow()  # open for the 60 s the server asked for, not the 0 s cooldown


def test_quota_stops_the_retries_at_once_and_opens_the_breaker() -> None:
    breaker = CircuitBreaker(threshold=3, cooldown=60)
    with LibreServer(mode="quota") as server:
        translator = client(server)
        out = translate_article(KO, translator, MemoryCache(), breaker=breaker)
        again = translate_article(KO, translator, MemoryCache(), breaker=breaker)
        assert len(server.requests) == 1
    assert out.status == "pending" and "quota exhausted (HTTP 403)" in (out.error or "")
    assert "circuit open after: quota exhausted" in (again.error or "") and translator.retries_made == 0


def test_a_bad_key_is_never_retried() -> None:
    breaker = CircuitBreaker(threshold=3, cooldown=60)
    with LibreServer(api_key="the-right-key") as server:
        translator = DeepTranslator("libre", url=server.url, api_key="a-wrong-key", retries=5, backoff=0.01)
        out = translate_article(KO, translator, MemoryCache(), breaker=breaker)
        assert len(server.requests) == 1
    assert out.status == "pending" and "refused (HTTP 403)" in (out.error or "")
    assert translator.retries_made == 0 and not breaker.allow()


def test_timeouts_are_retried_within_the_deadline() -> None:
    with LibreServer(mode="hang") as server:
        start = time.monotonic()
        out = translate_article(KO, client(server, timeout=0.3, retries=1), MemoryCache())
        elapsed = time.monotonic() - start
        assert len(server.requests) == 2
    assert out.status == "pending" and "timed out after 0.3s" in (out.error or "")
    assert elapsed < 3


def test_connection_errors_are_retried() -> None:
    with LibreServer() as server:
        translator = client(server, retries=2)
    out = translate_article(KO, translator, MemoryCache())
    assert out.status == "pending" and "unreachable: ConnectionError" in (out.error or "")
    assert translator.retries_made == 2


def test_backoff_grows_exponentially_with_jitter_and_the_total_wait_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    slept: list[float] = []
    real_sleep = time.sleep
    monkeypatch.setattr(tr.time, "sleep", lambda s: (slept.append(s), real_sleep(0)))
    with LibreServer(mode="500") as server:
        translate_article(KO, client(server, retries=3, backoff=0.5, backoff_cap=30), MemoryCache())
        assert len(server.requests) == 4
    assert [round(s, 3) for s in slept] == sorted(round(s, 3) for s in slept)
    for s, nominal in zip(slept, (0.5, 1.0, 2.0), strict=True):
        assert nominal / 2 <= s <= nominal
    slept.clear()
    with LibreServer(mode="500") as server:
        translate_article(KO, client(server, retries=20, backoff=0.5, backoff_cap=2.0), MemoryCache())
    assert sum(slept) <= 2.0 + 1e-9 and len(slept) < 20


def test_garbage_is_not_retried() -> None:
    with LibreServer(mode="garbage") as server:
        out = translate_article(KO, client(server), MemoryCache())
        assert len(server.requests) == 1
    assert out.status == "pending" and "bad response" in (out.error or "")


def test_parse_retry_after_both_forms() -> None:
    now = 1_700_000_000.0
    assert parse_retry_after("3") == 3.0 and parse_retry_after(" 1.5 ") == 1.5
    assert parse_retry_after(formatdate(now + 7, usegmt=True), now=now) == pytest.approx(7.0)
    assert parse_retry_after(formatdate(now - 7, usegmt=True), now=now) == 0.0
    assert parse_retry_after("soon") is None and parse_retry_after(None) is None

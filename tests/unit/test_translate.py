"""Translation through deep-translator's real client against a loopback LibreTranslate."""

from __future__ import annotations

import logging
import time

import pytest

from crawler.items import Article
from pipeline.translate import (
    CircuitBreaker,
    DeepTranslator,
    MemoryCache,
    apply_outcome,
    make_translator,
    split_chunks,
    translate_article,
)
from servers.libre import LibreServer

KO = Article(url="https://x.example/1", title="서울 REAIM 회의", text="인공지능의 군사적 이용. 인간의 통제가 필요하다.", language="ko")


def libre(server: LibreServer, timeout: float = 5.0) -> DeepTranslator:
    return DeepTranslator("libre", url=server.url, timeout=timeout, api_key=server.api_key)


def test_translates_title_and_text_and_caches(libre: LibreServer) -> None:  # type: ignore[no-redef]
    cache = MemoryCache()
    out = translate_article(KO, libre_client := DeepTranslator("libre", url=libre.url), cache)
    assert out.status == "done"
    assert out.title == "[en] 서울 REAIM 회의"
    assert out.text is not None and out.text.startswith("[en] 인공지능")
    sent = libre.chars
    assert out.chars_sent == sent > 0
    again = translate_article(KO, libre_client, cache)
    assert again.status == "done" and again.chars_sent == 0 and again.cache_hits >= 2
    assert libre.chars == sent  # the re-run sent nothing


def test_english_needs_no_translation() -> None:
    out = translate_article(Article(url="u", title="t", text="x", language="en"), None, MemoryCache())
    assert out.status == "not_needed"


def test_no_translator_leaves_pending() -> None:
    out = translate_article(KO, None, MemoryCache())
    assert out.status == "pending"


def test_silent_server_hits_the_deadline_and_leaves_pending() -> None:
    with LibreServer(mode="hang") as server:
        start = time.monotonic()
        out = translate_article(KO, libre(server, timeout=1.0), MemoryCache())
        assert time.monotonic() - start < 10
    assert out.status == "pending" and "unreachable" in (out.error or "")


@pytest.mark.parametrize("mode", ["500", "429", "garbage"])
def test_server_errors_leave_pending_and_keep_the_article(mode: str) -> None:
    with LibreServer(mode=mode) as server:
        article = Article(**{**KO.__dict__})
        out = translate_article(article, libre(server), MemoryCache())
        apply_outcome(article, out)
    assert article.translation_status == "pending"
    assert article.title == KO.title and article.title_en is None


def test_connection_refused_is_pending_not_a_crash() -> None:
    with LibreServer() as server:
        url = server.url
    out = translate_article(KO, DeepTranslator("libre", url=url, timeout=2), MemoryCache())
    assert out.status == "pending"


def test_circuit_breaker_stops_calling_a_failing_provider() -> None:
    breaker = CircuitBreaker(threshold=2, cooldown=60)
    with LibreServer(mode="500") as server:
        client = libre(server)
        for _ in range(5):
            translate_article(KO, client, MemoryCache(), breaker=breaker)
        assert len(server.requests) == 2
    out = translate_article(KO, client, MemoryCache(), breaker=breaker)
    assert "circuit open" in (out.error or "")


def test_bad_key_is_never_logged_or_returned(caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch) -> None:
    secret = "sk-very-secret-key-123"
    monkeypatch.setenv("LIBRE_API_KEY", secret)
    with LibreServer(api_key="the-right-key") as server:
        client = make_translator("libre", server.url)
        assert client is not None
        with caplog.at_level(logging.DEBUG):
            out = translate_article(KO, client, MemoryCache())
    assert out.status == "pending"
    assert "refused" in (out.error or "")
    assert secret not in (out.error or "")
    assert secret not in caplog.text


def test_chunks_split_at_sentences_under_the_limit_cjk_included() -> None:
    text = "첫 문장이다. 두 번째 문장이다! 세 번째? " * 20 + "中文句子。第二句。" * 30
    chunks = split_chunks(text, 100)
    assert all(len(c) <= 100 for c in chunks)
    assert "".join(chunks).replace(" ", "") == text.replace(" ", "")
    unspaced = "가" * 250
    assert [len(c) for c in split_chunks(unspaced, 100)] == [100, 100, 50]


def test_unknown_provider_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="unknown translator"):
        make_translator("babelfish")
    assert make_translator("none") is None


def test_language_missing_from_deep_translators_list_is_sent_as_auto(libre: LibreServer) -> None:  # type: ignore[no-redef]
    # deep-translator 1.11.4 lists no Dutch for LibreTranslate; the server can detect it.
    nl = Article(url="https://x.example/nl", title="Den Haag ontvangt top over militaire AI",
                 text="De eerste top over verantwoorde militaire AI begint vandaag in Den Haag.", language="nl")
    out = translate_article(nl, DeepTranslator("libre", url=libre.url), MemoryCache())
    assert out.status == "done" and out.title is not None and out.title.startswith("[en]")
    assert {r["source"] for r in libre.requests} == {"auto"}

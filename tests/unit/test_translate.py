"""Translation through deep-translator's real client against a loopback LibreTranslate."""

from __future__ import annotations

import asyncio
import json
import logging
import re
import sys
import time
import types
from pathlib import Path
from urllib.parse import quote, quote_plus

import pytest
from scrapy.settings import Settings
from scrapy.utils.test import get_crawler

from crawler.items import Article
from pipeline.translate import (
    CHUNK_LIMITS,
    CircuitBreaker,
    DeepTranslator,
    MemoryCache,
    Redactor,
    TranslateConfig,
    TranslatePipeline,
    apply_outcome,
    make_translator,
    split_chunks,
    translate_article,
)
from servers.libre import LibreServer

KO = Article(url="https://x.example/1", title="서울 REAIM 회의", text="인공지능의 군사적 이용. 인간의 통제가 필요하다.", language="ko")


def libre(server: LibreServer, timeout: float = 5.0, retries: int = 0) -> DeepTranslator:
    """A client for ``server``; no retries unless asked (tests/unit/test_translate_retry.py tests them)."""
    return DeepTranslator("libre", url=server.url, timeout=timeout, api_key=server.api_key, retries=retries)


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
    out = translate_article(KO, DeepTranslator("libre", url=url, timeout=2, backoff=0.01), MemoryCache())
    assert out.status == "pending" and "unreachable" in (out.error or "")


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


# --- full text, chunk order -------------------------------------------------


def test_a_12000_char_korean_text_comes_back_whole_and_in_order_in_full_text_mode(libre: LibreServer) -> None:  # type: ignore[no-redef]
    sentences = [f"제{i:04d}항 인공지능의 군사적 이용에는 인간의 통제가 필요하다고 대표단이 말했다." for i in range(400)]
    text = "\n".join(" ".join(sentences[i : i + 5]) for i in range(0, len(sentences), 5))
    assert len(text) >= 12_000
    article = Article(url="https://x.example/long", title="긴 기사", text=text, language="ko")
    assert TranslateConfig.from_settings(Settings({"TRANSLATE_MAX_CHARS": None})).max_chars is None
    assert TranslateConfig.from_settings(Settings({"TRANSLATE_MAX_CHARS": 0})).max_chars is None
    out = translate_article(article, DeepTranslator("libre", url=libre.url), MemoryCache(), max_chars=None)
    assert out.status == "done" and out.text is not None
    sent = [r["q"] for r in libre.requests[1:]]  # after the title
    assert len(sent) >= 3 and all(len(q) <= CHUNK_LIMITS["libre"] for q in sent)
    assert all(q.endswith("말했다.") for q in sent)  # cut at sentence ends
    numbers = [int(n) for n in re.findall(r"제(\d{4})항", out.text)]
    assert numbers == list(range(400))  # every sentence, once, in order
    assert out.text.replace("[en] ", "").replace(" ", "") == text.replace("\n", "").replace(" ", "")
    assert out.chars_sent == len(article.title or "") + sum(len(q) for q in sent)


def test_google_chunks_stay_conservative() -> None:
    assert CHUNK_LIMITS["google"] <= 1800 and CHUNK_LIMITS["mymemory"] < 500


# --- budget -----------------------------------------------------------------


def _ko(n: int) -> Article:
    return Article(url=f"https://x.example/{n}", title=f"기사 {n}", text=f"인공지능 기사 {n}번. 군사적 이용.", language="ko")


def test_budget_leaves_later_articles_pending_and_cache_hits_cost_nothing(libre: LibreServer) -> None:  # type: ignore[no-redef]
    cache = MemoryCache()
    first_cost = len(_ko(1).title or "") + len(_ko(1).text or "")
    translator = make_translator("libre", libre.url, budget_chars=first_cost + 3)
    assert translator is not None
    first = translate_article(_ko(1), translator, cache)
    second = translate_article(_ko(2), translator, cache)
    again = translate_article(_ko(1), translator, cache)  # cached: no budget needed
    assert first.status == "done" and first.chars_sent == first_cost
    assert second.status == "pending" and second.error == "budget exhausted" and second.budget_exhausted
    assert again.status == "done" and again.chars_sent == 0
    assert libre.chars <= first_cost + 3 and translator.budget.spent == first_cost  # type: ignore[attr-defined]


def test_budget_from_the_environment_zero_means_cache_only(libre: LibreServer, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-redef]
    monkeypatch.setenv("REAIM_TRANSLATE_BUDGET", "0")
    out = translate_article(KO, make_translator("libre", libre.url), MemoryCache())
    assert out.status == "pending" and out.error == "budget exhausted" and libre.requests == []
    monkeypatch.setenv("REAIM_TRANSLATE_BUDGET", "lots")
    with pytest.raises(ValueError, match="number of characters"):
        make_translator("libre", libre.url)


def test_pipeline_reports_chars_sent_and_budget_hits(libre: LibreServer, tmp_path: Path) -> None:  # type: ignore[no-redef]
    crawler = get_crawler(settings_dict={
        "TRANSLATE_PROVIDER": "libre", "TRANSLATE_URL": libre.url, "TRANSLATE_BUDGET_CHARS": 40,
        "REAIM_DB": str(tmp_path / "a.db"),
    })
    pipeline = TranslatePipeline.from_crawler(crawler)

    async def run() -> list[Article]:
        return [await pipeline.process_item(Article(**{**_ko(n).__dict__, "relevant": True})) for n in (1, 2)]

    first, second = asyncio.run(run())
    stats = crawler.stats.get_stats()  # type: ignore[union-attr]
    assert first.translation_status == "done" and second.translation_status == "pending"
    assert second.translation_error == "budget exhausted"
    assert stats["translate/chars_sent"] == libre.chars > 0 and stats["translate/budget_exhausted"] == 1


# --- provenance -------------------------------------------------------------


def test_provenance_records_provider_date_and_chars(libre: LibreServer) -> None:  # type: ignore[no-redef]
    article = Article(**{**KO.__dict__, "provenance": {"title": "h1"}})
    apply_outcome(article, translate_article(article, DeepTranslator("libre", url=libre.url), MemoryCache()))
    assert article.provenance["title"] == "h1"
    assert re.fullmatch(r"libre \d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00 (\d+) chars", article.provenance["translation"])
    assert article.provenance["translation"].endswith(f" {libre.chars} chars")


def test_translate_pending_stores_the_translation_and_its_provenance(libre: LibreServer, tmp_path: Path) -> None:  # type: ignore[no-redef]
    from archive.schema import open_db
    from archive.store import save_article
    from pipeline.retranslate import translate_pending

    path = tmp_path / "a.db"
    db = open_db(path)
    for n in (1, 2):
        record = {**_ko(n).to_dict(), "relevant": True, "translation_status": "pending", "provenance": {"text": "p"}}
        save_article(db, record, f"id{n}")
    cost = len(_ko(1).title or "") + len(_ko(1).text or "")
    result = translate_pending(db, str(path), DeepTranslator("libre", url=libre.url), budget_chars=cost)
    assert result == {"done": 1, "pending": 1, "chars_sent": cost, "budget_exhausted": 1}
    rows = {r["id"]: r for r in db.query("select * from articles")}
    done = next(r for r in rows.values() if r["translation_status"] == "done")
    left = next(r for r in rows.values() if r["translation_status"] == "pending")
    provenance = json.loads(done["provenance"])
    assert done["translation_provider"] == "libre" and provenance["text"] == "p"
    assert provenance["translation"].startswith("libre ") and provenance["translation"].endswith(f" {cost} chars")
    assert left["translation_error"] == "budget exhausted"


# --- keys -------------------------------------------------------------------


def test_keys_come_from_the_secrets_file_and_the_environment_wins(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    secrets = tmp_path / "secrets.env"
    secrets.write_text('# translation keys\nexport LIBRE_API_KEY="file-key-1234"  # self-hosted\n'
                       "[keys]\nDEEPL_API_KEY = abc-def:fx\n", encoding="utf-8")
    secrets.chmod(0o600)
    monkeypatch.setenv("REAIM_SECRETS_FILE", str(secrets))
    monkeypatch.delenv("LIBRE_API_KEY", raising=False)
    monkeypatch.delenv("DEEPL_API_KEY", raising=False)
    with LibreServer(api_key="file-key-1234") as server:
        out = translate_article(KO, make_translator("libre", server.url), MemoryCache())
    assert out.status == "done"
    deepl = make_translator("deepl")
    assert isinstance(deepl, DeepTranslator) and deepl.api_key == "abc-def:fx"
    assert "api-free.deepl.com" in deepl._client("de", "en")._base_url  # a ":fx" key is a DeepL Free key
    monkeypatch.setenv("LIBRE_API_KEY", "env-key-5678")
    assert make_translator("libre", "http://127.0.0.1:9/").api_key == "env-key-5678"  # type: ignore[union-attr]


def test_secrets_file_errors_name_the_file_and_line_but_never_the_content(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DEEPL_API_KEY", raising=False)
    monkeypatch.setenv("REAIM_SECRETS_FILE", str(tmp_path / "missing.env"))
    with pytest.raises(ValueError, match="missing.env, which does not exist"):
        make_translator("deepl")
    bad = tmp_path / "bad.env"
    bad.write_text("DEEPL_API_KEY=ok-key\nsk-live-secret-value\n", encoding="utf-8")
    monkeypatch.setenv("REAIM_SECRETS_FILE", str(bad))
    with pytest.raises(ValueError, match=r"line 2: expected NAME=value") as info:
        make_translator("deepl")
    assert "sk-live" not in str(info.value)
    monkeypatch.delenv("REAIM_SECRETS_FILE")
    with pytest.raises(ValueError, match=r"needs an API key in \$DEEPL_API_KEY or in \$REAIM_SECRETS_FILE"):
        make_translator("deepl")


def test_keys_are_redacted_raw_url_encoded_and_as_query_parameters() -> None:
    key = "abc/def+ghi:fx"
    redact = Redactor([key])
    for form in (key, quote_plus(key), quote(key, safe="")):
        assert redact(f"GET /v2/translate?auth_key={form}&text=x failed: {form}") == (
            "GET /v2/translate?auth_key=[REDACTED]&text=x failed: [REDACTED]")
    assert Redactor([])("https://h/translate?api_key=whatever&q=1") == "https://h/translate?api_key=[REDACTED]&q=1"


def test_a_bad_key_with_url_unsafe_characters_never_reaches_logs_or_stderr(
    caplog: pytest.LogCaptureFixture, capfd: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    secret = "sk/very+secret:key-987"
    monkeypatch.setenv("LIBRE_API_KEY", secret)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        with LibreServer(mode="badkey") as server, caplog.at_level(logging.DEBUG):
            out = translate_article(KO, make_translator("libre", server.url), MemoryCache())
    finally:
        root.removeHandler(handler)
    err = capfd.readouterr().err
    assert out.status == "pending" and "refused" in (out.error or "")
    assert "[REDACTED]" in caplog.text and "[REDACTED]" in err  # urllib3 logged the URL, redacted
    for form in (secret, quote_plus(secret), quote(secret, safe=""), "very", "secret"):
        assert form not in (out.error or "") and form not in caplog.text and form not in err


# --- offline: argos ---------------------------------------------------------


def test_argos_without_the_package_is_a_one_line_error_naming_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "argostranslate", None)
    monkeypatch.setitem(sys.modules, "argostranslate.translate", None)
    with pytest.raises(ValueError) as info:
        make_translator("argos")
    message = str(info.value)
    assert "pip install '.[offline]'" in message and "\n" not in message


class _FakeArgosTranslation:
    def translate(self, text: str) -> str:
        return "[argos] " + text


class _FakeArgosLanguage:
    def __init__(self, code: str, pairs: set[tuple[str, str]]) -> None:
        self.code, self.pairs = code, pairs

    def get_translation(self, to: _FakeArgosLanguage) -> _FakeArgosTranslation | None:
        return _FakeArgosTranslation() if (self.code, to.code) in self.pairs else None


def test_argos_names_the_model_package_to_install_for_a_missing_pair(monkeypatch: pytest.MonkeyPatch) -> None:
    # A stand-in for the installed library with an es->en model only: no model is downloaded.
    pairs = {("es", "en")}
    package = types.ModuleType("argostranslate")
    module = types.ModuleType("argostranslate.translate")
    module.get_installed_languages = lambda: [_FakeArgosLanguage(c, pairs) for c in ("en", "es")]  # type: ignore[attr-defined]
    package.translate = module  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "argostranslate", package)
    monkeypatch.setitem(sys.modules, "argostranslate.translate", module)
    translator = make_translator("argos")
    assert translator is not None and translator.name == "argos"
    es = Article(url="https://x.example/es", title="Cumbre REAIM", text="La IA militar.", language="es")
    assert translate_article(es, translator, MemoryCache()).title == "[argos] Cumbre REAIM"
    out = translate_article(KO, translator, MemoryCache())
    assert out.status == "pending"
    assert out.error == "argos: no model for ko->en; install it with: argospm install translate-ko_en"

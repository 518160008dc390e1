"""Stage 5: translate relevant articles into the target language (English by default).

deep-translator does the talking to providers; this module adds what it
lacks and a crawl needs:
- a deadline on every call (deep-translator passes no timeout to requests,
  so a silent server would block a worker thread for ever);
- a cache keyed by provider, language pair and text hash, so that a re-crawl
  or re-processing sends nothing;
- sentence-boundary chunking under each provider's limit;
- a circuit breaker, so that an unreachable service costs a few failed calls
  per run and not one per article;
- keys redacted from every message (AuthorizationException carries the key,
  and LibreTranslate and DeepL put it in the URL).
A failed translation never drops the article: it is archived with
``translation_status = "pending"`` for ``reaim translate --pending``.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from crawler.items import Article

logger = logging.getLogger(__name__)

PROVIDERS = ("google", "libre", "deepl", "microsoft", "mymemory", "none")
DEFAULT_PROVIDER = "google"
DEFAULT_TARGET = "en"
DEFAULT_MAX_CHARS = 2000
DEFAULT_TIMEOUT = 20.0
# Per-request limits. Google's scraped endpoint fails well below its nominal
# 5,000 characters once the text is URL-encoded (CJK triples in size).
CHUNK_LIMITS = {"google": 1500, "mymemory": 480, "libre": 4000, "deepl": 4500, "microsoft": 4500}
KEY_ENV = {
    "libre": "LIBRE_API_KEY",
    "deepl": "DEEPL_API_KEY",
    "microsoft": "MICROSOFT_API_KEY",
}
# deep-translator's codes where they differ from ISO 639-1.
PROVIDER_CODES = {"google": {"zh": "zh-CN"}, "mymemory": {"zh": "zh-CN"}}

STATUS_DONE = "done"
STATUS_PENDING = "pending"
STATUS_NOT_NEEDED = "not_needed"
STATUS_SKIPPED = "skipped"


class TranslationError(Exception):
    """A translation that did not happen; ``retryable`` says whether trying later may help."""

    def __init__(self, message: str, *, retryable: bool = True) -> None:
        super().__init__(message)
        self.retryable = retryable


class Translator(Protocol):
    name: str
    chunk_limit: int

    def translate(self, text: str, source: str, target: str) -> str: ...


# --- a deadline for requests made inside deep-translator -------------------

_deadline = threading.local()
_patch_lock = threading.Lock()
_patched = False


def _install_request_timeout() -> None:
    """Give requests a default timeout on threads that ask for one.

    deep-translator calls ``requests.get/post`` without ``timeout``; wrapping
    ``Session.request`` is the one place every such call passes through. Only
    calls made under :func:`_with_timeout` on the same thread are affected.
    """
    global _patched
    with _patch_lock:
        if _patched:
            return
        import requests

        original = requests.sessions.Session.request

        def request(self: Any, method: str, url: str, **kwargs: Any) -> Any:
            timeout = getattr(_deadline, "timeout", None)
            if timeout is not None and kwargs.get("timeout") is None:
                kwargs["timeout"] = timeout
            return original(self, method, url, **kwargs)

        requests.sessions.Session.request = request  # type: ignore[method-assign]
        _patched = True


def _with_timeout(timeout: float, fn: Callable[[], str]) -> str:
    _install_request_timeout()
    _deadline.timeout = timeout
    try:
        return fn()
    finally:
        _deadline.timeout = None


class Redactor:
    """Replaces secrets in text; built from the keys the translator was given."""

    def __init__(self, secrets: list[str]) -> None:
        self.secrets = [s for s in secrets if s and len(s) >= 4]

    def __call__(self, text: str) -> str:
        for secret in self.secrets:
            text = text.replace(secret, "[REDACTED]")
        return text


_redacted_secrets: set[str] = set()
_factory_lock = threading.Lock()


def install_log_redaction(secret: str | None) -> None:
    """Redact ``secret`` from every log record made in this process from now on.

    A handler filter would miss handlers added later (Scrapy's, pytest's), and
    urllib3 logs full request URLs at DEBUG, which for LibreTranslate and
    DeepL carry the key. The record factory sees every record first.
    """
    if not secret or len(secret) < 4:
        return
    with _factory_lock:
        if not _redacted_secrets:
            previous = logging.getLogRecordFactory()

            def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
                record = previous(*args, **kwargs)
                try:
                    message = record.getMessage()
                except Exception:  # a broken format string is the caller's problem, not ours
                    return record
                if any(s in message for s in _redacted_secrets):
                    for s in _redacted_secrets:
                        message = message.replace(s, "[REDACTED]")
                    record.msg, record.args = message, ()
                return record

            logging.setLogRecordFactory(factory)
        _redacted_secrets.add(secret)


class DeepTranslator:
    """Our Translator over one deep-translator provider class."""

    def __init__(
        self,
        provider: str,
        *,
        url: str | None = None,
        api_key: str | None = None,
        timeout: float = DEFAULT_TIMEOUT,
    ) -> None:
        if provider not in PROVIDERS or provider == "none":
            raise ValueError(f"unknown translator {provider!r}; choose one of {', '.join(PROVIDERS)}")
        self.name = provider
        self.url = url
        self.api_key = api_key
        self.timeout = timeout
        self.chunk_limit = CHUNK_LIMITS[provider]
        self.redact = Redactor([api_key or ""])
        install_log_redaction(api_key)

    def _client(self, source: str, target: str) -> Any:
        import deep_translator as dt

        codes = PROVIDER_CODES.get(self.name, {})
        src, tgt = codes.get(source, source), codes.get(target, target)
        if self.name == "google":
            return dt.GoogleTranslator(source=src, target=tgt)
        if self.name == "mymemory":
            return dt.MyMemoryTranslator(source=src, target=tgt)
        if self.name == "libre":
            url = self.url or "https://libretranslate.com/"
            # A self-hosted server usually needs no key, but deep-translator
            # refuses to start without one; any placeholder is ignored there.
            return dt.LibreTranslator(
                source=src, target=tgt, api_key=self.api_key or "no-key",
                custom_url=url if url.endswith("/") else url + "/",
            )
        if self.name == "deepl":
            return dt.DeeplTranslator(source=src, target=tgt, api_key=self.api_key, use_free_api=True)
        return dt.MicrosoftTranslator(source=src, target=tgt, api_key=self.api_key)

    def translate(self, text: str, source: str, target: str) -> str:
        import requests
        from deep_translator import exceptions as dx

        try:
            try:
                client = self._client(source, target)
            except dx.LanguageNotSupportedException:
                # deep-translator's own language lists lag the services (its
                # LibreTranslate list has no Dutch); the service detects instead.
                client = self._client("auto", target)
            result = _with_timeout(self.timeout, lambda: client.translate(text))
        except (requests.Timeout, requests.ConnectionError, ConnectionError, OSError) as exc:
            raise TranslationError(self.redact(f"{self.name}: unreachable: {type(exc).__name__}")) from None
        except dx.TooManyRequests:
            raise TranslationError(f"{self.name}: rate limited (429)") from None
        except dx.AuthorizationException:
            raise TranslationError(f"{self.name}: the API key was refused", retryable=False) from None
        except (dx.LanguageNotSupportedException, dx.InvalidSourceOrTargetLanguage):
            raise TranslationError(
                f"{self.name}: language pair {source}->{target} not supported", retryable=False
            ) from None
        except dx.ServerException as exc:
            raise TranslationError(self.redact(f"{self.name}: server error: {exc}")) from None
        except (dx.BaseError, dx.RequestError, ValueError, KeyError, TypeError) as exc:
            # Garbage bodies surface as JSON/KeyError/TypeError inside deep-translator.
            raise TranslationError(self.redact(f"{self.name}: bad response: {type(exc).__name__}: {exc}")) from None
        if not isinstance(result, str) or not result.strip():
            raise TranslationError(f"{self.name}: empty translation")
        return result


def make_translator(
    provider: str | None = None, url: str | None = None, timeout: float = DEFAULT_TIMEOUT
) -> Translator | None:
    """Build the configured translator; ``None`` for provider ``none``.

    Provider and URL come from the arguments, else from ``REAIM_TRANSLATOR``
    and ``REAIM_TRANSLATOR_URL``. Keys come only from the provider's usual
    environment variable, never from Scrapy settings (which are printed).
    """
    provider = (provider or os.environ.get("REAIM_TRANSLATOR") or DEFAULT_PROVIDER).strip().lower()
    url = url or os.environ.get("REAIM_TRANSLATOR_URL") or None
    if provider == "none":
        return None
    if provider not in PROVIDERS:
        raise ValueError(f"unknown translator {provider!r}; choose one of {', '.join(PROVIDERS)}")
    api_key = os.environ.get(KEY_ENV[provider]) if provider in KEY_ENV else None
    if provider in ("deepl", "microsoft") and not api_key:
        raise ValueError(f"translator {provider} needs an API key in ${KEY_ENV[provider]}")
    return DeepTranslator(provider, url=url, api_key=api_key, timeout=timeout)


# --- chunking ---------------------------------------------------------------

_SENTENCE_END = re.compile(r"(?<=[.!?。！？…])\s+|(?<=[。！？])|\n+")


def split_chunks(text: str, limit: int) -> list[str]:
    """Split at sentence ends (CJK included) into pieces of at most ``limit`` characters.

    A sentence longer than the limit is cut at the last space before it, or
    hard at the limit for unspaced scripts. Joining the pieces with spaces
    restores the text up to whitespace.
    """
    sentences = [s for s in _SENTENCE_END.split(text) if s and s.strip()]
    chunks: list[str] = []
    current = ""
    for sentence in sentences:
        while len(sentence) > limit:
            cut = sentence.rfind(" ", 0, limit)
            cut = cut if cut > limit // 2 else limit
            if current:
                chunks.append(current)
                current = ""
            chunks.append(sentence[:cut].strip())
            sentence = sentence[cut:].strip()
        candidate = f"{current} {sentence}".strip() if current else sentence
        if len(candidate) <= limit:
            current = candidate
        else:
            chunks.append(current)
            current = sentence
    if current:
        chunks.append(current)
    return chunks


# --- cache ------------------------------------------------------------------


def cache_key(provider: str, source: str, target: str, text: str) -> tuple[str, str]:
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
    key = hashlib.sha256(f"{provider}|{source}|{target}|{digest}".encode()).hexdigest()
    return key, digest


class TranslationCache(Protocol):
    def get(self, key: str) -> str | None: ...

    def put(self, *, key: str, provider: str, source: str, target: str, digest: str, translated: str, chars: int) -> None: ...


class MemoryCache:
    def __init__(self) -> None:
        self._data: dict[str, str] = {}
        self._lock = threading.Lock()

    def get(self, key: str) -> str | None:
        with self._lock:
            return self._data.get(key)

    def put(self, *, key: str, provider: str, source: str, target: str, digest: str, translated: str, chars: int) -> None:
        with self._lock:
            self._data[key] = translated


class ArchiveCache:
    """The ``translation_cache`` table, on a connection of its own.

    Translation runs in worker threads, and a sqlite3 connection belongs to
    the thread that made it; this one is opened for any thread and guarded.
    """

    def __init__(self, db_path: str) -> None:
        import sqlite3

        import sqlite_utils

        from archive.schema import open_db

        open_db(db_path).close()  # make sure the table exists
        conn = sqlite3.connect(db_path, check_same_thread=False, timeout=30)
        self.db = sqlite_utils.Database(conn)
        self._lock = threading.Lock()

    def get(self, key: str) -> str | None:
        from archive.store import cache_get

        with self._lock:
            return cache_get(self.db, key)

    def put(self, *, key: str, provider: str, source: str, target: str, digest: str, translated: str, chars: int) -> None:
        from archive.store import cache_put

        with self._lock:
            cache_put(
                self.db, key=key, provider=provider, source_lang=source, target_lang=target,
                text_sha256=digest, translated=translated, chars=chars,
            )


# --- circuit breaker --------------------------------------------------------


class CircuitBreaker:
    """Opens after ``threshold`` consecutive failures; half-opens after ``cooldown`` seconds."""

    def __init__(self, threshold: int = 3, cooldown: float = 300.0) -> None:
        self.threshold = threshold
        self.cooldown = cooldown
        self.failures = 0
        self.opened_at: float | None = None
        self._lock = threading.Lock()

    def allow(self) -> bool:
        with self._lock:
            if self.opened_at is None:
                return True
            return time.monotonic() - self.opened_at >= self.cooldown

    def success(self) -> None:
        with self._lock:
            self.failures = 0
            self.opened_at = None

    def failure(self) -> None:
        with self._lock:
            self.failures += 1
            if self.failures >= self.threshold:
                self.opened_at = time.monotonic()


# --- the stage --------------------------------------------------------------


@dataclass
class TranslationOutcome:
    status: str
    title: str | None = None
    text: str | None = None
    provider: str | None = None
    error: str | None = None
    chars_sent: int = 0
    cache_hits: int = 0


def _translate_piece(
    text: str, source: str, target: str, translator: Translator, cache: TranslationCache, outcome: TranslationOutcome
) -> str:
    pieces = []
    for chunk in split_chunks(text, translator.chunk_limit):
        key, digest = cache_key(translator.name, source, target, chunk)
        cached = cache.get(key)
        if cached is not None:
            outcome.cache_hits += 1
            pieces.append(cached)
            continue
        translated = translator.translate(chunk, source, target)
        outcome.chars_sent += len(chunk)
        cache.put(key=key, provider=translator.name, source=source, target=target, digest=digest,
                  translated=translated, chars=len(chunk))
        pieces.append(translated)
    return " ".join(pieces)


def translate_article(
    article: Article,
    translator: Translator | None,
    cache: TranslationCache,
    *,
    target: str = DEFAULT_TARGET,
    max_chars: int | None = DEFAULT_MAX_CHARS,
    breaker: CircuitBreaker | None = None,
) -> TranslationOutcome:
    """Translate the title and the first ``max_chars`` of the text (all of it when None)."""
    source = article.language or "und"
    if source == target:
        return TranslationOutcome(STATUS_NOT_NEEDED)
    if source == "und":
        return TranslationOutcome(STATUS_SKIPPED, error="language undetermined")
    if translator is None:
        return TranslationOutcome(STATUS_PENDING, error="no translator configured")
    outcome = TranslationOutcome(STATUS_PENDING, provider=translator.name)
    if breaker is not None and not breaker.allow():
        outcome.error = f"{translator.name}: circuit open after repeated failures"
        return outcome
    text = article.text or ""
    if max_chars is not None and len(text) > max_chars:
        cut = text.rfind("\n", 0, max_chars)
        text = text[: cut if cut > max_chars // 2 else max_chars]
    try:
        outcome.title = _translate_piece(article.title, source, target, translator, cache, outcome) if article.title else None
        outcome.text = _translate_piece(text, source, target, translator, cache, outcome) if text else None
    except TranslationError as exc:
        if breaker is not None and exc.retryable:
            breaker.failure()
        outcome.title = outcome.text = None
        outcome.error = str(exc)
        logger.warning("translation pending for %s: %s", article.url, exc)
        return outcome
    if breaker is not None:
        breaker.success()
    outcome.status = STATUS_DONE
    return outcome


def apply_outcome(article: Article, outcome: TranslationOutcome) -> Article:
    article.translation_status = outcome.status
    article.translation_provider = outcome.provider
    article.translation_error = outcome.error
    if outcome.status == STATUS_DONE:
        article.title_en, article.text_en = outcome.title, outcome.text
    return article


class TranslatePipeline:
    """Translates off the reactor thread, so a slow provider never stalls the crawl."""

    def __init__(self, crawler, translator, cache, target, max_chars):  # type: ignore[no-untyped-def]
        self.crawler = crawler
        self.translator = translator
        self.cache = cache
        self.target = target
        self.max_chars = max_chars
        self.breaker = CircuitBreaker()

    @classmethod
    def from_crawler(cls, crawler):  # type: ignore[no-untyped-def]
        from archive.schema import default_db_path

        s = crawler.settings
        translator = make_translator(
            s.get("TRANSLATE_PROVIDER"), s.get("TRANSLATE_URL"), s.getfloat("TRANSLATE_TIMEOUT", DEFAULT_TIMEOUT)
        )
        cache = ArchiveCache(s.get("REAIM_DB") or default_db_path())
        max_chars = s.getint("TRANSLATE_MAX_CHARS", DEFAULT_MAX_CHARS) or None
        return cls(crawler, translator, cache, s.get("TRANSLATE_TARGET", DEFAULT_TARGET), max_chars)

    async def process_item(self, item):  # type: ignore[no-untyped-def]
        from scrapy.utils.asyncio import run_in_thread

        from pipeline.runtime import as_article, stats_inc

        article = as_article(item)
        if article is None:
            return item
        if article.relevant is False or article.duplicate_of:
            return article  # a URL variant is stored as an alias of a row translated once
        outcome = await run_in_thread(
            translate_article, article, self.translator, self.cache,
            target=self.target, max_chars=self.max_chars, breaker=self.breaker,
        )
        apply_outcome(article, outcome)
        stats_inc(self.crawler, f"translate/{outcome.status}")
        stats_inc(self.crawler, "translate/chars_sent", outcome.chars_sent)
        stats_inc(self.crawler, "translate/cache_hit", outcome.cache_hits)
        return article

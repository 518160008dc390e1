"""Stage 5: translate relevant articles into the target language (English by default).

deep-translator does the talking to providers; this module adds what it
lacks and a crawl needs:
- a deadline on every call (deep-translator passes no timeout to requests,
  so a silent server would block a worker thread for ever);
- retries with exponential back-off and jitter on 429, 5xx, timeouts and
  connection errors, honouring ``Retry-After`` (seconds or HTTP-date), with
  the total wait per request bounded; a quota error or a refused key is never
  retried and opens the circuit breaker at once;
- a cache keyed by provider, language pair and text hash, so that a re-crawl
  or re-processing sends nothing;
- a character budget per run (cache hits cost nothing);
- sentence-boundary chunking under each provider's limit;
- a circuit breaker, so that an unreachable service costs a few failed calls
  per run and not one per article;
- keys read from the environment or a secrets file, never from Scrapy
  settings, and redacted from every message and log record (AuthorizationException
  carries the key, and LibreTranslate and DeepL put it in the URL, URL-encoded);
- an offline provider, ``argos`` (argostranslate, ``pip install '.[offline]'``).
A failed translation never drops the article: it is archived with
``translation_status = "pending"`` for ``reaim translate --pending``.

deep-translator swallows the HTTP response when it fails (it raises
``ServerException(500)`` or ``TooManyRequests()`` with no headers), so the
status, the ``Retry-After`` header and the start of the error body are read
where every request passes: a wrapper around ``requests.Session.request``
that records the last exchange of the calling thread (see :func:`_capture`).

Keys (see docs/translation.md): the provider's usual environment variable
(``LIBRE_API_KEY``, ``DEEPL_API_KEY``, ``MICROSOFT_API_KEY``), else the same
name in the file named by ``REAIM_SECRETS_FILE``. That file has one
``NAME=value`` per line (dotenv style): blank lines and ``#`` comments are
ignored, ``export`` before the name and quotes around the value are allowed,
so a flat TOML file of quoted strings reads the same. The environment wins
over the file.
"""

from __future__ import annotations

import hashlib
import logging
import os
import random
import re
import stat
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import quote, quote_plus

from crawler.items import Article

logger = logging.getLogger(__name__)

PROVIDERS = ("google", "libre", "deepl", "microsoft", "mymemory", "argos", "none")
DEFAULT_PROVIDER = "google"
DEFAULT_TARGET = "en"
DEFAULT_MAX_CHARS = 2000
DEFAULT_TIMEOUT = 20.0
DEFAULT_RETRIES = 3  # retries after the first attempt, per request
DEFAULT_BACKOFF = 0.5  # seconds; the n-th retry waits about BACKOFF * 2**n
DEFAULT_BACKOFF_CAP = 30.0  # seconds: the most one request may spend sleeping across its retries
# Per-request limits. Google's scraped endpoint fails well below its nominal
# 5,000 characters once the text is URL-encoded (a CJK character becomes nine
# bytes of query string), so it gets a conservative limit; MyMemory refuses
# 500 and more; argos translates sentence by sentence and needs no limit,
# but smaller pieces cache better.
CHUNK_LIMITS = {"google": 1500, "mymemory": 480, "libre": 4000, "deepl": 4500, "microsoft": 4500, "argos": 2000}
KEY_ENV = {
    "libre": "LIBRE_API_KEY",
    "deepl": "DEEPL_API_KEY",
    "microsoft": "MICROSOFT_API_KEY",
}
SECRETS_ENV = "REAIM_SECRETS_FILE"
BUDGET_ENV = "REAIM_TRANSLATE_BUDGET"
# deep-translator's codes where they differ from ISO 639-1.
PROVIDER_CODES = {"google": {"zh": "zh-CN"}, "mymemory": {"zh": "zh-CN"}}
ARGOS_MISSING = "translator argos needs the argostranslate package, which is not installed: pip install '.[offline]'"

STATUS_DONE = "done"
STATUS_PENDING = "pending"
STATUS_NOT_NEEDED = "not_needed"
STATUS_SKIPPED = "skipped"
BUDGET_EXHAUSTED = "budget exhausted"

# A refusal that says the account's allowance is spent, not that the key is wrong
# (LibreTranslate and Microsoft answer 403, DeepL 456, MyMemory 200 with a warning).
_QUOTA = re.compile(r"quota|character limit|limit (?:exceeded|reached)|all available free translations", re.I)
# Transient kinds: worth retrying within the call.
_TRANSIENT = frozenset({"timeout", "unreachable", "rate_limited", "server"})


class TranslationError(Exception):
    """A translation that did not happen.

    ``retryable`` says whether trying later (``reaim translate --pending``) may
    help; ``kind`` says what happened: timeout, unreachable, rate_limited,
    server (5xx), quota, auth, unsupported, bad_response or budget.
    ``retry_after`` is the server's ``Retry-After`` in seconds, when it sent
    one; ``open_for`` asks the circuit breaker to stay open that long.
    """

    def __init__(
        self, message: str, *, retryable: bool = True, kind: str = "bad_response", retry_after: float | None = None,
        open_for: float | None = None,
    ) -> None:
        super().__init__(message)
        self.retryable = retryable
        self.kind = kind
        self.retry_after = retry_after
        self.open_for = open_for

    @property
    def transient(self) -> bool:
        return self.kind in _TRANSIENT


class BudgetExhausted(TranslationError):
    def __init__(self) -> None:
        super().__init__(BUDGET_EXHAUSTED, kind="budget")


class Translator(Protocol):
    name: str
    chunk_limit: int

    def translate(self, text: str, source: str, target: str) -> str: ...


# --- keys -------------------------------------------------------------------


def read_secrets_file(path: str | Path) -> dict[str, str]:
    """``NAME=value`` lines of a secrets file (format in the module docstring).

    Errors name the file and the line number, never the line: it may hold a key.
    """
    path = Path(path).expanduser()
    try:
        text = path.read_text(encoding="utf-8")
        mode = path.stat().st_mode
    except FileNotFoundError:
        raise ValueError(f"${SECRETS_ENV} names {path}, which does not exist") from None
    except OSError as exc:
        raise ValueError(f"${SECRETS_ENV}: cannot read {path}: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise ValueError(f"${SECRETS_ENV}: {path} is not UTF-8 text") from None
    if os.name == "posix" and mode & (stat.S_IRWXG | stat.S_IRWXO):
        logger.warning("%s can be read by other users; chmod 600 it", path)
    secrets: dict[str, str] = {}
    for n, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#") or (line.startswith("[") and line.endswith("]")):
            continue  # blank, comment, or a TOML table header
        if line.startswith("export "):
            line = line[len("export "):].lstrip()
        name, sep, value = line.partition("=")
        name, value = name.strip(), value.strip()
        if not sep or not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name):
            raise ValueError(f"{path}, line {n}: expected NAME=value")
        if value[:1] in ("'", '"'):
            end = value.find(value[0], 1)
            if end < 0:
                raise ValueError(f"{path}, line {n}: unclosed quote")
            value = value[1:end]  # anything after the closing quote is a comment
        elif " #" in value:
            value = value.split(" #", 1)[0].rstrip()
        secrets[name] = value
    return secrets


def provider_key(provider: str) -> str | None:
    """The API key for ``provider``: its environment variable, else the secrets file."""
    env = KEY_ENV.get(provider)
    if env is None:
        return None
    value = (os.environ.get(env) or "").strip()
    if value:
        return value
    secrets_file = os.environ.get(SECRETS_ENV)
    if secrets_file:
        return read_secrets_file(secrets_file).get(env) or None
    return None


# --- what requests did, seen from inside deep-translator --------------------


@dataclass
class _Exchange:
    status: int | None = None
    headers: Mapping[str, str] = field(default_factory=dict)
    body: str = ""  # the start of an error body
    error: BaseException | None = None  # a transport error (timeout, refused ...)


class _Capture:
    def __init__(self, timeout: float) -> None:
        self.timeout = timeout
        self.last: _Exchange | None = None


_http = threading.local()
_patch_lock = threading.Lock()
_patched = False


def _install_request_hook() -> None:
    """Wrap ``Session.request`` once, for the threads that ask for it.

    deep-translator calls ``requests.get/post`` without ``timeout`` and
    throws the response away when it fails; every such call passes through
    ``Session.request``. Calls made under :func:`_capture` on the same thread
    get the timeout and have their status, headers and error recorded; other
    calls are untouched.
    """
    global _patched
    with _patch_lock:
        if _patched:
            return
        import requests

        original = requests.sessions.Session.request

        def request(self: Any, method: str, url: str, **kwargs: Any) -> Any:
            capture: _Capture | None = getattr(_http, "capture", None)
            if capture is None:
                return original(self, method, url, **kwargs)
            if kwargs.get("timeout") is None:
                kwargs["timeout"] = capture.timeout
            try:
                response = original(self, method, url, **kwargs)
            except BaseException as exc:
                capture.last = _Exchange(error=exc)
                raise
            body = ""
            if response.status_code >= 300:
                try:
                    body = response.text[:1000]
                except Exception:  # an undecodable body says nothing we need
                    body = ""
            capture.last = _Exchange(status=response.status_code, headers=dict(response.headers), body=body)
            return response

        requests.sessions.Session.request = request  # type: ignore[method-assign]
        _patched = True


@contextmanager
def _capture(timeout: float) -> Iterator[_Capture]:
    _install_request_hook()
    capture = _Capture(timeout)
    previous = getattr(_http, "capture", None)
    _http.capture = capture
    try:
        yield capture
    finally:
        _http.capture = previous


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header: delta-seconds or an HTTP-date."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


# --- redaction --------------------------------------------------------------

# Key-like query parameters, whatever their value (for our own messages only:
# a crawled page's URL may legitimately carry ``?key=``).
_KEY_PARAM = re.compile(r"(?i)\b(api_key|apikey|auth_key|key|subscription-key|access_token|token)=([^&\s'\"]+)")


def _variants(secret: str) -> set[str]:
    """The secret as it may appear: raw, and URL-encoded in a query string or a path."""
    return {secret, quote(secret, safe=""), quote_plus(secret), quote(secret)}


class Redactor:
    """Replaces secrets in text; built from the keys the translator was given."""

    def __init__(self, secrets: list[str]) -> None:
        variants: set[str] = set()
        for s in secrets:
            if s and len(s) >= 4:
                variants |= _variants(s)
        self.secrets = sorted(variants, key=len, reverse=True)

    def __call__(self, text: str) -> str:
        for secret in self.secrets:
            text = text.replace(secret, "[REDACTED]")
        return _KEY_PARAM.sub(r"\1=[REDACTED]", text)


_redacted_secrets: set[str] = set()
_factory_lock = threading.Lock()


def _redact_known(text: str) -> str:
    for s in sorted(_redacted_secrets, key=len, reverse=True):
        text = text.replace(s, "[REDACTED]")
    return text


def install_log_redaction(secret: str | None) -> None:
    """Redact ``secret`` (raw or URL-encoded) from every log record made in this process from now on.

    A handler filter would miss handlers added later (Scrapy's, pytest's), and
    urllib3 logs full request URLs at DEBUG, which for LibreTranslate and
    DeepL carry the key. The record factory sees every record first; a
    traceback attached to a record is formatted and redacted there too.
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
                secrets = tuple(_redacted_secrets)
                if any(s in message for s in secrets):
                    record.msg, record.args = _redact_known(message), ()
                if record.exc_info and record.exc_info[0] is not None:
                    trace = logging.Formatter().formatException(record.exc_info)
                    if any(s in trace for s in secrets):
                        record.exc_text = _redact_known(trace)
                return record

            logging.setLogRecordFactory(factory)
        _redacted_secrets.update(_variants(secret))


# --- budget -----------------------------------------------------------------


class CharBudget:
    """Characters a run may send, shared by every thread that translates.

    A chunk reserves its length before it is sent and gives it back if the
    call fails (providers bill what they translate). A chunk that does not fit
    is not sent, and from then on the budget counts as exhausted. ``limit``
    None means unlimited; 0 means cache only.
    """

    def __init__(self, limit: int | None) -> None:
        if limit is not None and limit < 0:
            raise ValueError(f"translation budget must be >= 0 characters, not {limit}")
        self.limit = limit
        self.spent = 0
        self.exhausted = False
        self._lock = threading.Lock()

    def reserve(self, n: int) -> bool:
        with self._lock:
            if self.limit is None:
                self.spent += n
                return True
            if self.exhausted or self.spent + n > self.limit:
                if not self.exhausted:
                    logger.warning("translation budget of %d characters exhausted (%d spent); "
                                   "further articles are left pending", self.limit, self.spent)
                self.exhausted = True
                return False
            self.spent += n
            return True

    def refund(self, n: int) -> None:
        with self._lock:
            self.spent = max(0, self.spent - n)

    @property
    def remaining(self) -> int | None:
        return None if self.limit is None else max(0, self.limit - self.spent)


def parse_budget(value: Any) -> int | None:
    """A character budget from a setting or ``$REAIM_TRANSLATE_BUDGET``: None/"" unlimited, else an int >= 0."""
    if value is None or (isinstance(value, str) and value.strip().lower() in ("", "none", "unlimited")):
        return None
    try:
        n = int(str(value).strip().replace("_", ""))
    except ValueError:
        raise ValueError(f"translation budget must be a number of characters, not {value!r}") from None
    if n < 0:
        raise ValueError(f"translation budget must be >= 0 characters, not {n}")
    return n


def parse_max_chars(value: Any) -> int | None:
    """``TRANSLATE_MAX_CHARS``: None, 0 or "" mean the full text."""
    if value is None or (isinstance(value, str) and value.strip().lower() in ("", "none", "0", "full")):
        return None
    n = int(value)
    return n if n > 0 else None


# --- providers --------------------------------------------------------------


class DeepTranslator:
    """Our Translator over one deep-translator provider class, with retries."""

    def __init__(
        self,
        provider: str,
        *,
        url: str | None = None,
        api_key: str | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        retries: int = DEFAULT_RETRIES,
        backoff: float = DEFAULT_BACKOFF,
        backoff_cap: float = DEFAULT_BACKOFF_CAP,
        budget: CharBudget | None = None,
    ) -> None:
        if provider not in PROVIDERS or provider in ("none", "argos"):
            raise ValueError(f"DeepTranslator cannot be {provider!r}; use make_translator({provider!r})")
        self.name = provider
        self.url = url
        self.api_key = api_key
        self.timeout = timeout
        self.retries = max(0, int(retries))
        self.backoff = max(0.0, float(backoff))
        self.backoff_cap = max(0.0, float(backoff_cap))
        self.budget = budget
        self.chunk_limit = CHUNK_LIMITS[provider]
        self.redact = Redactor([api_key or ""])
        self.retries_made = 0
        self._count_lock = threading.Lock()
        self._random = random.Random()
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
            # DeepL Free keys end in ":fx"; a Pro key sent to the free endpoint is refused.
            free = (self.api_key or "").endswith(":fx")
            return dt.DeeplTranslator(source=src, target=tgt, api_key=self.api_key, use_free_api=free)
        # Microsoft's constructor fetches the language list over HTTP: it runs under the deadline too.
        return dt.MicrosoftTranslator(source=src, target=tgt, api_key=self.api_key)

    def translate(self, text: str, source: str, target: str) -> str:
        """One chunk, retried on transient failures with exponential back-off and jitter."""
        waited = 0.0
        attempt = 0
        while True:
            try:
                return self._attempt(text, source, target)
            except TranslationError as exc:
                if not exc.transient or attempt >= self.retries:
                    raise
                backoff = min(self.backoff_cap, self.backoff * 2**attempt)
                delay = backoff / 2 + self._random.uniform(0, backoff / 2)  # "equal jitter"
                remaining = self.backoff_cap - waited
                if exc.retry_after is not None:
                    if exc.retry_after > remaining:
                        # Asking again sooner than the server said is pointless: give up now.
                        raise TranslationError(
                            f"{exc}; Retry-After {exc.retry_after:.0f}s is more than the {max(0.0, remaining):.0f}s "
                            "left to wait", kind=exc.kind, retry_after=exc.retry_after, open_for=exc.retry_after,
                        ) from None
                    delay = max(delay, exc.retry_after)
                if delay > 0 and remaining <= 0:
                    raise
                delay = min(delay, remaining)
                attempt += 1
                with self._count_lock:
                    self.retries_made += 1
                logger.info("%s; retry %d of %d in %.2fs", exc, attempt, self.retries, delay)
                time.sleep(delay)
                waited += delay

    def _attempt(self, text: str, source: str, target: str) -> str:
        from deep_translator import exceptions as dx

        with _capture(self.timeout) as capture:
            try:
                try:
                    client = self._client(source, target)
                except dx.LanguageNotSupportedException:
                    # deep-translator's own language lists lag the services (its
                    # LibreTranslate list has no Dutch); the service detects instead.
                    client = self._client("auto", target)
                result = client.translate(text)
            except Exception as exc:  # every failure becomes one redacted line
                raise self._classify(exc, capture.last) from None
        if not isinstance(result, str) or not result.strip():
            raise TranslationError(f"{self.name}: empty translation")
        if _QUOTA.search(result[:200]) and result.lstrip().upper().startswith("MYMEMORY WARNING"):
            raise TranslationError(f"{self.name}: quota exhausted", kind="quota")
        return result

    def _classify(self, exc: Exception, last: _Exchange | None) -> TranslationError:
        import requests
        from deep_translator import exceptions as dx

        name = self.name
        transport = last.error if last is not None and last.error is not None else exc
        if isinstance(transport, requests.Timeout):
            return TranslationError(f"{name}: unreachable: timed out after {self.timeout:g}s", kind="timeout")
        if (last is not None and last.error is not None) or isinstance(transport, requests.ConnectionError):
            return TranslationError(f"{name}: unreachable: {type(transport).__name__}", kind="unreachable")
        status = last.status if last is not None else None
        if status is not None and status >= 400:
            body = last.body if last is not None else ""
            retry_after = parse_retry_after((last.headers if last is not None else {}).get("Retry-After"))
            if status in (402, 456) or (status in (401, 403, 429) and _QUOTA.search(body)):
                return TranslationError(f"{name}: quota exhausted (HTTP {status})", kind="quota")
            if status in (401, 403):
                what = "the API key was refused" if self.api_key or name in KEY_ENV else "access refused"
                return TranslationError(f"{name}: {what} (HTTP {status})", retryable=False, kind="auth")
            if status == 429:
                return TranslationError(f"{name}: rate limited (HTTP 429)", kind="rate_limited", retry_after=retry_after)
            if status >= 500:
                return TranslationError(f"{name}: server error (HTTP {status})", kind="server", retry_after=retry_after)
            # 400/413/422 are about this text; anything else (a wrong URL's 404 ...) about the service.
            return TranslationError(f"{name}: HTTP {status}", retryable=status not in (400, 413, 422))
        if isinstance(exc, dx.AuthorizationException):
            return TranslationError(f"{name}: the API key was refused", retryable=False, kind="auth")
        if isinstance(exc, dx.TooManyRequests):
            return TranslationError(f"{name}: rate limited (429)", kind="rate_limited")
        if isinstance(exc, dx.LanguageNotSupportedException | dx.InvalidSourceOrTargetLanguage):
            return TranslationError(f"{name}: language pair not supported", retryable=False, kind="unsupported")
        if isinstance(exc, OSError) and not isinstance(exc, requests.RequestException):
            return TranslationError(self.redact(f"{name}: unreachable: {type(exc).__name__}"), kind="unreachable")
        # Garbage bodies surface as JSON/KeyError/TypeError (or, for Microsoft, AttributeError) inside deep-translator.
        return TranslationError(self.redact(f"{name}: bad response: {type(exc).__name__}: {exc}"[:300]))


class ArgosTranslator:
    """Offline translation with argostranslate and its installed language models.

    Imported lazily: the package and its models are optional
    (``pip install '.[offline]'``, then ``argospm install translate-ko_en``
    for each pair). Nothing here downloads anything. Calls are serialised:
    one model run at a time already uses every core.
    """

    name = "argos"
    chunk_limit = CHUNK_LIMITS["argos"]

    def __init__(self, budget: CharBudget | None = None) -> None:
        try:
            import argostranslate.translate  # noqa: F401
        except ImportError as exc:
            broken = exc.name and not exc.name.startswith("argostranslate")
            raise ValueError(ARGOS_MISSING + (f" (it failed to import {exc.name})" if broken else "")) from None
        self.budget = budget
        self.retries_made = 0
        self._lock = threading.Lock()
        self._pairs: dict[tuple[str, str], Any] = {}

    def _translation(self, source: str, target: str) -> Any:
        from argostranslate import translate as argos

        key = (source, target)
        if key not in self._pairs:
            languages = {lang.code: lang for lang in argos.get_installed_languages()}
            src, tgt = languages.get(source), languages.get(target)
            # get_translation also finds a pivot (ko->ja->en) when both halves are installed.
            self._pairs[key] = src.get_translation(tgt) if src is not None and tgt is not None else None
        translation = self._pairs[key]
        if translation is None:
            raise TranslationError(
                f"argos: no model for {source}->{target}; install it with: argospm install translate-{source}_{target}",
                retryable=False, kind="unsupported",
            )
        return translation

    def translate(self, text: str, source: str, target: str) -> str:
        with self._lock:
            translation = self._translation(source, target)
            try:
                result = translation.translate(text)
            except Exception as exc:
                raise TranslationError(f"argos: {type(exc).__name__}: {exc}"[:300], retryable=False) from None
        if not isinstance(result, str) or not result.strip():
            raise TranslationError("argos: empty translation")
        return result


def make_translator(
    provider: str | None = None,
    url: str | None = None,
    timeout: float = DEFAULT_TIMEOUT,
    *,
    retries: int = DEFAULT_RETRIES,
    backoff: float = DEFAULT_BACKOFF,
    backoff_cap: float = DEFAULT_BACKOFF_CAP,
    budget_chars: int | None = None,
) -> Translator | None:
    """Build the configured translator; ``None`` for provider ``none``.

    Provider and URL come from the arguments, else from ``REAIM_TRANSLATOR``
    and ``REAIM_TRANSLATOR_URL``. Keys come only from the provider's usual
    environment variable or ``$REAIM_SECRETS_FILE``, never from Scrapy
    settings (which are printed). The translator carries the run's character
    budget: ``budget_chars``, else ``$REAIM_TRANSLATE_BUDGET``, else unlimited.
    """
    provider = (provider or os.environ.get("REAIM_TRANSLATOR") or DEFAULT_PROVIDER).strip().lower()
    url = url or os.environ.get("REAIM_TRANSLATOR_URL") or None
    if provider == "none":
        return None
    if provider not in PROVIDERS:
        raise ValueError(f"unknown translator {provider!r}; choose one of {', '.join(PROVIDERS)}")
    if budget_chars is None:
        budget_chars = parse_budget(os.environ.get(BUDGET_ENV))
    budget = CharBudget(budget_chars)
    if provider == "argos":
        return ArgosTranslator(budget=budget)
    api_key = provider_key(provider)
    if provider in ("deepl", "microsoft") and not api_key:
        raise ValueError(f"translator {provider} needs an API key in ${KEY_ENV[provider]} or in ${SECRETS_ENV}")
    return DeepTranslator(provider, url=url, api_key=api_key, timeout=timeout, retries=retries,
                          backoff=backoff, backoff_cap=backoff_cap, budget=budget)


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
    """Opens after ``threshold`` consecutive failures; half-opens after ``cooldown`` seconds.

    :meth:`trip` opens it at once (a quota spent, a key refused, a server that
    asked for more patience than a call may spend).
    """

    def __init__(self, threshold: int = 3, cooldown: float = 300.0) -> None:
        self.threshold = threshold
        self.cooldown = cooldown
        self.failures = 0
        self.opened_at: float | None = None
        self.open_for = cooldown
        self.reason: str | None = None  # the error that opened it
        self._lock = threading.Lock()

    def allow(self) -> bool:
        with self._lock:
            if self.opened_at is None:
                return True
            return time.monotonic() - self.opened_at >= self.open_for

    def success(self) -> None:
        with self._lock:
            self.failures = 0
            self.opened_at = None

    def failure(self, reason: str | None = None) -> None:
        with self._lock:
            self.failures += 1
            if self.failures >= self.threshold:
                self.opened_at = time.monotonic()
                self.open_for = self.cooldown
                self.reason = reason

    def trip(self, seconds: float | None = None, reason: str | None = None) -> None:
        with self._lock:
            self.failures = max(self.failures, self.threshold)
            self.opened_at = time.monotonic()
            self.open_for = self.cooldown if seconds is None else seconds
            self.reason = reason


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
    budget_exhausted: bool = False
    translated_at: str | None = None  # ISO 8601 UTC, when done

    @property
    def provenance(self) -> str | None:
        """One line for ``Article.provenance["translation"]``: provider, date, characters sent."""
        if self.status != STATUS_DONE:
            return None
        line = f"{self.provider} {self.translated_at} {self.chars_sent} chars"
        return line + (f", {self.cache_hits} chunk(s) from cache" if self.cache_hits else "")


def _translate_piece(
    text: str, source: str, target: str, translator: Translator, cache: TranslationCache,
    outcome: TranslationOutcome, budget: CharBudget | None,
) -> str:
    pieces = []
    for chunk in split_chunks(text, translator.chunk_limit):
        key, digest = cache_key(translator.name, source, target, chunk)
        cached = cache.get(key)
        if cached is not None:
            outcome.cache_hits += 1
            pieces.append(cached)
            continue
        if budget is not None and not budget.reserve(len(chunk)):
            raise BudgetExhausted()
        try:
            translated = translator.translate(chunk, source, target)
        except BaseException:
            if budget is not None:
                budget.refund(len(chunk))
            raise
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
    budget: CharBudget | None = None,
) -> TranslationOutcome:
    """Translate the title and the first ``max_chars`` of the text (all of it when None or 0).

    ``budget`` defaults to the translator's own (``make_translator`` gives
    each translator the run's budget).
    """
    source = article.language or "und"
    if source == target:
        return TranslationOutcome(STATUS_NOT_NEEDED)
    if source == "und":
        return TranslationOutcome(STATUS_SKIPPED, error="language undetermined")
    if translator is None:
        return TranslationOutcome(STATUS_PENDING, error="no translator configured")
    if budget is None:
        budget = getattr(translator, "budget", None)
    outcome = TranslationOutcome(STATUS_PENDING, provider=translator.name)
    if breaker is not None and not breaker.allow():
        reason = breaker.reason or "repeated failures"
        outcome.error = f"{translator.name}: circuit open after: {reason.removeprefix(translator.name + ': ')}"
        return outcome
    text = article.text or ""
    if max_chars and len(text) > max_chars:
        cut = text.rfind("\n", 0, max_chars)
        text = text[: cut if cut > max_chars // 2 else max_chars]
    try:
        outcome.title = (_translate_piece(article.title, source, target, translator, cache, outcome, budget)
                         if article.title else None)
        outcome.text = _translate_piece(text, source, target, translator, cache, outcome, budget) if text else None
    except TranslationError as exc:
        outcome.title = outcome.text = None
        outcome.error = str(exc)
        if exc.kind == "budget":
            outcome.budget_exhausted = True
            logger.debug("translation pending for %s: %s", article.url, exc)
            return outcome
        if breaker is not None:
            if exc.kind in ("quota", "auth"):
                breaker.trip(reason=str(exc))
            elif exc.open_for:
                breaker.trip(exc.open_for, reason=str(exc))  # the server asked for more patience than a call may spend
            elif exc.retryable:
                breaker.failure(reason=str(exc))
        logger.warning("translation pending for %s: %s", article.url, exc)
        return outcome
    if breaker is not None:
        breaker.success()
    outcome.status = STATUS_DONE
    outcome.translated_at = datetime.now(UTC).isoformat(timespec="seconds")
    return outcome


def apply_outcome(article: Article, outcome: TranslationOutcome) -> Article:
    article.translation_status = outcome.status
    article.translation_provider = outcome.provider
    article.translation_error = outcome.error
    if outcome.status == STATUS_DONE:
        article.title_en, article.text_en = outcome.title, outcome.text
        article.provenance = {**(article.provenance or {}), "translation": outcome.provenance or ""}
    return article


@dataclass(frozen=True)
class TranslateConfig:
    """The TRANSLATE_* settings, parsed (see crawler/settings.py)."""

    provider: str | None = None
    url: str | None = None
    target: str = DEFAULT_TARGET
    max_chars: int | None = DEFAULT_MAX_CHARS
    timeout: float = DEFAULT_TIMEOUT
    retries: int = DEFAULT_RETRIES
    backoff: float = DEFAULT_BACKOFF
    backoff_cap: float = DEFAULT_BACKOFF_CAP
    budget_chars: int | None = None  # None: $REAIM_TRANSLATE_BUDGET, else unlimited

    @classmethod
    def from_settings(cls, s: Any) -> TranslateConfig:
        def number(name: str, default: float) -> float:
            value = s.get(name)
            return default if value is None or value == "" else float(value)

        return cls(
            provider=s.get("TRANSLATE_PROVIDER") or None,
            url=s.get("TRANSLATE_URL") or None,
            target=s.get("TRANSLATE_TARGET") or DEFAULT_TARGET,
            # Scrapy's get() treats None as unset; here an explicit None means the full text.
            max_chars=parse_max_chars(s["TRANSLATE_MAX_CHARS"] if "TRANSLATE_MAX_CHARS" in s else DEFAULT_MAX_CHARS),
            timeout=number("TRANSLATE_TIMEOUT", DEFAULT_TIMEOUT),
            retries=int(number("TRANSLATE_RETRIES", DEFAULT_RETRIES)),
            backoff=number("TRANSLATE_BACKOFF", DEFAULT_BACKOFF),
            backoff_cap=number("TRANSLATE_BACKOFF_CAP", DEFAULT_BACKOFF_CAP),
            budget_chars=parse_budget(s.get("TRANSLATE_BUDGET_CHARS")),
        )

    def make_translator(self) -> Translator | None:
        return make_translator(self.provider, self.url, self.timeout, retries=self.retries, backoff=self.backoff,
                               backoff_cap=self.backoff_cap, budget_chars=self.budget_chars)


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

        config = TranslateConfig.from_settings(crawler.settings)
        translator = config.make_translator()
        cache = ArchiveCache(crawler.settings.get("REAIM_DB") or default_db_path())
        return cls(crawler, translator, cache, config.target, config.max_chars)

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
        if outcome.budget_exhausted:
            stats_inc(self.crawler, "translate/budget_exhausted")
        return article

    def close_spider(self) -> None:
        retries = getattr(self.translator, "retries_made", 0)
        if retries and self.crawler.stats is not None:
            self.crawler.stats.set_value("translate/retries", retries)

"""Stage 3: decide the article's language from its text and what the page declares.

A cascade, cheapest and surest first:
1. script: Hangul means Korean and kana means Japanese, whatever the page says.
   Han text without kana is told apart by character forms (Japanese shinjitai
   such as 脳 経 vs simplified or traditional Chinese such as 脑 们), because
   statistical detectors call almost every kanji-only headline Chinese;
2. a statistical detector on the text (py3langid by default; lingua or
   langdetect on request, see ``resolve_detector``), its guesses renormalised
   over the tracked languages, then reconciled with the declared hints (the
   source's configured language, news sitemap, JSON-LD, Content-Language,
   og:locale, html lang);
3. a hint alone when the text is too short to judge.
Short or mixed text gets a low confidence or ``und``, never a confident wrong
label. Figures and how the default was chosen: docs/language.md.
"""

from __future__ import annotations

import functools
import logging
import os
import unicodedata
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from crawler.items import Article

log = logging.getLogger(__name__)

UNDETERMINED = "und"
MIN_DETECT_CHARS = 20
MAX_DETECT_CHARS = 5000  # the lead of an article says its language; the rest only costs time
# The order in which hints are trusted: what the outlet configured in our
# sources file is checked by us, a news sitemap's news:language is written for
# Google News on purpose; html lang is often a CMS default.
HINT_ORDER = ("source", "sitemap", "jsonld", "content_language", "og_locale", "html_lang")
# The languages the topic is tracked in. Detectors split probability with
# close relatives outside it (Dutch with Afrikaans, Spanish with Galician);
# when a tracked language has a real share, the guesses are renormalised
# over the tracked ones. A text clearly in another language (Ukrainian,
# Portuguese) keeps its label rather than being forced into a tracked one.
TRACKED = frozenset({"en", "ko", "es", "nl", "fr", "de", "zh", "ja", "ru"})
MIN_TRACKED_SHARE = 0.1
# Below this share the detector has no majority and the text is ``und``.
MIN_LABEL_PROB = 0.5

# Chosen on tests/fixtures/langid/labelled.yaml with bench/lang_compare.py.
DETECTORS = ("py3langid", "lingua", "langdetect")
DEFAULT_DETECTOR = "py3langid"
DETECTOR_ENV = "REAIM_LANGID"

Guesses = list[tuple[str, float]]


@dataclass(frozen=True)
class LanguageResult:
    language: str
    confidence: float
    method: str


def _script_counts(text: str) -> Counter[str]:
    counts: Counter[str] = Counter()
    for ch in text:
        if not ch.isalpha():
            continue
        code = ord(ch)
        if 0xAC00 <= code <= 0xD7A3 or 0x1100 <= code <= 0x11FF or 0x3130 <= code <= 0x318F:
            counts["hangul"] += 1
        elif 0x3040 <= code <= 0x30FF or 0x31F0 <= code <= 0x31FF:
            counts["kana"] += 1
        elif 0x4E00 <= code <= 0x9FFF or 0x3400 <= code <= 0x4DBF or 0xF900 <= code <= 0xFAFF:
            counts["han"] += 1
        elif 0x0400 <= code <= 0x04FF:
            counts["cyrillic"] += 1
        elif unicodedata.name(ch, "").startswith("LATIN"):
            counts["latin"] += 1
        else:
            counts["other"] += 1
    return counts


def _encodes(ch: str, codec: str) -> bool:
    try:
        ch.encode(codec)
    except UnicodeEncodeError:
        return False
    return True


@functools.lru_cache(maxsize=8192)
def _han_form(ch: str) -> str:
    """Which language a Han character's form belongs to, from the national charsets.

    In JIS X 0208 but in neither GB2312 nor Big5 (脳 経 塁 気) is a Japanese
    form; in GB2312 or Big5 but not in JIS (脑 经 们 查) is a Chinese one;
    shared characters (日 本 会 国) say nothing. Codecs ship with Python: no
    table to maintain.
    """
    in_jis = _encodes(ch, "shift_jis")
    in_zh = _encodes(ch, "gb2312") or _encodes(ch, "big5")
    if in_jis and not in_zh:
        return "ja"
    if in_zh and not in_jis:
        return "zh"
    return ""


def _by_script(text: str, hint: str | None) -> LanguageResult | None:
    """Settle CJK outright from the script mix, where statistics are least reliable."""
    counts = _script_counts(text)
    letters = sum(counts.values())
    if not letters:
        return None
    hangul, kana, han = counts["hangul"], counts["kana"], counts["han"]
    if hangul / letters >= 0.3:
        return LanguageResult("ko", round(min(0.99, 0.7 + hangul / letters), 3), "script:hangul")
    if kana and kana / letters >= 0.05 and (kana + han) / letters >= 0.3:
        return LanguageResult("ja", round(min(0.99, 0.7 + (kana + han) / letters), 3), "script:kana")
    if han / letters < 0.5 or kana or hangul:
        return None
    forms = Counter(_han_form(ch) for ch in text if 0x4E00 <= ord(ch) <= 0x9FFF)
    margin = forms["ja"] - forms["zh"]
    if margin:
        confidence = round(min(0.99, 0.7 + 0.05 * abs(margin)), 3)
        return LanguageResult("ja", confidence, "script:kanji") if margin > 0 else LanguageResult("zh", confidence, "script:han")
    # Nothing but shared characters: Chinese is the likelier reading, but a
    # kanji-only Japanese headline looks the same, so a short one stays unsure.
    if hint in ("zh", "ja"):
        return LanguageResult(hint, 0.9 if hint == "zh" else 0.6, "script:han+hint")
    return LanguageResult("zh", 0.45 if han < 20 else 0.8, "script:han")


def _normalise_code(code: str | None) -> str | None:
    if not code:
        return None
    code = code.strip().replace("_", "-").lower()
    if not code:
        return None
    base = code.split("-")[0]
    return base if 2 <= len(base) <= 3 and base.isalpha() else None


def _renormalise(guesses: Guesses) -> Guesses:
    """Best first; over the tracked languages when one of them has a real share."""
    merged: Counter[str] = Counter()
    for lang, p in guesses:
        merged["zh" if lang.startswith("zh") else lang] += p
    out = merged.most_common()
    tracked_share = sum(p for lang, p in out if lang in TRACKED)
    if tracked_share >= MIN_TRACKED_SHARE:
        out = [(lang, p / tracked_share) for lang, p in out if lang in TRACKED]
    return out


def _langdetect(text: str) -> Guesses:
    from langdetect import DetectorFactory, detect_langs
    from langdetect.lang_detect_exception import LangDetectException

    DetectorFactory.seed = 0  # unseeded it answers differently from run to run
    try:
        results = detect_langs(text)
    except LangDetectException:
        return []
    return _renormalise([(r.lang, float(r.prob)) for r in results])


@functools.cache
def _py3langid_model() -> Any:
    """The full model (all its languages), so an untracked text can keep its label."""
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    return LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)


def _py3langid(text: str) -> Guesses:
    return _renormalise(_py3langid_model().rank(text))


@functools.cache
def _lingua_model() -> Any:
    """Tracked languages only: lingua's memory grows with every language it holds."""
    from lingua import IsoCode639_1, LanguageDetectorBuilder

    codes = [IsoCode639_1.from_str(code) for code in sorted(TRACKED)]
    return LanguageDetectorBuilder.from_iso_codes_639_1(*codes).build()


def _lingua(text: str) -> Guesses:
    values = _lingua_model().compute_language_confidence_values(text)
    return _renormalise([(v.language.iso_code_639_1.name.lower(), float(v.value)) for v in values])


_BACKENDS: dict[str, Callable[[str], Guesses]] = {"py3langid": _py3langid, "lingua": _lingua, "langdetect": _langdetect}
_MODULES = {"py3langid": "py3langid", "lingua": "lingua"}


@functools.cache
def _available(name: str) -> str:
    """``name`` if its library imports, else langdetect (a hard dependency) with one warning."""
    module = _MODULES.get(name)
    if module is None:
        return name
    try:
        __import__(module)
    except ImportError:
        log.warning("language detector %r is not installed (pip install %s); falling back to langdetect", name, module)
        return "langdetect"
    return name


def resolve_detector(detector: str | None = None) -> str:
    """The detector to run: the argument, else ``$REAIM_LANGID``, else the default.

    An unknown name passed in code is a bug and raises; an unknown name in the
    environment is a typo in a deployment and only warns. A library that is
    not installed falls back to langdetect, never crashes.
    """
    if detector is not None and detector not in DETECTORS:
        raise ValueError(f"unknown language detector {detector!r}; choose from {', '.join(DETECTORS)}")
    if detector is None:
        env = os.environ.get(DETECTOR_ENV, "").strip().lower()
        if env and env not in DETECTORS:
            log.warning("%s=%r is not one of %s; using %s", DETECTOR_ENV, env, ", ".join(DETECTORS), DEFAULT_DETECTOR)
        detector = env if env in DETECTORS else DEFAULT_DETECTOR
    return _available(detector)


def _pick_hint(hints: Mapping[str, str | None] | None) -> str | None:
    """The majority of the declared languages; ties go to the most trusted key."""
    clean = {k: c for k, v in (hints or {}).items() if (c := _normalise_code(v))}
    ordered = [clean[k] for k in HINT_ORDER if k in clean]
    ordered += [v for k, v in clean.items() if k not in HINT_ORDER]
    return Counter(ordered).most_common(1)[0][0] if ordered else None


def detect_language(
    text: str | None, hints: Mapping[str, str | None] | None = None, detector: str | None = None
) -> LanguageResult:
    """Reconcile the text's evidence with the declared hints; see the module docstring."""
    hint = _pick_hint(hints)
    text = (text or "").strip()

    scripted = _by_script(text, hint) if text else None
    if scripted is not None:
        return scripted

    if len(text) < MIN_DETECT_CHARS:
        if hint:
            return LanguageResult(hint, 0.5, "hint")
        return LanguageResult(UNDETERMINED, 0.0, "too-short")

    name = resolve_detector(detector)
    guesses = _BACKENDS[name](text[:MAX_DETECT_CHARS])
    if not guesses:
        return LanguageResult(hint, 0.5, "hint") if hint else LanguageResult(UNDETERMINED, 0.0, "undetectable")
    best, prob = guesses[0]
    hinted_prob = dict(guesses).get(hint or "", 0.0)
    # Short text: every detector is weaker on a 30-character title than on a
    # paragraph (and langdetect says 1.0 when wrong), so a title alone stays
    # below 0.5 and agreement with a hint is what earns confidence.
    length_factor = min(1.0, 0.25 + len(text) / 160)
    if hint and best == hint:
        return LanguageResult(best, round(max(prob, 0.9), 3), f"{name}+hint")
    if hint and hinted_prob >= 0.2:
        return LanguageResult(hint, round(0.5 + hinted_prob / 2, 3), f"hint+{name}")
    if prob >= 0.9 and (len(text) >= 80 or not hint):
        method = f"{name}-overrides-hint" if hint else name
        return LanguageResult(best, round(prob * length_factor, 3), method)
    if hint:
        return LanguageResult(hint, 0.5, "hint")
    if prob >= MIN_LABEL_PROB:
        return LanguageResult(best, round(prob * length_factor * 0.8, 3), f"{name}-weak")
    return LanguageResult(UNDETERMINED, round(prob * length_factor * 0.5, 3), "ambiguous")


def detect_article_language(article: Article, detector: str | None = None) -> LanguageResult:
    sample = "\n".join(x for x in (article.title, article.text) if x)
    return detect_language(sample, article.language_hints, detector)


class LanguagePipeline:
    def process_item(self, item):  # type: ignore[no-untyped-def]
        from pipeline.runtime import as_article

        article = as_article(item)
        if article is None:
            return item
        result = detect_article_language(article)
        article.language = result.language
        article.language_confidence = result.confidence
        article.language_method = result.method
        return article

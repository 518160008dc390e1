"""Stage 3: decide the article's language from its text and what the page declares.

A cascade, cheapest and surest first:
1. script: Hangul means Korean and kana means Japanese, whatever the page says;
2. langdetect on the body text (seeded: unseeded it answers differently from
   run to run), reconciled with the declared hints (html lang, og:locale,
   Content-Language, the source's configured language);
3. a hint alone when the text is too short to judge.
Short or mixed text gets a low confidence or ``und``, never a confident
wrong label.
"""

from __future__ import annotations

import unicodedata
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass

from crawler.items import Article

UNDETERMINED = "und"
MIN_DETECT_CHARS = 20
# The order in which hints are trusted: what the outlet configured in our
# sources file is checked by us; html lang is often a CMS default.
HINT_ORDER = ("source", "jsonld", "content_language", "og_locale", "html_lang")
# The languages the topic is tracked in. langdetect splits probability with
# close relatives outside it (Dutch with Afrikaans, Spanish with Galician);
# when a tracked language has a real share, the guesses are renormalised
# over the tracked ones. A text clearly in another language keeps its label.
TRACKED = frozenset({"en", "ko", "es", "nl", "fr", "de", "zh", "ja", "ru"})
MIN_TRACKED_SHARE = 0.1


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


def _by_script(text: str) -> LanguageResult | None:
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
    if han / letters >= 0.5 and not kana and not hangul:
        return LanguageResult("zh", round(min(0.99, 0.6 + han / letters), 3), "script:han")
    return None


def _normalise_code(code: str | None) -> str | None:
    if not code:
        return None
    code = code.strip().replace("_", "-").lower()
    if not code:
        return None
    base = code.split("-")[0]
    return base if 2 <= len(base) <= 3 and base.isalpha() else None


def _langdetect(text: str) -> list[tuple[str, float]]:
    from langdetect import DetectorFactory, detect_langs
    from langdetect.lang_detect_exception import LangDetectException

    DetectorFactory.seed = 0
    try:
        results = detect_langs(text[:5000])
    except LangDetectException:
        return []
    out = [("zh" if r.lang.startswith("zh") else r.lang, float(r.prob)) for r in results]
    tracked_share = sum(p for lang, p in out if lang in TRACKED)
    if tracked_share >= MIN_TRACKED_SHARE:
        out = [(lang, p / tracked_share) for lang, p in out if lang in TRACKED]
    return out


def detect_language(text: str | None, hints: Mapping[str, str | None] | None = None) -> LanguageResult:
    """Reconcile the text's evidence with the declared hints; see the module docstring."""
    clean_hints = {k: c for k, v in (hints or {}).items() if (c := _normalise_code(v))}
    ordered = [clean_hints[k] for k in HINT_ORDER if k in clean_hints]
    ordered += [v for k, v in clean_hints.items() if k not in HINT_ORDER]
    hint = Counter(ordered).most_common(1)[0][0] if ordered else None
    text = (text or "").strip()

    scripted = _by_script(text) if text else None
    if scripted is not None:
        return scripted

    if len(text) < MIN_DETECT_CHARS:
        if hint:
            return LanguageResult(hint, 0.5, "hint")
        return LanguageResult(UNDETERMINED, 0.0, "too-short")

    guesses = _langdetect(text)
    if not guesses:
        return LanguageResult(hint, 0.5, "hint") if hint else LanguageResult(UNDETERMINED, 0.0, "undetectable")
    best, prob = guesses[0]
    hinted_prob = dict(guesses).get(hint or "", 0.0)
    # Short text: langdetect is weak (0.88 on 30-character snippets), so
    # agreement with a hint is what earns confidence.
    length_factor = min(1.0, 0.5 + len(text) / 200)
    if hint and best == hint:
        return LanguageResult(best, round(max(prob, 0.9), 3), "langdetect+hint")
    if hint and hinted_prob >= 0.2:
        return LanguageResult(hint, round(0.5 + hinted_prob / 2, 3), "hint+langdetect")
    if prob >= 0.9 and (len(text) >= 80 or not hint):
        method = "langdetect-overrides-hint" if hint else "langdetect"
        return LanguageResult(best, round(prob * length_factor, 3), method)
    if hint:
        return LanguageResult(hint, 0.5, "hint")
    if prob >= 0.7:
        return LanguageResult(best, round(prob * length_factor * 0.8, 3), "langdetect-weak")
    return LanguageResult(UNDETERMINED, round(prob * length_factor * 0.5, 3), "ambiguous")


def detect_article_language(article: Article) -> LanguageResult:
    sample = "\n".join(x for x in (article.title, article.text) if x)
    return detect_language(sample, article.language_hints)


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

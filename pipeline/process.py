"""The processing stages chained without Scrapy, for articles fetched elsewhere.

Same functions, same order as ITEM_PIPELINES in crawler/settings.py, minus
the archive-backed ones (dedupe, store): ``reaim process`` writes JSON Lines.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from crawler.items import Article
from pipeline.language import detect_article_language
from pipeline.normalize import normalize
from pipeline.relevance import apply_relevance
from pipeline.tag import apply_tags
from pipeline.taxonomy import Taxonomy, load_taxonomy
from pipeline.translate import (
    DEFAULT_MAX_CHARS,
    DEFAULT_TARGET,
    CircuitBreaker,
    MemoryCache,
    TranslationCache,
    Translator,
    apply_outcome,
    translate_article,
)

REQUIRED_FIELDS = ("url", "title", "text")


class BadRecord(ValueError):
    """An input record that cannot be processed; the message says why, in one line."""


@dataclass
class Processor:
    taxonomy: Taxonomy = field(default_factory=load_taxonomy)
    translator: Translator | None = None
    translate: bool = True
    cache: TranslationCache = field(default_factory=MemoryCache)
    target: str = DEFAULT_TARGET
    max_chars: int | None = DEFAULT_MAX_CHARS
    threshold: float = 0.5
    breaker: CircuitBreaker = field(default_factory=CircuitBreaker)

    def article_from_record(self, record: Any) -> Article:
        if not isinstance(record, dict):
            raise BadRecord("expected a JSON object")
        missing = [k for k in REQUIRED_FIELDS if not isinstance(record.get(k), str) or not record[k].strip()]
        if missing:
            raise BadRecord(f"missing or empty field(s): {', '.join(missing)}")
        article = Article.from_dict(record)
        if record.get("language"):
            article.language_hints = {**article.language_hints, "source": str(record["language"])}
            article.language = None
        return article

    def process(self, article: Article) -> Article:
        normalize(article)
        lang = detect_article_language(article)
        article.language, article.language_confidence, article.language_method = lang.language, lang.confidence, lang.method
        apply_relevance(article, self.taxonomy.lexicon, self.threshold)
        if self.translate and article.relevant:
            outcome = translate_article(
                article, self.translator, self.cache, target=self.target, max_chars=self.max_chars, breaker=self.breaker
            )
            apply_outcome(article, outcome)
        apply_tags(article, self.taxonomy)
        return article

    def process_record(self, record: Any) -> dict[str, Any]:
        """Input fields kept, the stages' fields added (the ``reaim process`` contract)."""
        article = self.process(self.article_from_record(record))
        out = dict(record)
        out.update(
            language=article.language,
            language_confidence=article.language_confidence,
            relevant=bool(article.relevant),
            relevance=article.relevance,
            primary_event=article.primary_event,
            events=article.events,
            themes=article.themes,
            evidence=article.evidence,
            endorsements=article.endorsements,
        )
        if article.translation_status is not None:
            out.update(
                title_en=article.title_en,
                text_en=article.text_en,
                translation_status=article.translation_status,
            )
            if article.translation_error:
                out["translation_error"] = article.translation_error
        return out

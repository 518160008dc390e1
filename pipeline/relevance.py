"""Stage 4: is the article about the topic? A score from the relevance lexicon.

The lexicon (``pipeline/taxonomy/lexicon.yaml``) holds weighted groups of
terms per language. Scoring, all from the data:

* each group found contributes its weight; a term in the title counts
  ``title_factor`` times (capped at ``max_item_weight``); a term of a language
  other than the article's and English is discounted
  (``secondary_language_factor``);
* further distinct terms of the same group (or of the same ``bucket``) add
  less and less: ``1 - prod(1 - w_i * decay**i)``;
* a pair group (an AI term AND a military term) counts fully when the two
  are within ``near_chars`` of each other, ``far_factor`` of it otherwise;
* a group with ``requires`` counts only when one of those groups is present;
* groups combine as independent evidence: ``score = 1 - prod(1 - c)``;
* when the text has paragraphs but names the topic only in short lines (a
  "most read" box, related links), the score is multiplied by
  ``isolated_factor``: boilerplate that extraction let through.

So "REAIM" or the summit's name settles it, an outcome document or the
"AI in the military domain" framing nearly does, and generic words (AI,
summit, Seoul, military) add up to little on their own.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from pipeline.taxonomy import Lexicon, LexiconGroup
from pipeline.textmatch import Hit, language_order, normalize_text

DEFAULT_THRESHOLD = 0.5


@dataclass(frozen=True)
class Relevance:
    score: float  # 0..1
    relevant: bool  # score >= threshold
    evidence: list[str] = field(default_factory=list)  # matched terms, as found in the text


@dataclass(frozen=True)
class _Found:
    hit: Hit
    in_title: bool


def _find(title: str | None, text: str | None, order: list[str], lexicon: Lexicon) -> list[_Found]:
    found: list[_Found] = []
    for value, in_title in ((title, True), (text, False)):
        if value and value.strip():
            norm = normalize_text(value)
            found += [_Found(h, in_title) for h in lexicon.matcher.find(norm, order)]
    return found


def _combine(weights: list[float], decay: float) -> float:
    rest = 1.0
    for i, w in enumerate(sorted(weights, reverse=True)):
        rest *= 1.0 - w * decay**i
    return 1.0 - rest


def _pair(group: LexiconGroup, found: list[_Found], weight_of) -> tuple[float, list[str]]:  # type: ignore[no-untyped-def]
    """The pair's contribution and the two terms that earned it."""
    side_names = list(group.sides)
    a = [f for f in found if f.hit.key[1] == side_names[0]]
    b = [f for f in found if f.hit.key[1] == side_names[1]]
    if not a or not b:
        return 0.0, []
    best, terms = 0.0, []
    for fa in a[:50]:
        for fb in b[:50]:
            same_field = fa.in_title == fb.in_title
            near = same_field and abs(fa.hit.nstart - fb.hit.nstart) <= group.near_chars
            # the weaker side's weight (with its title and language factors), less when far apart
            w = (1.0 if near else group.far_factor) * min(weight_of(fa), weight_of(fb))
            if w > best:
                best, terms = w, [fa.hit.found, fb.hit.found]
    return best, terms


def _only_in_asides(
    found: list[_Found], earned: dict[str, tuple[list[float], list[str]]], lexicon: Lexicon, text: str | None
) -> bool:
    """True when the text has paragraphs but the topic is named only in short lines
    ("most read" boxes, related links, captions), not in the title or the prose."""
    if not text or lexicon.prose_line_chars <= 0:
        return False
    lines = [len(line.strip()) for line in text.splitlines()]
    if not any(n >= lexicon.prose_line_chars for n in lines):
        return False
    core = {gid for gid in earned if not lexicon.group_by_id[gid].requires}
    for f in found:
        if f.hit.key[0] not in core:
            continue
        if f.in_title:
            return False
        line_start = text.rfind("\n", 0, f.hit.start) + 1
        line_end = text.find("\n", f.hit.end)
        if len(text[line_start : line_end if line_end >= 0 else len(text)].strip()) >= lexicon.prose_line_chars:
            return False
    return True


def score_relevance(
    title: str | None,
    text: str | None,
    language: str | None,
    lexicon: Lexicon,
    threshold: float = DEFAULT_THRESHOLD,
) -> Relevance:
    """Score an article against the lexicon (see the module docstring)."""
    result = _score_relevance(title, text, language, lexicon, threshold)
    return Relevance(result.score, result.relevant, list(result.evidence))  # the cached list stays ours


@lru_cache(maxsize=32)  # the tag stage asks again about the article just scored
def _score_relevance(
    title: str | None, text: str | None, language: str | None, lexicon: Lexicon, threshold: float
) -> Relevance:
    order, primary = language_order(language, lexicon.languages)
    found = _find(title, text, order, lexicon)
    if not found:
        return Relevance(0.0, False, [])

    def weight_of(f: _Found) -> float:
        group = lexicon.group_by_id[f.hit.key[0]]
        w = group.weight * f.hit.key[2]
        if f.in_title:
            w *= lexicon.title_factor
        if primary is not None and f.hit.language not in primary:
            w *= lexicon.secondary_language_factor
        return min(w, lexicon.max_item_weight)

    by_group: dict[str, list[_Found]] = defaultdict(list)
    for f in found:
        group = lexicon.group_by_id[f.hit.key[0]]
        if group.primary_only and primary is not None and f.hit.language not in primary:
            continue
        by_group[group.id].append(f)

    # group id -> (item weights, terms as found)
    earned: dict[str, tuple[list[float], list[str]]] = {}
    for group in lexicon.groups:
        items = by_group.get(group.id)
        if not items:
            continue
        if group.requires and not any(r in earned for r in group.requires):
            continue
        if group.kind == "pair":
            w, terms = _pair(group, items, weight_of)
            if w > 0:
                earned[group.id] = ([w], terms)
            continue
        best: dict[str, tuple[float, str]] = {}  # data term -> (best weight, first surface form)
        for f in items:
            w = weight_of(f)
            if f.hit.term not in best or w > best[f.hit.term][0]:
                best[f.hit.term] = (w, best.get(f.hit.term, (0.0, f.hit.found))[1])
        earned[group.id] = ([w for w, _ in best.values()], [s for _, s in best.values()])

    buckets: dict[str, list[float]] = defaultdict(list)
    ranked: list[tuple[float, str]] = []
    for gid, (weights, terms) in earned.items():
        group = lexicon.group_by_id[gid]
        buckets[group.bucket or gid] += weights
        ranked += [(max(weights), t) for t in terms]
    rest = 1.0
    for weights in buckets.values():
        rest *= 1.0 - _combine(weights, lexicon.decay)
    score = 1.0 - rest
    if score > 0 and _only_in_asides(found, earned, lexicon, text):
        score *= lexicon.isolated_factor
    score = round(score, 3)

    evidence: list[str] = []
    seen: set[str] = set()
    for _, term in sorted(ranked, key=lambda x: -x[0]):
        key = " ".join(term.casefold().split())
        if key not in seen:
            seen.add(key)
            evidence.append(term)
    return Relevance(score, score >= threshold, evidence[:20])


def apply_relevance(article: Any, lexicon: Lexicon, threshold: float = DEFAULT_THRESHOLD) -> Relevance:
    """Score an ``Article`` and set its relevant, relevance and relevance_evidence fields."""
    rel = score_relevance(article.title, article.text, article.language, lexicon, threshold)
    article.relevant, article.relevance, article.relevance_evidence = rel.relevant, rel.score, list(rel.evidence)
    return rel


class RelevancePipeline:
    """Scrapy adapter: score, then drop what is off-topic (counted, logged, not archived).

    ``RELEVANCE_KEEP_OFF_TOPIC = True`` archives off-topic articles too, with
    ``relevant = 0``, for auditing the lexicon.
    """

    def __init__(self, crawler):  # type: ignore[no-untyped-def]
        self.crawler = crawler
        self.threshold = crawler.settings.getfloat("RELEVANCE_THRESHOLD", DEFAULT_THRESHOLD)
        self.keep_off_topic = crawler.settings.getbool("RELEVANCE_KEEP_OFF_TOPIC", False)

    @classmethod
    def from_crawler(cls, crawler):  # type: ignore[no-untyped-def]
        return cls(crawler)

    def process_item(self, item):  # type: ignore[no-untyped-def]
        from pipeline.runtime import as_article, crawl_context, stats_inc

        article = as_article(item)
        if article is None:
            return item
        rel = apply_relevance(article, crawl_context(self.crawler).taxonomy.lexicon, self.threshold)
        if rel.relevant:
            stats_inc(self.crawler, "relevance/relevant")
            return article
        stats_inc(self.crawler, "relevance/off_topic")
        if self.keep_off_topic:
            return article
        self.drop_off_topic(article, rel)

    def drop_off_topic(self, article, rel: Relevance) -> None:  # type: ignore[no-untyped-def]
        """Remember the URLs as off-topic (not fetched again), then drop the item."""
        from scrapy.exceptions import DropItem

        from archive.crawlstate import mark_seen
        from crawler.urls import canonicalize
        from pipeline.runtime import crawl_context

        ctx = crawl_context(self.crawler)
        urls = [canonicalize(u) for u in (article.url, article.canonical_url, *article.aliases) if u]
        mark_seen(ctx.db, urls, outcome="off_topic", source_id=article.source_id,
                  reason=f"relevance {rel.score}", run_id=ctx.run_id)
        raise DropItem(f"off-topic (relevance {rel.score}): {article.url}", log_level="INFO")

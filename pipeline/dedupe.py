"""Stage 2: find duplicates, by URL and by text.

Two kinds of duplicate reach the archive:
- the same page under several URLs (tracking parameters, AMP): the extractor
  already folds these to one canonical URL, so the article id matches;
- the same story under another outlet's URL (a wire copy): only the text can
  tell. Republications change the dateline, the byline and a sentence or two,
  so the test is the Jaccard similarity of character 5-gram sets (character
  n-grams need no word segmentation, which matters for Chinese and Japanese),
  estimated with MinHash and looked up through LSH (datasketch).

SimHash with a small Hamming radius was tried first and missed a real wire
copy (distance 10 of 64 for a changed dateline and an added byline); Jaccard
over shingles degrades gracefully with such edits (0.9 for the same pair).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

import numpy as np
from datasketch import LeanMinHash, MinHash, MinHashLSH

from crawler.items import Article

SHINGLE = 5
NUM_PERM = 64
THRESHOLD = 0.6  # estimated Jaccard at or above which two texts are one story
# Across languages the English sides are compared: a machine translation and
# the English original share fewer 5-grams than two copies do, so the bar is
# lower, and such articles are linked as one story (story_links), never folded.
# Not yet tuned on real machine translations: measure before relying on it.
CROSS_THRESHOLD = 0.4
MIN_TEXT_CHARS = 200  # below this a signature says too little to call two texts the same
_NON_WORD = re.compile(r"[\W_]+", re.UNICODE)
_SEED = 1  # fixed: signatures stored in the archive must stay comparable across runs


def shingles(text: str) -> set[bytes]:
    compact = _NON_WORD.sub("", text.casefold())
    if len(compact) <= SHINGLE:
        return {compact.encode("utf-8")}
    return {compact[i : i + SHINGLE].encode("utf-8") for i in range(len(compact) - SHINGLE + 1)}


def minhash(text: str) -> LeanMinHash:
    m = MinHash(num_perm=NUM_PERM, seed=_SEED)
    m.update_batch(list(shingles(text)))
    return LeanMinHash(m)


def to_hex(sig: LeanMinHash) -> str:
    """Compact storable form (the hash values fit in 32 bits)."""
    return sig.hashvalues.astype(np.uint32).tobytes().hex()


def from_hex(value: str) -> LeanMinHash:
    values = np.frombuffer(bytes.fromhex(value), dtype=np.uint32).astype(np.uint64)
    return LeanMinHash(seed=_SEED, hashvalues=values)


def similarity(a: str, b: str) -> float:
    """Exact Jaccard similarity of two texts' shingle sets (for tests and audits)."""
    sa, sb = shingles(a), shingles(b)
    return len(sa & sb) / len(sa | sb) if sa or sb else 1.0


class NearDuplicateIndex:
    """LSH over MinHash signatures; answers "which indexed text is this one a copy of"."""

    def __init__(self, entries: Iterable[tuple[str, LeanMinHash]] = (), *, threshold: float = THRESHOLD) -> None:
        self.threshold = threshold
        self._lsh = MinHashLSH(threshold=threshold, num_perm=NUM_PERM)
        self._sigs: dict[str, LeanMinHash] = {}
        for article_id, sig in entries:
            self.add(article_id, sig)

    def remove(self, article_id: str) -> None:
        if self._sigs.pop(article_id, None) is not None:
            self._lsh.remove(article_id)

    def add(self, article_id: str, sig: LeanMinHash) -> None:
        if article_id in self._sigs:
            return
        self._sigs[article_id] = sig
        self._lsh.insert(article_id, sig)

    def nearest(self, sig: LeanMinHash, *, exclude: str | None = None) -> tuple[str, float] | None:
        """The most similar indexed article at or above THRESHOLD, as (id, estimated Jaccard)."""
        best: tuple[str, float] | None = None
        for article_id in self._lsh.query(sig):
            if article_id == exclude:
                continue
            score = sig.jaccard(self._sigs[article_id])
            if score >= self.threshold and (best is None or score > best[1]):
                best = (article_id, score)
        return best


def english_side(article: Article) -> str | None:
    """The article's text in English: its own, or its finished translation."""
    if article.language == "en":
        return article.text
    return article.text_en if article.translation_status == "done" else None


def fingerprint_en(article: Article) -> LeanMinHash | None:
    text = english_side(article)
    if not text or len(text) < MIN_TEXT_CHARS:
        return None
    return minhash(text)


def fingerprint(article: Article) -> LeanMinHash | None:
    """The article's signature, or None when its text is too short to compare."""
    if not article.text or len(article.text) < MIN_TEXT_CHARS:
        return None
    return minhash(article.text)


def is_earlier(a: str | None, b: str | None) -> bool:
    """True when publication date ``a`` is known and strictly before ``b`` (UTC ISO strings compare as text)."""
    return bool(a) and (not b or a < b)  # type: ignore[operator]


class UrlVariantPipeline:
    """Marks a page whose canonical id was already seen this run (utm, AMP, m. copies).

    Early, so that translation skips it; the store stage records it as an alias.
    """

    def __init__(self) -> None:
        self.seen_ids: set[str] = set()

    def process_item(self, item):  # type: ignore[no-untyped-def]
        from pipeline.runtime import as_article

        article = as_article(item)
        if article is None:
            return item
        if article.id in self.seen_ids:
            article.duplicate_of = article.id
        self.seen_ids.add(article.id)
        return article


class DedupePipeline:
    """Folds a second copy of a story into the first, recording its URL as an alias.

    Runs just before the store stage, on relevant articles only, so that every
    alias points at a row that exists, and so that the check and the write of
    one item happen together (both stages are synchronous).

    URL variants arrive marked by ``UrlVariantPipeline``; a text at THRESHOLD similarity or more to an archived article's is a
    republication. Which copy is the original does not depend on crawl order:
    the earlier-published one wins, and if it arrives second the archived copy
    is demoted to an alias (``supersedes``). A re-crawl of an archived article
    is neither: it flows on and is upserted.
    """

    def __init__(self, crawler):  # type: ignore[no-untyped-def]
        self.crawler = crawler
        self.index: NearDuplicateIndex | None = None
        self.published: dict[str, str | None] = {}
        self.en_index: NearDuplicateIndex | None = None
        self.languages: dict[str, str | None] = {}

    @classmethod
    def from_crawler(cls, crawler):  # type: ignore[no-untyped-def]
        return cls(crawler)

    def _index(self) -> NearDuplicateIndex:
        if self.index is None:
            from pipeline.runtime import crawl_context

            db = crawl_context(self.crawler).db
            rows = db.execute(
                "select id, fingerprint, published from articles where fingerprint is not null"
            ).fetchall()
            self.published = {row[0]: row[2] for row in rows}
            self.index = NearDuplicateIndex((row[0], from_hex(row[1])) for row in rows)
        return self.index

    def process_item(self, item):  # type: ignore[no-untyped-def]
        from pipeline.runtime import as_article, stats_inc

        article = as_article(item)
        if article is None:
            return item
        if article.duplicate_of:
            stats_inc(self.crawler, "dedupe/url_variant")
            return article
        sig = fingerprint(article)
        if sig is None:
            return article
        article.fingerprint = to_hex(sig)
        index = self._index()
        match = index.nearest(sig, exclude=article.id)
        if match is not None:
            original, _score = match
            stats_inc(self.crawler, "dedupe/near_duplicate")
            if not is_earlier(article.published, self.published.get(original)):
                article.duplicate_of = original
                return article
            article.supersedes = original  # the archived copy was the republication
            index.remove(original)
        index.add(article.id, sig)
        self.published[article.id] = article.published
        self._link_across_languages(article)
        return article

    def _link_across_languages(self, article: Article) -> None:
        """The same story in another language, found through the English sides."""
        sig = fingerprint_en(article)
        if sig is None:
            return
        article.fingerprint_en = to_hex(sig)
        if self.en_index is None:
            from pipeline.runtime import crawl_context

            rows = crawl_context(self.crawler).db.execute(
                "select id, fingerprint_en, language from articles where fingerprint_en is not null").fetchall()
            self.languages.update({r[0]: r[2] for r in rows})
            self.en_index = NearDuplicateIndex(((r[0], from_hex(r[1])) for r in rows), threshold=CROSS_THRESHOLD)
        match = self.en_index.nearest(sig, exclude=article.id)
        if match is not None and self.languages.get(match[0]) != article.language:
            article.story_of, article.story_similarity = match[0], round(match[1], 3)
        self.en_index.add(article.id, sig)
        self.languages[article.id] = article.language

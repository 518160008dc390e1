"""Stage 2: find duplicates, by URL and by text.

Two kinds of duplicate reach the archive:
- the same page under several URLs (tracking parameters, AMP): the extractor
  already folds these to one canonical URL, so the article id matches;
- the same story under another outlet's URL (a wire copy): only the text can
  tell. A 64-bit SimHash of character shingles catches near-identical bodies
  in any script (character n-grams need no word segmentation, which matters
  for Chinese and Japanese).

The index is banded (4 bands of 16 bits): two fingerprints within Hamming
distance 3 share at least one band exactly (pigeonhole), so a lookup compares
against one bucket per band instead of the whole archive.
"""

from __future__ import annotations

import hashlib
import re
from collections import defaultdict
from collections.abc import Iterable

from crawler.items import Article

SHINGLE = 5
MAX_DISTANCE = 3
MIN_TEXT_CHARS = 200  # below this a fingerprint says too little to call two texts the same
_BANDS = 4
_BAND_BITS = 64 // _BANDS
_NON_WORD = re.compile(r"[\W_]+", re.UNICODE)


def simhash(text: str) -> int:
    """64-bit SimHash over character shingles of the letters and digits of ``text``."""
    compact = _NON_WORD.sub("", text.casefold())
    if len(compact) <= SHINGLE:
        grams = [compact]
    else:
        grams = [compact[i : i + SHINGLE] for i in range(len(compact) - SHINGLE + 1)]
    weights = [0] * 64
    for gram in grams:
        h = int.from_bytes(hashlib.blake2b(gram.encode("utf-8"), digest_size=8).digest(), "big")
        for bit in range(64):
            weights[bit] += 1 if h >> bit & 1 else -1
    value = 0
    for bit, weight in enumerate(weights):
        if weight > 0:
            value |= 1 << bit
    return value


def hamming(a: int, b: int) -> int:
    return (a ^ b).bit_count()


def _bands(fp: int) -> list[tuple[int, int]]:
    mask = (1 << _BAND_BITS) - 1
    return [(i, fp >> (i * _BAND_BITS) & mask) for i in range(_BANDS)]


class SimhashIndex:
    """In-memory banded index of (article id, fingerprint)."""

    def __init__(self, entries: Iterable[tuple[str, int]] = ()) -> None:
        self._buckets: dict[tuple[int, int], list[tuple[str, int]]] = defaultdict(list)
        for article_id, fp in entries:
            self.add(article_id, fp)

    def add(self, article_id: str, fp: int) -> None:
        for band in _bands(fp):
            self._buckets[band].append((article_id, fp))

    def nearest(self, fp: int, *, exclude: str | None = None) -> tuple[str, int] | None:
        """The closest indexed article within MAX_DISTANCE, as (id, distance)."""
        best: tuple[str, int] | None = None
        for band in _bands(fp):
            for article_id, other in self._buckets.get(band, ()):
                if article_id == exclude:
                    continue
                distance = hamming(fp, other)
                if distance <= MAX_DISTANCE and (best is None or distance < best[1]):
                    best = (article_id, distance)
        return best


def fingerprint(article: Article) -> int | None:
    """The article's SimHash, or None when its text is too short to compare."""
    if not article.text or len(article.text) < MIN_TEXT_CHARS:
        return None
    return simhash(article.text)


class DedupePipeline:
    """Drops a second copy of a story, recording its URL as an alias of the first.

    A canonical id seen earlier in the same run is a URL variant (utm, AMP); a
    text within MAX_DISTANCE of another article's is a republication. A
    re-crawl of an archived article is neither: it flows on and is upserted.
    """

    def __init__(self, crawler):  # type: ignore[no-untyped-def]
        self.crawler = crawler
        self.index: SimhashIndex | None = None
        self.seen_ids: set[str] = set()

    @classmethod
    def from_crawler(cls, crawler):  # type: ignore[no-untyped-def]
        return cls(crawler)

    def _index(self) -> SimhashIndex:
        if self.index is None:
            from pipeline.runtime import crawl_context

            db = crawl_context(self.crawler).db
            rows = db.execute(
                "select id, fingerprint from articles where fingerprint is not null"
            ).fetchall()
            self.index = SimhashIndex((row[0], int(row[1], 16)) for row in rows)
        return self.index

    def process_item(self, item):  # type: ignore[no-untyped-def]
        from scrapy.exceptions import DropItem

        from archive.store import add_alias
        from pipeline.runtime import as_article, crawl_context, stats_inc

        article = as_article(item)
        if article is None:
            return item
        db = crawl_context(self.crawler).db
        if article.id in self.seen_ids:
            add_alias(db, article.url, article.id, "url-variant", article.outlet)
            stats_inc(self.crawler, "dedupe/url_variant")
            raise DropItem(f"URL variant of {article.canonical_url}", log_level="INFO")
        fp = fingerprint(article)
        if fp is not None:
            article.fingerprint = f"{fp:016x}"
            match = self._index().nearest(fp, exclude=article.id)
            if match is not None:
                original, distance = match
                add_alias(db, article.canonical_url or article.url, original, "near-duplicate", article.outlet)
                stats_inc(self.crawler, "dedupe/near_duplicate")
                raise DropItem(
                    f"near-duplicate (distance {distance}) of article {original}", log_level="INFO"
                )
            self._index().add(article.id, fp)
        self.seen_ids.add(article.id)
        return article

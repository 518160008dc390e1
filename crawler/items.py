"""The one item type that flows from the crawler through every processing stage.

A dataclass rather than ``scrapy.Item`` so that the same object serves Scrapy
(through itemadapter), ``reaim process`` on JSON Lines and the tests, and so
that type checkers see every field. Stages fill fields in; nothing is removed.
"""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass, field, fields
from typing import Any


def article_id(canonical_url: str) -> str:
    """Stable primary key: the archive upserts on it, so a re-crawl adds nothing twice."""
    return hashlib.sha256(canonical_url.encode("utf-8")).hexdigest()[:16]


@dataclass
class Article:
    # --- where it came from ---------------------------------------------------
    url: str
    canonical_url: str | None = None
    aliases: list[str] = field(default_factory=list)
    source_id: str | None = None
    outlet: str | None = None
    country: str | None = None
    discovered_via: str | None = None  # rss, atom, sitemap, section, jsonl ...
    discovery: dict[str, Any] = field(default_factory=dict)  # feed/sitemap metadata
    fetched_at: str | None = None  # ISO 8601 UTC
    # --- what the extractor found ---------------------------------------------
    title: str | None = None
    text: str | None = None
    html: str | None = None  # decoded page; dropped before storage
    published: str | None = None  # ISO 8601 with UTC offset
    published_raw: str | None = None
    published_method: str | None = None
    authors: list[str] = field(default_factory=list)
    section: str | None = None
    image: str | None = None
    language_hints: dict[str, str] = field(default_factory=dict)  # signal -> code
    encoding: str | None = None
    encoding_method: str | None = None
    mojibake: bool = False
    provenance: dict[str, str] = field(default_factory=dict)  # field -> method
    # --- what the stages decided ----------------------------------------------
    fingerprint: str | None = None  # MinHash signature of the text, hex (pipeline/dedupe.py)
    duplicate_of: str | None = None  # article id of the row this duplicates (stored as an alias)
    supersedes: str | None = None  # article id of an archived copy this one is the original of
    fingerprint_en: str | None = None  # MinHash of the English side (own text or translation)
    story_of: str | None = None  # an article in another language telling the same story
    story_similarity: float | None = None
    language: str | None = None
    language_confidence: float | None = None
    language_method: str | None = None
    relevant: bool | None = None
    relevance: float | None = None
    relevance_evidence: list[str] = field(default_factory=list)
    primary_event: str | None = None
    events: list[str] = field(default_factory=list)
    themes: list[str] = field(default_factory=list)
    evidence: dict[str, Any] = field(default_factory=dict)  # tag id -> evidence
    endorsements: list[dict[str, Any]] = field(default_factory=list)  # pipeline/endorse.py, Endorsement.as_dict()
    title_en: str | None = None
    text_en: str | None = None
    translation_status: str | None = None  # done, pending, not_needed, disabled
    translation_provider: str | None = None
    translation_error: str | None = None
    # --- anything a caller passed that we do not model (reaim process keeps it)
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def id(self) -> str:
        return article_id(self.canonical_url or self.url)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Article:
        """Build from a loose mapping; unknown keys go to ``extra`` and are kept."""
        known = {f.name for f in fields(cls)}
        kwargs = {k: v for k, v in data.items() if k in known and k != "extra"}
        extra = {k: v for k, v in data.items() if k not in known}
        extra.update(data.get("extra") or {})
        return cls(**kwargs, extra=extra)


@dataclass
class FetchFailure:
    """A page or source that could not be fetched or used: recorded, never silently lost.

    Yielded as an item so that the store stage, not the crawler, writes it to
    the archive (the crawler imports nothing of ours but item types).
    """

    url: str
    source_id: str | None
    stage: str  # fetch, extract, discovery ...
    error: str  # one line, no traceback


@dataclass
class PageSkipped:
    """A page fetched and judged not to be an article (index, teaser, document).

    Recorded so that it is neither fetched again nor mistaken for a loss.
    """

    url: str
    source_id: str | None
    kind: str  # too_short, paywall, document
    reason: str

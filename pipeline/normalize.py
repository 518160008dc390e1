"""Stage 1: tidy the text fields so that every later stage sees the same shape."""

from __future__ import annotations

import re
import unicodedata

from crawler.items import Article

_SPACES = re.compile(r"[ \t\u00a0\u3000]+")
_BLANK_LINES = re.compile(r"\n{3,}")
_CONTROL = re.compile(r"[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f\u200b\ufeff]")


def normalize_text(value: str | None) -> str | None:
    """NFC, no control or zero-width characters, single spaces, at most one blank line.

    NFC (not NFKC) keeps full-width CJK punctuation as the outlet wrote it;
    matching stages do their own folding.
    """
    if value is None:
        return None
    value = unicodedata.normalize("NFC", value)
    value = _CONTROL.sub("", value).replace("\r\n", "\n").replace("\r", "\n")
    lines = [_SPACES.sub(" ", line).strip() for line in value.split("\n")]
    value = _BLANK_LINES.sub("\n\n", "\n".join(lines)).strip()
    return value or None


def normalize(article: Article) -> Article:
    article.title = normalize_text(article.title)
    article.text = normalize_text(article.text)
    article.authors = [a for a in (normalize_text(x) for x in article.authors) if a]
    if not article.canonical_url:
        article.canonical_url = article.url
    return article


class NormalizePipeline:
    def process_item(self, item):  # type: ignore[no-untyped-def]
        from pipeline.runtime import as_article

        article = as_article(item)
        return item if article is None else normalize(article)

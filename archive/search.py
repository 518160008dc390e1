"""Searching the archive in every language: ``reaim search``, the Datasette saved query ``search``.

The analysis (how text and queries become tokens) is :mod:`archive.analysis`;
the index and its upkeep are :mod:`archive.search_index`. This module turns a
user's query into one FTS5 MATCH expression, with the language and
relevance filters inside it so that FTS5 ranks and limits from its own
doclists before anything is joined to ``articles``, and makes the snippets.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import Any

import sqlite_utils

from archive.analysis import DEFAULT_ANALYZER, Analyzer, Pattern, Query, Token, _is_cjk_or_hangul, search_tokens
from archive.search_index import (
    BM25_WEIGHTS,
    IDS_TABLE,
    META_TABLE,
    OFF_TOPIC,
    SEARCH_TABLE,
    TEXT_COLUMNS,
    SearchIndexNotReady,
    ensure_search_index,
    index_article,
    language_token,
    rebuild,
    reindex,
    require_ready,
    unindex_article,
)

__all__ = [
    "HIGHLIGHT", "IDS_TABLE", "META_TABLE", "SEARCH_SQL", "SEARCH_TABLE", "SearchIndexNotReady",
    "ensure_search_index", "filtered_expression", "index_article", "match_expression", "rebuild", "reindex",
    "search", "search_tokens", "snippet", "unindex_article",
]

HIGHLIGHT = ("**", "**")


def filtered_expression(text_expression: str, language: str | None = None, include_off_topic: bool = False) -> str:
    """The MATCH expression over the text columns, restricted to a language and to relevant articles."""
    expr = "{" + " ".join(TEXT_COLUMNS) + "} : (" + text_expression + ")"
    if language:
        expr += f' AND language : "{language_token(language)}"'
    if not include_off_topic:
        expr = f"({expr}) NOT flags : {OFF_TOPIC}"
    return expr


def match_expression(query: str | None, language: str | None = None, *, include_off_topic: bool = False,
                     analyzer: Analyzer | None = None) -> str | None:
    """The safe FTS5 MATCH expression for a user's query and filters, or None when nothing in it is searchable.

    What the Datasette function ``reaim_match(:q, :language)`` returns: the
    saved query and ``reaim search`` run the same expression.
    """
    analyzer = analyzer or DEFAULT_ANALYZER
    language = (language or "").lower() or None
    expr = analyzer.match_expression(query, language)
    return None if expr is None else filtered_expression(expr, language, include_off_topic)


# The best `limit` entries come from FTS5 alone (bm25 over its doclists and
# docsize); only they are joined to their articles.
SEARCH_SQL = f"""
with hits as (
  select rowid as entry, bm25({SEARCH_TABLE}, {", ".join(map(str, BM25_WEIGHTS))}) as score
  from {SEARCH_TABLE} where {SEARCH_TABLE} match :match
  order by score limit :limit
)
select a.id, a.canonical_url as url, a.title, a.language, a.published, a.primary_event,
  a.text, a.title_en, a.text_en, hits.score
from hits join {IDS_TABLE} i on i.entry = hits.entry join articles a on a.id = i.article_id
order by hits.score, a.published desc, a.id
"""


def search(db: sqlite_utils.Database, query: str, language: str | None = None, limit: int = 20, *,
           include_off_topic: bool = False, analyzer: Analyzer | None = None) -> list[dict[str, Any]]:
    """Articles matching ``query`` in the original or the English text, best first (bm25).

    Every word of the query must match. ``language`` restricts to articles in
    that language (and lets its stems be used for the query). Off-topic
    articles (relevant != 1) are left out unless ``include_off_topic``.
    Raises :class:`SearchIndexNotReady` when the index needs ``reaim reindex``.
    """
    analyzer = analyzer or DEFAULT_ANALYZER
    language = (language or "").lower() or None
    parsed = analyzer.parse_query(query, language)
    expr = analyzer.expression(parsed)
    if expr is None:
        return []
    require_ready(db, analyzer)
    rows = db.execute(SEARCH_SQL, {"match": filtered_expression(expr, language, include_off_topic),
                                   "limit": int(limit)}).fetchall()
    out = []
    for article_id, url, title, lang, published, primary_event, text, title_en, text_en, score in rows:
        out.append({
            "id": article_id, "url": url, "title": title, "language": lang, "published": published,
            "primary_event": primary_event,
            "snippet": _snippet(parsed, analyzer, lang, title, text, title_en, text_en),
            "title_en": title_en, "score": score,
        })
    return out


def _match_spans(tokens: Sequence[Token], query: Query) -> list[tuple[int, int, int]]:
    """(start, end, group index) of every place a query group matches the token stream."""
    spans = []
    for g, alternatives in enumerate(query.groups):
        for seq in alternatives:
            n = len(seq)
            first, rest = seq[0], seq[1:]
            # A one-character CJK/Hangul query matches bigrams starting with it: mark that character only.
            one_char = n == 1 and first.prefix and _is_cjk_or_hangul(first.forms[0])
            for i in range(len(tokens) - n + 1):
                if first.matches(tokens[i]) and all(p.matches(tokens[i + k]) for k, p in enumerate(rest, 1)):
                    end = tokens[i].start + 1 if one_char else tokens[i + n - 1].end
                    spans.append((tokens[i].start, end, g))
    return sorted(spans)


def _groups_possible(query: Query, forms: set[str]) -> int:
    """How many query groups could match a text with these index forms: an upper bound, without positions."""
    def possible(p: Pattern) -> bool:
        if p.prefix:
            return any(f.startswith(q) for f in forms for q in p.forms)
        return not forms.isdisjoint(p.forms)

    return sum(any(all(possible(p) for p in seq) for seq in alternatives) for alternatives in query.groups)


def snippet(query: str, language: str | None, title: str | None, text: str | None,
            title_en: str | None = None, text_en: str | None = None, *, analyzer: Analyzer | None = None,
            markers: tuple[str, str] = HIGHLIGHT) -> str:
    """A short extract of the text (original first, else English) with the query's matches highlighted."""
    analyzer = analyzer or DEFAULT_ANALYZER
    return _snippet(analyzer.parse_query(query, language), analyzer, language, title, text, title_en, text_en,
                    markers=markers)


def _snippet(query: Query, analyzer: Analyzer, language: str | None, title: str | None, text: str | None,
             title_en: str | None, text_en: str | None, markers: tuple[str, str] = HIGHLIGHT) -> str:
    fields = [(text, language), (title, language), (text_en, "en"), (title_en, "en")]
    # The field matching most query groups; on a tie the earlier one (the original text before the
    # English). Positions need the tokens (slow); a field whose forms cannot beat the best so far is skipped.
    best: tuple[int, str, str, list[tuple[int, int, int]]] | None = None
    for value, lang in fields:
        if not value:
            continue
        spans: list[tuple[int, int, int]] = []
        if query:
            bound = _groups_possible(query, set(analyzer.index_text(value, lang).split()))
            if best is not None and bound <= best[0]:
                continue
            if bound:
                spans = _match_spans(analyzer.tokens(value, lang), query)
        matched = len({g for _, _, g in spans})
        if best is None or matched > best[0]:
            best = (matched, value, lang or "", spans)
        if matched == len(query.groups):
            break
    if best is None:
        return ""
    _, value, lang, spans = best
    width = {"zh": 80, "ja": 80, "ko": 110}.get(lang, 200)
    start = 0
    if spans:
        def score(anchor: tuple[int, int, int]) -> tuple[int, int]:
            lo = anchor[0]
            inside = [s for s in spans if lo <= s[0] and s[1] <= lo + width]
            return len({g for _, _, g in inside}), len(inside)

        anchor = max(spans, key=lambda s: (score(s), -s[0]))
        start = max(0, anchor[0] - width // 4)
        if lang not in ("zh", "ja", "ko") and start > 0:
            space = value.find(" ", start, anchor[0])
            start = space + 1 if space >= 0 else start
    end = min(len(value), start + width)
    if end < len(value) and lang not in ("zh", "ja"):
        space = value.rfind(" ", start + width // 2, end)
        end = space if space > 0 else end
    out, pos = [], start
    for s, e in _merge([(s, e) for s, e, _ in spans if s >= start and e <= end]):
        out += [value[pos:s], markers[0], value[s:e], markers[1]]
        pos = e
    out.append(value[pos:end])
    body = re.sub(r"\s+", " ", "".join(out)).strip()
    return ("…" if start > 0 else "") + body + ("…" if end < len(value) else "")


def _merge(spans: Iterable[tuple[int, int]]) -> list[tuple[int, int]]:
    merged: list[tuple[int, int]] = []
    for s, e in sorted(spans):
        if merged and s <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], e))
        else:
            merged.append((s, e))
    return merged

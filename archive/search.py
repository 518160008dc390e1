"""Full-text search in every language of the archive (issue 6).

SQLite's ``unicode61`` tokenizer cuts text at spaces and punctuation only, so
it never finds 회의 in 회의가 / 회의에서 (Korean attaches particles to the
noun) nor 人工智能 inside a Chinese or Japanese sentence (no spaces at all);
the ``trigram`` tokenizer finds substrings but no term shorter than three
characters, and most Korean, Chinese and Japanese words have two. So the text
is tokenised here, in Python, and a second FTS5 table ``articles_search``
indexes those tokens (its own ``unicode61`` tokenizer then only splits at the
spaces we put in). Queries go through the same analysis, so both sides agree:

* Hangul, Han and kana runs -> overlapping character bigrams, plus the run's
  last character alone (so a one-character query finds it there too).
  A two-character query is one bigram and matches wherever those two
  characters stand together, whatever particle or word follows; a longer
  query is the phrase of its bigrams (an exact substring match); a
  one-character query is a prefix query over the bigrams. Korean query words
  also match with one trailing particle removed (회의에서 -> 회의).
* Other scripts -> NFKC, casefolded words without diacritics (Séoul = seoul),
  each followed by its Snowball stem in the article's language (Сеуле and
  Сеул -> сеул, cumbres -> cumbr, summits -> summit). A query word matches its
  own form or its stem in any language the query may be in.
* The original text (title, body) and the English translation (title_en,
  body_en) are separate columns: bm25 weights the titles 3:1.

bench/search_eval.py compares this with unicode61, trigram and Kiwi
morphological analysis (kept as ``Analyzer(korean="kiwi")``); docs/search.md
has the figures and why bigrams won.

Python-side tokens cannot come from an SQL trigger: :func:`index_article`
runs inside ``archive.store.save_article``'s transaction, and
:func:`ensure_search_index` (called from ``ensure_db_shape``) creates the
table and repairs whatever another writer left stale (rows whose
``updated_at`` changed, new or deleted articles).
"""

from __future__ import annotations

import hashlib
import re
import threading
import unicodedata
from bisect import bisect_left
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from importlib.metadata import version as _version
from typing import Any

import snowballstemmer
import sqlite_utils

from archive.txn import write_txn

SEARCH_TABLE = "articles_search"
META_TABLE = "articles_search_meta"
# Bump when the analysis changes: an index built by another version is rebuilt.
TOKENS_VERSION = "1"
# bm25 weights: article_id, updated_at (unindexed), title, body, title_en, body_en.
BM25_WEIGHTS = (0.0, 0.0, 3.0, 1.0, 3.0, 1.0)
HIGHLIGHT = ("**", "**")

# ISO 639-1 -> Snowball algorithm, for the languages snowballstemmer has.
_SNOWBALL = {
    "ar": "arabic", "hy": "armenian", "eu": "basque", "ca": "catalan", "cs": "czech", "da": "danish",
    "nl": "dutch", "en": "english", "eo": "esperanto", "et": "estonian", "fi": "finnish", "fr": "french",
    "de": "german", "el": "greek", "hi": "hindi", "hu": "hungarian", "id": "indonesian", "ga": "irish",
    "it": "italian", "lt": "lithuanian", "ne": "nepali", "no": "norwegian", "nb": "norwegian",
    "fa": "persian", "pl": "polish", "pt": "portuguese", "ro": "romanian", "ru": "russian",
    "sr": "serbian", "es": "spanish", "sv": "swedish", "ta": "tamil", "tr": "turkish", "yi": "yiddish",
}
STEM_LANGUAGES = {code: algo for code, algo in _SNOWBALL.items() if algo in set(snowballstemmer.algorithms())}
# A query word in this script may be in any of these archive languages (when --language is not given).
QUERY_STEMS_BY_SCRIPT = {"latin": ("en", "es", "fr", "de", "nl"), "cyrillic": ("ru",), "greek": ("el",)}

# Korean particles removed from the end of a query word (longest first) when
# at least two syllables remain: 회의에서 -> 회의. Index text is never stripped.
KOREAN_PARTICLES = tuple(sorted(
    "에서는 에서도 에게서 으로는 으로서 으로써 까지는 부터는 에서 에게 한테 으로 로서 로써 까지 부터 보다 처럼 "
    "마저 조차 에는 에도 과의 와의 로는 은 는 이 가 을 를 의 에 와 과 도 만 로 께".split(),
    key=len, reverse=True,
))
# Kiwi part-of-speech tags kept as index terms: nouns, numerals, verb and adjective stems, roots.
KIWI_KEEP = {"NNG", "NNP", "NR", "VV", "VA", "XR", "SL", "SH", "SN"}

HANGUL, CJK, OTHER = "hangul", "cjk", "other"
_H = "\uac00-\ud7a3\u1100-\u11ff\u3130-\u318f\ua960-\ua97f\ud7b0-\ud7ff"
# Han, kana (without the ・ middle dot), half-width kana, 々〆〇.
_C = "\u4e00-\u9fff\u3400-\u4dbf\uf900-\ufaff\U00020000-\U0003ffff\u3040-\u30fa\u30fc-\u30ff\u31f0-\u31ff\uff66-\uff9f\u3005-\u3007"
# Runs of one kind of letters: 60개국 -> 60 | 개국, 軍事AIの責任 -> 軍事 | AI | の責任.
_PIECE = re.compile(rf"(?P<{HANGUL}>[{_H}]+)|(?P<{CJK}>[{_C}]+)|(?P<{OTHER}>[^\W_{_H}{_C}]+)")


def _script(word: str) -> str | None:
    for ch in word:
        if ch.isalpha():
            name = unicodedata.name(ch, "")
            if name.startswith("LATIN"):
                return "latin"
            if name.startswith("CYRILLIC"):
                return "cyrillic"
            if name.startswith("GREEK"):
                return "greek"
            return None
    return None


def _strip_marks(word: str) -> str:
    decomposed = unicodedata.normalize("NFKD", word)
    return unicodedata.normalize("NFC", "".join(c for c in decomposed if not unicodedata.combining(c)))


_stemmers: dict[str, Any] = {}
_stem_lock = threading.Lock()


@lru_cache(maxsize=200_000)
def _stem(language: str, word: str) -> str:
    with _stem_lock:  # snowballstemmer objects keep state between calls
        stemmer = _stemmers.get(language)
        if stemmer is None:
            stemmer = _stemmers[language] = snowballstemmer.stemmer(STEM_LANGUAGES[language])
        return stemmer.stemWord(word)


StemMap = tuple[tuple[str, tuple[str, ...]], ...]  # (script, languages whose stems to add)


@lru_cache(maxsize=200_000)
def _word_forms(word: str, stem_map: StemMap) -> tuple[str, ...]:
    """The casefolded, unaccented word, then its distinct stems in the languages ``stem_map`` gives its script."""
    folded = unicodedata.normalize("NFKC", word).casefold()
    surface = _strip_marks(folded)
    forms = [surface] if surface else []
    script = _script(folded) if stem_map else None
    if script:
        for language in dict(stem_map).get(script, ()):
            stem = _strip_marks(_stem(language, folded))
            if stem and stem not in forms:
                forms.append(stem)
    return tuple(forms)


@dataclass(frozen=True)
class Token:
    """One index position: the span of the source text it came from and its forms (first = surface)."""

    start: int
    end: int
    forms: tuple[str, ...]


@dataclass(frozen=True)
class Pattern:
    forms: tuple[str, ...]
    prefix: bool = False

    def matches(self, token: Token) -> bool:
        if self.prefix:
            return any(f.startswith(p) for f in token.forms for p in self.forms)
        return any(f in self.forms for f in token.forms)


@dataclass
class Query:
    """Every group must match (AND); a group matches when one of its alternatives does.

    An alternative is a sequence of patterns at consecutive positions (a phrase)."""

    groups: list[list[tuple[Pattern, ...]]] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.groups)


def _fts_string(text: str) -> str:
    return '"' + text.replace('"', '""') + '"'


def _pattern_expr(p: Pattern) -> str:
    star = "*" if p.prefix else ""
    alts = [_fts_string(f) + star for f in p.forms]
    return alts[0] if len(alts) == 1 else "(" + " OR ".join(alts) + ")"


def _sequence_expr(seq: Sequence[Pattern]) -> str:
    if len(seq) == 1:
        return _pattern_expr(seq[0])
    if all(len(p.forms) == 1 and not p.prefix for p in seq):
        return _fts_string(" ".join(p.forms[0] for p in seq))
    return "(" + " AND ".join(_pattern_expr(p) for p in seq) + ")"


class Analyzer:
    """Turns text into index tokens and a query into an FTS5 MATCH expression.

    ``korean="bigram"`` (the default) or ``"kiwi"`` (morphological analysis with
    kiwipiepy, optional, for comparison); ``stem=False`` indexes words only.
    """

    def __init__(self, korean: str = "bigram", stem: bool = True) -> None:
        if korean not in ("bigram", "kiwi"):
            raise ValueError(f"korean must be 'bigram' or 'kiwi', not {korean!r}")
        self.korean = korean
        self.stem = stem
        self._kiwi: Any = None
        self._kiwi_lock = threading.Lock()

    @property
    def id(self) -> str:
        parts = [f"v{TOKENS_VERSION}", f"ko={self.korean}"]
        if self.korean == "kiwi":
            parts[-1] += "-" + _version("kiwipiepy")
        parts.append("stem=snowball-" + _version("snowballstemmer") if self.stem else "stem=none")
        return ";".join(parts)

    # -- documents ---------------------------------------------------------

    def tokens(self, text: str | None, language: str | None) -> list[Token]:
        """Index tokens of ``text`` with their offsets in ``text``."""
        if not text:
            return []
        kiwi_tokens = self._kiwi_tokens(text) if self.korean == "kiwi" and _has_hangul(text) else None
        kiwi_starts = [t.start for t in kiwi_tokens or ()]
        stem_map = self._doc_stem_map(language)
        out: list[Token] = []
        for m in _PIECE.finditer(text):
            kind, (start, end), piece = m.lastgroup, m.span(), m.group()
            if kind == OTHER:
                forms = _word_forms(piece, stem_map)
                if forms:
                    out.append(Token(start, end, forms))
            elif kind == HANGUL and kiwi_tokens is not None:
                out.extend(kiwi_tokens[bisect_left(kiwi_starts, start):bisect_left(kiwi_starts, end)])
            else:
                out.extend(_ngrams(piece, start, tail=True))
        return out

    def index_text(self, text: str | None, language: str | None) -> str:
        return " ".join(f for t in self.tokens(text, language) for f in t.forms)

    def _doc_stem_map(self, language: str | None) -> StemMap:
        if not self.stem:
            return ()
        lang = (language or "").lower()
        if lang in STEM_LANGUAGES:
            script = _script_of_language(lang)
            # Latin words in a Russian or Greek article get the English stem (REAIM, Blueprint...).
            return ((script, (lang,)),) if script == "latin" else ((script, (lang,)), ("latin", ("en",)))
        return (("latin", ("en",)),)

    # -- queries -----------------------------------------------------------

    def parse_query(self, query: str | None, language: str | None = None) -> Query:
        q = Query()
        if not query:
            return q
        stem_map = self._query_stem_map(language)
        kiwi_tokens = self._kiwi_tokens(query) if self.korean == "kiwi" and _has_hangul(query) else None
        for m in _PIECE.finditer(query):
            kind, (start, end), piece = m.lastgroup, m.span(), m.group()
            if kind == OTHER:
                if query.startswith("*", end):  # militär* : a prefix, no stems
                    forms = _word_forms(piece, ())
                    pattern = Pattern(forms, prefix=True)
                else:
                    forms = _word_forms(piece, stem_map)
                    pattern = Pattern(forms)
                if forms:
                    q.groups.append([(pattern,)])
            elif kind == HANGUL and kiwi_tokens is not None:
                seq = tuple(Pattern(t.forms) for t in kiwi_tokens if start <= t.start < end)
                if seq:
                    q.groups.append([seq])
            else:
                alternatives = [_query_ngrams(piece)]
                if kind == HANGUL:
                    stripped = _strip_particle(piece)
                    if stripped != piece:
                        alternatives.append(_query_ngrams(stripped))
                q.groups.append(alternatives)
        return q

    def match_expression(self, query: str | None, language: str | None = None) -> str | None:
        """The FTS5 MATCH expression for ``query`` (None when it has no searchable term)."""
        return self.expression(self.parse_query(query, language))

    @staticmethod
    def expression(parsed: Query) -> str | None:
        if not parsed:
            return None
        parts = []
        for alternatives in parsed.groups:
            exprs = list(dict.fromkeys(_sequence_expr(seq) for seq in alternatives))
            parts.append(exprs[0] if len(exprs) == 1 else "(" + " OR ".join(exprs) + ")")
        return " AND ".join(dict.fromkeys(parts))

    def _query_stem_map(self, language: str | None) -> StemMap:
        if not self.stem:
            return ()
        lang = (language or "").lower()
        if not lang:
            return tuple(QUERY_STEMS_BY_SCRIPT.items())
        # The English columns are searched too: English stems always apply.
        out: dict[str, tuple[str, ...]] = {"latin": ("en",)}
        if lang in STEM_LANGUAGES:
            script = _script_of_language(lang)
            out[script] = tuple(dict.fromkeys((lang, *out.get(script, ()))))
        return tuple(out.items())

    # -- Kiwi (optional) ---------------------------------------------------

    def _kiwi_tokens(self, text: str) -> list[Token]:
        with self._kiwi_lock:
            if self._kiwi is None:
                from kiwipiepy import Kiwi

                self._kiwi = Kiwi()
            analysed = self._kiwi.tokenize(text)
        out = []
        for t in analysed:
            if t.tag.split("-")[0] in KIWI_KEEP and _has_hangul(t.form):
                out.append(Token(t.start, t.start + t.len, (t.form,)))
        return out


def _script_of_language(language: str) -> str:
    return {"ru": "cyrillic", "sr": "cyrillic", "el": "greek"}.get(language, "latin")


def _is_cjk_or_hangul(text: str) -> bool:
    m = _PIECE.match(text)
    return m is not None and m.lastgroup != OTHER


def _has_hangul(text: str) -> bool:
    return any(0xAC00 <= ord(c) <= 0xD7A3 for c in text)


def _normalised_chars(piece: str, start: int) -> list[tuple[str, int]]:
    """NFKC per character (half-width kana, compatibility ideographs), keeping each one's offset."""
    out = []
    for i, ch in enumerate(piece):
        for c in unicodedata.normalize("NFKC", ch).casefold():
            if not c.isspace():
                out.append((c, start + i))
    return out


def _ngrams(piece: str, start: int, *, tail: bool) -> list[Token]:
    chars = _normalised_chars(piece, start)
    if len(chars) == 1:
        c, at = chars[0]
        return [Token(at, at + 1, (c,))]
    out = [Token(chars[i][1], chars[i + 1][1] + 1, (chars[i][0] + chars[i + 1][0],)) for i in range(len(chars) - 1)]
    if tail and chars:
        c, at = chars[-1]
        out.append(Token(at, at + 1, (c,)))
    return out


def _query_ngrams(piece: str) -> tuple[Pattern, ...]:
    chars = _normalised_chars(piece, 0)
    if len(chars) == 1:
        return (Pattern((chars[0][0],), prefix=True),)
    return tuple(Pattern((chars[i][0] + chars[i + 1][0],)) for i in range(len(chars) - 1))


def _strip_particle(word: str) -> str:
    for particle in KOREAN_PARTICLES:
        if word.endswith(particle) and len(word) - len(particle) >= 2:
            return word[: -len(particle)]
    return word


DEFAULT_ANALYZER = Analyzer()


def search_tokens(text: str | None, language: str | None = None) -> str:
    """The tokenised form of ``text`` as stored in ``articles_search`` (space-separated)."""
    return DEFAULT_ANALYZER.index_text(text, language)


def match_expression(query: str | None, language: str | None = None) -> str | None:
    """The safe FTS5 MATCH expression for a user's query, or None when nothing in it is searchable."""
    return DEFAULT_ANALYZER.match_expression(query, language)


# -- the index -------------------------------------------------------------


def _rowid(article_id: str) -> int:
    """A stable 63-bit rowid for an article id (articles' own rowids may change on VACUUM)."""
    return int.from_bytes(hashlib.sha1(article_id.encode("utf-8")).digest()[:8], "big") >> 1


def _create_table(db: sqlite_utils.Database) -> None:
    db.execute(
        f"create virtual table if not exists {SEARCH_TABLE} using fts5("
        "article_id unindexed, updated_at unindexed, title, body, title_en, body_en, "
        "tokenize = 'unicode61 remove_diacritics 0')"
    )
    db.execute(f"create table if not exists {META_TABLE} (key text primary key, value text)")


def _meta(db: sqlite_utils.Database, key: str) -> str | None:
    rows = db.execute(f"select value from {META_TABLE} where key = ?", [key]).fetchall()
    return rows[0][0] if rows else None


_ARTICLE_SQL = "select id, updated_at, language, title, text, title_en, text_en from articles"


def _index_rows(db: sqlite_utils.Database, rows: Iterable[Sequence[Any]], analyzer: Analyzer) -> int:
    n = 0
    for article_id, updated_at, language, title, text, title_en, text_en in rows:
        rowid = _rowid(article_id)
        db.execute(f"delete from {SEARCH_TABLE} where rowid = ?", [rowid])
        db.execute(
            f"insert into {SEARCH_TABLE} (rowid, article_id, updated_at, title, body, title_en, body_en) "
            "values (?, ?, ?, ?, ?, ?, ?)",
            [rowid, article_id, updated_at,
             analyzer.index_text(title, language), analyzer.index_text(text, language),
             analyzer.index_text(title_en, "en"), analyzer.index_text(text_en, "en")],
        )
        n += 1
    return n


def index_article(db: sqlite_utils.Database, article_id: str, *, analyzer: Analyzer | None = None) -> None:
    """(Re)index one article from its ``articles`` row, or drop it from the index when the row is gone.

    Commits nothing: call it inside the transaction that wrote the row.
    """
    _create_table(db)
    rows = db.execute(_ARTICLE_SQL + " where id = ?", [article_id]).fetchall()
    if rows:
        _index_rows(db, rows, analyzer or DEFAULT_ANALYZER)
    else:
        unindex_article(db, article_id)


def unindex_article(db: sqlite_utils.Database, article_id: str) -> None:
    """Drop an article from the index (it was deleted or folded into another). Commits nothing."""
    _create_table(db)
    db.execute(f"delete from {SEARCH_TABLE} where rowid = ?", [_rowid(article_id)])


def reindex(db: sqlite_utils.Database, ids: Iterable[str] | None = None, *,
            analyzer: Analyzer | None = None) -> int:
    """Rebuild the whole index (``ids=None``) or reindex the given articles; one transaction.

    Returns the number of articles indexed.
    """
    analyzer = analyzer or DEFAULT_ANALYZER
    with write_txn(db):
        _create_table(db)
        if ids is None:
            db.execute(f"delete from {SEARCH_TABLE}")
            n = _index_rows(db, db.execute(_ARTICLE_SQL).fetchall(), analyzer)
            db.execute(f"insert into {SEARCH_TABLE}({SEARCH_TABLE}) values ('optimize')")
            db.execute(f"insert or replace into {META_TABLE} (key, value) values ('analyzer', ?)", [analyzer.id])
            return n
        n = 0
        for article_id in dict.fromkeys(ids):
            rows = db.execute(_ARTICLE_SQL + " where id = ?", [article_id]).fetchall()
            if rows:
                n += _index_rows(db, rows, analyzer)
            else:
                unindex_article(db, article_id)
        return n


def ensure_search_index(db: sqlite_utils.Database, *, analyzer: Analyzer | None = None) -> None:
    """Create ``articles_search`` and bring it up to date; idempotent and cheap when nothing changed.

    Rebuilds everything when the index was built by another analysis version;
    otherwise indexes articles that are missing or whose ``updated_at`` moved
    (e.g. ``reaim translate --pending`` wrote title_en/text_en) and drops
    entries whose article is gone.
    """
    analyzer = analyzer or DEFAULT_ANALYZER
    tables = set(db.table_names())
    if "articles" not in tables:
        return
    if SEARCH_TABLE not in tables or META_TABLE not in tables:
        with write_txn(db):
            _create_table(db)
    built_by = _meta(db, "analyzer")
    if built_by != analyzer.id:
        reindex(db, analyzer=analyzer)
        return
    stale = [r[0] for r in db.execute(
        f"select a.id from articles a left join (select article_id, updated_at from {SEARCH_TABLE}) s "
        "on s.article_id = a.id where s.article_id is null or s.updated_at is not a.updated_at"
    ).fetchall()]
    orphans = [r[0] for r in db.execute(
        f"select article_id from {SEARCH_TABLE} where article_id not in (select id from articles)"
    ).fetchall()]
    if stale or orphans:
        reindex(db, stale + orphans, analyzer=analyzer)


# -- searching -------------------------------------------------------------

SEARCH_SQL = f"""
select a.id, a.canonical_url as url, a.title, a.language, a.published, a.primary_event,
  a.text, a.title_en, a.text_en, bm25({SEARCH_TABLE}, {", ".join(map(str, BM25_WEIGHTS))}) as score
from {SEARCH_TABLE} join articles a on a.id = {SEARCH_TABLE}.article_id
where {SEARCH_TABLE} match :match and (:all = 1 or a.relevant = 1)
  and (:language = '' or a.language = :language)
order by score, a.published desc, a.id
limit :limit
"""


def search(db: sqlite_utils.Database, query: str, language: str | None = None, limit: int = 20, *,
           include_off_topic: bool = False, analyzer: Analyzer | None = None) -> list[dict[str, Any]]:
    """Articles matching ``query`` in the original or the English text, best first (bm25).

    Every word of the query must match. ``language`` restricts to articles in
    that language (and lets its stems be used for the query). Off-topic
    articles (relevant = 0) are left out unless ``include_off_topic``.
    """
    analyzer = analyzer or DEFAULT_ANALYZER
    language = (language or "").lower() or None
    parsed = analyzer.parse_query(query, language)
    expr = analyzer.expression(parsed)
    if expr is None:
        return []
    rows = db.execute(SEARCH_SQL, {"match": expr, "all": int(include_off_topic),
                                   "language": language or "", "limit": int(limit)}).fetchall()
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
            # A one-character CJK/Hangul query matches bigrams starting with it: mark that character only.
            one_char = n == 1 and seq[0].prefix and _is_cjk_or_hangul(seq[0].forms[0])
            for i in range(len(tokens) - n + 1):
                if all(seq[k].matches(tokens[i + k]) for k in range(n)):
                    end = tokens[i].start + 1 if one_char else tokens[i + n - 1].end
                    spans.append((tokens[i].start, end, g))
    return sorted(spans)


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
    candidates = []
    for order, (value, lang) in enumerate(fields):
        if value:
            spans = _match_spans(analyzer.tokens(value, lang), query) if query else []
            candidates.append((len({g for _, _, g in spans}), -order, value, lang or "", spans))
    if not candidates:
        return ""
    # The field matching most query words; on a tie the original text before the English.
    _, _, value, lang, spans = max(candidates, key=lambda c: (c[0], c[1]))
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

"""The text analysis behind search in every language (issue 6).

SQLite's ``unicode61`` tokenizer cuts text at spaces and punctuation only, so
it never finds 회의 in 회의가 / 회의에서 (Korean attaches particles to the
noun) nor 人工智能 inside a Chinese or Japanese sentence (no spaces at all);
the ``trigram`` tokenizer finds substrings but no term shorter than three
characters, and most Korean, Chinese and Japanese words have two. So the text
is tokenised here, in Python, and the FTS5 table ``articles_search``
(:mod:`archive.search_index`) indexes those tokens (its own ``unicode61``
tokenizer then only splits at the spaces we put in). Queries go through the
same analysis, so both sides agree:

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

bench/search_eval.py compares this with unicode61, trigram and Kiwi
morphological analysis (kept as ``Analyzer(korean="kiwi")``); docs/search.md
has the figures and why bigrams won.
"""

from __future__ import annotations

import re
import threading
import unicodedata
from bisect import bisect_left
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from importlib.metadata import version as _version
from typing import Any, NamedTuple

import snowballstemmer

# Bump when the tokens change in a way that makes an old index give wrong
# answers: such an index must be rebuilt before it is searched again.
TOKENS_VERSION = "1"

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


class Token(NamedTuple):
    """One index position: the span of the source text it came from and its forms (first = surface).

    A NamedTuple, not a dataclass: snippets make one per character pair of
    every result's text, and a frozen dataclass costs three times as much to build.
    """

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
        """The analysis with the versions of the libraries behind it (Snowball, Kiwi).

        A library upgrade changes a few stems or morphemes at the margins; the
        index stays usable and ``reaim reindex`` brings it in line.
        """
        parts = [f"v{TOKENS_VERSION}", f"ko={self.korean}"]
        if self.korean == "kiwi":
            parts[-1] += "-" + _version("kiwipiepy")
        parts.append("stem=snowball-" + _version("snowballstemmer") if self.stem else "stem=none")
        return ";".join(parts)

    @property
    def kind(self) -> str:
        """The analysis without library versions: an index of another kind cannot answer queries."""
        return f"v{TOKENS_VERSION};ko={self.korean};stem={'snowball' if self.stem else 'none'}"

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
        """The forms of :meth:`tokens`, space-separated, without building the tokens (the indexing hot path)."""
        if not text:
            return ""
        if self.korean == "kiwi" and _has_hangul(text):
            return " ".join(f for t in self.tokens(text, language) for f in t.forms)
        stem_map = self._doc_stem_map(language)
        out: list[str] = []
        for m in _PIECE.finditer(text):
            if m.lastgroup == OTHER:
                out.extend(_word_forms(m.group(), stem_map))
            else:
                chars = _normalised_piece(m.group())
                if len(chars) > 1:
                    out.extend([chars[i:i + 2] for i in range(len(chars) - 1)])
                if chars:
                    out.append(chars[-1])
        return " ".join(out)

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


def _normalised_piece(piece: str) -> str:
    """The characters of :func:`_normalised_chars` as one string."""
    if unicodedata.is_normalized("NFKC", piece) and piece.casefold() == piece:
        return piece  # nearly all text: no character changes
    return "".join(c for c, _ in _normalised_chars(piece, 0))


def _normalised_chars(piece: str, start: int) -> list[tuple[str, int]]:
    """NFKC per character (half-width kana, compatibility ideographs), keeping each one's offset."""
    if unicodedata.is_normalized("NFKC", piece) and piece.casefold() == piece:
        return [(c, start + i) for i, c in enumerate(piece)]
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

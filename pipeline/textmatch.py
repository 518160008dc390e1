"""Normalisation and term matching shared by the relevance and tag stages.

Inflection and word boundaries are handled by normalising text and terms the
same way, not by listing every form of a word:

* NFKC, then casefold; combining marks are dropped from Latin, Greek and
  Cyrillic letters (``Coruña`` -> ``coruna``, ``militärischen`` ->
  ``militarischen``, ``ё`` -> ``е``). Hangul is never decomposed (NFD turns a
  syllable into jamo) and kana keep their voicing marks.
* Every run of punctuation and spacing becomes one space, except between two
  Han/kana characters, where it disappears (``ア・コルーニャ`` -> ``アコルーニャ``).
  Soft hyphens and zero-width characters vanish.
* Each normalised character remembers the span of the original text it came
  from, so a match can be shown as it was written and snippets can be cut.

How a term matches depends on the script of each of its words:

* Latin/Cyrillic: the word must start at a word boundary; it is reduced to a
  light stem with the endings of the term's language (``autónomas`` ->
  ``autonom``, ``военной`` -> ``военн``, ``cumbre`` stays) and may then be
  followed by a few more letters (plurals, cases, adjective endings), fewer
  for short stems. Words written in capitals in the data (``REAIM``, ``AI``,
  ``KI``, ``ИИ``) and numbers match exactly.
* Hangul: the term must start an eojeol (a space-delimited word) and anything
  may follow it, so particles attach (``헤이그에서``, ``정상회의의``); spaces inside
  the term are optional (``고위급회의`` = ``고위급 회의``).
* Han/kana: plain substring (no spaces in the script).

Term syntax in the data files: a leading ``*`` drops the start-of-word
boundary (German compounds: ``*drohnen`` matches ``Kampfdrohnen``); a ``*``
after a word allows it any ending (``Gipfel*`` matches ``Gipfeltreffen``,
``evalu* los riesgos`` matches ``evalúen los riesgos``).
"""

from __future__ import annotations

import re
import unicodedata
from bisect import bisect_right
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from functools import cache, cached_property, lru_cache
from typing import Any

# --- character classes (of normalised text) ------------------------------------

HANGUL = "\uac00-\ud7a3\u1100-\u11ff\u3130-\u318f"
CJK = "\u3005-\u3007\u3040-\u30ff\u31f0-\u31ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f"

_CYRILLIC_RE = re.compile("[\u0400-\u052f]")
_LATIN_RE = re.compile("[0-9a-z\u00b5\u00c0-\u024f\u1e00-\u1eff]")
_HANGUL_RE = re.compile(f"[{HANGUL}]")
_CJK_RE = re.compile(f"[{CJK}]")

# Combining marks and conjoining jamo that belong to the preceding character.
_MARKS = "\u0300-\u036f\u0483-\u0489\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f\u3099\u309a\u1160-\u11ff\ufe00-\ufe0f"
_TOKEN = re.compile(
    rf"([A-Za-z0-9]+)|([\x00-\x2f\x3a-\x40\x5b-\x60\x7b-\x7f]+)|(.[{_MARKS}]*)",
    re.S,
)


def _strippable(code: int) -> bool:
    """Latin, Greek and Cyrillic letters: their combining marks are dropped."""
    return 0x00C0 <= code <= 0x024F or 0x0370 <= code <= 0x052F or 0x1E00 <= code <= 0x1FFF


def _is_cjk(ch: str) -> bool:
    code = ord(ch)
    return (
        0x3040 <= code <= 0x30FF
        or 0x4E00 <= code <= 0x9FFF
        or 0x3400 <= code <= 0x4DBF
        or 0x3005 <= code <= 0x3007
        or 0x31F0 <= code <= 0x31FF
        or 0xF900 <= code <= 0xFAFF
        or 0x20000 <= code <= 0x3134F
    )


@lru_cache(maxsize=200_000)
def _fold(cluster: str) -> str:
    """One character (with its combining marks) -> normalised letters, or " " for a separator."""
    if unicodedata.category(cluster[0]) == "Cf":  # soft hyphen, zero-width joiners, BOM
        return ""
    folded = unicodedata.normalize("NFKC", cluster).casefold()
    out: list[str] = []
    for ch in folded:
        code = ord(ch)
        if 0xAC00 <= code <= 0xD7A3:  # Hangul syllable: never decomposed
            out.append(ch)
        elif _strippable(code):
            out.append("".join(c for c in unicodedata.normalize("NFD", ch) if not unicodedata.combining(c)))
        elif unicodedata.combining(ch) or unicodedata.category(ch) == "Cf":
            continue
        else:
            out.append(ch if ch.isalnum() else " ")
    folded = "".join(out)
    return " " if folded and not folded.strip() else folded  # "…" is one separator, not three


@dataclass(frozen=True)
class NormText:
    """A text normalised for matching, with the map back to the original.

    The map is either per character (``starts``/``ends``: the general case)
    or, for the common text whose every character folds to exactly one,
    per segment (``seg_norm``/``seg_orig``: runs copied one to one).
    """

    original: str
    text: str
    starts: Sequence[int] | None = field(default=None, repr=False)  # original start of each normalised char
    ends: Sequence[int] | None = field(default=None, repr=False)  # original end of each normalised char
    seg_norm: Sequence[int] | None = field(default=None, repr=False)  # normalised start of each segment
    seg_orig: Sequence[int] | None = field(default=None, repr=False)  # its original start

    def _orig(self, n: int) -> int:
        assert self.seg_norm is not None and self.seg_orig is not None
        i = bisect_right(self.seg_norm, n) - 1
        return self.seg_orig[i] + (n - self.seg_norm[i])

    def span(self, nstart: int, nend: int) -> tuple[int, int]:
        """The original span that normalised characters [nstart, nend) came from."""
        if nend <= nstart or nstart >= len(self.text):
            pos = len(self.original) if nstart >= len(self.text) else self.span(nstart, nstart + 1)[0]
            return pos, pos
        if self.starts is not None and self.ends is not None:
            return self.starts[nstart], self.ends[nend - 1]
        return self._orig(nstart), self._orig(nend - 1) + 1

    @cached_property
    def scripts(self) -> frozenset[str]:
        found = set()
        if _LATIN_RE.search(self.text):
            found.add("latin")
        if _CYRILLIC_RE.search(self.text):
            found.add("cyrillic")
        if _HANGUL_RE.search(self.text):
            found.add("hangul")
        if _CJK_RE.search(self.text):
            found.add("cjk")
        return frozenset(found)


def normalize(text: str) -> str:
    """The normalised form of a text (for keys and comparisons)."""
    return normalize_text(text).text


class _FoldTable(dict):  # type: ignore[type-arg]
    """``str.translate`` table: code point -> its folded form, filled on first sight."""

    def __missing__(self, code: int) -> str:
        folded = _fold(chr(code))
        if len(folded) != 1 or 0x1100 <= code <= 0x11FF:  # expands, vanishes, or a jamo to compose
            _IRREGULAR.add(chr(code))
        self[code] = folded
        return folded


_TABLE = _FoldTable()
_IRREGULAR: set[str] = set()
_SPACES = re.compile(" +")


@lru_cache(maxsize=16)
def normalize_text(text: str) -> NormText:
    """Normalise ``text`` (see the module docstring), keeping the map to the original."""
    folded = text.translate(_TABLE)  # C speed; one character for one, in the common case
    if len(folded) != len(text) or not _IRREGULAR.isdisjoint(text):
        return _normalize_clusters(text)
    out: list[str] = []
    seg_norm: list[int] = []
    seg_orig: list[int] = []
    n = prev = 0
    size = len(folded)
    for m in _SPACES.finditer(folded):
        a, b = m.span()
        keep = a > 0 and b < size and not (_is_cjk(folded[a - 1]) and _is_cjk(folded[b]))
        end = a + 1 if keep else a  # keep the run's first separator as the one space
        if end > prev:
            seg_norm.append(n)
            seg_orig.append(prev)
            out.append(folded[prev:end])
            n += end - prev
        prev = b
    if prev < size:
        seg_norm.append(n)
        seg_orig.append(prev)
        out.append(folded[prev:])
    return NormText(text, "".join(out), seg_norm=tuple(seg_norm), seg_orig=tuple(seg_orig))


def _normalize_clusters(text: str) -> NormText:
    """The general case: combining marks, characters that expand or vanish, conjoining jamo."""
    out: list[str] = []
    starts: list[int] = []
    ends: list[int] = []
    pending: int | None = None  # original index of a separator not yet written

    def emit(chunk: str, start: int, end: int) -> None:
        nonlocal pending
        if pending is not None:
            if out and not (_is_cjk(out[-1][-1]) and _is_cjk(chunk[0])):
                out.append(" ")
                starts.append(pending)
                ends.append(pending + 1)
            pending = None
        out.append(chunk)
        starts.extend([start] * len(chunk) if end - start != len(chunk) else range(start, end))
        ends.extend([end] * len(chunk) if end - start != len(chunk) else range(start + 1, end + 1))

    for m in _TOKEN.finditer(text):
        start, end = m.span()
        if m.group(1) is not None:  # ASCII letters and digits: in bulk
            emit(m.group(1).lower(), start, end)
        elif m.group(2) is not None:  # ASCII separators
            if pending is None:
                pending = start
        else:
            folded = _fold(m.group(3))
            for piece in re.split("( )", folded) if " " in folded else (folded,):
                if not piece:
                    continue
                if piece == " ":
                    if pending is None:
                        pending = start
                else:
                    emit(piece, start, end)
    norm = "".join(out)
    return NormText(text, norm, starts=tuple(starts), ends=tuple(ends))


# --- terms ------------------------------------------------------------------------

# Endings removed from each word of a term (not from acronyms and numbers) before it is matched as a
# stem (longest first); the text may then add up to a few letters.
ENDINGS: dict[str, tuple[str, ...]] = {
    "en": ("s",),
    "es": ("es", "os", "as", "s", "o", "a"),
    "fr": ("es", "s", "e"),
    "nl": ("en", "e", "s"),
    "de": ("en", "er", "es", "em", "e", "n", "s"),
    "ru": tuple(
        "ами ями ого его ому ему ыми ими ая яя ое ее ые ие ый ий ой ей ую юю ом ем ах ях ам ям ов ев "
        "ы и а я о е у ю ь й".split()
    ),
}
MIN_STEM = 4


@cache
def _endings(language: str | None) -> tuple[str, ...]:
    raw = ENDINGS.get(language or "", ())
    return tuple(sorted({normalize(e) for e in raw}, key=len, reverse=True))


def _allowance(stem: str, language: str | None) -> int:
    """How many letters may follow a stem: short stems get little slack."""
    n = len(stem)
    if n >= 5:
        return 4 if language == "ru" else 3
    if n == 4:
        return 3 if language == "ru" else 2
    return 1 if n == 3 else 0


def _stem(word: str, language: str | None) -> str:
    for ending in _endings(language):
        if word.endswith(ending) and len(word) - len(ending) >= MIN_STEM:
            return word[: -len(ending)]
    return word


def _char_class(ch: str) -> str:
    if _is_lc(ch):
        return "L"
    if _is_hangul(ch):
        return "H"
    if _is_cjk(ch):
        return "C"
    return "O"


@dataclass(frozen=True)
class _Word:
    cls: str  # L (Latin/Cyrillic/digits), H (Hangul), C (Han/kana), O (other)
    text: str
    space_before: bool


def _words(norm: str) -> list[_Word]:
    words: list[_Word] = []
    space = False
    for ch in norm:
        if ch == " ":
            space = True
            continue
        cls = _char_class(ch)
        if words and not space and words[-1].cls == cls:
            words[-1] = _Word(cls, words[-1].text + ch, words[-1].space_before)
        else:
            words.append(_Word(cls, ch, space))
        space = False
    return words


def _is_lc(ch: str) -> bool:
    """A letter or digit of a Latin, Greek or Cyrillic word (in normalised text)."""
    c = ord(ch)
    return (
        0x61 <= c <= 0x7A
        or 0x30 <= c <= 0x39
        or c == 0xB5
        or 0xC0 <= c <= 0x24F
        or 0x370 <= c <= 0x52F
        or 0x1E00 <= c <= 0x1FFF
    )


def _is_hangul(ch: str) -> bool:
    c = ord(ch)
    return 0xAC00 <= c <= 0xD7A3 or 0x1100 <= c <= 0x11FF or 0x3130 <= c <= 0x318F


@dataclass(frozen=True)
class Term:
    """One term of the data, compiled.

    The regular expression holds only literals, optional spaces and short
    ``\\w`` runs (cheap to compile: there are thousands of terms); the word
    boundaries, which depend on the script, are checked in Python.
    """

    raw: str  # as written in the data
    language: str  # the list it came from ("any" for every language)
    pattern: re.Pattern[str] = field(repr=False)
    anchor: str = field(repr=False)  # a literal that must occur in the normalised text
    scripts: frozenset[str] = field(repr=False)  # scripts the text must contain
    lead: str | None = field(default=None, repr=False)  # "L" / "H": no letter of that script just before
    tail: int | None = field(default=None, repr=False)  # Latin/Cyrillic last word: letters allowed after (-1: any)

    def spans(self, text: str) -> Iterator[tuple[int, int]]:
        """The spans of the normalised ``text`` where the term occurs."""
        for m in self.pattern.finditer(text):
            start, end = m.span()
            if start > 0:
                before = text[start - 1]
                if (self.lead == "L" and _is_lc(before)) or (self.lead == "H" and _is_hangul(before)):
                    continue
            if self.tail is not None:
                limit = len(text) if self.tail < 0 else min(len(text), end + self.tail)
                while end < limit and _is_lc(text[end]):
                    end += 1
                if end < len(text) and _is_lc(text[end]):
                    continue  # the word goes on: not this term
            yield start, end


@cache
def compile_term(raw: str, language: str = "any") -> Term:
    """Compile a term of the data (see the module docstring for the syntax)."""
    stripped = raw.strip()
    open_start = stripped.startswith("*")
    open_end = stripped.endswith("*") and len(stripped) > 1
    core = stripped.strip("*").strip()
    if not core:
        raise ValueError(f"empty term {raw!r}")
    exact = {normalize(tok) for tok in re.findall(r"\w+", core) if (tok.isupper() and len(tok) >= 2) or tok.isdigit()}
    open_words = {normalize(tok) for tok in re.findall(r"(\w+)\*", core)}  # "evalu* los riesgos"
    norm = normalize(core)
    words = _words(norm)
    if not words:
        raise ValueError(f"term {raw!r} has no letters or digits")
    stem_lang = None if language == "any" else language
    parts: list[str] = []
    anchors: list[str] = []
    scripts: set[str] = set()
    last = len(words) - 1
    tail: int | None = None
    for k, word in enumerate(words):
        if k:
            both_lc = words[k - 1].cls == "L" and word.cls == "L"
            parts.append(" " if (word.space_before and both_lc) else " ?")
        if word.cls == "L":
            scripts.add("cyrillic" if _CYRILLIC_RE.search(word.text) else "latin")
            if word.text in open_words:
                stem, extra = word.text, -1
            elif word.text in exact or word.text.isdigit():
                stem, extra = word.text, 0
            else:
                stem = _stem(word.text, stem_lang)
                extra = _allowance(stem, stem_lang)
            parts.append(re.escape(stem))
            if k == last:
                tail = -1 if open_end else extra
            elif extra < 0:
                parts.append("\\w*")
            elif extra:
                parts.append(f"\\w{{0,{extra}}}")
            anchors.append(stem)
        elif word.cls == "H":
            scripts.add("hangul")
            parts.append(" ?".join(re.escape(c) for c in word.text))
            anchors.append(word.text[:2])
        else:
            if word.cls == "C":
                scripts.add("cjk")
            parts.append(re.escape(word.text))
            anchors.append(word.text)
    lead = None if open_start or words[0].cls not in ("L", "H") else words[0].cls
    return Term(
        raw=raw,
        language=language,
        pattern=re.compile("".join(parts)),
        anchor=max(anchors, key=len),
        scripts=frozenset(scripts),
        lead=lead,
        tail=tail,
    )


# --- matching ---------------------------------------------------------------------


@dataclass(frozen=True)
class Hit:
    """One occurrence of a term in a text."""

    key: Any  # what the caller attached to the term (a group, an event ...)
    term: str  # the term as written in the data
    language: str  # the term list it came from
    start: int  # span in the original text
    end: int
    nstart: int  # span in the normalised text
    nend: int
    found: str  # the original text of the span


EXCLUDE = object()  # key of terms whose matches only mask the terms they contain


class Matcher:
    """A set of terms in several languages, compiled once, each carrying a key.

    ``find`` returns every occurrence, minus those contained in a longer
    occurrence of another term ("REAIM" inside "REAIM summit", "Seoul"
    inside the excluded "AI Seoul Summit"). Excluded terms are not returned.
    """

    def __init__(self, entries: Iterable[tuple[str, str, Any]]) -> None:
        # One entry per distinct (compiled term, key), with every language that lists it;
        # grouped by the scripts the text must contain, so a Latin text skips Korean terms.
        unique: dict[tuple[Any, ...], tuple[Term, Any, list[str]]] = {}
        languages: dict[str, None] = {}
        count = 0
        for language, raw, key in entries:
            term = compile_term(raw, language)
            ident = (term.pattern.pattern, term.lead, term.tail, repr(key))
            if ident in unique:
                unique[ident][2].append(language)
            else:
                unique[ident] = (term, key, [language])
            languages[language] = None
            count += 1
        groups: dict[frozenset[str], list[tuple[Term, Any, tuple[str, ...]]]] = {}
        for term, key, langs in unique.values():
            groups.setdefault(term.scripts, []).append((term, key, tuple(langs)))
        self._groups = list(groups.items())
        self._languages = list(languages)
        self._count = count

    @property
    def languages(self) -> list[str]:
        return list(self._languages)

    def __len__(self) -> int:
        return self._count

    def find(self, norm: NormText, languages: Sequence[str] | None = None) -> list[Hit]:
        """Occurrences of the terms of ``languages`` (all when None; "any" always).

        A term listed in several languages is reported under the first of
        them in ``languages`` (callers put the article's language first).
        """
        order = list(languages) if languages is not None else list(self._languages)
        if "any" not in order:
            order.append("any")
        rank = {lang: i for i, lang in enumerate(order)}
        text = norm.text
        if not text:
            return []
        scripts = norm.scripts
        raw_hits: list[Hit] = []
        for required, items in self._groups:
            if not required <= scripts:
                continue
            for term, key, langs in items:
                if term.anchor not in text:
                    continue
                if len(langs) == 1:
                    if langs[0] not in rank:
                        continue
                    language = langs[0]
                else:
                    ranks = [rank[lang] for lang in langs if lang in rank]
                    if not ranks:
                        continue
                    language = order[min(ranks)]
                for nstart, nend in term.spans(text):
                    start, end = norm.span(nstart, nend)
                    raw_hits.append(Hit(key, term.raw, language, start, end, nstart, nend, norm.original[start:end]))
        return _drop_contained(raw_hits)


def _drop_contained(hits: list[Hit]) -> list[Hit]:
    # Sorted by start, longest first, the kept occurrences never contain one
    # another, so the last one kept has the furthest end.
    hits.sort(key=lambda h: (h.nstart, -(h.nend - h.nstart)))
    kept: list[Hit] = []
    for h in hits:
        if kept and h.nend <= kept[-1].nend and (h.nstart, h.nend) != (kept[-1].nstart, kept[-1].nend):
            continue  # inside a longer occurrence
        kept.append(h)
    return [h for h in kept if h.key is not EXCLUDE]


def snippet(text: str, start: int, end: int, width: int = 200) -> str:
    """At most ``width`` characters of ``text`` around [start, end), on one line."""
    if not text:
        return ""
    middle = (start + end) // 2
    lo = max(0, middle - width // 2)
    hi = min(len(text), lo + width)
    lo = max(0, hi - width)
    piece = " ".join(text[lo:hi].split())
    if lo > 0 and len(piece) < width:
        piece = "…" + piece
    if hi < len(text) and len(piece) < width:
        piece = piece + "…"
    return piece[:width]


def scripts_of(text: str) -> frozenset[str]:
    return normalize_text(text).scripts


def base_language(language: str | None) -> str | None:
    """``zh-CN`` -> ``zh``; None and junk -> None."""
    if not language:
        return None
    code = str(language).strip().replace("_", "-").split("-")[0].lower()
    return code or None


def language_order(language: str | None, languages: Sequence[str]) -> tuple[list[str], frozenset[str] | None]:
    """The term lists to try for a text, and which of them are "primary".

    A known language: its own terms and English first (acronyms and English
    names appear in every language), then the others (a wrong label must not
    hide the article; callers discount those matches). An unknown language
    (None, ``und``, one we do not track): every language, all primary. Terms
    of scripts absent from the text are skipped by the matcher, so trying
    every language costs little.
    """
    code = base_language(language)
    if code in languages:
        first = [code] + (["en"] if code != "en" and "en" in languages else [])
        return first + [x for x in languages if x not in first], frozenset(first) | {"any"}
    return list(languages), None

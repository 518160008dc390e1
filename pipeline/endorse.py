"""Which states endorsed (or did not endorse) which outcome document, as the text says.

Precision over recall: an endorsement is recorded only where one sentence
names a state and says, with a cue word of the data (``documents.yaml``),
that it endorsed, signed, supported or did not; nothing is inferred from a
state's mere presence, and a sentence that hedges ("is expected to sign",
"invited others to join") says nothing.

Per sentence (the title is one), from one pass of a matcher over the text:

* **states** (``states.yaml``): names in the article's language and English,
  Korean with particles, Russian with cases, Chinese/Japanese as substrings;
  a name written in capitals (US, VS, США) matches capitals only; a state
  after a locative ("in Spain", "en España", 在西班牙, 스페인에서) is a place,
  not an actor;
* **cues**: ``endorse`` (weight 1: signed, endorsed; below 1: supported,
  backed, joined - these need a document mentioned in their clause) and
  ``reject`` (did not sign, stayed out, 未签署, 賛同せず, 지지하지 않); an
  endorse cue right after a negation (``not``: "have not yet signed") or
  right before one (``not_after``: "unterzeichnete den Text nicht") is a
  reject; a state after ``negate_before`` ("neither X nor Y", "except X") or
  right before a clause-final ``negate_after`` ("– China nicht") is negated;
* a state pairs with a cue of its clause (clauses end at ";", dashes, "…",
  and ", but"-like conjunctions) - or, when the cue follows the state, of a
  later clause ("China attended, but did not sign") - within a distance
  that depends on the script, the cue after the state (Korean, Chinese and
  Japanese: only after, the verb follows its subject) or before it
  ("endorsed by 60 countries, including China"). ``include`` markers next to
  a state ("among them", 包括, 포함해) and negations reach across the
  sentence. A ``modal`` between the two, or a number of "countries" between a
  state and a later cue ("Spain hosted it, and 35 countries signed"), stops
  the pairing;
* the **document** of a cue: the strongest and nearest mention in its
  comma-delimited segment - a document's name (3), a generic name or a
  reference to the event it came from ("the blueprint", "in The Hague"; 2,
  only when the article is tagged with that event), a document noun ("the
  text", 文件: the primary event's document; 1); else a mention elsewhere in
  its clause, in a segment without a cue of its own ("China, which backed the
  call to action, did not sign" - the call is the first cue's); else, for a
  weight-1 cue, the document of the article's primary event. A cue next to
  another kind of document ("a memorandum", "the treaty") is not about ours.

Per article: one row per (state, document); a pair found with both stances
is dropped (the text contradicts itself, or we misread it). The original text
wins over the translation, which only adds pairs.
"""

from __future__ import annotations

import bisect
import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from functools import lru_cache
from typing import Any

from pipeline.taxonomy import GAP, EndorsementData, Taxonomy
from pipeline.textmatch import EXCLUDE, Hit, Matcher, language_order, normalize_text, snippet

ENDORSED, NOT_ENDORSED = "endorsed", "not_endorsed"
ORIGINAL, TRANSLATION = "original", "translation"

# --- the matcher ----------------------------------------------------------------------

# Keys of the matcher's terms:
#   ("state", codes, 0)              a state's name (codes: one, or several for 中美)
#   ("doc", document id, priority)   a document's name (3) or generic name (2)
#   ("event", event id, priority)    an event's name, cue or place (2): its document
#   ("cue", kind, weight)            a cue word of documents.yaml
#   ("gap", kind, weight, term, i, n) part i of n of a cue with gaps


@dataclass(frozen=True)
class _Data:
    matcher: Matcher
    endorsement: EndorsementData
    event_docs: dict[str, str]  # event id -> document id
    languages: tuple[str, ...]


@lru_cache(maxsize=8)
def _data(taxonomy: Taxonomy) -> _Data | None:
    data = taxonomy.endorsement
    if data is None:
        return None
    entries: list[tuple[str, str, Any]] = []
    for state in data.states:
        entries += [(lang, s.term, ("state", (state.code,), 0)) for lang, specs in state.names.items() for s in specs]
    for group in data.combined:
        entries += [(lang, s.term, ("state", group.codes, 0)) for lang, specs in group.names.items() for s in specs]
    for doc in data.documents:
        entries += [(lang, s.term, ("doc", doc.id, 3)) for lang, specs in doc.names.items() for s in specs]
        entries += [(lang, s.term, ("doc", doc.id, 2)) for lang, specs in doc.generic.items() for s in specs]
    event_docs = dict(data.document_of_event)
    for event in taxonomy.events:
        if event.id not in event_docs:
            continue
        kinds = [event.names, event.cues] + ([event.places] if event.kind == "summit" else [])
        entries += [
            (lang, s.term, ("event", event.id, 2)) for lists in kinds for lang, specs in lists.items() for s in specs
        ]
    for kind, lists in data.cues.items():
        for lang, specs in lists.items():
            for s in specs:
                if GAP in s.term:
                    parts = [p.strip() for p in s.term.split(GAP)]
                    entries += [
                        (lang, part, ("gap", kind, s.weight, s.term, i, len(parts))) for i, part in enumerate(parts)
                    ]
                else:
                    entries.append((lang, s.term, ("cue", kind, s.weight)))
    for lists in (data.state_exclude, data.cue_exclude, taxonomy.event_exclude):
        entries += [(lang, s.term, EXCLUDE) for lang, specs in lists.items() for s in specs]
    return _Data(Matcher(entries), data, event_docs, taxonomy.languages)


# --- results ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Endorsement:
    state: str  # ISO 3166-1 alpha-2
    stance: str  # endorsed | not_endorsed
    document: str  # document id (documents.yaml)
    evidence: str  # the sentence, at most 200 characters
    language: str | None = None  # of the text the evidence comes from
    text: str = ORIGINAL  # original | translation
    cue: str = ""  # the cue as written

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


# --- sentences -------------------------------------------------------------------------

_SENTENCE_END = re.compile(r"[.!?]+[\"'”’»)\]]*(?=\s)|[。！？]+[」』”’）)]*|\s*\n\s*")
_ABBREVIATION = re.compile(
    r"(?:\b(?:[A-ZÀ-ÝА-Я]\.)+|\b(?:EE|UU|Mr|Mrs|Ms|Dr|St|Sr|Sra|Jr|No|Nr|vs|etc|Inc|Ltd|Gen|Lt|Col|Prof|Dec|Sept?)\."
    r"|\b\d{1,2}\.)$"
)
# Clause boundaries inside a sentence, and conjunctions that open a clause of their own.
_CLAUSE = re.compile(
    r"\s*[;；]\s*|\s+[–—]\s+|…|"
    r",\s+(?:but|while|whereas|pero|mientras que|aunque|mais|alors que|tandis que|aber|während|doch|maar|terwijl|"
    r"но|а|хотя)\s+",
    re.IGNORECASE,
)
_SEGMENT = re.compile(r"[,，、:：]")
_LOCATIVES = {
    "en": "in|at", "es": "en", "fr": "en|au|aux|à", "de": "in|im", "nl": "in", "ru": "в|во",
}


@lru_cache(maxsize=16)
def _locative_before(language: str | None) -> re.Pattern[str]:
    """A state right after "in" (or "in the", "in northwestern") is a place, not an actor."""
    words = _LOCATIVES.get(language or "", "in|at|à|au|aux|im|в|во")
    return re.compile(
        rf"(?:^|[\s(])(?:{words})\s+(?:(?:the|el|la|los|las|les|le|de|der|die|het)\s+)?(?:[a-zà-ÿа-яё-]+\s+)?$"
    )


_LOCATIVE_KO = re.compile(r"^(?:에서|서)(?:[\s,.]|$)")
_LOCATIVE_JA = re.compile(r"^で")
_LOCATIVE_ZH = re.compile(r"在$")
_CLAUSE_END = re.compile(r"^\s*(?:[.,;:!?。，；！？…\"'”’»)–—-]|$)")


def sentences(text: str) -> list[tuple[int, int]]:
    """Spans of the sentences of ``text`` (a newline always ends one)."""
    spans: list[tuple[int, int]] = []
    start = 0
    for m in _SENTENCE_END.finditer(text):
        end = m.end()
        if m.group().strip() in (".",) and _ABBREVIATION.search(text[start : m.start() + 1]):
            continue
        if text[start:end].strip():
            spans.append((start, end))
        start = end
    if text[start:].strip():
        spans.append((start, len(text)))
    return spans


def _script(text: str) -> str:
    norm = normalize_text(text)
    if "hangul" in norm.scripts:
        return "hangul"
    if "cjk" in norm.scripts:
        return "cjk"
    return "latin"


@dataclass
class _Mention:
    kind: str  # state, doc, event, cue
    hit: Hit
    start: int  # in the sentence
    end: int
    value: Any  # codes / document id / event id / cue kind
    weight: float = 1.0
    priority: int = 0


@dataclass
class _Sentence:
    text: str
    clauses: list[int]  # clause start offsets
    segments: list[int]  # segment start offsets
    mentions: list[_Mention] = field(default_factory=list)

    def clause(self, pos: int) -> int:
        return bisect.bisect_right(self.clauses, pos) - 1

    def segment(self, pos: int) -> int:
        return bisect.bisect_right(self.segments, pos) - 1


def _boundaries(text: str) -> tuple[list[int], list[int]]:
    clauses = [0] + [m.end() for m in _CLAUSE.finditer(text)]
    segments = sorted(set(clauses + [m.end() for m in _SEGMENT.finditer(text)]))
    return clauses, segments


# --- finding --------------------------------------------------------------------------------


def _is_caps(term: str) -> bool:
    letters = [c for c in term if c.isalpha()]
    return bool(letters) and all(c.isupper() for c in letters)


def _assemble_gaps(hits: list[Hit], text: str) -> list[tuple[str, float, int, int, str]]:
    """Cues with gaps: (kind, weight, start, end, found) where all parts occur in order, close together."""
    parts: dict[tuple[str, str, float], dict[int, list[Hit]]] = defaultdict(lambda: defaultdict(list))
    sizes: dict[tuple[str, str, float], int] = {}
    for h in hits:
        _, kind, weight, term, i, n = h.key
        parts[(term, kind, weight)][i].append(h)
        sizes[(term, kind, weight)] = n
    out = []
    for key, by_index in parts.items():
        n = sizes[key]
        if len(by_index) < n:
            continue
        for first in by_index[0]:
            end, ok = first.end, True
            for i in range(1, n):
                nxt = [h for h in by_index[i] if end <= h.start <= end + 40]
                if not nxt:
                    ok = False
                    break
                end = min(nxt, key=lambda h: h.start).end
            if ok:
                out.append((key[1], key[2], first.start, end, text[first.start : end]))
    return out


def _mentions(sentence: str, data: _Data, order: list[str]) -> list[_Mention]:
    norm = normalize_text(sentence)
    hits = data.matcher.find(norm, order)
    mentions: list[_Mention] = []
    gap_hits = []
    for h in hits:
        tag = h.key[0]
        if tag == "state":
            if _is_caps(h.term) and not _is_caps(h.found):
                continue  # "us", "vs": not the US
            mentions.append(_Mention("state", h, h.start, h.end, h.key[1]))
        elif tag in ("doc", "event"):
            mentions.append(_Mention(tag, h, h.start, h.end, h.key[1], priority=h.key[2]))
        elif tag == "cue":
            mentions.append(_Mention("cue", h, h.start, h.end, h.key[1], weight=h.key[2]))
        elif tag == "gap":
            gap_hits.append(h)
    for kind, weight, start, end, found in _assemble_gaps(gap_hits, sentence):
        fake = Hit(("cue", kind, weight), found, "", start, end, start, end, found)
        mentions.append(_Mention("cue", fake, start, end, kind, weight=weight))
    # A cue inside a longer cue (a gap cue spans other words) gives way; on the same span "reject" wins.
    cues = [m for m in mentions if m.kind == "cue" and m.value in ("endorse", "reject")]
    drop: set[int] = set()
    for a in cues:
        for b in cues:
            if a is b or id(b) in drop:
                continue
            inside = b.start <= a.start and a.end <= b.end
            same = (a.start, a.end) == (b.start, b.end)
            if inside and (not same or (a.value == "endorse" and b.value == "reject")):
                drop.add(id(a))
    return sorted((m for m in mentions if id(m) not in drop), key=lambda m: m.start)


def _is_place(sentence: str, m: _Mention, script: str, language: str | None) -> bool:
    before, after = sentence[: m.start], sentence[m.end :]
    if script == "hangul":
        rest = after.split(" ", 1)[0] if after else ""
        return bool(_LOCATIVE_KO.match(rest)) or bool(_LOCATIVE_ZH.search(before))
    if script == "cjk":
        return bool(_LOCATIVE_JA.match(after)) or bool(_LOCATIVE_ZH.search(before))
    return bool(_locative_before(language).search(before[-40:].lower()))


_CJK_LANGUAGES = ("ja", "ko", "zh")


def _negated(s: _Sentence, state: _Mention, others: list[_Mention]) -> bool:
    """ "neither X", "except X"; "X not." / "China dagegen nicht" at the end of a clause; 中国を除く."""
    for m in others:
        if m.kind != "cue":
            continue
        if m.value == "negate_before" and m.end <= state.start and state.start - m.end <= 8:
            if not any(o.kind == "state" and m.end <= o.start < state.start for o in others):
                return True
        if m.value == "negate_after" and m.start >= state.end:
            if m.hit.language in _CJK_LANGUAGES:
                if m.start - state.end <= 3:
                    return True
            elif m.start - state.end <= 12 and _CLAUSE_END.match(s.text[m.end :]):
                between = s.text[state.end : m.start]
                if not any(ch in between for ch in ",;.:") and len(between.split()) <= 1:
                    return True
    return False


def _included(state: _Mention, others: list[_Mention]) -> bool:
    for m in others:
        if m.kind == "cue" and m.value == "include":
            gap = m.start - state.end if m.start >= state.end else state.start - m.end
            if 0 <= gap <= 25:
                return True
    return False


def _cue_stance(s: _Sentence, cue: _Mention, mentions: list[_Mention]) -> str:
    """``reject``, or ``endorse`` unless a negation stands just before (or, in German/Dutch, just after) it."""
    if cue.value == "reject":
        return "reject"
    for m in mentions:
        if m.kind != "cue":
            continue
        # ("has not" is listed as a clause-final negation too, and hides the "not" inside it)
        negation = m.value == "not" or (m.value == "negate_after" and m.hit.language not in _CJK_LANGUAGES)
        if negation and m.end <= cue.start and cue.start - m.end <= 12 and s.clause(m.start) == s.clause(cue.start):
            return "reject"
        if m.value == "not_after" and m.start >= cue.end and m.start - cue.end <= 25:
            between = s.text[cue.end : m.start]
            if not any(ch in between for ch in ",;.") and _CLAUSE_END.match(s.text[m.end :]):
                return "reject"
    return "endorse"


def _doc_candidates(
    m: _Mention, data: _Data, primary_doc: str | None, events: set[str]
) -> tuple[str | None, int] | None:
    """(document id or None for "another kind of document", priority) of a mention, or None if it names none."""
    if m.kind == "doc":
        doc = data.endorsement.document_by_id[m.value]
        if m.priority >= 3 or doc.event in events:
            return m.value, m.priority
        return None
    if m.kind == "event":
        if m.value in events:
            return data.event_docs[m.value], 2
        return None
    if m.kind == "cue" and m.value == "document":
        return (primary_doc, 1) if primary_doc else None
    if m.kind == "cue" and m.value == "other_document":
        return None, 2
    return None


def _document_of(
    s: _Sentence,
    cue: _Mention,
    mentions: list[_Mention],
    cue_segments: set[int],
    data: _Data,
    primary_doc: str | None,
    events: set[str],
) -> str | None:
    """The document a cue is about (see the module docstring), or None."""
    docs = []
    for m in mentions:
        found = _doc_candidates(m, data, primary_doc, events)
        if found is not None:
            docs.append((m, found))
    seg = s.segment(cue.start)

    def best(cands: list[tuple[_Mention, tuple[str | None, int]]]) -> tuple[bool, str | None]:
        if not cands:
            return False, None
        def dist(m: _Mention) -> int:
            return max(m.start - cue.end, cue.start - m.end, 0)
        m, (doc, _) = min(cands, key=lambda c: (-c[1][1], dist(c[0])))
        return True, doc

    found, doc = best([d for d in docs if s.segment(d[0].start) == seg])
    if found:
        return doc
    clause = s.clause(cue.start)
    found, doc = best(
        [d for d in docs if s.clause(d[0].start) == clause and s.segment(d[0].start) not in cue_segments]
    )
    if found:
        return doc
    return primary_doc if cue.weight >= 1.0 else None


def _sentence_endorsements(
    s: _Sentence, data: _Data, primary_doc: str | None, events: set[str], language: str | None
) -> list[tuple[str, str, str, str, int, int]]:
    """(state, stance, document, cue found, start, end) of one sentence."""
    mentions = s.mentions
    states = [m for m in mentions if m.kind == "state"]
    if not states:
        return []
    cues = [m for m in mentions if m.kind == "cue" and m.value in ("endorse", "reject")]
    if not cues:
        return []
    script = _script(s.text)
    after_limit, before_limit = data.endorsement.limits[script]
    modals = [m for m in mentions if m.kind == "cue" and m.value == "modal"]
    groups_between = _count_subjects(s.text)
    cue_segments = {s.segment(c.start) for c in cues}
    resolved: dict[int, tuple[str, str | None]] = {}
    for c in cues:
        resolved[id(c)] = (_cue_stance(s, c, mentions), _document_of(s, c, mentions, cue_segments, data, primary_doc, events))
    # a state's name inside a document's or an event's name is part of it, not an actor
    covered = [(m.start, m.end) for m in mentions if m.kind in ("doc", "event")]
    actors = [
        st for st in states
        if not any(a <= st.start and st.end <= b and (a, b) != (st.start, st.end) for a, b in covered)
        and not _is_place(s.text, st, script, language)
    ]
    # "the United States, Japan and China among them", "except China and Russia": a list of states
    # shares its markers (a negation only through "and": "Unlike China, Japan signed")
    flags = [(_negated(s, st, mentions), _included(st, mentions)) for st in actors]
    for _ in range(2):
        for i in range(len(actors)):
            for j in (i - 1, i + 1):
                if not 0 <= j < len(actors):
                    continue
                glue = _span_text(s.text, actors[i], actors[j])
                if _LIST_GLUE.match(glue):
                    negated = flags[i][0] or (flags[j][0] and bool(_AND_GLUE.match(glue)))
                    flags[i] = (negated, flags[i][1] or flags[j][1])
    out = []
    for st, (negated, included) in zip(actors, flags, strict=True):
        reach = negated or included
        best: dict[str, tuple[float, str, _Mention]] = {}
        for c in cues:
            stance, doc = resolved[id(c)]
            if doc is None:
                continue
            after = c.start >= st.end
            gap = c.start - st.end if after else st.start - c.end
            if gap < 0:
                continue
            same_clause = s.clause(c.start) == s.clause(st.start)
            if not reach:
                limit = after_limit if after else before_limit
                if gap > limit or (not after and not same_clause):
                    continue
                if after and _between(groups_between, st.end, c.start):
                    continue  # "Spain hosted it, and 35 countries signed": the count is the subject
            elif not after and script != "latin":
                continue
            lo, hi = (st.end, c.start) if after else (c.end, st.start)
            if any(lo <= m.start and m.end <= hi for m in modals):
                continue
            if script in ("hangul", "cjk") and any(0 <= m.start - c.end <= 12 for m in modals):
                continue  # 서명할 예정, 署名する見通し: the modal follows the verb
            score = gap if after else gap * 1.5
            if doc not in best or score < best[doc][0]:
                best[doc] = (score, stance, c)
        for doc, (_, stance, c) in best.items():
            final = NOT_ENDORSED if (stance == "reject" or negated) else ENDORSED
            for code in st.value:
                out.append((code, final, doc, c.hit.found, min(st.start, c.start), max(st.end, c.end)))
    return out


# "35 countries", "dozens of governments", "60개국", "35个国家", "35か国": a group of states, the
# subject of a later verb ("Spain hosted it, and 35 countries signed"; "US officials said dozens of
# countries signed"), unless "other" ("Japan and 34 other countries signed").
_GROUP = re.compile(
    r"\b(?:countries|(?<!united )states|nations|governments|países|(?:estados|naciones)(?!\s+unid)|gobiernos|pays|"
    r"(?:états|etats)(?!-unis)|gouvernements|länder|(?<!vereinigte )(?<!vereinigten )staaten|regierungen|landen|"
    r"(?<!verenigde )staten|regeringen|стран\w*|государств\w*|правительств\w*)\b"
    r"|\d+\s*(?:개국|개 국가)|국가들|나라들|个国家|国家|各国|か国|カ国|ヵ国|各国|国々",
    re.IGNORECASE,
)
_OTHER = re.compile(
    r"(?:other|otros|otras|autres|andere|anderen|andere|других|другими|다른|其他|他の)\s*[\d,.]*\s*$", re.IGNORECASE
)


_LIST_GLUE = re.compile(
    r"^\s*(?:,|、|·|・|/|and|or|as well as|y|e|o|et|ou|und|oder|en|of|и|или|과|와|및|랑|和|及|与|や|と)?\s*"
    r"(?:the|la|le|les|los|las|el|die|de|het)?\s*$",
    re.IGNORECASE,
)


_AND_GLUE = re.compile(
    r"^\s*(?:and|or|y|e|o|et|ou|und|oder|en|of|и|или|과|와|및|和|及|与|や|と)\s*(?:the|la|le|les|los|las|el|die|de|het)?\s*$",
    re.IGNORECASE,
)


def _span_text(text: str, a: _Mention, b: _Mention) -> str:
    """The text between two mentions."""
    return text[a.end : b.start] if a.end <= b.start else text[b.end : a.start]


def _count_subjects(text: str) -> list[tuple[int, int]]:
    return [m.span() for m in _GROUP.finditer(text) if not _OTHER.search(text[max(0, m.start() - 16) : m.start()])]


def _between(spans: list[tuple[int, int]], lo: int, hi: int) -> bool:
    return any(lo <= a and b <= hi for a, b in spans)


def find_endorsements(
    title: str | None,
    text: str | None,
    language: str | None,
    taxonomy: Taxonomy,
    primary_event: str | None,
    events: Sequence[str] = (),
    *,
    side: str = ORIGINAL,
) -> list[Endorsement]:
    """Endorsements stated in one text (see the module docstring).

    ``primary_event`` and ``events`` are the article's tags: the primary
    event's document is "the text" of a sentence that names none, and a
    generic name ("the blueprint") counts only for an event tagged.
    """
    data = _data(taxonomy)
    if data is None:
        return []
    order, primary = language_order(language, data.languages)
    if primary is not None:
        order = [x for x in order if x in primary]
    primary_doc = data.event_docs.get(primary_event or "")
    tagged = set(events) | ({primary_event} if primary_event else set())
    found: dict[tuple[str, str], dict[str, tuple[str, str]]] = defaultdict(dict)  # (state, doc) -> stance -> evidence
    units: list[str] = []
    if title and title.strip():
        units.append(title)
    if text and text.strip():
        units += [text[a:b] for a, b in sentences(text)]
    for unit in units:
        clauses, segments = _boundaries(unit)
        s = _Sentence(unit, clauses, segments)
        s.mentions = _mentions(unit, data, order)
        for code, stance, doc, cue, start, end in _sentence_endorsements(s, data, primary_doc, tagged, language):
            found[(code, doc)].setdefault(stance, (snippet(unit, start, end), cue))
    out = []
    for (code, doc), stances in found.items():
        if len(stances) != 1:
            continue  # both stances: the text contradicts itself, or we misread it
        stance, (evidence, cue) = next(iter(stances.items()))
        out.append(Endorsement(code, stance, doc, evidence, language, side, cue))
    return out


def endorse_article(
    title: str | None,
    text: str | None,
    language: str | None,
    taxonomy: Taxonomy,
    primary_event: str | None,
    events: Iterable[str] = (),
    title_en: str | None = None,
    text_en: str | None = None,
) -> list[Endorsement]:
    """Endorsements of an article: the original's, plus pairs only its English translation states."""
    events = list(events)
    out = find_endorsements(title, text, language, taxonomy, primary_event, events)
    if (title_en and title_en.strip()) or (text_en and text_en.strip()):
        seen = {(e.state, e.document) for e in out}
        for e in find_endorsements(title_en, text_en, "en", taxonomy, primary_event, events, side=TRANSLATION):
            if (e.state, e.document) not in seen:
                out.append(e)
    return sorted(out, key=lambda e: (e.document, e.state))

"""The topic as data: events, themes and the relevance lexicon, loaded and checked.

Three YAML files in one directory (by default ``pipeline/taxonomy/``, shipped
as package data; the ``TAG_TAXONOMY`` setting or ``--config`` may point at
another directory to follow another topic):

* ``events.yaml``  - version, languages, event scoring, the series names, the events;
* ``themes.yaml``  - theme scoring and the themes;
* ``lexicon.yaml`` - the relevance groups;
* ``states.yaml`` and ``documents.yaml`` (optional: without them nothing is
  read as an endorsement) - state names, outcome documents and the words that
  say a state endorsed one or did not (``pipeline/endorse.py``).

All of them carry the same ``version``. Malformed data raises ``ValueError``
naming the file and the id. Everything is frozen; the matchers are compiled
once, on first use, and cached on the objects.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from pathlib import Path
from types import MappingProxyType
from typing import Any

import yaml

from pipeline.textmatch import EXCLUDE, Matcher, compile_term

DEFAULT_DIR = Path(__file__).with_name("taxonomy")
FILES = ("events.yaml", "themes.yaml", "lexicon.yaml")
ENDORSEMENT_FILES = ("states.yaml", "documents.yaml")  # optional, read together
CUE_KINDS = (
    "endorse", "reject", "not", "not_after", "negate_before", "negate_after",
    "include", "modal", "document", "other_document",
)
SCRIPT_CLASSES = ("latin", "hangul", "cjk")
GAP = "…"  # in a cue: its parts in order, a few words apart
_STATE_CODE = re.compile(r"^[A-Z]{2}$")
ANY = "any"  # the term list tried in every language
EVENT_KINDS = ("summit", "conference", "declaration", "resolution", "commission")
EVIDENCE_KINDS = ("name", "cue", "place", "year")
_ID = re.compile(r"^[a-z0-9][a-z0-9-]*$")
_LANG = re.compile(r"^[a-z]{2,3}$")
_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when present: 10x faster


@dataclass(frozen=True)
class TermSpec:
    term: str
    weight: float = 1.0


TermLists = Mapping[str, tuple[TermSpec, ...]]  # language (or "any") -> terms


def _frozen(mapping: Mapping[str, Any]) -> Mapping[str, Any]:
    return MappingProxyType(dict(mapping))


# --- events -----------------------------------------------------------------------


@dataclass(frozen=True)
class EventScoring:
    weights: Mapping[str, float]
    title_factor: float
    secondary_language_factor: float
    repeat_bonus: float
    repeat_cap: int
    min_score: float
    near_days: int
    date_near: float
    date_window: float
    windows: Mapping[str, tuple[int, int]]
    primary_prior: Mapping[str, float]


@dataclass(frozen=True)
class Event:
    id: str
    kind: str
    label: str  # English
    labels: Mapping[str, str]
    start_date: dt.date
    end_date: dt.date | None
    place: str | None
    country: str | None
    organisers: tuple[str, ...]
    outcome_documents: tuple[str, ...]
    series: str | None
    years: tuple[int, ...]
    names: TermLists
    cues: TermLists
    places: TermLists
    weights: Mapping[str, float]  # per evidence kind, multiplies the scoring weight
    extra: Mapping[str, Any] = field(default_factory=dict)

    def window(self, scoring: EventScoring) -> tuple[dt.date, dt.date]:
        """Dates between which a publication may be a preview or a follow-up of the event."""
        before, after = scoring.windows.get(self.kind, (30, 60))
        end = self.end_date or self.start_date
        return self.start_date - dt.timedelta(days=before), end + dt.timedelta(days=after)


@dataclass(frozen=True)
class Theme:
    id: str
    label: str
    labels: Mapping[str, str]
    terms: TermLists


@dataclass(frozen=True)
class ThemeScoring:
    min_score: float
    title_factor: float
    repeat_bonus: float
    repeat_cap: int
    secondary_language_factor: float
    relative_min: float  # a theme needs this share of the strongest theme's score
    max_themes: int


# --- relevance lexicon ------------------------------------------------------------


@dataclass(frozen=True)
class LexiconGroup:
    id: str
    kind: str  # "terms" or "pair"
    weight: float
    terms: TermLists  # kind "terms"
    sides: Mapping[str, TermLists]  # kind "pair": exactly two sides
    requires: tuple[str, ...]  # counts only if one of these groups is present
    primary_only: bool  # only the article's language and English (when known)
    bucket: str | None  # groups of one bucket decay together
    near_chars: int
    far_factor: float


@dataclass(frozen=True, eq=False)  # compared and hashed by identity: it keys caches
class Lexicon:
    version: str
    languages: tuple[str, ...]
    threshold: float
    title_factor: float
    max_item_weight: float
    decay: float
    secondary_language_factor: float
    prose_line_chars: int  # a line at least this long is prose, not a link or a caption
    isolated_factor: float  # the score's factor when the evidence is only outside the prose
    groups: tuple[LexiconGroup, ...]
    exclude: TermLists

    @cached_property
    def group_by_id(self) -> Mapping[str, LexiconGroup]:
        return _frozen({g.id: g for g in self.groups})

    @cached_property
    def matcher(self) -> Matcher:
        """All groups' terms; the key of a term is ``(group id, side or None, term weight)``."""
        entries: list[tuple[str, str, Any]] = []
        for group in self.groups:
            if group.kind == "pair":
                for side, lists in group.sides.items():
                    entries += [
                        (lang, s.term, (group.id, side, s.weight)) for lang, specs in lists.items() for s in specs
                    ]
            else:
                entries += [
                    (lang, s.term, (group.id, None, s.weight)) for lang, specs in group.terms.items() for s in specs
                ]
        entries += [(lang, s.term, EXCLUDE) for lang, specs in self.exclude.items() for s in specs]
        return Matcher(entries)


# --- states, outcome documents, endorsement cues -----------------------------------


@dataclass(frozen=True)
class State:
    code: str  # ISO 3166-1 alpha-2
    label: str  # English
    names: TermLists


@dataclass(frozen=True)
class CombinedName:
    """One word for several states (中美: China and the United States)."""

    codes: tuple[str, ...]
    names: TermLists


@dataclass(frozen=True)
class OutcomeDocument:
    id: str
    event: str  # the event it came out of
    label: str  # English
    labels: Mapping[str, str]
    names: TermLists  # say which document on their own
    generic: TermLists  # only when the article is tagged with ``event``


@dataclass(frozen=True, eq=False)  # compared and hashed by identity: it keys caches
class EndorsementData:
    version: str
    states: tuple[State, ...]
    combined: tuple[CombinedName, ...]
    state_exclude: TermLists
    documents: tuple[OutcomeDocument, ...]
    cues: Mapping[str, TermLists]  # cue kind (CUE_KINDS) -> term lists
    cue_exclude: TermLists
    limits: Mapping[str, tuple[int, int]]  # script class -> (chars when the cue follows, precedes)

    @cached_property
    def state_by_code(self) -> Mapping[str, State]:
        return _frozen({s.code: s for s in self.states})

    @cached_property
    def document_by_id(self) -> Mapping[str, OutcomeDocument]:
        return _frozen({d.id: d for d in self.documents})

    @cached_property
    def document_of_event(self) -> Mapping[str, str]:
        """Event id -> the id of its (first) outcome document."""
        out: dict[str, str] = {}
        for d in self.documents:
            out.setdefault(d.event, d.id)
        return _frozen(out)


# --- the whole taxonomy -------------------------------------------------------------


@dataclass(frozen=True, eq=False)  # compared and hashed by identity: it keys caches
class Taxonomy:
    version: str
    languages: tuple[str, ...]
    path: Path
    events: tuple[Event, ...]  # in file order
    themes: tuple[Theme, ...]
    lexicon: Lexicon
    event_scoring: EventScoring
    theme_scoring: ThemeScoring
    series: Mapping[str, TermLists]  # series id -> names that say "this series" but not which event
    event_exclude: TermLists
    endorsement: EndorsementData | None = None  # None: no states.yaml / documents.yaml

    @cached_property
    def event_by_id(self) -> Mapping[str, Event]:
        return _frozen({e.id: e for e in self.events})

    @cached_property
    def theme_by_id(self) -> Mapping[str, Theme]:
        return _frozen({t.id: t for t in self.themes})

    def event(self, event_id: str) -> Event:
        return self.event_by_id[event_id]

    @cached_property
    def event_matcher(self) -> Matcher:
        """Event and series terms; the key is ``(evidence kind, event or series id, weight)``."""
        entries: list[tuple[str, str, Any]] = []
        for series_id, lists in self.series.items():
            entries += [(lang, s.term, ("series", series_id, s.weight)) for lang, specs in lists.items() for s in specs]
        for event in self.events:
            for kind, lists in (("name", event.names), ("cue", event.cues), ("place", event.places)):
                entries += [(lang, s.term, (kind, event.id, s.weight)) for lang, specs in lists.items() for s in specs]
            entries += [(ANY, str(year), ("year", event.id, 1.0)) for year in event.years]
        entries += [(lang, s.term, EXCLUDE) for lang, specs in self.event_exclude.items() for s in specs]
        return Matcher(entries)

    @cached_property
    def theme_matcher(self) -> Matcher:
        """Theme terms; the key is ``(theme id, weight)``."""
        return Matcher(
            (lang, s.term, (theme.id, s.weight))
            for theme in self.themes
            for lang, specs in theme.terms.items()
            for s in specs
        )

    def event_rows(self) -> list[dict[str, Any]]:
        """Rows for the archive's ``events`` table."""
        return [
            {
                "id": e.id,
                "label": e.label,
                "kind": e.kind,
                "start_date": e.start_date.isoformat(),
                "end_date": e.end_date.isoformat() if e.end_date else None,
                "place": e.place,
                "country": e.country,
                "labels": dict(e.labels),
            }
            for e in self.events
        ]

    def theme_rows(self) -> list[dict[str, Any]]:
        """Rows for the archive's ``themes`` table."""
        return [{"id": t.id, "label": t.label, "labels": dict(t.labels)} for t in self.themes]


# --- loading ------------------------------------------------------------------------


class _Reader:
    """Checks one file's data, every error naming the file and the id."""

    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            data = yaml.load(path.read_text(encoding="utf-8"), Loader=_YAML_LOADER)  # noqa: S506 (a safe loader)
        except FileNotFoundError:
            raise ValueError(f"{path}: taxonomy file not found") from None
        except yaml.YAMLError as exc:
            raise ValueError(f"{path}: not valid YAML: {exc}") from None
        if not isinstance(data, dict):
            raise ValueError(f"{path}: expected a mapping at the top level")
        self.data: dict[str, Any] = data

    def fail(self, where: str, message: str) -> ValueError:
        return ValueError(f"{self.path}: {where}: {message}")

    def version(self) -> str:
        version = self.data.get("version")
        if not isinstance(version, str | int | float) or not str(version).strip():
            raise self.fail("version", 'missing: a version string like "2026.11.1" is required')
        return str(version).strip()

    def number(
        self,
        mapping: Mapping[str, Any],
        key: str,
        where: str,
        default: float | None = None,
        lo: float = 0.0,
        hi: float = float("inf"),
    ) -> float:
        value = mapping.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise self.fail(where, f"{key} must be a number, not {value!r}")
        if not lo <= value <= hi:
            raise self.fail(where, f"{key} must be between {lo} and {hi}, not {value}")
        return float(value)

    def mapping(self, value: Any, where: str, what: str) -> Mapping[str, Any]:
        if value is None:
            return {}
        if not isinstance(value, dict):
            raise self.fail(where, f"{what} must be a mapping")
        return value

    def ident(self, value: Any, where: str) -> str:
        if not isinstance(value, str) or not _ID.match(value):
            raise self.fail(where, f"id must be lowercase letters, digits and dashes, not {value!r}")
        return value

    def date(self, value: Any, where: str, what: str) -> dt.date:
        if isinstance(value, dt.datetime):
            return value.date()
        if isinstance(value, dt.date):
            return value
        if isinstance(value, str):
            try:
                return dt.date.fromisoformat(value.strip())
            except ValueError:
                pass
        raise self.fail(where, f"{what} must be a date YYYY-MM-DD, not {value!r}")

    def labels(self, value: Any, where: str, languages: tuple[str, ...]) -> Mapping[str, str]:
        labels = self.mapping(value, where, "labels")
        for lang, label in labels.items():
            if lang not in languages:
                raise self.fail(where, f"label in unconfigured language {lang!r}")
            if not isinstance(label, str) or not label.strip():
                raise self.fail(where, f"label for {lang!r} must be a non-empty string")
        return _frozen({k: v.strip() for k, v in labels.items()})

    def terms(self, value: Any, where: str, languages: tuple[str, ...]) -> TermLists:
        lists = self.mapping(value, where, "a term list")
        out: dict[str, tuple[TermSpec, ...]] = {}
        for lang, items in lists.items():
            if lang != ANY and lang not in languages:
                raise self.fail(where, f"terms in unconfigured language {lang!r}")
            if items is None:
                items = []
            if not isinstance(items, list):
                raise self.fail(where, f"terms for {lang!r} must be a list")
            specs = []
            for item in items:
                if isinstance(item, dict):
                    unknown = set(item) - {"term", "weight"}
                    if unknown or "term" not in item:
                        raise self.fail(where, f"a term item is {{term: ..., weight: ...}}, not {item!r}")
                    term, weight = item["term"], self.number(item, "weight", where, 1.0, 0.0, 10.0)
                else:
                    term, weight = item, 1.0
                if isinstance(term, int | float) and not isinstance(term, bool):
                    term = str(term)
                if not isinstance(term, str) or not term.strip():
                    raise self.fail(where, f"term for {lang!r} must be a non-empty string, not {term!r}")
                try:
                    compile_term(term, lang)
                except ValueError as exc:
                    raise self.fail(where, str(exc)) from None
                specs.append(TermSpec(term.strip(), weight))
            out[lang] = tuple(specs)
        return _frozen(out)

    def unique_ids(self, items: list[Any], what: str) -> None:
        seen: set[str] = set()
        for i, item in enumerate(items):
            if not isinstance(item, dict):
                raise self.fail(f"{what}[{i}]", "must be a mapping")
            ident = self.ident(item.get("id"), f"{what}[{i}]")
            if ident in seen:
                raise self.fail(f"{what} {ident!r}", "duplicate id")
            seen.add(ident)


_EVENT_KEYS = {
    "id",
    "kind",
    "series",
    "start_date",
    "end_date",
    "place",
    "country",
    "venue",
    "organisers",
    "outcome_documents",
    "years",
    "labels",
    "names",
    "cues",
    "places",
    "weights",
    "theme",
    "notes",
}


def _strings(reader: _Reader, value: Any, where: str, what: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise reader.fail(where, f"{what} must be a list of strings")
    return tuple(value)


def _read_events(
    reader: _Reader,
) -> tuple[str, tuple[str, ...], EventScoring, dict[str, TermLists], TermLists, tuple[Event, ...]]:
    data = reader.data
    version = reader.version()
    languages = data.get("languages")
    if (
        not isinstance(languages, list)
        or not languages
        or not all(isinstance(x, str) and _LANG.match(x) for x in languages)
        or len(set(languages)) != len(languages)
    ):
        raise reader.fail("languages", "must be a non-empty list of distinct ISO 639-1 codes")
    langs = tuple(languages)

    sc = reader.mapping(data.get("scoring"), "scoring", "scoring")
    weights = reader.mapping(sc.get("weights"), "scoring", "weights")
    date_cfg = reader.mapping(sc.get("date"), "scoring", "date")
    windows_raw = reader.mapping(sc.get("windows"), "scoring", "windows")
    windows: dict[str, tuple[int, int]] = {}
    for kind, pair in windows_raw.items():
        if (
            not isinstance(pair, list)
            or len(pair) != 2
            or not all(isinstance(x, int) and not isinstance(x, bool) and x >= 0 for x in pair)
        ):
            raise reader.fail("scoring", f"windows.{kind} must be [days before, days after]")
        windows[kind] = (pair[0], pair[1])
    prior = reader.mapping(sc.get("primary_prior"), "scoring", "primary_prior")
    scoring = EventScoring(
        weights=_frozen(
            {
                k: reader.number(weights, k, "scoring.weights", {"name": 3.0, "cue": 1.5, "place": 1.5, "year": 0.5}[k])
                for k in EVIDENCE_KINDS
            }
        ),
        title_factor=reader.number(sc, "title_factor", "scoring", 1.5),
        secondary_language_factor=reader.number(sc, "secondary_language_factor", "scoring", 0.8, 0, 1),
        repeat_bonus=reader.number(sc, "repeat_bonus", "scoring", 0.25),
        repeat_cap=int(reader.number(sc, "repeat_cap", "scoring", 3)),
        min_score=reader.number(sc, "min_score", "scoring", 1.5),
        near_days=int(reader.number(date_cfg, "near_days", "scoring.date", 7)),
        date_near=reader.number(date_cfg, "near", "scoring.date", 1.0),
        date_window=reader.number(date_cfg, "window", "scoring.date", 0.5),
        windows=_frozen(windows),
        primary_prior=_frozen({k: reader.number(prior, k, "scoring.primary_prior") for k in prior}),
    )

    series_raw = reader.mapping(data.get("series"), "series", "series")
    series: dict[str, TermLists] = {}
    for sid, body in series_raw.items():
        reader.ident(sid, f"series {sid!r}")
        series[sid] = reader.terms(
            reader.mapping(body, f"series {sid!r}", "series").get("names"), f"series {sid!r}", langs
        )
    exclude = reader.terms(data.get("exclude"), "exclude", langs)

    items = data.get("events")
    if not isinstance(items, list) or not items:
        raise reader.fail("events", "must be a non-empty list")
    reader.unique_ids(items, "events")
    events = []
    for item in items:
        eid = item["id"]
        where = f"event {eid!r}"
        unknown = set(item) - _EVENT_KEYS
        if unknown:
            raise reader.fail(where, f"unknown field(s) {sorted(unknown)}")
        kind = item.get("kind")
        if kind not in EVENT_KINDS:
            raise reader.fail(where, f"kind must be one of {', '.join(EVENT_KINDS)}, not {kind!r}")
        start = reader.date(item.get("start_date"), where, "start_date")
        end = reader.date(item["end_date"], where, "end_date") if item.get("end_date") is not None else None
        if end is not None and end < start:
            raise reader.fail(where, f"end_date {end} is before start_date {start}")
        series_id = item.get("series")
        if series_id is not None and series_id not in series:
            raise reader.fail(where, f"series {series_id!r} is not defined under `series`")
        years = item.get("years") or []
        if not isinstance(years, list) or not all(isinstance(y, int) and not isinstance(y, bool) for y in years):
            raise reader.fail(where, "years must be a list of integers")
        labels = reader.labels(item.get("labels"), where, langs)
        if not labels:
            raise reader.fail(where, "labels are required")
        ev_weights = reader.mapping(item.get("weights"), where, "weights")
        for k in ev_weights:
            if k not in EVIDENCE_KINDS:
                raise reader.fail(where, f"weights: unknown evidence kind {k!r}")
        events.append(
            Event(
                id=eid,
                kind=kind,
                label=labels.get("en") or next(iter(labels.values())),
                labels=labels,
                start_date=start,
                end_date=end,
                place=item.get("place"),
                country=item.get("country"),
                organisers=_strings(reader, item.get("organisers"), where, "organisers"),
                outcome_documents=_strings(reader, item.get("outcome_documents"), where, "outcome_documents"),
                series=series_id,
                years=tuple(years),
                names=reader.terms(item.get("names"), where, langs),
                cues=reader.terms(item.get("cues"), where, langs),
                places=reader.terms(item.get("places"), where, langs),
                weights=_frozen({k: reader.number(ev_weights, k, where, 1.0, 0, 10) for k in ev_weights}),
                extra=_frozen({k: item[k] for k in ("venue", "theme", "notes") if k in item}),
            )
        )
    return version, langs, scoring, series, exclude, tuple(events)


def _read_themes(reader: _Reader, langs: tuple[str, ...]) -> tuple[str, ThemeScoring, tuple[Theme, ...]]:
    data = reader.data
    version = reader.version()
    sc = reader.mapping(data.get("scoring"), "scoring", "scoring")
    scoring = ThemeScoring(
        min_score=reader.number(sc, "min_score", "scoring", 2.0),
        title_factor=reader.number(sc, "title_factor", "scoring", 1.5),
        repeat_bonus=reader.number(sc, "repeat_bonus", "scoring", 0.25),
        repeat_cap=int(reader.number(sc, "repeat_cap", "scoring", 2)),
        secondary_language_factor=reader.number(sc, "secondary_language_factor", "scoring", 0.8, 0, 1),
        relative_min=reader.number(sc, "relative_min", "scoring", 0.0, 0, 1),
        max_themes=int(reader.number(sc, "max_themes", "scoring", 99, 1)),
    )
    items = data.get("themes")
    if not isinstance(items, list) or not items:
        raise reader.fail("themes", "must be a non-empty list")
    reader.unique_ids(items, "themes")
    themes = []
    for item in items:
        where = f"theme {item['id']!r}"
        unknown = set(item) - {"id", "labels", "terms", "notes"}
        if unknown:
            raise reader.fail(where, f"unknown field(s) {sorted(unknown)}")
        labels = reader.labels(item.get("labels"), where, langs)
        if not labels:
            raise reader.fail(where, "labels are required")
        themes.append(
            Theme(
                item["id"],
                labels.get("en") or next(iter(labels.values())),
                labels,
                reader.terms(item.get("terms"), where, langs),
            )
        )
    return version, scoring, tuple(themes)


def _read_lexicon(reader: _Reader, langs: tuple[str, ...]) -> Lexicon:
    data = reader.data
    version = reader.version()
    items = data.get("groups")
    if not isinstance(items, list) or not items:
        raise reader.fail("groups", "must be a non-empty list")
    reader.unique_ids(items, "groups")
    groups = []
    earlier: set[str] = set()
    for item in items:
        where = f"group {item['id']!r}"
        unknown = set(item) - {
            "id",
            "kind",
            "weight",
            "terms",
            "sides",
            "requires",
            "primary_only",
            "bucket",
            "near_chars",
            "far_factor",
            "notes",
        }
        if unknown:
            raise reader.fail(where, f"unknown field(s) {sorted(unknown)}")
        kind = item.get("kind", "terms")
        if kind not in ("terms", "pair"):
            raise reader.fail(where, f"kind must be terms or pair, not {kind!r}")
        requires = item.get("requires") or []
        if not isinstance(requires, list) or any(r not in earlier for r in requires):
            raise reader.fail(where, f"requires must list groups defined above it, not {requires!r}")
        earlier.add(item["id"])
        sides: dict[str, TermLists] = {}
        terms: TermLists = _frozen({})
        if kind == "pair":
            raw_sides = reader.mapping(item.get("sides"), where, "sides")
            if len(raw_sides) != 2:
                raise reader.fail(where, "a pair has exactly two sides")
            sides = {name: reader.terms(lists, f"{where} side {name!r}", langs) for name, lists in raw_sides.items()}
            if item.get("terms"):
                raise reader.fail(where, "a pair has sides, not terms")
        else:
            terms = reader.terms(item.get("terms"), where, langs)
            if not any(terms.values()):
                raise reader.fail(where, "no terms")
        bucket = item.get("bucket")
        if bucket is not None and not isinstance(bucket, str):
            raise reader.fail(where, "bucket must be a string")
        groups.append(
            LexiconGroup(
                id=item["id"],
                kind=kind,
                weight=reader.number(item, "weight", where, None, 0.0, 1.0),
                terms=terms,
                sides=_frozen(sides),
                requires=tuple(requires),
                primary_only=bool(item.get("primary_only", False)),
                bucket=bucket,
                near_chars=int(reader.number(item, "near_chars", where, 150)),
                far_factor=reader.number(item, "far_factor", where, 0.6, 0.0, 1.0),
            )
        )
    return Lexicon(
        version=version,
        languages=langs,
        threshold=reader.number(data, "threshold", "threshold", 0.5, 0.0, 1.0),
        title_factor=reader.number(data, "title_factor", "title_factor", 1.5),
        max_item_weight=reader.number(data, "max_item_weight", "max_item_weight", 0.95, 0.0, 1.0),
        decay=reader.number(data, "decay", "decay", 0.5, 0.0, 1.0),
        secondary_language_factor=reader.number(
            data, "secondary_language_factor", "secondary_language_factor", 0.85, 0.0, 1.0
        ),
        prose_line_chars=int(reader.number(data, "prose_line_chars", "prose_line_chars", 100)),
        isolated_factor=reader.number(data, "isolated_factor", "isolated_factor", 0.5, 0.0, 1.0),
        groups=tuple(groups),
        exclude=reader.terms(data.get("exclude"), "exclude", langs),
    )


def _gap_parts(reader: _Reader, lists: TermLists, where: str) -> None:
    """A cue with " … " matches its parts in order: each part must be a valid term."""
    for lang, specs in lists.items():
        for spec in specs:
            if GAP not in spec.term:
                continue
            parts = [p.strip() for p in spec.term.split(GAP)]
            if len(parts) < 2 or not all(parts):
                raise reader.fail(where, f"{spec.term!r}: a gap needs words on both sides")
            for part in parts:
                try:
                    compile_term(part, lang)
                except ValueError as exc:
                    raise reader.fail(where, str(exc)) from None


def _read_endorsement(
    st_reader: _Reader, doc_reader: _Reader, langs: tuple[str, ...], event_ids: set[str], version: str
) -> EndorsementData:
    for reader in (st_reader, doc_reader):
        if reader.version() != version:
            raise reader.fail(
                "version", f"{reader.version()!r} differs from events.yaml's {version!r}; bump all files together"
            )

    # states.yaml
    items = st_reader.data.get("states")
    if not isinstance(items, list) or not items:
        raise st_reader.fail("states", "must be a non-empty list")
    states: list[State] = []
    codes: set[str] = set()
    for i, item in enumerate(items):
        if not isinstance(item, dict):
            raise st_reader.fail(f"states[{i}]", "must be a mapping")
        code = item.get("code")
        if not isinstance(code, str) or not _STATE_CODE.match(code):
            raise st_reader.fail(f"states[{i}]", f"code must be ISO 3166-1 alpha-2 (two capitals), not {code!r}")
        where = f"state {code!r}"
        if code in codes:
            raise st_reader.fail(where, "duplicate code")
        codes.add(code)
        unknown = set(item) - {"code", "label", "names", "notes"}
        if unknown:
            raise st_reader.fail(where, f"unknown field(s) {sorted(unknown)}")
        label = item.get("label")
        if not isinstance(label, str) or not label.strip():
            raise st_reader.fail(where, "label is required")
        names = st_reader.terms(item.get("names"), where, langs)
        if not any(names.values()):
            raise st_reader.fail(where, "no names")
        states.append(State(code, label.strip(), names))
    combined: list[CombinedName] = []
    for i, item in enumerate(st_reader.data.get("combined") or []):
        where = f"combined[{i}]"
        if not isinstance(item, dict):
            raise st_reader.fail(where, "must be a mapping")
        group = item.get("codes")
        if not isinstance(group, list) or len(group) < 2 or any(c not in codes for c in group):
            raise st_reader.fail(where, f"codes must list two or more states defined above, not {group!r}")
        combined.append(CombinedName(tuple(group), st_reader.terms(item.get("names"), where, langs)))
    state_exclude = st_reader.terms(st_reader.data.get("exclude"), "exclude", langs)

    # documents.yaml
    items = doc_reader.data.get("documents")
    if not isinstance(items, list) or not items:
        raise doc_reader.fail("documents", "must be a non-empty list")
    doc_reader.unique_ids(items, "documents")
    documents: list[OutcomeDocument] = []
    for item in items:
        where = f"document {item['id']!r}"
        unknown = set(item) - {"id", "event", "labels", "names", "generic", "notes"}
        if unknown:
            raise doc_reader.fail(where, f"unknown field(s) {sorted(unknown)}")
        event = item.get("event")
        if event not in event_ids:
            raise doc_reader.fail(where, f"event {event!r} is not an event of events.yaml")
        labels = doc_reader.labels(item.get("labels"), where, langs)
        if not labels:
            raise doc_reader.fail(where, "labels are required")
        names = doc_reader.terms(item.get("names"), where, langs)
        if not any(names.values()):
            raise doc_reader.fail(where, "no names")
        documents.append(
            OutcomeDocument(
                id=item["id"],
                event=event,
                label=labels.get("en") or next(iter(labels.values())),
                labels=labels,
                names=names,
                generic=doc_reader.terms(item.get("generic"), where, langs),
            )
        )
    raw_cues = doc_reader.mapping(doc_reader.data.get("cues"), "cues", "cues")
    unknown = set(raw_cues) - set(CUE_KINDS)
    if unknown:
        raise doc_reader.fail("cues", f"unknown cue kind(s) {sorted(unknown)}; known: {', '.join(CUE_KINDS)}")
    cues: dict[str, TermLists] = {}
    for kind in CUE_KINDS:
        cues[kind] = doc_reader.terms(raw_cues.get(kind), f"cues.{kind}", langs)
        _gap_parts(doc_reader, cues[kind], f"cues.{kind}")
    for kind in ("endorse", "reject"):
        if not any(cues[kind].values()):
            raise doc_reader.fail(f"cues.{kind}", "no terms")
    raw_limits = doc_reader.mapping(doc_reader.data.get("limits"), "limits", "limits")
    limits: dict[str, tuple[int, int]] = {}
    defaults = {"latin": [110, 70], "hangul": [55, 0], "cjk": [32, 0]}
    for script in SCRIPT_CLASSES:
        pair = raw_limits.get(script, defaults[script])
        if (
            not isinstance(pair, list)
            or len(pair) != 2
            or not all(isinstance(x, int) and not isinstance(x, bool) and x >= 0 for x in pair)
        ):
            raise doc_reader.fail("limits", f"{script} must be [chars after, chars before], not {pair!r}")
        limits[script] = (pair[0], pair[1])
    return EndorsementData(
        version=version,
        states=tuple(states),
        combined=tuple(combined),
        state_exclude=state_exclude,
        documents=tuple(documents),
        cues=_frozen(cues),
        cue_exclude=doc_reader.terms(doc_reader.data.get("exclude"), "exclude", langs),
        limits=_frozen(limits),
    )


def _resolve(path: str | Path | None) -> Path:
    if path is None or str(path) == "":
        return DEFAULT_DIR
    p = Path(path).expanduser()
    if p.is_file():
        p = p.parent
    return p.resolve()


@lru_cache(maxsize=8)
def _load(directory: Path, stamps: tuple[float, ...]) -> Taxonomy:  # stamps: reload when a file changes
    if not directory.is_dir():
        raise ValueError(f"{directory}: taxonomy directory not found")
    ev_reader, th_reader, lx_reader = (_Reader(directory / name) for name in FILES)
    version, langs, ev_scoring, series, ev_exclude, events = _read_events(ev_reader)
    th_version, th_scoring, themes = _read_themes(th_reader, langs)
    lexicon = _read_lexicon(lx_reader, langs)
    for reader, other in ((th_reader, th_version), (lx_reader, lexicon.version)):
        if other != version:
            raise reader.fail("version", f"{other!r} differs from events.yaml's {version!r}; bump all three together")
    endorsement = None
    present = [(directory / name).exists() for name in ENDORSEMENT_FILES]
    if any(present):
        if not all(present):
            missing = [name for name, ok in zip(ENDORSEMENT_FILES, present, strict=True) if not ok]
            raise ValueError(f"{directory / missing[0]}: taxonomy file not found (states.yaml and documents.yaml go together)")
        st_reader, doc_reader = (_Reader(directory / name) for name in ENDORSEMENT_FILES)
        endorsement = _read_endorsement(st_reader, doc_reader, langs, {e.id for e in events}, version)
    return Taxonomy(
        version=version,
        languages=langs,
        path=directory,
        events=events,
        themes=themes,
        lexicon=lexicon,
        event_scoring=ev_scoring,
        theme_scoring=th_scoring,
        series=_frozen(series),
        event_exclude=ev_exclude,
        endorsement=endorsement,
    )


def load_taxonomy(path: str | Path | None = None) -> Taxonomy:
    """Load (once; again when a file changes) the taxonomy in ``path``, a directory
    holding events.yaml, themes.yaml and lexicon.yaml (and, optionally, states.yaml
    and documents.yaml), or one of those files.
    Default: the package's own ``pipeline/taxonomy``."""
    directory = _resolve(path)
    stamps = tuple(
        (directory / name).stat().st_mtime if (directory / name).exists() else -1.0
        for name in FILES + ENDORSEMENT_FILES
    )
    return _load(directory, stamps)

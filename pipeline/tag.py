"""Stage 6: which events and themes an article is about, with the evidence.

Runs on the original text and, when there is one, on the English
translation; for each tag the stronger side wins and the evidence says which
(``"original"`` or ``"translation"``).

Events (weights in ``events.yaml`` under ``scoring``):

* a **name** of the event or of its outcome document ("Blueprint for
  Action", "제2차 REAIM") is evidence on its own;
* **cues** (ordinals, generic document names, venues), **places** (the host
  city in all its spellings) and the **year** count only in a REAIM context:
  when a series name ("REAIM", "Responsible AI in the Military Domain") or
  any event name was found, or the relevance lexicon finds the text on topic;
* a term in the title counts more, repeats add a little, a term of a
  language other than the article's and English is discounted;
* the **publication date** near the event, or inside its window of
  previews and follow-ups, adds a bonus; it also lets weak textual evidence
  through, and when the article is in a REAIM context but names no event,
  the summit whose window holds the date is tagged;
* the primary event is the strongest, weighed by a prior per kind (a summit
  over the declaration launched at it). So an article on the Seoul summit
  that recalls The Hague and announces A Coruña gets ``reaim-2024`` as
  primary and the other two as further events.

Themes (``themes.yaml``): each distinct term adds its weight, more in the
title, repeats a little; a theme needs ``min_score`` (two ordinary terms,
or one strong one) and at least ``relative_min`` of the strongest theme's
score; at most ``max_themes`` are kept, strongest first. Themes are plain
words, so only the article's language and English are matched.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from pipeline.taxonomy import Taxonomy
from pipeline.textmatch import Hit, language_order, normalize_text, snippet

ORIGINAL, TRANSLATION = "original", "translation"


@dataclass(frozen=True)
class Tags:
    primary_event: str | None
    events: list[str] = field(default_factory=list)  # all event ids tagged, primary first
    themes: list[str] = field(default_factory=list)  # theme ids, strongest first
    evidence: dict[str, dict[str, Any]] = field(default_factory=dict)  # tag id -> terms, snippet, text, score


@dataclass(frozen=True)
class _Occ:
    """One occurrence of a term: in which field, and whether its language is secondary."""

    hit: Hit
    field: str  # "title" or "text"
    secondary: bool


@dataclass
class _Side:
    """The evidence for one tag on one side (original or translation)."""

    side: str
    fields: dict[str, str]  # field -> its text
    occurrences: list[_Occ] = field(default_factory=list)
    name_score: float = 0.0  # evidence on its own
    context_score: float = 0.0  # evidence in a REAIM context only

    def score(self, context: bool) -> float:
        return self.name_score + (self.context_score if context else 0.0)

    def terms(self) -> list[str]:
        out: list[str] = []
        seen: set[str] = set()
        for occ in self.occurrences:
            key = " ".join(occ.hit.found.casefold().split())
            if key not in seen:
                seen.add(key)
                out.append(occ.hit.found)
        return out

    def snippet(self) -> str:
        if not self.occurrences:
            return ""
        body = [o for o in self.occurrences if o.field == "text"]
        first = min(body or self.occurrences, key=lambda o: o.hit.start)
        return snippet(self.fields[first.field], first.hit.start, first.hit.end)


def _parse_date(published: Any) -> dt.date | None:
    if published is None:
        return None
    if isinstance(published, dt.datetime):
        return published.date()
    if isinstance(published, dt.date):
        return published
    value = str(published).strip()
    if not value:
        return None
    try:
        return dt.datetime.fromisoformat(value.replace("Z", "+00:00")).date()
    except ValueError:
        try:
            return dt.date.fromisoformat(value[:10])
        except ValueError:
            return None


def _occurrences(fields: dict[str, str], matcher, order: list[str], primary) -> list[_Occ]:  # type: ignore[no-untyped-def]
    occs: list[_Occ] = []
    for name, value in fields.items():
        norm = normalize_text(value)
        for hit in matcher.find(norm, order):
            occs.append(_Occ(hit, name, primary is not None and hit.language not in primary))
    return occs


def _term_value(
    occs: list[_Occ], base: float, title_factor: float, repeat_bonus: float, repeat_cap: int, secondary_factor: float
) -> float:
    """The worth of one term from all its occurrences."""
    value = base * (1.0 + repeat_bonus * min(len(occs) - 1, repeat_cap))
    if any(o.field == "title" for o in occs):
        value *= title_factor
    if all(o.secondary for o in occs):
        value *= secondary_factor
    return value


def _fields(title: str | None, text: str | None) -> dict[str, str]:
    return {k: v for k, v in (("title", title), ("text", text)) if v and v.strip()}


def _event_side(
    taxonomy: Taxonomy, side: str, fields: dict[str, str], language: str | None
) -> tuple[dict[str, _Side], _Side | None]:
    """Per event, its evidence on this side; and the series evidence (the REAIM context)."""
    sc = taxonomy.event_scoring
    order, primary = language_order(language, taxonomy.languages)
    occs = _occurrences(fields, taxonomy.event_matcher, order, primary)
    series = _Side(side, fields)
    by_term: dict[tuple[str, str, str], list[_Occ]] = defaultdict(list)
    for occ in occs:
        kind, target, _ = occ.hit.key
        if occ.secondary and kind not in ("name", "series"):
            continue  # a short word of another language ("seul" is Spanish Seoul, French "alone")
        if kind == "series":
            series.occurrences.append(occ)
            continue
        by_term[(kind, target, occ.hit.term)].append(occ)
    events: dict[str, _Side] = {}
    for (kind, eid, _term), term_occs in by_term.items():
        event = taxonomy.event(eid)
        base = sc.weights[kind] * event.weights.get(kind, 1.0) * term_occs[0].hit.key[2]
        value = _term_value(
            term_occs, base, sc.title_factor, sc.repeat_bonus, sc.repeat_cap, sc.secondary_language_factor
        )
        ev = events.setdefault(eid, _Side(side, fields))
        ev.occurrences += term_occs
        if kind == "name":
            ev.name_score += value
        else:
            ev.context_score += value
    for ev in events.values():
        ev.occurrences.sort(key=lambda o: (o.field != "title", o.hit.start))
    return events, (series if series.occurrences else None)


def _theme_side(taxonomy: Taxonomy, side: str, fields: dict[str, str], language: str | None) -> dict[str, _Side]:
    sc = taxonomy.theme_scoring
    order, primary = language_order(language, taxonomy.languages)
    if primary is not None:  # themes are plain words: only the article's language and English
        order = [x for x in order if x in primary]
    occs = _occurrences(fields, taxonomy.theme_matcher, order, primary)
    by_term: dict[tuple[str, str], list[_Occ]] = defaultdict(list)
    for occ in occs:
        by_term[(occ.hit.key[0], occ.hit.term)].append(occ)
    themes: dict[str, _Side] = {}
    for (tid, _term), term_occs in by_term.items():
        value = _term_value(
            term_occs,
            term_occs[0].hit.key[1],
            sc.title_factor,
            sc.repeat_bonus,
            sc.repeat_cap,
            sc.secondary_language_factor,
        )
        th = themes.setdefault(tid, _Side(side, fields))
        th.occurrences += term_occs
        th.name_score += value
    return themes


def _on_topic(taxonomy: Taxonomy, fields: dict[str, str], language: str | None) -> bool:
    """The relevance stage's verdict: an article about military AI that names no summit
    ("the first global summit on military AI opens in The Hague") is a REAIM context too."""
    from pipeline.relevance import score_relevance

    return score_relevance(fields.get("title"), fields.get("text"), language, taxonomy.lexicon).relevant


def _date_bonus(taxonomy: Taxonomy, event_id: str, published: dt.date | None) -> float:
    if published is None:
        return 0.0
    sc = taxonomy.event_scoring
    event = taxonomy.event(event_id)
    start, end = event.start_date, event.end_date or event.start_date
    near = dt.timedelta(days=sc.near_days)
    if start - near <= published <= end + near:
        return sc.date_near
    lo, hi = event.window(sc)
    return sc.date_window if lo <= published <= hi else 0.0


def _normalised(score: float, scale: float) -> float:
    """A raw score as 0..1, ``scale`` (the tagging threshold) giving 0.5."""
    return round(score / (score + scale), 3) if score > 0 else 0.0


def _evidence(best: _Side, score: float, scale: float) -> dict[str, Any]:
    return {"terms": best.terms(), "snippet": best.snippet(), "text": best.side, "score": _normalised(score, scale)}


def tag_article(
    title: str | None,
    text: str | None,
    language: str | None,
    published: str | None,
    taxonomy: Taxonomy,
    title_en: str | None = None,
    text_en: str | None = None,
) -> Tags:
    """Tag an article with events and themes (see the module docstring)."""
    pub = _parse_date(published)
    sides: list[tuple[str, dict[str, str], str | None]] = [(ORIGINAL, _fields(title, text), language)]
    translation = _fields(title_en, text_en)
    if translation:
        sides.append((TRANSLATION, translation, "en"))

    # --- events -----------------------------------------------------------------
    sc = taxonomy.event_scoring
    per_side = [_event_side(taxonomy, name, fields, lang) for name, fields, lang in sides if fields]
    series_found = [s for _, s in per_side if s is not None]
    context = (
        bool(series_found)
        or any(ev.name_score > 0 for evs, _ in per_side for ev in evs.values())
        or any(_on_topic(taxonomy, fields, lang) for _, fields, lang in sides if fields)
    )

    best: dict[str, tuple[float, _Side]] = {}
    for evs, _ in per_side:  # original first: it wins ties
        for eid, ev in evs.items():
            s = ev.score(context)
            if s > 0 and (eid not in best or s > best[eid][0]):
                best[eid] = (s, ev)

    tagged: dict[str, tuple[float, _Side]] = {}
    for eid, (s, ev) in best.items():
        bonus = _date_bonus(taxonomy, eid, pub)
        if s >= sc.min_score or (context and bonus > 0 and s >= sc.min_score / 2):
            tagged[eid] = (s + bonus, ev)

    if not tagged and context and pub is not None:
        # A REAIM article that names no event: the summit whose window holds the date.
        candidates = []
        for event in taxonomy.events:
            if event.kind != "summit":
                continue
            bonus = _date_bonus(taxonomy, event.id, pub)
            if bonus > 0:
                distance = abs((pub - event.start_date).days)
                candidates.append((-bonus, distance, event.id))
        if candidates:
            neg_bonus, _, eid = min(candidates)
            s_text, ev = best.get(eid, (0.0, None))
            evidence_side = ev if ev is not None and ev.occurrences else series_found[0] if series_found else None
            if evidence_side is not None:
                tagged[eid] = (s_text - neg_bonus, evidence_side)

    def rank(eid: str) -> float:
        return tagged[eid][0] * sc.primary_prior.get(taxonomy.event(eid).kind, 1.0)

    order = sorted(tagged, key=lambda eid: (-rank(eid), [e.id for e in taxonomy.events].index(eid)))
    primary = order[0] if order else None
    events = ([primary] + sorted((e for e in order[1:]), key=lambda eid: -tagged[eid][0])) if primary else []

    # (an event name found makes the context, so every term listed here counted)
    evidence: dict[str, dict[str, Any]] = {
        eid: _evidence(tagged[eid][1], tagged[eid][0], sc.min_score) for eid in events
    }

    # --- themes -----------------------------------------------------------------
    ts = taxonomy.theme_scoring
    theme_best: dict[str, tuple[float, _Side]] = {}
    for name, fields, lang in sides:
        if not fields:
            continue
        for tid, th in _theme_side(taxonomy, name, fields, lang).items():
            if tid not in theme_best or th.name_score > theme_best[tid][0]:
                theme_best[tid] = (th.name_score, th)
    theme_order = [t.id for t in taxonomy.themes]
    ranked = sorted(
        (tid for tid, (s, _) in theme_best.items() if s >= ts.min_score),
        key=lambda tid: (-theme_best[tid][0], theme_order.index(tid)),
    )
    # What the article is about, not everything it touches: themes well below
    # the strongest one are left out, and at most max_themes are kept.
    top = theme_best[ranked[0]][0] if ranked else 0.0
    themes = [tid for tid in ranked if theme_best[tid][0] >= ts.relative_min * top][: ts.max_themes]
    for tid in themes:
        s, th = theme_best[tid]
        evidence[tid] = _evidence(th, s, ts.min_score)

    return Tags(primary_event=primary, events=events, themes=themes, evidence=evidence)


def apply_tags(article: Any, taxonomy: Taxonomy) -> Tags:
    """Tag an ``Article`` (original and English sides) and find its endorsements; sets its fields."""
    from pipeline.endorse import endorse_article

    tags = tag_article(
        article.title, article.text, article.language, article.published, taxonomy,
        title_en=article.title_en, text_en=article.text_en,
    )
    article.primary_event, article.events, article.themes = tags.primary_event, list(tags.events), list(tags.themes)
    article.evidence = dict(tags.evidence)
    article.endorsements = [
        e.as_dict()
        for e in endorse_article(
            article.title, article.text, article.language, taxonomy, tags.primary_event, tags.events,
            title_en=article.title_en, text_en=article.text_en,
        )
    ]
    return tags


class TagPipeline:
    """Scrapy adapter: runs after translation, so English-side evidence counts too.
    Also reads the endorsements the article states (``pipeline/endorse.py``)."""

    def __init__(self, crawler):  # type: ignore[no-untyped-def]
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler):  # type: ignore[no-untyped-def]
        return cls(crawler)

    def process_item(self, item):  # type: ignore[no-untyped-def]
        from pipeline.runtime import as_article, crawl_context

        article = as_article(item)
        if article is None or article.duplicate_of:
            return item if article is None else article
        apply_tags(article, crawl_context(self.crawler).taxonomy)
        return article

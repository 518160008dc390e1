"""Re-apply the current taxonomy to every archived article (``reaim retag``).

When the taxonomy changes (a new term, a new event, a fixed cue), the
archive's tags are stale: they were computed with the data of the day each
article was crawled. ``retag_archive`` recomputes, for every article, the
events with the primary one, the themes and the endorsements, from the
original text and the English translation exactly as the tag stage does, and
writes them with the taxonomy's version - every tag, changed or not, so that
``taxonomy_version`` says which data produced it.

Articles are read in batches by id (keyset pagination: no read cursor stays
open across a write), and each batch is written in one transaction, so an
interrupted retag leaves every article either retagged or as it was, and can
simply be run again. Relevance is not re-scored (it decided what was
archived), nor is ``updated_at`` touched (the article's content did not
change; the search index stays valid).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import sqlite_utils

from archive.store import replace_endorsements, replace_tags, save_taxonomy, write_txn
from pipeline.endorse import endorse_article
from pipeline.tag import tag_article
from pipeline.taxonomy import Taxonomy

_COLUMNS = "id, title, text, language, published, title_en, text_en, primary_event"


@dataclass
class RetagReport:
    version: str
    articles: int = 0
    articles_changed: int = 0  # articles with any tag added, removed or changed
    primary_changed: int = 0
    events_added: int = 0
    events_removed: int = 0
    themes_added: int = 0
    themes_removed: int = 0
    endorsements_added: int = 0
    endorsements_removed: int = 0
    endorsements_changed: int = 0  # same state and document, other stance
    batches: int = 0
    old_versions: dict[str, int] = field(default_factory=dict)  # taxonomy version -> tags that carried it

    @property
    def tags_changed(self) -> int:
        return (
            self.events_added + self.events_removed + self.themes_added + self.themes_removed
            + self.endorsements_added + self.endorsements_removed + self.endorsements_changed
        )

    def summary(self) -> str:
        before = ", ".join(f"{v} ({n})" for v, n in sorted(self.old_versions.items())) or "none"
        return (
            f"Retagged {self.articles} article(s) with taxonomy {self.version} (tags were from: {before}).\n"
            f"{self.tags_changed} tag(s) changed in {self.articles_changed} article(s): "
            f"events +{self.events_added} -{self.events_removed}, "
            f"themes +{self.themes_added} -{self.themes_removed}, "
            f"endorsements +{self.endorsements_added} -{self.endorsements_removed} ~{self.endorsements_changed}; "
            f"primary event changed in {self.primary_changed}."
        )

    def as_dict(self) -> dict[str, Any]:
        return {**self.__dict__, "tags_changed": self.tags_changed}


def _old_tags(db: sqlite_utils.Database, ids: list[str]) -> tuple[dict[str, dict[str, Any]], dict[str, int]]:
    """The tags archived for ``ids``, and how many tags carry each taxonomy version."""
    marks = ",".join("?" * len(ids))
    old: dict[str, dict[str, Any]] = {i: {"events": set(), "themes": set(), "endorsements": {}} for i in ids}
    versions: dict[str, int] = {}

    def count(version: str | None) -> None:
        key = version or "(none)"
        versions[key] = versions.get(key, 0) + 1

    for article_id, event_id, version in db.execute(
        f"select article_id, event_id, taxonomy_version from article_events where article_id in ({marks})", ids
    ).fetchall():
        old[article_id]["events"].add(event_id)
        count(version)
    for article_id, theme_id, version in db.execute(
        f"select article_id, theme_id, taxonomy_version from article_themes where article_id in ({marks})", ids
    ).fetchall():
        old[article_id]["themes"].add(theme_id)
        count(version)
    for article_id, state, document, stance, version in db.execute(
        f"select article_id, state, document, stance, taxonomy_version from endorsements where article_id in ({marks})",
        ids,
    ).fetchall():
        old[article_id]["endorsements"][(state, document)] = stance
        count(version)
    return old, versions


def retag_archive(
    db: sqlite_utils.Database,
    taxonomy: Taxonomy,
    *,
    batch_size: int = 200,
    progress: Callable[[RetagReport], None] | None = None,
) -> RetagReport:
    """Recompute every archived article's tags and endorsements with ``taxonomy`` (see the module docstring)."""
    if batch_size < 1:
        raise ValueError("batch_size must be at least 1")
    report = RetagReport(version=taxonomy.version)
    # The tags' foreign keys point at the events and themes tables: bring them up to date first.
    save_taxonomy(db, taxonomy.event_rows(), taxonomy.theme_rows(), taxonomy.version)
    last = ""
    while True:
        rows = db.execute(
            f"select {_COLUMNS} from articles where id > ? order by id limit ?", [last, batch_size]
        ).fetchall()
        if not rows:
            break
        last = rows[-1][0]
        ids = [r[0] for r in rows]
        old, versions = _old_tags(db, ids)
        for version, n in versions.items():
            report.old_versions[version] = report.old_versions.get(version, 0) + n
        with write_txn(db):
            for article_id, title, text, language, published, title_en, text_en, old_primary in rows:
                tags = tag_article(title, text, language, published, taxonomy, title_en=title_en, text_en=text_en)
                endorsements = endorse_article(
                    title, text, language, taxonomy, tags.primary_event, tags.events,
                    title_en=title_en, text_en=text_en,
                )
                before = old[article_id]
                new_events, new_themes = set(tags.events), set(tags.themes)
                new_end = {(e.state, e.document): e.stance for e in endorsements}
                changes = (
                    len(new_events - before["events"]), len(before["events"] - new_events),
                    len(new_themes - before["themes"]), len(before["themes"] - new_themes),
                    len(new_end.keys() - before["endorsements"].keys()),
                    len(before["endorsements"].keys() - new_end.keys()),
                    sum(1 for k in new_end.keys() & before["endorsements"].keys() if new_end[k] != before["endorsements"][k]),
                )
                report.events_added += changes[0]
                report.events_removed += changes[1]
                report.themes_added += changes[2]
                report.themes_removed += changes[3]
                report.endorsements_added += changes[4]
                report.endorsements_removed += changes[5]
                report.endorsements_changed += changes[6]
                primary_changed = tags.primary_event != old_primary
                report.primary_changed += primary_changed
                report.articles_changed += any(changes) or primary_changed
                report.articles += 1
                if primary_changed:
                    db.execute("update articles set primary_event = ? where id = ?", [tags.primary_event, article_id])
                replace_tags(
                    db,
                    article_id,
                    {
                        "primary_event": tags.primary_event,
                        "events": tags.events,
                        "themes": tags.themes,
                        "evidence": tags.evidence,
                        "taxonomy_version": taxonomy.version,
                    },
                )
                replace_endorsements(db, article_id, [e.as_dict() for e in endorsements], version=taxonomy.version)
        report.batches += 1
        if progress is not None:
            progress(report)
    return report


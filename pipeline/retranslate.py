"""Translating archived articles whose translation is pending, after the fact.

A crawl never waits for a translator: when the service is down, its quota or
the run's character budget is spent, the article is archived with
``translation_status = 'pending'``. This is the retry, and it re-tags each
article so that evidence found in the translation is added.

The run's character budget is the translator's (``make_translator`` reads
``$REAIM_TRANSLATE_BUDGET``) unless ``budget_chars`` is given; articles it
cannot pay for stay pending with ``translation_error = 'budget exhausted'``.
"""

from __future__ import annotations

import json
from typing import Any

import sqlite_utils

from archive.search_index import index_article
from archive.store import write_txn
from crawler.items import Article
from pipeline.tag import tag_article
from pipeline.taxonomy import load_taxonomy
from pipeline.translate import (
    DEFAULT_MAX_CHARS,
    ArchiveCache,
    CharBudget,
    CircuitBreaker,
    Translator,
    apply_outcome,
    translate_article,
)


def _provenance(raw: str | None) -> dict[str, Any]:
    try:
        value = json.loads(raw) if raw else {}
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def translate_pending(
    db: sqlite_utils.Database, db_path: str, translator: Translator, *, limit: int | None = None,
    max_chars: int | None = DEFAULT_MAX_CHARS, budget_chars: int | None = None,
) -> dict[str, Any]:
    from archive.store import replace_tags, utcnow

    taxonomy = load_taxonomy()
    cache = ArchiveCache(db_path)
    breaker = CircuitBreaker()
    budget = CharBudget(budget_chars) if budget_chars is not None else getattr(translator, "budget", None)
    sql = ("select id, url, title, text, language, published, provenance from articles "
           "where translation_status = 'pending' order by published desc")
    rows = db.execute(sql + (f" limit {int(limit)}" if limit else "")).fetchall()
    done = chars = budget_hits = 0
    for article_id, url, title, text, language, published, provenance in rows:
        article = Article(url=url, title=title, text=text, language=language, published=published,
                          provenance=_provenance(provenance))
        outcome = translate_article(article, translator, cache, max_chars=max_chars, breaker=breaker, budget=budget)
        chars += outcome.chars_sent
        budget_hits += int(outcome.budget_exhausted)
        apply_outcome(article, outcome)
        update = {
            "translation_status": article.translation_status,
            "translation_provider": article.translation_provider,
            "translation_error": article.translation_error,
            "updated_at": utcnow(),
        }
        if outcome.status == "done":
            done += 1
            update.update(title_en=article.title_en, text_en=article.text_en,
                          provenance=json.dumps(article.provenance, ensure_ascii=False, sort_keys=True))
            tags = tag_article(title, text, language, published, taxonomy,
                               title_en=article.title_en, text_en=article.text_en)
            update["primary_event"] = tags.primary_event
        with write_txn(db):
            db["articles"].update(article_id, update)
            index_article(db, article_id)  # the search index covers the English text too
            if outcome.status == "done":
                replace_tags(db, article_id, {"primary_event": tags.primary_event, "events": tags.events,
                                               "themes": tags.themes, "evidence": tags.evidence,
                                               "taxonomy_version": taxonomy.version})
    pending = db.execute("select count(*) from articles where translation_status = 'pending'").fetchall()[0][0]
    return {"done": done, "pending": pending, "chars_sent": chars, "budget_exhausted": budget_hits}

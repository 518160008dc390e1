"""Translating archived articles whose translation is pending, after the fact.

A crawl never waits for a translator: when the service is down the article is
archived with ``translation_status = 'pending'``. This is the retry, and it
re-tags each article so that evidence found in the translation is added.
"""

from __future__ import annotations

from typing import Any

import sqlite_utils

from crawler.items import Article
from pipeline.tag import tag_article
from pipeline.taxonomy import load_taxonomy
from pipeline.translate import (
    DEFAULT_MAX_CHARS,
    ArchiveCache,
    CircuitBreaker,
    Translator,
    apply_outcome,
    translate_article,
)


def translate_pending(
    db: sqlite_utils.Database, db_path: str, translator: Translator, *, limit: int | None = None,
    max_chars: int | None = DEFAULT_MAX_CHARS,
) -> dict[str, Any]:
    from archive.store import replace_tags, utcnow

    taxonomy = load_taxonomy()
    cache = ArchiveCache(db_path)
    breaker = CircuitBreaker()
    sql = "select id, url, title, text, language, published from articles where translation_status = 'pending' order by published desc"
    rows = db.execute(sql + (f" limit {int(limit)}" if limit else "")).fetchall()
    done = chars = 0
    for article_id, url, title, text, language, published in rows:
        article = Article(url=url, title=title, text=text, language=language, published=published)
        outcome = translate_article(article, translator, cache, max_chars=max_chars, breaker=breaker)
        chars += outcome.chars_sent
        apply_outcome(article, outcome)
        update = {
            "translation_status": article.translation_status,
            "translation_provider": article.translation_provider,
            "translation_error": article.translation_error,
            "updated_at": utcnow(),
        }
        if outcome.status == "done":
            done += 1
            update.update(title_en=article.title_en, text_en=article.text_en)
            tags = tag_article(title, text, language, published, taxonomy,
                               title_en=article.title_en, text_en=article.text_en)
            update["primary_event"] = tags.primary_event
        with db.conn:
            db["articles"].update(article_id, update)
            if outcome.status == "done":
                replace_tags(db, article_id, {"primary_event": tags.primary_event, "events": tags.events,
                                               "themes": tags.themes, "evidence": tags.evidence,
                                               "taxonomy_version": taxonomy.version})
    pending = db.execute("select count(*) from articles where translation_status = 'pending'").fetchall()[0][0]
    return {"done": done, "pending": pending, "chars_sent": chars}

"""``reaim search``: full-text search of the archive in every language.

Registered in reaim/cli.py with ``cli.add_command(search)``; the shared
options come from reaim.options.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import click

from reaim.options import db_option


@click.command()
@click.argument("query")
@db_option
@click.option("--language", "-l", default=None, metavar="CODE",
              help="Only articles in this language (ISO 639-1: en, ko, es, nl, fr, de, zh, ja, ru).")
@click.option("--limit", "-n", type=click.IntRange(min=1), default=20, show_default=True, help="At most this many matches.")
@click.option("--json", "as_json", is_flag=True,
              help="Print one JSON array of objects with url, title, language, published, primary_event, snippet.")
def search(query: str, db: Path, language: str | None, limit: int, as_json: bool) -> None:
    """Search the archive's original and English text in every language, best matches first.

    Every word of QUERY must match. Korean words match with particles attached
    (회의 finds 회의가, 회의에서), Chinese and Japanese need no spaces (人工智能,
    首尔峰会), other languages match inflected forms (Сеул finds Сеуле, summit
    finds summits) and ignore accents (Seoul = Séoul). End a word with * for a
    prefix (militär*). In the snippet, matches are in **bold**.

    \b
    Example:
      reaim search 회의 --db reaim.db
      reaim search "human control" --language en --json
    """
    from archive.schema import open_db
    from archive.search import ensure_search_index
    from archive.search import search as run_search

    if not db.exists():
        raise click.ClickException(f"no archive at {db}; run `reaim demo` or `reaim crawl` first")
    try:
        database = open_db(db, create=False)
        ensure_search_index(database)  # indexes what other writers left stale
        hits = run_search(database, query, language=(language or "").lower() or None, limit=limit)
    except (OSError, ValueError, sqlite3.DatabaseError) as exc:
        raise click.ClickException(str(exc)) from None
    if as_json:
        keys = ("url", "title", "language", "published", "primary_event", "snippet")
        click.echo(json.dumps([{k: hit[k] for k in keys} for hit in hits], ensure_ascii=False, indent=2))
        return
    if not hits:
        click.echo(f"No matches for {query!r}" + (f" in language {language!r}" if language else "") + ".", err=True)
        return
    for rank, hit in enumerate(hits, 1):
        meta = ", ".join(str(v) for v in (hit["language"], (hit["published"] or "")[:10], hit["primary_event"]) if v)
        click.echo(f"{rank}. {hit['title'] or '(no title)'}  [{meta}]")
        click.echo(f"   {hit['url']}")
        if hit["snippet"]:
            click.echo(f"   {hit['snippet']}")

"""``reaim search`` and ``reaim reindex``: full-text search of the archive in every language, and its index.

Registered in reaim/cli.py with ``cli.add_command``; the shared options come
from reaim.options.
"""

from __future__ import annotations

import json
import sqlite3
import sys
import time
from collections.abc import Callable
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
    from archive.search import SearchIndexNotReady
    from archive.search import search as run_search

    if not db.exists():
        raise click.ClickException(f"no archive at {db}; run `reaim demo` or `reaim crawl` first")
    try:
        database = open_db(db, create=False)  # also indexes what other writers left stale
        hits = run_search(database, query, language=(language or "").lower() or None, limit=limit)
    except (OSError, ValueError, sqlite3.DatabaseError, SearchIndexNotReady) as exc:
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


@click.command()
@db_option
@click.option("--status", is_flag=True, help="Only print the state of the index (and of a rebuild in flight) as JSON.")
@click.option("--batch-size", type=click.IntRange(min=1), default=500, show_default=True,
              help="Articles per write transaction: other writers wait at most about one batch.")
@click.option("--workers", type=click.IntRange(min=1), default=None,
              help="Processes that analyse text while this one writes [default: 1 below 20,000 articles, "
                   "else the CPU count, at most 4].")
@click.option("--max-batches", type=click.IntRange(min=1), default=None,
              help="Stop after this many batches; the next `reaim reindex` resumes (maintenance windows).")
def reindex(db: Path, status: bool, batch_size: int, workers: int | None, max_batches: int | None) -> None:
    """Rebuild the search index beside the live one, then swap it in.

    Needed after an upgrade that changed the analysis (searches say so) and
    useful after a library upgrade (new stems). Crawls, translation and
    searches go on while it runs: it writes in short transactions and keeps
    the old index in service until the last batch. Interrupted, it resumes
    where it stopped.

    \b
    Example:
      reaim reindex --db reaim.db
      reaim reindex --status
    """
    from archive.schema import open_db
    from archive.search_index import RebuildInProgress, index_status, rebuild
    from reaim.crawl import EXIT_LOCKED

    if not db.exists():
        raise click.ClickException(f"no archive at {db}")
    try:
        database = open_db(db, create=False)
        if status:
            click.echo(json.dumps(index_status(database), indent=2))
            return
        report = rebuild(database, batch_size=batch_size, workers=workers, max_batches=max_batches,
                         progress=_progress_printer())
    except RebuildInProgress as exc:
        click.echo(f"Error: {exc}", err=True)
        sys.exit(EXIT_LOCKED)
    except (OSError, ValueError, sqlite3.DatabaseError) as exc:
        raise click.ClickException(str(exc)) from None
    where = f"resumed after article rowid {report.resumed_at:,}; " if report.resumed_at else ""
    state = "swapped in" if report.finished else "paused (run `reaim reindex` again to resume)"
    click.echo(f"search index {state}: {where}{report.indexed:,} articles indexed in {report.batches:,} batches, "
               f"{report.seconds:,.1f} s; longest write transaction {report.max_write_s:.2f} s")


def _progress_printer() -> Callable[[int, int], None]:
    """A rebuild's progress callback: one line on stderr at most every 5 s, and at the end."""
    started = time.monotonic()
    last = [0.0]

    def progress(done: int, total: int) -> None:
        now = time.monotonic()
        if now - last[0] >= 5 or done >= total:
            last[0] = now
            click.echo(f"  {done:,} / {total:,} articles ({now - started:,.0f} s)", err=True)

    return progress

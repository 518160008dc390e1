"""``reaim import`` and ``reaim backup``: bringing articles in from other tools,
and taking a consistent copy of a live archive."""

from __future__ import annotations

import sqlite3
import sys
from pathlib import Path
from typing import Any

import click

from reaim.options import db_option

_DB = db_option


@click.command("import")
@click.argument("input_file", metavar="INPUT.jsonl", type=click.File("r", encoding="utf-8"))
@_DB
@click.option("--no-translate", is_flag=True, help="Archive without translating (status pending).")
@click.option("--translator", default=None, envvar="REAIM_TRANSLATOR", help="Translation provider ($REAIM_TRANSLATOR).")
@click.option("--translator-url", default=None, envvar="REAIM_TRANSLATOR_URL", help="Custom endpoint.")
def import_cmd(input_file: Any, db: Path, no_translate: bool, translator: str | None, translator_url: str | None) -> None:
    """Process articles fetched elsewhere and store them in the archive.

    Same input as `reaim process` (one JSON object per line with url, title,
    text and optionally html, published, language); the same stages, then the
    crawl's dedupe and store rules. Off-topic articles are counted, not
    stored. A bad line is reported with its line number and the rest go on
    (exit code 1 at the end).

    \b
    Example:
      reaim import articles.jsonl --db reaim.db
    """
    from archive.schema import open_db
    from pipeline.ingest import import_records
    from pipeline.process import Processor
    from pipeline.translate import ArchiveCache, make_translator

    try:
        tr = None if no_translate else make_translator(translator, translator_url)
        archive = open_db(db)
        processor = Processor(translator=tr, cache=ArchiveCache(str(db)))
    except (ValueError, OSError) as exc:
        raise click.ClickException(str(exc)) from None
    report = import_records(archive, input_file, processor, on_bad=lambda m: click.echo(m, err=True))
    click.echo(f"imported into {db}: {report.new} new, {report.updated} updated, {report.duplicates} duplicates "
               f"folded, {report.off_topic} off-topic (not stored), {len(report.bad)} bad lines")
    sys.exit(1 if report.bad else 0)


@click.command()
@_DB
@click.option("--out", "out", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="Where to write the copy (must not exist).")
def backup(db: Path, out: Path) -> None:
    """Copy the archive with SQLite's online backup API (safe while a crawl writes).

    The copy is checked with PRAGMA integrity_check before it is reported done.

    \b
    Example:
      reaim backup --db reaim.db --out backups/reaim-2026-11-30.db
    """
    if not db.exists():
        raise click.ClickException(f"no archive at {db}")
    if out.exists():
        raise click.ClickException(f"{out} exists; choose a new file")
    out.parent.mkdir(parents=True, exist_ok=True)
    partial = out.with_name(out.name + ".partial")
    src = sqlite3.connect(f"{db.resolve().as_uri()}?mode=ro", uri=True, timeout=30)
    dst = sqlite3.connect(partial)
    try:
        src.backup(dst, pages=1024)  # in steps, so a writer is not held off for the whole copy
        check = dst.execute("pragma integrity_check").fetchone()[0]
        articles = dst.execute("select count(*) from articles").fetchone()[0]
    finally:
        dst.close()
        src.close()
    if check != "ok":
        partial.unlink(missing_ok=True)
        raise click.ClickException(f"the copy failed its integrity check: {check}")
    partial.rename(out)
    click.echo(f"backed up {db} to {out}: {articles} articles, integrity ok")


@click.command()
@_DB
@click.option("--since", type=click.DateTime(["%Y-%m-%d"]), default=None,
              help="First day of the period (default: 30 days ago).")
@click.option("--until", type=click.DateTime(["%Y-%m-%d"]), default=None, help="Last day (default: today).")
@click.option("--sources", type=click.Path(dir_okay=False, exists=True, path_type=Path), default=None,
              help="Sources YAML file (default: the packaged crawler/sources.yaml); its gdelt and google_news "
                   "entries are asked.")
@click.option("--source", "source_ids", multiple=True, help="Ask only this source id (repeatable).")
def audit(db: Path, since: Any, until: Any, sources: Path | None, source_ids: tuple[str, ...]) -> None:
    """What are we missing? Compare the archive with what GDELT and Google News list.

    Each article the discovery services list for the period is sorted by what
    the archive knows of it: archived, off-topic, not an article, duplicate,
    failed (with the reason), refused by robots.txt, pending, or never seen.
    Findings are stored in the audit_findings table (browse them in Datasette).

    \b
    Example:
      reaim audit --since 2026-02-01 --until 2026-02-10 --db reaim.db
    """
    from datetime import date, timedelta

    from archive.audit import format_audit, run_audit
    from archive.schema import open_db
    from crawler.sources import SourceError, load_sources

    end = until.date() if until else date.today()
    start = since.date() if since else end - timedelta(days=30)
    if start > end:
        raise click.BadParameter("--since is after --until")
    try:
        selected = load_sources(sources, only=list(source_ids) or None)
    except SourceError as exc:
        raise click.ClickException(str(exc)) from None
    services = [s for s in selected if s.kind in ("gdelt", "google_news")]
    if not services:
        raise click.ClickException("no gdelt or google_news source selected; the audit asks those services")
    report = run_audit(open_db(db), services, start, end)
    click.echo(format_audit(report))
    sys.exit(1 if report.errors and not report.listed else 0)

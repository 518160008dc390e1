"""``reaim export``: the click command; the work is in :mod:`archive.export`.

Registered in reaim/cli.py with an import beside the others and one line
after the group is defined::

    from reaim.export_cmd import export
    ...
    cli.add_command(export)

This module does not import reaim.cli, so the two cannot form an import
cycle (under ``python -m reaim.cli`` a second copy of reaim.cli would import
this module half-initialised). ``--db`` and the one-line errors therefore
mirror reaim.cli's ``db_option`` and ``user_errors``;
tests/unit/test_export.py checks that ``--db`` stays the same.
"""

from __future__ import annotations

import shlex
import sys
from pathlib import Path
from typing import Any

import click

from reaim.options import db_option, user_errors

NON_TTY_EVERY = 10_000  # without a terminal, one progress line per this many articles


def _progress(label: str) -> tuple[Any, Any]:
    """A progress callback for export_archive, and a function that ends the display."""
    state: dict[str, Any] = {"bar": None, "shown": 0}
    tty = sys.stderr.isatty()

    def update(done: int, total: int) -> None:
        if tty:
            if state["bar"] is None:
                state["bar"] = click.progressbar(length=total, label=label, file=sys.stderr, show_pos=True)
                state["bar"].__enter__()
            state["bar"].update(done - state["shown"])
            state["shown"] = done
        elif done != state["shown"] and (
            done // NON_TTY_EVERY > state["shown"] // NON_TTY_EVERY or (done == total and total >= NON_TTY_EVERY)
        ):
            click.echo(f"{label}: {done}/{total}", err=True)
            state["shown"] = done

    def finish() -> None:
        if state["bar"] is not None:
            state["bar"].__exit__(None, None, None)
            state["bar"] = None

    return update, finish


@click.command()
@db_option
@click.option("--format", "fmt", type=click.Choice(["csv", "jsonl", "parquet"]), default="csv", show_default=True,
              help="File format of the data files (parquet needs pyarrow).")
@click.option("--out", "out", required=True, type=click.Path(file_okay=False, path_type=Path), metavar="DIR",
              help="Folder to write into (created if missing; an earlier export there is replaced).")
@click.option("--event", default=None, help="Only articles tagged with this event id, e.g. reaim-2024.")
@click.option("--theme", default=None, help="Only articles tagged with this theme id, e.g. human-control.")
@click.option("--language", default=None, help="Only articles in this language (ISO 639-1 code, e.g. ko).")
@click.option("--since", type=click.DateTime(formats=["%Y-%m-%d"]), default=None, metavar="YYYY-MM-DD",
              help="Only articles published on or after this day (YYYY-MM-DD, UTC).")
@click.option("--until", type=click.DateTime(formats=["%Y-%m-%d"]), default=None, metavar="YYYY-MM-DD",
              help="Only articles published on or before this day (YYYY-MM-DD, UTC).")
@click.option("--no-text", is_flag=True,
              help="Leave out the article texts (text, text_en) and evidence snippets: for sharing.")
@user_errors
def export(db: Path, fmt: str, out: Path, event: str | None, theme: str | None, language: str | None,
           since: Any, until: Any, no_text: bool) -> None:
    """Export the relevant articles with their tags as an open data package.

    Writes articles, article_events, article_themes, events and themes
    (as CSV, JSON Lines or Parquet) into --out, with datapackage.json
    (Frictionless), a README.md codebook and SHA256SUMS. The rows are those
    of the Datasette query export_articles with the same filters.

    \b
    Example:
      reaim export --db reaim.db --format csv --out export/ --event reaim-2024 --no-text
    """
    from archive.export import export_archive
    from archive.queries import ArticleFilters

    filters = ArticleFilters(
        event=event, theme=theme, language=language,
        since=since.date() if since else None, until=until.date() if until else None,
    )
    update, finish = _progress("Exporting articles")
    try:
        result = export_archive(db, out, fmt=fmt, filters=filters, include_text=not no_text, progress=update)
    finally:
        finish()
    for warning in result.warnings:
        click.echo(f"warning: {warning}", err=True)
    counts = ", ".join(f"{name} {n}" for name, n in result.rows.items())
    click.echo(f"Exported to {result.out_dir}: {counts}")
    if result.by_language:
        click.echo("By language: " + ", ".join(f"{k} {v}" for k, v in result.by_language.items()))
    click.echo(f"Check with: cd {shlex.quote(str(result.out_dir))} && sha256sum -c SHA256SUMS")

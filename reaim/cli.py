"""reaim: crawl, process, archive and browse news coverage of the REAIM summits.

\b
Quick start (no internet needed):
  reaim demo            crawl the bundled sample site into ./reaim.db and open Datasette
  reaim crawl           crawl the real sources in crawler/sources.yaml
  reaim serve           browse the archive in Datasette
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click

from reaim.options import db_option, translator_options, user_errors

# The sample site's public name; never resolved: requests go through its loopback proxy.
SAMPLE_SITE_NAME = "http://reaim-sample.test"


def _crawl_logging(verbose: bool, db: Path) -> dict[str, Any]:
    """Scrapy's log goes to stderr with -v, else to a file beside the archive,
    so that the terminal shows the summary and no library tracebacks."""
    if verbose:
        return {"LOG_LEVEL": "INFO", "LOG_FILE": None}
    return {"LOG_LEVEL": "INFO", "LOG_FILE": str(crawl_log_path(db)), "LOG_FILE_APPEND": False}


def crawl_log_path(db: Path) -> Path:
    return db.with_name(db.stem + ".crawl.log")


@click.group(help=__doc__)
@click.version_option(package_name="reaim-tracker")
def cli() -> None:
    pass


@cli.command()
@db_option
@click.option("--no-serve", is_flag=True, help="Stop after the summary instead of starting Datasette.")
@click.option("--port", type=int, default=8001, show_default=True, help="Port for Datasette.")
@translator_options
@click.option("-v", "--verbose", is_flag=True, help="Show Scrapy's log.")
@user_errors
def demo(db: Path, no_serve: bool, port: int, translator: str | None, translator_url: str | None, verbose: bool) -> None:
    """Crawl the bundled sample news site on 127.0.0.1 into the archive, then serve it.

    \b
    Example:
      reaim demo --db demo.db --no-serve
    """
    from importlib import resources

    from reaim.crawl import build_settings, format_report, run_crawl
    from reaim.sample_site.server import SampleSite

    overrides = _crawl_logging(verbose, db)
    # The sample site is ours and on loopback: no politeness delay needed.
    overrides.update({"DOWNLOAD_DELAY": 0, "AUTOTHROTTLE_ENABLED": False, "CONCURRENT_REQUESTS_PER_DOMAIN": 8})
    with SampleSite() as site:
        # The site listens on a free port but is crawled under one stable name
        # (it answers as a forward proxy), so URLs and archive ids repeat run to run.
        overrides["REAIM_PROXY"] = site.base_url
        overrides["REAIM_ALLOW_PRIVATE"] = True  # the proxy is on loopback; the site's name is not
        click.echo(f"Sample site {SAMPLE_SITE_NAME} on {site.base_url}; crawling it into {db} ...", err=True)
        settings = build_settings(
            db=str(db), sources=str(resources.files("reaim.sample_site") / "sources.yaml"), source_ids=None,
            site=SAMPLE_SITE_NAME,
            translator=translator, translator_url=translator_url, overrides=overrides,
        )
        report = run_crawl(settings, command="demo")
    click.echo(format_report(report, db))
    if not verbose:
        click.echo(f"Crawl log: {crawl_log_path(db)}")
    if no_serve:
        sys.exit(report.exit_code)
    _serve(db, port, public=False)


@cli.command()
@db_option
@click.option("--sources", type=click.Path(dir_okay=False, exists=True, path_type=Path), default=None,
              help="Sources YAML file (default: the packaged crawler/sources.yaml).")
@click.option("--source", "source_ids", multiple=True, help="Crawl only this source id (repeatable).")
@click.option("-s", "--set", "scrapy_settings", multiple=True, metavar="NAME=VALUE",
              help="Override a Scrapy setting, e.g. -s DOWNLOAD_DELAY=2 (repeatable).")
@translator_options
@click.option("-v", "--verbose", is_flag=True, help="Show Scrapy's log.")
@user_errors
def crawl(db: Path, sources: Path | None, source_ids: tuple[str, ...], scrapy_settings: tuple[str, ...],
          translator: str | None, translator_url: str | None, verbose: bool) -> None:
    """Crawl the configured news sources into the archive and print a summary.

    Exit code: 0 all sources answered, 3 some failed, 1 all failed or the
    crawl could not run, 4 a run monitor raised an alert (a source yielded
    nothing, too many errors, bot walls), 75 another crawl holds the archive.

    \b
    Example:
      reaim crawl --db reaim.db --source yonhap-en --source nos-nl
    """
    from reaim.crawl import EXIT_LOCKED, CrawlLocked, build_settings, format_report, run_crawl

    overrides = _crawl_logging(verbose, db)
    for pair in scrapy_settings:
        name, sep, value = pair.partition("=")
        if not sep or not name.strip():
            raise click.BadParameter(f"expected NAME=VALUE, got {pair!r}", param_hint="--set")
        overrides[name.strip()] = value
    settings = build_settings(
        db=str(db), sources=str(sources) if sources else None, source_ids=list(source_ids), site=None,
        translator=translator, translator_url=translator_url, overrides=overrides,
    )
    try:
        report = run_crawl(settings, command="crawl")
    except CrawlLocked as exc:
        click.echo(f"Error: {exc}", err=True)
        sys.exit(EXIT_LOCKED)
    click.echo(format_report(report, db))
    if not verbose:
        click.echo(f"Crawl log: {crawl_log_path(db)}")
    sys.exit(report.exit_code)


@cli.command()
@db_option
@click.option("--every", required=True, help="Interval between runs: 90s, 15m, 1h, 1d.")
@click.option("--sources", type=click.Path(dir_okay=False, exists=True, path_type=Path), default=None,
              help="Sources YAML file (default: the packaged crawler/sources.yaml).")
@click.option("--source", "source_ids", multiple=True, help="Crawl only this source id (repeatable).")
@click.option("--times", type=int, default=None, help="Stop after this many runs (default: run until Ctrl-C).")
@user_errors
def schedule(db: Path, every: str, sources: Path | None, source_ids: tuple[str, ...], times: int | None) -> None:
    """Run `reaim crawl` every interval in the foreground (for machines without cron).

    Each run is logged in the archive like any crawl; one line per run here.
    Overlapping runs cannot happen: the archive lock skips a run while
    another holds it. For servers, prefer the systemd timer in docs/deploy/.

    \b
    Example:
      reaim schedule --every 1h --db reaim.db
    """
    from reaim.schedule import parse_interval, run_schedule

    seconds = parse_interval(every)
    args = ["--db", str(db)]
    if sources:
        args += ["--sources", str(sources)]
    for sid in source_ids:
        args += ["--source", sid]
    click.echo(f"Crawling {db} every {every}; Ctrl-C to stop.", err=True)
    try:
        sys.exit(run_schedule(args, seconds, times=times, echo=click.echo))
    except KeyboardInterrupt:
        sys.exit(0)


def _serve(db: Path, port: int, public: bool) -> None:
    import subprocess

    from archive.datasette import serve_command

    if not db.exists():
        raise click.ClickException(f"no archive at {db}; run `reaim demo` or `reaim crawl` first")
    from archive.schema import open_db

    open_db(db).conn.close()  # bring an older archive's shape (search index) up to date first
    cmd = serve_command(db, port=port, public=public)
    click.echo(f"Datasette: http://127.0.0.1:{port}/  (Ctrl-C to stop)")
    try:
        sys.exit(subprocess.call(cmd))
    except KeyboardInterrupt:
        sys.exit(0)


@cli.command()
@db_option
@click.option("--port", type=int, default=8001, show_default=True, help="Port to listen on (127.0.0.1).")
@click.option("--public", is_flag=True,
              help="For a server others reach (behind a reverse proxy): no arbitrary SQL for anonymous users, "
                   "at most 500 rows per page, no streamed CSV (docs/datasette.md).")
@user_errors
def serve(db: Path, port: int, public: bool) -> None:
    """Browse the archive in Datasette, with the project's metadata, facets and queries.

    \b
    Example:
      reaim serve --db reaim.db --port 8001
    """
    _serve(db, port, public=public)


def _extract_one(data: bytes, url: str, tz: str | None) -> dict[str, Any]:
    from crawler.charset import decode_html
    from crawler.extract import extract_article
    from pipeline.language import detect_article_language
    from pipeline.normalize import normalize

    decoded = decode_html(data, None, None)
    article = normalize(extract_article(decoded.text, url, source_timezone=tz))
    lang = detect_article_language(article)
    return {
        "url": article.url,
        "canonical_url": article.canonical_url,
        "title": article.title,
        "text": article.text,
        "published": article.published,
        "language": lang.language,
        "authors": article.authors,
        "published_raw": article.published_raw,
        "published_method": article.published_method,
        "section": article.section,
        "image": article.image,
        "encoding": decoded.encoding,
        "mojibake": decoded.mojibake,
        "provenance": article.provenance,
    }


@cli.command()
@click.argument("file", required=False, type=click.Path(dir_okay=False, exists=True, path_type=Path))
@click.option("--url", help="The URL the page was fetched from (resolves relative links).")
@click.option("--batch", "batch", type=click.File("r", encoding="utf-8"), default=None,
              help='JSON Lines of {"path": ..., "url": ...}: extract each, one JSON line out per line in.')
@click.option("--timezone", "tz", default=None, help="Zone for dates printed without one, e.g. Asia/Seoul.")
@user_errors
def extract(file: Path | None, url: str | None, batch: Any, tz: str | None) -> None:
    """Extract a saved HTML page (or a batch of them) and print JSON.

    One page: one JSON object. With --batch, one line per input line, in
    input order, with the input's path added; a page that fails gives a line
    with path and error, and the batch goes on (exit code 1 at the end).

    \b
    Example:
      reaim extract page.html --url https://www.example.com/news/1
      reaim extract --batch pages.jsonl > extracted.jsonl
    """
    if batch is None:
        if file is None or not url:
            raise click.UsageError("give FILE and --url, or --batch LIST.jsonl")
        click.echo(json.dumps(_extract_one(file.read_bytes(), url, tz), ensure_ascii=False, indent=2))
        return
    if file is not None:
        raise click.UsageError("give either FILE or --batch, not both")
    failed = 0
    for n, line in enumerate(batch, 1):
        if not line.strip():
            continue
        path: Any = None
        try:
            entry = json.loads(line)
            path, page_url = entry["path"], entry["url"]
            out = {"path": path, **_extract_one(Path(path).read_bytes(), page_url, entry.get("timezone") or tz)}
        except Exception as exc:  # one bad page must not stop the batch
            failed += 1
            out = {"path": path, "line": n, "error": " ".join(f"{type(exc).__name__}: {exc}".split())[:300]}
        click.echo(json.dumps(out, ensure_ascii=False))
    if failed:
        click.echo(f"{failed} page(s) failed; see the lines with an error", err=True)
        sys.exit(1)


@cli.command()
@click.argument("input_file", metavar="INPUT.jsonl", type=click.File("r", encoding="utf-8"))
@click.option("-o", "--output", type=click.File("w", encoding="utf-8"), default="-",
              help="Where to write JSON Lines (default: standard output).")
@click.option("--no-translate", is_flag=True, help="Skip translation.")
@translator_options
@user_errors
def process(input_file: Any, output: Any, no_translate: bool, translator: str | None, translator_url: str | None) -> None:
    """Run the processing stages on articles fetched elsewhere (no crawl, no archive).

    Each input line is a JSON object with url, title, text and optionally
    html, published, language. A bad line is reported on stderr with its
    line number; the others are processed (exit code 1 if any was bad).

    \b
    Example:
      reaim process articles.jsonl -o processed.jsonl --no-translate
    """
    from pipeline.process import BadRecord, Processor
    from pipeline.translate import make_translator

    processor = Processor(
        translator=None if no_translate else make_translator(translator, translator_url),
        translate=not no_translate,
    )
    bad = 0
    for lineno, line in enumerate(input_file, 1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
            out = processor.process_record(record)
        except json.JSONDecodeError as exc:
            bad += 1
            click.echo(f"line {lineno}: not valid JSON: {exc.msg}", err=True)
            continue
        except BadRecord as exc:
            bad += 1
            click.echo(f"line {lineno}: {exc}", err=True)
            continue
        output.write(json.dumps(out, ensure_ascii=False) + "\n")
    if bad:
        click.echo(f"{bad} line(s) could not be processed", err=True)
        sys.exit(1)


@cli.command()
@db_option
@click.option("--pending", is_flag=True, required=True, help="Translate the articles whose translation is pending.")
@translator_options
@click.option("--limit", type=int, default=None, help="At most this many articles.")
@user_errors
def translate(db: Path, pending: bool, translator: str | None, translator_url: str | None, limit: int | None) -> None:
    """Retry translation for archived articles left pending (e.g. the service was down).

    \b
    Example:
      reaim translate --pending --db reaim.db --translator libre --translator-url http://127.0.0.1:5000
    """
    from archive.schema import open_db
    from pipeline.retranslate import translate_pending
    from pipeline.translate import make_translator

    tr = make_translator(translator, translator_url)
    if tr is None:
        raise click.ClickException("no translator configured (--translator none); nothing to do")
    if not db.exists():
        raise click.ClickException(f"no archive at {db}")
    result = translate_pending(open_db(db), str(db), tr, limit=limit)
    line = f"translated {result['done']}, still pending {result['pending']}, characters sent {result['chars_sent']}"
    if result.get("budget_exhausted"):
        line += f" ({result['budget_exhausted']} left pending by the character budget)"
    click.echo(line)
    sys.exit(0 if result["pending"] == 0 else 3)


# Commands defined in their own modules (they do not import this one: under
# ``python -m reaim.cli`` that would load a second copy of it).
from reaim.archive_cmds import audit, backup, import_cmd  # noqa: E402
from reaim.distributed_cmds import ingest_cmd, worker  # noqa: E402
from reaim.export_cmd import export  # noqa: E402
from reaim.search_cmd import reindex, search  # noqa: E402
from reaim.tag_cmds import eval_cmd, retag  # noqa: E402

cli.add_command(export)
cli.add_command(import_cmd, name="import")
cli.add_command(backup)
cli.add_command(audit)
cli.add_command(search)
cli.add_command(reindex)
cli.add_command(retag)
cli.add_command(eval_cmd, name="eval")
cli.add_command(worker)
cli.add_command(ingest_cmd)


def main() -> None:
    cli()


if __name__ == "__main__":
    main()

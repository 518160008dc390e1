"""``reaim worker`` and ``reaim ingest``: the crawl spread over several processes or
machines, sharing one frontier in Redis, with one process writing the archive
(docs/scaling.md)."""

from __future__ import annotations

import logging
import os
import signal
import sys
from pathlib import Path
from typing import Any

import click

from reaim.options import db_option

_DB = db_option
_REDIS = click.option(
    "--redis", "redis_url", default="redis://127.0.0.1:6379/0", envvar="REAIM_REDIS_URL", show_default=True,
    help="Redis holding the shared frontier and the item queue ($REAIM_REDIS_URL). The password comes from "
         "$REAIM_REDIS_PASSWORD or the URL; it is never put in Scrapy's settings (they are logged).",
)
_INSECURE = click.option(
    "--allow-insecure-redis", is_flag=True,
    help="Accept a Redis off this machine without a password (anyone reaching it can inject requests and "
         "archive records). Only on a network that is yours alone.",
)


def _redis_url(url: str) -> str:
    """The URL without its password; the password, if any, moves to this process's environment."""
    from crawler.distributed import PASSWORD_ENV, split_password

    bare, password = split_password(url)
    if password and not os.environ.get(PASSWORD_ENV):
        os.environ[PASSWORD_ENV] = password
    return bare


def _preflight(url: str, allow_insecure: bool) -> Any:
    """Connect once before anything starts, so a refused or unsafe Redis is a one-line error."""
    import redis

    from crawler.distributed import RedisConfigError, connect

    try:
        return connect(url, allow_insecure=allow_insecure)
    except RedisConfigError as exc:
        raise click.ClickException(str(exc)) from None
    except redis.AuthenticationError as exc:
        raise click.ClickException(f"Redis at {url} refused the password ({exc}); set $REAIM_REDIS_PASSWORD") from None
    except redis.RedisError as exc:
        raise click.ClickException(f"cannot use Redis at {url}: {type(exc).__name__}: {exc}") from None


@click.command("worker")
@_REDIS
@click.option("--sources", type=click.Path(dir_okay=False, exists=True, path_type=Path), default=None,
              help="Sources YAML file (default: the packaged crawler/sources.yaml). Every worker should use the same.")
@click.option("--source", "source_ids", multiple=True, help="Seed only this source id (repeatable).")
@click.option("--seed/--no-seed", default=None,
              help="Push the sources' feeds and pages into the shared queue. Default: only into an empty "
                   "frontier, and only one worker of those starting together.")
@click.option("--until-idle", is_flag=True,
              help="Exit once the shared frontier is drained (no request queued or held by any worker), "
                   "instead of waiting for the next round.")
@click.option("--cache", type=click.Path(dir_okay=False, path_type=Path), default="reaim-worker-cache.db",
              envvar="REAIM_WORKER_CACHE", show_default=True,
              help="Local SQLite file for this worker's translation cache ($REAIM_WORKER_CACHE). Never the archive.")
@click.option("--prefix", default="reaim", envvar="REAIM_REDIS_PREFIX", show_default=True,
              help="Prefix of the Redis keys, to run several independent crawls on one Redis ($REAIM_REDIS_PREFIX).")
@_INSECURE
@click.option("-s", "--set", "scrapy_settings", multiple=True, metavar="NAME=VALUE",
              help="Override a Scrapy or reaim setting, e.g. -s REAIM_CLAIM_LEASE=120 (repeatable).")
@click.option("--translator", default=None, envvar="REAIM_TRANSLATOR",
              help="Translation provider ($REAIM_TRANSLATOR), as for `reaim crawl`.")
@click.option("--translator-url", default=None, envvar="REAIM_TRANSLATOR_URL", help="Custom translator endpoint.")
@click.option("--log-file", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Write Scrapy's log to this file instead of stderr.")
def worker(redis_url: str, sources: Path | None, source_ids: tuple[str, ...], seed: bool | None, until_idle: bool,
           cache: Path, prefix: str, allow_insecure_redis: bool, scrapy_settings: tuple[str, ...], translator: str | None,
           translator_url: str | None, log_file: Path | None) -> None:
    """Crawl from the shared frontier in Redis; items go to Redis for `reaim ingest`.

    Run as many as you like, on one machine or many. Each claims requests
    from the shared queue and acknowledges them once their items are in
    Redis; a worker that dies is noticed by its expired heartbeat, and what it
    held is re-queued after the lease (REAIM_CLAIM_LEASE, 60 s).

    Exit code: 0 after a clean stop (Ctrl-C, SIGTERM, or --until-idle), 1 if
    the worker could not run.

    \b
    Example:
      export REAIM_REDIS_PASSWORD=...        # the Redis password, never on the command line
      reaim worker --redis redis://10.0.0.5:6379/0 --until-idle
    """
    from crawler.distributed import worker_overrides
    from crawler.sources import SourceError, load_sources
    from reaim.crawl import build_settings, run_news_spider

    bare = _redis_url(redis_url)
    overrides: dict[str, Any] = {"REAIM_REDIS_URL": bare, "REAIM_REDIS_PREFIX": prefix,
                                 "REAIM_REDIS_ALLOW_INSECURE": allow_insecure_redis,
                                 "LOG_LEVEL": "INFO", "LOG_FILE": str(log_file) if log_file else None}
    if seed is not None:
        overrides["REAIM_SEED"] = "true" if seed else "false"
    if until_idle:
        overrides["REAIM_UNTIL_IDLE"] = True
    for pair in scrapy_settings:
        name, sep, value = pair.partition("=")
        if not sep or not name.strip():
            raise click.BadParameter(f"expected NAME=VALUE, got {pair!r}", param_hint="--set")
        overrides[name.strip()] = value
    settings = build_settings(db=str(cache), sources=str(sources) if sources else None, source_ids=list(source_ids),
                              site=None, translator=translator, translator_url=translator_url, overrides=overrides)
    settings.setdict(worker_overrides(settings), priority="cmdline")
    try:
        load_sources(settings.get("REAIM_SOURCES"), only=settings.getlist("REAIM_SOURCE_IDS") or None)
    except SourceError as exc:
        raise click.ClickException(str(exc)) from None
    _preflight(bare, settings.getbool("REAIM_REDIS_ALLOW_INSECURE"))

    crawler, failure = run_news_spider(settings)
    if failure is not None:
        raise click.ClickException(f"the worker could not run: {failure.type.__name__}: {failure.getErrorMessage()}")
    stats = crawler.stats.get_stats() if crawler.stats else {}

    def n(key: str) -> int:
        return int(stats.get(key, 0))

    click.echo(f"worker done ({stats.get('finish_reason')}): {n('ledger/claimed')} requests claimed, "
               f"{n('ledger/acked')} acknowledged, {n('ledger/released')} released, "
               f"{n('ledger/requeued')} re-queued from dead workers, {n('distributed/items_pushed')} items pushed")
    sys.exit(0 if stats.get("finish_reason") in ("finished", "shutdown") else 1)


@click.command("ingest")
@_DB
@_REDIS
@click.option("--until-idle", is_flag=True,
              help="Exit once the item queue is empty and the shared frontier is drained, instead of waiting.")
@click.option("--lease", type=float, default=60.0, envvar="REAIM_CLAIM_LEASE", show_default=True,
              help="Seconds after which a dead worker's claims are re-queued ($REAIM_CLAIM_LEASE).")
@click.option("--batch", type=int, default=200, show_default=True, help="Records written per batch.")
@click.option("--prefix", default="reaim", envvar="REAIM_REDIS_PREFIX", show_default=True,
              help="Prefix of the Redis keys; the workers' REAIM_REDIS_PREFIX ($REAIM_REDIS_PREFIX).")
@_INSECURE
@click.option("-v", "--verbose", is_flag=True, help="Log progress to stderr.")
def ingest_cmd(db: Path, redis_url: str, until_idle: bool, lease: float, batch: int, prefix: str,
               allow_insecure_redis: bool, verbose: bool) -> None:
    """Write the items the workers put in Redis into the archive: dedupe and store.

    The one writer of the archive in the distributed mode: the crawl's own
    dedupe and store stages, on the JSON records the workers push. Also
    reaps the claims of dead workers. Takes the archive's lock (no `reaim
    crawl` on the same archive meanwhile), and refuses to run beside a second
    ingest on the same Redis.

    Exit code: 0 done, 1 could not run, 75 another crawl or ingest holds the archive.

    \b
    Example:
      reaim ingest --db reaim.db --redis redis://127.0.0.1:6379/0 --until-idle
    """
    import redis

    from archive.schema import open_db
    from archive.store import finish_run, start_run, summary
    from crawler.distributed import Keys
    from pipeline.ingest_redis import IngestBusy, ingest
    from pipeline.taxonomy import load_taxonomy
    from reaim.crawl import EXIT_LOCKED, CrawlLocked, crawl_lock

    logging.basicConfig(level=logging.INFO if verbose else logging.WARNING, format="%(asctime)s %(levelname)s %(message)s")
    bare = _redis_url(redis_url)
    client = _preflight(bare, allow_insecure_redis)
    keys = Keys(prefix=prefix)
    stop: list[int] = []

    def on_signal(signum: int, _frame: Any) -> None:
        stop.append(signum)

    old = {s: signal.signal(s, on_signal) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        with crawl_lock(db):
            archive = open_db(db)
            run_id = start_run(archive, "ingest")
            try:
                report = ingest(archive, client, keys, load_taxonomy(None), run_id=run_id, until_idle=until_idle,
                                lease=lease, batch=batch,
                                should_stop=lambda: bool(stop),
                                on_status=lambda m: click.echo(m, err=True) if verbose else None)
            except (IngestBusy, redis.RedisError) as exc:
                message = str(exc) if isinstance(exc, IngestBusy) else f"Redis failed: {type(exc).__name__}: {exc}"
                finish_run(archive, run_id, "failed", {}, {"error": message})
                raise click.ClickException(message) from None
            finish_run(archive, run_id, "ok", {}, {"counts": {k: v for k, v in report.__dict__.items()
                                                              if isinstance(v, int)},
                                                   "workers": sorted(report.workers), "archive": summary(archive)})
    except CrawlLocked as exc:
        click.echo(f"Error: {exc}", err=True)
        sys.exit(EXIT_LOCKED)
    finally:
        for s, handler in old.items():
            signal.signal(s, handler)
    click.echo(f"ingested into {db}: {report.line()}")

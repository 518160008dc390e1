"""Options and error handling shared by every ``reaim`` command.

In a module of their own so that command modules (export, search, tagging,
archive, distributed) use the same ``--db`` and the same one-line errors
without importing ``reaim.cli``, which imports them.
"""

from __future__ import annotations

import functools
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from archive.schema import default_db_path


def db_option(fn: Callable[..., Any]) -> Callable[..., Any]:
    return click.option(
        "--db",
        "db",
        type=click.Path(dir_okay=False, path_type=Path),
        default=default_db_path,
        show_default="./reaim.db or $REAIM_DB",
        help="SQLite archive to use.",
    )(fn)


def translator_options(fn: Callable[..., Any]) -> Callable[..., Any]:
    fn = click.option(
        "--translator-url",
        default=None,
        envvar="REAIM_TRANSLATOR_URL",
        help="Custom endpoint, e.g. a self-hosted LibreTranslate ($REAIM_TRANSLATOR_URL).",
    )(fn)
    return click.option(
        "--translator",
        type=click.Choice(["google", "libre", "deepl", "microsoft", "mymemory", "argos", "none"]),
        default=None,
        envvar="REAIM_TRANSLATOR",
        help="Translation provider ($REAIM_TRANSLATOR; default google; argos is offline, pip install "
        "'.[offline]'). Keys come from the provider's usual environment variable (LIBRE_API_KEY, DEEPL_API_KEY, "
        "MICROSOFT_API_KEY) or the file named by $REAIM_SECRETS_FILE. $REAIM_TRANSLATE_BUDGET caps the "
        "characters sent per run.",
    )(fn)


def user_errors(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Turn the errors a user can cause into one-line messages, never a traceback."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        from crawler.sources import SourceError
        from reaim.crawl import CrawlError

        try:
            return fn(*args, **kwargs)
        except sqlite3.Error as exc:
            hint = " (disk full or file size limit?)" if "disk i/o" in str(exc).lower() or "full" in str(exc).lower() else ""
            raise click.ClickException(f"archive error: {exc}{hint}") from None
        except (SourceError, CrawlError, ValueError, FileNotFoundError, OSError) as exc:
            raise click.ClickException(str(exc)) from None

    return wrapper

"""Datasette plugin: the archive's multilingual search as SQL functions.

Registered on every connection Datasette opens, so the canned query
``search`` in archive/metadata.yml (and any SQL a user writes) can search
``articles_search`` with the same analysis as ``reaim search``:

* ``reaim_match(q [, language])``: the FTS5 MATCH expression for a user's
  query (``'""'``, which matches nothing, when the query has no searchable word);
* ``reaim_tokens(text, language)``: the tokenised form of a text, as indexed;
* ``reaim_snippet(q, language, title, text, title_en, text_en)``: an extract
  with the matches in **bold**.

Loaded through the ``datasette`` entry point in pyproject.toml
(``reaim = "archive.datasette_plugin"``).
"""

from __future__ import annotations

import sqlite3
from typing import Any

from datasette import hookimpl

from archive.search import match_expression, search_tokens, snippet

NO_MATCH = '""'


def reaim_match(query: str | None, language: str | None = None) -> str:
    return match_expression(query, language or None) or NO_MATCH


def reaim_tokens(text: str | None, language: str | None = None) -> str:
    return search_tokens(text, language or None)


def reaim_snippet(query: str | None, language: str | None, title: str | None, text: str | None,
                  title_en: str | None = None, text_en: str | None = None) -> str:
    return snippet(query or "", language or None, title, text, title_en, text_en)


def register_functions(conn: sqlite3.Connection) -> None:
    conn.create_function("reaim_match", 1, reaim_match, deterministic=True)
    conn.create_function("reaim_match", 2, reaim_match, deterministic=True)
    conn.create_function("reaim_tokens", 1, reaim_tokens, deterministic=True)
    conn.create_function("reaim_tokens", 2, reaim_tokens, deterministic=True)
    conn.create_function("reaim_snippet", 4, reaim_snippet, deterministic=True)
    conn.create_function("reaim_snippet", 6, reaim_snippet, deterministic=True)


@hookimpl
def prepare_connection(conn: sqlite3.Connection, database: str, datasette: Any) -> None:
    register_functions(conn)

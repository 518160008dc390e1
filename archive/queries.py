"""Named SQL shared by Datasette and ``reaim export``, kept in one place.

The SQL lives in ``archive/metadata.yml`` (``databases.reaim.queries``), the
file Datasette is served with (:mod:`archive.datasette`). This module reads
it from there and nowhere else, so the canned query a reader runs in Datasette
and the rows ``reaim export`` writes come from the same statement and cannot
drift apart. Column descriptions come from the same file.

The article selection, :data:`ARTICLES_QUERY`, takes its filters as named
parameters (``:event``, ``:theme``, ``:language``, ``:since``, ``:until``);
an empty string means "no filter", which is also what Datasette passes for a
parameter left blank. Values are always bound, never formatted into the SQL.

The statement is planned once, before the values are known, so it cannot say
``where :language = '' or a.language = :language`` and hope for an index.
Instead it holds one branch per index (tags by event, by theme, language,
publication time, and all articles) and finds the articles through the filter
that matches the fewest index entries; the other branches search their index
for null and read nothing. Each branch applies every filter, written once.
tests/unit/test_export_selection.py checks the rows and their order against a
plain reference for every combination of filters, and that a filtered
selection does not cost more on an archive with more unrelated articles.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any

import yaml

METADATA_DB_KEY = "reaim"  # the key archive/metadata.yml is written under (see archive/datasette.py)
ARTICLES_QUERY = "export_articles"
FILTER_PARAMS = ("event", "theme", "language", "since", "until")

# A named parameter, not inside a string literal: the queries here have none
# with a colon, and the check below fails loudly if that ever changes.
_PARAM = re.compile(r"(?<![:\w]):([A-Za-z_]\w*)")


@dataclass(frozen=True)
class CannedQuery:
    name: str
    sql: str
    params: tuple[str, ...]
    title: str | None = None
    description: str | None = None


@lru_cache(maxsize=1)
def _metadata_text() -> str:
    return (resources.files("archive") / "metadata.yml").read_text(encoding="utf-8")


def metadata() -> dict[str, Any]:
    """The packaged Datasette metadata (a fresh copy: callers may change it)."""
    data: dict[str, Any] = yaml.safe_load(_metadata_text())
    return data


def _database() -> Mapping[str, Any]:
    return metadata()["databases"][METADATA_DB_KEY]


def sql_params(sql: str) -> tuple[str, ...]:
    """The named parameters of a statement, in order of first use."""
    return tuple(dict.fromkeys(_PARAM.findall(sql)))


def canned_query(name: str) -> CannedQuery:
    """One of the canned queries in archive/metadata.yml, by name."""
    queries = _database().get("queries") or {}
    if name not in queries:
        raise KeyError(f"no canned query {name!r} in archive/metadata.yml")
    q = queries[name]
    sql = q["sql"].strip()
    params = tuple(q.get("params") or sql_params(sql))
    if set(params) != set(sql_params(sql)):
        raise ValueError(
            f"archive/metadata.yml: query {name!r} declares params {list(params)} but its SQL uses {list(sql_params(sql))}"
        )
    return CannedQuery(name, sql, params, q.get("title"), q.get("description"))


def column_descriptions(table: str) -> dict[str, str]:
    """Column descriptions Datasette shows for a table, from archive/metadata.yml."""
    table_meta = (_database().get("tables") or {}).get(table) or {}
    return {str(k): str(v) for k, v in (table_meta.get("columns") or {}).items()}


@dataclass(frozen=True)
class ArticleFilters:
    """Filters of the article selection; None means "all"."""

    event: str | None = None
    theme: str | None = None
    language: str | None = None
    since: dt.date | None = None
    until: dt.date | None = None

    def __post_init__(self) -> None:
        if self.since and self.until and self.since > self.until:
            raise ValueError(f"--since {self.since} is after --until {self.until}")

    def params(self) -> dict[str, str]:
        """Bound parameter values, "" for a filter not set (as Datasette sends a blank field)."""
        return {
            "event": self.event or "",
            "theme": self.theme or "",
            "language": self.language or "",
            "since": self.since.isoformat() if self.since else "",
            "until": self.until.isoformat() if self.until else "",
        }

    def active(self) -> dict[str, str]:
        """Only the filters that are set."""
        return {k: v for k, v in self.params().items() if v}


def article_selection(filters: ArticleFilters) -> tuple[str, dict[str, str]]:
    """The article selection's SQL and its bound parameters for these filters."""
    query = canned_query(ARTICLES_QUERY)
    params = filters.params()
    if set(query.params) != set(params):
        raise ValueError(
            f"archive/metadata.yml: query {ARTICLES_QUERY!r} takes {list(query.params)}, "
            f"the export passes {sorted(params)}; keep the two in step"
        )
    return query.sql, params

"""``reaim export``: the archive's relevant articles as a documented, checksummed data package.

One call of :func:`export_archive` writes into one folder:

* ``articles.<fmt>``, ``article_events.<fmt>``, ``article_themes.<fmt>``,
  ``events.<fmt>``, ``themes.<fmt>`` (``fmt`` is csv, jsonl or parquet);
* ``datapackage.json``, a Frictionless Data Package describing each of them
  (field types, descriptions, keys, size and SHA-256);
* ``README.md``, the codebook: fields, filters and query, counts, period,
  taxonomy version, licence;
* ``SHA256SUMS`` for ``sha256sum -c``.

The article selection is the canned query ``export_articles`` of
``archive/metadata.yml`` (see :mod:`archive.queries`): what Datasette shows
and what is exported are the same rows. Filter values are bound parameters;
file names are fixed, so nothing a filter says can reach the file system.

The archive is opened read-only and read in one transaction, so a crawl
writing at the same time cannot make the files disagree with each other. The
output does not depend on when it was made: exporting an unchanged archive
again gives byte-identical files (and the same SHA256SUMS).
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import json
import os
import shlex
import shutil
import sqlite3
import tempfile
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlencode

from archive.queries import ARTICLES_QUERY, ArticleFilters, article_selection, column_descriptions, metadata

FORMATS = ("csv", "jsonl", "parquet")
CHECKSUMS = "SHA256SUMS"
DATAPACKAGE = "datapackage.json"
CODEBOOK = "README.md"
PROGRESS_EVERY = 1000  # rows between two progress callbacks
PARQUET_BATCH = 10_000  # rows per Parquet row group
WRITE_BUFFER = 1 << 20  # bytes
MEDIATYPES = {"csv": "text/csv", "jsonl": "application/jsonl", "parquet": "application/vnd.apache.parquet"}
# A spreadsheet runs a cell starting with one of these as a formula (OWASP "CSV injection").
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
ENDORSEMENTS_NOTE = (
    "No endorsements file: the taxonomy (pipeline/taxonomy/events.yaml) records each event's organisers "
    "and outcome documents but not which states endorsed them, so there is no endorsement data to export."
)

Progress = Callable[[int, int], None]  # (articles written, articles selected)


class ExportError(ValueError):
    """A problem the user can fix (bad archive, missing optional package); one line."""


# --- the resources and their fields ---------------------------------------------------


@dataclass(frozen=True)
class Field:
    name: str
    type: str  # Table Schema type: string, number, integer, boolean, date, datetime, array, object
    description: str
    text: bool = False  # article text: left out with include_text=False


@dataclass(frozen=True)
class Resource:
    name: str
    title: str
    description: str
    fields: tuple[Field, ...]
    primary_key: tuple[str, ...]
    foreign_keys: tuple[tuple[str, str, str], ...] = ()  # (field, resource, field)

    def fields_for(self, include_text: bool) -> tuple[Field, ...]:
        return tuple(f for f in self.fields if include_text or not f.text)


# Descriptions of columns the archive tables do not have (or that the export changes);
# every other description comes from archive/metadata.yml, as Datasette shows it.
_EXPORT_DESCRIPTIONS = {
    ("articles", "events"): "Ids of every event the article is tagged with (events.id), the primary one first, "
    "then by score. In CSV joined with ';'.",
    ("articles", "themes"): "Ids of the themes the article is tagged with (themes.id), strongest first. "
    "In CSV joined with ';'.",
    ("articles", "primary_event"): "The event the article is mainly about (events.id); null when none was tagged.",
    ("articles", "relevance"): "Relevance score 0..1 (every exported article was judged relevant).",
    ("article_events", "is_primary"): "true for the article's primary event (articles.primary_event).",
}
_SNIPPET_NOTE = " With --no-text the snippet is left out; the matched terms remain."


def _fields(table: str, spec: Sequence[tuple[str, str]], text: Iterable[str] = ()) -> tuple[Field, ...]:
    described = column_descriptions(table)
    text = set(text)
    out = []
    for name, type_ in spec:
        desc = _EXPORT_DESCRIPTIONS.get((table, name)) or described.get(name)
        if not desc:
            raise ExportError(f"no description for {table}.{name} in archive/metadata.yml")
        if name == "evidence":
            desc += _SNIPPET_NOTE
        out.append(Field(name, type_, desc, name in text))
    return tuple(out)


def resources() -> tuple[Resource, ...]:
    """The exported resources, in the order they are written and documented."""
    return (
        Resource(
            "articles",
            "Articles",
            "One row per relevant archived article (duplicates folded into their original), with its tags.",
            _fields(
                "articles",
                [
                    ("id", "string"), ("url", "string"), ("canonical_url", "string"), ("outlet", "string"),
                    ("source_id", "string"), ("country", "string"), ("language", "string"),
                    ("language_confidence", "number"), ("published", "datetime"), ("title", "string"),
                    ("title_en", "string"), ("text", "string"), ("text_en", "string"),
                    ("translation_status", "string"), ("primary_event", "string"), ("events", "array"),
                    ("themes", "array"), ("relevance", "number"), ("fetched_at", "datetime"),
                    ("first_seen", "datetime"),
                ],
                text=("text", "text_en"),
            ),
            ("id",),
            (("primary_event", "events", "id"),),
        ),
        Resource(
            "article_events",
            "Event tags",
            "Which exported article is tagged with which event, with the score and the evidence.",
            _fields(
                "article_events",
                [("article_id", "string"), ("event_id", "string"), ("is_primary", "boolean"), ("score", "number"),
                 ("evidence", "object"), ("taxonomy_version", "string")],
            ),
            ("article_id", "event_id"),
            (("article_id", "articles", "id"), ("event_id", "events", "id")),
        ),
        Resource(
            "article_themes",
            "Theme tags",
            "Which exported article is tagged with which theme, with the score and the evidence.",
            _fields(
                "article_themes",
                [("article_id", "string"), ("theme_id", "string"), ("score", "number"), ("evidence", "object"),
                 ("taxonomy_version", "string")],
            ),
            ("article_id", "theme_id"),
            (("article_id", "articles", "id"), ("theme_id", "themes", "id")),
        ),
        Resource(
            "events",
            "Events",
            "Every event of the taxonomy in the archive (summits, declarations, resolutions...), tagged or not.",
            _fields(
                "events",
                [("id", "string"), ("label", "string"), ("kind", "string"), ("start_date", "date"),
                 ("end_date", "date"), ("place", "string"), ("country", "string"), ("labels", "object"),
                 ("taxonomy_version", "string")],
            ),
            ("id",),
        ),
        Resource(
            "themes",
            "Themes",
            "Every theme of the taxonomy in the archive, with its labels in each language.",
            _fields("themes", [("id", "string"), ("label", "string"), ("labels", "object"),
                               ("taxonomy_version", "string")]),
            ("id",),
        ),
    )


# Rows of the resources other than articles: for the exported articles only
# (the temp table export_ids, in export order), or the whole taxonomy. The tags
# are read article by article through their primary key (article_id, ...):
# ``cross join`` keeps export_ids the outer loop (SQLite does not reorder it),
# so the cost follows the exported articles, not the size of the tag tables,
# and only each article's few tags are sorted.
_RELATED_SQL = {
    "article_events": """
        select ae.article_id, ae.event_id, ae.is_primary, ae.score, ae.evidence, ae.taxonomy_version
        from temp.export_ids x cross join article_events ae on ae.article_id = x.id
        order by x.ord, ae.is_primary desc, ae.score desc, ae.event_id""",
    "article_themes": """
        select at.article_id, at.theme_id, at.score, at.evidence, at.taxonomy_version
        from temp.export_ids x cross join article_themes at on at.article_id = x.id
        order by x.ord, at.score desc, at.theme_id""",
    "events": """
        select id, label, kind, start_date, end_date, place, country, labels, taxonomy_version
        from events order by start_date, id""",
    "themes": "select id, label, labels, taxonomy_version from themes order by id",
}


# --- cell values ---------------------------------------------------------------------
#
# Each field gets one converter from the archive's value (text, number, JSON
# text) to the value a format writes, chosen once per export: the tag tables
# have several rows per article, so the per-cell work is what sets the speed.

Cell = Callable[[Any], Any]


def neutralise(value: str) -> str:
    """Make a CSV cell that a spreadsheet would run as a formula inert: prefix it with '."""
    return "'" + value if value.startswith(FORMULA_START) else value


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


def _loads(where: str) -> Cell:
    def load(raw: Any) -> Any:
        if raw is None or isinstance(raw, list | dict):
            return raw
        try:
            return json.loads(raw)
        except (TypeError, json.JSONDecodeError):
            raise ExportError(f"{where}: not valid JSON: {str(raw)[:80]!r}") from None

    return load


def _without_snippet(load: Cell) -> Cell:
    def strip(raw: Any) -> Any:
        value = load(raw)
        if isinstance(value, dict):
            value = {k: v for k, v in value.items() if k != "snippet"}
        return value

    return strip


def _parse_datetime(value: str, where: str) -> dt.datetime:
    try:
        parsed = dt.datetime.fromisoformat(value)
    except ValueError:
        raise ExportError(f"{where}: not an ISO 8601 time: {value!r}") from None
    return parsed.replace(tzinfo=dt.UTC) if parsed.tzinfo is None else parsed.astimezone(dt.UTC)


def _parse_date(value: str, where: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value[:10])
    except ValueError:
        raise ExportError(f"{where}: not an ISO 8601 date: {value!r}") from None


def _converter(resource: str, f: Field, fmt: str, include_text: bool) -> Cell:
    """The function from the archive's value of field ``f`` to what format ``fmt`` writes."""
    where = f"{resource}.{f.name}"
    load = _loads(where)  # JSON text -> Python value
    as_text: Cell = lambda raw: raw  # noqa: E731  (JSON text kept as the archive has it)
    if f.name == "evidence" and not include_text:
        load = _without_snippet(load)
        as_text = lambda raw: None if raw is None else _dumps(load(raw))  # noqa: E731

    if fmt == "csv":
        if f.type == "array":
            return lambda raw: ";".join(map(str, load(raw) or ()))
        if f.type == "object":
            return lambda raw: "" if raw is None else neutralise(as_text(raw))
        if f.type == "boolean":
            return lambda raw: "" if raw is None else ("true" if raw else "false")
        return lambda raw: "" if raw is None else (neutralise(raw) if isinstance(raw, str) else raw)

    if f.type == "array":
        return lambda raw: load(raw) or []
    if f.type == "object":
        return load if fmt == "jsonl" else as_text  # Parquet: JSON text, as in CSV
    if f.type == "boolean":
        return lambda raw: None if raw is None else bool(raw)
    if fmt == "parquet" and f.type == "datetime":
        return lambda raw: None if raw is None else _parse_datetime(raw, where)
    if fmt == "parquet" and f.type == "date":
        return lambda raw: None if raw is None else _parse_date(raw, where)
    return lambda raw: raw


# --- writers -----------------------------------------------------------------------------


class _Writer(Protocol):
    def write(self, cells: Sequence[Any]) -> None: ...

    def close(self) -> None: ...


class _CsvWriter:
    def __init__(self, path: Path, fields: Sequence[Field], resource: str) -> None:
        self.file = path.open("w", encoding="utf-8", newline="", buffering=WRITE_BUFFER)
        self.writer = csv.writer(self.file)  # RFC 4180: comma, double quotes, CRLF
        self.writer.writerow([f.name for f in fields])
        self.write = self.writer.writerow  # type: ignore[method-assign]

    def write(self, cells: Sequence[Any]) -> None:  # replaced by the csv writer's own method
        self.writer.writerow(cells)

    def close(self) -> None:
        self.file.close()


class _JsonlWriter:
    def __init__(self, path: Path, fields: Sequence[Field], resource: str) -> None:
        self.names = [f.name for f in fields]
        self.file = path.open("w", encoding="utf-8", newline="\n", buffering=WRITE_BUFFER)
        self.encode = json.JSONEncoder(ensure_ascii=False).encode

    def write(self, cells: Sequence[Any]) -> None:
        self.file.write(self.encode(dict(zip(self.names, cells, strict=True))) + "\n")

    def close(self) -> None:
        self.file.close()


def import_pyarrow() -> tuple[Any, Any]:
    """pyarrow and pyarrow.parquet, imported only when Parquet is asked for."""
    try:
        import pyarrow
        import pyarrow.parquet
    except ImportError:
        raise ExportError(
            "--format parquet needs pyarrow, which is not installed: pip install pyarrow==26.0.1 "
            "(or export --format csv or jsonl)"
        ) from None
    return pyarrow, pyarrow.parquet


class _ParquetWriter:
    def __init__(self, path: Path, fields: Sequence[Field], resource: str) -> None:
        self.pa, self.pq = import_pyarrow()
        pa = self.pa
        types = {
            "string": pa.string(), "number": pa.float64(), "integer": pa.int64(), "boolean": pa.bool_(),
            "array": pa.list_(pa.string()), "object": pa.string(),  # JSON text, as in CSV
            "datetime": pa.timestamp("us", tz="UTC"), "date": pa.date32(),
        }
        self.schema = pa.schema([pa.field(f.name, types[f.type]) for f in fields])
        self.writer = self.pq.ParquetWriter(str(path), self.schema, compression="zstd")
        self.rows: list[Sequence[Any]] = []

    def write(self, cells: Sequence[Any]) -> None:
        self.rows.append(cells)
        if len(self.rows) >= PARQUET_BATCH:
            self._flush()

    def _flush(self) -> None:
        if self.rows:
            columns = [list(col) for col in zip(*self.rows, strict=True)]
            self.writer.write_table(self.pa.Table.from_arrays(columns, schema=self.schema))
            self.rows = []

    def close(self) -> None:
        self._flush()
        self.writer.close()


_WRITERS: dict[str, Callable[[Path, Sequence[Field], str], _Writer]] = {
    "csv": _CsvWriter, "jsonl": _JsonlWriter, "parquet": _ParquetWriter,
}


def _write_resource(
    rows: Iterable[Sequence[Any]], path: Path, spec: Resource, fmt: str, include_text: bool,
    positions: Sequence[int] | None = None, each: Callable[[Sequence[Any]], None] | None = None,
) -> int:
    """Write the archive rows of one resource; ``positions`` picks the exported columns of each row."""
    fields = spec.fields_for(include_text)
    convert = [_converter(spec.name, f, fmt, include_text) for f in fields]
    if positions is None:
        positions = range(len(fields))
    pairs = list(zip(positions, convert, strict=True))
    writer = _WRITERS[fmt](path, fields, spec.name)
    n = 0
    try:
        for raw in rows:
            writer.write([conv(raw[i]) for i, conv in pairs])
            n += 1
            if each is not None:
                each(raw)
    finally:
        writer.close()
    return n


# --- the export --------------------------------------------------------------------------


@dataclass
class ExportResult:
    out_dir: Path
    format: str
    rows: dict[str, int]  # resource -> rows written
    files: list[str]  # every file written, SHA256SUMS last
    by_language: dict[str, int] = field(default_factory=dict)
    by_event: dict[str, int] = field(default_factory=dict)  # tagged, primary or not
    by_primary_event: dict[str, int] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)  # e.g. a filter naming an event the archive lacks

    @property
    def articles(self) -> int:
        return self.rows.get("articles", 0)


class _Stats:
    """Counts and spans of the exported articles, for the codebook (from the archive's values)."""

    def __init__(self, column: Mapping[str, int]) -> None:
        self.column = column
        self.by_language: Counter[str] = Counter()
        self.by_event: Counter[str] = Counter()
        self.by_primary_event: Counter[str] = Counter()
        self.published: list[str] = []  # [min, max]
        self.fetched: list[str] = []
        self.undated = 0

    def add(self, raw: Sequence[Any]) -> None:
        col = self.column
        self.by_language[raw[col["language"]] or "und"] += 1
        self.by_primary_event[raw[col["primary_event"]] or "(none)"] += 1
        for event in json.loads(raw[col["events"]] or "[]"):
            self.by_event[event] += 1
        if published := raw[col["published"]]:
            _widen(self.published, published)
        else:
            self.undated += 1
        if fetched := raw[col["fetched_at"]]:
            _widen(self.fetched, fetched)


def _widen(span: list[str], value: str) -> None:
    if not span:
        span[:] = [value, value]
    else:
        span[0], span[1] = min(span[0], value), max(span[1], value)


def _connect(db_path: Path) -> sqlite3.Connection:
    if not db_path.is_file():
        raise FileNotFoundError(f"no archive at {db_path}; run `reaim demo` or `reaim crawl` first")
    conn = sqlite3.connect(f"{db_path.resolve().as_uri()}?mode=ro", uri=True, isolation_level=None)
    try:
        tables = {r[0] for r in conn.execute("select name from sqlite_master where type = 'table'")}
    except sqlite3.Error as exc:
        conn.close()
        raise ExportError(f"{db_path}: {exc}") from None
    missing = {"articles", "article_events", "article_themes", "events", "themes"} - tables
    if missing:
        conn.close()
        raise ExportError(f"{db_path} is not a reaim archive (no table {', '.join(sorted(missing))})")
    return conn


def _check_columns(cursor: sqlite3.Cursor, fields: Sequence[Field]) -> None:
    got = [d[0] for d in cursor.description]
    want = [f.name for f in fields]
    if got != want:
        raise ExportError(
            f"archive/metadata.yml: query {ARTICLES_QUERY!r} returns columns {got}, the export describes {want}; "
            "keep the query and archive/export.py in step"
        )


def export_archive(
    db_path: str | Path,
    out_dir: str | Path,
    *,
    fmt: str = "csv",
    filters: ArticleFilters | None = None,
    include_text: bool = True,
    progress: Progress | None = None,
) -> ExportResult:
    """Export the relevant articles selected by ``filters`` into ``out_dir`` (created if needed).

    Files of an earlier export in the same folder are replaced; a file
    of an earlier export in another format is removed, so that the folder,
    its datapackage.json and its SHA256SUMS always describe one export.
    Other files in the folder are left alone (and not checksummed).
    """
    if fmt not in FORMATS:
        raise ExportError(f"unknown format {fmt!r}; choose one of {', '.join(FORMATS)}")
    if fmt == "parquet":
        import_pyarrow()  # fail before anything is written
    filters = filters or ArticleFilters()
    db_path = Path(db_path)
    out = Path(out_dir).expanduser().resolve()
    if out.exists() and not out.is_dir():
        raise ExportError(f"--out {out} exists and is not a folder")
    specs = resources()
    sql, params = article_selection(filters)

    conn = _connect(db_path)  # before the folder is made: a bad --db leaves nothing behind
    staging: Path | None = None
    try:
        out.mkdir(parents=True, exist_ok=True)
        # Everything is written here first, then moved into place file by file
        # (a rename): an interrupted export leaves the previous files whole.
        staging = Path(tempfile.mkdtemp(prefix=".reaim-export-", dir=out))
        conn.execute("begin")  # one snapshot for every read below
        rows: dict[str, int] = {}
        files: list[str] = []

        # articles: the shared selection, streamed
        art = specs[0]
        # the selection once more, counted, for the progress display only
        total = conn.execute(f"select count(*) from ({sql})", params).fetchone()[0] if progress else 0
        cursor = conn.execute(sql, params)
        _check_columns(cursor, art.fields)
        column = {f.name: i for i, f in enumerate(art.fields)}
        stats = _Stats(column)
        ids: list[tuple[str, int]] = []
        id_at = column["id"]

        def each(raw: Sequence[Any]) -> None:
            stats.add(raw)
            ids.append((raw[id_at], len(ids)))
            if progress and len(ids) % PROGRESS_EVERY == 0:
                progress(len(ids), total)

        name = f"{art.name}.{fmt}"
        positions = [column[f.name] for f in art.fields_for(include_text)]
        rows[art.name] = _write_resource(cursor, staging / name, art, fmt, include_text, positions, each)
        files.append(name)
        if progress:
            progress(len(ids), total)
        # ord is the rowid: a scan of export_ids is in export order, with no sort
        conn.execute("create temp table export_ids (ord integer primary key, id text not null unique)")
        conn.executemany("insert into temp.export_ids (id, ord) values (?, ?)", ids)

        # tags of those articles, and the taxonomy
        for spec in specs[1:]:
            name = f"{spec.name}.{fmt}"
            rows[spec.name] = _write_resource(
                conn.execute(_RELATED_SQL[spec.name]), staging / name, spec, fmt, include_text
            )
            files.append(name)

        facts = _archive_facts(conn)
        warnings = _unknown_filter_values(conn, filters)
        conn.execute("rollback")

        result = ExportResult(
            out, fmt, rows, [], dict(_ranked(stats.by_language)), dict(_ranked(stats.by_event)),
            dict(_ranked(stats.by_primary_event)), warnings,
        )
        context = _Context(db_path.stem, fmt, filters, include_text, sql, params, specs, rows, stats, facts)
        (staging / DATAPACKAGE).write_text(_datapackage(context, staging), encoding="utf-8", newline="\n")
        (staging / CODEBOOK).write_text(_codebook(context), encoding="utf-8", newline="\n")
        files += [DATAPACKAGE, CODEBOOK]
        (staging / CHECKSUMS).write_text(
            "".join(f"{sha256_file(staging / f)}  {f}\n" for f in files), encoding="utf-8", newline="\n"
        )
        files.append(CHECKSUMS)

        _remove_stale(out, fmt, specs)
        for f in files:
            os.replace(staging / f, out / f)
        result.files = files
        return result
    except sqlite3.Error as exc:
        raise ExportError(f"{db_path}: {exc}") from None
    finally:
        conn.close()
        if staging is not None:
            shutil.rmtree(staging, ignore_errors=True)


def _unknown_filter_values(conn: sqlite3.Connection, filters: ArticleFilters) -> list[str]:
    """Filter values the archive has never seen: most likely a typo, worth a warning."""
    checks = [
        ("event", filters.event, "select 1 from events where id = ?"),
        ("theme", filters.theme, "select 1 from themes where id = ?"),
        ("language", filters.language, "select 1 from articles where language = ? and relevant = 1 limit 1"),
    ]
    return [
        f"no {what} {value!r} in the archive"
        for what, value, sql in checks
        if value and not conn.execute(sql, [value]).fetchall()
    ]


def _remove_stale(out: Path, fmt: str, specs: Sequence[Resource]) -> None:
    """Data files an earlier export in another format left (fixed names only)."""
    for spec in specs:
        for other in FORMATS:
            path = out / f"{spec.name}.{other}"
            if other != fmt and (path.is_file() or path.is_symlink()):
                path.unlink()


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _ranked(counter: Mapping[str, int]) -> list[tuple[str, int]]:
    return sorted(counter.items(), key=lambda kv: (-kv[1], kv[0]))


# --- facts about the archive for the codebook ----------------------------------------------


def _archive_facts(conn: sqlite3.Connection) -> dict[str, Any]:
    def all_rows(sql: str) -> list[tuple[Any, ...]]:
        return conn.execute(sql).fetchall()

    facts: dict[str, Any] = {
        "events": all_rows("select id, label from events order by start_date, id"),
        "tag_versions": all_rows(
            "select coalesce(taxonomy_version, '(unknown)'), sum(n) from ("
            " select ae.taxonomy_version, count(*) n"
            " from temp.export_ids x cross join article_events ae on ae.article_id = x.id group by 1 union all"
            " select at.taxonomy_version, count(*)"
            " from temp.export_ids x cross join article_themes at on at.article_id = x.id group by 1"
            ") group by 1 order by 1"
        ),
        "taxonomy_versions": [
            r[0] for r in all_rows(
                "select distinct coalesce(taxonomy_version, '(unknown)') from "
                "(select taxonomy_version from events union all select taxonomy_version from themes) order by 1"
            )
        ],
        "archive_articles": all_rows("select count(*) from articles where relevant = 1")[0][0],
        "runs": None,
    }
    tables = {r[0] for r in all_rows("select name from sqlite_master where type = 'table'")}
    if "crawl_runs" in tables:
        facts["runs"] = all_rows("select count(*), min(started), max(coalesce(ended, started)) from crawl_runs")[0]
    return facts


@dataclass
class _Context:
    db_name: str
    fmt: str
    filters: ArticleFilters
    include_text: bool
    sql: str
    params: dict[str, str]
    specs: tuple[Resource, ...]
    rows: dict[str, int]
    stats: _Stats
    facts: dict[str, Any]

    def command(self) -> str:
        parts = ["reaim", "export", "--format", self.fmt]
        for key, value in self.filters.active().items():
            parts += [f"--{key}", shlex.quote(value)]
        if not self.include_text:
            parts.append("--no-text")
        return " ".join(parts + ["--out", "DIR"])

    def datasette_path(self) -> str:
        query = urlencode(self.filters.active())
        return f"/{self.db_name}/{ARTICLES_QUERY}" + (f"?{query}" if query else "")


# --- datapackage.json --------------------------------------------------------------------------


def _schema(spec: Resource, fmt: str, include_text: bool) -> dict[str, Any]:
    fields = []
    for f in spec.fields_for(include_text):
        entry: dict[str, Any] = {"name": f.name, "type": f.type, "description": f.description}
        if f.type == "array" and fmt == "csv":
            entry.update({"type": "list", "delimiter": ";", "itemType": "string"})
        fields.append(entry)
    schema: dict[str, Any] = {"fields": fields, "primaryKey": list(spec.primary_key)}
    if spec.foreign_keys:
        schema["foreignKeys"] = [
            {"fields": [own], "reference": {"resource": res, "fields": [theirs]}}
            for own, res, theirs in spec.foreign_keys
        ]
    return schema


def _datapackage(ctx: _Context, folder: Path) -> str:
    meta = metadata()
    resources_out = []
    for spec in ctx.specs:
        path = f"{spec.name}.{ctx.fmt}"
        res: dict[str, Any] = {
            "name": spec.name,
            "title": spec.title,
            "description": spec.description,
            "path": path,
            "profile": "tabular-data-resource",
            "format": ctx.fmt,
            "mediatype": MEDIATYPES[ctx.fmt],
        }
        if ctx.fmt != "parquet":
            # Frictionless checks these while it reads a text file; it reads Parquet through
            # pyarrow and cannot, so there SHA256SUMS alone covers the bytes.
            res["encoding"] = "utf-8"
            res["bytes"] = (folder / path).stat().st_size
            res["hash"] = "sha256:" + sha256_file(folder / path)
        res["schema"] = _schema(spec, ctx.fmt, ctx.include_text)
        resources_out.append(res)
    package = {
        "profile": "tabular-data-package",
        "name": "reaim-news-archive-export",
        "title": "REAIM news archive export",
        "description": "News coverage of the REAIM summits (Responsible AI in the Military Domain) and related "
        "events, crawled, language-detected, translated into English and tagged by event and theme. "
        "See README.md for the codebook.",
        "keywords": ["REAIM", "military AI", "news", "multilingual"],
        "licenses": [
            {
                "name": "CC-BY-4.0",
                "path": meta.get("license_url", "https://creativecommons.org/licenses/by/4.0/"),
                "title": "Metadata and tags: CC BY 4.0. Article texts and titles remain the publishers' copyright.",
            }
        ],
        "sources": [{"title": meta.get("source", "reaim-tracker"), "path": meta.get("source_url", "")}],
        "resources": resources_out,
        "reaim": {
            "query": ARTICLES_QUERY,
            "filters": ctx.filters.active(),
            "include_text": ctx.include_text,
            "taxonomy_versions": ctx.facts["taxonomy_versions"],
            "rows": ctx.rows,
        },
    }
    return json.dumps(package, ensure_ascii=False, indent=2) + "\n"


# --- README.md (the codebook) ------------------------------------------------------------------


def _md(value: Any) -> str:
    """A markdown table cell."""
    return str(value).replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ")


def _table(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(_md(c) for c in row) + " |" for row in rows]
    return lines


def _span(span: list[str]) -> str:
    return f"{span[0]} to {span[1]}" if span else "(none)"


def _codebook(ctx: _Context) -> str:
    meta = metadata()
    stats, facts, rows = ctx.stats, ctx.facts, ctx.rows
    n = rows["articles"]
    filters = ctx.filters.active()
    out = [
        "# REAIM news archive export",
        "",
        f"{n} relevant article(s) from the archive `{ctx.db_name}` "
        f"({facts['archive_articles']} relevant in all), as {ctx.fmt.upper()}, written by `reaim export` "
        "(reaim-tracker). This file is the codebook; `datapackage.json` describes the same files as a "
        "[Frictionless Data Package](https://specs.frictionlessdata.io/data-package/) and `SHA256SUMS` "
        "checks them (`sha256sum -c SHA256SUMS`).",
        "",
        "## Selection",
        "",
        "Command: `" + ctx.command() + "`",
        "",
    ]
    if filters:
        out += ["Filters:", ""]
        notes = {
            "event": "articles tagged with this event (primary or not)",
            "theme": "articles tagged with this theme",
            "language": "articles in this language",
            "since": "published on or after this day (UTC); undated articles left out",
            "until": "published on or before this day (UTC); undated articles left out",
        }
        out += [f"- `{k}` = `{v}`: {notes[k]}" for k, v in filters.items()]
    else:
        out += ["Filters: none (every relevant article in the archive)."]
    out += [
        "",
        "Text: " + ("included (`text`, `text_en`)." if ctx.include_text else
                    "left out (`--no-text`): no `text` or `text_en` column, and no `snippet` in the evidence."),
        "",
        f"The articles are the rows of the canned query `{ARTICLES_QUERY}` in the archive's Datasette "
        f"(`reaim serve`, then `{ctx.datasette_path()}`), run with these bound parameters:",
        "",
        "```json",
        json.dumps(ctx.params, ensure_ascii=False, sort_keys=True),
        "```",
        "",
        "```sql",
        ctx.sql,
        "```",
        "",
        "The tag files hold the tags of these articles only; `events` and `themes` hold the whole taxonomy.",
        "",
        "## Period",
        "",
        f"- Published: {_span(stats.published)}" + (f" ({stats.undated} without a date)" if stats.undated else ""),
        f"- Fetched: {_span(stats.fetched)}",
    ]
    runs = facts.get("runs")
    if runs and runs[0]:
        out.append(f"- Crawl runs recorded in the archive: {runs[0]}, from {runs[1]} to {runs[2]}")
    out += ["", "All times are UTC (ISO 8601).", "", "## Counts", "", "### By language", ""]
    out += _table(["language", "articles"], _ranked(stats.by_language)) if n else ["(no articles)"]
    out += ["", "### By event", "", "Tagged: articles tagged with the event; primary: articles whose main event it is.", ""]
    event_rows = [(eid, label, stats.by_event.get(eid, 0), stats.by_primary_event.get(eid, 0))
                  for eid, label in facts["events"]]
    if stats.by_primary_event.get("(none)"):
        event_rows.append(("(none)", "no event tagged", 0, stats.by_primary_event["(none)"]))
    out += _table(["event", "label", "tagged", "primary"], event_rows)
    out += ["", "## Taxonomy", ""]
    out.append("Events and themes tables: taxonomy version " + ", ".join(facts["taxonomy_versions"]) + ".")
    if facts["tag_versions"]:
        out.append("Tags in this export made with: " + ", ".join(
            f"{v} ({c} tags)" for v, c in facts["tag_versions"]) + ".")
    if len(facts["tag_versions"]) > 1:
        out.append("More than one version: tags of different versions are not strictly comparable.")
    out += ["", ENDORSEMENTS_NOTE, "", "## Files", ""]
    files = [(f"{s.name}.{ctx.fmt}", rows[s.name], s.description) for s in ctx.specs]
    files += [(DATAPACKAGE, "", "Frictionless Data Package: the schema of every file, with size and SHA-256."),
              (CODEBOOK, "", "This codebook."),
              (CHECKSUMS, "", "SHA-256 of every other file, for `sha256sum -c SHA256SUMS`.")]
    out += _table(["file", "rows", "content"], files)
    out += ["", "## Format", ""] + _format_notes(ctx.fmt)
    out += ["", "## Fields", ""]
    for spec in ctx.specs:
        out += [f"### {spec.name}.{ctx.fmt}", "", spec.description, ""]
        shown = [(f.name, _type_label(f, ctx.fmt), f.description) for f in spec.fields_for(ctx.include_text)]
        out += _table(["field", "type", "description"], shown)
        out += ["", "Key: " + ", ".join(spec.primary_key) + "."]
        if spec.foreign_keys:
            out.append("References: " + "; ".join(f"{a} -> {r}.{b}" for a, r, b in spec.foreign_keys) + ".")
        out.append("")
    out += [
        "## Licence",
        "",
        f"Metadata and tags: {meta.get('license', 'CC BY 4.0')} ({meta.get('license_url', '')}). "
        "The articles' texts, titles and the snippets in the evidence remain the copyright of their "
        "publishers: they are in this export for research (text and data mining) and are not "
        "licensed for republication. To share an export, make it with `--no-text`: it keeps the "
        "URLs, metadata, titles and tags and leaves out `text`, `text_en` and the evidence snippets. "
        "Titles are short and usually fine to cite, but check before publishing them in bulk.",
        "",
    ]
    return "\n".join(out)


def _type_label(f: Field, fmt: str) -> str:
    if f.type == "array":
        return "list of strings (';'-joined)" if fmt == "csv" else "list of strings"
    if f.type == "object":
        return "JSON object" + (" (as JSON text)" if fmt != "jsonl" else "")
    if f.type == "datetime":
        return "datetime (UTC)" if fmt == "parquet" else "datetime (ISO 8601, UTC)"
    return f.type


def _format_notes(fmt: str) -> list[str]:
    if fmt == "csv":
        return [
            "UTF-8 without a byte-order mark, comma-separated, fields quoted with `\"` where needed, CRLF "
            "line ends (RFC 4180); texts keep their line breaks inside quoted fields. Empty cell: null. "
            "Lists are joined with `;`; JSON objects are JSON text; booleans are `true`/`false`.",
            "",
            "Formula injection: a text cell that starts with `=`, `+`, `-`, `@`, a tab or a carriage "
            "return is written with a leading `'` so that a spreadsheet shows it instead of running it. "
            "Strip that one character to get the original value (the JSONL and Parquet exports are not "
            "changed this way). Spreadsheets may need the file imported as UTF-8 to show non-Latin scripts.",
        ]
    if fmt == "jsonl":
        return [
            "JSON Lines, UTF-8: one JSON object per line, keys in the order of the fields below; null for "
            "a missing value, arrays for lists, objects for JSON objects.",
        ]
    return [
        "Apache Parquet (zstd-compressed), written with pyarrow. Datetimes are timestamps in UTC "
        "(microseconds), dates are dates, lists are lists of strings, JSON objects are JSON text (strings).",
    ]


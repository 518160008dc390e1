"""Serving the archive in Datasette: configured through metadata, not forked.

``serve_command`` builds the ``datasette serve`` command line that ``reaim
serve`` runs; ``datasette_app`` builds the same server in-process (tests).
Both take their settings from :func:`datasette_settings`, so the two never
drift apart:

* read-only: the file is opened as Datasette opens any mutable database
  (``mode=ro``), never immutable (``-i``): a crawl may still be writing it;
* ``allow_download`` off (the whole file is not handed out), time limits on
  SQL and facets; no suggested facets (each is one more query per page view);
* ``public``: arbitrary SQL off for anonymous users (``default_allow_sql``;
  the saved queries, tables, facets, article pages and charts stay), fewer
  rows per page, no streamed CSV of whole tables.

The article page and the charts need the plugin's templates and static files
(archive/templates, archive/static), passed as ``--template-dir`` and a
``--static`` mount.
"""

from __future__ import annotations

import hashlib
import json
import sys
import tempfile
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

METADATA_DB_KEY = "reaim"
# Mount point of archive/static; archive/datasette_plugin.py builds its URLs from it.
STATIC_MOUNT = "-/reaim-static"

SETTINGS: dict[str, Any] = {
    "sql_time_limit_ms": 3000,
    "facet_time_limit_ms": 1000,
    "allow_download": False,
    # Datasette tries every column of a table as a facet on each page view (50 ms each): 3-4 s per
    # articles page at 100k articles (docs/archive-scale.md). The metadata's facets stay.
    "suggest_facets": False,
}
PUBLIC_SETTINGS: dict[str, Any] = {
    "default_allow_sql": False,  # anonymous users: no arbitrary SQL; saved queries still run
    "sql_time_limit_ms": 2000,
    "facet_time_limit_ms": 1000,
    "max_returned_rows": 500,
    "allow_csv_stream": False,  # ?_stream=1 would ignore max_returned_rows
    "max_csv_mb": 20,
}


def package_dir(name: str) -> Path:
    """archive/<name> as a real directory (templates, static)."""
    return Path(str(resources.files("archive") / name))


def templates_dir() -> Path:
    return package_dir("templates")


def static_dir() -> Path:
    return package_dir("static")


def datasette_settings(public: bool = False) -> dict[str, Any]:
    return {**SETTINGS, **(PUBLIC_SETTINGS if public else {})}


def _setting_arg(value: Any) -> str:
    if isinstance(value, bool):
        return "on" if value else "off"
    return str(value)


def metadata_for(db_path: Path) -> dict[str, Any]:
    """The packaged metadata, keyed to this database file's name."""
    text = (resources.files("archive") / "metadata.yml").read_text(encoding="utf-8")
    meta: dict[str, Any] = yaml.safe_load(text)
    name = db_path.stem
    if name != METADATA_DB_KEY:
        databases = meta.get("databases", {})
        databases[name] = databases.pop(METADATA_DB_KEY)
        meta["description_html"] = meta.get("description_html", "").replace(f"/{METADATA_DB_KEY}/", f"/{name}/")
        for item in [*databases[name].get("queries", {}).values(), *databases[name].get("tables", {}).values()]:
            if "description_html" in item:
                item["description_html"] = item["description_html"].replace(f"/{METADATA_DB_KEY}/", f"/{name}/")
    return meta


def write_metadata(db_path: Path) -> Path:
    """The metadata for ``db_path`` as a file Datasette can read: one fixed file per
    archive in the temp folder, rewritten on each call (a new folder per call
    left hundreds behind)."""
    key = hashlib.sha256(str(Path(db_path).resolve()).encode("utf-8")).hexdigest()[:16]
    out = Path(tempfile.gettempdir()) / f"reaim-datasette-{key}.json"
    out.write_text(json.dumps(metadata_for(db_path), ensure_ascii=False, indent=2), encoding="utf-8")
    return out


def serve_command(db_path: Path, *, port: int = 8001, public: bool = False, extra: list[str] | None = None) -> list[str]:
    """The datasette command line for this archive.

    The live file is never opened immutable (-i): a crawl may still be writing
    it, and immutable mode would then return wrong results.
    """
    cmd = [
        sys.executable, "-m", "datasette", "serve", str(db_path),
        "--metadata", str(write_metadata(db_path)),
        "--host", "127.0.0.1", "--port", str(port),
        "--template-dir", str(templates_dir()),
        "--static", f"{STATIC_MOUNT}:{static_dir()}",
    ]
    for name, value in datasette_settings(public).items():
        cmd += ["--setting", name, _setting_arg(value)]
    return cmd + list(extra or [])


def datasette_app(db_path: Path, *, public: bool = False) -> Any:
    """The same server as :func:`serve_command`, in-process (``app.client.get`` in tests)."""
    from datasette.app import Datasette

    return Datasette(
        files=[str(db_path)],
        metadata=metadata_for(db_path),
        template_dir=str(templates_dir()),
        static_mounts=[(STATIC_MOUNT, str(static_dir()))],
        settings=datasette_settings(public),
    )

"""Serving the archive in Datasette: configured through metadata, not forked."""

from __future__ import annotations

import json
import sys
import tempfile
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

METADATA_DB_KEY = "reaim"


def metadata_for(db_path: Path) -> dict[str, Any]:
    """The packaged metadata, keyed to this database file's name."""
    text = (resources.files("archive") / "metadata.yml").read_text(encoding="utf-8")
    meta: dict[str, Any] = yaml.safe_load(text)
    name = db_path.stem
    if name != METADATA_DB_KEY:
        databases = meta.get("databases", {})
        databases[name] = databases.pop(METADATA_DB_KEY)
        meta["description_html"] = meta.get("description_html", "").replace(f"/{METADATA_DB_KEY}/", f"/{name}/")
    return meta


def write_metadata(db_path: Path) -> Path:
    out = Path(tempfile.mkdtemp(prefix="reaim-datasette-")) / "metadata.json"
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
        "--setting", "sql_time_limit_ms", "3000",
        "--setting", "facet_time_limit_ms", "1000",
        "--setting", "allow_download", "off",
    ]
    if public:
        cmd += ["--setting", "default_allow_sql", "off", "--setting", "max_returned_rows", "500"]
    return cmd + list(extra or [])

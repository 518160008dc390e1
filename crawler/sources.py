"""The source registry: what to crawl, as data (``crawler/sources.yaml``)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

KINDS = ("rss", "atom", "sitemap", "section", "gdelt", "google_news")
# Discovery services: ``urls`` is optional (their public endpoint), ``query`` required.
SERVICE_KINDS = ("gdelt", "google_news")
SERVICE_REQUIRED = {"gdelt": ("query",), "google_news": ("query", "hl", "gl", "ceid")}
_ID = re.compile(r"^[a-z0-9][a-z0-9-]*$")


class SourceError(ValueError):
    """A sources file that cannot be used; the message names the file and entry."""


@dataclass(frozen=True)
class Source:
    id: str
    name: str
    language: str
    kind: str
    urls: tuple[str, ...]
    country: str | None = None
    timezone: str | None = None
    allow: tuple[str, ...] = ()
    deny: tuple[str, ...] = ()
    follow: tuple[str, ...] = ()
    max_depth: int = 1
    updates: bool = False
    extra: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id, "name": self.name, "language": self.language, "country": self.country,
            "timezone": self.timezone, "kind": self.kind, "urls": list(self.urls), "updates": self.updates,
        }


def default_sources_path() -> Path:
    return Path(str(resources.files("crawler") / "sources.yaml"))


def _strings(value: Any, where: str, key: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return tuple(value)
    raise SourceError(f"{where}: {key!r} must be a string or a list of strings")


def load_sources(
    path: str | Path | None = None, *, only: list[str] | None = None, site: str | None = None
) -> list[Source]:
    """Read and check a sources file; ``site`` replaces ``{site}`` in URLs (the demo)."""
    path = Path(path) if path else default_sources_path()
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise SourceError(f"no sources file at {path}") from None
    except yaml.YAMLError as exc:
        raise SourceError(f"{path}: not valid YAML: {exc}") from None
    entries = data.get("sources") if isinstance(data, dict) else data
    if not isinstance(entries, list):
        raise SourceError(f"{path}: expected a list of sources")
    sources: list[Source] = []
    seen: set[str] = set()
    for n, entry in enumerate(entries, 1):
        where = f"{path}: source #{n}"
        if not isinstance(entry, dict):
            raise SourceError(f"{where}: expected a mapping")
        sid = entry.get("id")
        if not isinstance(sid, str) or not _ID.match(sid):
            raise SourceError(f"{where}: 'id' must match {_ID.pattern}")
        where = f"{path}: source {sid!r}"
        if sid in seen:
            raise SourceError(f"{where}: duplicate id")
        seen.add(sid)
        kind = entry.get("kind")
        if kind not in KINDS:
            raise SourceError(f"{where}: kind {kind!r} is not one of {', '.join(KINDS)}")
        for key in ("name", "language"):
            if not isinstance(entry.get(key), str):
                raise SourceError(f"{where}: {key!r} is required")
        urls = _strings(entry.get("urls") or entry.get("url"), where, "urls")
        if kind in SERVICE_KINDS:
            from crawler.discovery import GDELT_DOC_URL, GOOGLE_NEWS_SEARCH_URL

            urls = urls or ((GDELT_DOC_URL,) if kind == "gdelt" else (GOOGLE_NEWS_SEARCH_URL,))
            for key in SERVICE_REQUIRED[kind]:
                if not isinstance(entry.get(key), str) or not entry[key].strip():
                    raise SourceError(f"{where}: {key!r} is required for kind {kind}")
        if not urls:
            raise SourceError(f"{where}: at least one URL is required")
        if site is not None:
            urls = tuple(u.replace("{site}", site.rstrip("/")) for u in urls)
        for pattern in (*_strings(entry.get("allow"), where, "allow"), *_strings(entry.get("deny"), where, "deny")):
            try:
                re.compile(pattern)
            except re.error as exc:
                raise SourceError(f"{where}: bad pattern {pattern!r}: {exc}") from None
        known = {"id", "name", "language", "kind", "urls", "url", "country", "timezone", "allow",
                 "deny", "follow", "max_depth", "updates"}
        sources.append(
            Source(
                id=sid, name=entry["name"], language=entry["language"], kind=kind, urls=urls,
                country=entry.get("country"), timezone=entry.get("timezone"),
                allow=_strings(entry.get("allow"), where, "allow"),
                deny=_strings(entry.get("deny"), where, "deny"),
                follow=_strings(entry.get("follow"), where, "follow"),
                max_depth=int(entry.get("max_depth", 1)), updates=bool(entry.get("updates", False)),
                extra={k: v for k, v in entry.items() if k not in known},
            )
        )
    if only:
        unknown = sorted(set(only) - seen)
        if unknown:
            raise SourceError(f"{path}: no source with id {', '.join(unknown)}")
        sources = [s for s in sources if s.id in only]
    return sources

"""The bundled sample news site: fictional outlets served on 127.0.0.1 for ``reaim demo`` and the tests.

``server.SampleSite`` serves it; ``site.yaml`` lists every path, ``sources.yaml``
is the demo's source registry, ``expected.yaml`` is the ground truth. See README.md.
"""

from __future__ import annotations

from pathlib import Path

SITE_DIR = Path(__file__).resolve().parent


def sources_path() -> Path:
    """The demo's sources file (``{site}`` in its URLs is the running site's base URL)."""
    return SITE_DIR / "sources.yaml"


def expected_path() -> Path:
    """The ground truth: one entry per article page, plus the non-article pages."""
    return SITE_DIR / "expected.yaml"

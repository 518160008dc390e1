"""Canonical URLs: one article reached under many URL variants is one key."""

from __future__ import annotations

import pytest

from crawler.urls import canonicalize, is_amp, same_site

CANONICAL = "https://www.diario.example/2026/02/05/solo-35-paises.html"
EXPECTED = "https://diario.example/2026/02/05/solo-35-paises.html"


@pytest.mark.parametrize(
    "variant",
    [
        CANONICAL,
        "https://diario.example/2026/02/05/solo-35-paises.html",
        "https://m.diario.example/2026/02/05/solo-35-paises.html",
        "HTTPS://WWW.Diario.Example:443/2026/02/05/solo-35-paises.html#comentarios",
        "https://www.diario.example/2026/02/05/solo-35-paises.html?utm_source=rss&utm_medium=feed&utm_campaign=x",
        "https://www.diario.example/2026/02/05/solo-35-paises.html?fbclid=IwAR0abc&gclid=xyz",
        "https://www.diario.example/amp/2026/02/05/solo-35-paises.html",
        "https://amp.diario.example/2026/02/05/solo-35-paises.html?outputType=amp",
    ],
)
def test_eight_variants_of_one_article_share_one_key(variant: str) -> None:
    assert canonicalize(variant) == EXPECTED


def test_meaningful_query_parameters_are_kept_and_sorted() -> None:
    assert canonicalize("https://news.example/view.php?no=42&id=7&utm_source=x") == "https://news.example/view.php?id=7&no=42"
    assert canonicalize("https://news.example/view.php?id=7") != canonicalize("https://news.example/view.php?id=8")


def test_loopback_port_is_kept_and_non_http_is_untouched() -> None:
    assert canonicalize("http://127.0.0.1:8765/a.html?utm_medium=x") == "http://127.0.0.1:8765/a.html"
    assert canonicalize("mailto:desk@example.org") == "mailto:desk@example.org"


def test_amp_detection_and_site_comparison() -> None:
    assert is_amp("https://x.example/amp/2024/a.html") and is_amp("https://x.example/2024/a/amp")
    assert not is_amp("https://x.example/2024/camp-david.html")
    assert canonicalize("https://x.example/2024/camp-david.html") == "https://x.example/2024/camp-david.html"
    assert same_site("https://www.x.example/a", "https://m.x.example/b")
    assert not same_site("https://x.example/a", "https://wire.example/a")

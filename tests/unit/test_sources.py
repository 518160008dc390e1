from __future__ import annotations

from pathlib import Path

import pytest

from crawler.sources import KINDS, SourceError, load_sources


def test_packaged_sources_are_valid_and_cover_nine_languages() -> None:
    sources = load_sources()
    assert {s.kind for s in sources} <= set(KINDS)
    assert {"en", "ko", "es", "nl", "fr", "de", "zh", "ja", "ru"} <= {s.language for s in sources}
    assert len({s.id for s in sources}) == len(sources)


def test_every_kind_maps_to_a_spider_parser() -> None:
    from crawler.spiders.news import NewsSpider

    for kind in KINDS:
        method = {"rss": "parse_feed", "atom": "parse_feed", "sitemap": "parse_sitemap", "section": "parse_section",
                  "gdelt": "parse_gdelt", "google_news": "parse_google_news"}[kind]
        assert callable(getattr(NewsSpider, method))


def test_site_placeholder_and_filter(tmp_path: Path) -> None:
    path = tmp_path / "s.yaml"
    path.write_text(
        "- {id: a, name: A, language: en, kind: rss, urls: ['{site}/a.xml']}\n"
        "- {id: b, name: B, language: ko, kind: sitemap, urls: ['{site}/b.xml']}\n",
        encoding="utf-8",
    )
    sources = load_sources(path, only=["b"], site="http://127.0.0.1:9/")
    assert [s.urls for s in sources] == [("http://127.0.0.1:9/b.xml",)]


@pytest.mark.parametrize(
    "body, message",
    [
        ("- {id: a, name: A, language: en, kind: carrier-pigeon, urls: [x]}", "kind"),
        ("- {id: A!, name: A, language: en, kind: rss, urls: [x]}", "'id'"),
        ("- {id: a, name: A, language: en, kind: rss}", "URL"),
        ("- {id: a, name: A, language: en, kind: section, urls: [x], allow: ['(']}", "bad pattern"),
        ("- {id: a, name: A, language: en, kind: rss, urls: [x]}\n- {id: a, name: A, language: en, kind: rss, urls: [x]}", "duplicate"),
        (": not yaml :", "YAML"),
    ],
)
def test_bad_sources_files_name_the_problem(tmp_path: Path, body: str, message: str) -> None:
    path = tmp_path / "s.yaml"
    path.write_text(body, encoding="utf-8")
    with pytest.raises(SourceError, match=message):
        load_sources(path)


def test_unknown_source_id(tmp_path: Path) -> None:
    path = tmp_path / "s.yaml"
    path.write_text("- {id: a, name: A, language: en, kind: rss, urls: [x]}", encoding="utf-8")
    with pytest.raises(SourceError, match="no source with id zz"):
        load_sources(path, only=["zz"])

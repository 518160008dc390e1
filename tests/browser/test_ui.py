"""The archive as a researcher sees it: `reaim serve` on the demo archive, in headless Chromium.

The demo is crawled once per session (sample site and a LibreTranslate-compatible
translator, both on 127.0.0.1), one article with markup in its headline is
added, and the server is the `reaim serve` command line (archive.datasette.
serve_command) on a free loopback port. Chromium is Debian's, driven by its
chromedriver through selenium; every page must load nothing from another host.
Screenshots land in test-artifacts/screenshots/ (gitignored).

Skipped only when /usr/bin/chromium is missing (apt-get install chromium chromium-driver).
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from html import unescape
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

import pytest
import sqlite_utils

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "test-artifacts" / "screenshots"
LOOPBACK = {"127.0.0.1", "localhost", "::1", "[::1]"}

pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(),
    reason="/usr/bin/chromium is missing: apt-get install -y chromium chromium-driver",
)

XSS_ID = "xss-headline"
XSS_TITLE = "<script>alert(1)</script> REAIM summit headline with markup"
XSS_TEXT = ('Delegates met in Seoul for the REAIM summit on military AI.\n'
            '<img src="x" onerror="window.__xss = 1"> <b>not bold</b>')


# -- fixtures --------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def demo_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """`reaim demo --no-serve`, translated by a loopback LibreTranslate, plus one article with markup."""
    from archive.schema import open_db
    from archive.store import save_article
    from servers.libre import LibreServer

    db = tmp_path_factory.mktemp("ui") / "demo.db"
    with LibreServer() as libre:
        env = {**os.environ, "REAIM_TRANSLATOR": "libre", "REAIM_TRANSLATOR_URL": libre.url}
        proc = subprocess.run([sys.executable, "-m", "reaim.cli", "demo", "--no-serve", "--db", str(db)],
                              capture_output=True, text=True, timeout=600, env=env)
    assert proc.returncode == 0, proc.stdout + proc.stderr[-3000:]
    archive = open_db(db)
    save_article(archive, {
        "url": "javascript:window.__xss=2", "canonical_url": "javascript:window.__xss=2", "outlet": "<i>Markup</i> Post",
        "country": "GB", "language": "en", "title": XSS_TITLE, "text": XSS_TEXT, "relevant": True,
        "published": "2024-09-11T08:00:00+00:00", "primary_event": "reaim-2024", "events": ["reaim-2024"],
        "themes": [], "translation_status": "not_needed",
        "evidence": {"reaim-2024": {"score": 0.5, "terms": ["Seoul", "<b>"], "text": "original",
                                    "snippet": '<img src="x" onerror="window.__xss = 3"> Seoul'}},
    }, XSS_ID)
    archive.close()
    return db


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="session")
def server(demo_db: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """`reaim serve`'s command line (not public: the home page lists the SQL box too)."""
    from archive.datasette import serve_command

    port = _free_port()
    log = (tmp_path_factory.mktemp("ui-server") / "datasette.log").open("w")
    proc = subprocess.Popen(serve_command(demo_db, port=port), stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            with urllib.request.urlopen(base + "/-/versions.json", timeout=2) as response:
                if response.status == 200:
                    break
        except OSError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            log.close()
            pytest.fail(f"datasette did not start: {Path(log.name).read_text()[-3000:]}")
        time.sleep(0.2)
    yield base
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
    log.close()


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
    except ImportError:  # pragma: no cover - the test extra pins selenium
        pytest.fail("selenium is not installed: pip install -e '.[test]'")
    if not CHROMEDRIVER.exists():
        pytest.fail(f"{CHROMEDRIVER} is missing: apt-get install -y chromium-driver")
    # Selenium Manager is never run (the driver path is given); these keep it offline if it were.
    os.environ.setdefault("SE_OFFLINE", "true")
    os.environ.setdefault("SE_AVOID_STATS", "true")
    profile = tempfile.mkdtemp(prefix="reaim-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for arg in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--disable-dev-shm-usage", "--hide-scrollbars", "--lang=en-US", "--window-size=1366,900",
                # Nothing but loopback resolves, whatever a page asked for.
                "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE localhost, EXCLUDE 127.0.0.1",
                f"--user-data-dir={profile}"):
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    service = Service(executable_path=str(CHROMEDRIVER), log_output=os.path.join(profile, "chromedriver.log"))
    driver = webdriver.Chrome(service=service, options=options)
    driver.set_page_load_timeout(60)
    yield driver
    driver.quit()
    shutil.rmtree(profile, ignore_errors=True)


@pytest.fixture(scope="session")
def db_name(demo_db: Path) -> str:
    return demo_db.stem


@pytest.fixture(scope="session")
def archive(demo_db: Path) -> sqlite_utils.Database:
    return sqlite_utils.Database(demo_db)


# -- helpers ---------------------------------------------------------------------------------------


def visit(driver: Any, url: str) -> list[dict[str, Any]]:
    """Load ``url``; check it and everything it loaded came from loopback; return the console log."""
    driver.get_log("browser")
    driver.get(url)
    check_loopback_only(driver)
    return driver.get_log("browser")


def _remote_in_markup(html: str) -> list[str]:
    found = []
    pattern = r"""<(?:script|img|iframe)\b[^>]*\bsrc\s*=\s*["']?([^"'\s>]+)|<link\b[^>]*\bhref\s*=\s*["']?([^"'\s>]+)"""
    for groups in re.findall(pattern, html, re.I):
        url = unescape(next(g for g in groups if g))
        host = urlsplit(url).hostname
        if (url.startswith(("http:", "https:", "//"))) and host not in LOOPBACK:
            found.append(url)
    return found


def check_loopback_only(driver: Any) -> None:
    assert _remote_in_markup(driver.page_source) == [], driver.current_url
    loaded = driver.execute_script(
        "return performance.getEntriesByType('resource').map(e => e.name).concat([location.href])")
    remote = [u for u in loaded if urlsplit(u).scheme in ("http", "https") and urlsplit(u).hostname not in LOOPBACK]
    assert remote == [], f"{driver.current_url} loaded {remote}"


def errors(log: list[dict[str, Any]]) -> list[str]:
    return [e["message"] for e in log if e.get("level") == "SEVERE"]


def screenshot(driver: Any, name: str) -> Path:
    """A full-page PNG in test-artifacts/screenshots/."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    width, height = driver.get_window_size()["width"], driver.get_window_size()["height"]
    full = driver.execute_script("return Math.max(document.body.scrollHeight, document.documentElement.scrollHeight)")
    driver.set_window_size(width, min(max(int(full) + 40, 600), 8000))
    path = SCREENSHOTS / f"{name}.png"
    assert driver.save_screenshot(str(path)), path
    driver.set_window_size(width, height)
    return path


def body_text(driver: Any) -> str:
    from selenium.webdriver.common.by import By

    return driver.find_element(By.TAG_NAME, "body").text


def alert_present(driver: Any) -> bool:
    from selenium.common.exceptions import NoAlertPresentException

    try:
        driver.switch_to.alert  # noqa: B018 - the property raises when there is none
    except NoAlertPresentException:
        return False
    return True


# -- the pages -------------------------------------------------------------------------------------


def test_home_page(browser: Any, server: str, db_name: str) -> None:
    from selenium.webdriver.common.by import By

    log = visit(browser, server + "/")
    text = body_text(browser)
    assert "REAIM news archive" in browser.find_element(By.TAG_NAME, "h1").text
    assert "Multilingual news coverage of the REAIM process" in text
    for link in ("Charts", "Article list", "Search in every language", "Timeline of coverage"):
        assert browser.find_element(By.LINK_TEXT, link).is_displayed(), link
    assert db_name in text
    assert errors(log) == []
    screenshot(browser, "home")


def test_article_list_faceted_by_language(browser: Any, server: str, db_name: str,
                                          archive: sqlite_utils.Database) -> None:
    from selenium.webdriver.common.by import By

    counts = {r["language"]: r["n"] for r in archive.query(
        "select language, count(*) as n from article_list group by language")}
    assert counts["ko"] == 9
    log = visit(browser, f"{server}/{db_name}/article_list?_facet=language")
    facet = browser.find_element(By.ID, "facet-language")
    lines = [li.text for li in facet.find_elements(By.TAG_NAME, "li")]
    assert {f"{lang} {n}" for lang, n in counts.items()} <= set(lines), lines
    # The metadata's facets are there too: primary event (no array facets, which time out on a
    # large archive), and links to the counts of every event and theme tag.
    events = browser.find_element(By.ID, "facet-primary_event").text
    assert "reaim-2024" in events or "REAIM 2024" in events, events
    assert browser.find_elements(By.ID, "facet-events") == []
    assert browser.find_element(By.LINK_TEXT, "articles per event").get_attribute("href").endswith(
        f"/{db_name}/article_events?_facet=event_id")
    # The headline is shown as text, markup and all, and links to the article page.
    assert XSS_TITLE in body_text(browser)
    assert errors(log) == []
    screenshot(browser, "article-list-facets")

    # Clicking a facet value narrows the table, as a user would.
    facet.find_element(By.LINK_TEXT, "ko").click()
    check_loopback_only(browser)
    assert f"{counts['ko']} rows where language = ko" in body_text(browser).replace('"', "")
    languages = {td.text for td in browser.find_elements(By.CSS_SELECTOR, "td.col-language")}
    assert languages == {"ko"}
    screenshot(browser, "article-list-ko")


def test_korean_search(browser: Any, server: str, db_name: str, archive: sqlite_utils.Database) -> None:
    from selenium.webdriver.common.by import By

    from archive.search import search

    expected = search(archive, "회의")
    assert expected
    log = visit(browser, f"{server}/{db_name}/search?q={quote('회의')}")
    assert browser.find_element(By.NAME, "q").get_attribute("value") == "회의"
    rows = browser.find_elements(By.CSS_SELECTOR, "table.rows-and-columns tbody tr")
    assert len(rows) == len(expected)
    snippets = [td.text for td in browser.find_elements(By.CSS_SELECTOR, "td.col-snippet")]
    assert all("회의" in s for s in snippets), snippets
    assert all("**" not in s for s in snippets), snippets  # highlights are bold, not asterisks
    bold = {b.text for b in browser.find_elements(By.CSS_SELECTOR, "td.col-snippet strong")}
    assert bold and all("회의" in b for b in bold), bold
    titles = [td.text for td in browser.find_elements(By.CSS_SELECTOR, "td.col-title")]
    assert titles[0] == expected[0]["title"]
    assert any(re.search("[\uac00-\ud7a3]", t) for t in titles)  # Korean headlines, as written
    assert errors(log) == []
    screenshot(browser, "search-ko")

    # The headline opens the article page.
    rows[0].find_element(By.CSS_SELECTOR, "td.col-title a").click()
    check_loopback_only(browser)
    assert browser.find_element(By.TAG_NAME, "h1").text == expected[0]["title"]


def _korean_article(archive: sqlite_utils.Database) -> dict[str, Any]:
    return next(archive.query(
        "select a.* from articles a where a.language = 'ko' and a.translation_status = 'done' and a.relevant = 1 "
        "and a.primary_event = 'reaim-2024' "
        "and (select count(*) from article_themes t where t.article_id = a.id) >= 2 order by a.published, a.id"))


def test_article_page_original_and_english_side_by_side(browser: Any, server: str, db_name: str,
                                                        archive: sqlite_utils.Database) -> None:
    import json

    from selenium.webdriver.common.by import By

    article = _korean_article(archive)
    log = visit(browser, f"{server}/{db_name}/articles/{article['id']}")
    assert browser.find_element(By.TAG_NAME, "h1").text == article["title"]
    original = browser.find_element(By.CSS_SELECTOR, "section.original")
    english = browser.find_element(By.CSS_SELECTOR, "section.english")
    assert original.is_displayed() and english.is_displayed()
    first_paragraph = article["text"].split("\n")[0].strip()
    first_paragraph_en = article["text_en"].split("\n")[0].strip()
    assert first_paragraph in original.text and article["title"] in original.text
    assert first_paragraph_en in english.text and article["title_en"] in english.text
    assert "ORIGINAL (KOREAN (KO))" in original.text.upper() and "ENGLISH TRANSLATION" in english.text.upper()
    # Side by side: the same top, the English to the right of the original.
    o, e = original.rect, english.rect
    assert abs(o["y"] - e["y"]) < 5 and e["x"] >= o["x"] + o["width"] - 1, (o, e)

    # Every tag with its evidence: label, score, terms, which text, snippet.
    tags = browser.find_elements(By.CSS_SELECTOR, ".tag")
    stored = list(archive.query(
        "select 'event' as kind, e.label, ae.score, ae.evidence from article_events ae join events e on e.id = ae.event_id"
        " where ae.article_id = :id union all "
        "select 'theme', t.label, at.score, at.evidence from article_themes at join themes t on t.id = at.theme_id"
        " where at.article_id = :id", {"id": article["id"]}))
    assert len(tags) == len(stored)
    page = {t.find_element(By.TAG_NAME, "h3").text: t.text for t in tags}
    for row in stored:
        evidence = json.loads(row["evidence"])
        text = page[row["label"]]
        assert f"{row['score']:.2f}" in text
        for term in evidence["terms"]:
            assert term in text, (row["label"], term)
        assert "the original text" in text or "the English translation" in text
        assert " ".join(evidence["snippet"].split())[:20] in " ".join(text.split())
    marked = {m.text for m in original.find_elements(By.TAG_NAME, "mark")}
    assert marked, "evidence terms are highlighted in the original text"
    assert "primary event" in page["REAIM 2024 summit (Seoul)"].lower()

    link = browser.find_element(By.LINK_TEXT, "Read it at the source")
    assert link.get_attribute("href") == article["canonical_url"]
    assert errors(log) == []
    screenshot(browser, "article-ko")


def test_scraped_markup_is_shown_never_run(browser: Any, server: str, db_name: str) -> None:
    from selenium.webdriver.common.by import By

    log = visit(browser, f"{server}/{db_name}/articles/{XSS_ID}")
    assert not alert_present(browser)
    assert browser.execute_script("return window.__xss === undefined")
    assert browser.find_element(By.TAG_NAME, "h1").text == XSS_TITLE
    text = body_text(browser)
    assert '<img src="x" onerror="window.__xss = 1"> <b>not bold</b>' in text
    assert "<i>Markup</i> Post" in text
    assert browser.find_elements(By.LINK_TEXT, "Read it at the source") == []  # a javascript: URL is no link
    assert "javascript:window.__xss=2" in text
    assert errors(log) == []
    screenshot(browser, "article-markup-escaped")


def test_charts(browser: Any, server: str, archive: sqlite_utils.Database) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    log = visit(browser, server + "/-/charts")
    WebDriverWait(browser, 30).until(lambda d: d.find_element(By.TAG_NAME, "body").get_attribute("data-charts-done"))
    charts = browser.find_elements(By.CSS_SELECTOR, "[data-vega-lite]")
    assert len(charts) == 4
    for chart in charts:
        assert chart.get_attribute("data-error") is None, chart.get_attribute("data-error")
        assert chart.get_attribute("data-rendered") == "true"
        assert chart.find_element(By.TAG_NAME, "svg").size["height"] > 100
    svg_text = " ".join(t.get_attribute("textContent") for t in browser.find_elements(By.CSS_SELECTOR, "svg text"))
    for label in ("REAIM 2023 summit (The Hague), 15–16 Feb 2023", "REAIM 2024 summit (Seoul), 9–10 Sep 2024",
                  "REAIM 2026 summit (A Coruña), 4–5 Feb 2026", "Human control and responsibility",
                  "Weeks from the summit's first day"):
        assert label in svg_text, label
    languages = {r["language"] for r in archive.query("select distinct language from article_list")}
    legend = {t.get_attribute("textContent") for t in browser.find_elements(By.CSS_SELECTOR, "svg g.role-legend text")}
    assert languages <= legend, (languages, legend)
    assert errors(log) == []
    screenshot(browser, "charts")

"""The same story in two languages is linked (not folded) through its English side."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from servers.libre import LibreServer
from servers.newsite import NewsSite

pytestmark = pytest.mark.e2e

EN = ("About sixty countries endorsed a Blueprint for Action on the responsible use of artificial intelligence "
      "in the military domain at the close of the REAIM summit in Seoul on Tuesday, while China did not endorse "
      "the document. Delegates agreed that humans must remain responsible for decisions on the use of force, "
      "and that legal reviews of new systems are needed before they are fielded.")
ES = ("Unos sesenta países respaldaron el martes en Seúl un Plan de Acción sobre el uso responsable de la "
      "inteligencia artificial en el ámbito militar al cierre de la cumbre REAIM, mientras que China no lo "
      "respaldó. Los delegados acordaron que las personas deben seguir siendo responsables de las decisiones "
      "sobre el uso de la fuerza y que hacen falta revisiones jurídicas de los nuevos sistemas antes de usarlos.")
# What a translation service would give back for ES: close to, not the same as, the English report.
ES_IN_ENGLISH = ("Some sixty countries endorsed on Tuesday in Seoul a Plan of Action on the responsible use of "
                 "artificial intelligence in the military domain at the close of the REAIM summit, while China did "
                 "not endorse it. Delegates agreed that people must remain responsible for decisions on the use of "
                 "force, and that legal reviews of new systems are needed before they are used.")
OTHER = ("Delegations at the REAIM summit in A Coruna debated autonomous weapons and international humanitarian "
         "law, and only thirty-five states signed the Pathways for Action, with neither the United States nor "
         "China among them; organisers said the smaller number reflected a harder geopolitical climate.")


def page(title: str, text: str, lang: str) -> str:
    return (f"<html lang='{lang}'><head><title>{title}</title>"
            "<meta property='article:published_time' content='2024-09-10T18:00:00+09:00'></head>"
            f"<body><article><h1>{title}</h1><p>{text}</p></article></body></html>")


def test_translation_links_the_spanish_report_to_the_english_one(tmp_path: Path) -> None:
    with NewsSite() as site, LibreServer(glossary={ES: ES_IN_ENGLISH}) as libre:
        site.add("/robots.txt", "User-agent: *\nAllow: /\n", headers={"Content-Type": "text/plain"})
        items = "".join(f"<item><title>{p}</title><link>{site.url}{p}</link></item>" for p in ("/en.html", "/es.html", "/other.html"))
        site.add("/feed.xml", f"<rss version='2.0'><channel><title>T</title>{items}</channel></rss>",
                 headers={"Content-Type": "application/rss+xml"})
        site.add("/en.html", page("Seoul summit backs military AI blueprint", EN, "en"))
        site.add("/es.html", page("Seúl respalda un plan sobre IA militar", ES, "es"))
        site.add("/other.html", page("Only 35 states sign in A Coruna", OTHER, "en"))
        sources = tmp_path / "s.yaml"
        sources.write_text(f"- {{id: w, name: W, language: en, kind: rss, urls: ['{site.url}/feed.xml']}}\n")
        env = {**os.environ, "REAIM_TRANSLATOR": "libre", "REAIM_TRANSLATOR_URL": libre.url}
        proc = subprocess.run(
            [sys.executable, "-m", "reaim.cli", "crawl", "--db", str(tmp_path / "a.db"), "--sources", str(sources),
             "-s", "DOWNLOAD_DELAY=0", "-s", "AUTOTHROTTLE_ENABLED=False", "-s", "CONCURRENT_REQUESTS_PER_DOMAIN=1"],
            capture_output=True, text=True, env=env, timeout=120)
    assert proc.returncode == 0, proc.stdout
    with sqlite3.connect(tmp_path / "a.db") as conn:
        ids = dict(conn.execute("select canonical_url, id from articles").fetchall())
        links = conn.execute("select article_id, related_id, similarity from story_links").fetchall()
    assert len(ids) == 3  # linked, not folded
    en, es, other = (ids[f"{site.url}/{n}.html"] for n in ("en", "es", "other"))
    assert {(a, b) for a, b, _ in links} == {(en, es), (es, en)}
    assert all(sim >= 0.4 for _, _, sim in links)
    assert other not in {a for a, _, _ in links}

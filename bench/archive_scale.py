"""Archive at scale (issue 6): ingest, size, search, Datasette facets and export on N synthetic articles.

Builds a synthetic archive of ``--articles`` N articles (default 1,000,000)
with the project's own code (archive.schema.open_db, archive.store,
archive.search) and prints:

* ingest rate through the real write path (``archive.store.save_article``,
  in batches inside ``write_txn``); when that would take longer than
  ``--budget-min`` for N articles, the rest goes through the bulk path
  (sqlite-utils ``insert_all`` with the FTS triggers dropped, then one FTS
  rebuild and one ``archive.search_index.rebuild``), and the write path is timed
  again at full size (``--tail`` more articles);
* database size (dbstat), with and without the multilingual search index;
* ``open_db`` on the full archive (``ensure_db_shape`` runs on every open);
* warm query latency p50/p95: ``articles_fts MATCH`` and
  ``archive.search.search`` with Latin queries, and ``archive.search.search``
  with Korean and Chinese/Japanese queries;
* Datasette facet pages (served by ``archive.datasette.serve_command`` on
  127.0.0.1), p50/p95, and the facets that hit the facet time limit;
* export rows/s per format (``archive.export.export_archive``, as ``reaim
  export`` calls it) on a date-filtered subset or the whole archive;
* CPU seconds next to wall-clock seconds for each phase (the machine may be
  shared), and peak RSS of this process and of its children.

The articles: 9 languages (en weighted 3, ko 1.5, the others 1), about 1,500
characters of text (log-normal) and as much English text for non-English
articles, titles, 1-3 events and 1-4 themes of the real taxonomy with
evidence, dates over 2023-2026 with peaks around the summits, about 300
outlets. Korean, Chinese and Japanese texts use real characters: words drawn
(Zipf) from a syllable/character inventory, with particles, plus topic words
(회의, 군사, 人工智能, 軍事...) that each article uses a few of.

    python bench/archive_scale.py --articles 20000            # a quick run
    python bench/archive_scale.py --articles 300000 --work /tmp/scale --keep
    python bench/archive_scale.py --work /tmp/scale --reuse   # measure again, no rebuild
    python bench/archive_scale.py --ingest store --articles 5000

Nothing leaves the machine: Datasette listens on 127.0.0.1 only.
"""

from __future__ import annotations

import argparse
import bisect
import datetime as dt
import hashlib
import itertools
import json
import math
import os
import random
import re
import resource
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import sqlite_utils  # noqa: E402

from archive.datasette import serve_command  # noqa: E402
from archive.export import FORMATS, export_archive  # noqa: E402
from archive.queries import ArticleFilters  # noqa: E402
from archive.schema import open_db  # noqa: E402
from archive.search import SEARCH_SQL, match_expression, search  # noqa: E402
from archive.search_index import rebuild  # noqa: E402
from archive.store import article_row, save_article, save_sources, save_taxonomy, write_txn  # noqa: E402
from pipeline.taxonomy import load_taxonomy  # noqa: E402

# --- the synthetic corpus ------------------------------------------------------------------

LANG_WEIGHTS = {"en": 3.0, "ko": 1.5, "es": 1.0, "nl": 1.0, "fr": 1.0, "de": 1.0, "zh": 1.0, "ja": 1.0, "ru": 1.0}
COUNTRIES = {
    "en": ["US", "GB", "AU", "IN", "SG", "CA"], "ko": ["KR"], "es": ["ES", "MX", "AR", "CO"], "nl": ["NL", "BE"],
    "fr": ["FR", "BE", "CA", "CH"], "de": ["DE", "AT", "CH"], "zh": ["CN", "TW", "SG", "HK"], "ja": ["JP"],
    "ru": ["RU", "BY", "KZ"],
}
OUTLET_KINDS = {
    "en": ["Times", "Post", "Herald", "Daily", "News", "Tribune"], "ko": ["Ilbo", "Sinmun", "News", "Gyeongje"],
    "es": ["Diario", "Noticias", "Crónica", "Prensa"], "nl": ["Dagblad", "Courant", "Nieuws"],
    "fr": ["Journal", "Quotidien", "Dépêche", "Matin"], "de": ["Zeitung", "Rundschau", "Kurier", "Anzeiger"],
    "zh": ["Ribao", "Xinwen", "Shibao"], "ja": ["Shimbun", "Nippo", "Times"], "ru": ["Vesti", "Gazeta", "Novosti"],
}
# Words every article of the topic uses some of (real words).
TOPIC = {
    "en": ["summit", "military", "artificial intelligence", "responsible", "declaration", "Seoul", "The Hague",
           "REAIM", "autonomous weapons", "human control", "international law", "delegates", "ministers",
           "governance", "blueprint", "endorsed", "defence", "drones", "A Coruña"],
    "es": ["cumbre", "militar", "inteligencia artificial", "responsable", "declaración", "Seúl", "La Haya",
           "REAIM", "armas autónomas", "control humano", "derecho internacional", "ministros", "Coruña",
           "gobernanza", "defensa"],
    "fr": ["sommet", "militaire", "intelligence artificielle", "responsable", "déclaration", "Séoul", "La Haye",
           "REAIM", "armes autonomes", "contrôle humain", "droit international", "ministres", "gouvernance",
           "défense"],
    "de": ["Gipfel", "militärische", "künstliche Intelligenz", "verantwortungsvolle", "Erklärung", "Seoul",
           "Den Haag", "REAIM", "autonome Waffen", "menschliche Kontrolle", "Völkerrecht", "Minister",
           "Verteidigung", "Gipfeltreffen"],
    "nl": ["top", "militaire", "kunstmatige intelligentie", "verantwoord", "verklaring", "Seoel", "Den Haag",
           "REAIM", "autonome wapens", "menselijke controle", "internationaal recht", "ministers", "defensie"],
    "ru": ["саммит", "военный", "искусственный интеллект", "ответственный", "декларация", "Сеул", "Гаага",
           "REAIM", "автономное оружие", "человеческий контроль", "международное право", "министры", "оборона"],
    "ko": ["회의", "군사", "인공지능", "정상회의", "책임", "서울", "헤이그", "REAIM", "자율무기", "국제법", "국방부",
           "외교부", "장관", "선언", "대표단", "인간의 통제"],
    "zh": ["人工智能", "军事", "峰会", "首尔", "负责任", "宣言", "国际法", "自主武器", "人类控制", "国防部", "外交部",
           "海牙", "代表团", "REAIM"],
    "ja": ["人工知能", "軍事", "首脳会議", "ソウル", "責任ある", "宣言", "国際法", "自律型兵器", "人間の管理", "防衛省",
           "外務省", "ハーグ", "代表団", "REAIM"],
}
# The most frequent words of each language: the head of the Zipf ranking.
FUNCTION = {
    "en": "the of and to in a is that for on with as by at from was it be are has have will said".split(),
    "es": "de la que el en y a los se del las un por con no una su para es al lo como más".split(),
    "fr": "de la le et les des en un du une est que qui dans pour pas sur au par avec".split(),
    "de": "der die und in den von zu das mit sich des auf für ist im dem nicht ein eine als".split(),
    "nl": "de het een van en in is dat op te voor met zijn niet aan er door als bij".split(),
    "ru": "и в не на что с по к о из у за от до это как для".split(),
}
KO_PARTICLES = "은 는 이 가 을 를 에 에서 의 와 과 도 로 으로 에게 까지".split()
KO_ENDINGS = ["했다.", "밝혔다.", "있다.", "말했다.", "된다.", "전했다.", "강조했다.", "예정이다."]
ZH_FUNCTION = list("的了在是和与对将也中为等")
JA_PARTICLES = list("のはがをにでともへ")
JA_ENDINGS = ["した。", "している。", "である。", "と述べた。", "を表明した。", "となった。"]
LATIN_PARTS = {
    "en": (["b", "c", "d", "f", "g", "h", "l", "m", "n", "p", "r", "s", "t", "v", "w", "st", "tr", "pr", "ch",
            "sh", "th", "cl", "gr"], ["a", "e", "i", "o", "u", "ea", "ou", "ai", "ee"],
           ["", "", "n", "r", "s", "t", "l", "nd", "st", "ng", "ck", "rt"]),
    "es": (["b", "c", "d", "f", "g", "l", "m", "n", "p", "r", "s", "t", "v", "ll", "ch", "ñ", "pr", "tr"],
           ["a", "e", "i", "o", "u", "á", "é", "ó", "ia", "ue"], ["", "", "", "n", "r", "s", "l", "z"]),
    "fr": (["b", "c", "d", "f", "g", "l", "m", "n", "p", "r", "s", "t", "v", "ch", "pr", "tr", "qu"],
           ["a", "e", "i", "o", "u", "é", "è", "ou", "ai", "eau", "oi"], ["", "", "n", "r", "s", "t", "x", "nt"]),
    "de": (["b", "d", "f", "g", "h", "k", "l", "m", "n", "p", "r", "s", "t", "w", "z", "sch", "st", "pf"],
           ["a", "e", "i", "o", "u", "ä", "ö", "ü", "ei", "au", "ie"], ["", "n", "r", "s", "t", "ch", "ng", "ß", "lt"]),
    "nl": (["b", "d", "g", "h", "k", "l", "m", "n", "p", "r", "s", "t", "v", "w", "z", "sch", "kr"],
           ["a", "e", "i", "o", "u", "aa", "ee", "oo", "oe", "ij", "ui"], ["", "n", "r", "s", "t", "k", "ld", "ng"]),
    "ru": (["б", "в", "г", "д", "ж", "з", "к", "л", "м", "н", "п", "р", "с", "т", "ф", "х", "ц", "ч", "ш", "пр",
            "ст"], ["а", "е", "и", "о", "у", "ы", "я", "ю", "ё"], ["", "", "н", "р", "с", "т", "й", "в", "л"]),
}
VOCABULARY = 30_000  # content words per language
POOL_TOKENS = 600_000  # per language: the stream texts are cut from
ZIPF_S = 1.07


def _zipf_cum(n: int, s: float = ZIPF_S) -> list[float]:
    return list(itertools.accumulate(1.0 / (r ** s) for r in range(1, n + 1)))


@dataclass
class Language:
    code: str
    words: list[str]  # the Zipf ranking: function words first, then content words
    cum: list[float]
    topic: list[str]
    spaced: bool  # words separated by spaces (not zh, ja)


def _latin_word(rnd: random.Random, parts: tuple[list[str], list[str], list[str]]) -> str:
    onsets, vowels, codas = parts
    n = rnd.choices((1, 2, 3, 4), weights=(2, 5, 4, 1))[0]
    return "".join(rnd.choice(onsets) + rnd.choice(vowels) for _ in range(n)) + rnd.choice(codas)


# Frequent Hangul syllables and Han characters, most frequent first: the head of each inventory,
# filled up with other characters of the block so that rare ones occur as in real text.
KO_COMMON = (
    "이의다는에하고을기가사자지서대를리정한도로아시으있국일수나인게어상보장전부제주해구적면원들위성만동과스소회라"
    "경여우관마문요조치식신연방화유거분세내공것선실데생무개비업행미물모터계발된간학안했중니진단체각직민히용말심군외"
    "책임통담표결협력권군사령병무기능인공지헤이그서울회담장관선언대표단국방외교부정상책임통제자율법안보평화전쟁"
    "미국중국일본한국북러시아유럽연합발표참석논의강조개최합의채택추진협의참여강화확대지원"
)
HAN_COMMON = (
    "的一是不了人我在有他这中大来上国个到说们为子和你地出道也时年得就那要下以生会自着去之过家学对可她里后小么心多"
    "天而能好都然没日于起还发成事只作当想看文无开手十用主行方又如前所本见经头面公同三已老从动两长知民样现分将外但身"
    "些与高意进把法此实回二理美点月明其种声全工己话儿者向情部正名定女问力机给等几很业最间新什打便位因重被走电四第门"
    "相次东政海口使教西再平真听世气信北少关并内加化由却代军产入先山五太水万市眼体别处总才场师书比住员九笑性通目华报"
    "立马命张活难神数件安表原车白应路期叫死常提感金何更反合放做系计或司利受光王果亲界及今京务制解各任至清物台象记边"
    "共风战干接它许八特觉望直服毛林题建南度统色字请交爱让认算论百吃义科怎元社术结六功指思非流每青管夫连远资队跟带花"
    "快条院变联言权往展该领传近留红治决周保达办运武半候七必城父强步完革深区即求品士转量空甚众技轻程告江语英基派满式"
    "李息写呢识极令黄德收脸钱党倒未持取设始版双历越史商千片容研像找友孩站广改议形委早房音火际则首单据导影失拿网香似"
    "斯专石若兵弟谁校读志飞观争究包组造落视济喜离虽坏兴切軍事國際會議責任兵器人間管理首脳防衛省外務"
)


def _inventory(rnd: random.Random, common: str, lo: int, hi: int, size: int) -> tuple[list[str], list[float]]:
    chars = list(dict.fromkeys(common))
    have = set(chars)
    others = [chr(c) for c in range(lo, hi + 1) if chr(c) not in have]
    chars += rnd.sample(others, max(0, size - len(chars)))
    return chars, _zipf_cum(len(chars), 1.0)


def build_languages(seed: int) -> dict[str, Language]:
    rnd = random.Random(seed)
    out: dict[str, Language] = {}
    for code in LANG_WEIGHTS:
        words: list[str] = []
        seen: set[str] = set()
        if code in LATIN_PARTS:
            words = list(FUNCTION[code])
            seen = set(words)
            while len(words) < VOCABULARY + len(FUNCTION[code]):
                w = _latin_word(rnd, LATIN_PARTS[code])
                if len(w) > 2 and w not in seen:
                    seen.add(w)
                    words.append(w)
        elif code == "ko":
            # Hangul syllables (U+AC00-D7A3), the frequent ones first, as 2-3 syllable nouns.
            syl, syl_cum = _inventory(rnd, KO_COMMON, 0xAC00, 0xD7A3, 2000)
            while len(words) < VOCABULARY:
                w = "".join(rnd.choices(syl, cum_weights=syl_cum, k=rnd.choice((2, 2, 2, 3, 3, 4))))
                if w not in seen:
                    seen.add(w)
                    words.append(w)
        elif code == "zh":
            han, han_cum = _inventory(rnd, HAN_COMMON, 0x4E00, 0x9FA5, 4000)
            words = list(ZH_FUNCTION)
            while len(words) < VOCABULARY:
                w = "".join(rnd.choices(han, cum_weights=han_cum, k=rnd.choice((1, 2, 2, 2, 2, 3, 4))))
                if w not in seen:
                    seen.add(w)
                    words.append(w)
        else:  # ja: kanji compounds, katakana loan words, hiragana particles
            kanji, kanji_cum = _inventory(rnd, HAN_COMMON, 0x4E00, 0x9FA5, 3000)
            kata = [chr(c) for c in range(0x30A2, 0x30F4)]
            words = list(JA_PARTICLES)
            while len(words) < VOCABULARY:
                if rnd.random() < 0.8:
                    w = "".join(rnd.choices(kanji, cum_weights=kanji_cum, k=rnd.choice((2, 2, 2, 3))))
                else:
                    w = "".join(rnd.choices(kata, k=rnd.randint(3, 6)))
                if w not in seen:
                    seen.add(w)
                    words.append(w)
        out[code] = Language(code, words, _zipf_cum(len(words)), TOPIC[code], spaced=code not in ("zh", "ja"))
    return out


@dataclass
class Outlet:
    id: str
    name: str
    language: str
    country: str
    host: str


def build_outlets(n: int, languages: dict[str, Language], seed: int) -> dict[str, tuple[list[Outlet], list[float]]]:
    """About ``n`` outlets, shared out by language weight; a few big ones per language (Zipf)."""
    rnd = random.Random(seed + 1)
    total = sum(LANG_WEIGHTS.values())
    out: dict[str, tuple[list[Outlet], list[float]]] = {}
    latin_names = languages["en"].words[40:]
    for code, weight in LANG_WEIGHTS.items():
        outlets = []
        for i in range(max(3, round(n * weight / total))):
            base = rnd.choice(latin_names).capitalize()
            name = f"{base} {rnd.choice(OUTLET_KINDS[code])}"
            slug = f"{code}-{i:03d}-{base.lower()}"
            outlets.append(Outlet(slug, name, code, rnd.choice(COUNTRIES[code]), f"{slug}.example"))
        out[code] = (outlets, _zipf_cum(len(outlets), 0.8))
    return out


class Corpus:
    """Deterministic article records: record ``i`` is the same on every run with the same seed."""

    def __init__(self, seed: int, outlets: int = 300) -> None:
        self.seed = seed
        self.languages = build_languages(seed)
        self.outlets = build_outlets(outlets, self.languages, seed)
        taxonomy = load_taxonomy()
        self.taxonomy = taxonomy
        self.events = [e.id for e in taxonomy.events]
        self.themes = [t.id for t in taxonomy.themes]
        self.summits = [dt.date.fromisoformat(str(e.start_date)) for e in taxonomy.events if e.kind == "summit"]
        self.lang_codes = list(LANG_WEIGHTS)
        self.lang_cum = list(itertools.accumulate(LANG_WEIGHTS.values()))
        self._pools: dict[str, list[str]] = {}
        self.day0 = dt.date(2023, 1, 1).toordinal()
        self.days = dt.date(2026, 12, 31).toordinal() - self.day0 + 1
        for code in self.lang_codes:
            self._pool(code)

    def sources(self) -> list[dict[str, Any]]:
        return [
            {"id": o.id, "name": o.name, "language": o.language, "country": o.country, "kind": "sitemap",
             "urls": [f"https://{o.host}/sitemap.xml"], "updates": 0}
            for outlets, _ in self.outlets.values() for o in outlets
        ]

    # -- text --------------------------------------------------------------------------

    def _pool(self, code: str) -> list[str]:
        """A long stream of formatted tokens (word + particle, sentence ends) that texts are cut from."""
        pool = self._pools.get(code)
        if pool is not None:
            return pool
        lang = self.languages[code]
        rnd = random.Random(f"{self.seed}:{code}:pool")
        words = rnd.choices(lang.words, cum_weights=lang.cum, k=POOL_TOKENS)
        if code == "ko":
            pool = [w + rnd.choice(KO_ENDINGS) if i % 9 == 8 else
                    (w + rnd.choice(KO_PARTICLES) if rnd.random() < 0.6 else w) for i, w in enumerate(words)]
        elif code in ("zh", "ja"):
            pool, run = [], 0
            for w in words:
                pool.append(w)
                if code == "ja" and rnd.random() < 0.45:
                    pool.append(rnd.choice(JA_PARTICLES))
                run += len(w)
                if run > 18 and rnd.random() < 0.15:
                    pool.append(rnd.choice(JA_ENDINGS) if code == "ja" else rnd.choice("，，。"))
                    run = 0
        else:
            pool, capital = [], True
            for w in words:
                end = rnd.random() < 1 / 14
                pool.append((w[:1].upper() + w[1:] if capital else w) + ("." if end else ""))
                capital = end
        self._pools[code] = pool
        return pool

    def text(self, rnd: random.Random, code: str, chars: int, topics: Sequence[str]) -> str:
        """About ``chars`` characters: a random stretch of the language's stream, the topic words put in."""
        pool = self._pool(code)
        n = chars // (2 if code in ("zh", "ja") else 4 if code == "ko" else 6) + 1
        at = rnd.randrange(len(pool) - n)
        words = pool[at:at + n]
        for t in topics:  # each chosen topic word 1-4 times
            for _ in range(rnd.randint(1, 4)):
                words[rnd.randrange(n)] = t
        return ("" if code in ("zh", "ja") else " ").join(words)[:chars]

    def title(self, rnd: random.Random, code: str, topics: Sequence[str]) -> str:
        lang = self.languages[code]
        words = rnd.choices(lang.words, cum_weights=lang.cum, k=rnd.randint(5, 10))
        words[rnd.randrange(len(words))] = topics[0]
        words.insert(rnd.randrange(len(words)), topics[-1])
        return (" " if lang.spaced else "").join(words)

    # -- records -----------------------------------------------------------------------

    def article_id(self, i: int) -> str:
        return hashlib.sha1(f"{self.seed}:{i}".encode()).hexdigest()[:16]

    def record(self, i: int) -> tuple[str, dict[str, Any]]:
        rnd = random.Random(self.seed * 1_000_003 + i)
        code = self.lang_codes[bisect.bisect_left(self.lang_cum, rnd.random() * self.lang_cum[-1])]
        lang = self.languages[code]
        outlets, ocum = self.outlets[code]
        outlet = rnd.choices(outlets, cum_weights=ocum)[0]
        if rnd.random() < 0.3:  # coverage peaks around the summits
            day = rnd.choice(self.summits).toordinal() + int(rnd.gauss(0, 6))
        else:
            day = self.day0 + rnd.randrange(self.days)
        published = dt.datetime.fromordinal(day).replace(
            hour=rnd.randrange(24), minute=rnd.randrange(60), tzinfo=dt.UTC).isoformat()
        topics = rnd.sample(lang.topic, rnd.randint(2, 5))
        chars = max(300, min(6000, int(rnd.lognormvariate(math.log(1400), 0.35))))
        text = self.text(rnd, code, chars, topics)
        title = self.title(rnd, code, topics)
        aid = self.article_id(i)
        canonical = f"https://{outlet.host}/{published[:4]}/{published[5:7]}/{aid}"
        events = rnd.sample(self.events, rnd.choice((1, 1, 2, 2, 3)))
        themes = rnd.sample(self.themes, rnd.randint(1, 4))
        evidence = {}
        for tag in events + themes:
            at = rnd.randrange(max(1, len(text) - 160))
            evidence[tag] = {"score": round(rnd.uniform(0.3, 1.0), 3), "terms": topics[:2],
                             "snippet": text[at:at + 160], "text": "original"}
        relevant = rnd.random() < 0.95
        record: dict[str, Any] = {
            "url": canonical + ("?utm_source=rss&utm_medium=feed" if rnd.random() < 0.2 else ""),
            "canonical_url": canonical,
            "source_id": outlet.id, "outlet": outlet.name, "country": outlet.country,
            "title": title, "text": text, "language": code,
            "language_confidence": round(rnd.uniform(0.8, 1.0), 3), "language_method": "langdetect",
            "published": published, "published_raw": published, "published_method": "json-ld",
            "relevant": relevant, "relevance": round(rnd.uniform(0.5, 1.0) if relevant else rnd.uniform(0, 0.3), 3),
            "primary_event": events[0] if relevant else None,
            "events": events if relevant else [], "themes": themes if relevant else [],
            "evidence": evidence if relevant else {},
            "authors": [f"{rnd.choice(lang.words[40:200])} {rnd.choice(lang.words[40:200])}"],
            "encoding": "utf-8", "discovered_via": "sitemap", "fetched_at": published,
            "taxonomy_version": self.taxonomy.version,
        }
        if code == "en":
            record["translation_status"] = "not_needed"
        elif rnd.random() < 0.9:
            en_topics = rnd.sample(TOPIC["en"], rnd.randint(2, 5))
            record.update(translation_status="done", translation_provider="bench",
                          title_en=self.title(rnd, "en", en_topics),
                          text_en=self.text(rnd, "en", max(300, int(chars * rnd.uniform(0.8, 1.2))), en_topics))
        else:
            record["translation_status"] = "pending"
        return aid, record


def _json(value: Any) -> str | None:  # as archive.store writes JSON
    return None if value is None else json.dumps(value, ensure_ascii=False, sort_keys=True)


def bulk_rows(aid: str, record: dict[str, Any], now: str,
              ) -> tuple[dict[str, Any], list[dict[str, Any]], list[dict[str, Any]], list[dict[str, Any]]]:
    """The rows save_article would write for a new article: articles, aliases, events, themes."""
    row = article_row(record, aid)
    row["updated_at"] = row["first_seen"] = now
    aliases = [{"url": u, "article_id": aid, "reason": "url-variant", "outlet": record.get("outlet"),
                "first_seen": now} for u in {record["url"]} - {row["canonical_url"]}]
    evidence = record.get("evidence") or {}
    version = record.get("taxonomy_version")
    primary = record.get("primary_event")
    ev = [{"article_id": aid, "event_id": e, "is_primary": int(e == primary),
           "score": (evidence.get(e) or {}).get("score"), "evidence": _json(evidence.get(e)),
           "taxonomy_version": version} for e in record.get("events") or []]
    th = [{"article_id": aid, "theme_id": t, "score": (evidence.get(t) or {}).get("score"),
           "evidence": _json(evidence.get(t)), "taxonomy_version": version} for t in record.get("themes") or []]
    return row, aliases, ev, th


# --- measuring ------------------------------------------------------------------------------


@dataclass
class Clock:
    """Wall and CPU seconds over a ``with`` block: this process and the worker processes it waited for."""

    wall: float = 0.0
    cpu: float = 0.0
    _t: tuple[float, float] = (0.0, 0.0)

    @staticmethod
    def _cpu() -> float:
        children = resource.getrusage(resource.RUSAGE_CHILDREN)
        return time.process_time() + children.ru_utime + children.ru_stime

    def __enter__(self) -> Clock:
        self._t = (time.perf_counter(), self._cpu())
        return self

    def __exit__(self, *exc: object) -> None:
        self.wall = time.perf_counter() - self._t[0]
        self.cpu = self._cpu() - self._t[1]


def pct(values: Sequence[float], q: float) -> float:
    """The q-quantile (0..1) by the nearest-rank method."""
    if not values:
        return math.nan
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(q * len(ordered)) - 1))]


def maxrss_mb(who: int = resource.RUSAGE_SELF) -> float:
    return resource.getrusage(who).ru_maxrss / 1024  # KiB on Linux


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


@dataclass
class Report:
    figures: dict[str, Any] = field(default_factory=dict)
    lines: list[str] = field(default_factory=list)

    def out(self, line: str = "") -> None:
        self.lines.append(line)
        print(line, flush=True)


class FileWatcher:
    """The largest size a file (the WAL) reached while a ``with`` block ran, sampled every 0.5 s."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(0.5):
            try:
                self.peak = max(self.peak, self.path.stat().st_size)
            except OSError:
                pass

    def __enter__(self) -> FileWatcher:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


# --- ingest ---------------------------------------------------------------------------------


def _fts_triggers(db: sqlite_utils.Database) -> list[tuple[str, str]]:
    return [(r[0], r[1]) for r in db.execute(
        "select name, sql from sqlite_master where type = 'trigger' and tbl_name = 'articles' "
        "and sql like '%articles_fts%'").fetchall()]


def ingest_store(db: sqlite_utils.Database, corpus: Corpus, ids: range, batch: int) -> Clock:
    """save_article per article, ``batch`` articles per write_txn (the crawler's path)."""
    with Clock() as clock:
        for start in range(ids.start, ids.stop, batch):
            records = [corpus.record(i) for i in range(start, min(start + batch, ids.stop))]
            with write_txn(db):
                for aid, record in records:
                    save_article(db, record, aid)
    return clock


def generation_cost(corpus: Corpus, n: int = 2000) -> float:
    """CPU seconds per article spent making the synthetic records (subtracted nowhere; reported)."""
    t0 = time.process_time()
    for i in range(n):
        corpus.record(10**9 + i)
    return (time.process_time() - t0) / n


def ingest_bulk(db: sqlite_utils.Database, corpus: Corpus, ids: range, batch: int,
                rep: Report, workers: int | None = None) -> dict[str, Clock]:
    """insert_all with the FTS triggers dropped, then one FTS rebuild and one search-index rebuild."""
    clocks: dict[str, Clock] = {}
    triggers = _fts_triggers(db)
    with write_txn(db):
        for name, _ in triggers:
            db.execute(f"drop trigger {name}")
    done = 0
    with Clock() as clocks["insert"]:
        for start in range(ids.start, ids.stop, batch):
            # One timestamp per batch, as a crawl's saves within one second share theirs.
            now = dt.datetime.now(dt.UTC).isoformat(timespec="microseconds")
            arts, aliases, evs, ths = [], [], [], []
            for i in range(start, min(start + batch, ids.stop)):
                aid, record = corpus.record(i)
                row, al, ev, th = bulk_rows(aid, record, now)
                arts.append(row)
                aliases += al
                evs += ev
                ths += th
            with write_txn(db):
                db.table("articles").insert_all(arts, pk="id", alter=False)
                if aliases:
                    db.table("article_aliases").insert_all(aliases, pk="url", ignore=True)
                if evs:
                    db.table("article_events").insert_all(evs, pk=("article_id", "event_id"))
                if ths:
                    db.table("article_themes").insert_all(ths, pk=("article_id", "theme_id"))
            done += len(arts)
            if done % (batch * 20) == 0:
                log(f"bulk insert {done}/{len(ids)}")
    with Clock() as clocks["fts"]:
        with write_txn(db):
            for _, sql in triggers:
                db.execute(sql)
        db.table("articles").rebuild_fts()
    log(f"FTS rebuilt in {clocks['fts'].wall:.0f} s; rebuilding articles_search with {workers or 'default'} workers")
    rss0 = maxrss_mb()
    last = [time.monotonic()]

    def progress(done: int, total: int) -> None:
        if time.monotonic() - last[0] > 60:
            last[0] = time.monotonic()
            log(f"search index {done}/{total}")

    with Clock() as clocks["reindex"], FileWatcher(Path(db.conn.execute("pragma database_list").fetchall()[0][2]
                                                        + "-wal")) as wal:
        report = rebuild(db, workers=workers, progress=progress)
    rep.figures["reindex_peak_wal_mb"] = wal.peak / 1e6
    rep.figures["reindex_articles"] = report.indexed
    rep.figures["reindex_batches"] = report.batches
    rep.figures["reindex_max_write_s"] = report.max_write_s
    rep.figures["reindex_workers"] = workers or 0
    rep.figures["reindex_rss_growth_mb"] = maxrss_mb() - rss0
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return clocks


# --- sizes ------------------------------------------------------------------------------------


def sizes(db: sqlite_utils.Database) -> dict[str, float]:
    """MB per group of objects (dbstat), the file size, and the size without the search index."""
    owner = {r[0]: r[1] for r in db.execute("select name, tbl_name from sqlite_master").fetchall()}
    groups: dict[str, float] = {}
    for name, size in db.execute("select name, sum(pgsize) from dbstat group by name").fetchall():
        table = owner.get(name, name)
        if table.startswith("articles_search"):
            group = "search index (articles_search*)"
        elif table.startswith("articles_fts"):
            group = "articles_fts (unicode61)"
        elif name != table or name.startswith("sqlite_autoindex"):
            group = f"indexes on {table}"
        else:
            group = table
        groups[group] = groups.get(group, 0.0) + size / 1e6
    page_size = db.execute("pragma page_size").fetchall()[0][0]
    free = db.execute("pragma freelist_count").fetchall()[0][0] * page_size / 1e6
    return {**groups, "_freelist": free}


# Indexes this benchmark suggests (docs/archive-scale.md): every column facet becomes an index-only
# scan, for the articles table and for the article_list view (partial indexes on relevant = 1).
SUGGESTED_INDEXES = [
    "create index if not exists idx_articles_outlet on articles (outlet)",
    "create index if not exists idx_articles_country on articles (country)",
    "create index if not exists idx_articles_published_month on articles (published_month)",
    "create index if not exists idx_articles_relevant_language on articles (language) where relevant = 1",
    "create index if not exists idx_articles_relevant_outlet on articles (outlet) where relevant = 1",
    "create index if not exists idx_articles_relevant_country on articles (country) where relevant = 1",
    "create index if not exists idx_articles_relevant_month on articles (published_month) where relevant = 1",
]


def add_indexes(db: sqlite_utils.Database, rep: Report) -> None:
    with Clock() as clock:
        with write_txn(db):
            for sql in SUGGESTED_INDEXES:
                db.execute(sql)
        db.execute("analyze")
    rep.out("")
    rep.out(f"--add-indexes: {len(SUGGESTED_INDEXES)} suggested indexes and ANALYZE in {clock.wall:.1f} s "
            f"({clock.cpu:.1f} s CPU); the figures below are with them.")
    rep.figures["add_indexes"] = {"wall_s": clock.wall, "cpu_s": clock.cpu}


# --- queries --------------------------------------------------------------------------------


@dataclass
class QuerySet:
    name: str
    terms: list[str]
    run: Callable[[str], int]  # returns the number of rows


def time_queries(qs: QuerySet, total: int) -> tuple[list[float], dict[str, list[float]], dict[str, int]]:
    rows: dict[str, int] = {}
    for term in qs.terms:  # warm-up: every query once
        rows[term] = qs.run(term)
    all_ms: list[float] = []
    per: dict[str, list[float]] = {t: [] for t in qs.terms}
    for k in range(max(total, len(qs.terms))):
        term = qs.terms[k % len(qs.terms)]
        t0 = time.perf_counter()
        qs.run(term)
        ms = (time.perf_counter() - t0) * 1000
        all_ms.append(ms)
        per[term].append(ms)
    return all_ms, per, rows


def query_phase(db: sqlite_utils.Database, corpus: Corpus, rep: Report, total: int) -> None:
    en = corpus.languages["en"].words
    es = corpus.languages["es"].words
    rare = [en[3000], en[12000], es[8000]]  # mid-frequency and rare content words
    fts_terms = ["summit", "military", '"artificial intelligence"', "REAIM", "declaration", "Seoul", "cumbre",
                 "sommet", "Gipfel", "milit*", "military summit", *rare]
    search_latin = ["summit", "military", "artificial intelligence", "REAIM", "declaration", "Seoul", "cumbre",
                    "sommet", "Gipfel", "milit*", "responsible military", *rare]

    def fts(term: str) -> int:
        return len(list(db.table("articles").search(term, columns=["id", "title"], limit=20)))

    def app(term: str) -> int:
        return len(search(db, term, limit=20))

    sets = [
        QuerySet("articles_fts MATCH, Latin", fts_terms, fts),
        QuerySet("search(), Latin", search_latin, app),
        QuerySet("search(), Korean", ["회의", "군사", "인공지능", "회의에서"], app),
        QuerySet("search(), Chinese/Japanese", ["人工智能", "军事", "軍事", "人工知能"], app),
    ]
    rep.out("")
    rep.out(f"## Query latency (warm; {total} timed queries per set after one warm-up pass; limit 20)")
    rep.out("")
    rep.out("| query set | n | p50 ms | p95 ms | max ms |")
    rep.out("|---|---:|---:|---:|---:|")
    detail: list[tuple[str, str, int, float, float, int]] = []
    figures: dict[str, Any] = {}
    for qs in sets:
        with Clock() as clock:
            all_ms, per, rows = time_queries(qs, total)
        rep.out(f"| {qs.name} | {len(all_ms)} | {pct(all_ms, .5):.1f} | {pct(all_ms, .95):.1f} | {max(all_ms):.1f} |")
        figures[qs.name] = {"p50_ms": pct(all_ms, .5), "p95_ms": pct(all_ms, .95), "n": len(all_ms),
                            "cpu_s": clock.cpu, "wall_s": clock.wall}
        for term, ms in per.items():
            matches = count_matches(db, qs.name, term)
            detail.append((qs.name, term, matches, pct(ms, .5), pct(ms, .95), rows[term]))
    rep.out("")
    rep.out("Per query: documents matching (whole index, before the relevant/language filter), and, for search(),")
    rep.out("the SQL alone (FTS5 match + bm25 order + join, no snippet), median of 5.")
    rep.out("")
    rep.out("| set | query | matching docs | p50 ms | p95 ms | SQL only p50 ms |")
    rep.out("|---|---|---:|---:|---:|---:|")
    for name, term, matches, p50, p95, _ in detail:
        sql_ms = ""
        if name.startswith("search()"):
            params = {"match": match_expression(term), "limit": 20}
            times = []
            for _ in range(5):
                t0 = time.perf_counter()
                db.execute(SEARCH_SQL, params).fetchall()
                times.append((time.perf_counter() - t0) * 1000)
            sql_ms = f"{pct(times, .5):.1f}"
        rep.out(f"| {name} | `{term}` | {matches} | {p50:.1f} | {p95:.1f} | {sql_ms} |")
    rep.figures["queries"] = figures


def count_matches(db: sqlite_utils.Database, set_name: str, term: str) -> int:
    if set_name.startswith("articles_fts"):
        return int(db.execute("select count(*) from articles_fts where articles_fts match ?", [term]).fetchall()[0][0])
    expr = match_expression(term, include_off_topic=True)
    return int(db.execute("select count(*) from articles_search where articles_search match ?",
                          [expr]).fetchall()[0][0])


# --- Datasette ------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def http_get(url: str, timeout: float = 300.0) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as resp:  # noqa: S310 (127.0.0.1 only)
            return resp.status, resp.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode("utf-8", "replace")


TIMED_OUT = re.compile(r"These facets timed out: ([^<]*)</p>")


def datasette_phase(db_path: Path, rep: Report, requests: int, public: bool, work: Path, diagnose: int,
                    extra: int) -> None:
    port = free_port()
    cmd = serve_command(db_path, port=port, public=public)
    # serve_command's metadata file lives in the temp folder itself: remove the file, never its folder.
    metadata_file = Path(cmd[cmd.index("--metadata") + 1])
    logfile = (work / "datasette.log").open("w")
    proc = subprocess.Popen(cmd, stdout=logfile, stderr=subprocess.STDOUT, cwd=str(ROOT))
    base = f"http://127.0.0.1:{port}"
    name = db_path.stem
    pages = [
        f"/{name}/article_list",  # the default facets of archive/metadata.yml
        f"/{name}/articles",
        f"/{name}/article_list?language=ko&_sort_desc=published",
        f"/{name}/article_events?_facet=event_id",  # counts per event (every tag)
        f"/{name}/article_list?_facet=language&_facet_array=events&_facet=published_month",  # an array facet asked for
        f"/{name}/articles?_facet=language&_facet=outlet",
    ]
    results: dict[str, Any] = {}
    served = 0
    try:
        with Clock() as startup:
            deadline = time.monotonic() + 120
            while True:
                try:
                    if http_get(base + "/-/versions.json", timeout=5)[0] == 200:
                        break
                except OSError:
                    pass
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"Datasette did not start; see {work / 'datasette.log'}")
                time.sleep(0.3)
        rep.out("")
        rep.out(f"## Datasette ({'public' if public else 'default'} settings of archive/datasette.py; "
                f"{requests} GETs per page after one warm-up; started in {startup.wall:.1f} s)")
        rep.out("")
        rep.out("| page | p50 ms | p95 ms | max ms | status | facets timed out | rows count shown |")
        rep.out("|---|---:|---:|---:|---|---|---|")
        for page in pages:
            status, body = http_get(base + page)  # warm-up
            served += 1 + requests
            ms: list[float] = []
            timed_out: set[str] = set()
            statuses: set[int] = set()
            for _ in range(requests):
                t0 = time.perf_counter()
                status, body = http_get(base + page)
                ms.append((time.perf_counter() - t0) * 1000)
                statuses.add(status)
                for m in TIMED_OUT.finditer(body):
                    timed_out.update(x.strip() for x in m.group(1).split(",") if x.strip())
            count = re.search(r"<h3>\s*([\d,]+) rows?", body)
            shown = count.group(1) if count else "none (count timed out)"
            rep.out(f"| `{page}` | {pct(ms, .5):.0f} | {pct(ms, .95):.0f} | {max(ms):.0f} | "
                    f"{','.join(map(str, sorted(statuses)))} | {', '.join(sorted(timed_out)) or 'none'} | {shown} |")
            results[page] = {"p50_ms": pct(ms, .5), "p95_ms": pct(ms, .95), "timed_out": sorted(timed_out),
                             "status": sorted(statuses), "count_shown": shown}
        extra_pages = [
            "/-/charts",
            f"/{name}/search?" + urllib.parse.urlencode({"q": "summit", "language": ""}),
            f"/{name}/search?" + urllib.parse.urlencode({"q": "회의", "language": ""}),
            f"/{name}/search?" + urllib.parse.urlencode({"q": "人工智能", "language": ""}),
        ]
        if extra:
            rep.out("")
            rep.out(f"Other pages a reader opens ({extra} GETs each after one warm-up): the charts, and the saved "
                    "query `search` (50 rows, reaim_match + reaim_snippet).")
            rep.out("")
            rep.out("| page | p50 ms | p95 ms | status | note |")
            rep.out("|---|---:|---:|---|---|")
            for page in extra_pages:
                http_get(base + page)
                ms, statuses, notes = [], set(), set()
                for _ in range(extra):
                    served += 1
                    t0 = time.perf_counter()
                    status, body = http_get(base + page)
                    ms.append((time.perf_counter() - t0) * 1000)
                    statuses.add(status)
                    if "took too long" in body:
                        notes.add("SQL time limit hit")
                    timed_out_charts = re.search(r"<strong>Timed out:</strong>\s*([^.<]+)", body)
                    if timed_out_charts:
                        notes.add("charts timed out: " + timed_out_charts.group(1).strip())
                served += 1
                rep.out(f"| `{urllib.parse.unquote(page)}` | {pct(ms, .5):.0f} | {pct(ms, .95):.0f} | "
                        f"{','.join(map(str, sorted(statuses)))} | {', '.join(sorted(notes)) or ''} |")
                results[page] = {"p50_ms": pct(ms, .5), "p95_ms": pct(ms, .95), "status": sorted(statuses),
                                 "notes": sorted(notes)}
        if diagnose:
            rep.out("")
            rep.out(f"Where the time goes: the same pages without facet suggestions, without facets, without the "
                    f"row count ({diagnose} GETs each, p50 ms).")
            rep.out("")
            rep.out("| page | as asked | `_nosuggest=1` | `+_nofacet=1` | `+_nocount=1` |")
            rep.out("|---|---:|---:|---:|---:|")
            for page in pages:
                cells = [f"{results[page]['p50_ms']:.0f}"]
                for variant in ("&_nosuggest=1", "&_nosuggest=1&_nofacet=1", "&_nosuggest=1&_nofacet=1&_nocount=1"):
                    ms = []
                    for _ in range(diagnose):
                        served += 1
                        t0 = time.perf_counter()
                        http_get(base + page + variant)
                        ms.append((time.perf_counter() - t0) * 1000)
                    cells.append(f"{pct(ms, .5):.0f}")
                    results[page][variant] = pct(ms, .5)
                rep.out(f"| `{page}` | " + " | ".join(cells) + " |")
    finally:
        # ru_maxrss of a forked child starts from the parent's high-water mark (it survives exec):
        # the kernel's VmHWM of the running server is its own.
        hwm = re.search(r"VmHWM:\s+(\d+) kB", Path(f"/proc/{proc.pid}/status").read_text()) \
            if Path(f"/proc/{proc.pid}/status").exists() else None
        results["child_hwm_mb"] = int(hwm.group(1)) / 1024 if hwm else math.nan
        proc.send_signal(signal.SIGINT)
        try:
            _, _, usage = os.wait4(proc.pid, 0)
            proc.returncode = 0
            results["child_cpu_s"] = usage.ru_utime + usage.ru_stime
            results["child_maxrss_mb"] = usage.ru_maxrss / 1024
        except ChildProcessError:
            pass
        logfile.close()
        metadata_file.unlink(missing_ok=True)
    rep.out("")
    rep.out(f"Datasette process: {results.get('child_cpu_s', math.nan):.1f} CPU s in all "
            f"({results.get('child_cpu_s', math.nan) / max(served, 1):.2f} per request, {served} requests), "
            f"peak RSS {results['child_hwm_mb']:.0f} MB (VmHWM).")
    rep.figures["datasette"] = results


# --- export --------------------------------------------------------------------------------


def export_phase(db_path: Path, rep: Report, work: Path, filters: ArticleFilters, formats: Sequence[str]) -> None:
    what = ", ".join(f"{k}={v}" for k, v in filters.active().items()) or "the whole archive"
    rep.out("")
    rep.out(f"## Export (archive.export.export_archive, texts included; {what})")
    rep.out("")
    rep.out("| format | articles | tag rows | wall s | CPU s | articles/s wall | articles/s CPU | articles file MB |")
    rep.out("|---|---:|---:|---:|---:|---:|---:|---:|")
    figures = {}
    for fmt in formats:
        out = work / f"export-{fmt}"
        with Clock() as clock:
            result = export_archive(db_path, out, fmt=fmt, filters=filters, include_text=True)
        tags = result.rows.get("article_events", 0) + result.rows.get("article_themes", 0)
        size = (out / f"articles.{fmt}").stat().st_size / 1e6
        rep.out(f"| {fmt} | {result.articles} | {tags} | {clock.wall:.1f} | {clock.cpu:.1f} | "
                f"{result.articles / clock.wall:.0f} | {result.articles / max(clock.cpu, 1e-9):.0f} | {size:.0f} |")
        figures[fmt] = {"articles": result.articles, "tag_rows": tags, "wall_s": clock.wall, "cpu_s": clock.cpu}
        shutil.rmtree(out, ignore_errors=True)
    rep.figures["export"] = {"filter": what, **figures}


# --- main ----------------------------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--articles", type=int, default=1_000_000, help="archive size N (default 1,000,000)")
    parser.add_argument("--ingest", choices=("auto", "store", "bulk"), default="auto",
                        help="store: save_article for all N; bulk: insert_all + FTS rebuild + reindex after the "
                             "store sample; auto (default): bulk when store would exceed --budget-min")
    parser.add_argument("--store-sample", type=int, default=10_000,
                        help="articles written through save_article first (auto, bulk)")
    parser.add_argument("--budget-min", type=float, default=20.0,
                        help="minutes the store path may take for N before auto switches to bulk")
    parser.add_argument("--store-batch", type=int, default=500, help="articles per write_txn on the store path")
    parser.add_argument("--bulk-batch", type=int, default=5000, help="articles per transaction on the bulk path")
    parser.add_argument("--reindex-workers", type=int, default=None,
                        help="processes analysing text in the search-index rebuild (default: rebuild()'s own)")
    parser.add_argument("--tail", type=int, default=2000,
                        help="articles saved with save_article into the full archive (write path at size N)")
    parser.add_argument("--queries", type=int, default=120, help="timed queries per query set")
    parser.add_argument("--requests", type=int, default=20, help="timed GETs per Datasette page")
    parser.add_argument("--extra", type=int, default=5,
                        help="GETs of the other pages (charts, saved query search); 0: none")
    parser.add_argument("--diagnose", type=int, default=3,
                        help="GETs per page variant (_nosuggest, _nofacet, _nocount) to see where time goes; 0: none")
    parser.add_argument("--add-indexes", action="store_true",
                        help="create the suggested facet indexes (and ANALYZE) before measuring")
    parser.add_argument("--public", action="store_true", help="serve Datasette with the public settings")
    parser.add_argument("--export", choices=("subset", "full", "none"), default="subset")
    parser.add_argument("--export-since", default="2025-01-01", help="subset export: first day")
    parser.add_argument("--export-until", default="2025-03-31", help="subset export: last day")
    parser.add_argument("--formats", nargs="+", default=list(FORMATS), choices=FORMATS)
    parser.add_argument("--skip", nargs="*", default=[], choices=("queries", "datasette", "export", "sizes"))
    parser.add_argument("--seed", type=int, default=6)
    parser.add_argument("--work", type=Path, default=None, help="folder for the archive (default: a temp folder)")
    parser.add_argument("--keep", action="store_true", help="keep the work folder")
    parser.add_argument("--reuse", action="store_true", help="measure an archive already built in --work")
    parser.add_argument("--json", type=Path, default=None, help="also write the figures here")
    args = parser.parse_args(argv)

    work = args.work or Path(tempfile.mkdtemp(prefix="reaim-scale-"))
    work.mkdir(parents=True, exist_ok=True)
    db_path = work / "archive.db"
    rep = Report()
    n = args.articles
    reuse = args.reuse and db_path.exists()
    if reuse:  # N is what the archive holds
        with sqlite_utils.Database(db_path) as existing:
            n = int(existing.execute("select count(*) from articles").fetchall()[0][0])
    started = time.perf_counter()
    try:
        corpus = Corpus(args.seed)
        gen = generation_cost(corpus)
        rep.figures.update(articles=n, generation_cpu_ms=gen * 1000)
        rep.out(f"# Archive at scale: N = {n:,} articles ({os.cpu_count()} CPUs, "
                f"load average {os.getloadavg()[0]:.1f} at start)")
        rep.out("")
        rep.out(f"Making one synthetic record costs {gen * 1000:.2f} ms of CPU; it is inside the ingest figures.")
        if not reuse:
            build(db_path, corpus, n, args, rep)
        else:
            rep.out(f"(reusing {db_path})")
        with Clock() as opening:
            db = open_db(db_path)
        rep.out("")
        rep.out(f"open_db on the full archive (migrations + ensure_db_shape + ensure_search_index check): "
                f"{opening.wall:.1f} s wall, {opening.cpu:.1f} s CPU")
        rep.figures["open_db"] = {"wall_s": opening.wall, "cpu_s": opening.cpu}
        if args.add_indexes:
            add_indexes(db, rep)
        count = db.execute("select count(*) from articles").fetchall()[0][0]
        rep.figures["articles_in_archive"] = count
        if "sizes" not in args.skip:
            db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            with Clock() as clock:
                groups = sizes(db)
            total = db_path.stat().st_size / 1e6
            search_mb = groups.get("search index (articles_search*)", 0.0)
            rep.out("")
            rep.out(f"## Database size ({count:,} articles; dbstat took {clock.wall:.0f} s)")
            rep.out("")
            rep.out("| part | MB |")
            rep.out("|---|---:|")
            for name, mb in sorted(groups.items(), key=lambda kv: -kv[1]):
                if mb >= 0.5:
                    rep.out(f"| {name} | {mb:,.0f} |")
            rep.out(f"| **file (with search index)** | **{total:,.0f}** |")
            rep.out(f"| **without the search index** (file - articles_search*) | **{total - search_mb:,.0f}** |")
            rep.figures["size_mb"] = {"file": total, "without_search_index": total - search_mb, **groups}
        if "queries" not in args.skip:
            query_phase(db, corpus, rep, args.queries)
        db.close()
        if "datasette" not in args.skip:
            datasette_phase(db_path, rep, args.requests, args.public, work, args.diagnose, args.extra)
        if args.export != "none" and "export" not in args.skip:
            filters = ArticleFilters() if args.export == "full" else ArticleFilters(
                since=dt.date.fromisoformat(args.export_since), until=dt.date.fromisoformat(args.export_until))
            export_phase(db_path, rep, work, filters, args.formats)
        self_rss, child_rss = maxrss_mb(), maxrss_mb(resource.RUSAGE_CHILDREN)
        usage = resource.getrusage(resource.RUSAGE_SELF)
        rep.out("")
        rep.out(f"Peak RSS: bench process {self_rss:,.0f} MB; children (ru_maxrss, inherits the bench's "
                f"mark at fork) {child_rss:,.0f} MB. "
                f"Whole run: {time.perf_counter() - started:,.0f} s wall, "
                f"{usage.ru_utime + usage.ru_stime:,.0f} s CPU (this process).")
        rep.figures.update(peak_rss_mb=self_rss, child_peak_rss_mb=child_rss,
                           total_wall_s=time.perf_counter() - started, total_cpu_s=usage.ru_utime + usage.ru_stime)
        if args.json:
            args.json.write_text(json.dumps(rep.figures, indent=2, ensure_ascii=False), encoding="utf-8")
    finally:
        if not (args.keep or args.work):
            shutil.rmtree(work, ignore_errors=True)


def build(db_path: Path, corpus: Corpus, n: int, args: argparse.Namespace, rep: Report) -> None:
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db_path}{suffix}").unlink(missing_ok=True)
    db = open_db(db_path)
    taxonomy = corpus.taxonomy
    save_taxonomy(db, taxonomy.event_rows(), taxonomy.theme_rows(), taxonomy.version)
    save_sources(db, corpus.sources())
    rep.out("")
    rep.out("## Ingest")
    rep.out("")
    rep.out("| path | articles | wall s | CPU s | articles/s wall | articles/s CPU |")
    rep.out("|---|---:|---:|---:|---:|---:|")

    def line(label: str, k: int, c: Clock) -> None:
        rep.out(f"| {label} | {k:,} | {c.wall:,.1f} | {c.cpu:,.1f} | {k / c.wall:,.0f} | {k / max(c.cpu, 1e-9):,.0f} |")
        rep.figures.setdefault("ingest", {})[label] = {"articles": k, "wall_s": c.wall, "cpu_s": c.cpu}

    sample = n if args.ingest == "store" else min(n, args.store_sample)
    log(f"store path: {sample} articles through save_article")
    clock = ingest_store(db, corpus, range(sample), args.store_batch)
    line("save_article (empty archive)", sample, clock)
    rate = sample / clock.wall
    estimate = n / rate / 60
    bulk = args.ingest == "bulk" or (args.ingest == "auto" and estimate > args.budget_min)
    rep.figures["store_estimate_min"] = estimate
    if sample < n and not bulk:
        log(f"store path for the rest: {n - sample}")
        clock = ingest_store(db, corpus, range(sample, n), args.store_batch)
        line("save_article (rest)", n - sample, clock)
    elif sample < n:
        log(f"store path would take {estimate:.0f} min for {n}: bulk path for the rest")
        clocks = ingest_bulk(db, corpus, range(sample, n), args.bulk_batch, rep, args.reindex_workers)
        line("bulk insert_all (no FTS triggers)", n - sample, clocks["insert"])
        line("FTS rebuild (articles_fts, all)", n, clocks["fts"])
        line(f"archive.search_index.rebuild (all; {rep.figures['reindex_batches']:,} batches, "
             f"{args.reindex_workers or 'default'} workers, longest write "
             f"{rep.figures['reindex_max_write_s']:.2f} s)", n, clocks["reindex"])
        total = Clock(sum(c.wall for c in clocks.values()), sum(c.cpu for c in clocks.values()))
        line("bulk path total", n - sample, total)
    if args.tail:
        log(f"write path at size: {args.tail} more articles through save_article")
        clock = ingest_store(db, corpus, range(n, n + args.tail), args.store_batch)
        line(f"save_article into the full archive (+{args.tail:,})", args.tail, clock)
    rep.out("")
    rep.out(f"The store path at its empty-archive rate would take {estimate:,.1f} min for {n:,} articles; "
            f"used: {'bulk after the sample' if bulk and sample < n else 'store path throughout'}. "
            f"Peak RSS so far {maxrss_mb():,.0f} MB"
            + (f" (the search-index rebuild grew it by {rep.figures['reindex_rss_growth_mb']:,.0f} MB; the WAL "
               f"peaked at {rep.figures['reindex_peak_wal_mb']:,.0f} MB)."
               if "reindex_rss_growth_mb" in rep.figures else "."))
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.close()


if __name__ == "__main__":
    main()

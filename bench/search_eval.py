"""Search measured on the demo archive: recall@10, MRR and precision per approach, and index time.

The archive is the one ``reaim demo`` builds (40 articles in 9 languages,
crawled from the bundled sample site on 127.0.0.1, no translation), plus what
this bench adds to a copy in memory, never to the file:

* English titles (``title_en``) written by hand for 8 non-English articles,
  so that English queries can find them through the translation, as they
  would after ``reaim translate --pending``;
* 3 trap articles (ko, zh, ja) where a query's two characters stand side by
  side without being the word: 국회의원/기회의 (not 회의), 社会议题 (not 会议),
  東京都 (not 京都). They measure what character bigrams cost in precision.

Relevance is lexical and was judged by hand, article by article (the lists in
QUERIES): an article is relevant when it contains the query word in any
inflection, with particles attached, or inside a compound (Gipfel in
REAIM-Gipfel, 회의 in 고위급회의), in its original text or its English
translation. A multi-word query needs all its words.

Approaches:

* unicode61: the archive's current ``articles_fts`` (sqlite-utils default
  tokenizer), the query's words quoted, as Datasette's search box does;
* trigram: SQLite's FTS5 trigram tokenizer over the raw text;
* bigram: archive.search without stemming (CJK/Hangul bigrams, folded words);
* bigram+stem: archive.search as shipped (adds Snowball stems);
* kiwi+stem: Korean through Kiwi morphological analysis (kiwipiepy) instead
  of bigrams; skipped when kiwipiepy is not installed.

Figures: recall@10 = relevant in the top 10 / min(relevant, 10), averaged
over the queries that have relevant articles; MRR = 1 / rank of the first
relevant article (0 when none); precision = relevant matches / all matches,
over every match (not only the top 10), pooled over all queries; index time
per 1,000 articles = time to tokenise and index the bench's articles repeated
under new ids up to 1,000, word caches cold at the start (Kiwi's model load is
reported apart); query ms = median time of one query with snippets for all its
matches.

    python bench/search_eval.py                 # crawls the demo into a temp dir first (~5 s)
    python bench/search_eval.py --db demo.db    # an archive built by `reaim demo`
    python bench/search_eval.py -v              # and each query's misses and false matches
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import sqlite_utils  # noqa: E402

from archive import search as S  # noqa: E402

SITE = "http://reaim-sample.test/"


@dataclass
class Q:
    query: str
    relevant: list[str]  # article URLs without the site and ".html"
    language: str | None = None  # the --language filter, when the query is meant for one language
    kind: str = ""


# fmt: off
QUERIES_BY_LANGUAGE: dict[str, list[Q]] = {
    # Korean: two-syllable nouns with particles attached in the text, a noun typed with a particle, a verb.
    "ko": [
        Q('회의', ['cheongsol/news/read_20240910_1725', 'hanbit-news/view/HBN20230217004500', 'hanbit-news/view/HBN20231205178900', 'hanbit-news/view/HBN20241106081200', 'hanul-ilbo/news/opinion/20240911_editorial', 'mirinae/news/articleView/202409060031', 'mirinae/news/articleView/202409090187', 'mirinae/news/articleView/202409100244', 'mirinae/news/articleView/202602060015']),
        Q('군사', ['cheongsol/news/read_20240910_1725', 'hanbit-news/view/HBN20230217004500', 'hanbit-news/view/HBN20231205178900', 'hanbit-news/view/HBN20241106081200', 'hanul-ilbo/news/opinion/20240911_editorial', 'mirinae/news/articleView/202409060031', 'mirinae/news/articleView/202409090187', 'mirinae/news/articleView/202409100244', 'mirinae/news/articleView/202602060015']),
        Q('서울', ['cheongsol/news/read_20240910_1725', 'hanbit-news/view/HBN20230217004500', 'hanbit-news/view/HBN20231205178900', 'hanbit-news/view/HBN20241106081200', 'hanul-ilbo/news/opinion/20240911_editorial', 'mirinae/news/articleView/202409060031', 'mirinae/news/articleView/202409090187', 'mirinae/news/articleView/202409100244', 'mirinae/news/articleView/202602060015']),
        Q('청사진', ['hanul-ilbo/news/opinion/20240911_editorial', 'mirinae/news/articleView/202409060031', 'mirinae/news/articleView/202409090187', 'mirinae/news/articleView/202409100244', 'mirinae/news/articleView/202602060015']),
        Q('헤이그', ['hanbit-news/view/HBN20230217004500', 'hanbit-news/view/HBN20241106081200', 'hanul-ilbo/news/opinion/20240911_editorial', 'mirinae/news/articleView/202409060031', 'mirinae/news/articleView/202409100244', 'mirinae/news/articleView/202602060015']),
        Q('유엔', ['hanbit-news/view/HBN20231205178900', 'hanbit-news/view/HBN20241106081200', 'mirinae/news/articleView/202409060031', 'mirinae/news/articleView/202602060015']),
        Q('중국', ['hanbit-news/view/HBN20230217004500', 'hanul-ilbo/news/opinion/20240911_editorial', 'mirinae/news/articleView/202409060031', 'mirinae/news/articleView/202409100244', 'mirinae/news/articleView/202602060015']),
        Q('인공지능', ['cheongsol/news/read_20240910_1725', 'hanbit-news/view/HBN20230217004500', 'hanbit-news/view/HBN20231205178900', 'hanbit-news/view/HBN20241106081200', 'hanul-ilbo/news/opinion/20240911_editorial', 'mirinae/news/articleView/202409060031', 'mirinae/news/articleView/202409090187']),
        Q('핵무기', ['mirinae/news/articleView/202409100244']),
        Q('회의에서', ['cheongsol/news/read_20240910_1725', 'hanbit-news/view/HBN20230217004500', 'hanbit-news/view/HBN20231205178900', 'hanbit-news/view/HBN20241106081200', 'hanul-ilbo/news/opinion/20240911_editorial', 'mirinae/news/articleView/202409060031', 'mirinae/news/articleView/202409090187', 'mirinae/news/articleView/202409100244', 'mirinae/news/articleView/202602060015'], kind="particle in query"),
        Q('열리다', ['cheongsol/news/read_20240910_1725', 'hanbit-news/view/HBN20230217004500', 'hanbit-news/view/HBN20231205178900', 'hanbit-news/view/HBN20241106081200', 'mirinae/news/articleView/202409060031', 'mirinae/news/articleView/202409090187', 'mirinae/news/articleView/202409100244', 'mirinae/news/articleView/202602060015'], kind="verb, conjugated in the text"),
    ],
    # Chinese
    "zh": [
        Q('人工智能', ['huanyu-shibao/world/2023-02/17/content_118203', 'huanyu-shibao/world/2024-09/10/content_126577', 'huanyu-shibao/world/2026-02/06/content_139021']),
        Q('首尔峰会', ['huanyu-shibao/world/2024-09/10/content_126577']),
        Q('峰会', ['huanyu-shibao/world/2023-02/17/content_118203', 'huanyu-shibao/world/2024-09/10/content_126577', 'huanyu-shibao/world/2026-02/06/content_139021']),
        Q('核武器', ['huanyu-shibao/world/2024-09/10/content_126577']),
        Q('会议', ['huanyu-shibao/world/2023-02/17/content_118203', 'huanyu-shibao/world/2024-09/10/content_126577'], kind="trap: 社会议题"),
        Q('美国', ['huanyu-shibao/world/2023-02/17/content_118203', 'huanyu-shibao/world/2026-02/06/content_139021']),
    ],
    # Japanese
    "ja": [
        Q('軍事', ['toto-shimpo/articles/20230217-ts0102', 'toto-shimpo/articles/20240910-ts0211', 'toto-shimpo/articles/20260206-ts0033']),
        Q('会議', ['toto-shimpo/articles/20230217-ts0102', 'toto-shimpo/articles/20240910-ts0211', 'toto-shimpo/articles/20260206-ts0033']),
        Q('青写真', ['toto-shimpo/articles/20240910-ts0211']),
        Q('ソウル', ['toto-shimpo/articles/20240910-ts0211']),
        Q('米', ['toto-shimpo/articles/20230217-ts0102', 'toto-shimpo/articles/20240910-ts0211', 'toto-shimpo/articles/20260206-ts0033'], kind="one character"),
        Q('京都', [], kind="trap: 東京都"),
    ],
    # Russian
    "ru": [
        Q('Сеул', ['severny-vestnik/news/2024/09/10/seul-plan-deystviy-voennyy-ii', 'severny-vestnik/news/2026/02/06/la-korunya-35-gosudarstv-voennyy-ii'], kind="only inflected in the text"),
        Q('саммит', ['severny-vestnik/news/2023/02/16/gaaga-sammit-ii-voennaya-sfera', 'severny-vestnik/news/2024/09/10/seul-plan-deystviy-voennyy-ii', 'severny-vestnik/news/2026/02/06/la-korunya-35-gosudarstv-voennyy-ii']),
        Q('ИИ', ['severny-vestnik/news/2023/02/16/gaaga-sammit-ii-voennaya-sfera', 'severny-vestnik/news/2024/09/10/seul-plan-deystviy-voennyy-ii', 'severny-vestnik/news/2026/02/06/la-korunya-35-gosudarstv-voennyy-ii']),
        Q('документ', ['severny-vestnik/news/2023/02/16/gaaga-sammit-ii-voennaya-sfera', 'severny-vestnik/news/2024/09/10/seul-plan-deystviy-voennyy-ii', 'severny-vestnik/news/2026/02/06/la-korunya-35-gosudarstv-voennyy-ii']),
    ],
    # German
    "de": [
        Q('Gipfel', ['morgenkurier/politik/ausland/den-haag-gipfel-ki-militaer-beginnt-a-20230215', 'morgenkurier/politik/ausland/reaim-gipfel-seoul-aktionsplan-china-a-20240910', 'morgenkurier/politik/ausland/un-generalversammlung-resolution-ki-militaer-a-20250106']),
        Q('KI', ['morgenkurier/politik/ausland/den-haag-gipfel-ki-militaer-beginnt-a-20230215', 'morgenkurier/politik/ausland/reaim-gipfel-seoul-aktionsplan-china-a-20240910', 'morgenkurier/politik/ausland/un-generalversammlung-resolution-ki-militaer-a-20250106']),
        Q('Völkerrecht', ['morgenkurier/politik/ausland/den-haag-gipfel-ki-militaer-beginnt-a-20230215', 'morgenkurier/politik/ausland/reaim-gipfel-seoul-aktionsplan-china-a-20240910', 'morgenkurier/politik/ausland/un-generalversammlung-resolution-ki-militaer-a-20250106']),
        Q('Staaten', ['morgenkurier/politik/ausland/den-haag-gipfel-ki-militaer-beginnt-a-20230215', 'morgenkurier/politik/ausland/reaim-gipfel-seoul-aktionsplan-china-a-20240910', 'morgenkurier/politik/ausland/un-generalversammlung-resolution-ki-militaer-a-20250106']),
    ],
    # Dutch
    "nl": [
        Q('top', ['polderpost/nieuws/2023/02/14/den-haag-eerste-top-militaire-ai', 'polderpost/nieuws/2023/02/16/zestig-landen-haagse-oproep-militaire-ai', 'polderpost/nieuws/2026/02/05/brekelmans-militaire-ai-gevangenendilemma'], language='nl'),
        Q('militaire', ['echo-nations/international/2023/02/16/la-haye-sommet-ia-militaire-appel-action', 'echo-nations/international/2024/09/09/seoul-sommet-reaim-ia-champ-de-bataille', 'echo-nations/international/2026/02/05/la-corogne-35-etats-ia-militaire', 'polderpost/nieuws/2023/02/14/den-haag-eerste-top-militaire-ai', 'polderpost/nieuws/2023/02/16/zestig-landen-haagse-oproep-militaire-ai', 'polderpost/nieuws/2026/02/05/brekelmans-militaire-ai-gevangenendilemma']),
        Q('oproep', ['polderpost/nieuws/2023/02/14/den-haag-eerste-top-militaire-ai', 'polderpost/nieuws/2023/02/16/zestig-landen-haagse-oproep-militaire-ai', 'polderpost/nieuws/2026/02/05/brekelmans-militaire-ai-gevangenendilemma']),
    ],
    # French
    "fr": [
        Q('sommet', ['echo-nations/international/2023/02/16/la-haye-sommet-ia-militaire-appel-action', 'echo-nations/international/2024/09/09/seoul-sommet-reaim-ia-champ-de-bataille', 'echo-nations/international/2026/02/05/la-corogne-35-etats-ia-militaire']),
        Q('Séoul', ['echo-nations/international/2024/09/09/seoul-sommet-reaim-ia-champ-de-bataille', 'echo-nations/international/2026/02/05/la-corogne-35-etats-ia-militaire', 'huanyu-shibao/world/2024-09/10/content_126577', 'meridian-wire/2024/09/10/seoul-military-ai-blueprint-china', 'morgenkurier/politik/ausland/reaim-gipfel-seoul-aktionsplan-china-a-20240910', 'morgenkurier/politik/ausland/un-generalversammlung-resolution-ki-militaer-a-20250106', 'namsan-daily/2024/09/09/national/seoul-opens-second-reaim-summit', 'toto-shimpo/articles/20240910-ts0211'], kind="accent folding; en/de spell it Seoul"),
        Q('La Haye', ['echo-nations/international/2023/02/16/la-haye-sommet-ia-militaire-appel-action', 'echo-nations/international/2024/09/09/seoul-sommet-reaim-ia-champ-de-bataille', 'echo-nations/international/2026/02/05/la-corogne-35-etats-ia-militaire']),
    ],
    # Spanish
    "es": [
        Q('cumbre', ['cronica-peninsular/internacional/2023-02-16/la-haya-cumbre-ia-militar-llamamiento', 'cronica-peninsular/internacional/2024-09-10/seul-plan-accion-ia-militar-china', 'cronica-peninsular/internacional/2026-02-10/analisis-vias-para-la-accion-coruna', 'diario-orzan/2026/02/02/coruna-cumbre-reaim-palexco-preparativos', 'diario-orzan/2026/02/04/albares-inaugura-cumbre-reaim-control-humano', 'diario-orzan/2026/02/05/solo-35-paises-firman-vias-para-la-accion']),
        Q('Seúl', ['cronica-peninsular/internacional/2024-09-10/seul-plan-accion-ia-militar-china', 'cronica-peninsular/internacional/2026-02-10/analisis-vias-para-la-accion-coruna', 'diario-orzan/2026/02/02/coruna-cumbre-reaim-palexco-preparativos']),
        Q('Coruña', ['cronica-peninsular/internacional/2024-09-10/seul-plan-accion-ia-militar-china', 'cronica-peninsular/internacional/2026-02-10/analisis-vias-para-la-accion-coruna', 'diario-orzan/2026/02/02/coruna-cumbre-reaim-palexco-preparativos', 'diario-orzan/2026/02/05/solo-35-paises-firman-vias-para-la-accion', 'meridian-wire/2026/02/05/coruna-military-ai-pathways-35-states', 'namsan-daily/2024/09/09/national/seoul-opens-second-reaim-summit', 'polderpost/nieuws/2026/02/05/brekelmans-militaire-ai-gevangenendilemma'], kind="en spells it Coruna"),
    ],
    # English, and English through the translations
    "en": [
        Q('summit', ['huanyu-shibao/world/2023-02/17/content_118203', 'huanyu-shibao/world/2024-09/10/content_126577', 'lowlands-ledger/2023/02/13/hague-military-ai-summit-preview', 'lowlands-ledger/2023/02/17/analysis-hague-call-to-action-military-ai', 'lowlands-ledger/2023/06/21/global-commission-military-ai-agenda', 'meridian-wire/2023/11/14/us-political-declaration-military-ai-endorsement', 'meridian-wire/2024/09/10/seoul-military-ai-blueprint-china', 'meridian-wire/2026/02/05/coruna-military-ai-pathways-35-states', 'namsan-daily/2024/09/09/national/seoul-opens-second-reaim-summit', 'toto-shimpo/articles/20260206-ts0033']),
        Q('Hague', ['hanbit-news/view/HBN20230217004500', 'huanyu-shibao/world/2023-02/17/content_118203', 'lowlands-ledger/2023/02/13/hague-military-ai-summit-preview', 'lowlands-ledger/2023/02/17/analysis-hague-call-to-action-military-ai', 'lowlands-ledger/2023/06/21/global-commission-military-ai-agenda', 'meridian-wire/2023/11/14/us-political-declaration-military-ai-endorsement', 'meridian-wire/2024/09/10/seoul-military-ai-blueprint-china', 'namsan-daily/2024/09/09/national/seoul-opens-second-reaim-summit']),
        Q('blueprint', ['cronica-peninsular/internacional/2024-09-10/seul-plan-accion-ia-militar-china', 'hanul-ilbo/news/opinion/20240911_editorial', 'huanyu-shibao/world/2024-09/10/content_126577', 'meridian-wire/2024/09/10/seoul-military-ai-blueprint-china', 'mirinae/news/articleView/202409060031', 'mirinae/news/articleView/202409100244', 'morgenkurier/politik/ausland/reaim-gipfel-seoul-aktionsplan-china-a-20240910', 'namsan-daily/2024/09/09/national/seoul-opens-second-reaim-summit', 'severny-vestnik/news/2024/09/10/seul-plan-deystviy-voennyy-ii', 'toto-shimpo/articles/20240910-ts0211']),
        Q('human control', ['lowlands-ledger/2023/02/17/analysis-hague-call-to-action-military-ai', 'lowlands-ledger/2023/06/21/global-commission-military-ai-agenda', 'meridian-wire/2024/09/10/seoul-military-ai-blueprint-china']),
        Q('dilemma', ['meridian-wire/2026/02/05/coruna-military-ai-pathways-35-states', 'polderpost/nieuws/2026/02/05/brekelmans-militaire-ai-gevangenendilemma']),
    ],
}
QUERIES = [q for queries in QUERIES_BY_LANGUAGE.values() for q in queries]
LANGUAGE_OF_QUERY = {q.query: lang for lang, queries in QUERIES_BY_LANGUAGE.items() for q in queries}
# fmt: on

TITLE_EN = {
    "mirinae/news/articleView/202409100244": "REAIM high-level meeting adopts 'Blueprint for Action' and closes; China does not back it",
    "hanul-ilbo/news/opinion/20240911_editorial": "[Editorial] Military AI 'Blueprint for Action': from declaration to practice",
    "hanbit-news/view/HBN20230217004500": "First 'military AI' international conference in The Hague; about 60 countries join 'call to action'",
    "huanyu-shibao/world/2024-09/10/content_126577": "Seoul summit adopts 'Blueprint for Action'; China withholds support",
    "huanyu-shibao/world/2023-02/17/content_118203": "First summit on responsible AI in the military domain closes in The Hague; about 60 countries issue a 'call to action'",
    "toto-shimpo/articles/20240910-ts0211": "Military AI meeting closes in Seoul, adopting a 'Blueprint for Action'; China does not endorse",
    "toto-shimpo/articles/20260206-ts0033": "Military AI summit closes in Spain with only 35 signatories; US and China stay out",
    "polderpost/nieuws/2026/02/05/brekelmans-militaire-ai-gevangenendilemma": "Brekelmans in A Coruña: military AI is a prisoner's dilemma",
}

TRAPS = [
    ("trap/ko", "ko", "국회의원들, 청년 기회의 평등 논의",
     "국회의원들이 청년 일자리와 기회의 평등을 주제로 토론했다. 국회의장은 다음 달 관련 법안을 처리하겠다고 밝혔다."),
    ("trap/zh", "zh", "社会议题论坛关注教育公平", "本周举行的社会议题论坛讨论了教育公平和城市交通等问题。"),
    ("trap/ja", "ja", "東京都知事、五輪施設の活用を表明", "東京都の知事は、五輪施設の今後の活用について記者会見で表明した。"),
]


def slug(url: str) -> str:
    return url.removeprefix(SITE).removesuffix(".html")


def load_archive(path: Path) -> sqlite3.Connection:
    """A copy of the demo archive in memory, with the bench's translations and traps."""
    src = sqlite3.connect(path)
    conn = sqlite3.connect(":memory:")
    src.backup(conn)
    src.close()
    for article_id, url in conn.execute("select id, canonical_url from articles").fetchall():
        if slug(url) in TITLE_EN:
            conn.execute("update articles set title_en = ?, updated_at = 'bench' where id = ?",
                         [TITLE_EN[slug(url)], article_id])
    for trap_slug, language, title, text in TRAPS:
        conn.execute(
            "insert into articles (id, url, canonical_url, title, text, language, relevant, updated_at) "
            "values (?, ?, ?, ?, ?, ?, 1, 'bench')",
            [trap_slug, SITE + trap_slug, SITE + trap_slug, title, text, language],
        )
    conn.commit()
    return conn


# -- approaches ----------------------------------------------------------------

FIELDS = "title, text, title_en, text_en"
WEIGHTS = "3.0, 1.0, 3.0, 1.0"


@dataclass
class Approach:
    name: str
    build: Callable[[sqlite3.Connection], None]
    query: Callable[[sqlite3.Connection, str, str | None, int], list[str]]  # -> article ids, best first
    load_seconds: float = 0.0
    note: str = ""


def _raw_fts(tokenize: str) -> tuple[Callable[..., None], Callable[..., list[str]]]:
    def build(conn: sqlite3.Connection) -> None:
        conn.execute("drop table if exists bench_fts")
        conn.execute(f"create virtual table bench_fts using fts5(article_id unindexed, {FIELDS}{tokenize})")
        conn.execute(f"insert into bench_fts (article_id, {FIELDS}) select id, {FIELDS} from articles")
        conn.commit()

    def query(conn: sqlite3.Connection, q: str, language: str | None, limit: int) -> list[str]:
        # As Datasette's search box and sqlite-utils' search(quote=True): every word quoted.
        expr = " ".join('"' + w.replace('"', '""') + '"' for w in q.split())
        sql = (f"select b.article_id from bench_fts b join articles a on a.id = b.article_id "
               f"where bench_fts match ? and a.relevant = 1 and (? = '' or a.language = ?) "
               f"order by bm25(bench_fts, 0, {WEIGHTS}), a.published desc, a.id limit ?")
        return [r[0] for r in conn.execute(sql, [expr, language or "", language or "", limit])]

    return build, query


def _ours(analyzer: S.Analyzer) -> tuple[Callable[..., None], Callable[..., list[str]]]:
    def build(conn: sqlite3.Connection) -> None:
        S.reindex(sqlite_utils.Database(conn), analyzer=analyzer)

    def query(conn: sqlite3.Connection, q: str, language: str | None, limit: int) -> list[str]:
        return [r["id"] for r in S.search(sqlite_utils.Database(conn), q, language, limit, analyzer=analyzer)]

    return build, query


def approaches() -> list[Approach]:
    out = [
        Approach("unicode61", *_raw_fts(""), note="archive's articles_fts today"),
        Approach("trigram", *_raw_fts(", tokenize = 'trigram'")),
        Approach("bigram", *_ours(S.Analyzer(stem=False))),
        Approach("bigram+stem", *_ours(S.DEFAULT_ANALYZER), note="shipped"),
    ]
    try:
        import kiwipiepy  # noqa: F401
    except ImportError:
        print("kiwipiepy not installed: kiwi+stem skipped (pip install kiwipiepy)", file=sys.stderr)
    else:
        kiwi = S.Analyzer(korean="kiwi")
        t = time.perf_counter()
        kiwi.index_text("회의가 열렸다", "ko")  # loads the model
        out.append(Approach("kiwi+stem", *_ours(kiwi), load_seconds=time.perf_counter() - t))
    return out


# -- measuring -----------------------------------------------------------------


@dataclass
class Result:
    recall: list[float] = field(default_factory=list)
    rr: list[float] = field(default_factory=list)
    matched: int = 0
    correct: int = 0
    zero: int = 0
    by_language: dict[str, list[float]] = field(default_factory=dict)
    query_ms: list[float] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def evaluate(approach: Approach, conn: sqlite3.Connection) -> Result:
    slugs = {aid: slug(url) for aid, url in conn.execute("select id, canonical_url from articles")}
    res = Result()
    for q in QUERIES:
        t = time.perf_counter()
        ranked = [slugs[a] for a in approach.query(conn, q.query, q.language, 10_000)]
        res.query_ms.append((time.perf_counter() - t) * 1000)
        relevant = set(q.relevant)
        res.matched += len(ranked)
        res.correct += len([s for s in ranked if s in relevant])
        if not ranked:
            res.zero += 1
        false = [s for s in ranked if s not in relevant]
        if relevant:
            top = ranked[:10]
            recall = len(relevant & set(top)) / min(len(relevant), 10)
            first = next((i for i, s in enumerate(ranked, 1) if s in relevant), None)
            res.recall.append(recall)
            res.rr.append(1 / first if first else 0.0)
            res.by_language.setdefault(LANGUAGE_OF_QUERY[q.query], []).append(recall)
            missed = sorted(relevant - set(top))
        else:
            missed = []
        first_rank = next((i for i, s in enumerate(ranked, 1) if s in relevant), None)
        if missed or false or (first_rank or 1) > 1:
            res.notes.append(f"  {q.query!r}: first relevant at {first_rank}, missed {len(missed)}/{len(relevant)}"
                             + (f" {missed[:3]}" if missed else "") + f", false {len(false)}"
                             + (f" {false[:3]}" if false else ""))
    return res


def thousand_articles(base: sqlite3.Connection) -> sqlite3.Connection:
    """1,000 articles: the bench's articles repeated under new ids (word caches make repeats cheaper;
    n-grams, Kiwi and SQLite are paid in full)."""
    conn = sqlite3.connect(":memory:")
    base.backup(conn)
    rows = conn.execute("select * from articles").fetchall()
    columns = [d[1] for d in conn.execute("pragma table_info(articles)")]
    id_at = columns.index("id")
    copy = 0
    while conn.execute("select count(*) from articles").fetchone()[0] < 1000:
        copy += 1
        for row in rows[: 1000 - conn.execute("select count(*) from articles").fetchone()[0]]:
            new = list(row)
            new[id_at] = f"{row[id_at]}-{copy}"
            conn.execute(f"insert into articles values ({', '.join('?' * len(new))})", new)
    conn.commit()
    return conn


def index_seconds_per_1000(approach: Approach, conn: sqlite3.Connection) -> float:
    """Seconds to index ``conn``'s 1,000 articles, word caches cold at the start."""
    S._word_forms.cache_clear()
    S._stem.cache_clear()
    t = time.perf_counter()
    approach.build(conn)
    return time.perf_counter() - t


def build_demo(tmp: Path) -> Path:
    db = tmp / "demo.db"
    env = {**os.environ, "REAIM_TRANSLATOR": "none"}
    env.pop("REAIM_DB", None)
    subprocess.run([sys.executable, "-m", "reaim.cli", "demo", "--no-serve", "--db", str(db)],
                   cwd=ROOT, env=env, check=True, stdout=subprocess.DEVNULL)
    return db


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", type=Path, help="an archive built by `reaim demo` (default: build one now)")
    parser.add_argument("-v", "--verbose", action="store_true", help="each query's misses and false matches")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="reaim-search-eval-") as tmp:
        path = args.db or build_demo(Path(tmp))
        base = load_archive(path)
        n = base.execute("select count(*) from articles").fetchone()[0]
        langs = sorted({LANGUAGE_OF_QUERY[q.query] for q in QUERIES})
        print(f"{len(QUERIES)} queries ({', '.join(langs)}), {n} articles "
              f"({n - len(TRAPS)} demo + {len(TRAPS)} traps), {len(TITLE_EN)} with a hand-written title_en\n")
        header = (f"{'approach':<12} {'recall@10':>9} {'MRR':>6} {'precision':>9} {'no hit':>6} "
                  f"{'index s/1000':>12} {'query ms':>8}  recall@10 by language")
        print(header)
        print("-" * len(header))
        for approach in approaches():
            seconds = index_seconds_per_1000(approach, thousand_articles(base))
            conn = sqlite3.connect(":memory:")
            base.backup(conn)
            approach.build(conn)
            res = evaluate(approach, conn)
            per_lang = " ".join(f"{lang}={statistics.mean(v):.2f}" for lang, v in sorted(res.by_language.items()))
            precision = res.correct / res.matched if res.matched else 0.0
            load = f" (+{approach.load_seconds:.1f} s model load)" if approach.load_seconds else ""
            print(f"{approach.name:<12} {statistics.mean(res.recall):>9.3f} {statistics.mean(res.rr):>6.3f} "
                  f"{precision:>9.3f} {res.zero:>6} {seconds:>12.2f} {statistics.median(res.query_ms):>8.2f}  "
                  f"{per_lang}{load}")
            if args.verbose:
                print("\n".join(res.notes))
    return 0


if __name__ == "__main__":
    sys.exit(main())

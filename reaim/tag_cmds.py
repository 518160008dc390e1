"""``reaim retag`` and ``reaim eval``: re-apply the taxonomy to the archive, and measure the tagger.

The evaluation runs on the labelled set: the sample site's article pages
(``reaim/sample_site/expected.yaml``, endorsements in
``tests/fixtures/endorsements.yaml``), extracted as the crawler would, plus the
hand-written hard cases of ``tests/fixtures/tagging/*.yaml``. For each
article: detect the language (unless ``oracle_language``), score relevance,
tag, find endorsements; then compare with the labels:

* relevance precision and recall (all articles);
* primary-event accuracy, and precision / recall / F1 per event and per theme
  (micro-averaged too), on the articles relevant in the ground truth - the
  others never reach the tag stage's output;
* endorsement precision and recall, (state, stance, document) triples, on all
  articles (an endorsement read into a near miss is a false positive).

No translation: tags come from the original text. ``bench/eval_tags.py`` is
the same evaluation as a script.

Registered in reaim/cli.py beside the other command modules::

    from reaim.tag_cmds import eval_cmd, retag
    cli.add_command(retag)
    cli.add_command(eval_cmd, name="eval")

Like them, this module does not import reaim.cli (under ``python -m
reaim.cli`` a second copy of it would import this module half-initialised),
so ``--db`` and the one-line errors mirror reaim.cli's ``db_option`` and
``user_errors``; tests/unit/test_retag.py checks that ``--db`` stays the same.
"""

from __future__ import annotations

import sys
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import click
import yaml

from reaim.options import db_option, user_errors

ROOT = Path(__file__).resolve().parents[1]
SITE = ROOT / "reaim" / "sample_site"  # package data: there in any install


def _fixtures() -> Path:
    """The labelled articles live in the source tree's tests/fixtures (not in an installed package):
    beside this package in a checkout or an editable install, else under the working directory."""
    for candidate in (ROOT / "tests" / "fixtures", Path.cwd() / "tests" / "fixtures"):
        if (candidate / "endorsements.yaml").exists():
            return candidate
    return ROOT / "tests" / "fixtures"


FIXTURES = _fixtures()
ENDORSEMENT_LABELS = FIXTURES / "endorsements.yaml"
EXTRA_DIR = FIXTURES / "tagging"
FLOORS = {
    "relevance_precision": 0.95,
    "relevance_recall": 0.90,
    "primary_accuracy": 0.95,
    "theme_f1": 0.80,
    "endorsement_precision": 0.90,
}
_BASE = "http://127.0.0.1:8765"


# --- the labelled set -----------------------------------------------------------------------


@dataclass
class Labelled:
    id: str  # sample-site path or extra id
    source: str  # "site" or the fixture file's stem
    language: str  # the true language
    title: str
    text: str
    published: str | None
    relevant: bool
    primary_event: str | None
    events: set[str]
    themes: set[str]
    endorsements: set[tuple[str, str, str]]  # (state, stance, document)


def _triples(items: Any) -> set[tuple[str, str, str]]:
    return {(e["state"], e["stance"], e["document"]) for e in items or []}


def _extract(html: str, url: str) -> tuple[str, str]:
    import trafilatura

    doc = trafilatura.bare_extraction(html, url=url, with_metadata=True, include_comments=False)
    title = text = ""
    if doc is not None:
        title = (getattr(doc, "title", None) or "").strip()
        text = (getattr(doc, "text", None) or "").strip()
    if not text:
        text = (trafilatura.extract(html, url=url, include_comments=False) or "").strip()
    return title, text


_SITE_CACHE: dict[tuple[Path, Path], list[Labelled]] = {}


def load_site(site: Path = SITE, endorsements: Path = ENDORSEMENT_LABELS) -> list[Labelled]:
    """The sample site's article pages, extracted with trafilatura (cached per process)."""
    key = (site.resolve(), endorsements.resolve())
    if key in _SITE_CACHE:
        return list(_SITE_CACHE[key])
    expected = yaml.safe_load((site / "expected.yaml").read_text(encoding="utf-8"))
    articles = expected.get("articles", expected)
    if isinstance(articles, list):
        articles = {a["path"]: a for a in articles}
    manifest = yaml.safe_load((site / "site.yaml").read_text(encoding="utf-8"))
    files = {entry["path"]: entry["file"] for entry in manifest["pages"]}
    if not endorsements.is_file():
        raise FileNotFoundError(f"{endorsements}: no endorsement labels (they are in a source checkout's tests/fixtures)")
    labels = yaml.safe_load(endorsements.read_text(encoding="utf-8")) or {}
    unknown = set(labels) - set(articles)
    if unknown:
        raise ValueError(f"{endorsements}: not articles of expected.yaml: {', '.join(sorted(unknown))}")
    out = []
    for path, truth in articles.items():
        if path not in files:
            print(f"warning: {path} is in expected.yaml but not in site.yaml", file=sys.stderr)
            continue
        html = (site / files[path]).read_text(encoding="utf-8").replace("{{BASE}}", _BASE)
        title, text = _extract(html, _BASE + path)
        out.append(
            Labelled(
                id=path,
                source="site",
                language=truth["language"],
                title=title,
                text=text,
                published=truth.get("published"),
                relevant=bool(truth["relevant"]),
                primary_event=truth.get("primary_event"),
                events=set(truth.get("events") or []),
                themes=set(truth.get("themes") or []),
                endorsements=_triples(labels.get(path)),
            )
        )
    _SITE_CACHE[key] = out
    return list(out)


_REQUIRED = ("id", "language", "title", "text", "relevant", "primary_event", "events", "themes", "endorsements")


def load_extra(directory: Path = EXTRA_DIR) -> list[Labelled]:
    """The hand-written articles of every ``*.yaml`` in ``directory``."""
    if not directory.is_dir():
        raise FileNotFoundError(f"{directory}: no labelled articles here (they are in a source checkout's tests/fixtures)")
    out: list[Labelled] = []
    seen: set[str] = set()
    for path in sorted(directory.glob("*.yaml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for i, item in enumerate(data.get("articles") or []):
            missing = [k for k in _REQUIRED if k not in item]
            if missing:
                raise ValueError(f"{path}: article {i} ({item.get('id')!r}) lacks {', '.join(missing)}")
            if item["id"] in seen:
                raise ValueError(f"{path}: duplicate id {item['id']!r}")
            seen.add(item["id"])
            published = item.get("published")
            out.append(
                Labelled(
                    id=item["id"],
                    source=path.stem,
                    language=item["language"],
                    title=item["title"].strip(),
                    text=item["text"].strip(),
                    published=str(published) if published else None,
                    relevant=bool(item["relevant"]),
                    primary_event=item["primary_event"],
                    events=set(item["events"] or []),
                    themes=set(item["themes"] or []),
                    endorsements=_triples(item["endorsements"]),
                )
            )
    return out


def load_labelled_set(
    site: Path = SITE, endorsements: Path = ENDORSEMENT_LABELS, extra: Path = EXTRA_DIR
) -> list[Labelled]:
    return load_site(site, endorsements) + load_extra(extra)


# --- evaluation -------------------------------------------------------------------------------


def _ratio(a: float, b: float) -> float:
    return a / b if b else 0.0


@dataclass
class Counts:
    tp: int = 0
    fp: int = 0
    fn: int = 0

    def add(self, got: set[Any], want: set[Any]) -> None:
        self.tp += len(got & want)
        self.fp += len(got - want)
        self.fn += len(want - got)

    @property
    def precision(self) -> float:
        return _ratio(self.tp, self.tp + self.fp)

    @property
    def recall(self) -> float:
        return _ratio(self.tp, self.tp + self.fn)

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return _ratio(2 * p * r, p + r)


@dataclass
class EvalReport:
    articles: int = 0
    languages: dict[str, int] = field(default_factory=dict)
    relevance: Counts = field(default_factory=Counts)
    primary_ok: int = 0
    primary_n: int = 0
    events: dict[str, Counts] = field(default_factory=lambda: defaultdict(Counts))
    themes: dict[str, Counts] = field(default_factory=lambda: defaultdict(Counts))
    endorsements: Counts = field(default_factory=Counts)
    problems: list[tuple[str, list[str]]] = field(default_factory=list)
    seconds: float = 0.0

    def micro(self, per: dict[str, Counts]) -> Counts:
        total = Counts()
        for c in per.values():
            total.tp, total.fp, total.fn = total.tp + c.tp, total.fp + c.fp, total.fn + c.fn
        return total

    def figures(self) -> dict[str, float]:
        ev, th = self.micro(self.events), self.micro(self.themes)
        return {
            "articles": self.articles,
            "relevance_precision": round(self.relevance.precision, 3),
            "relevance_recall": round(self.relevance.recall, 3),
            "primary_accuracy": round(_ratio(self.primary_ok, self.primary_n), 3),
            "event_precision": round(ev.precision, 3),
            "event_recall": round(ev.recall, 3),
            "event_f1": round(ev.f1, 3),
            "theme_precision": round(th.precision, 3),
            "theme_recall": round(th.recall, 3),
            "theme_f1": round(th.f1, 3),
            "endorsement_precision": round(self.endorsements.precision, 3),
            "endorsement_recall": round(self.endorsements.recall, 3),
            "endorsement_f1": round(self.endorsements.f1, 3),
            "ms_per_article": round(1000 * self.seconds / max(1, self.articles), 1),
        }


def evaluate(
    articles: list[Labelled], taxonomy: Any = None, *, oracle_language: bool = False, threshold: float = 0.5
) -> EvalReport:
    from pipeline.endorse import find_endorsements
    from pipeline.language import detect_language
    from pipeline.relevance import score_relevance
    from pipeline.tag import tag_article
    from pipeline.taxonomy import load_taxonomy

    taxonomy = taxonomy or load_taxonomy()
    report = EvalReport()
    for e in taxonomy.events:
        report.events[e.id]
    for t in taxonomy.themes:
        report.themes[t.id]
    started = time.perf_counter()
    for a in articles:
        report.articles += 1
        report.languages[a.language] = report.languages.get(a.language, 0) + 1
        language = a.language if oracle_language else detect_language(f"{a.title}\n{a.text}").language
        rel = score_relevance(a.title, a.text, language, taxonomy.lexicon, threshold)
        tags = tag_article(a.title, a.text, language, a.published, taxonomy)
        got_end = {
            (x.state, x.stance, x.document)
            for x in find_endorsements(a.title, a.text, language, taxonomy, tags.primary_event, tags.events)
        }
        report.relevance.add({a.id} if rel.relevant else set(), {a.id} if a.relevant else set())
        report.endorsements.add(got_end, a.endorsements)
        problems = []
        if rel.relevant != a.relevant:
            problems.append(f"relevance {rel.score} (want {a.relevant}) evidence={rel.evidence[:8]}")
        if got_end != a.endorsements:
            problems.append(f"endorsements +{sorted(got_end - a.endorsements)} -{sorted(a.endorsements - got_end)}")
        if a.relevant:
            report.primary_n += 1
            if tags.primary_event == a.primary_event:
                report.primary_ok += 1
            else:
                problems.append(f"primary {tags.primary_event} (want {a.primary_event})")
            got_e, got_t = set(tags.events), set(tags.themes)
            for eid in got_e | a.events:
                report.events[eid].add(got_e & {eid}, a.events & {eid})
            for tid in got_t | a.themes:
                report.themes[tid].add(got_t & {tid}, a.themes & {tid})
            if got_e != a.events:
                problems.append(f"events +{sorted(got_e - a.events)} -{sorted(a.events - got_e)}")
            if got_t != a.themes:
                extra = {t: tags.evidence[t]["terms"] for t in sorted(got_t - a.themes)}
                problems.append(f"themes +{extra} -{sorted(a.themes - got_t)}")
        if problems:
            report.problems.append((f"{a.id} [{a.language}/{language}] {a.title[:60]!r}", problems))
    report.seconds = time.perf_counter() - started
    return report


def format_report(report: EvalReport, *, verbose: bool = False, floors: dict[str, float] | None = None) -> str:
    floors = FLOORS if floors is None else floors
    lines = []
    langs = ", ".join(f"{k} {v}" for k, v in sorted(report.languages.items()))
    lines.append(f"{report.articles} labelled articles ({langs})")
    lines.append("")
    lines.append(f"{'tag':32} {'P':>6} {'R':>6} {'F1':>6} {'tp':>4} {'fp':>4} {'fn':>4}")

    def row(name: str, c: Counts) -> str:
        return f"{name:32} {c.precision:6.3f} {c.recall:6.3f} {c.f1:6.3f} {c.tp:4} {c.fp:4} {c.fn:4}"

    for title, per in (("events", report.events), ("themes", report.themes)):
        lines.append(f"-- {title}")
        lines += [row(k, c) for k, c in per.items()]
        lines.append(row(f"({title}, micro)", report.micro(per)))
    lines.append("-- relevance and endorsements")
    lines.append(row("relevance", report.relevance))
    lines.append(row("endorsements", report.endorsements))
    lines.append("")
    for key, value in report.figures().items():
        floor = floors.get(key)
        mark = "" if floor is None else ("  ok" if value >= floor else f"  BELOW {floor}")
        lines.append(f"{key:22} {value}{mark}")
    if verbose and report.problems:
        lines.append("")
        for head, problems in report.problems:
            lines.append(head)
            lines += ["    " + p for p in problems]
    return "\n".join(lines)


def below_floors(report: EvalReport, floors: dict[str, float] | None = None) -> list[str]:
    figures = report.figures()
    return [k for k, v in (FLOORS if floors is None else floors).items() if figures[k] < v]


# --- commands ---------------------------------------------------------------------------------


@click.command()
@db_option
@click.option("--batch-size", type=click.IntRange(1), default=200, show_default=True,
              help="Articles per transaction.")
@click.option("--taxonomy", "taxonomy_dir", type=click.Path(exists=True, path_type=Path), default=None,
              help="Taxonomy directory (default: the packaged pipeline/taxonomy, or $TAG_TAXONOMY).")
@user_errors
def retag(db: Path, batch_size: int, taxonomy_dir: Path | None) -> None:
    """Re-apply the current taxonomy to every archived article.

    Events, themes, the primary event and endorsements are recomputed from
    each article's text and English translation, and written with the
    taxonomy's version, one transaction per batch. Relevance is not
    re-scored. Prints how many tags changed.

    \b
    Example:
      reaim retag --db reaim.db
    """
    import os

    from archive.schema import open_db
    from pipeline.retag import retag_archive
    from pipeline.taxonomy import load_taxonomy

    if not db.exists():
        raise click.ClickException(f"no archive at {db}")
    taxonomy = load_taxonomy(taxonomy_dir or os.environ.get("TAG_TAXONOMY") or None)
    report = retag_archive(open_db(db), taxonomy, batch_size=batch_size)
    click.echo(report.summary())


@click.command("eval")
@click.option("-v", "--verbose", is_flag=True, help="Also print every disagreement with its evidence.")
@click.option("--oracle-language", is_flag=True, help="Use the labelled language instead of detecting it.")
@click.option("--check", is_flag=True, help="Exit with 1 when a figure is below its floor.")
@click.option("--site", type=click.Path(exists=True, file_okay=False, path_type=Path), default=SITE,
              show_default="the bundled sample site", help="Sample site directory (expected.yaml, site.yaml).")
@click.option("--extra", type=click.Path(file_okay=False, path_type=Path), default=EXTRA_DIR,
              show_default="tests/fixtures/tagging", help="Directory of hand-labelled articles (*.yaml).")
@click.option("--endorsements", "labels", type=click.Path(dir_okay=False, path_type=Path), default=ENDORSEMENT_LABELS,
              show_default="tests/fixtures/endorsements.yaml", help="The sample site's endorsement labels.")
@user_errors
def eval_cmd(verbose: bool, oracle_language: bool, check: bool, site: Path, extra: Path, labels: Path) -> None:
    """Measure relevance, tagging and endorsements against the labelled articles.

    Prints precision, recall and F1 per event and per theme, primary-event
    accuracy, relevance and endorsement precision/recall, on the sample
    site's pages plus the hand-written hard cases.

    \b
    Example:
      reaim eval -v
      reaim eval --check     # exit 1 below the floors
    """
    articles = load_labelled_set(site=site, endorsements=labels, extra=extra)
    report = evaluate(articles, oracle_language=oracle_language)
    click.echo(format_report(report, verbose=verbose))
    if check and below_floors(report):
        sys.exit(1)

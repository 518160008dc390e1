"""Relevance and tagging measured against the sample site's ground truth.

For every article page listed in ``reaim/sample_site/expected.yaml``: take its
template (``site.yaml`` says which file), extract the visible text with
trafilatura, detect the language, score relevance and tag, then compare:

* relevance precision and recall (all articles),
* primary-event accuracy (articles that are relevant in the ground truth),
* event-set micro-F1 and theme micro-F1 (same articles).

The publication time is the ground truth's (this measures the stages, not
date extraction); the language is detected unless ``--oracle-language``.
No translation: the tags come from the original text only.

    python bench/eval_tags.py            # figures
    python bench/eval_tags.py -v         # and every disagreement
    python bench/eval_tags.py --check    # exit 1 below the floors
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from pipeline.language import detect_language  # noqa: E402
from pipeline.relevance import score_relevance  # noqa: E402
from pipeline.tag import tag_article  # noqa: E402
from pipeline.taxonomy import load_taxonomy  # noqa: E402

SITE = ROOT / "reaim" / "sample_site"
FLOORS = {"relevance_precision": 0.95, "relevance_recall": 0.90, "primary_accuracy": 0.95, "theme_f1": 0.80}


@dataclass
class Page:
    path: str
    title: str
    text: str
    truth: dict[str, Any]


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


def load_pages(site: Path) -> list[Page]:
    expected = yaml.safe_load((site / "expected.yaml").read_text(encoding="utf-8"))
    articles = expected.get("articles", expected)
    if isinstance(articles, list):
        articles = {a["path"]: a for a in articles}
    manifest = yaml.safe_load((site / "site.yaml").read_text(encoding="utf-8"))
    files = {entry["path"]: entry["file"] for entry in manifest["pages"]}
    base = "http://127.0.0.1:8765"
    pages = []
    for path, truth in articles.items():
        if path not in files:
            print(f"warning: {path} is in expected.yaml but not in site.yaml", file=sys.stderr)
            continue
        html = (site / files[path]).read_text(encoding="utf-8").replace("{{BASE}}", base)
        title, text = _extract(html, base + path)
        pages.append(Page(path, title, text, truth))
    return pages


def _ratio(a: float, b: float) -> float:
    return a / b if b else 0.0


def _f1(tp: int, fp: int, fn: int) -> float:
    p, r = _ratio(tp, tp + fp), _ratio(tp, tp + fn)
    return _ratio(2 * p * r, p + r)


def evaluate(
    pages: list[Page], *, oracle_language: bool = False, verbose: bool = False, threshold: float = 0.5
) -> dict[str, float]:
    taxonomy = load_taxonomy()
    rel_tp = rel_fp = rel_fn = 0
    primary_ok = primary_n = 0
    ev = [0, 0, 0]
    th = [0, 0, 0]
    started = time.perf_counter()
    for page in pages:
        truth = page.truth
        language = truth["language"] if oracle_language else detect_language(f"{page.title}\n{page.text}").language
        rel = score_relevance(page.title, page.text, language, taxonomy.lexicon, threshold)
        tags = tag_article(page.title, page.text, language, truth.get("published"), taxonomy)
        want_rel = bool(truth["relevant"])
        rel_tp += rel.relevant and want_rel
        rel_fp += rel.relevant and not want_rel
        rel_fn += want_rel and not rel.relevant
        problems = []
        if rel.relevant != want_rel:
            problems.append(f"relevance {rel.score} (want {want_rel}) evidence={rel.evidence[:8]}")
        if want_rel:
            primary_n += 1
            if tags.primary_event == truth.get("primary_event"):
                primary_ok += 1
            else:
                problems.append(f"primary {tags.primary_event} (want {truth.get('primary_event')})")
            got_e, want_e = set(tags.events), set(truth.get("events") or [])
            ev[0] += len(got_e & want_e)
            ev[1] += len(got_e - want_e)
            ev[2] += len(want_e - got_e)
            if got_e != want_e:
                problems.append(f"events +{sorted(got_e - want_e)} -{sorted(want_e - got_e)}")
            got_t, want_t = set(tags.themes), set(truth.get("themes") or [])
            th[0] += len(got_t & want_t)
            th[1] += len(got_t - want_t)
            th[2] += len(want_t - got_t)
            if got_t != want_t:
                extra = {t: tags.evidence[t]["terms"] for t in sorted(got_t - want_t)}
                problems.append(f"themes +{extra} -{sorted(want_t - got_t)}")
        if verbose and problems:
            print(f"{page.path} [{truth['language']}/{language}] {page.title[:70]!r}")
            for problem in problems:
                print("    " + problem)
            if tags.events and verbose:
                print(
                    "    evidence: "
                    + "; ".join(f"{e}={tags.evidence[e]['score']}:{tags.evidence[e]['terms'][:6]}" for e in tags.events)
                )
    elapsed = time.perf_counter() - started
    return {
        "articles": len(pages),
        "relevance_precision": round(_ratio(rel_tp, rel_tp + rel_fp), 3),
        "relevance_recall": round(_ratio(rel_tp, rel_tp + rel_fn), 3),
        "primary_accuracy": round(_ratio(primary_ok, primary_n), 3),
        "event_f1": round(_f1(*ev), 3),
        "theme_f1": round(_f1(*th), 3),
        "theme_precision": round(_ratio(th[0], th[0] + th[1]), 3),
        "theme_recall": round(_ratio(th[0], th[0] + th[2]), 3),
        "ms_per_article": round(1000 * elapsed / max(1, len(pages)), 1),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--site", type=Path, default=SITE, help="sample site directory (expected.yaml, site.yaml)")
    parser.add_argument("-v", "--verbose", action="store_true", help="print every disagreement with its evidence")
    parser.add_argument("--oracle-language", action="store_true", help="use the ground-truth language")
    parser.add_argument("--threshold", type=float, default=0.5, help="relevance threshold")
    parser.add_argument("--check", action="store_true", help="exit 1 if a figure is below its floor")
    args = parser.parse_args(argv)
    pages = load_pages(args.site)
    figures = evaluate(pages, oracle_language=args.oracle_language, verbose=args.verbose, threshold=args.threshold)
    for key, value in figures.items():
        floor = FLOORS.get(key)
        mark = "" if floor is None else ("  ok" if value >= floor else f"  BELOW {floor}")
        print(f"{key:22} {value}{mark}")
    if args.check and any(figures[k] < v for k, v in FLOORS.items()):
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

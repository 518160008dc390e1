"""Relevance, tagging and endorsements measured against the labelled articles.

The labelled set: every article page of the sample site
(``reaim/sample_site/expected.yaml``; endorsements in
``tests/fixtures/endorsements.yaml``), extracted with trafilatura as the
crawler would, plus the hand-written hard cases of
``tests/fixtures/tagging/*.yaml`` (Korean particles, Russian cases, Chinese
and Japanese without spaces, previews, follow-ups, near misses). For each:
detect the language, score relevance, tag, find endorsements; then compare:

* relevance precision and recall (all articles),
* primary-event accuracy; precision, recall and F1 per event and per theme,
  and micro-averaged (articles relevant in the ground truth),
* endorsement precision and recall (all articles).

The publication time is the ground truth's (this measures the stages, not
date extraction); the language is detected unless ``--oracle-language``.
No translation: the tags come from the original text only. ``reaim eval``
runs the same evaluation (the code is in ``reaim/tag_cmds.py``).

    python bench/eval_tags.py            # figures
    python bench/eval_tags.py -v         # and every disagreement
    python bench/eval_tags.py --check    # exit 1 below the floors
    python bench/eval_tags.py --site-only  # the sample site alone (the figures before the hard cases)
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from reaim.tag_cmds import (  # noqa: E402
    ENDORSEMENT_LABELS,
    EXTRA_DIR,
    FLOORS,
    SITE,
    below_floors,
    evaluate,
    format_report,
    load_extra,
    load_site,
)

__all__ = ["FLOORS", "main"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--site", type=Path, default=SITE, help="sample site directory (expected.yaml, site.yaml)")
    parser.add_argument("--extra", type=Path, default=EXTRA_DIR, help="directory of hand-labelled articles (*.yaml)")
    parser.add_argument("--site-only", action="store_true", help="the sample site's pages alone")
    parser.add_argument("-v", "--verbose", action="store_true", help="print every disagreement with its evidence")
    parser.add_argument("--oracle-language", action="store_true", help="use the ground-truth language")
    parser.add_argument("--threshold", type=float, default=0.5, help="relevance threshold")
    parser.add_argument("--check", action="store_true", help="exit 1 if a figure is below its floor")
    args = parser.parse_args(argv)
    articles = load_site(args.site, ENDORSEMENT_LABELS)
    if not args.site_only:
        articles += load_extra(args.extra)
    report = evaluate(articles, oracle_language=args.oracle_language, threshold=args.threshold)
    print(format_report(report, verbose=args.verbose))
    return 1 if args.check and below_floors(report) else 0


if __name__ == "__main__":
    raise SystemExit(main())

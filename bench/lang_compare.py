"""Language detectors compared on the labelled set (tests/fixtures/langid/labelled.yaml).

Raw detectors (text only, best guess, no cascade): langdetect as the pipeline
used it (seeded, renormalised over the tracked languages), lingua restricted
to the nine tracked languages in high- and low-accuracy mode, py3langid
restricted with ``set_languages``, and py3langid's full model renormalised
the way the pipeline runs it. Then the whole cascade
(``pipeline.language.detect_language``) with each backend, text only and
with the correct hint given as the source's language.

Per row: accuracy by kind (title / sentence / paragraph), docs/s (best of
three passes over the set) and memory: VmRSS growth (read from
/proc/self/status) from before the import to after a warm-up paragraph per
language ("load MB") and to after the last pass ("RSS MB"). Each row runs in its own
subprocess so one model's memory or warm caches do not leak into the next.
Then the confusion matrix of the default cascade, text only.

    pip install lingua-language-detector py3langid   # the optional ones
    python bench/lang_compare.py
    python bench/lang_compare.py -v        # and every miss of the default
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from pipeline.language import DEFAULT_DETECTOR, DETECTORS, TRACKED, detect_language  # noqa: E402

LABELLED = ROOT / "tests" / "fixtures" / "langid" / "labelled.yaml"
KINDS = ("title", "sentence", "paragraph")
LANGS = sorted(TRACKED)
RAW = ("langdetect", "lingua", "lingua-low", "py3langid", "py3langid-all")
Classify = Callable[[str], tuple[str, float]]


def load_set() -> list[dict[str, str]]:
    return yaml.safe_load(LABELLED.read_text(encoding="utf-8"))


def rss_mb() -> float:
    """Resident memory now, from the kernel: no psutil needed."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def _raw(name: str) -> Classify:
    """Build one raw detector; imports happen here so their memory is measured."""
    if name == "langdetect":
        from pipeline.language import _langdetect

        return lambda t: (_langdetect(t) or [("und", 0.0)])[0]
    if name.startswith("lingua"):
        from lingua import IsoCode639_1, LanguageDetectorBuilder

        builder = LanguageDetectorBuilder.from_iso_codes_639_1(*[IsoCode639_1.from_str(c) for c in LANGS])
        if name == "lingua-low":
            builder = builder.with_low_accuracy_mode()
        det = builder.with_preloaded_language_models().build()

        def lingua(t: str) -> tuple[str, float]:
            values = det.compute_language_confidence_values(t)
            return (values[0].language.iso_code_639_1.name.lower(), values[0].value) if values else ("und", 0.0)

        return lingua
    if name.startswith("py3langid"):
        from py3langid.langid import MODEL_FILE, LanguageIdentifier

        ident = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
        if name == "py3langid":
            ident.set_languages(LANGS)
            return lambda t: ident.classify(t)
        from pipeline.language import _renormalise

        return lambda t: _renormalise(ident.rank(t))[0]
    raise ValueError(name)


def _cascade(name: str, hinted: bool, texts: list[dict[str, str]]) -> Callable[[int], tuple[str, float]]:
    def run(i: int) -> tuple[str, float]:
        hints = {"source": texts[i]["language"]} if hinted else None
        r = detect_language(texts[i]["text"], hints, detector=name)
        return r.language, r.confidence

    return run


def child(row: str) -> dict[str, Any]:
    """Measure one row in this (fresh) process."""
    texts = load_set()
    before = rss_mb()
    if row.startswith("cascade"):
        kind, name = row.split(":")
        fn = _cascade(name, kind == "cascade+hint", texts)
    else:
        raw = _raw(row)
        fn = lambda i: raw(texts[i]["text"])  # noqa: E731
    for lang in LANGS:  # warm up: lazy models (langdetect, lingua) load on first use
        fn(next(i for i, t in enumerate(texts) if t["language"] == lang and t["kind"] == "paragraph"))
    loaded = rss_mb()
    best = float("inf")
    preds: list[tuple[str, float]] = []
    for _ in range(3):
        start = time.perf_counter()
        preds = [fn(i) for i in range(len(texts))]
        best = min(best, time.perf_counter() - start)
    return {"row": row, "preds": preds, "docs_per_s": len(texts) / best,
            "load_mb": loaded - before, "rss_mb": rss_mb() - before}


def run_child(row: str) -> dict[str, Any]:
    proc = subprocess.run([sys.executable, __file__, "--child", row], capture_output=True, text=True)
    if proc.returncode:
        last = (proc.stderr.strip().splitlines() or ["failed"])[-1]
        return {"row": row, "error": last}
    return json.loads(proc.stdout.strip().splitlines()[-1])


def accuracy(texts: list[dict[str, str]], preds: list[tuple[str, float]]) -> dict[str, float]:
    out = {}
    for kind in (*KINDS, "all"):
        idx = [i for i, t in enumerate(texts) if kind in ("all", t["kind"])]
        out[kind] = sum(preds[i][0] == texts[i]["language"] for i in idx) / len(idx)
    titles = [i for i, t in enumerate(texts) if t["kind"] == "title"]
    out["confident_wrong_titles"] = sum(
        preds[i][0] != texts[i]["language"] and preds[i][0] != "und" and preds[i][1] >= 0.5 for i in titles
    )
    return out


def confusion(texts: list[dict[str, str]], preds: list[tuple[str, float]]) -> str:
    cols = LANGS + sorted({p for p, _ in preds} - set(LANGS))
    lines = ["truth\\pred " + " ".join(f"{c:>4}" for c in cols)]
    for lang in LANGS:
        counts = Counter(p for (p, _), t in zip(preds, texts, strict=True) if t["language"] == lang)
        lines.append(f"{lang:<10} " + " ".join(f"{counts[c] or '.':>4}" for c in cols))
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--child", help=argparse.SUPPRESS)
    ap.add_argument("-v", "--verbose", action="store_true", help="list every miss of the default cascade")
    args = ap.parse_args()
    if args.child:
        print(json.dumps(child(args.child)))
        return

    texts = load_set()
    counts = Counter(t["kind"] for t in texts)
    print(f"{len(texts)} texts, {len(set(t['language'] for t in texts))} languages: "
          + ", ".join(f"{counts[k]} {k}s" for k in KINDS) + "\n")
    rows = list(RAW) + [f"cascade:{d}" for d in DETECTORS] + [f"cascade+hint:{d}" for d in DETECTORS]
    results = {row: run_child(row) for row in rows}

    header = f"{'detector':<26}{'title':>7}{'sent.':>7}{'para.':>7}{'all':>7}{'docs/s':>9}{'load MB':>9}{'RSS MB':>8}{'conf.wrong':>11}"
    print(header)
    print("-" * len(header))
    for row in rows:
        r = results[row]
        if "error" in r:
            print(f"{row:<26}  unavailable: {r['error']}")
            continue
        a = accuracy(texts, [tuple(p) for p in r["preds"]])
        print(f"{row:<26}" + "".join(f"{a[k]:>7.1%}" for k in (*KINDS, "all"))
              + f"{r['docs_per_s']:>9.0f}{r['load_mb']:>9.0f}{r['rss_mb']:>8.0f}{a['confident_wrong_titles']:>11}")
    print("\nconf.wrong: titles labelled wrong with confidence >= 0.5 (raw rows: the detector's own score)")

    default = results.get(f"cascade:{DEFAULT_DETECTOR}", {})
    if "preds" in default:
        preds = [tuple(p) for p in default["preds"]]
        print(f"\nconfusion matrix, cascade with {DEFAULT_DETECTOR} (the default), text only:\n")
        print(confusion(texts, preds))  # type: ignore[arg-type]
        if args.verbose:
            for (p, c), t in zip(preds, texts, strict=True):
                if p != t["language"]:
                    print(f"  {t['language']} -> {p} ({c:.2f}) [{t['kind']}] {t['text'][:70]}")


if __name__ == "__main__":
    main()

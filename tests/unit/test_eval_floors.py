"""The tagger's figures on the whole labelled set stay above their floors (``reaim eval`` measures the same)."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from reaim.tag_cmds import EvalReport, eval_cmd, evaluate, format_report, load_extra, load_labelled_set

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"  # this checkout's, whatever is installed
LABELS, EXTRA = FIXTURES / "endorsements.yaml", FIXTURES / "tagging"


def labelled():  # type: ignore[no-untyped-def]
    return load_labelled_set(endorsements=LABELS, extra=EXTRA)


@pytest.fixture(scope="module")
def report() -> EvalReport:
    return evaluate(labelled())


def test_the_labelled_set_is_large_multilingual_and_hard() -> None:
    articles = labelled()
    extra = load_extra(EXTRA)
    assert len(articles) >= 80
    assert len({a.language for a in articles}) >= 9
    assert len(extra) >= 25
    assert sum(not a.relevant for a in extra) >= 5  # near misses
    assert len({a.language for a in extra}) >= 9
    assert sum(bool(a.endorsements) for a in articles) >= 30


def test_floors(report: EvalReport) -> None:
    figures = report.figures()
    detail = format_report(report, verbose=True)
    assert figures["primary_accuracy"] >= 0.95, detail
    assert figures["theme_f1"] >= 0.80, detail
    assert figures["relevance_precision"] >= 0.95, detail
    assert figures["relevance_recall"] >= 0.90, detail
    # endorsements: precision over recall
    assert figures["endorsement_precision"] >= 0.95, detail
    assert figures["endorsement_recall"] >= 0.85, detail


def test_every_event_and_theme_has_its_row(report: EvalReport) -> None:
    text = format_report(report)
    for name in ("reaim-2024", "unga-resolution-ai-military", "human-control", "(themes, micro)", "endorsements"):
        assert name in text
    assert "BELOW" not in text


def test_eval_command(tmp_path: Path) -> None:
    help_text = CliRunner().invoke(eval_cmd, ["--help"]).output
    assert "Example:" in help_text and "reaim eval" in help_text
    # the sample site's extraction is cached by now
    result = CliRunner().invoke(eval_cmd, ["--check", "--extra", str(EXTRA), "--endorsements", str(LABELS)])
    assert result.exit_code == 0, result.output
    assert "primary_accuracy" in result.output and "endorsement_precision" in result.output
    missing = CliRunner().invoke(eval_cmd, ["--extra", str(tmp_path / "none"), "--endorsements", str(LABELS)])
    assert missing.exit_code == 1 and "no labelled articles" in missing.output and "Traceback" not in missing.output

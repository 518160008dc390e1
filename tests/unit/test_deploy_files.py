"""The shipped crontab line and systemd units are valid as written."""

from __future__ import annotations

import configparser
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from reaim.schedule import parse_interval

DEPLOY = Path(__file__).resolve().parents[2] / "docs" / "deploy"
_FIELD = r"(\*|\d+(-\d+)?)(/\d+)?(,(\*|\d+(-\d+)?)(/\d+)?)*"
RANGES = [(0, 59), (0, 23), (1, 31), (1, 12), (0, 7)]


def _unit(name: str) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(strict=True, interpolation=None, comment_prefixes=("#", ";"))
    parser.optionxform = str  # type: ignore[assignment,method-assign]  # systemd keys are case-sensitive
    parser.read_string((DEPLOY / name).read_text(encoding="utf-8"))
    return parser


def test_crontab_line_has_five_valid_fields_and_runs_reaim_crawl() -> None:
    lines = [x for x in (DEPLOY / "crontab").read_text().splitlines() if x.strip() and not x.startswith("#")]
    assert len(lines) == 1
    fields = lines[0].split(None, 5)
    for value, (low, high) in zip(fields[:5], RANGES, strict=True):
        assert re.fullmatch(_FIELD, value), value
        assert all(low <= int(n) <= high for n in re.findall(r"\d+", value.split("/")[0]))
    assert "reaim crawl" in fields[5]


def test_systemd_units_have_what_systemd_needs() -> None:
    service, timer = _unit("reaim-crawl.service"), _unit("reaim-crawl.timer")
    assert service["Service"]["Type"] == "oneshot"
    exec_start = service["Service"]["ExecStart"]
    assert exec_start.startswith("/") and " crawl " in f"{exec_start} "
    assert set(service["Service"]["SuccessExitStatus"].split()) == {"3", "4", "75"}
    assert timer["Timer"]["OnCalendar"] and timer["Install"]["WantedBy"] == "timers.target"
    if shutil.which("systemd-analyze"):
        out = subprocess.run(["systemd-analyze", "calendar", timer["Timer"]["OnCalendar"]],
                             capture_output=True, text=True)
        assert out.returncode == 0, out.stderr
    else:  # the calendar expression's shape: date part, time part
        assert re.fullmatch(r"[\d*-]+ [\d*]+:\d\d:\d\d", timer["Timer"]["OnCalendar"])


@pytest.mark.parametrize(("text", "seconds"), [("90s", 90), ("15m", 900), ("1h", 3600), ("1d", 86400), ("0.5h", 1800)])
def test_intervals(text: str, seconds: float) -> None:
    assert parse_interval(text) == seconds


@pytest.mark.parametrize("bad", ["", "1", "h", "-1h", "0m", "1w"])
def test_bad_intervals(bad: str) -> None:
    with pytest.raises(ValueError):
        parse_interval(bad)

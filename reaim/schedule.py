"""``reaim schedule``: run the crawl every N minutes in the foreground, for
users without cron or systemd. Each run is a fresh process (Scrapy's reactor
cannot restart in one), and the archive lock keeps runs from overlapping."""

from __future__ import annotations

import re
import subprocess
import sys
import time
from collections.abc import Callable, Sequence

_INTERVAL = re.compile(r"^(\d+(?:\.\d+)?)\s*([smhd])$")
_UNIT = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_interval(text: str) -> float:
    """``90s``, ``15m``, ``1h``, ``1d`` → seconds."""
    m = _INTERVAL.match(text.strip().lower())
    if not m or float(m.group(1)) <= 0:
        raise ValueError(f"interval must look like 90s, 15m, 1h or 1d, not {text!r}")
    return float(m.group(1)) * _UNIT[m.group(2)]


def run_schedule(
    crawl_args: Sequence[str],
    every: float,
    *,
    times: int | None = None,
    echo: Callable[[str], None] = print,
    sleep: Callable[[float], None] = time.sleep,
) -> int:
    """Run ``reaim crawl <crawl_args>`` every ``every`` seconds, aligned to the first start.

    A run longer than the interval makes the next one start at once (no pile-up:
    missed slots are skipped). Returns the last run's exit code.
    """
    start = time.monotonic()
    code = 0
    n = 0
    while times is None or n < times:
        n += 1
        began = time.strftime("%Y-%m-%d %H:%M:%S")
        proc = subprocess.run([sys.executable, "-m", "reaim.cli", "crawl", *crawl_args],
                              capture_output=True, text=True)
        code = proc.returncode
        first = next((line for line in proc.stdout.splitlines() if line.startswith("Articles in archive")), "")
        alerts = [line for line in proc.stdout.splitlines() if line.startswith("ALERT") or ": FAILED:" in line]
        echo(f"[{began}] run {n}: exit {code}. {first}".rstrip())
        for line in alerts:
            echo(f"    {line}")
        if proc.returncode not in (0, 3, 4) and proc.stderr.strip():
            echo(f"    {proc.stderr.strip().splitlines()[-1]}")
        if times is not None and n >= times:
            break
        elapsed = time.monotonic() - start
        next_slot = (int(elapsed // every) + 1) * every
        sleep(max(0.0, next_slot - elapsed))
    return code

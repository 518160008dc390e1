"""Run monitors: the checks that turn a crawl that "finished" into one that
went wrong, so that an unattended hourly run is noticed.

Our own rather than Spidermon: the checks need the archive's history (what a
source yielded in earlier runs), which Spidermon's per-run stats do not hold.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

# Defaults; each can be overridden by the Scrapy setting of the same name.
MONITOR_MAX_ERROR_RATE = 0.5  # failed pages / pages fetched, per source with at least MONITOR_MIN_PAGES
MONITOR_MIN_PAGES = 4
MONITOR_MAX_BOT_WALLS = 0  # bot-challenge pages per run before the run is failed


@dataclass(frozen=True)
class Alert:
    check: str  # zero_yield, error_rate, bot_wall
    source_id: str | None
    message: str


def check_run(sources: list[Any], stats: dict[str, Any], settings: Any = None) -> list[Alert]:
    """Alerts for one finished run, from its per-source reports and Scrapy stats."""

    def setting(name: str, default: float) -> float:
        return float(settings.get(name, default)) if settings is not None else default

    max_rate = setting("MONITOR_MAX_ERROR_RATE", MONITOR_MAX_ERROR_RATE)
    min_pages = setting("MONITOR_MIN_PAGES", MONITOR_MIN_PAGES)
    max_walls = setting("MONITOR_MAX_BOT_WALLS", MONITOR_MAX_BOT_WALLS)
    alerts: list[Alert] = []
    found = sum(rep.articles for rep in sources)
    broken = int(stats.get("failures/process", 0)) + int(stats.get("failures/dedupe", 0))
    if found >= min_pages and broken / found > max_rate:
        alerts.append(Alert("process_errors", None, f"{broken} of {found} articles failed in the processing "
                                                    "stages (see the failures table)"))
    for rep in sources:
        if rep.flagged:
            alerts.append(Alert("zero_yield", rep.id, rep.flagged))
        attempts = rep.pages + rep.errors
        if not rep.failed and attempts >= min_pages and rep.errors / attempts > max_rate:
            alerts.append(Alert("error_rate", rep.id, f"{rep.errors} of {attempts} requests failed "
                                                      f"(threshold {max_rate:.0%})"))
        walls = int(stats.get(f"source/{rep.id}/skipped/challenge", 0))
        if walls > max_walls:
            alerts.append(Alert("bot_wall", rep.id, f"{walls} bot-challenge page(s) instead of articles"))
    return alerts

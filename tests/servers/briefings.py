"""Generated on-topic articles, each distinct (seeded prose: no two are near-duplicates), and an RSS feed of them.

For crawls that must archive every page exactly once: the crash-resume test and
the distributed workers' tests.
"""

from __future__ import annotations

import random

CITIES = ["Seoul", "The Hague", "A Coruna", "Geneva", "New York", "Singapore", "Nairobi", "London"]
WORDS = ("delegates ministers drones treaty oversight sensors doctrine budget testing audit navy army pilots "
         "satellites logistics training ethics lawyers engineers allies parliament vote review pledge data "
         "risk escalation command targeting simulation exercise charter protocol").split()


def page(i: int, sentences: int = 6) -> str:
    """Article ``i``: a REAIM briefing with ``sentences`` sentences of seeded random prose."""
    rng = random.Random(i)
    city = CITIES[i % len(CITIES)]
    prose = " ".join(" ".join(rng.choice(WORDS) for _ in range(12)) + "." for _ in range(sentences))
    return (f"<html lang='en'><head><title>REAIM briefing {i}</title></head><body><article>"
            f"<h1>REAIM briefing {i}: military AI talks in {city}</h1>"
            f"<p>The summit on Responsible AI in the Military Domain (REAIM) continued in {city}.</p>"
            f"<p>{prose}</p></article></body></html>")


def rss(base: str, ids: list[int]) -> str:
    """An RSS 2.0 feed linking ``{base}/a/{i}.html`` for each id."""
    items = "".join(f"<item><title>{i}</title><link>{base}/a/{i}.html</link></item>" for i in ids)
    return f"<?xml version='1.0'?><rss version='2.0'><channel><title>T</title>{items}</channel></rss>"

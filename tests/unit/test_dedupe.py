from __future__ import annotations

from crawler.items import Article
from pipeline.dedupe import MAX_DISTANCE, SimhashIndex, fingerprint, hamming, simhash

WIRE = (
    "GENEVA (Wire) -- Diplomats from more than ninety countries met on Monday to discuss how armed forces "
    "should govern artificial intelligence, with delegates stressing that humans must stay responsible for "
    "decisions on the use of force. The talks build on a summit held in Seoul last year. "
) * 3


def test_republished_copy_is_within_distance_and_found_by_index() -> None:
    copy = "Published by Another Daily. " + WIRE.replace("Monday", "monday")
    a, b = simhash(WIRE), simhash(copy)
    assert hamming(a, b) <= MAX_DISTANCE
    index = SimhashIndex([("orig", a)])
    assert index.nearest(b) == ("orig", hamming(a, b))
    assert index.nearest(b, exclude="orig") is None


def test_different_stories_are_far_apart() -> None:
    other = ("The football club from A Coruna won three nil at home on Saturday evening, with two goals "
             "in the second half and a penalty saved by the keeper. ") * 4
    assert hamming(simhash(WIRE), simhash(other)) > 3 * MAX_DISTANCE


def test_cjk_text_fingerprints_without_spaces() -> None:
    zh = "军事领域负责任人工智能峰会在首尔举行，来自九十多个国家的代表讨论了人工智能的军事应用与人类控制问题。" * 4
    assert hamming(simhash(zh), simhash(zh + "记者报道")) <= MAX_DISTANCE


def test_short_text_has_no_fingerprint() -> None:
    assert fingerprint(Article(url="u", text="too short")) is None
    assert fingerprint(Article(url="u", text=WIRE)) == simhash(WIRE)

from __future__ import annotations

from crawler.items import Article
from pipeline.dedupe import THRESHOLD, NearDuplicateIndex, fingerprint, from_hex, minhash, similarity, to_hex

WIRE = (
    "GENEVA (Wire) -- Diplomats from more than ninety countries met on Monday to discuss how armed forces "
    "should govern artificial intelligence, with delegates stressing that humans must stay responsible for "
    "decisions on the use of force. The talks build on a summit held in Seoul last year. "
    "Several delegations asked for legally binding rules, while others preferred voluntary measures. "
    "The chair said a summary of the discussions would be circulated to all member states next month. "
)


def test_republished_copy_with_new_dateline_and_byline_is_found() -> None:
    copy = WIRE.replace("GENEVA (Wire) --", "GENEVA, March 4 (Wire) —") + " Reporting by A. Writer; editing by B. Editor."
    assert similarity(WIRE, copy) > 0.8
    index = NearDuplicateIndex([("orig", minhash(WIRE))])
    match = index.nearest(minhash(copy))
    assert match is not None and match[0] == "orig" and match[1] >= THRESHOLD
    assert index.nearest(minhash(copy), exclude="orig") is None


def test_different_stories_on_the_same_topic_are_not_duplicates() -> None:
    other = ("Delegates in Seoul discussed how armed forces use artificial intelligence, and the summit ended "
             "with a blueprint for action that about sixty countries endorsed; China did not. The next meeting "
             "will be held in Spain, the organisers said, and civil society groups asked for binding rules. ")
    assert similarity(WIRE, other) < 0.2
    assert NearDuplicateIndex([("orig", minhash(WIRE))]).nearest(minhash(other)) is None


def test_cjk_text_compares_without_spaces() -> None:
    zh = "军事领域负责任人工智能峰会在首尔举行，来自九十多个国家的代表讨论了人工智能的军事应用与人类控制问题。" * 3
    index = NearDuplicateIndex([("zh", minhash(zh))])
    assert index.nearest(minhash("（本报讯）" + zh + "记者报道")) is not None


def test_signature_survives_the_archive_round_trip() -> None:
    sig = minhash(WIRE)
    again = from_hex(to_hex(sig))
    assert sig.jaccard(again) == 1.0 and len(to_hex(sig)) == 64 * 8


def test_short_text_has_no_fingerprint() -> None:
    assert fingerprint(Article(url="u", text="too short")) is None
    assert fingerprint(Article(url="u", text=WIRE)) is not None

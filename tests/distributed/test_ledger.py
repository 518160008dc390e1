"""The pieces of the distributed mode, each on its own: the ledger on a real
redis-server, the request codec, the Redis safety check, and ingest's dedupe and store."""

from __future__ import annotations

import datetime as dt
import json
import time
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

scrapy_redis = pytest.importorskip("scrapy_redis", reason="scrapy-redis is not installed (pip install '.[test]')")

from crawler.distributed import (  # noqa: E402
    Keys,
    Ledger,
    RedisConfigError,
    RequestCodec,
    check_target,
    split_password,
)


def _ledger(redis_server: Any) -> Ledger:
    return Ledger(redis_server.client(), Keys())


def test_a_claim_is_held_until_acknowledged_and_a_dead_workers_claim_comes_back(redis_server: Any) -> None:
    ledger = _ledger(redis_server)
    client, k = ledger.client, ledger.keys
    client.lpush(k.requests, b"r1", b"r2", b"r3")  # r1 is claimed first (FIFO)
    ledger.heartbeat("alive", 30)
    ledger.heartbeat("dead", 0.3)
    assert ledger.claim("alive#1") == b"r1"
    assert ledger.claim("dead#1") == b"r2"
    assert ledger.claim("dead#2") == b"r3"
    assert ledger.claim("dead#3") is None
    status = ledger.status()
    assert (status.pending, status.claimed, status.drained) == (0, 3, False)
    assert ledger.ack(["dead#2"]) == 1
    assert ledger.reap(lease=0.3) == 0  # too young, and the heartbeat is still fresh
    time.sleep(0.5)
    assert ledger.reap(lease=0.3) == 1  # dead#1 only: alive#1's worker still beats, dead#2 was done
    assert client.lrange(k.requests, 0, -1) == [b"r2"]
    assert ledger.claim("alive#2") == b"r2"  # re-queued work is claimed next
    assert ledger.ack(["alive#1", "alive#2", "dead#1"]) == 2  # dead#1 was reaped: a late acknowledgement
    assert ledger.counters() == {"requeued": 1, "late_acks": 1}
    assert ledger.status().drained


def test_release_gives_claims_back_at_once(redis_server: Any) -> None:
    ledger = _ledger(redis_server)
    ledger.client.lpush(ledger.keys.requests, b"x")
    ledger.heartbeat("w", 30)
    assert ledger.claim("w#1") == b"x"
    assert ledger.release(["w#1"]) == 1
    assert ledger.client.lrange(ledger.keys.requests, 0, -1) == [b"x"]
    assert ledger.status().claimed == 0


def test_only_one_worker_seeds_an_empty_frontier_and_a_new_round_forgets_the_old_one(redis_server: Any) -> None:
    ledger = _ledger(redis_server)
    client, k = ledger.client, ledger.keys
    client.sadd(k.dupefilter, "fp-of-last-round")
    assert ledger.try_seed("a", force=False, lock_ttl=30) == 2
    assert not client.exists(k.dupefilter)
    assert ledger.try_seed("b", force=False, lock_ttl=30) == 0  # a holds the seed lock
    assert not ledger.status().drained  # seeding counts as work in progress
    ledger.end_seeding("a")
    client.lpush(k.requests, b"feed")
    assert ledger.try_seed("b", force=False, lock_ttl=30) == 0  # not empty
    assert ledger.try_seed("b", force=True, lock_ttl=30) == 1  # forced: into the running round


def test_requests_travel_as_json_and_decode_to_the_same_request() -> None:
    from scrapy import Request

    from crawler.sources import Source
    from crawler.spiders.news import NewsSpider

    spider = NewsSpider()
    source = Source(id="w", name="W", language="en", kind="gdelt", urls=("https://a.example/feed",),
                    allow=("/news/",), extra={"start": dt.date(2024, 9, 1), "query": "REAIM"})
    request = Request("https://a.example/1", callback=spider.parse_article, errback=spider.on_error,
                      headers={"If-None-Match": '"x"'}, body=b"\x00\xff",
                      meta={"source": source, "discovery": {"$weird": 1, "title": "T"}, "aliases": ["u"],
                            "article": True, "download_slot": "gdelt"})
    codec = RequestCodec()
    data = codec.dumps(request.to_dict(spider=spider))
    json.loads(data)  # plain JSON, no pickle
    from scrapy.utils.request import request_from_dict

    back = request_from_dict(codec.loads(data), spider=spider)
    assert back.url == request.url and back.body == request.body
    assert back.callback == spider.parse_article and back.errback == spider.on_error
    assert back.headers.get("If-None-Match") == b'"x"'
    assert back.meta == request.meta
    assert back.meta["source"] == source and isinstance(back.meta["source"].urls, tuple)


def test_the_codec_builds_no_other_objects_and_refuses_unknown_types() -> None:
    codec = RequestCodec()
    with pytest.raises(TypeError):
        codec.dumps({"meta": {"x": object()}})
    with pytest.raises(TypeError):  # only Source's own fields are accepted
        codec.loads(b'{"$source": {"__class__": "os.system"}}')
    assert codec.loads(b'{"__reduce__": ["os.system", ["true"]]}') == {"__reduce__": ["os.system", ["true"]]}


def test_a_remote_redis_without_a_password_is_refused() -> None:
    with pytest.raises(RedisConfigError, match="without a password"):
        check_target("redis://10.0.0.5:6379/0", None)
    check_target("redis://10.0.0.5:6379/0", None, allow_insecure=True)
    check_target("rediss://10.0.0.5:6379/0", "secret")
    check_target("redis://127.0.0.1:6379/0", None)
    check_target("redis://localhost:6379/0", None)
    assert split_password("redis://:s%40cret@10.0.0.5:6379/2") == ("redis://10.0.0.5:6379/2", "s@cret")
    assert split_password("redis://user:pw@[::1]/0") == ("redis://user@[::1]/0", "pw")


def test_the_worker_command_refuses_an_unsafe_redis_in_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    from reaim.distributed_cmds import worker

    monkeypatch.delenv("REAIM_REDIS_PASSWORD", raising=False)
    result = CliRunner().invoke(worker, ["--redis", "redis://10.0.0.5:6379/0"])
    assert result.exit_code == 1
    assert "refusing Redis at redis://10.0.0.5:6379/0 without a password" in result.output
    assert "Traceback" not in result.output


def test_the_password_never_enters_scrapy_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    import os

    from reaim.distributed_cmds import _redis_url

    monkeypatch.delenv("REAIM_REDIS_PASSWORD", raising=False)
    assert _redis_url("redis://:hunter2@127.0.0.1:6390/0") == "redis://127.0.0.1:6390/0"
    assert os.environ["REAIM_REDIS_PASSWORD"] == "hunter2"


# --- ingest --------------------------------------------------------------------------


def _article(url: str, text: str, published: str, **kw: object) -> dict[str, object]:
    from crawler.extract import extract_article
    from pipeline.process import Processor

    html = (f"<html lang='en'><head><title>REAIM summit news</title></head><body><article><h1>REAIM summit news</h1>"
            f"<p>{text}</p></article></body></html>")
    article = Processor(translator=None).process(extract_article(html, url))
    article.source_id, article.published = "w", published
    for key, value in kw.items():
        setattr(article, key, value)
    return article.to_dict()


TEXT = ("The summit on Responsible AI in the Military Domain (REAIM) opened in Seoul, where delegates discussed "
        "the Blueprint for Action, human control over weapons and the testing of military AI systems in detail.")


def test_ingest_applies_the_crawls_dedupe_and_store_rules(tmp_path: Path, redis_server: Any) -> None:
    from archive.schema import open_db
    from crawler.items import Article
    from pipeline.ingest_redis import Ingester, _write, encode_record, item_record
    from pipeline.taxonomy import load_taxonomy

    client, keys = redis_server.client(), Keys()
    db = open_db(tmp_path / "a.db")
    original = _article("https://a.example/1", TEXT, "2024-09-09T10:00:00+00:00")
    # What RedisUrlVariantPipeline makes of the same page under another URL, on another worker:
    variant = {**original, "url": "https://a.example/1?utm_source=x", "duplicate_of": Article.from_dict(original).id}
    wire = _article("https://b.example/copy", "Seoul (Wire) " + TEXT, "2024-09-10T10:00:00+00:00")
    records = [
        encode_record("sources", {"sources": [{"id": "w", "name": "W", "language": "en", "kind": "rss", "urls": []}]}),
        item_record(Article.from_dict(variant)),  # arrives before its original: waits, then folds
        item_record(Article.from_dict(original)),
        item_record(Article.from_dict(original)),  # delivered twice (a re-queued claim): an update, no new row
        item_record(Article.from_dict(wire)),  # a republication, published later: an alias
        encode_record("off_topic", {"urls": ["https://a.example/phone"], "url": "https://a.example/phone",
                                    "source_id": "w", "relevance": 0.0}),
        encode_record("skipped", {"url": "https://a.example/tag/x", "source_id": "w", "kind": "too_short",
                                  "reason": "index page"}),
        encode_record("failure", {"url": "https://a.example/2", "source_id": "w", "stage": "fetch",
                                  "error": "HTTP 500"}),
        b"{not json",
    ]
    ingester = Ingester(db, load_taxonomy(None), run_id=None)
    _write(ingester, records, db, client, keys)
    ingester.end_of_round()
    rows = db.execute("select url, canonical_url from articles").fetchall()
    assert rows == [("https://a.example/1", "https://a.example/1")]
    aliases = dict(db.execute("select url, reason from article_aliases").fetchall())
    assert aliases == {"https://a.example/1?utm_source=x": "url-variant", "https://b.example/copy": "near-duplicate"}
    outcomes = dict(db.execute("select url, outcome from seen_urls").fetchall())
    assert outcomes["https://a.example/phone"] == "off_topic"
    assert outcomes["https://a.example/tag/x"] == "not_article"
    assert outcomes["https://b.example/copy"] == "duplicate"
    assert db.execute("select stage, error from failures").fetchall() == [("fetch", "HTTP 500")]
    report = ingester.report
    assert (report.new, report.updated, report.url_variants, report.near_duplicates, report.bad) == (1, 1, 1, 1, 1)
    # The workers' incremental filter learns every URL that now has an outcome.
    assert client.sismember(keys.seen, "https://a.example/1") and client.sismember(keys.seen, "https://a.example/phone")


def test_one_ingest_at_a_time_but_a_dead_ones_lock_is_taken_over(tmp_path: Path, redis_server: Any) -> None:
    import socket
    import subprocess

    from archive.schema import open_db
    from pipeline.ingest_redis import IngestBusy, ingest
    from pipeline.taxonomy import load_taxonomy

    client, keys = redis_server.client(), Keys()
    db, taxonomy = open_db(tmp_path / "a.db"), load_taxonomy(None)
    client.set(keys.ingest_owner, "elsewhere-4242", ex=30)
    with pytest.raises(IngestBusy, match="elsewhere-4242"):
        ingest(db, client, keys, taxonomy, run_id=None, until_idle=True, idle_grace=0.1)
    gone = subprocess.Popen(["true"])
    gone.wait()
    client.set(keys.ingest_owner, f"{socket.gethostname()}-{gone.pid}", ex=30)  # killed, lock not yet expired
    report = ingest(db, client, keys, taxonomy, run_id=None, until_idle=True, idle_grace=0.1)
    assert report.records == 0
    assert not client.exists(keys.ingest_owner)  # released at a clean exit

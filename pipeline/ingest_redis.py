"""The two ends of the item queue of the distributed mode (docs/scaling.md).

Workers (``reaim worker``) run the stages that need no archive: normalize,
URL variants (remembered in Redis, so across workers), language, relevance,
translation (with a local cache) and tagging. Their last stage,
``RedisItemSink``, pushes each item to a Redis list as JSON. One ``reaim
ingest`` process pops them and applies what needs the archive, with the
crawl's own classes (``DedupePipeline``, ``StorePipeline``), so the rules are
the same: SQLite keeps one writer.

Records are JSON envelopes ``{"v": 1, "type": ..., "data": ...}`` with type
``article`` (``Article.to_dict()`` without the raw HTML), ``failure``
(``FetchFailure``), ``skipped`` (``PageSkipped``), ``off_topic`` (the URLs of
an article the relevance stage dropped) or ``sources`` (a worker's sources).
Delivery is at least once: the ledger re-queues what a killed worker held and
ingest re-reads a batch it was killed in, and every write is idempotent.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

from crawler.distributed import Keys, Ledger, keys_from_settings, redis_for
from crawler.items import Article, FetchFailure, PageSkipped
from crawler.urls import canonicalize
from pipeline.relevance import RelevancePipeline

logger = logging.getLogger(__name__)

VERSION = 1


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _urls(article: Article) -> list[str]:
    return [canonicalize(u) for u in (article.url, article.canonical_url, *article.aliases) if u]


def encode_record(kind: str, data: dict[str, Any], **meta: Any) -> bytes:
    return json.dumps({"v": VERSION, "type": kind, "at": _now(), **meta, "data": data},
                      ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def item_record(item: Any, **meta: Any) -> bytes:
    """An item as the JSON record ingest reads."""
    if isinstance(item, FetchFailure):
        return encode_record("failure", asdict(item), **meta)
    if isinstance(item, PageSkipped):
        return encode_record("skipped", asdict(item), **meta)
    article = item if isinstance(item, Article) else Article.from_dict(dict(item))
    data = article.to_dict()
    data.pop("html", None)  # the store drops it too; no stage after this one reads it
    return encode_record("article", data, **meta)


# --- worker side (Scrapy item pipelines) ------------------------------------------


class _Pusher:
    def __init__(self, crawler: Any) -> None:
        self.crawler = crawler
        self.keys: Keys = keys_from_settings(crawler.settings)

    def push(self, record: bytes) -> None:
        redis_for(self.crawler).lpush(self.keys.items, record)
        self.crawler.stats.inc_value("distributed/items_pushed")

    def meta(self) -> dict[str, Any]:
        from pipeline.runtime import crawl_context

        scheduler = getattr(self.crawler.engine, "scheduler", None)
        return {"worker": getattr(scheduler, "worker_id", None),
                "taxonomy": crawl_context(self.crawler).taxonomy.version}


class RedisItemSink(_Pusher):
    """The workers' last stage: every item, and every stage error, to the ingest queue.

    Synchronous on purpose: the ledger acknowledges a request only after its
    items have left the pipelines, so an item is either in Redis or its
    request is still claimed.
    """

    @classmethod
    def from_crawler(cls, crawler):  # type: ignore[no-untyped-def]
        from scrapy import signals

        sink = cls(crawler)
        crawler.signals.connect(sink.item_error, signal=signals.item_error)
        return sink

    def open_spider(self) -> None:
        sources = [s.as_dict() for s in getattr(self.crawler.spider, "sources", [])]
        if sources:
            self.push(encode_record("sources", {"sources": sources}, **self.meta()))

    def process_item(self, item):  # type: ignore[no-untyped-def]
        self.push(item_record(item, **self.meta()))
        return item

    def item_error(self, item, response, spider, failure):  # type: ignore[no-untyped-def]
        """A stage raised: recorded as a failure by ingest, as the crawl's store stage does."""
        url = getattr(item, "url", None) or (getattr(response, "url", None) or "?")
        error = " ".join(f"{failure.type.__name__}: {failure.getErrorMessage()}".split())[:300]
        self.push(item_record(FetchFailure(url, getattr(item, "source_id", None), "process", error), **self.meta()))


class WorkerRelevancePipeline(RelevancePipeline):
    """The relevance stage, but an off-topic verdict goes to ingest (which marks the URLs
    seen) instead of into an archive the worker does not have."""

    def drop_off_topic(self, article, rel):  # type: ignore[no-untyped-def]
        from scrapy.exceptions import DropItem

        pusher = _Pusher(self.crawler)
        pusher.push(encode_record("off_topic", {"urls": _urls(article), "url": article.url,
                                                "source_id": article.source_id, "relevance": rel.score},
                                  **pusher.meta()))
        raise DropItem(f"off-topic (relevance {rel.score}): {article.url}", log_level="INFO")


class RedisUrlVariantPipeline:
    """``UrlVariantPipeline`` across workers: the first URL under which a canonical id was
    fetched this round is kept in a Redis hash; a different URL for the same id is a variant.
    The same URL again is a re-fetch (a re-queued claim), not a variant."""

    def __init__(self, crawler: Any) -> None:
        self.crawler = crawler
        self.key = keys_from_settings(crawler.settings).variants

    @classmethod
    def from_crawler(cls, crawler):  # type: ignore[no-untyped-def]
        return cls(crawler)

    def process_item(self, item):  # type: ignore[no-untyped-def]
        from pipeline.runtime import as_article

        article = as_article(item)
        if article is None:
            return item
        client = redis_for(self.crawler)
        if not client.hsetnx(self.key, article.id, article.url):
            first = client.hget(self.key, article.id)
            if first is not None and first.decode("utf-8") != article.url:
                article.duplicate_of = article.id
        return article


# --- ingest side (no Scrapy) -------------------------------------------------------


class _Stats:
    def __init__(self) -> None:
        self.values: dict[str, int] = {}

    def inc_value(self, key: str, count: int = 1, start: int = 0, spider: Any = None) -> None:
        self.values[key] = self.values.get(key, start) + count

    def get_value(self, key: str, default: Any = None, spider: Any = None) -> Any:
        return self.values.get(key, default)

    def set_value(self, key: str, value: Any, spider: Any = None) -> None:
        self.values[key] = value


class _StageHost:
    """What DedupePipeline and StorePipeline read from a crawler: settings, stats and the
    crawl context (archive, run id, taxonomy), preset instead of made from settings."""

    def __init__(self, context: Any) -> None:
        from scrapy.settings import Settings

        self.settings = Settings()
        self.stats = _Stats()
        self.spider = None
        self._reaim_context = context


@dataclass
class IngestReport:
    records: int = 0
    new: int = 0
    updated: int = 0
    url_variants: int = 0
    near_duplicates: int = 0
    off_topic: int = 0
    not_articles: int = 0
    failures: int = 0
    bad: int = 0
    requeued_claims: int = 0  # by all reapers, all time (Redis counter)
    workers: set[str] = field(default_factory=set)

    def line(self) -> str:
        return (f"{self.records} records: {self.new} new, {self.updated} updated, {self.url_variants} URL variants and "
                f"{self.near_duplicates} republications folded, {self.off_topic} off-topic, {self.not_articles} not "
                f"articles, {self.failures} failures, {self.bad} bad records; {len(self.workers)} worker(s); "
                f"claims re-queued by reapers (all time): {self.requeued_claims}")


class Ingester:
    """Dedupe and store for records from Redis, with the crawl's own stage classes."""

    def __init__(self, db: Any, taxonomy: Any, run_id: int | None) -> None:
        from archive.store import save_taxonomy
        from pipeline.dedupe import DedupePipeline
        from pipeline.runtime import CrawlContext
        from pipeline.store import StorePipeline

        self.db = db
        self.taxonomy = taxonomy
        self.run_id = run_id
        self.host = _StageHost(CrawlContext(db=db, run_id=run_id, taxonomy=taxonomy))
        self.dedupe = DedupePipeline(self.host)
        self.store = StorePipeline(self.host)
        self.report = IngestReport()
        self._warned_versions: set[str] = set()
        save_taxonomy(db, taxonomy.event_rows(), taxonomy.theme_rows(), taxonomy.version)

    def handle(self, raw: bytes) -> list[str]:
        """Write one record; the canonical URLs it may have marked seen (for the workers' filter)."""
        from scrapy.exceptions import DropItem

        from archive.crawlstate import mark_seen
        from archive.store import save_sources

        self.report.records += 1
        try:
            record = json.loads(raw)
            kind, data = record["type"], record["data"]
        except (ValueError, KeyError, TypeError) as exc:
            self.report.bad += 1
            logger.error("bad record in the item queue (%s): %r", exc, raw[:200])
            return []
        if record.get("worker"):
            self.report.workers.add(str(record["worker"]))
        if kind == "sources":
            save_sources(self.db, data["sources"])
            return []
        if kind == "off_topic":
            self.report.off_topic += 1
            mark_seen(self.db, data["urls"], outcome="off_topic", source_id=data.get("source_id"),
                      reason=f"relevance {data.get('relevance')}", run_id=self.run_id)
            return list(data["urls"])
        if kind == "skipped":
            self.report.not_articles += 1
            self.store.process_item(PageSkipped(**data))
            return [canonicalize(data["url"])]
        if kind == "failure":
            self.report.failures += 1
            self.store.process_item(FetchFailure(**data))
            return []
        if kind != "article":
            self.report.bad += 1
            logger.error("unknown record type %r in the item queue", kind)
            return []
        version = record.get("taxonomy")
        if version and version != self.taxonomy.version and version not in self._warned_versions:
            self._warned_versions.add(version)
            logger.warning("worker %s tags with taxonomy %s, ingest has %s: deploy one taxonomy everywhere",
                           record.get("worker"), version, self.taxonomy.version)
        article = Article.from_dict(data)
        self._ensure_source(article.source_id, article.outlet)
        stats = self.host.stats.values
        before = (stats.get("store/new", 0), stats.get("store/updated", 0))
        try:
            self.store.process_item(self.dedupe.process_item(article))
        except DropItem:
            pass  # a duplicate: folded into its original, or waiting for it
        self.report.new += stats.get("store/new", 0) - before[0]
        self.report.updated += stats.get("store/updated", 0) - before[1]
        self.report.url_variants = stats.get("dedupe/url_variant", 0)
        self.report.near_duplicates = stats.get("dedupe/near_duplicate", 0)
        return _urls(article)

    def failed(self, raw: bytes, exc: Exception) -> None:
        """A record whose writes raised (and were rolled back): a failure row, as the crawl's
        item_error makes, never lost silently and never retried for ever."""
        from archive.store import record_failure

        error = " ".join(f"{type(exc).__name__}: {exc}".split())[:300]
        try:
            data = json.loads(raw).get("data") or {}
        except (ValueError, AttributeError):
            data = {}
        logger.error("could not write a queued record: %s", error)
        record_failure(self.db, run_id=self.run_id, source_id=data.get("source_id"), url=data.get("url") or "?",
                       stage="process", error=error)
        self.report.failures += 1

    def _ensure_source(self, source_id: str | None, outlet: str | None) -> None:
        """A worker's sources record normally comes first; a missing one must not fail the FK."""
        from archive.store import first_row, save_sources

        if source_id and first_row(self.db, "select 1 from sources where id = ?", [source_id]) is None:
            save_sources(self.db, [{"id": source_id, "name": outlet}])

    def end_of_round(self) -> None:
        """The frontier drained: copies whose original never came are failures (as at a crawl's end)."""
        self.store.close_spider()


# Move up to ARGV[1] records from the queue to the processing list, atomically.
_TAKE = """
local out = {}
for i = 1, tonumber(ARGV[1]) do
  local v = redis.call('LMOVE', KEYS[1], KEYS[2], 'RIGHT', 'LEFT')
  if not v then break end
  out[#out + 1] = v
end
return out
"""

_OWN = """
local cur = redis.call('GET', KEYS[1])
if cur and cur ~= ARGV[1] then return cur end
redis.call('SET', KEYS[1], ARGV[1], 'EX', tonumber(ARGV[2]))
return false
"""


class IngestBusy(RuntimeError):
    """Another ``reaim ingest`` holds the item queue."""


def ingest_owner_id() -> str:
    return f"{socket.gethostname()}-{os.getpid()}"


def _owner_gone(holder: str) -> bool:
    """A holder on this machine whose process is no longer running (an ingest killed outright)."""
    host, _, pid = holder.rpartition("-")
    if host != socket.gethostname() or not pid.isdigit():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


def sync_seen(db: Any, client: Any, keys: Keys, urls: list[str] | None = None, batch: int = 5000) -> int:
    """Publish canonical URLs with an outcome to the workers' filter: all of them, or those of
    ``urls`` that the archive now has."""
    if urls is None:
        rows = (r[0] for r in db.execute("select url from seen_urls"))
    else:
        if not urls:
            return 0
        wanted = list(dict.fromkeys(urls))
        marks = ",".join("?" * len(wanted))
        rows = (r[0] for r in db.execute(f"select url from seen_urls where url in ({marks})", wanted))
    n = 0
    chunk: list[str] = []
    for url in rows:
        chunk.append(url)
        if len(chunk) >= batch:
            n += client.sadd(keys.seen, *chunk)
            chunk = []
    if chunk:
        n += client.sadd(keys.seen, *chunk)
    return n


def ingest(
    db: Any,
    client: Any,
    keys: Keys,
    taxonomy: Any,
    *,
    run_id: int | None,
    until_idle: bool = False,
    idle_grace: float = 3.0,
    lease: float = 60.0,
    reap_interval: float = 5.0,
    batch: int = 200,
    owner: str | None = None,
    should_stop: Callable[[], bool] = lambda: False,
    on_status: Callable[[str], None] | None = None,
) -> IngestReport:
    """Drain the item queue into the archive until stopped (or, with ``until_idle``, until the
    frontier and the queue stay empty for ``idle_grace`` seconds). Reaps dead workers' claims."""
    ledger = Ledger(client, keys)
    take = client.register_script(_TAKE)
    own = client.register_script(_OWN)
    owner = owner or ingest_owner_id()
    owner_ttl = 30

    def claim_ownership() -> None:
        holder = own(keys=[keys.ingest_owner], args=[owner, owner_ttl])
        if holder is not None and _owner_gone(holder.decode()):
            logger.warning("taking over the item queue from ingest %s, which is no longer running", holder.decode())
            client.delete(keys.ingest_owner)
            holder = own(keys=[keys.ingest_owner], args=[owner, owner_ttl])
        if holder is not None:
            raise IngestBusy(f"another ingest ({holder.decode()}) is draining {keys.items}; one writer only")

    claim_ownership()
    ingester = Ingester(db, taxonomy, run_id)
    published = sync_seen(db, client, keys)
    logger.info("published %d seen URLs to %s", published, keys.seen)
    # A batch a killed ingest left half-written: written again (every write is idempotent).
    leftover = [raw for raw in reversed(client.lrange(keys.items_processing, 0, -1))]
    if leftover:
        logger.warning("re-reading %d record(s) of an interrupted ingest", len(leftover))
        _write(ingester, leftover, db, client, keys)
    last_reap = last_own = 0.0
    drained_since: float | None = None
    round_open = True
    while not should_stop():
        now = time.monotonic()
        if now - last_own >= owner_ttl / 3:
            claim_ownership()
            last_own = now
        if now - last_reap >= reap_interval:
            last_reap = now
            if (requeued := ledger.reap(lease)) and on_status:
                on_status(f"re-queued {requeued} claim(s) of dead workers")
        moved = client.blmove(keys.items, keys.items_processing, 1.0, "RIGHT", "LEFT")
        if moved is not None:
            records = [moved, *take(keys=[keys.items, keys.items_processing], args=[batch - 1])]
            _write(ingester, records, db, client, keys)
            drained_since = None
            round_open = True
            continue
        status = ledger.status()
        if not (status.drained and status.items == 0):
            drained_since = None
            continue
        drained_since = drained_since or now
        if round_open and now - drained_since >= idle_grace:
            ingester.end_of_round()
            round_open = False
            if on_status:
                on_status(f"frontier drained; {ingester.report.line()}")
        if until_idle and now - drained_since >= idle_grace:
            break
    ingester.end_of_round()
    if client.get(keys.ingest_owner) == owner.encode():
        client.delete(keys.ingest_owner)
    ingester.report.requeued_claims = ledger.counters().get("requeued", 0)
    return ingester.report


def _write(ingester: Ingester, records: list[bytes], db: Any, client: Any, keys: Keys) -> None:
    """One transaction per batch (a commit costs more than the writes of a record), one
    savepoint per record (a record that fails leaves nothing half-written)."""
    from archive.store import write_txn

    seen: list[str] = []
    conn = db.conn
    with write_txn(db):
        for raw in records:
            conn.execute("SAVEPOINT record")
            try:
                seen += ingester.handle(raw)
            except Exception as exc:
                conn.execute("ROLLBACK TO record")
                conn.execute("RELEASE record")
                ingester.failed(raw, exc)
            else:
                conn.execute("RELEASE record")
    sync_seen(db, client, keys, seen)
    client.delete(keys.items_processing)  # the batch is in the archive

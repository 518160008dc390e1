"""Scale-out: several crawler processes share one frontier in Redis (scrapy-redis).

What scrapy-redis gives: a scheduler whose queue and dupefilter live in Redis,
so any number of processes on any number of machines crawl one frontier.
What it does not: its queues *pop* a request, so a worker killed mid-crawl
loses every request it held (measured: 8 or 9 of 201 pages per kill). This
module adds an in-flight ledger (docs/scaling.md):

- ``ClaimQueue`` claims a request with one Lua script that pops it from the
  pending list and records it in a claims ZSET (scored with Redis' own clock)
  and a claim-data hash, atomically. The pending queue is a FIFO list, not
  scrapy-redis's default priority ZSET: O(1) push and claim, no collapsing of
  byte-identical entries, breadth-first order; the only priorities our spider
  sets are Scrapy's retry (-1) and redirect (+2) nudges.
- ``LedgerScheduler`` acknowledges a claim when the engine is done with its
  request: downloaded, callback or errback run, every item through every item
  pipeline (the last of which pushes it to Redis), every new request enqueued,
  or the retry/redirect that replaced it enqueued. It heartbeats, and reaps:
  a claim older than the lease whose worker's heartbeat has expired goes back
  to the pending queue. ``reaim ingest`` reaps too, so a frontier whose
  workers all died is not stuck.
- Requests are JSON in Redis by default (``RequestCodec``), not pickles:
  whoever can write to a pickle queue runs code in every worker.

Connection: ``REAIM_REDIS_URL`` (default ``redis://127.0.0.1:6379/0``), the
password from ``$REAIM_REDIS_PASSWORD`` or the URL, never from a Scrapy
setting (Scrapy logs overridden settings at start-up). A Redis that is not on
loopback is refused without a password unless ``REAIM_REDIS_ALLOW_INSECURE``.
"""

from __future__ import annotations

import base64
import dataclasses
import datetime as dt
import ipaddress
import json
import logging
import os
import secrets
import socket
import threading
import time
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote, urlsplit, urlunsplit

from scrapy import Request, signals
from scrapy.exceptions import DontCloseSpider
from scrapy_redis.dupefilter import RFPDupeFilter
from scrapy_redis.queue import Base as _BaseQueue
from scrapy_redis.queue import FifoQueue
from scrapy_redis.scheduler import Scheduler as _RedisScheduler

from crawler.sources import Source
from crawler.urls import canonicalize

logger = logging.getLogger(__name__)

PASSWORD_ENV = "REAIM_REDIS_PASSWORD"
MIN_REDIS = (6, 2)  # LMOVE/BLMOVE, SMISMEMBER

# Defaults for the settings below; crawler/settings.py may carry them too.
DEFAULTS: dict[str, Any] = {
    "REAIM_REDIS_URL": "redis://127.0.0.1:6379/0",
    "REAIM_REDIS_PREFIX": "reaim",  # every key starts with it
    "REAIM_REDIS_ALLOW_INSECURE": False,  # allow a non-loopback Redis without a password
    "REAIM_REDIS_SERIALIZER": "json",  # json | pickle (pickle: whoever writes to Redis runs code here)
    "REAIM_LEDGER": True,  # False: stock scrapy-redis pops (a killed worker loses its requests)
    "REAIM_CLAIM_LEASE": 60.0,  # seconds before a dead worker's claim may be re-queued
    "REAIM_HEARTBEAT_TTL": 15.0,  # a worker silent this long is dead
    "REAIM_ACK_INTERVAL": 0.25,  # seconds between acknowledgement sweeps
    "REAIM_REAP_INTERVAL": 5.0,  # seconds between reaper runs in each worker
    "REAIM_SEED": "auto",  # auto (only into an empty frontier) | true | false
    "REAIM_SEED_LOCK_TTL": 60,  # seconds a seeding worker holds the seed lock at most
    "REAIM_UNTIL_IDLE": False,  # exit once the shared frontier is drained
    "REAIM_IDLE_GRACE": 3.0,  # seconds the frontier must stay drained before an exit
}


class RedisConfigError(RuntimeError):
    """Redis cannot be used as configured (unsafe target, old server, bad setting)."""


def setting(settings: Any, name: str) -> Any:
    value = settings.get(name)
    return DEFAULTS[name] if value is None else value


# --- keys --------------------------------------------------------------------


@dataclass(frozen=True)
class Keys:
    """Every Redis key the distributed mode uses, from one prefix."""

    prefix: str = "reaim"
    spider: str = "news"

    def _k(self, name: str) -> str:
        return f"{self.prefix}:{self.spider}:{name}"

    @property
    def requests(self) -> str:  # list: pending requests (LPUSH in, claimed from the right)
        return self._k("requests")

    @property
    def dupefilter(self) -> str:  # set: request fingerprints of this round
        return self._k("dupefilter")

    @property
    def claims(self) -> str:  # zset: claim id -> claimed at (Redis clock)
        return self._k("claims")

    @property
    def claimdata(self) -> str:  # hash: claim id -> the request as queued
        return self._k("claimdata")

    @property
    def workers(self) -> str:  # zset: worker id -> heartbeat expiry (Redis clock)
        return self._k("workers")

    @property
    def seeding(self) -> str:  # string: held by the worker pushing a round's start requests
        return self._k("seeding")

    @property
    def variants(self) -> str:  # hash: article id -> first URL it was fetched under this round
        return self._k("variants")

    @property
    def stats(self) -> str:  # hash: requeued, released, late_acks, undecodable
        return self._k("stats")

    @property
    def dead(self) -> str:  # list: queued entries that could not be decoded
        return self._k("requests:dead")

    @property
    def items(self) -> str:  # list: processed items for `reaim ingest` (LPUSH in, RIGHT out)
        return f"{self.prefix}:items"

    @property
    def items_processing(self) -> str:  # list: the batch ingest is writing
        return f"{self.prefix}:items:processing"

    @property
    def seen(self) -> str:  # set: canonical URLs with an outcome in the archive (ingest keeps it)
        return f"{self.prefix}:seen"

    @property
    def ingest_owner(self) -> str:  # string: the one ingest process
        return f"{self.prefix}:ingest:owner"


def keys_from_settings(settings: Any, spider: str = "news") -> Keys:
    return Keys(prefix=str(setting(settings, "REAIM_REDIS_PREFIX")), spider=spider)


# --- connection and its safety -------------------------------------------------


def split_password(url: str) -> tuple[str, str | None]:
    """The URL without its password (safe to log or keep in settings), and the password."""
    parts = urlsplit(url)
    if parts.password is None:
        return url, None
    user = parts.username or ""
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    netloc = (f"{user}@" if user else "") + host + (f":{parts.port}" if parts.port else "")
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment)), unquote(parts.password)


def is_loopback(url: str) -> bool:
    parts = urlsplit(url)
    if parts.scheme == "unix":
        return True
    host = (parts.hostname or "").lower()
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_target(url: str, password: str | None, *, allow_insecure: bool = False) -> None:
    """Refuse a Redis off this machine without a password: whoever can write to the
    frontier chooses what the workers fetch and what goes into the archive."""
    if is_loopback(url):
        if not password:
            logger.warning("Redis at %s has no password: any local user can inject requests and items", url)
        return
    if not password and not allow_insecure:
        raise RedisConfigError(
            f"refusing Redis at {url} without a password: anyone who can reach it can inject requests and "
            f"archive records (docs/scaling.md). Set ${PASSWORD_ENV}, or REAIM_REDIS_ALLOW_INSECURE=True "
            "on a network that is yours alone"
        )
    if urlsplit(url).scheme == "redis":
        logger.warning("Redis at %s is reached without TLS: the password and the data cross the network in clear "
                       "(use rediss://, or a tunnel)", url)


def connect(url: str | None = None, *, password: str | None = None, allow_insecure: bool = False) -> Any:
    """A checked Redis client (bytes replies). Password: argument, else $REAIM_REDIS_PASSWORD, else the URL's."""
    import redis

    bare, url_password = split_password(url or DEFAULTS["REAIM_REDIS_URL"])
    password = password or os.environ.get(PASSWORD_ENV) or url_password
    check_target(bare, password, allow_insecure=allow_insecure)
    client = redis.Redis.from_url(bare, password=password, socket_timeout=30, socket_connect_timeout=10,
                                  health_check_interval=30)
    version = str(client.info("server").get("redis_version", "0"))
    if tuple(int(p) for p in version.split(".")[:2]) < MIN_REDIS:
        raise RedisConfigError(f"Redis {version} at {bare} is too old: the ledger needs 6.2 or later (LMOVE)")
    return client


def redis_for(crawler: Any) -> Any:
    """The crawl's Redis client, made on first use and kept on the crawler (like crawl_context)."""
    client = getattr(crawler, "_reaim_redis", None)
    if client is None:
        s = crawler.settings
        client = connect(setting(s, "REAIM_REDIS_URL"), allow_insecure=s.getbool("REAIM_REDIS_ALLOW_INSECURE"))
        crawler._reaim_redis = client
    return client


# --- requests as JSON ------------------------------------------------------------


class RequestCodec:
    """Scrapy's ``Request.to_dict()`` as JSON, with tagged values for what JSON lacks.

    Decoding builds nothing but JSON values, bytes, tuples, dates and our frozen
    ``Source``: unlike a pickle, an entry written by someone else cannot run code.
    An unknown type in request meta fails loudly at enqueue time.
    """

    def dumps(self, obj: Any) -> bytes:
        return json.dumps(self._enc(obj), ensure_ascii=False, separators=(",", ":")).encode("utf-8")

    def loads(self, data: bytes | str) -> Any:
        return self._dec(json.loads(data))

    def _enc(self, v: Any) -> Any:
        if v is None or isinstance(v, (bool, int, float, str)):
            return v
        if isinstance(v, bytes):
            return {"$b": base64.b64encode(v).decode("ascii")}
        if isinstance(v, list):
            return [self._enc(x) for x in v]
        if isinstance(v, tuple):
            return {"$t": [self._enc(x) for x in v]}
        if isinstance(v, dict):
            if all(isinstance(k, str) and not k.startswith("$") for k in v):
                return {k: self._enc(x) for k, x in v.items()}
            return {"$m": [[self._enc(k), self._enc(x)] for k, x in v.items()]}
        if isinstance(v, Source):
            return {"$source": {f.name: self._enc(getattr(v, f.name)) for f in dataclasses.fields(v)}}
        if isinstance(v, dt.datetime):
            return {"$dt": v.isoformat()}
        if isinstance(v, dt.date):
            return {"$date": v.isoformat()}
        raise TypeError(f"cannot queue a {type(v).__name__} in a request (REAIM_REDIS_SERIALIZER=json)")

    def _dec(self, v: Any) -> Any:
        if isinstance(v, list):
            return [self._dec(x) for x in v]
        if not isinstance(v, dict):
            return v
        if len(v) == 1:
            (tag, x), = v.items()
            if tag == "$b":
                return base64.b64decode(x)
            if tag == "$t":
                return tuple(self._dec(i) for i in x)
            if tag == "$m":
                return {self._dec(k): self._dec(i) for k, i in x}
            if tag == "$source":
                return Source(**{k: self._dec(i) for k, i in x.items()})
            if tag == "$dt":
                return dt.datetime.fromisoformat(x)
            if tag == "$date":
                return dt.date.fromisoformat(x)
        return {k: self._dec(x) for k, x in v.items()}


def serializer_for(settings: Any) -> Any:
    name = str(setting(settings, "REAIM_REDIS_SERIALIZER")).lower()
    if name == "json":
        return RequestCodec()
    if name == "pickle":
        from scrapy_redis import picklecompat

        logger.warning("REAIM_REDIS_SERIALIZER=pickle: whoever can write to Redis can run code in this worker")
        return picklecompat
    raise RedisConfigError(f"REAIM_REDIS_SERIALIZER must be json or pickle, not {name!r}")


# --- the ledger (plain Redis; used by workers and by `reaim ingest`) ---------------

_CLAIM = """
local data = redis.call('RPOP', KEYS[1])
if not data then return false end
local t = redis.call('TIME')
redis.call('ZADD', KEYS[2], tonumber(t[1]) + tonumber(t[2]) / 1000000, ARGV[1])
redis.call('HSET', KEYS[3], ARGV[1], data)
return data
"""

_ACK = """
local n = 0
for _, cid in ipairs(ARGV) do
  n = n + redis.call('ZREM', KEYS[1], cid)
  redis.call('HDEL', KEYS[2], cid)
end
local late = #ARGV - n
if late > 0 then redis.call('HINCRBY', KEYS[3], 'late_acks', late) end
return n
"""

# Back to the claiming end of the pending list: old work first.
_RELEASE = """
local n = 0
for _, cid in ipairs(ARGV) do
  local data = redis.call('HGET', KEYS[2], cid)
  if data then redis.call('RPUSH', KEYS[3], data); n = n + 1 end
  redis.call('ZREM', KEYS[1], cid)
  redis.call('HDEL', KEYS[2], cid)
end
if n > 0 then redis.call('HINCRBY', KEYS[4], 'released', n) end
return n
"""

_HEARTBEAT = """
local t = redis.call('TIME')
redis.call('ZADD', KEYS[1], tonumber(t[1]) + tonumber(ARGV[2]), ARGV[1])
return 1
"""

_REAP = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local old = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now - tonumber(ARGV[1]), 'LIMIT', 0, tonumber(ARGV[2]))
local n = 0
for _, cid in ipairs(old) do
  local worker = string.match(cid, '^(.*)#%d+$')
  local expires = worker and redis.call('ZSCORE', KEYS[4], worker)
  if not expires or tonumber(expires) < now then
    local data = redis.call('HGET', KEYS[2], cid)
    if data then redis.call('RPUSH', KEYS[3], data) end
    redis.call('ZREM', KEYS[1], cid)
    redis.call('HDEL', KEYS[2], cid)
    n = n + 1
  end
end
if n > 0 then redis.call('HINCRBY', KEYS[5], 'requeued', n) end
redis.call('ZREMRANGEBYSCORE', KEYS[4], '-inf', now - 86400)
return n
"""

_SEED = """
local empty = redis.call('LLEN', KEYS[1]) == 0 and redis.call('ZCARD', KEYS[2]) == 0
if ARGV[3] == '0' then
  if not empty then return 0 end
  if not redis.call('SET', KEYS[3], ARGV[1], 'NX', 'EX', tonumber(ARGV[2])) then return 0 end
else
  redis.call('SET', KEYS[3], ARGV[1], 'EX', tonumber(ARGV[2]))
end
if empty then redis.call('DEL', KEYS[4], KEYS[5]); return 2 end
return 1
"""

_STATUS = """
local t = redis.call('TIME')
local now = tonumber(t[1])
return {redis.call('LLEN', KEYS[1]), redis.call('ZCARD', KEYS[2]), redis.call('EXISTS', KEYS[3]),
        redis.call('ZCOUNT', KEYS[4], now, '+inf'), redis.call('LLEN', KEYS[5]), redis.call('LLEN', KEYS[6]),
        tonumber(redis.call('HGET', KEYS[7], 'requeued') or '0')}
"""


@dataclass
class FrontierStatus:
    pending: int  # requests waiting
    claimed: int  # requests some worker holds
    seeding: bool  # a worker is pushing a round's start requests
    workers: int  # workers with a live heartbeat
    items: int  # items waiting for `reaim ingest`
    ingesting: int  # items ingest is writing
    requeued: int  # claims the reapers have re-queued, all time

    @property
    def drained(self) -> bool:
        """Nothing to fetch and nothing being fetched: the round is over (items may still wait)."""
        return self.pending == 0 and self.claimed == 0 and not self.seeding


class Ledger:
    """Claims, acknowledgements, heartbeats and the reaper, as atomic Lua scripts."""

    def __init__(self, client: Any, keys: Keys) -> None:
        self.client = client
        self.keys = keys
        self._claim = client.register_script(_CLAIM)
        self._ack = client.register_script(_ACK)
        self._release = client.register_script(_RELEASE)
        self._heartbeat = client.register_script(_HEARTBEAT)
        self._reap = client.register_script(_REAP)
        self._seed = client.register_script(_SEED)
        self._status = client.register_script(_STATUS)

    def claim(self, claim_id: str) -> bytes | None:
        k = self.keys
        return self._claim(keys=[k.requests, k.claims, k.claimdata], args=[claim_id])  # type: ignore[no-any-return]

    def ack(self, claim_ids: list[str]) -> int:
        if not claim_ids:
            return 0
        return int(self._ack(keys=[self.keys.claims, self.keys.claimdata, self.keys.stats], args=claim_ids))

    def release(self, claim_ids: list[str]) -> int:
        """Give claims back at once (a worker shutting down), instead of after the lease."""
        if not claim_ids:
            return 0
        k = self.keys
        return int(self._release(keys=[k.claims, k.claimdata, k.requests, k.stats], args=claim_ids))

    def heartbeat(self, worker_id: str, ttl: float) -> None:
        self._heartbeat(keys=[self.keys.workers], args=[worker_id, ttl])

    def leave(self, worker_id: str) -> None:
        self.client.zrem(self.keys.workers, worker_id)

    def reap(self, lease: float, limit: int = 10000) -> int:
        """Re-queue claims older than ``lease`` whose worker's heartbeat has expired."""
        k = self.keys
        return int(self._reap(keys=[k.claims, k.claimdata, k.requests, k.workers, k.stats], args=[lease, limit]))

    def try_seed(self, worker_id: str, *, force: bool, lock_ttl: int) -> int:
        """0: do not seed; 1: seed into a running round; 2: seed a new round (its dupefilter and
        URL-variant memory were cleared)."""
        k = self.keys
        return int(self._seed(keys=[k.requests, k.claims, k.seeding, k.dupefilter, k.variants],
                              args=[worker_id, lock_ttl, "1" if force else "0"]))

    def end_seeding(self, worker_id: str) -> None:
        if self.client.get(self.keys.seeding) == worker_id.encode():
            self.client.delete(self.keys.seeding)

    def status(self) -> FrontierStatus:
        k = self.keys
        r = self._status(keys=[k.requests, k.claims, k.seeding, k.workers, k.items, k.items_processing, k.stats])
        return FrontierStatus(int(r[0]), int(r[1]), bool(r[2]), int(r[3]), int(r[4]), int(r[5]), int(r[6]))

    def counters(self) -> dict[str, int]:
        return {k.decode(): int(v) for k, v in self.client.hgetall(self.keys.stats).items()}


def new_worker_id() -> str:
    return f"{socket.gethostname()}-{os.getpid()}-{secrets.token_hex(3)}"


# --- Scrapy side ------------------------------------------------------------------


class ClaimQueue(_BaseQueue):
    """The pending FIFO list, claimed through the ledger instead of popped."""

    def __init__(self, server: Any, spider: Any, key: str, serializer: Any = None) -> None:
        super().__init__(server, spider, key, serializer)
        self.ledger: Ledger | None = None  # set by the scheduler

    def __len__(self) -> int:
        return int(self.server.llen(self.key))

    def push(self, request: Request) -> None:
        self.server.lpush(self.key, self._encode_request(request))

    def pop(self, timeout: int = 0) -> Request | None:  # pragma: no cover - the scheduler claims instead
        raise RuntimeError("ClaimQueue is claimed through LedgerScheduler, not popped")

    def claim(self, claim_id: str) -> tuple[Request | None, bytes | None]:
        """(request, raw); (None, raw) for an entry that does not decode; (None, None) when empty."""
        assert self.ledger is not None
        raw = self.ledger.claim(claim_id)
        if raw is None:
            return None, None
        try:
            return self._decode_request(raw), raw
        except Exception as exc:  # a corrupt or foreign entry must not come back forever
            logger.error("undecodable request in %s (%s: %s); moved to %s", self.key, type(exc).__name__, exc,
                         self.ledger.keys.dead)
            return None, raw


def engine_in_progress(crawler: Any) -> set[Any]:
    """The requests the engine has not finished with.

    Scrapy removes a request from this set only after its outcome has been
    handled in full: the callback's or errback's output processed, each item
    through all item pipelines, new requests enqueued, or the request that
    replaced it (retry, redirect) enqueued. No public signal marks that
    moment, so the set is read; Scrapy is pinned, and a change fails here.
    """
    engine = crawler.engine
    slot = getattr(engine, "_slot", None) if engine is not None else None
    if slot is None:
        return set()
    inprogress = getattr(slot, "inprogress", None)
    if not isinstance(inprogress, set):
        raise RuntimeError("this Scrapy's engine has no _slot.inprogress: the ledger cannot tell when a request "
                           "is done (see crawler/distributed.py, engine_in_progress)")
    return inprogress


class LedgerScheduler(_RedisScheduler):
    """scrapy-redis's scheduler with claims, acknowledgements, heartbeat and reaper."""

    def __init__(self, server: Any, *, crawler: Any, keys: Keys, ledger_on: bool, **kwargs: Any) -> None:
        super().__init__(server, **kwargs)
        s = crawler.settings
        self.crawler = crawler
        self.keys = keys
        self.ledger_on = ledger_on
        self.ledger = Ledger(server, keys)
        self.worker_id = new_worker_id()
        self.lease = float(setting(s, "REAIM_CLAIM_LEASE"))
        self.ttl = float(setting(s, "REAIM_HEARTBEAT_TTL"))
        self.ack_interval = float(setting(s, "REAIM_ACK_INTERVAL"))
        self.reap_interval = float(setting(s, "REAIM_REAP_INTERVAL"))
        self.until_idle = s.getbool("REAIM_UNTIL_IDLE", DEFAULTS["REAIM_UNTIL_IDLE"])
        self.idle_grace = float(setting(s, "REAIM_IDLE_GRACE"))
        if min(self.lease, self.ttl, self.ack_interval, self.reap_interval) <= 0:
            raise RedisConfigError("REAIM_CLAIM_LEASE, REAIM_HEARTBEAT_TTL and the intervals must be positive")
        self.claims: dict[Request, str] = {}
        self._seq = 0
        self._loop: Any = None
        self._last_reap = 0.0
        self._stop_beat = threading.Event()
        self._beat_thread: threading.Thread | None = None
        self._drained_since: float | None = None

    @classmethod
    def from_crawler(cls, crawler: Any) -> LedgerScheduler:
        s = crawler.settings
        server = redis_for(crawler)
        keys = keys_from_settings(s, crawler.spidercls.name)
        ledger_on = s.getbool("REAIM_LEDGER", True)
        scheduler = cls(
            server, crawler=crawler, keys=keys, ledger_on=ledger_on, persist=True, flush_on_start=False,
            queue_key=keys.requests,
            queue_cls="crawler.distributed.ClaimQueue" if ledger_on else "scrapy_redis.queue.FifoQueue",
            dupefilter=RFPDupeFilter(server, key=keys.dupefilter, debug=s.getbool("DUPEFILTER_DEBUG")),
            serializer=serializer_for(s),
        )
        scheduler.stats = crawler.stats
        crawler.signals.connect(scheduler.spider_idle, signal=signals.spider_idle)
        return scheduler

    # --- lifecycle ---
    def open(self, spider: Any) -> None:
        from scrapy.utils.misc import load_object

        self.spider = spider
        self.queue = load_object(self.queue_cls)(server=self.server, spider=spider, key=self.queue_key,
                                                 serializer=self.serializer)
        assert isinstance(self.queue, (ClaimQueue, FifoQueue))
        if isinstance(self.queue, ClaimQueue):
            self.queue.ledger = self.ledger
            engine_in_progress(self.crawler)  # fail at start, not at the first acknowledgement
        if pending := len(self.queue):
            logger.info("joining a crawl with %d request(s) queued", pending)
        self.ledger.heartbeat(self.worker_id, self.ttl)
        self._beat_thread = threading.Thread(target=self._beat, name="reaim-heartbeat", daemon=True)
        self._beat_thread.start()
        logger.info("worker %s on %s (ledger %s, lease %.0f s, heartbeat TTL %.0f s)", self.worker_id,
                    self.keys.requests, "on" if self.ledger_on else "OFF: a kill loses in-flight requests",
                    self.lease, self.ttl)
        from scrapy.utils.asyncio import create_looping_call

        self._loop = create_looping_call(self.tick)
        self._loop.start(self.ack_interval, now=False)

    def _beat(self) -> None:
        """The heartbeat, in a thread of its own: a reactor busy for a while (a big page, the
        taxonomy loading) is not a dead worker, and its claims must not be re-queued."""
        while not self._stop_beat.wait(self.ttl / 3):
            try:
                self.ledger.heartbeat(self.worker_id, self.ttl)
            except Exception as exc:
                logger.warning("heartbeat failed (%s: %s); retrying", type(exc).__name__, exc)

    def close(self, reason: str) -> None:
        if self._loop is not None and self._loop.running:
            self._loop.stop()
        self._stop_beat.set()
        if self._beat_thread is not None:
            self._beat_thread.join(timeout=5)
        try:
            self._ack_done()
            left = list(self.claims.values())
            if left:
                released = self.ledger.release(left)
                self._inc("ledger/released", released)
                logger.info("released %d unfinished claim(s) back to the queue", released)
            self.claims.clear()
            self.ledger.leave(self.worker_id)
        except Exception as exc:
            logger.warning("could not settle claims at close (%s: %s); the reaper will", type(exc).__name__, exc)
        super().close(reason)

    def _inc(self, key: str, n: int = 1) -> None:
        if self.stats is not None and n:
            self.stats.inc_value(key, n)

    # --- queueing and claiming ---
    def enqueue_request(self, request: Request) -> bool:
        if not request.dont_filter and self.df.request_seen(request):
            self.df.log(request, self.spider)
            return False
        self.queue.push(request)
        self._inc("scheduler/enqueued/redis")
        return True

    def next_request(self) -> Request | None:
        if not self.ledger_on:
            return super().next_request()  # type: ignore[no-any-return]
        assert isinstance(self.queue, ClaimQueue)
        while True:
            self._seq += 1
            claim_id = f"{self.worker_id}#{self._seq}"
            request, raw = self.queue.claim(claim_id)
            if raw is None:
                return None
            if request is None:  # undecodable: parked for a human, never retried
                self.server.lpush(self.keys.dead, raw)
                self.ledger.ack([claim_id])
                self.server.hincrby(self.keys.stats, "undecodable", 1)
                self._inc("ledger/undecodable")
                continue
            self.claims[request] = claim_id
            self._inc("ledger/claimed")
            self._inc("scheduler/dequeued/redis")
            return request

    # --- the periodic part: acknowledge, heartbeat, reap ---
    def _ack_done(self) -> None:
        if not self.claims:
            return
        busy = engine_in_progress(self.crawler)
        done = [r for r in self.claims if r not in busy]
        if done:
            acked = self.ledger.ack([self.claims[r] for r in done])
            for r in done:
                del self.claims[r]
            self._inc("ledger/acked", acked)
            self._inc("ledger/late_acks", len(done) - acked)

    def tick(self) -> None:
        """Acknowledge what is done, and reap now and then. Never raises: an exception
        would stop the looping call."""
        try:
            if self.ledger_on:
                self._ack_done()
            now = time.monotonic()
            if now - self._last_reap >= self.reap_interval:
                self._last_reap = now
                requeued = self.ledger.reap(self.lease)
                if requeued:
                    self._inc("ledger/requeued", requeued)
                    logger.warning("re-queued %d claim(s) of dead workers", requeued)
        except Exception as exc:
            logger.warning("ledger tick failed (%s: %s); retrying", type(exc).__name__, exc)

    def spider_idle(self, spider: Any = None) -> None:
        """Stay up while any worker holds claims (they may come back) or, unless
        ``REAIM_UNTIL_IDLE``, for ever; exit once the frontier stayed drained for the grace period."""
        self.tick()
        self._last_reap = 0.0  # reap on the next tick: an idle worker is the one to pick up re-queued work
        if not self.until_idle:
            raise DontCloseSpider
        try:
            drained = self.ledger.status().drained
        except Exception:
            drained = False
        now = time.monotonic()
        if not drained:
            self._drained_since = None
            raise DontCloseSpider
        if self._drained_since is None:
            self._drained_since = now
        if now - self._drained_since < self.idle_grace:
            raise DontCloseSpider


class SeedMiddleware:
    """Spider middleware: the spider's start requests (feeds, sitemaps, section pages) are
    pushed only by the worker that seeds a round. ``REAIM_SEED``: ``auto`` seeds an empty
    frontier (one worker wins the seed lock); ``true`` always; ``false`` never."""

    def __init__(self, crawler: Any) -> None:
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Any) -> SeedMiddleware:
        return cls(crawler)

    async def process_start(self, start: AsyncIterator[Any]) -> AsyncIterator[Any]:
        s = self.crawler.settings
        mode = str(setting(s, "REAIM_SEED")).lower()
        if mode in ("false", "0", "no", "off"):
            logger.info("not seeding: taking requests from the shared queue")
            return
        ledger = Ledger(redis_for(self.crawler), keys_from_settings(s, self.crawler.spider.name))
        scheduler = getattr(self.crawler.engine, "scheduler", None)
        worker_id = getattr(scheduler, "worker_id", None) or new_worker_id()
        outcome = ledger.try_seed(worker_id, force=mode in ("true", "1", "yes", "on"),
                                  lock_ttl=int(setting(s, "REAIM_SEED_LOCK_TTL")))
        if outcome == 0:
            logger.info("not seeding: the shared frontier is busy, or another worker is seeding")
            return
        logger.info("seeding %s round", "a new" if outcome == 2 else "the current")
        self.crawler.stats.set_value("distributed/seeded", outcome)
        try:
            async for obj in start:
                yield obj
        finally:
            ledger.end_seeding(worker_id)


class SeenFilterMiddleware:
    """Spider middleware: incremental crawling without the archive. An article request whose
    canonical URL already has an outcome (the set ``reaim ingest`` keeps in Redis) is not
    made, unless its source's pages update. The workers' counterpart of FrontierMiddleware's check."""

    def __init__(self, crawler: Any) -> None:
        self.crawler = crawler
        self.enabled = crawler.settings.getbool("REAIM_INCREMENTAL", True)
        self.key = keys_from_settings(crawler.settings).seen

    @classmethod
    def from_crawler(cls, crawler: Any) -> SeenFilterMiddleware:
        return cls(crawler)

    def _keep(self, obj: Any) -> bool:
        if not (self.enabled and isinstance(obj, Request) and obj.meta.get("article")):
            return True
        source = obj.meta.get("source")
        if source is not None and source.updates:
            return True
        if not redis_for(self.crawler).sismember(self.key, canonicalize(obj.url)):
            return True
        self.crawler.stats.inc_value("incremental/skipped")
        if source is not None:
            self.crawler.stats.inc_value(f"source/{source.id}/skipped_seen")
        return False

    def process_spider_output(self, response: Any, result: Iterable[Any], spider: Any = None) -> Iterable[Any]:
        return (obj for obj in result if self._keep(obj))

    async def process_spider_output_async(self, response: Any, result: AsyncIterator[Any],
                                          spider: Any = None) -> AsyncIterator[Any]:
        async for obj in result:
            if self._keep(obj):
                yield obj


def worker_overrides(settings: Any) -> dict[str, Any]:
    """The settings that turn ``reaim crawl``'s configuration into a worker's.

    Stages that need the archive leave the worker: the frontier and feed
    validators (SQLite) are replaced by the shared queue and by nothing; URL
    variants are remembered in Redis; off-topic verdicts, dedupe and store
    happen in ``reaim ingest``, which receives every item through Redis.
    """
    spider_mw = dict(settings.getdict("SPIDER_MIDDLEWARES"))
    spider_mw.update({"crawler.middlewares.FrontierMiddleware": None,
                      "crawler.distributed.SeedMiddleware": 50,
                      "crawler.distributed.SeenFilterMiddleware": 900})
    downloader_mw = dict(settings.getdict("DOWNLOADER_MIDDLEWARES"))
    downloader_mw["crawler.middlewares.ConditionalGetMiddleware"] = None
    pipelines = dict(settings.getdict("ITEM_PIPELINES"))
    for name in ("pipeline.dedupe.UrlVariantPipeline", "pipeline.relevance.RelevancePipeline",
                 "pipeline.dedupe.DedupePipeline", "pipeline.store.StorePipeline"):
        pipelines[name] = None
    pipelines.update({"pipeline.ingest_redis.RedisUrlVariantPipeline": 200,
                      "pipeline.ingest_redis.WorkerRelevancePipeline": 400,
                      "pipeline.ingest_redis.RedisItemSink": 700})
    out: dict[str, Any] = {
        "SCHEDULER": "crawler.distributed.LedgerScheduler",
        "SCHEDULER_PERSIST": True,  # documentation only: LedgerScheduler never flushes the shared frontier
        "SPIDER_MIDDLEWARES": spider_mw,
        "DOWNLOADER_MIDDLEWARES": downloader_mw,
        "ITEM_PIPELINES": pipelines,
    }
    for name, value in DEFAULTS.items():
        if settings.get(name) is None:
            out[name] = value
    return out

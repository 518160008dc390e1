"""Scrapy settings for reaim-tracker.

Polite by default (robots.txt, AutoThrottle, two requests per host at a
time, a User-Agent that names the project). Secrets never go here: Scrapy
prints overridden settings at start-up, so translator keys are read from the
environment by the translation stage itself.
"""

BOT_NAME = "reaim"
SPIDER_MODULES = ["crawler.spiders"]
NEWSPIDER_MODULE = "crawler.spiders"

REAIM_CONTACT = "https://github.com/reaim-tracker/reaim-tracker"
USER_AGENT = f"reaim-tracker/0.1 (research news archive; +{REAIM_CONTACT})"

ROBOTSTXT_OBEY = True
CONCURRENT_REQUESTS = 16
CONCURRENT_REQUESTS_PER_DOMAIN = 2
DOWNLOAD_DELAY = 1.0
DOWNLOAD_TIMEOUT = 30
DOWNLOAD_MAXSIZE = 16 * 1024 * 1024
AUTOTHROTTLE_ENABLED = True
AUTOTHROTTLE_START_DELAY = 1.0
AUTOTHROTTLE_TARGET_CONCURRENCY = 1.0
RETRY_TIMES = 2

# Off: a console and a remote-control endpoint on a crawler that runs
# unattended for months are an attack surface nobody watches.
TELNETCONSOLE_ENABLED = False
REMOTE_CONTROL_ENABLED = False
# Only the web: no file://, data: or ftp:// targets from a sources file.
DOWNLOAD_HANDLERS = {"file": None, "data": None, "ftp": None, "s3": None}

DOWNLOADER_MIDDLEWARES = {
    # Loopback, private and link-local targets refused, after redirects too.
    "crawler.middlewares.PrivateTargetMiddleware": 50,
    # RFC 9309: an unreachable robots.txt means disallow (Scrapy fails open).
    "scrapy.downloadermiddlewares.robotstxt.RobotsTxtMiddleware": None,
    "crawler.middlewares.StrictRobotsTxtMiddleware": 100,
    "crawler.middlewares.ConditionalGetMiddleware": 480,
    # Just after RetryMiddleware (550) on the way out: it sees 429/503 first.
    "crawler.middlewares.RetryAfterMiddleware": 560,
    # Before Scrapy's HttpProxyMiddleware (750), which reads meta["proxy"].
    "crawler.middlewares.FixedProxyMiddleware": 740,
}
SPIDER_MIDDLEWARES = {
    "crawler.middlewares.FrontierMiddleware": 900,
}
# GDELT asks for at most one request every 5 seconds; its requests share this slot.
DOWNLOAD_SLOTS = {"gdelt": {"concurrency": 1, "delay": 5.0, "randomize_delay": False}}
RETRY_AFTER_MAX = 600  # seconds; a longer Retry-After leaves the host for the next run

ITEM_PIPELINES = {
    "pipeline.normalize.NormalizePipeline": 100,
    "pipeline.dedupe.UrlVariantPipeline": 200,
    "pipeline.language.LanguagePipeline": 300,
    "pipeline.relevance.RelevancePipeline": 400,
    "pipeline.translate.TranslatePipeline": 500,
    "pipeline.tag.TagPipeline": 600,
    "pipeline.dedupe.DedupePipeline": 650,
    "pipeline.store.StorePipeline": 700,
}

LOG_LEVEL = "INFO"
FEED_EXPORT_ENCODING = "utf-8"

# --- reaim settings (namespaced; see docs/configuration.md) ---
REAIM_DB = None  # archive path; None -> $REAIM_DB or ./reaim.db
REAIM_SOURCES = None  # sources YAML; None -> crawler/sources.yaml
REAIM_SOURCE_IDS = []  # restrict to these source ids
REAIM_SITE = None  # value substituted for "{site}" in source URLs (the demo)
REAIM_INCREMENTAL = True  # skip article URLs already handled (unless the source's pages update)
REAIM_ALLOW_PRIVATE = False  # allow loopback/private targets (tests, the demo); also env REAIM_ALLOW_PRIVATE=1
REAIM_PROXY = None  # send every request through this HTTP proxy (the demo's sample site)
REAIM_RUN_ID = None
TAG_TAXONOMY = None  # taxonomy directory; None -> pipeline/taxonomy
RELEVANCE_THRESHOLD = 0.5
RELEVANCE_KEEP_OFF_TOPIC = False
TRANSLATE_PROVIDER = None  # None -> $REAIM_TRANSLATOR or google
TRANSLATE_URL = None  # None -> $REAIM_TRANSLATOR_URL
TRANSLATE_TARGET = "en"
TRANSLATE_MAX_CHARS = 2000
TRANSLATE_TIMEOUT = 20.0
TRANSLATE_RETRIES = 3  # on 429, 5xx, timeouts, refused connections; Retry-After honoured
TRANSLATE_BACKOFF = 0.5  # seconds, doubled per retry, with jitter
TRANSLATE_BACKOFF_CAP = 30.0  # most one text waits in total
TRANSLATE_BUDGET_CHARS = None  # characters sent per run at most (None: no cap; 0: cache only)

# --- distributed mode (reaim worker / reaim ingest; docs/scaling.md) ---
REAIM_REDIS_URL = "redis://127.0.0.1:6379/0"  # password: $REAIM_REDIS_PASSWORD, never here (settings are logged)
REAIM_REDIS_ALLOW_INSECURE = False  # refuse a non-loopback Redis without a password
REAIM_CLAIM_LEASE = 60.0  # seconds before a dead worker's claims are re-queued

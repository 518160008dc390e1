"""Crawl throughput: Scrapy's bare fetch rate next to the full project crawl, on one generated site.

Starts ``bench/gen_site.py`` in a subprocess (it generates the site and serves
it from memory on 127.0.0.1), then runs, each in its own subprocess (Scrapy's
reactor cannot be restarted):

  bare   a minimal SitemapSpider that downloads every article URL listed in
         the site's news sitemaps and does nothing with the body;
  full   the project crawl, exactly as a user runs it:
             REAIM_TRANSLATOR=none REAIM_ALLOW_PRIVATE=1 python -m reaim.cli crawl --db WORK/full.db \\
                 --sources WORK/sources.yaml -s DOWNLOAD_DELAY=0 \\
                 -s AUTOTHROTTLE_ENABLED=False -s CONCURRENT_REQUESTS_PER_DOMAIN=16
         over a generated sources file (one sitemap and one RSS source per
         outlet), every processing stage, a fresh SQLite archive, translation
         off. Its Scrapy stats and counts are read back from the archive's
         ``crawl_runs`` row.

Both with the project's settings (crawler/settings.py) plus DOWNLOAD_DELAY 0,
AutoThrottle off and CONCURRENT_REQUESTS_PER_DOMAIN 16 (CONCURRENT_REQUESTS is
the project's 16); robots.txt obeyed (the site serves one). With the polite
defaults (1 s delay, AutoThrottle, 2 per host) a loopback site would measure
the delay, not the crawler.

Reported per run: crawl time (Scrapy's elapsed_time_seconds) and process
wall time, pages/s (all responses), article pages/s, articles/s (full: pages
that became articles, and rows archived), CPU seconds per article page
(getrusage of the child: user + system), peak RSS (ru_maxrss of the child),
and the server's CPU share during the run (from /proc): near 100% of one core
would mean the server, not the crawler, sets the pace. The server runs apart
from this process so that the children, forked from a small parent, report
their own peak RSS (a child forked from a process holding the 250 MB site
inherits that figure in ru_maxrss).

    python bench/crawl_rate.py                       # 2,000 pages, both runs (about 2 minutes on 2 idle cores)
    python bench/crawl_rate.py --pages 5000          # the 5,000-page site of issue 3
    python bench/crawl_rate.py --pages 1000 --server asyncio
    python bench/crawl_rate.py --only full --pages 1000 --profile /tmp/crawl.pstats

``--profile`` runs the full crawl under cProfile and ``--sample`` under the
py-spy sampling profiler (if ``py-spy`` is on PATH); either prints where the
crawl's time goes, and the timing figures of a profiled run are inflated.
cProfile's per-call overhead exaggerates small, hot Python functions (the
charset scorer calls one per character); py-spy's proportions are faithful.

On a shared machine other processes steal CPU time: "child CPU / wall" well
below 1 on a CPU-bound crawl, and the load average printed with each run, say
so. The CPU-normalised rates (article pages per CPU second) do not depend on
it; the wall-clock rates do.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
BENCH = Path(__file__).resolve().parent
for _p in (str(ROOT), str(BENCH)):
    if _p not in sys.path:
        sys.path.insert(0, _p)

# The same overrides for both runs: a loopback site we own needs no politeness delay.
OVERRIDES: dict[str, Any] = {
    "DOWNLOAD_DELAY": 0,
    "AUTOTHROTTLE_ENABLED": False,
    "CONCURRENT_REQUESTS_PER_DOMAIN": 16,
    "LOG_LEVEL": "INFO",
}

# Functions whose cumulative time says where a crawl's time goes (module suffix, function name, label).
PROFILE_SPOTS: tuple[tuple[str, str, str], ...] = (
    ("crawler/spiders/news.py", "parse_article", "spider: parse_article (decode + extract)"),
    ("crawler/charset.py", "decode_html", "  charset.decode_html"),
    ("crawler/extract.py", "extract_article", "  extract.extract_article"),
    ("crawler/extract.py", "_body", "    trafilatura body (extract._body)"),
    ("crawler/extract.py", "_published", "    date (extract._published)"),
    ("htmldate/core.py", "find_date", "      htmldate.find_date"),
    ("lxml/html/__init__.py", "fromstring", "    lxml.html.fromstring (all callers)"),
    ("crawler/spiders/news.py", "parse_sitemap", "spider: parse_sitemap"),
    ("crawler/spiders/news.py", "parse_feed", "spider: parse_feed"),
    ("pipeline/normalize.py", "process_item", "stage 1 normalize"),
    ("pipeline/dedupe.py", "process_item", "stage 2/6.5 dedupe (url variant + near-duplicate)"),
    ("pipeline/language.py", "process_item", "stage 3 language"),
    ("pipeline/relevance.py", "process_item", "stage 4 relevance"),
    ("pipeline/translate.py", "process_item", "stage 5 translate (off)"),
    ("pipeline/tag.py", "process_item", "stage 6 tag"),
    ("pipeline/store.py", "process_item", "stage 7 store (SQLite)"),
    ("crawler/classify.py", "classify_response", "spider: classify_response (challenge regex)"),
    ("crawler/classify.py", "classify_extracted", "spider: classify_extracted (paywall regex)"),
    ("sqlite_utils/db.py", "execute", "SQLite statements (all callers; commits wait on fsync)"),
    ("sqlite_utils/db.py", "atomic", "SQLite transactions (commit)"),
    ("scrapy/logformatter.py", "dropped", "log: DropItem messages"),
    ("logging/__init__.py", "handle", "logging (all records)"),
    ("twisted/internet/epollreactor.py", "doPoll", "reactor: epoll (I/O, incl. waiting)"),
)


# --- children ---------------------------------------------------------------------


def _child_bare(args: argparse.Namespace) -> dict[str, Any]:
    from scrapy.crawler import CrawlerProcess
    from scrapy.http import Response
    from scrapy.settings import Settings
    from scrapy.spiders import SitemapSpider

    class BareSpider(SitemapSpider):
        """Follows the sitemap index and sitemaps; downloads each listed URL; parses nothing."""

        name = "bare"

        def parse(self, response: Response, **kwargs: Any) -> None:
            assert self.crawler.stats is not None
            self.crawler.stats.inc_value("bare/article_pages")

    settings = Settings()
    settings.setmodule("crawler.settings", priority="project")
    settings.set("ITEM_PIPELINES", {}, priority="cmdline")
    for key, value in {**OVERRIDES, "LOG_FILE": args.log, "LOG_FILE_APPEND": False}.items():
        settings.set(key, value, priority="cmdline")
    process = CrawlerProcess(settings)
    crawler = process.create_crawler(BareSpider)
    process.crawl(crawler, sitemap_urls=[args.sitemap])
    process.start()
    stats = crawler.stats.get_stats() if crawler.stats else {}
    return {"stats": {k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in stats.items()}}


def _full_command(args: argparse.Namespace, work: Path) -> list[str]:
    """``reaim crawl`` with the overrides as ``-s NAME=VALUE`` (optionally under cProfile)."""
    cmd = [sys.executable]
    if args.sample:
        cmd = ["py-spy", "record", "--idle", "--threads", "--format", "raw", "--rate", "100",
               "--output", str(args.sample), "--", sys.executable]
    if args.profile:
        cmd += ["-m", "cProfile", "-o", str(args.profile)]
    cmd += ["-m", "reaim.cli", "crawl", "--db", str(work / "full.db"), "--sources", str(work / "sources.yaml")]
    for key, value in OVERRIDES.items():
        if key != "LOG_LEVEL":  # the CLI logs at INFO to a file beside the archive
            cmd += ["-s", f"{key}={value}"]
    return cmd


def _full_result(db_path: Path) -> dict[str, Any]:
    """The run's Scrapy stats and summary, as ``reaim crawl`` recorded them in the archive."""
    import sqlite3

    with sqlite3.connect(db_path) as conn:
        row = conn.execute("select status, stats, summary from crawl_runs order by id desc limit 1").fetchone()
    if row is None:
        raise SystemExit(f"no crawl run recorded in {db_path}")
    summary = json.loads(row[2] or "{}")
    return {"status": row[0], "stats": json.loads(row[1] or "{}"), "counts": summary.get("counts", {}),
            "archive": summary.get("archive", {}), "sources": summary.get("sources", [])}


def child_main(args: argparse.Namespace) -> int:
    result = _child_bare(args)
    Path(args.out).write_text(json.dumps(result, default=str), encoding="utf-8")
    return 0


# --- parent ----------------------------------------------------------------------


def _proc_cpu(pid: int) -> float:
    """User + system CPU seconds of a process, from /proc (Linux)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return float("nan")
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _start_server(args: argparse.Namespace, work: Path) -> tuple[subprocess.Popen[bytes], dict[str, Any]]:
    info_path = work / "site.json"
    info_path.unlink(missing_ok=True)
    cmd = [sys.executable, str(BENCH / "gen_site.py"), "--pages", str(args.pages), "--seed", str(args.seed),
           "--server", args.server, "--sources-out", str(work / "sources.yaml"), "--info-out", str(info_path)]
    proc = subprocess.Popen(cmd, cwd=ROOT)
    deadline = time.monotonic() + 600
    while not info_path.exists():
        if proc.poll() is not None:
            raise SystemExit(f"the site server exited ({proc.returncode})")
        if time.monotonic() > deadline:
            proc.terminate()
            raise SystemExit("the site server did not start within 10 minutes")
        time.sleep(0.1)
    return proc, json.loads(info_path.read_text(encoding="utf-8"))


def _run_child(mode: str, args: argparse.Namespace, work: Path, site: dict[str, Any], server_pid: int) -> dict[str, Any]:
    out = work / f"{mode}.json"
    if mode == "bare":
        cmd = [sys.executable, str(Path(__file__).resolve()), "--child", mode, "--out", str(out),
               "--log", str(work / f"{mode}.crawl.log"), "--sitemap", site["sitemap_index_url"]]
    else:
        cmd = _full_command(args, work)
    # REAIM_ALLOW_PRIVATE: the crawler refuses loopback targets unless told (the site is on 127.0.0.1).
    env = {**os.environ, "REAIM_TRANSLATOR": "none", "REAIM_ALLOW_PRIVATE": "1", "PYTHONHASHSEED": "0"}
    load0 = os.getloadavg()[0]
    server0 = _proc_cpu(server_pid)
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    proc.returncode = os.waitstatus_to_exitcode(status)
    server1 = _proc_cpu(server_pid)
    # reaim crawl exits 3 when some source failed; the run is still measured (and the check below shows it).
    if mode == "bare":
        if proc.returncode != 0 or not out.exists():
            raise SystemExit(f"bare crawl failed (exit {proc.returncode}); log: {work / 'bare.crawl.log'}")
        result: dict[str, Any] = json.loads(out.read_text(encoding="utf-8"))
    else:
        if proc.returncode not in (0, 3) and not (args.profile or args.sample):
            raise SystemExit(f"reaim crawl failed (exit {proc.returncode}); log: {work / 'full.crawl.log'}")
        result = _full_result(work / "full.db")
    result["exit_code"] = proc.returncode
    result.update(
        wall=wall, cpu_user=usage.ru_utime, cpu_sys=usage.ru_stime, maxrss_kb=usage.ru_maxrss,
        server_cpu=server1 - server0,
        load=(round(load0, 2), round(os.getloadavg()[0], 2)),
    )
    return result


def _metrics(mode: str, r: dict[str, Any]) -> dict[str, Any]:
    s = r["stats"]
    elapsed = float(s.get("elapsed_time_seconds") or r["wall"])
    cpu = r["cpu_user"] + r["cpu_sys"]
    pages = int(s.get("response_received_count", 0))
    if mode == "bare":
        article_pages = int(s.get("bare/article_pages", 0))
        articles = archived = None
    else:
        article_pages = sum(int(v) for k, v in s.items() if k.startswith("source/") and k.endswith("/pages"))
        articles = sum(int(v) for k, v in s.items() if k.startswith("source/") and k.endswith("/articles"))
        archived = int(s.get("store/new", 0))
    m: dict[str, Any] = {
        "crawl_s": round(elapsed, 1), "wall_s": round(r["wall"], 1), "responses": pages,
        "article_pages": article_pages, "pages_per_s": round(pages / elapsed, 1),
        "article_pages_per_s": round(article_pages / elapsed, 1),
        "cpu_s": round(cpu, 1), "cpu_ms_per_article_page": round(1000 * cpu / max(article_pages, 1), 2),
        "cpu_share": round(cpu / r["wall"], 2),
        "article_pages_per_cpu_s": round(article_pages / max(cpu, 1e-9), 1),
        "peak_rss_mb": round(r["maxrss_kb"] / 1024, 1),
        "mb_downloaded": round(int(s.get("downloader/response_bytes", 0)) / 2**20, 1),
        "server_cpu_share": round(r["server_cpu"] / r["wall"], 2),
        "load": "{}->{}".format(*r["load"]),
    }
    if articles is not None:
        m.update(articles=articles, articles_per_s=round(articles / elapsed, 1),
                 cpu_ms_per_article=round(1000 * cpu / max(articles, 1), 2),
                 archived=archived, archived_per_s=round((archived or 0) / elapsed, 1))
    return m


def _check_full(truth: dict[str, dict[str, Any]], r: dict[str, Any], db_path: Path, examples: int = 5) -> list[str]:
    """The full crawl against the generator's ground truth, per URL; a gap may be a crawler bug."""
    import sqlite3
    from urllib.parse import urlsplit

    s, c = r["stats"], r.get("counts", {})
    kinds: dict[str, int] = {}
    for t in truth.values():
        kinds[t["kind"]] = kinds.get(t["kind"], 0) + 1
    expected = {p for p, t in truth.items() if t["kind"] == "article" and t["relevant"]}
    offtopic = sum(1 for t in truth.values() if t["kind"] in ("article", "duplicate") and not t["relevant"])
    dup_relevant = sum(1 for t in truth.values() if t["kind"] == "duplicate" and t["relevant"])
    rows = [
        ("archived (store/new)", len(expected), c.get("new", 0), "relevant originals"),
        ("off-topic dropped", offtopic, c.get("off_topic", 0), "off-topic articles and copies, once per URL fetched"),
        ("near-duplicates folded", dup_relevant, c.get("near_duplicates", 0), "relevant republications"),
        ("not articles", kinds.get("stub", 0), c.get("not_articles", 0), "video stubs"),
        ("fetch failures (404)", kinds.get("missing", 0), int(s.get("failures/fetch", 0)), "dead sitemap entries"),
        ("url variants", None, c.get("url_variants", 0), "relevant feed links with utm_* fetched again"),
        ("other failures", 0, int(c.get("failed_pages", 0)) - int(s.get("failures/fetch", 0)), ""),
    ]
    lines = []
    for name, exp, got, note in rows:
        flag = "" if exp is None or exp == got else "   <-- differs"
        lines.append(f"  {name:<26} expected {'-' if exp is None else exp:>6}  got {got:>6}  ({note}){flag}")
    with sqlite3.connect(db_path) as conn:
        archived = {urlsplit(u).path for (u,) in conn.execute("select url from articles")}
        tables = {n for (n,) in conn.execute("select name from sqlite_master where type = 'table'")}

        def why(path: str) -> str:
            if "seen_urls" not in tables:
                return ""
            row = conn.execute("select outcome, reason from seen_urls where url like ? order by last_seen desc limit 1",
                               ["%" + path]).fetchone()
            return f" [seen_urls: {row[0]}, {row[1]}]" if row else " [not in seen_urls]"

        missing, extra = sorted(expected - archived), sorted(archived - expected)
        lines.append(f"  relevant originals not archived: {len(missing)}; archived but not expected: {len(extra)}")
        for path in missing[:examples]:
            lines.append(f"    missing {path}{why(path)}")
        for path in extra[:examples]:
            t = truth.get(path, {})
            lines.append(f"    extra   {path} (kind {t.get('kind')}, relevant {t.get('relevant')}){why(path)}")
    return lines


def summarize_profile(
    path: str | Path, total: float | None = None, top: int = 25,
    spots: tuple[tuple[str, str, str], ...] = PROFILE_SPOTS,
) -> str:
    """Cumulative time at ``spots`` (module suffix, function, label), then the top functions by own time."""
    import io
    import pstats

    st = pstats.Stats(str(path))
    raw: dict[Any, Any] = st.stats  # type: ignore[attr-defined]
    total = total or st.total_tt  # type: ignore[attr-defined]
    lines = [f"profile {path}: {total:.1f} s profiled", f"  {'where':<52} {'cum s':>8} {'share':>6} {'calls':>8}"]
    for suffix, func, label in spots:
        cum = calls = 0.0
        for (filename, _line, name), (_cc, nc, _tt, ct, _callers) in raw.items():
            if name == func and filename.replace("\\", "/").endswith(suffix):
                cum += ct
                calls += nc
        if calls:
            lines.append(f"  {label:<52} {cum:8.1f} {cum / total:6.1%} {int(calls):8d}")
    buf = io.StringIO()
    pstats.Stats(str(path), stream=buf).sort_stats("tottime").print_stats(top)
    body = buf.getvalue()
    start = body.find("   ncalls")
    lines.append(f"\n  top {top} by own time:\n" + (body[start:] if start >= 0 else body))
    return "\n".join(lines)


PROJECT_DIRS = ("crawler/", "pipeline/", "archive/")  # reaim/ holds run_crawl, an ancestor of everything


def summarize_sample(path: str | Path, spots: tuple[tuple[str, str, str], ...] = PROFILE_SPOTS, top: int = 20) -> str:
    """py-spy raw samples of the main thread: share of samples under each spot, and by innermost project function.

    "Innermost project function" charges each sample to the deepest frame in
    the project's own code (with the libraries it called); samples with no
    project frame are Scrapy, Twisted and asyncio: the downloader, the engine,
    the scheduler, and waiting for I/O.
    """
    total = 0
    at: dict[str, int] = {}
    inner: dict[str, int] = {}
    for line in Path(path).read_text(encoding="utf-8", errors="replace").splitlines():
        stack, _, count = line.rpartition(" ")
        frames = stack.split(";")
        if not frames or "MainThread" not in frames[0] or not count.isdigit():
            continue
        n = int(count)
        total += n
        parsed = []
        for frame in frames[1:]:
            name, _, loc = frame.rpartition(" (")
            parsed.append((name.split(".")[-1], loc.rstrip(")").rsplit(":", 1)[0], name))
        for suffix, func, label in spots:
            if any(f == func and p.endswith(suffix) for f, p, _ in parsed):
                at[label] = at.get(label, 0) + n
        owner = "(no project frame: Scrapy / Twisted / asyncio / I/O wait)"
        for _f, p, name in reversed(parsed):
            if p.startswith(PROJECT_DIRS):
                owner = f"{name} ({p})"
                break
        inner[owner] = inner.get(owner, 0) + n
    if not total:
        return f"no main-thread samples in {path}"
    lines = [f"py-spy samples {path}: {total} main-thread samples (100/s, idle included)",
             f"  {'where (samples with this frame on the stack)':<60} {'share':>6}"]
    for _suffix, _func, label in spots:
        if label in at:
            lines.append(f"  {label:<60} {at[label] / total:6.1%}")
    lines.append(f"\n  {'innermost project function (with what it calls)':<80} {'share':>6}")
    for owner, n in sorted(inner.items(), key=lambda kv: -kv[1])[:top]:
        lines.append(f"  {owner[:80]:<80} {n / total:6.1%}")
    return "\n".join(lines)


def _table(results: dict[str, dict[str, Any]]) -> str:
    keys = [("crawl_s", "crawl time, s (Scrapy elapsed)"), ("wall_s", "process wall time, s"),
            ("responses", "responses (all)"), ("article_pages", "article pages fetched"),
            ("pages_per_s", "pages/s (all responses)"), ("article_pages_per_s", "article pages/s"),
            ("articles", "articles extracted"), ("articles_per_s", "articles/s"),
            ("archived", "archived (relevant, new)"), ("archived_per_s", "archived/s"),
            ("cpu_s", "child CPU s (user+sys)"), ("cpu_share", "child CPU / wall"),
            ("cpu_ms_per_article_page", "CPU ms per article page"), ("cpu_ms_per_article", "CPU ms per article"),
            ("article_pages_per_cpu_s", "article pages per CPU s"),
            ("peak_rss_mb", "peak RSS, MB"), ("mb_downloaded", "MB downloaded"),
            ("server_cpu_share", "server CPU / wall"),
            ("load", "load average (start->end)")]
    modes = list(results)
    lines = [f"  {'':<34}" + "".join(f"{m:>12}" for m in modes) + ("     full/bare" if len(modes) == 2 else "")]
    for key, label in keys:
        vals = [results[m].get(key) for m in modes]
        row = f"  {label:<34}" + "".join(f"{'-' if v is None else v:>12}" for v in vals)
        nums = [float(v) for v in vals if isinstance(v, int | float) and v]
        if len(modes) == 2 and len(nums) == 2:
            row += f"{nums[1] / nums[0]:>13.2f}x"
        lines.append(row)
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--pages", type=int, default=2000,
                    help="article pages on the generated site (default 2000: under 5 minutes on 2 cores; 5000 for issue 3)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--server", choices=("threading", "asyncio"), default="threading")
    ap.add_argument("--only", choices=("bare", "full", "both"), default="both")
    ap.add_argument("--profile", type=Path, help="run the full crawl under cProfile, dump stats here")
    ap.add_argument("--sample", type=Path, help="run the full crawl under py-spy (sampling), raw samples here")
    ap.add_argument("--keep", type=Path, help="keep the work directory (archive, logs) here")
    ap.add_argument("--json", type=Path, help="also write the figures as JSON")
    # internal: the child processes
    ap.add_argument("--child", choices=("bare", "full"), help=argparse.SUPPRESS)
    ap.add_argument("--out", help=argparse.SUPPRESS)
    ap.add_argument("--log", help=argparse.SUPPRESS)
    ap.add_argument("--sitemap", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child:
        return child_main(args)
    if args.sample and args.profile:
        ap.error("--sample and --profile are exclusive")
    if args.sample:
        import shutil

        if shutil.which("py-spy") is None:
            ap.error("--sample needs py-spy on PATH (pip install py-spy); --profile uses cProfile")

    def log(msg: str) -> None:
        print(msg, flush=True)

    if args.keep:
        args.keep.mkdir(parents=True, exist_ok=True)
        for old in args.keep.glob("full.*"):  # a fresh archive: an earlier run's state would skip pages
            old.unlink()
    tmp = tempfile.TemporaryDirectory(prefix="reaim-bench-") if not args.keep else None
    work = args.keep or Path(tmp.name)  # type: ignore[union-attr]
    srv, site = _start_server(args, work)
    results: dict[str, dict[str, Any]] = {}
    raw: dict[str, dict[str, Any]] = {}
    try:
        log(f"site {site['base_url']} ({args.server} server, pid {srv.pid}); work dir {work}; {os.cpu_count()} CPUs")
        for mode in ("bare", "full") if args.only == "both" else (args.only,):
            log(f"running {mode} crawl ...")
            raw[mode] = _run_child(mode, args, work, site, srv.pid)
            results[mode] = _metrics(mode, raw[mode])
            log(f"  {mode}: {json.dumps(results[mode])}")
    finally:
        srv.terminate()
        srv.wait(10)
    print("\nCrawl rate (" + f"{args.pages} pages, {args.server} server, {os.cpu_count()} CPUs, "
          f"Python {sys.version.split()[0]})")
    print(_table(results))
    if "full" in raw:
        print("\nFull crawl against the site's ground truth:")
        print("\n".join(_check_full(site["truth"], raw["full"], work / "full.db")))
        print(f"  crawl status: {raw['full'].get('status')}; finish_reason: {raw['full']['stats'].get('finish_reason')}")
    if args.json:
        args.json.write_text(json.dumps({"pages": args.pages, "server": args.server, "results": results,
                                         "site": site["summary"]}, indent=2), encoding="utf-8")
    if args.profile and "full" in raw:
        print()
        print(summarize_profile(args.profile))
    if args.sample and "full" in raw:
        print()
        print(summarize_sample(args.sample))
    if tmp is not None:
        tmp.cleanup()
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""One canonical form per article URL, so the archive's key survives tracking
parameters, AMP and mobile hosts, and a second crawl adds nothing twice.

w3lib does the RFC work (percent-encoding, query sorting, fragments); what is
ours is the news-specific folding no library does: which query keys are
tracking noise, and which host and path prefixes are presentation variants
of the same page.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from w3lib.url import canonicalize_url

# Query keys that never change which article a URL points at.
TRACKING_KEYS = frozenset(
    {
        "fbclid", "gclid", "dclid", "gbraid", "wbraid", "msclkid", "yclid", "mc_cid", "mc_eid",
        "igshid", "ref", "ref_src", "referrer", "cmpid", "ocid", "smid", "sr_share", "share",
        "outputtype", "amp", "_ga", "__twitter_impression", "rss", "from", "spm", "ito", "at_medium",
        "at_campaign", "guccounter", "guce_referrer", "guce_referrer_sig",
    }
)
TRACKING_PREFIXES = ("utm_", "pk_", "mtm_", "hsa_", "_hs", "oly_")

# Host prefixes that serve the same article in another layout.
_VARIANT_HOST = re.compile(r"^(?:www\d?|m|mobile|amp)\.", re.IGNORECASE)
# Path markers of AMP copies: /amp/... , .../amp, ...amp.html
_AMP_SEGMENT = re.compile(r"(?:^|/)amp(?=/|$)", re.IGNORECASE)
_AMP_SUFFIX = re.compile(r"(?:[._-]amp)(?=\.html?$|$)", re.IGNORECASE)


def _is_tracking(key: str) -> bool:
    k = key.lower()
    return k in TRACKING_KEYS or k.startswith(TRACKING_PREFIXES)


def canonicalize(url: str) -> str:
    """The archive's key for ``url``: lower-case scheme and host, no default
    port, no fragment, no tracking parameters, sorted query, no www./m./amp.
    host prefix, no AMP path marker. A loopback port is kept (the sample site
    and test servers live on one). The scheme is kept: http and https copies
    of one page are rare and folding them would hide a misconfigured source.
    """
    url = url.strip()
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return url
    host = _VARIANT_HOST.sub("", parts.hostname.lower())
    port = parts.port
    netloc = host if port is None or (parts.scheme, port) in (("http", 80), ("https", 443)) else f"{host}:{port}"
    query = urlencode([(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if not _is_tracking(k)])
    path = amp_to_canonical_path(parts.path or "/")
    return canonicalize_url(urlunsplit((parts.scheme.lower(), netloc, path, query, "")))


def amp_to_canonical_path(path: str) -> str:
    """``/amp/2024/x.html`` and ``/2024/x/amp`` → the non-AMP path (a guess that
    rel=canonical, when present, overrides)."""
    path = _AMP_SEGMENT.sub("", path) or "/"
    path = _AMP_SUFFIX.sub("", path)
    return path if path.startswith("/") else "/" + path


def is_amp(url: str) -> bool:
    path = urlsplit(url).path
    return bool(_AMP_SEGMENT.search(path) or _AMP_SUFFIX.search(path)) or urlsplit(url).netloc.lower().startswith("amp.")


def same_site(a: str, b: str) -> bool:
    """True when two URLs are on the same host once variant prefixes are folded.

    A page's rel=canonical pointing to another site is a syndication notice,
    not a URL variant: we keep such an article under its own URL.
    """
    ha = _VARIANT_HOST.sub("", (urlsplit(a).hostname or "").lower())
    hb = _VARIANT_HOST.sub("", (urlsplit(b).hostname or "").lower())
    return bool(ha) and ha == hb

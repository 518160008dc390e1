"""Not every 200 is an article: tell bot challenges, paywall teasers, index
pages and documents apart, so each is recorded with its reason instead of
being archived as an article or silently dropped."""

from __future__ import annotations

import re
from dataclasses import dataclass

# Markers of anti-bot interstitials that answer 200 (Cloudflare, Akamai, DataDome, generic captchas).
_CHALLENGE = re.compile(
    r"cf-browser-verification|challenge-platform|cf-chl-|Just a moment\.\.\.|Attention Required! \| Cloudflare"
    r"|captcha-delivery|datadome|g-recaptcha|h-captcha|Are you a (?:robot|human)|unusual traffic from your"
    r"|Access Denied</title>|Please enable JS and disable any ad blocker",
    re.IGNORECASE,
)
_PAYWALL = re.compile(
    r'"isAccessibleForFree"\s*:\s*"?false|class="[^"]*\b(?:paywall|premium-wall|subscriber-only|piano-offer)\b'
    r"|Subscribe to (?:continue|read)|This article is for subscribers|Suscríbete para seguir leyendo"
    r"|구독자 전용|유료 기사|Abonnez-vous pour lire|Jetzt abonnieren|Word abonnee",
    re.IGNORECASE,
)
# With this little text, a page flagged as paywalled is a teaser, not the article.
TEASER_MAX_CHARS = 900


@dataclass(frozen=True)
class PageVerdict:
    kind: str  # challenge, paywall, document, too_short
    reason: str
    retry: bool  # True: try again next run (a block may lift); False: remember as handled


def classify_response(content_type: str | None, head: str) -> PageVerdict | None:
    """Before extraction: documents and bot challenges (``head``: the first ~20 KB of the page)."""
    ct = (content_type or "").split(";")[0].strip().lower()
    if ct and not any(t in ct for t in ("html", "xml")):
        return PageVerdict("document", f"not an HTML page ({ct})", retry=False)
    if _CHALLENGE.search(head):
        return PageVerdict("challenge", "bot challenge page (answered 200)", retry=True)
    return None


def classify_extracted(html_head: str, text: str | None, minimum: int) -> PageVerdict | None:
    """After extraction: paywall teasers and pages with too little text to be an article."""
    length = len(text or "")
    if length <= TEASER_MAX_CHARS and _PAYWALL.search(html_head):
        return PageVerdict("paywall", f"paywall teaser ({length} characters of text)", retry=False)
    if length < minimum:
        return PageVerdict("too_short", f"not an article: {length} characters of text (index, tag or about page?)",
                           retry=False)
    return None

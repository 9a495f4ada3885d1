"""Product feeds by URL: a conditional GET (ETag / Last-Modified) and the ingest of what changed, per feed.

Each feed's validators, the time it was last read and the ids it holds are kept in the store's meta
table, so an unchanged feed costs one request (304: nothing is re-ingested) and a product's price and
stock can say how old they are (`synced_at`). A feed that fails (timeout, HTTP error, an HTML page,
a file of no known format) raises `FeedError` and leaves the catalog as it was.
"""

from __future__ import annotations

import json
import logging
import tempfile
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path, PurePosixPath
from urllib.parse import urlsplit

import httpx

from knowledge.base import KnowledgeBase
from knowledge.ingest import IngestReport, Progress, ingest_file
from shopguide.errors import FeedError, IngestError

log = logging.getLogger(__name__)

STATE_KEY = "feed:{url}"  # JSON: etag, last_modified, checked_at, interval_s
IDS_KEY = "feed_ids:{url}"  # JSON list: the ids the feed held at its last good read
FEEDS_KEY = "feeds"  # JSON list of every feed URL ever read into this store
_SUFFIXES = (".xml", ".csv", ".tsv", ".txt", ".json", ".jsonl", ".ndjson")
USER_AGENT = "shopguide-feed/1"


def is_url(text: str | None) -> bool:
    """True for an http(s) URL (what `ingest products` fetches instead of opening a file)."""
    return bool(text) and urlsplit(str(text)).scheme.lower() in ("http", "https") and bool(urlsplit(str(text)).netloc)


@dataclass
class FeedResult:
    """What one read of a feed did: `unchanged` (the server said 304) or the ingest's report."""

    url: str
    unchanged: bool
    report: IngestReport

    def summary(self) -> str:
        """One line for people."""
        if self.unchanged:
            return f"products from {self.url}: unchanged since the last read (304), nothing re-ingested"
        return self.report.summary()


def now_iso() -> str:
    """The current UTC time as stored in the meta table."""
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def feed_state(kb: KnowledgeBase, url: str) -> dict:
    """The stored validators and times of a feed ({} before its first good read)."""
    raw = kb.store.get_meta(STATE_KEY.format(url=url))
    return json.loads(raw) if raw else {}


def sync_feed(kb: KnowledgeBase, url: str, *, fmt: str | None = None, strict: bool = False, prune: bool = False,
              currency: str | None = None, interval_s: int = 3600, timeout_s: float = 60.0,
              progress: Progress | None = None, client: httpx.Client | None = None) -> FeedResult:
    """Read `url` (conditionally) and ingest it as a product file; raises `FeedError` when the feed is unusable."""
    state = feed_state(kb, url)
    headers = {"User-Agent": USER_AGENT}
    if state.get("etag"):
        headers["If-None-Match"] = state["etag"]
    if state.get("last_modified"):
        headers["If-Modified-Since"] = state["last_modified"]
    response = _get(url, headers, timeout_s, client)
    if response.status_code == 304 and state:
        _save_state(kb, url, {**state, "checked_at": now_iso(), "interval_s": interval_s})
        log.info("feed %s unchanged (304)", url)
        return FeedResult(url, True, IngestReport(kind="product", file=url,
                                                  notes=["unchanged since the last read (HTTP 304): nothing re-ingested"]))
    if response.status_code >= 400 or response.status_code == 304:
        raise FeedError(f"{url}: the server answered HTTP {response.status_code} {response.reason_phrase}".rstrip())
    body = response.content
    if not body.strip():
        raise FeedError(f"{url}: the server sent an empty body, not a feed")
    kind = response.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind in ("text/html", "application/xhtml+xml") or body.lstrip()[:200].lower().startswith((b"<!doctype html", b"<html")):
        raise FeedError(f"{url}: the server sent an HTML page ({kind or 'no content type'}), not a product feed; "
                        "check the feed's URL (a login or error page?)")
    with tempfile.TemporaryDirectory(prefix="shopguide-feed-") as tmp:
        path = Path(tmp) / _file_name(url, kind, body)
        path.write_bytes(body)
        try:
            report = ingest_file(kb, "product", path, fmt=fmt, strict=strict, prune=prune, progress=progress,
                                 currency=currency)
        except IngestError as exc:
            raise FeedError(str(exc).replace(str(path), url)) from None
    report.file = url
    for problem in report.problems:
        problem.file = url
    if report.ids is None:  # no valid row, or --strict refused it: the last good catalog stays, and so do the validators
        raise FeedError(f"{url}: nothing was ingested: " + "; ".join(report.notes or ["no valid row"]), report=report)
    kb.store.set_meta(IDS_KEY.format(url=url), json.dumps(report.ids))
    _save_state(kb, url, {"etag": response.headers.get("etag"), "last_modified": response.headers.get("last-modified"),
                          "checked_at": now_iso(), "interval_s": interval_s})
    return FeedResult(url, False, report)


def _get(url: str, headers: dict[str, str], timeout_s: float, client: httpx.Client | None) -> httpx.Response:
    try:
        if client is not None:
            return client.get(url, headers=headers, timeout=timeout_s, follow_redirects=True)
        with httpx.Client(timeout=timeout_s, follow_redirects=True) as own:
            return own.get(url, headers=headers)
    except httpx.TimeoutException:
        raise FeedError(f"{url}: no answer within {timeout_s:g} s (timed out)") from None
    except httpx.HTTPError as exc:
        raise FeedError(f"{url}: cannot fetch the feed: {exc or type(exc).__name__}") from None


def _file_name(url: str, kind: str, body: bytes) -> str:
    """A file name whose extension lets the readers tell the format: the URL's own, else the content's."""
    name = PurePosixPath(urlsplit(url).path).name
    if name and PurePosixPath(name).suffix.lower() in _SUFFIXES:
        return name
    start = body.lstrip()[:1]
    if start == b"<" or kind.endswith("xml"):
        return "feed.xml"
    if start in (b"[", b"{"):
        return "feed.jsonl" if start == b"{" else "feed.json"
    return "feed.tsv" if b"\t" in body.split(b"\n", 1)[0] else "feed.csv"


def _save_state(kb: KnowledgeBase, url: str, state: dict) -> None:
    kb.store.set_meta(STATE_KEY.format(url=url), json.dumps(state))
    feeds = json.loads(kb.store.get_meta(FEEDS_KEY) or "[]")
    if url not in feeds:
        kb.store.set_meta(FEEDS_KEY, json.dumps([*feeds, url]))


def synced_at(kb: KnowledgeBase, product_id: str) -> tuple[str, int] | None:
    """When the feed holding `product_id` was last read, with that feed's interval; None for products of files."""
    for url in json.loads(kb.store.get_meta(FEEDS_KEY) or "[]"):
        ids = kb.store.get_meta(IDS_KEY.format(url=url))
        if ids and json.dumps(product_id) in ids and product_id in json.loads(ids):
            state = feed_state(kb, url)
            if state.get("checked_at"):
                return state["checked_at"], int(state.get("interval_s") or 3600)
    return None

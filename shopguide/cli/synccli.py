"""`shopguide sync`, and `ingest products URL`: product feeds read by URL, once or at an interval."""

from __future__ import annotations

import argparse
import json
import logging
import re
import sys
import time
from collections.abc import Callable

log = logging.getLogger(__name__)

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def duration(text: str) -> int:
    """An argparse type: "1h", "30m", "90s", "1d" or plain seconds, at least 60 s."""
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([smhd]?)\s*", text.lower())
    if not match:
        raise argparse.ArgumentTypeError(f"not a duration: {text!r} (use e.g. 1h, 30m, 90s)")
    seconds = int(float(match[1]) * _UNITS[match[2] or "s"])
    if seconds < 60:
        raise argparse.ArgumentTypeError(f"at least one minute, got {text!r}")
    return seconds


def add_parser(sub) -> None:
    """The `sync` subcommand."""
    p = sub.add_parser("sync", help="keep the catalog in step with product feeds by URL",
                       description="Read each feed URL (a Google Merchant feed, a Shopify or WooCommerce export) with a "
                                   "conditional GET: an unchanged feed costs one request and is not re-ingested. A feed "
                                   "that fails keeps the last good catalog and is reported. With --every, repeats at that "
                                   "interval until stopped (a failing feed is logged and tried again next time).")
    p.add_argument("urls", nargs="+", metavar="URL", help="http(s) URL of a product feed")
    p.add_argument("--every", type=duration, metavar="INTERVAL",
                   help="repeat at this interval (1h, 30m, ...); without it, read each feed once")
    p.add_argument("--format", choices=["csv", "json", "jsonl", "shopify", "woocommerce", "merchant"],
                   help="feed format (default: from the header, else the URL's extension)")
    p.add_argument("--prune", action="store_true", help="remove stored products that are absent from the feed")
    p.add_argument("--timeout", type=float, default=60.0, metavar="SECONDS", help="per request (default 60)")
    p.add_argument("--json", action="store_true", help="print one JSON report per feed read")
    p.set_defaults(func="shopguide.cli.synccli:main", strict=False)


def read_feed(kb, settings, url: str, args: argparse.Namespace, interval_s: int, *, vectors: bool = True):
    """One feed read and ingested, its multilingual vectors brought up to date; raises FeedError."""
    from knowledge import multilingual
    from knowledge.feeds import sync_feed
    from shopguide.cli.startup import progress_bar

    result = sync_feed(kb, url, fmt=args.format, strict=getattr(args, "strict", False), prune=args.prune,
                       currency=settings.currency and settings.currency.upper(), interval_s=interval_s,
                       timeout_s=getattr(args, "timeout", 60.0), progress=progress_bar("Embedding products"))
    if vectors and not result.unchanged:
        synced = multilingual.sync(kb, kb.document_embedder, settings.multilingual_vectors, None)
        if synced.embedded or synced.removed:
            result.report.notes.append(f"multilingual vectors: {synced.embedded} embedded, {synced.removed} removed")
    return result


def fetch_one(kb, settings, args: argparse.Namespace):
    """`ingest products URL`: the reports to print, or None after printing why the feed failed (exit 1)."""
    from shopguide.errors import FeedError

    try:
        return [read_feed(kb, settings, args.file, args, settings.sync_interval_s, vectors=False).report]
    except FeedError as exc:
        _failed(exc, args.file, args.json)
        return None


def _failed(exc, url: str, as_json: bool) -> None:
    print(f"shopguide: error: {exc}; the catalog is unchanged", file=sys.stderr)
    report = getattr(exc, "report", None)
    for problem in getattr(report, "problems", []):
        print(f"rejected {problem}", file=sys.stderr)
    if as_json:
        print(json.dumps({"kind": "product", "file": url, "error": str(exc)}, ensure_ascii=False), flush=True)


def sync_round(kb, settings, args: argparse.Namespace, interval_s: int) -> int:
    """Every feed read once: 0 when each went in whole, 1 when any failed or had rejected rows."""
    from shopguide.errors import FeedError

    code = 0
    for url in args.urls:
        try:
            result = read_feed(kb, settings, url, args, interval_s)
        except FeedError as exc:
            log.warning("feed failed, the last good catalog stays: %s", exc)
            _failed(exc, url, args.json)
            code = 1
            continue
        except Exception as exc:  # not the feed's fault: logged in full; the other feeds and later rounds go on
            if not args.every:
                raise
            log.exception("feed sync of %s failed unexpectedly", url)
            _failed(f"unexpected {type(exc).__name__} (details are in the log file)", url, args.json)
            code = 1
            continue
        for problem in result.report.problems:
            print(f"rejected {problem}", file=sys.stderr)
        for note in result.report.notes:
            print(note, file=sys.stderr)
        print(json.dumps(result.report.to_dict(), ensure_ascii=False) if args.json else result.summary(), flush=True)
        code = max(code, result.report.exit_code)
    return code


def run(kb, settings, args: argparse.Namespace, *, rounds: int | None = None,
        sleep: Callable[[float], None] = time.sleep) -> int:
    """Sync every feed, then (with --every) again at each interval; `rounds` bounds it (tests)."""
    interval_s = args.every or settings.sync_interval_s
    done = 0
    while True:
        started = time.monotonic()
        code = sync_round(kb, settings, args, interval_s)
        done += 1
        if not args.every or (rounds is not None and done >= rounds):
            return code
        wait = max(0.0, interval_s - (time.monotonic() - started))
        log.info("next feed sync in %.0f s", wait)
        sleep(wait)


def main(args: argparse.Namespace) -> int:
    """`shopguide sync URL [URL ...] [--every 1h]`."""
    from knowledge.feeds import is_url
    from shopguide.cli.app import open_knowledge
    from shopguide.cli.startup import start
    from shopguide.errors import UserFacingError

    bad = [u for u in args.urls if not is_url(u)]
    if bad:
        raise UserFacingError(f"not an http(s) URL: {bad[0]!r} (for a file use `shopguide ingest products FILE`)")
    settings = start(args, stderr_level="WARNING")
    kb = open_knowledge(settings)
    try:
        return run(kb, settings, args)
    finally:
        kb.close()

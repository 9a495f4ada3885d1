"""What a feed sync costs: first read, unchanged (304), unchanged without validators, one price changed.

    python -m shopguide.bench.feeds [--variants 2000] [--json]

Serves a generated Shopify export (four variants per product) from 127.0.0.1 and syncs it into a
throwaway store with the configured embedder, counting the server's requests and 304 answers.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import io
import json
import os
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

HEADER = ["Handle", "Title", "Body (HTML)", "Vendor", "Type", "Option1 Name", "Option1 Value", "Option2 Name",
          "Option2 Value", "Variant SKU", "Variant Inventory Qty", "Variant Price", "Status"]
OPTIONS = (("Red", "S"), ("Red", "M"), ("Blue", "M"), ("Blue", "L"))


def shopify_export(variants: int, bump: int | None = None) -> bytes:
    """A Shopify product CSV of `variants` rows (4 per handle); `bump`: the handle whose first price is raised."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(HEADER)
    for i in range(variants // 4):
        for j, (colour, size) in enumerate(OPTIONS):
            price = 10 + i % 90 + (1 if bump == i and j == 0 else 0)
            first = j == 0
            writer.writerow([f"item-{i}", f"Item {i}" if first else "", "<p>A generated item.</p>" if first else "",
                             "Bench" if first else "", "Things" if first else "", "Color" if first else "", colour,
                             "Size" if first else "", size, f"IT-{i}-{j}", j, f"{price:.2f}", "active" if first else ""])
    return out.getvalue().encode()


class Server:
    """Serves one body at /products_export.csv with an ETag (unless `validators` is off); counts requests."""

    def __init__(self, body: bytes) -> None:
        self.body, self.validators, self.requests, self.not_modified = body, True, 0, 0
        bench = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802
                bench.requests += 1
                etag = '"' + hashlib.sha256(bench.body).hexdigest()[:16] + '"'
                if bench.validators and self.headers.get("If-None-Match") == etag:
                    bench.not_modified += 1
                    self.send_response(304)
                    self.end_headers()
                    return
                self.send_response(200)
                self.send_header("Content-Type", "text/csv")
                if bench.validators:
                    self.send_header("ETag", etag)
                self.send_header("Content-Length", str(len(bench.body)))
                self.end_headers()
                self.wfile.write(bench.body)

            def log_message(self, *args) -> None:
                pass

        self.http = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.http.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.http.server_address[1]}/products_export.csv"


def run(variants: int) -> dict:
    """The four syncs' seconds and reports."""
    from knowledge.base import KnowledgeBase
    from knowledge.feeds import sync_feed
    from shopguide.cli.app import open_embedders
    from shopguide.settings import load_settings

    server = Server(shopify_export(variants))
    settings = load_settings(None)
    embedder = open_embedders(settings)[0]
    embedder.encode(["warm up the embedder before timing"])
    rows = {}
    with tempfile.TemporaryDirectory(prefix="bench-feeds-") as tmp:
        kb = KnowledgeBase(Path(tmp), embedder)
        try:
            for step in ("first read", "unchanged (304)", "unchanged, no ETag (200)", "one price changed"):
                if step.startswith("unchanged, no ETag"):
                    server.validators = False
                if step == "one price changed":
                    server.validators, server.body = True, shopify_export(variants, bump=7)
                before = server.requests
                started = time.perf_counter()
                result = sync_feed(kb, server.url, currency="EUR")
                r = result.report
                rows[step] = {"seconds": round(time.perf_counter() - started, 3), "requests": server.requests - before,
                              "added": r.added, "updated": r.updated, "unchanged": r.unchanged,
                              "embedded_chunks": r.embedded_chunks, "304": result.unchanged}
        finally:
            kb.close()
            server.http.shutdown()
    return {"variants": variants, "products": variants // 4, "bytes": len(server.body),
            "load": round(os.getloadavg()[0], 1), "steps": rows}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m shopguide.bench.feeds", description=__doc__.split("\n")[0])
    parser.add_argument("--variants", type=int, default=2000)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    result = run(args.variants)
    if args.json:
        print(json.dumps(result))
        return 0
    print(f"{result['variants']} variants, {result['products']} products, {result['bytes']:,} bytes, load {result['load']}")
    for step, r in result["steps"].items():
        print(f"{step:28s} {r['seconds']:8.3f} s  requests {r['requests']}  added {r['added']} updated {r['updated']} "
              f"unchanged {r['unchanged']} embedded {r['embedded_chunks']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

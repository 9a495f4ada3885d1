"""Product feeds by URL against a local HTTP server: conditional GET, failing feeds, `sync --every` and the CLI."""

from __future__ import annotations

import argparse
from dataclasses import replace
import hashlib
import json
import os
import subprocess
import sys
import threading
import time
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from knowledge.base import KnowledgeBase
from knowledge.feeds import feed_state, is_url, sync_feed, synced_at
from shopguide.errors import FeedError

SHOP = Path(__file__).parent / "fixtures" / "shop"


class Feeds:
    """A feed server on 127.0.0.1: path -> (body, content type) or a failure mode; counts requests per path."""

    def __init__(self) -> None:
        self.pages: dict[str, tuple[bytes, str]] = {}
        self.mode: dict[str, str] = {}  # path -> "500", "slow"
        self.requests: dict[str, int] = {}
        self.not_modified: dict[str, int] = {}
        feeds = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802
                feeds.requests[self.path] = feeds.requests.get(self.path, 0) + 1
                mode = feeds.mode.get(self.path)
                if mode == "500":
                    self.send_error(500, "Internal Server Error")
                    return
                if mode == "slow":
                    time.sleep(2)
                if self.path not in feeds.pages:
                    self.send_error(404)
                    return
                body, kind = feeds.pages[self.path]
                etag = '"' + hashlib.sha256(body).hexdigest()[:16] + '"'
                modified = formatdate(1_700_000_000, usegmt=True)
                if self.headers.get("If-None-Match") == etag:
                    feeds.not_modified[self.path] = feeds.not_modified.get(self.path, 0) + 1
                    self.send_response(304)
                    self.send_header("ETag", etag)
                    self.end_headers()
                    return
                self.send_response(200)
                self.send_header("Content-Type", kind)
                self.send_header("ETag", etag)
                self.send_header("Last-Modified", modified)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}{path}"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def feeds():
    server = Feeds()
    server.pages["/feed.xml"] = ((SHOP / "merchant_feed.xml").read_bytes(), "application/xml")
    server.pages["/products_export.csv"] = ((SHOP / "shopify_products.csv").read_bytes(), "text/csv")
    server.pages["/login"] = (b"<!DOCTYPE html><html><body>Please log in</body></html>", "text/html; charset=utf-8")
    server.pages["/feed"] = ((SHOP / "merchant_feed.tsv").read_bytes(), "text/plain")  # no extension: sniffed
    server.pages["/broken.csv"] = (b"name;colour\nlamp;red\n", "text/csv")
    yield server
    server.close()


@pytest.fixture
def kb(tmp_path, embedder):
    base = KnowledgeBase(tmp_path / "kb", embedder)
    yield base
    base.close()


def catalog(kb) -> dict[str, tuple]:
    return {p.id: (p.price, p.stock, p.available) for p in kb.store.all_products()}


def test_an_unchanged_feed_costs_one_request_and_a_changed_one_is_ingested(kb, feeds):
    url = feeds.url("/feed.xml")
    first = sync_feed(kb, url)
    assert not first.unchanged and (first.report.added, first.report.rejected) == (2, 1)
    assert first.report.file == url and all(p.file == url for p in first.report.problems)
    state = feed_state(kb, url)
    assert state["etag"] and state["last_modified"] == "Tue, 14 Nov 2023 22:13:20 GMT"
    before = catalog(kb)
    again = sync_feed(kb, url)
    assert again.unchanged and "304" in again.summary()
    assert feeds.requests["/feed.xml"] == 2 and feeds.not_modified["/feed.xml"] == 1
    assert catalog(kb) == before
    # the shop changes a price: a new ETag, one product updated, the other unchanged
    body = feeds.pages["/feed.xml"][0].replace(b"<g:price>49.00 USD</g:price>", b"<g:price>47.00 USD</g:price>", 1)
    feeds.pages["/feed.xml"] = (body, "application/xml")
    changed = sync_feed(kb, url)
    assert (changed.report.updated, changed.report.unchanged) == (1, 1)
    assert feed_state(kb, url)["etag"] != state["etag"]
    assert synced_at(kb, "M-SHIRT")[1] == 3600 and synced_at(kb, "nope") is None


def test_shopify_export_by_url_with_prune_and_a_feed_without_extension(kb, feeds):
    shopify = sync_feed(kb, feeds.url("/products_export.csv"), currency="EUR")
    assert (shopify.report.added, shopify.report.skipped) == (2, 1)
    merchant = sync_feed(kb, feeds.url("/feed"), prune=True)  # TSV with no extension and text/plain
    assert (merchant.report.added, merchant.report.removed) == (2, 2)
    assert set(catalog(kb)) == {"M-SHIRT", "M-LAMP"}


@pytest.mark.parametrize("path, mode, reason", [
    ("/feed.xml", "500", "HTTP 500"),
    ("/feed.xml", "slow", "timed out"),
    ("/login", None, "HTML page"),
    ("/broken.csv", None, "no 'id' column"),
    ("/missing.xml", None, "HTTP 404"),
])
def test_a_failing_feed_keeps_the_last_good_catalog(kb, feeds, path, mode, reason):
    good = feeds.url("/feed.xml")
    sync_feed(kb, good)
    before, state = catalog(kb), feed_state(kb, good)
    if mode:
        feeds.mode[path] = mode
    with pytest.raises(FeedError, match=reason) as failed:
        sync_feed(kb, feeds.url(path), prune=True, timeout_s=0.5)
    assert feeds.url(path) in str(failed.value)
    assert catalog(kb) == before and feed_state(kb, good) == state


def test_sync_every_logs_a_failure_keeps_running_and_retries(kb, feeds, settings, caplog, capsys):
    from shopguide.cli.synccli import run

    args = argparse.Namespace(urls=[feeds.url("/feed.xml")], every=3600, format=None, prune=False, timeout=5.0,
                              json=True)
    feeds.mode["/feed.xml"] = "500"
    waits: list[float] = []

    def sleep(seconds: float) -> None:  # between rounds: the feed comes back after the first
        waits.append(seconds)
        feeds.mode.clear()

    code = run(kb, settings, args, rounds=3, sleep=sleep)
    assert code == 0 and len(waits) == 2 and all(3590 < w <= 3600 for w in waits)
    assert feeds.requests["/feed.xml"] == 3 and feeds.not_modified["/feed.xml"] == 1
    assert "HTTP 500" in caplog.text
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert "HTTP 500" in lines[0]["error"] and lines[1]["added"] == 2 and lines[2]["unchanged"] == 0
    assert any("304" in note for note in lines[2]["notes"])
    assert set(catalog(kb)) == {"M-SHIRT", "M-LAMP"}


def run_cli(tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    """The CLI of this checkout (not whichever one the venv's `shopguide` script points at)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SHOPGUIDE_")}
    env.update(SHOPGUIDE_DATA_DIR=str(tmp_path / "data"), HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1",
               PYTHONPATH=str(Path(__file__).parent.parent))
    return subprocess.run([sys.executable, "-m", "shopguide.cli", *args], cwd=tmp_path, env=env, capture_output=True,
                          text=True, timeout=300)


def test_ingest_products_url_through_the_cli(tmp_path, feeds):
    ok = run_cli(tmp_path, "ingest", "products", feeds.url("/feed.xml"), "--json")
    assert ok.returncode == 1, ok.stderr  # the fixture's one bad row
    assert json.loads(ok.stdout)["added"] == 2
    again = run_cli(tmp_path, "ingest", "products", feeds.url("/feed.xml"))
    assert again.returncode == 0 and "304" in again.stderr, again.stderr
    feeds.mode["/feed.xml"] = "500"
    failed = run_cli(tmp_path, "ingest", "products", feeds.url("/feed.xml"))
    assert failed.returncode == 1 and "HTTP 500" in failed.stderr and "catalog is unchanged" in failed.stderr
    html = run_cli(tmp_path, "sync", feeds.url("/login"))
    assert html.returncode == 1 and "HTML page" in html.stderr
    assert not is_url("feed.xml") and is_url("https://shop.example/feed.xml")


def test_synced_facts_carry_their_age_and_a_variant_asked_for_its_own_price(tmp_path, feeds, embedder, faq_embedder,
                                                                             document_embedder):
    import asyncio
    from datetime import datetime, timedelta, timezone

    from bot.freshness import ages, as_of
    from bot.orders import fact_age
    from bot.present import comparison_text
    from bot.types import IncomingMessage
    from knowledge.feeds import STATE_KEY
    from shopguide.cli.app import build_runtime
    from shopguide.settings import Settings

    kb = KnowledgeBase(tmp_path / "kb", embedder, faq_embedder, document_embedder)
    url = feeds.url("/products_export.csv")
    sync_feed(kb, url, currency="EUR")
    rt = build_runtime(Settings(data_dir=tmp_path / "data", _env_file=None), kb=kb, load_llm=False,
                       memory_path=tmp_path / "memory.db")
    try:
        def ask(text: str, user: str):
            return asyncio.run(rt.assistant.handle(IncomingMessage("console", user, user, text=text)))

        fresh = ask("how much is the desk lamp?", "u1")[0]
        assert "€34.50" in fresh.text and "as of" not in fresh.text, fresh.text
        # the variant asked for: its own price and stock (the product's price is the cheapest in stock, €49)
        xl = ask("how much is the linen shirt in XL?", "u2")[0]
        assert "€52.00" in xl.text and "XL" in xl.text and "only 2 left" in xl.text, xl.text
        listed = ask("do you have a linen shirt in XL?", "u6")[0]
        assert "Linen Shirt (XL) — €52.00 · only 2 left" in listed.text, listed.text
        assert (listed.products[0].price, listed.products[0].stock) == (52.0, 2)
        # the feed was last read three hours ago (the sync is failing): every price and stock says how old it is
        state = json.loads(kb.store.get_meta(STATE_KEY.format(url=url)))
        read = datetime.now(timezone.utc) - timedelta(hours=3)
        kb.store.set_meta(STATE_KEY.format(url=url), json.dumps({**state, "checked_at": read.isoformat()}))
        when = f"(as of {fact_age(read.isoformat(), 3600)})"  # "(as of 09:00)", or "(as of 4 Dec 23:07)" from yesterday
        old = ask("how much is the desk lamp?", "u3")[0]
        assert "€34.50" in old.text and when in old.text, old.text
        assert old.products[0].as_of == when
        listed = ask("show me shirts", "u4")[0]
        assert "(as of" in listed.text, listed.text
        bought = ask("I want to buy it", "u3")[0]  # the desk lamp, asked about above
        assert f"is in stock {when}" in bought.text, bought.text
        assert f"in stock {when}" in comparison_text(kb.store.all_products(), ages=ages(kb, kb.store.all_products()))
        assert as_of(kb, "desk-lamp", "de").startswith("(Stand: ") and as_of(kb, "nope", "de") is None
    finally:
        rt.close()
        kb.close()


def test_variant_asked_only_when_prices_differ():
    from bot.present import card_stock_text, product_card, product_line
    from bot.variants import variant_asked
    from knowledge.schema import Product

    variants = [{"sku": "A", "color": "Sand", "size": "M", "price": 49.0, "stock": 4, "in_stock": True},
                {"sku": "B", "color": "Sand", "size": "XL", "price": 52.0, "stock": 0, "in_stock": False},
                {"sku": "C", "color": "White", "size": "XL", "price": 50.0, "in_stock": True}]
    shirt = Product(id="s", title="Shirt", price=49.0, currency="EUR", stock=4, attributes={"variants": variants})
    priced, options = variant_asked(shirt, "xl", [])
    assert (priced.price, priced.in_stock, options) == (50.0, True, "XL")  # the XL in stock
    priced, options = variant_asked(shirt, "XL", ["sand"])
    assert (priced.price, priced.stock, priced.in_stock, options) == (52.0, 0, False, "Sand, XL")
    assert variant_asked(shirt, "S", []) is None and variant_asked(shirt, None, []) is None
    same = Product(id="t", title="Tee", price=9.0, attributes={"variants": [{**v, "price": 9.0} for v in variants]})
    assert variant_asked(same, "XL", []) is None
    assert product_line(1, shirt, as_of="(as of 09:00)") == "1. Shirt — €49.00 · only 4 left (as of 09:00)"
    card = product_card(shirt)
    assert card_stock_text(card) == "only 4 left" and card_stock_text(replace(card, as_of="(as of 09:00)")) \
        == "only 4 left (as of 09:00)"

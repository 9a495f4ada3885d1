"""Order history: both order formats, what is kept and what never is, order_lines(), and order status in the chat."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

import pytest

from bot import orders as desk
from bot.types import IncomingMessage
from knowledge.base import KnowledgeBase
from knowledge.ingest import ingest_file
from knowledge.order_ingest import ingest_orders
from shopguide.errors import IngestError

FIXTURES = Path(__file__).parent / "fixtures"
ORDERS = FIXTURES / "orders"


@pytest.fixture
def shop_kb(tmp_path, embedder, faq_embedder, document_embedder):
    kb = KnowledgeBase(tmp_path / "kb", embedder, faq_embedder, document_embedder)
    ingest_file(kb, "product", FIXTURES / "shop" / "shopify_products.csv", currency="EUR")
    yield kb
    kb.close()


def test_shopify_orders_keep_only_what_order_status_needs(shop_kb, tmp_path):
    report = ingest_orders(shop_kb.store, ORDERS / "shopify_orders.csv")
    assert (report.added, report.rejected) == (2, 1)
    assert [(p.line, p.reason) for p in report.problems] == [(5, "Created at is not a date and time: 'yesterday'")]
    assert any("1 order lines name a product that is not in the catalog (lines 4)" in n for n in report.notes)
    again = ingest_orders(shop_kb.store, ORDERS / "shopify_orders.csv")
    assert (again.added, again.updated, again.unchanged) == (0, 0, 2)
    order = shop_kb.store.orders.find("1043", "  jane.doe@EXAMPLE.com ")
    assert order is not None and order.number == "#1043"
    assert (order.fulfillment_status, order.carrier, order.tracking_url, order.total, order.currency) == (
        "fulfilled", "DHL", "https://track.example/JD0146000012345", 106.45, "EUR")
    assert [(line.product_id, line.quantity) for line in order.lines] == [("linen-shirt", 1), ("desk-lamp", 2)]
    assert shop_kb.store.orders.find("#1043", "bob@example.com") is None
    shop_kb.store.db.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    raw = b"".join(p.read_bytes() for p in (tmp_path / "kb").glob("catalog.db*"))
    for secret in (b"Jane", b"jane.doe", b"@example.com", b"bob@", b"Harbour", b"900123", b"PO1 2AB", b"pay-ref", b"Leave at"):
        assert secret not in raw, secret
    lines = list(shop_kb.store.order_lines())
    assert {(product, quantity) for _, product, _, quantity in lines} == {("linen-shirt", 1), ("desk-lamp", 2)}
    assert all(key.startswith("email:") and len(key) == 6 + 64 for key, *_ in lines)
    assert lines[0][2] == "2024-05-02T10:15:00+02:00"


def test_plain_purchases_csv_and_a_file_that_is_no_orders_file(shop_kb, tmp_path):
    report = ingest_orders(shop_kb.store, ORDERS / "purchases.csv")
    assert (report.added, report.rejected) == (2, 1)
    assert [(p.line, p.reason) for p in report.problems] == [(6, "timestamp is not a date and time: 'not a date'")]
    assert any("1 order lines name a product that is not in the catalog (lines 5)" in n for n in report.notes)
    assert sorted(shop_kb.store.order_lines()) == [
        ("user:13047", "desk-lamp", "2010-12-02T09:00:00", 1),
        ("user:17850", "desk-lamp", "2010-12-01T08:26:00", 2),
        ("user:17850", "linen-shirt", "2010-12-01T08:26:00", 6)]
    other = tmp_path / "x.csv"
    other.write_text("a,b\n1,2\n", encoding="utf-8")
    with pytest.raises(IngestError, match="user_id, product_id, timestamp, quantity"):
        ingest_orders(shop_kb.store, other)


def test_order_number_and_email_parsers_and_fact_age():
    assert desk.find_order_number("where is my order #1043? jane@example.com") == "1043"
    assert desk.find_order_number("order 2048 please") == "2048"
    assert desk.find_order_number("mail me at a1234@example.com") is None
    assert desk.find_email("it's Jane.Doe+shop@example.co.uk.") == "Jane.Doe+shop@example.co.uk"
    assert desk.mask_emails("#1043 jane@example.com") == "#1043 [e-mail]"
    from datetime import datetime, timezone
    now = datetime(2024, 5, 3, 12, 0, tzinfo=timezone.utc)
    assert desk.fact_age("2024-05-03T11:30:00+00:00", 3600, now) is None
    assert desk.fact_age("2024-05-03T09:00:00+00:00", 3600, now) == "09:00"
    assert desk.fact_age("2024-05-01T09:00:00+00:00", 3600, now) == "1 May 09:00"
    assert desk.fact_age("2024-05-01T09:00:00+00:00", 3600, now, lang="de") == "1. Mai 09:00"
    assert desk.fact_age("2024-05-01T09:00:00+00:00", 3600, now, lang="zh") == "5月1日 09:00"


def test_order_status_in_the_chat_needs_the_orders_email_or_a_link(shop_kb, tmp_path, caplog):
    from shopguide.cli.app import build_runtime
    from shopguide.settings import Settings

    ingest_orders(shop_kb.store, ORDERS / "shopify_orders.csv")
    settings = Settings(data_dir=tmp_path / "data", _env_file=None)
    rt = build_runtime(settings, kb=shop_kb, load_llm=False, memory_path=tmp_path / "memory.db")

    def say(text: str, user: str = "ann") -> str:
        replies = asyncio.run(rt.assistant.handle(IncomingMessage("console", user, user, text=text)))
        return replies[0].text

    try:
        asked = say("where is my order #1043?")
        assert asked == desk.NEED_EMAIL.format(number="#1043")
        status = say("where is my order #1043? jane.doe@example.com")
        assert "Order #1043" in status and "shipped on 3 May 2024" in status and "DHL" in status
        assert "https://track.example/JD0146000012345" in status and "2 × Desk Lamp" in status
        assert say("where is my order #1043? bob@example.com", "eve") == desk.NOT_FOUND  # the wrong e-mail
        assert say("where is my order #9999? bob@example.com", "eve") == desk.NOT_FOUND  # same words: nothing told
        with caplog.at_level(logging.WARNING, logger="bot.orders"):
            answers = [say("where is my order #1043? bob@example.com", "eve") for _ in range(10)]
        assert answers[:3] == [desk.NOT_FOUND] * 3 and answers[3:] == [desk.THROTTLED] * 7
        assert "throttled" in caplog.text
        assert say("/link #1043 bob@example.com", "eve") == desk.THROTTLED  # the link is throttled the same way
        assert say("/link 1044") == desk.LINK_USAGE
        assert say("/link #1043 Jane.Doe@example.com", "joe") == desk.LINKED.format(number="#1043")
        linked = shop_kb.store.orders.linked_customer("console:joe")
        assert linked is not None and linked == shop_kb.store.orders.find("1043", "jane.doe@example.com").customer_key
        assert "Order #1043" in say("has order 1043 shipped yet?", "joe")  # linked: no e-mail needed
        assert say("where is my order #1044?", "joe") == desk.NEED_EMAIL.format(number="#1044")  # not this customer's
        logged = rt.services.memory.db.execute("SELECT text FROM events").fetchall()
        assert logged and not any("@" in row[0] for row in logged)  # e-mails never reach the chat log
        say("forget me", "joe")
        assert "erased" in say("yes", "joe").lower()
        assert shop_kb.store.orders.linked_customer("console:joe") is None  # "forget me" takes the link too
    finally:
        rt.close()

"""Order-history recommendations in the chat: bought-with, for a known customer, cold start; stock respected."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from bot.types import IncomingMessage
from knowledge.filters import SearchFilters
from knowledge.order_lines import OrderLine
from knowledge.recommend_orders import OrderRecommender

pytestmark = pytest.mark.e2e
START = datetime(2024, 3, 1, 10, 0)
BOOT, SOCKS, GONE, SOLD_OUT, TENT = "SG-HB-1001", "SG-HB-1002", "SG-GONE-1", "SG-HB-1007", "SG-HB-1003"


def orders() -> list[OrderLine]:
    """Everyone buys BOOT with SOLD_OUT (out of stock) and GONE (not in the catalog), some also SOCKS."""
    lines = []
    for c in range(40):
        for o in range(3):
            when = START + timedelta(days=10 * o + c % 7)
            basket = [BOOT, SOLD_OUT, GONE] + ([SOCKS] if c % 2 else [TENT])
            lines += [OrderLine(f"cust{c}", pid, when, 1) for pid in basket]
    return lines


@pytest.fixture(scope="module")
def order_model() -> OrderRecommender:
    return OrderRecommender.train(orders())


def _msg(user: str, text: str) -> IncomingMessage:
    return IncomingMessage(platform="test", user_id=user, chat_id=user, text=text)


def test_bought_with_counts_orders_and_skips_out_of_stock_and_removed(runtime_no_llm, order_model):
    rec = runtime_no_llm.services.recommender
    assert rec.bought_with(BOOT, 5) == []  # no order history yet: nothing, not an error
    rec.use_orders(order_model)
    pairs = rec.bought_with(BOOT, 5)
    ids = [p.id for p, _ in pairs]
    assert SOLD_OUT not in ids and GONE not in ids
    assert dict((p.id, n) for p, n in pairs) == {SOCKS: 60, TENT: 60}


def test_known_customer_and_cold_start(runtime_no_llm, order_model):
    rec = runtime_no_llm.services.recommender
    rec.use_orders(order_model)
    rec.customer_of = lambda user: {"linked": "cust3"}.get(user)
    mine = rec.recommend("linked", SearchFilters(), 3)
    assert mine.basis == "orders" and mine.personalised
    ids = [p.id for p in mine.products]
    assert ids[0] == BOOT and SOCKS in ids and SOLD_OUT not in ids and GONE not in ids
    cold = rec.recommend("newcomer", SearchFilters(), 3)
    assert cold.basis == "popular" and not cold.personalised
    assert [p.id for p in cold.products][:1] == [BOOT] and SOLD_OUT not in [p.id for p in cold.products]


async def test_chat_asks_what_people_buy_with_a_shown_product(runtime_no_llm, order_model):
    runtime_no_llm.services.recommender.use_orders(order_model)
    handle = runtime_no_llm.assistant.handle
    await handle(_msg("ann", f"show me {BOOT}"))
    replies = await handle(_msg("ann", "what do people buy with this?"))
    reply = replies[0]
    assert reply.intent == "bought_with", reply.text
    assert "also bought" in reply.text
    shown = [p.id for p in reply.products] if reply.products else []
    assert SOLD_OUT not in shown and GONE not in shown
    cold = await handle(_msg("bob", "recommend something for me"))
    assert "popular this month" in cold[0].text

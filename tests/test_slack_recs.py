"""Staff `/shop recs SKU` and the top sellers in `/shop stats`, through the real Slack app and the fake Web API."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from knowledge.order_lines import OrderLine
from knowledge.recommend_orders import OrderRecommender
from tests.test_slack_e2e import env, fake  # noqa: F401  (fixtures)

pytestmark = pytest.mark.e2e
BOOT, SOCKS, SOLD_OUT, GONE = "SG-HB-1001", "SG-HB-1002", "SG-HB-1007", "SG-GONE-1"


def recent_orders() -> list[OrderLine]:
    """Orders of the last two weeks: BOOT with SOCKS 12 times, BOOT with SOLD_OUT 5 times, BOOT with GONE twice."""
    now = datetime.now(timezone.utc).replace(tzinfo=None)
    lines = []
    for n in range(19):
        when = now - timedelta(days=n % 14, hours=n)
        other = SOCKS if n < 12 else SOLD_OUT if n < 17 else GONE
        lines += [OrderLine(f"c{n}", BOOT, when, 1), OrderLine(f"c{n}", other, when, 1)]
    return lines


async def test_shop_recs_lists_co_purchases_with_counts(env):  # noqa: F811
    await env.command(f"recs {BOOT}", 1)
    resp = (await env.fake.wait_for("response"))[0].params
    assert "No order history" in resp["text"]

    env.runtime.services.recommender.use_orders(OrderRecommender.train(recent_orders()))
    await env.command(f"recs {BOOT}", 2)
    text = (await env.fake.wait_for("response", predicate=lambda c: c.path.endswith("/2")))[0].params["text"]
    lines = text.splitlines()
    assert BOOT in lines[0]
    assert SOCKS in lines[1] and "in 12 orders with it" in lines[1]
    assert SOLD_OUT in lines[2] and "in 5 orders" in lines[2] and "out of stock" in lines[2]
    assert GONE in lines[3] and "no longer in the catalog" in lines[3] and "in 2 orders" in lines[3]

    await env.command("recs", 3)
    resp = (await env.fake.wait_for("response", predicate=lambda c: c.path.endswith("/3")))[0].params
    assert "/shop recs SKU" in resp["text"]
    await env.command("recs SG-NOPE-9", 4)
    resp = (await env.fake.wait_for("response", predicate=lambda c: c.path.endswith("/4")))[0].params
    assert "not found" in resp["text"]


async def test_shop_stats_shows_top_sellers_next_to_asked_for_but_not_found(env):  # noqa: F811
    env.runtime.memory.log_event("slack:U2", "slack", "search", "unicorn saddle", 0, False)
    env.runtime.services.recommender.use_orders(OrderRecommender.train(recent_orders()))
    await env.command("stats 7", 1)
    text = (await env.fake.wait_for("response"))[0].params["text"]
    sellers = text.split("Top sellers, last 7 days:")[1]
    first = sellers.strip().splitlines()[0]
    assert "orders" in first and "Ridgeline Aurora" in first  # the boot's stored title
    assert "Most asked for but not found:" in sellers and "unicorn saddle" in sellers.split("not found:")[1]

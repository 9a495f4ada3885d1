"""Staff `/shop recs SKU` (co-purchases with counts) and the sales lines of `/shop stats`."""

from __future__ import annotations

import time
from datetime import datetime, timezone
from typing import Any

from adapters.slack.staff_catalog import CatalogTools
from adapters.slack.staff_output import StaffOutput, text_output
from bot.runtime import Runtime

TOP_N = 10
DAY = 86400.0


def _orders(runtime: Runtime):
    return getattr(runtime.services.recommender, "orders", None)


async def recs(runtime: Runtime, catalog: CatalogTools, args: str) -> StaffOutput:
    """`/shop recs SKU`: the products most often in the same order as this one, with the order counts."""
    code = args.strip().split()[0] if args.strip() else ""
    if not code:
        return text_output("Which product? `/shop recs SKU`")
    product = catalog.find(code)
    if product is None:
        return await catalog.not_found(code)
    model = _orders(runtime)
    if model is None:
        return text_output("No order history is loaded yet, so there are no co-purchases to show.")
    pairs = model.bought_with(product.id, TOP_N)
    if not pairs:
        return text_output(f"No other product was ordered together with {product.title} [{product.id}].")
    found = runtime.kb.store.get_products([s.product_id for s in pairs])
    lines = []
    for i, s in enumerate(pairs, start=1):
        p = found.get(s.product_id)
        name = f"{p.title} [{p.id}]" if p else f"[{s.product_id}] (no longer in the catalog)"
        stock = "" if p is None or p.in_stock is not False else " · out of stock"
        lines.append(f"{i}. {name} — in {int(s.score)} order{'s' if int(s.score) != 1 else ''} with it{stock}")
    return text_output(f"Ordered together with {product.title} [{product.id}]:\n" + "\n".join(lines))


def sellers(runtime: Runtime, days: int, now: float | None = None) -> dict[str, Any]:
    """Top sellers of the last `days` days from the order history (empty without one)."""
    model = _orders(runtime)
    if model is None:
        return {"top_sellers": [], "orders_loaded": False}
    since = (now if now is not None else time.time()) - days * DAY
    top = model.top_sellers(since, TOP_N)
    found = runtime.kb.store.get_products([s.product_id for s in top])
    named = [(found[s.product_id].title if s.product_id in found else s.product_id, int(s.score)) for s in top]
    latest = datetime.fromtimestamp(model.latest, tz=timezone.utc).date().isoformat()
    return {"top_sellers": named, "orders_loaded": True, "latest_order": latest}


def sellers_text(sales: dict[str, Any], summary: dict[str, Any], days: int) -> str:
    """Top sellers next to the most asked-for products that were not found."""
    if not sales["orders_loaded"]:
        sold = "  (no order history loaded)"
    elif not sales["top_sellers"]:
        sold = f"  (no orders in the period; the latest order is from {sales['latest_order']})"
    else:
        sold = "\n".join(f"  {n} orders · {t[:80]}" for t, n in sales["top_sellers"])
    asked = "\n".join(f"  {n}× {t[:80]}" for t, n in summary.get("zero_result", [])) or "  (none)"
    return f"Top sellers, last {days} days:\n{sold}\nMost asked for but not found:\n{asked}"

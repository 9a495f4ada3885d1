"""“Add it to my cart”: this chat takes no orders, so it says where to buy, from the product's record."""

from __future__ import annotations

from bot.context import Services, Turn
from bot.nlu import Understanding
from bot.present import format_price, stock_text
from bot.products import Unresolved, only_shown, resolve_refs, which_of_kind
from bot.types import Button, Reply
from bot.understanding.references import quantity

NO_ORDERS = "I can't take orders or fill a basket in this chat."


async def handle_buy(services: Services, turn: Turn, u: Understanding) -> list[Reply]:
    """A wish to buy: the price and stock from the record, and where to order it."""
    try:
        products = resolve_refs(services, turn, u, limit=5 if quantity(u.text) else 1)
    except Unresolved:
        products = []
    if not products:
        products = only_shown(services, turn)
    if not products and not turn.state.shown and (u.types or u.categories or u.brands or u.colors or u.ref_colors):
        return await which_of_kind(services, turn, u, "")  # "add the brown trousers to my cart": which of them?
    shop = services.settings.shop_url
    if not products:
        turn.answered = False
        where = f" You can order in our shop at {shop}." if shop else ""
        return [Reply(text=f"{NO_ORDERS}{where} Tell me which product you'd like, and I'll give you its price, "
                           f"stock and code.", buttons=(Button("Talk to a person", "human"),), intent=turn.intent)]
    if len(products) > 1:  # "add both to my basket": each one's price, stock and code
        turn.state.focus = None
        lines = [f"{n}. {_order_line(p, shop)}" for n, p in enumerate(products, 1)]
        for p in products:
            services.memory.record(turn.user, "wants", p.id)
        return [Reply(text=f"{NO_ORDERS} Here is how to order them:\n" + "\n".join(lines),
                      buttons=(Button("Talk to a person", "human"),), intent=turn.intent)]
    product = products[0]
    turn.state.focus = product.id
    text = f"{NO_ORDERS} {_order_line(product, shop)}"
    services.memory.record(turn.user, "wants", product.id)
    return [Reply(text=text, buttons=(Button("♥ Save", f"s:{product.id}"), Button("Talk to a person", "human")),
                  intent=turn.intent)]


def _order_line(product, shop: str | None) -> str:
    """One product's price and stock from its record, and where to order it."""
    price = f" costs {format_price(product.price, product.currency)} and" if product.price is not None else ""
    if product.url:
        where = f"You can order it here: {product.url}"
    elif shop:
        where = f"You can order it at {shop} with its code {product.id}."
    else:
        where = f"You can order it in our shop with its code {product.id}."
    return f"{product.title}{price} {_stock_verb(stock_text(product))}. {where}"


def _stock_verb(stock: str) -> str:
    """The record's stock as a predicate: "is in stock", "has only 4 left", "is of unknown stock"."""
    if stock.startswith("only "):
        return f"has {stock}"
    return "is of unknown stock" if stock == "stock unknown" else f"is {stock}"

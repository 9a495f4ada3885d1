"""“Add it to my cart”: this chat takes no orders, so it says where to buy, from the product's record."""

from __future__ import annotations

from bot.context import Services, Turn
from bot.nlu import Understanding
from bot.present import format_price, stock_text
from bot.products import Unresolved, only_shown, resolve_refs
from bot.types import Button, Reply

NO_ORDERS = "I can't take orders or fill a basket in this chat."


async def handle_buy(services: Services, turn: Turn, u: Understanding) -> list[Reply]:
    """A wish to buy: the price and stock from the record, and where to order it."""
    try:
        products = resolve_refs(services, turn, u, limit=1)
    except Unresolved:
        products = []
    if not products:
        products = only_shown(services, turn)
    shop = services.settings.shop_url
    if not products:
        turn.answered = False
        where = f" You can order in our shop at {shop}." if shop else ""
        return [Reply(text=f"{NO_ORDERS}{where} Tell me which product you'd like, and I'll give you its price, "
                           f"stock and code.", buttons=(Button("Talk to a person", "human"),), intent=turn.intent)]
    product = products[0]
    turn.state.focus = product.id
    price = f" costs {format_price(product.price, product.currency)} and" if product.price is not None else ""
    if product.url:
        where = f"You can order it here: {product.url}"
    elif shop:
        where = f"You can order it at {shop} with its code {product.id}."
    else:
        where = f"You can order it in our shop with its code {product.id}."
    text = f"{NO_ORDERS} {product.title}{price} {_stock_verb(stock_text(product))}. {where}"
    services.memory.record(turn.user, "wants", product.id)
    return [Reply(text=text, buttons=(Button("♥ Save", f"s:{product.id}"), Button("Talk to a person", "human")),
                  intent=turn.intent)]


def _stock_verb(stock: str) -> str:
    """The record's stock as a predicate: "is in stock", "has only 4 left", "is of unknown stock"."""
    if stock.startswith("only "):
        return f"has {stock}"
    return "is of unknown stock" if stock == "stock unknown" else f"is {stock}"

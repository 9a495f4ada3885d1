"""“Add it to my cart”: this chat takes no orders, so it says where to buy, from the product's record."""

from __future__ import annotations

from bot.context import Services, Turn
from bot.freshness import as_of
from bot.nlu import Understanding
from bot.i18n import N_
from bot.present import stock_text
from bot.products import Unresolved, only_shown, resolve_refs, which_of_kind
from bot.types import Button, Reply
from bot.understanding.references import quantity

NO_ORDERS = N_("I can't take orders or fill a basket in this chat.")


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
    person = Button(turn.t("Talk to a person"), "human")
    if not products:
        turn.answered = False
        where = turn.t(" You can order in our shop at {url}.", url=shop) if shop else ""
        return [Reply(text=turn.t(NO_ORDERS) + where + turn.t(" Tell me which product you'd like, and I'll give you its price, "
                                                            "stock and code."), buttons=(person,), intent=turn.intent)]
    if len(products) > 1:  # "add both to my basket": each one's price, stock and code
        turn.state.focus = None
        lines = [f"{n}. {_order_line(turn, p, shop, as_of(services.kb, p.id, turn.lang))}" for n, p in enumerate(products, 1)]
        for p in products:
            services.memory.record(turn.user, "wants", p.id)
        return [Reply(text=turn.t(NO_ORDERS) + turn.t(" Here is how to order them:") + "\n" + "\n".join(lines),
                      buttons=(person,), intent=turn.intent)]
    product = products[0]
    turn.state.focus = product.id
    text = f"{turn.t(NO_ORDERS)} {_order_line(turn, product, shop, as_of(services.kb, product.id, turn.lang))}"
    services.memory.record(turn.user, "wants", product.id)
    return [Reply(text=text, buttons=(Button(turn.t("♥ Save"), f"s:{product.id}"), person), intent=turn.intent)]


def _order_line(turn: Turn, product, shop: str | None, as_of: str | None = None) -> str:
    """One product's price and stock from its record (with `as_of`, their age from a feed), and where to order it."""
    if product.url:
        where = turn.t("You can order it here: {url}", url=product.url)
    elif shop:
        where = turn.t("You can order it at {url} with its code {sku}.", url=shop, sku=product.id)
    else:
        where = turn.t("You can order it in our shop with its code {sku}.", sku=product.id)
    stock = _stock_verb(turn, product) + (f" {as_of}" if as_of else "")
    if product.price is not None:
        price = turn.price(product.price, product.currency)
        return turn.t("{title} costs {price} and {stock}. {where}", title=product.title, price=price, stock=stock, where=where)
    return turn.t("{title} {stock}. {where}", title=product.title, stock=stock, where=where)


def _stock_verb(turn: Turn, product) -> str:
    """The record's stock as a predicate: "is in stock", "has only 4 left", "is of unknown stock"."""
    stock = stock_text(product)  # the English wording, to choose the predicate
    if stock.startswith("only "):
        return turn.tn("has only {n} left", "has only {n} left", product.stock)
    if stock == "stock unknown":
        return turn.t("is of unknown stock")
    return turn.t("is in stock") if stock == "in stock" else turn.t("is out of stock")

"""How old a synced fact is: a price or stock from a feed read longer ago than its interval says "(as of 09:00)"."""

from __future__ import annotations

from dataclasses import replace

from bot.i18n import tr
from bot.orders import AS_OF, fact_age
from bot.types import Reply
from knowledge.feeds import synced_at


def as_of(kb, product_id: str, lang: str = "en") -> str | None:
    """"(as of 09:00)" in `lang` when the product came from a feed last read longer ago than that feed's interval."""
    found = synced_at(kb, product_id)
    if found is None:
        return None
    age = fact_age(found[0], found[1], lang=lang)
    return tr(lang, AS_OF, when=age) if age else None


def ages(kb, products, lang: str = "en") -> dict[str, str]:
    """`as_of` of each product that has one, by id."""
    out = {}
    for product in products:
        note = as_of(kb, product.id, lang)
        if note:
            out[product.id] = note
    return out


def stamp_cards(kb, replies: list[Reply]) -> list[Reply]:
    """The replies with each product card's `as_of` filled in, so every platform shows the age beside the stock."""
    out = []
    for reply in replies:
        if reply.products:
            cards = tuple(card if card.as_of else replace(card, as_of=as_of(kb, card.id, card.lang))
                          for card in reply.products)
            reply = replace(reply, products=cards)
        out.append(reply)
    return out

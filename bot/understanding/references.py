"""References to shown products by what they are: "the blue one", "the cheaper of the two", "both", "all of them"."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from knowledge.specs import attribute_sort

# Quantifiers are grammar, not phrasing: how many of the shown products a message takes.
_BOTH = re.compile(r"\b(both|the two of them|the pair of them|each of the two)\b", re.I)
_ALL = re.compile(r"\b(all of (?:them|these|those)|all (?:three|four|five)|every one of them|each of them|them all|all)\b", re.I)

# The order of a product by a sort name (the slot `sort`): a key and whether the smallest comes first.
_ORDER_KEYS: dict[str, tuple[str, bool]] = {
    "price_asc": ("price", True), "price_desc": ("price", False), "rating": ("rating", False),
    "weight_asc": ("weight_g", True), "weight_desc": ("weight_g", False),
}


def quantity(text: str) -> str | None:
    """'both' or 'all' when the message takes more than one shown product at once, else None."""
    if _BOTH.search(text):
        return "both"
    if _ALL.search(text):
        return "all"
    return None


def _value(product: Any, key: str) -> float | None:
    value = getattr(product, key, None)
    if value is None:
        value = (getattr(product, "attributes", None) or {}).get(key)
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def _matches(product: Any, colors: Sequence[str], brands: Sequence[str], types: Sequence[str]) -> bool:
    """Whether a record has every colour, brand and kind the message names."""
    own_colors = {c.lower() for c in getattr(product, "colors", ()) or ()}
    if colors and not all(c.lower() in own_colors or c.lower() in product.title.lower() for c in colors):
        return False
    if brands and (product.brand or "").lower() not in {b.lower() for b in brands}:
        return False
    if types and (product.type or "").lower() not in {t.lower() for t in types}:
        return False
    return True


def pick_shown(shown: Sequence[Any], *, colors: Sequence[str] = (), brands: Sequence[str] = (),
               types: Sequence[str] = (), sort: str | None = None, how_many: str | None = None) -> list[Any]:
    """The shown products a message picks by colour, brand, kind, an order ("the cheaper") or "both"/"all".

    Empty when the message picks none of them by these (then names, numbers or the focus decide)."""
    items = list(shown)
    named = colors or brands or types
    if named:
        items = [p for p in items if _matches(p, colors, brands, types)]
        if not items or (len(items) == len(shown) and not how_many and not sort):
            return []  # names nothing that tells the shown products apart
    order = _ORDER_KEYS.get(sort or "")
    if order is None and (parsed := attribute_sort(sort or "")):
        order = (parsed[0][0], not parsed[1])
    if order is not None:
        key, ascending = order
        valued = [p for p in items if _value(p, key) is not None]
        if valued:
            valued.sort(key=lambda p: _value(p, key) * (1 if ascending else -1))  # type: ignore[operator]
            return valued[:1] if not how_many else valued
    if how_many == "both":
        return items[:2]
    if how_many == "all":
        return items
    return items if named else []

"""The variant a customer's size or colour picks out of a shop export's product, for its own price and stock."""

from __future__ import annotations

from dataclasses import replace

from bot.i18n import tr
from bot.present import format_price, stock_text
from knowledge.schema import Product


def variant_asked(product: Product, size: str | None, colors: list[str] | tuple[str, ...]) -> tuple[Product, str] | None:
    """The product as the variant of that size/colour sells it (its price, stock) and the options' text ("Sand, XL"),
    when the product's variants have different prices and one of them matches; else None.

    Of several matching variants (a size asked of a product in two colours) the cheapest in stock is taken."""
    variants = [v for v in product.attributes.get("variants") or () if isinstance(v, dict) and _price(v) is not None]
    if not (size or colors) or len({_price(v) for v in variants}) < 2:
        return None
    wanted = {c.lower() for c in colors or ()}
    found = [v for v in variants
             if (not size or str(v.get("size", "")).strip().upper() == size.strip().upper())
             and (not wanted or str(v.get("color", "")).strip().lower() in wanted)]
    if not found:
        return None
    best = min([v for v in found if v.get("in_stock") is not False] or found, key=_price)
    stock = best.get("stock")
    priced = replace(product, price=_price(best), stock=stock if isinstance(stock, int) else None,
                     available=best.get("in_stock") if isinstance(best.get("in_stock"), bool) else None)
    options = [str(best[k]) for k in ("color", "size") if best.get(k) and (k == "size" and size or k == "color" and wanted)]
    return priced, ", ".join(options)


def _price(variant: dict) -> float | None:
    value = variant.get("price")
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def as_asked(products: list[Product], filters: dict) -> list[Product]:
    """Result products as the size/colour searched for sells them: "Linen Shirt (XL)" at the XL variant's price and
    stock, where the variants' prices differ; the others unchanged."""
    sizes, colors = filters.get("sizes") or [], filters.get("colors") or []
    size = sizes[0] if len(sizes) == 1 else None
    if not size and not colors:
        return products
    out = []
    for product in products:
        found = variant_asked(product, size, colors)
        out.append(replace(found[0], title=f"{product.title} ({found[1]})") if found and found[1] else product)
    return out


def variant_answer(product: Product, size: str | None, colors, lang: str = "en", as_of: str | None = None) -> str | None:
    """"Linen Shirt in XL costs €52.00 (only 2 left).": the variant asked for, when the variants' prices differ."""
    found = variant_asked(product, size, colors)
    if found is None or not found[1]:
        return None
    priced, options = found
    answer = tr(lang, "{name} in {option} costs {price} ({stock}).", name=product.title, option=options,
                price=format_price(priced.price, priced.currency, lang), stock=stock_text(priced, lang))
    return f"{answer} {as_of}" if as_of else answer

"""Turning stored records into reply text and product cards. Every fact is copied from a record."""

from __future__ import annotations

from knowledge.currency import format_amount
from knowledge.schema import Product
from knowledge.specs import temperature_ratings
from bot.types import Button, ProductCard


def format_price(price: float | None, currency: str | None) -> str:
    """A price as people read it: "€147.99", "₹2,000.00"; unknown prices say so."""
    return format_amount(price, currency)


def stock_text(product: Product) -> str:
    """Stock status from the record."""
    if product.stock is not None:
        if product.stock <= 0:
            return "out of stock"
        if product.stock <= 5:
            return f"only {product.stock} left"
        return "in stock"
    if product.available is True:
        return "in stock"
    if product.available is False:
        return "out of stock"
    return "stock unknown"


def card_stock_text(card: ProductCard) -> str:
    """Stock status from a card (which copies its record), worded like `stock_text`."""
    if card.in_stock is True:
        return "in stock" if card.stock is None or card.stock > 5 else f"only {card.stock} left"
    if card.in_stock is False:
        return "out of stock"
    return "stock unknown"


def key_attributes(product: Product) -> dict[str, str]:
    """The few attributes worth showing on a card, as label → text."""
    out: dict[str, str] = {}
    if product.brand:
        out["brand"] = product.brand
    if product.colors:
        out["colours"] = ", ".join(product.colors)
    if product.sizes:
        out["sizes"] = _size_span(product.sizes)
    if product.material:
        out["material"] = product.material
    if product.rating is not None:
        out["rating"] = f"{product.rating:.1f}/5"
    if product.attributes.get("waterproof") is True:
        out["waterproof"] = "yes"
    return out


def _size_span(sizes: tuple[str, ...]) -> str:
    if len(sizes) > 4 and all(s.replace(".", "").isdigit() for s in sizes):
        return f"{sizes[0]}–{sizes[-1]}"
    return ", ".join(sizes)


def product_card(product: Product, *, actions: bool = True) -> ProductCard:
    """A card for the product, with Details / More like this / Save buttons."""
    buttons = (
        Button("Details", f"d:{product.id}"),
        Button("More like this", f"m:{product.id}"),
        Button("♥ Save", f"s:{product.id}"),
    ) if actions else ()
    return ProductCard(
        id=product.id,
        title=product.title,
        price=product.price,
        currency=product.currency,
        in_stock=product.in_stock,
        stock=product.stock,
        image=product.image,
        attributes=key_attributes(product),
        buttons=buttons,
    )


def product_line(position: int, product: Product) -> str:
    """One numbered line of a result list."""
    parts = [format_price(product.price, product.currency), stock_text(product)]
    if product.rating is not None:
        parts.append(f"★{product.rating:.1f}")
    return f"{position}. {product.title} — " + " · ".join(parts)


def numbered_list(products: list[Product], start: int = 1) -> str:
    """Result lines numbered from `start`."""
    return "\n".join(product_line(start + i, p) for i, p in enumerate(products))


def details_text(product: Product) -> str:
    """Everything a shopper wants to know about one product, from its record."""
    lines = [f"{product.title}", f"Price: {format_price(product.price, product.currency)} · {stock_text(product)}"]
    if product.brand:
        lines.append(f"Brand: {product.brand}")
    if product.category or product.type:
        lines.append("Category: " + " / ".join(x for x in (product.category, product.type) if x))
    if product.colors:
        lines.append("Colours: " + ", ".join(product.colors))
    if product.sizes:
        lines.append("Sizes: " + ", ".join(product.sizes))
    if product.material:
        lines.append(f"Material: {product.material}")
    if product.rating is not None:
        lines.append(f"Rating: {product.rating:.1f}/5")
    extra = [f"{k.replace('_', ' ')}: {attr_value(v)}" for k, v in product.attributes.items()]
    if extra:
        lines.append("Details: " + "; ".join(extra))
    lines.append(f"SKU: {product.id}")
    if product.description:
        lines.append("")
        lines.append(product.description)
    return "\n".join(lines)


def attr_value(value: object) -> str:
    """An attribute value as text: booleans read yes/no."""
    if value is True:
        return "yes"
    if value is False:
        return "no"
    if isinstance(value, list):  # a list of options, or a shop export's variants (one dict each)
        return ", ".join(_variant_text(v) if isinstance(v, dict) else attr_value(v) for v in value)
    return str(value)


_VARIANT_BOOKKEEPING = frozenset({"sku", "price", "regular_price", "stock", "in_stock"})


def _variant_text(variant: dict) -> str:
    """One variant of a shop export: "SKU (option, option)", marked when it is sold out."""
    options = [str(v) for k, v in variant.items() if k not in _VARIANT_BOOKKEEPING and isinstance(v, str)
               and k in ("color", "size", "material") or (isinstance(v, str) and k.startswith("option"))]
    text = f"{variant.get('sku', '')} ({', '.join(options)})" if options else str(variant.get("sku", ""))
    return text + (" sold out" if variant.get("in_stock") is False else "")


def comparison_text(products: list[Product]) -> str:
    """A side-by-side of two or three products' attributes, row by row."""
    rows: list[tuple[str, list[str]]] = [
        ("Price", [format_price(p.price, p.currency) for p in products]),
        ("Stock", [stock_text(p) for p in products]),
        ("Brand", [p.brand or "—" for p in products]),
        ("Rating", [f"{p.rating:.1f}/5" if p.rating is not None else "—" for p in products]),
        ("Material", [p.material or "—" for p in products]),
        ("Colours", [", ".join(p.colors) or "—" for p in products]),
        ("Sizes", [_size_span(p.sizes) if p.sizes else "—" for p in products]),
    ]
    keys = list(dict.fromkeys(k for p in products for k in p.attributes))
    for key in keys:
        rows.append((key.replace("_", " ").capitalize(),
                     [attr_value(p.attributes[key]) if key in p.attributes else "—" for p in products]))
    header = " vs ".join(f"{i + 1}) {p.title}" for i, p in enumerate(products))
    body = "\n".join(f"{label}: " + " | ".join(values) for label, values in rows)
    return f"{header}\n{body}"


def temperature_phrase(product: Product) -> str | None:
    """The record's temperature ratings in words ("comfort -10 °C, limit -15 °C"), or None."""
    ratings = temperature_ratings(product.attributes)
    if not ratings:
        return None
    degrees = lambda c: f"{int(c) if float(c).is_integer() else c} °C"  # noqa: E731
    return ", ".join(f"{degrees(c)}" if kind == "rating" else f"{kind} {degrees(c)}" for kind, c in ratings.items())

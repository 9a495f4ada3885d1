"""Turning stored records into reply text and product cards. Every fact is copied from a record."""

from __future__ import annotations

from knowledge.schema import Product
from knowledge.specs import temperature_ratings
from bot.i18n import N_, money, ntr, number, tr
from bot.types import Button, ProductCard


def format_price(price: float | None, currency: str | None, lang: str = "en") -> str:
    """A price as people read it in `lang`: "€147.99", "147,99 €", "₹2,000.00"; unknown prices say so."""
    return money(lang, price, currency)


def stock_text(product: Product, lang: str = "en") -> str:
    """Stock status from the record."""
    if product.stock is not None:
        if product.stock <= 0:
            return tr(lang, "out of stock")
        if product.stock <= 5:
            return ntr(lang, "only {n} left", "only {n} left", product.stock)
        return tr(lang, "in stock")
    if product.available is True:
        return tr(lang, "in stock")
    if product.available is False:
        return tr(lang, "out of stock")
    return tr(lang, "stock unknown")


def card_stock_text(card: ProductCard) -> str:
    """Stock status from a card (which copies its record), worded like `stock_text` in the card's language,
    with its age when it came from a feed not read lately."""
    text = _card_stock(card)
    return f"{text} {card.as_of}" if card.as_of else text


def _card_stock(card: ProductCard) -> str:
    if card.in_stock is True:
        if card.stock is None or card.stock > 5:
            return tr(card.lang, "in stock")
        return ntr(card.lang, "only {n} left", "only {n} left", card.stock)
    if card.in_stock is False:
        return tr(card.lang, "out of stock")
    return tr(card.lang, "stock unknown")


def key_attributes(product: Product, lang: str = "en") -> dict[str, str]:
    """The few attributes worth showing on a card, as label → text (labels in `lang`)."""
    out: dict[str, str] = {}
    if product.brand:
        out[tr(lang, "brand")] = product.brand
    if product.colors:
        out[tr(lang, "colours")] = ", ".join(product.colors)
    if product.sizes:
        out[tr(lang, "sizes")] = _size_span(product.sizes)
    if product.material:
        out[tr(lang, "material")] = product.material
    if product.rating is not None:
        out[tr(lang, "rating")] = rating_text(product.rating, lang)
    if product.attributes.get("waterproof") is True:
        out[tr(lang, "waterproof")] = tr(lang, "yes")
    return out


def rating_text(rating: float, lang: str = "en") -> str:
    """A record's rating out of five: "4.5/5", "4,5/5"."""
    return f"{rating:.1f}/5" if lang == "en" else f"{number(lang, rating, '0.0')}/5"


def _size_span(sizes: tuple[str, ...]) -> str:
    if len(sizes) > 4 and all(s.replace(".", "").isdigit() for s in sizes):
        return f"{sizes[0]}–{sizes[-1]}"
    return ", ".join(sizes)


def product_card(product: Product, *, actions: bool = True, lang: str = "en") -> ProductCard:
    """A card for the product, with Details / More like this / Save buttons, its labels in `lang`."""
    buttons = (
        Button(tr(lang, "Details"), f"d:{product.id}"),
        Button(tr(lang, "More like this"), f"m:{product.id}"),
        Button(tr(lang, "♥ Save"), f"s:{product.id}"),
    ) if actions else ()
    return ProductCard(
        id=product.id,
        title=product.title,
        price=product.price,
        currency=product.currency,
        in_stock=product.in_stock,
        stock=product.stock,
        image=product.image,
        attributes=key_attributes(product, lang),
        buttons=buttons,
        lang=lang,
    )


def product_line(position: int, product: Product, lang: str = "en", as_of: str | None = None) -> str:
    """One numbered line of a result list; `as_of`: the age of its price and stock (bot.freshness)."""
    stock = stock_text(product, lang)
    parts = [format_price(product.price, product.currency, lang), f"{stock} {as_of}" if as_of else stock]
    if product.rating is not None:
        parts.append("★" + rating_text(product.rating, lang)[:-2])
    return f"{position}. {product.title} — " + " · ".join(parts)


def numbered_list(products: list[Product], start: int = 1, lang: str = "en", ages: dict[str, str] | None = None) -> str:
    """Result lines numbered from `start`; `ages`: product id -> the age of its price and stock."""
    ages = ages or {}
    return "\n".join(product_line(start + i, p, lang, ages.get(p.id)) for i, p in enumerate(products))


def details_text(product: Product, lang: str = "en", as_of: str | None = None) -> str:
    """Everything a shopper wants to know about one product, from its record (`as_of`: its price's age)."""
    price = format_price(product.price, product.currency, lang)
    stock = stock_text(product, lang) + (" " + as_of if as_of else "")
    lines = [f"{product.title}", tr(lang, "Price: {price} · {stock}", price=price, stock=stock)]
    if product.brand:
        lines.append(tr(lang, "Brand: {brand}", brand=product.brand))
    if product.category or product.type:
        lines.append(tr(lang, "Category: {category}",
                        category=" / ".join(x for x in (product.category, product.type) if x)))
    if product.colors:
        lines.append(tr(lang, "Colours: {colours}", colours=", ".join(product.colors)))
    if product.sizes:
        lines.append(tr(lang, "Sizes: {sizes}", sizes=", ".join(product.sizes)))
    if product.material:
        lines.append(tr(lang, "Material: {material}", material=product.material))
    if product.rating is not None:
        lines.append(tr(lang, "Rating: {rating}", rating=rating_text(product.rating, lang)))
    extra = [f"{k.replace('_', ' ')}: {attr_value(v, lang)}" for k, v in product.attributes.items()]
    if extra:
        lines.append(tr(lang, "Details: {details}", details="; ".join(extra)))
    lines.append(tr(lang, "SKU: {sku}", sku=product.id))
    if product.description:
        lines.append("")
        lines.append(product.description)
    return "\n".join(lines)


def attr_value(value: object, lang: str = "en") -> str:
    """An attribute value as text: booleans read yes/no."""
    if value is True:
        return tr(lang, "yes")
    if value is False:
        return tr(lang, "no")
    if isinstance(value, list):  # a list of options, or a shop export's variants (one dict each)
        return ", ".join(_variant_text(v) if isinstance(v, dict) else attr_value(v, lang) for v in value)
    return str(value)


_VARIANT_BOOKKEEPING = frozenset({"sku", "price", "regular_price", "stock", "in_stock"})


def _variant_text(variant: dict) -> str:
    """One variant of a shop export: "SKU (option, option)", marked when it is sold out."""
    options = [str(v) for k, v in variant.items() if k not in _VARIANT_BOOKKEEPING and isinstance(v, str)
               and k in ("color", "size", "material") or (isinstance(v, str) and k.startswith("option"))]
    text = f"{variant.get('sku', '')} ({', '.join(options)})" if options else str(variant.get("sku", ""))
    return text + (" sold out" if variant.get("in_stock") is False else "")


def comparison_text(products: list[Product], lang: str = "en", ages: dict[str, str] | None = None) -> str:
    """A side-by-side of two or three products' attributes, row by row (`ages`: of prices and stock from feeds)."""
    ages = ages or {}
    rows: list[tuple[str, list[str]]] = [
        (tr(lang, "Price"), [format_price(p.price, p.currency, lang) for p in products]),
        (tr(lang, "Stock"), [" ".join(filter(None, (stock_text(p, lang), ages.get(p.id)))) for p in products]),
        (tr(lang, "Brand"), [p.brand or "—" for p in products]),
        (tr(lang, "Rating"), [rating_text(p.rating, lang) if p.rating is not None else "—" for p in products]),
        (tr(lang, "Material"), [p.material or "—" for p in products]),
        (tr(lang, "Colours"), [", ".join(p.colors) or "—" for p in products]),
        (tr(lang, "Sizes"), [_size_span(p.sizes) if p.sizes else "—" for p in products]),
    ]
    keys = list(dict.fromkeys(k for p in products for k in p.attributes))
    for key in keys:
        rows.append((key.replace("_", " ").capitalize(),
                     [attr_value(p.attributes[key], lang) if key in p.attributes else "—" for p in products]))
    header = tr(lang, " vs ").join(f"{i + 1}) {p.title}" for i, p in enumerate(products))
    body = "\n".join(f"{label}: " + " | ".join(values) for label, values in rows)
    return f"{header}\n{body}"


def temperature_phrase(product: Product, lang: str = "en") -> str | None:
    """The record's temperature ratings in words ("comfort -10 °C, limit -15 °C"), or None."""
    ratings = temperature_ratings(product.attributes)
    if not ratings:
        return None
    degrees = lambda c: f"{int(c) if float(c).is_integer() else c} °C"  # noqa: E731
    kinds = {"comfort": N_("comfort"), "limit": N_("limit")}
    return ", ".join(f"{degrees(c)}" if kind == "rating" else f"{tr(lang, kinds[kind]) if kind in kinds else kind} {degrees(c)}"
                     for kind, c in ratings.items())

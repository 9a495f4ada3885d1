"""Shop exports (Shopify, WooCommerce, Google Merchant) read into native product rows, variants grouped.

Each format's rows are mapped to `Variant`s of a `Group` (one product); `product_row` then folds a
group into the plain dict that `knowledge.schema.parse_product` validates like any native row.
The mappings are documented in docs/ingestion.md; the per-format readers are in shop_readers.py.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any

from knowledge.row_values import RowError, _price, _stock
from knowledge.schema import PRODUCT_ALIASES, attribute_key

SHOP_FORMATS = ("shopify", "woocommerce", "merchant")
# the columns by which each format is recognised (normalised by `column`), as the message names them
SIGNATURES: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "shopify": (("handle", "title", "variant_price"), ("Handle", "Title", "Variant Price")),
    "woocommerce": (("type", "name", "regular_price"), ("Type", "Name", "Regular price")),
    "merchant": (("id", "title", "price"), ("id", "title", "price")),
}
# a native catalog may have id, title and price too: a Merchant feed also has one of these
MERCHANT_MARKS = frozenset({"image_link", "item_group_id", "google_product_category", "sale_price", "condition",
                            "additional_image_link", "gtin", "mpn"})
NATIVE_COLUMNS = "id (or sku, code, item_id, product_id) and title (or name)"


def column(name: str) -> str:
    """A header as a key: "Body (HTML)" -> "body_html", "In stock?" -> "in_stock", "g:id" -> "id"."""
    key = re.sub(r"[^0-9a-z:]+", "_", str(name).strip().lower()).strip("_")
    return key.split(":", 1)[1] if key.startswith("g:") else key


def recognise(columns: list[str]) -> str | None:
    """The shop format whose columns these are, or None (a native file, or none known)."""
    keys = {column(c) for c in columns}
    for fmt in ("shopify", "woocommerce"):
        if set(SIGNATURES[fmt][0]) <= keys:
            return fmt
    if set(SIGNATURES["merchant"][0]) <= keys and keys & MERCHANT_MARKS:
        return "merchant"
    return None


def expected_columns() -> str:
    """What each known format's header must hold, for the message about a file that is none of them."""
    shops = "; ".join(f"a {name} export: {', '.join(shown)}" for name, (_, shown) in
                      (("Shopify", SIGNATURES["shopify"]), ("WooCommerce", SIGNATURES["woocommerce"]),
                       ("Google Merchant", SIGNATURES["merchant"])))
    return f"expected a native catalog: {NATIVE_COLUMNS}; {shops} (and image_link or item_group_id ...)"


# ----- HTML -----------------------------------------------------------------------------------
_BLOCKS = frozenset("p div br li ul ol h1 h2 h3 h4 h5 h6 tr table section article blockquote pre dd dt".split())


class _TextParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.hidden = 0

    def handle_starttag(self, tag: str, attrs) -> None:
        if tag in ("script", "style"):
            self.hidden += 1
        elif tag in _BLOCKS:
            self.parts.append("\n- " if tag == "li" else "\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style"):
            self.hidden = max(0, self.hidden - 1)
        elif tag in _BLOCKS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self.hidden:
            self.parts.append(data)


def html_to_text(html: str | None) -> str | None:
    """Readable text of an HTML fragment: blocks become lines, list items "- ", entities decoded."""
    if not html or not html.strip():
        return None
    if "<" not in html and "&" not in html:
        return html.strip()
    parser = _TextParser()
    parser.feed(html)
    parser.close()
    lines = (re.sub(r"[ \t\u00a0]+", " ", line).strip() for line in "".join(parser.parts).split("\n"))
    text = "\n".join(line for line in lines if line and line != "-")
    return text or None


# ----- groups of variants ---------------------------------------------------------------------
@dataclass
class Variant:
    """One purchasable row: its options (colour, size, ...), price and stock."""

    line: int
    sku: str | None = None
    options: dict[str, str] = field(default_factory=dict)
    price: float | None = None
    regular_price: float | None = None
    currency: str | None = None
    stock: int | None = None
    available: bool | None = None
    extra: dict[str, Any] = field(default_factory=dict)  # codes (gtin, barcode) and unknown variant columns

    def set_prices(self, price: Any, other: Any) -> None:
        """`price` and a second price (a sale price or a compare-at price): the lower is the price."""
        first, code = _price(price)
        second, code2 = _price(other)
        self.currency = code or code2
        if first is not None and second is not None and second != first:
            self.price, self.regular_price = min(first, second), max(first, second)
        else:
            self.price = first if first is not None else second

    def set_stock(self, value: Any) -> None:
        try:
            self.stock = _stock(value)
        except RowError:
            if str(value).strip().lstrip("-").isdigit():
                self.stock = 0  # an oversold item: Shopify exports negative quantities
            else:
                raise


@dataclass
class Group:
    """One product: its own fields (native names), option lists and variants."""

    id: str
    line: int
    fields: dict[str, Any] = field(default_factory=dict)
    attributes: dict[str, Any] = field(default_factory=dict)
    option_values: dict[str, list[str]] = field(default_factory=dict)  # from a parent row's value lists
    variants: list[Variant] = field(default_factory=list)
    skip: str | None = None  # "draft", "archived", ...: not for sale
    option_names: dict[str, str] = field(default_factory=dict)  # Shopify: option number -> its name
    failed: bool = False  # a row of it was rejected: with no good variant left, no product either
    source_id: str | None = None  # WooCommerce: the row's ID, which variations name as "id:N"


def option_key(name: str) -> str:
    """An option's name as a field ("colors", "sizes", "material") or an attribute key."""
    key = attribute_key(name)
    return PRODUCT_ALIASES.get(key, key)


def _unique(values) -> list[str]:
    return list(dict.fromkeys(v for v in (str(x).strip() for x in values) if v))


def _split_path(text: Any) -> list[str]:
    return [p.strip() for p in str(text or "").split(">") if p.strip()]


def path_fields(text: Any) -> dict[str, str]:
    """A category path "A > B > C": category the top (A), type the leaf (C) when there are two parts or more."""
    parts = _split_path(text)
    if not parts:
        return {}
    return {"category": parts[0], **({"type": parts[-1]} if len(parts) > 1 else {})}


def leaf(text: Any) -> str | None:
    """The last part of a category path."""
    parts = _split_path(text)
    return parts[-1] if parts else None


def product_row(group: Group, currency: str | None) -> dict[str, Any]:
    """The native product row of a group: options as lists, the cheapest in-stock price, summed stock."""
    row: dict[str, Any] = {"id": group.id, **group.fields}
    attributes = dict(group.attributes)
    variants = group.variants
    options: dict[str, list[str]] = {k: list(v) for k, v in group.option_values.items()}
    for v in variants:
        for key, value in v.options.items():
            options.setdefault(key, [])
            options[key] = _unique([*options[key], value])
    for key, values in options.items():
        if key in ("colors", "sizes"):
            row[key] = _unique([*row.get(key, []), *values])
        elif key in ("id", "title", "price", "stock", "attributes", "description"):
            attributes[f"option_{key}"] = values if len(values) > 1 else values[0]
        elif len(values) == 1 and key not in attributes and key not in row:
            (row if key == "material" else attributes)[key] = values[0]
        elif values:
            attributes[key] = values
    priced = [v for v in variants if v.price is not None]
    if priced:
        in_stock = [v for v in priced if _sells(v)] or priced
        best = min(in_stock, key=lambda v: v.price)  # type: ignore[arg-type, return-value]
        row["price"] = best.price
        if best.regular_price is not None:
            attributes["regular_price"] = best.regular_price
        low, high = min(v.price for v in priced), max(v.price for v in priced)  # type: ignore[type-var]
        if low != high:
            attributes["price_min"], attributes["price_max"] = low, high
    row["currency"] = next((v.currency for v in variants if v.currency), None) or row.get("currency") or currency
    stocks = [v.stock for v in variants if v.stock is not None]
    if stocks:
        row["stock"] = sum(stocks)
    known = [v.available for v in variants if v.available is not None]
    if known and not stocks:
        row["available"] = any(known)
    if len(variants) > 1:
        attributes["variants"] = [_variant_dict(v) for v in variants]
    elif variants:
        single = variants[0]
        if single.sku and single.sku != group.id:
            attributes.setdefault("sku", single.sku)
        for key, value in single.extra.items():
            attributes.setdefault(key, value)
    row["attributes"] = {k: v for k, v in attributes.items() if v not in (None, "", [])}
    return row


def _sells(v: Variant) -> bool:
    if v.stock is not None:
        return v.stock > 0
    return v.available is not False


def _variant_dict(v: Variant) -> dict[str, Any]:
    out: dict[str, Any] = {"sku": v.sku}
    for key, value in v.options.items():
        out[{"colors": "color", "sizes": "size"}.get(key, key)] = value
    out.update(price=v.price, regular_price=v.regular_price, stock=v.stock,
               in_stock=None if v.stock is None and v.available is None else _sells(v))
    out.update(v.extra)
    return {k: value for k, value in out.items() if value is not None and value != ""}


def scalar(value: Any) -> Any:
    """A cell kept as an attribute: blank is None, else its text."""
    if value is None:
        return None
    text = str(value).strip()
    return text or None

"""Order history: reading Shopify order exports and plain purchase CSVs, keeping only what order status needs.

Privacy at ingest: an e-mail is stored only as a salted HMAC (the salt is made once per store), and
of an order only its number, date, line items, totals, fulfilment status, carrier and tracking link
are kept. Names, addresses, phone numbers, notes and payment details are never read into the store.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import secrets
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from knowledge.loaders import _csv, read_text
from knowledge.row_values import RowError, _price, _stock
from knowledge.shop_formats import column, scalar
from shopguide.errors import IngestError

PLAIN_COLUMNS = ("user_id", "product_id", "timestamp", "quantity")
SHOPIFY_COLUMNS = ("name", "email", "created_at", "lineitem_quantity")
_CARRIER = ("tracking_company", "carrier", "shipping_carrier", "shipping_company")
_TRACKING_URL = ("tracking_url", "tracking_link", "tracking_urls")
_TRACKING_NUMBER = ("tracking_number", "tracking_numbers")


@dataclass
class OrderLine:
    """One line item: which product, how many, at what price."""

    product_id: str | None
    sku: str | None
    title: str | None
    quantity: int
    price: float | None = None


@dataclass
class Order:
    """What is kept of an order; `customer_key` is the e-mail's salted hash or the export's own user id."""

    number: str
    customer_key: str
    email_hash: str | None = None
    created_at: str | None = None
    currency: str | None = None
    total: float | None = None
    financial_status: str | None = None
    fulfillment_status: str | None = None
    fulfilled_at: str | None = None
    carrier: str | None = None
    tracking_number: str | None = None
    tracking_url: str | None = None
    lines: list[OrderLine] = field(default_factory=list)
    synced_at: str | None = None  # when the store last read its source (not part of the content)

    def digest(self) -> str:
        payload = json.dumps({**asdict(self), "synced_at": None}, sort_keys=True, default=str)
        return hashlib.sha256(payload.encode("utf-8")).hexdigest()[:32]


@dataclass
class OrdersFile:
    """The orders of a file, the rows that could not be used and the lines naming unknown products."""

    fmt: str
    orders: dict[str, Order] = field(default_factory=dict)
    problems: list[tuple[int, str]] = field(default_factory=list)
    unknown_products: list[int] = field(default_factory=list)  # lines whose product is not in the catalog
    rows: int = 0


def order_key(number: str) -> str:
    """An order number as stored and looked up: "#1043", "1043" and "# 1043" are one order."""
    return re.sub(r"[\s#]", "", str(number)).upper()


def email_hash(salt: str, email: str) -> str:
    """The salted HMAC-SHA256 of a normalised e-mail address."""
    return hmac.new(salt.encode(), email.strip().lower().encode(), hashlib.sha256).hexdigest()


def new_salt() -> str:
    return secrets.token_hex(16)


def read_orders(path: Path, salt: str, known_product) -> OrdersFile:
    """Orders of a Shopify orders export or a plain `user_id,product_id,timestamp,quantity` CSV.

    `known_product(sku_or_id)` gives the catalog's product id, or None: such lines are counted, not fatal.
    """
    text = read_text(Path(path))
    rows = _csv(text)
    first = next(rows, None)
    if first is None:
        return OrdersFile(fmt="empty")
    keys = {column(k) for k in (first.data or {})}
    if set(PLAIN_COLUMNS) <= keys:
        fmt = "plain"
    elif set(SHOPIFY_COLUMNS) <= keys:
        fmt = "shopify"
    else:
        raise IngestError(f"{path}:1: not an orders file: expected a Shopify orders export "
                          f"(Name, Email, Created at, Lineitem quantity, Lineitem sku, ...) or a plain CSV with "
                          f"{', '.join(PLAIN_COLUMNS)}; it has: {', '.join(first.data or [])}")
    out = OrdersFile(fmt=fmt)
    read = _plain if fmt == "plain" else _shopify
    for raw in _chain(first, rows):
        out.rows += 1
        if raw.error:
            out.problems.append((raw.line, raw.error))
            continue
        try:
            read(out, {column(k): v for k, v in raw.data.items()}, raw.line, salt, known_product)
        except RowError as exc:
            out.problems.append((raw.line, str(exc)))
    return out


def _chain(first, rest) -> Iterator:
    yield first
    yield from rest


def _quantity(value: Any) -> int:
    number = _stock(value)
    if number is None:
        raise RowError("missing quantity")
    return number


def _timestamp(value: Any, name: str) -> str | None:
    text = scalar(value)
    if text is None:
        return None
    for candidate in (text, text.replace(" UTC", "+00:00"), re.sub(r" ([+-]\d{2})(\d{2})$", r"\1:\2", text)):
        try:
            when = datetime.fromisoformat(candidate)
        except ValueError:
            continue
        return when.isoformat()
    raise RowError(f"{name} is not a date and time: {text[:40]!r}")


def _plain(out: OrdersFile, row: dict[str, Any], line: int, salt: str, known_product) -> None:
    user = scalar(row.get("user_id"))
    item = scalar(row.get("product_id"))
    if user is None or item is None:
        raise RowError("missing user_id" if user is None else "missing product_id")
    when = _timestamp(row.get("timestamp"), "timestamp")
    quantity = _quantity(row.get("quantity"))
    product = known_product(item)
    if product is None:
        out.unknown_products.append(line)
        return
    number = f"{user}@{when}"  # a plain file has no order number: one customer's lines at one time are one order
    order = out.orders.get(number)
    if order is None:
        order = out.orders[number] = Order(number=number, customer_key=f"user:{user}", created_at=when)
    order.lines.append(OrderLine(product, item, None, quantity))


def _shopify(out: OrdersFile, row: dict[str, Any], line: int, salt: str, known_product) -> None:
    number = scalar(row.get("name"))
    if number is None:
        raise RowError("missing Name (the order number)")
    order = out.orders.get(order_key(number))
    if order is None:
        email = scalar(row.get("email"))
        hashed = email_hash(salt, email) if email else None
        total, code = _price(row.get("total"))
        order = out.orders[order_key(number)] = Order(
            number=number, customer_key=f"email:{hashed}" if hashed else f"order:{order_key(number)}",
            email_hash=hashed, created_at=_timestamp(row.get("created_at"), "Created at"),
            currency=(scalar(row.get("currency")) or code or "").upper() or None, total=total,
            financial_status=scalar(row.get("financial_status")), fulfillment_status=scalar(row.get("fulfillment_status")),
            fulfilled_at=_timestamp(row.get("fulfilled_at"), "Fulfilled at"),
            carrier=_first(row, _CARRIER) or scalar(row.get("shipping_method")),
            tracking_number=_first(row, _TRACKING_NUMBER), tracking_url=_first(row, _TRACKING_URL))
    if scalar(row.get("lineitem_quantity")) is None and scalar(row.get("lineitem_name")) is None:
        return
    sku = scalar(row.get("lineitem_sku"))
    product = known_product(sku) if sku else None
    if product is None:
        out.unknown_products.append(line)
    price, _ = _price(row.get("lineitem_price"))
    order.lines.append(OrderLine(product, sku, scalar(row.get("lineitem_name")),
                                 _quantity(row.get("lineitem_quantity")), price))


def _first(row: dict[str, Any], names: tuple[str, ...]) -> str | None:
    return next((scalar(row[n]) for n in names if scalar(row.get(n))), None)


def now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")

"""Record schemas for products, FAQs and documents: aliases, validation and content hashes.

Only `id` and `title` are required for a product. A field that a row does not carry stays
`None` (or empty); nothing is invented. Unknown columns are kept as attributes.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from typing import Any

from knowledge.currency import currency_code
from knowledge.row_values import (  # noqa: F401 (RowError: raised by the parsers here, caught by their callers)
    SQLITE_MAX_INT, RowError, _blank, _price, _stock,
)


PRODUCT_ALIASES = {
    "sku": "id", "product_id": "id", "item_id": "id", "code": "id",
    "name": "title", "product_name": "title", "product_title": "title",
    "manufacturer": "brand", "make": "brand",
    "product_type": "type", "subcategory": "type",
    "cost": "price", "price_eur": "price", "amount": "price",
    "color": "colors", "colour": "colors", "colours": "colors",
    "size": "sizes",
    "materials": "material", "fabric": "material",
    "qty": "stock", "quantity": "stock", "inventory": "stock", "stock_level": "stock",
    "stars": "rating", "avg_rating": "rating", "review_score": "rating",
    "body": "description", "details": "description", "desc": "description", "long_description": "description",
    "image_url": "image", "img": "image", "picture": "image", "photo": "image",
    "link": "url", "product_url": "url",
    "in_stock": "available", "availability": "available",
}
PRODUCT_FIELDS = (
    "id", "title", "brand", "category", "type", "price", "currency", "colors", "sizes",
    "material", "stock", "available", "rating", "description", "image", "url", "attributes",
)
FAQ_ALIASES = {"faq_id": "id", "q": "question", "a": "answer", "category": "topic", "section": "topic"}
DOCUMENT_ALIASES = {"doc_id": "id", "document_id": "id", "sku": "product_id", "item_id": "product_id",
                    "type": "source", "kind": "source", "body": "text", "content": "text"}
REQUIRED = {"product": ("id", "title"), "faq": ("id", "question", "answer"),
            "document": ("id", "product_id", "text")}
_TRUE = {"true", "yes", "y", "1", "in stock", "available"}
_FALSE = {"false", "no", "n", "0", "out of stock", "unavailable", "sold out"}


@dataclass(frozen=True)
class Product:
    """A canonical product record: the single source of truth for prices, stock and text."""

    id: str
    title: str
    brand: str | None = None
    category: str | None = None
    type: str | None = None
    price: float | None = None
    currency: str | None = None
    colors: tuple[str, ...] = ()
    sizes: tuple[str, ...] = ()
    material: str | None = None
    stock: int | None = None
    available: bool | None = None
    rating: float | None = None
    description: str | None = None
    image: str | None = None
    url: str | None = None
    attributes: dict[str, Any] = field(default_factory=dict)

    @property
    def in_stock(self) -> bool | None:
        """True or False when the record says, None when it does not."""
        if self.stock is not None:
            return self.stock > 0
        return self.available

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict."""
        data = asdict(self)
        data["colors"] = list(self.colors)
        data["sizes"] = list(self.sizes)
        return data


@dataclass(frozen=True)
class Faq:
    """A FAQ entry; `answer` is policy text shown verbatim."""

    id: str
    question: str
    answer: str
    topic: str | None = None
    lang: str | None = None  # the language it is written in ("de"); None: the store's default

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict (no `lang` key when unset, so entries without one hash as they always did)."""
        out = asdict(self)
        if out["lang"] is None:
            del out["lang"]
        return out

    @property
    def family(self) -> str:
        """The entry this one translates: "returns-de" in German is "returns" (docs/ingestion.md), else itself."""
        suffix = f"-{self.lang}" if self.lang else ""
        return self.id[: -len(suffix)] if suffix and self.id.endswith(suffix) and len(self.id) > len(suffix) else self.id


@dataclass(frozen=True)
class Document:
    """Extra knowledge about one product: a review, Q&A, spec or manual excerpt."""

    id: str
    product_id: str
    text: str
    source: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict."""
        return asdict(self)


def content_hash(record: Product | Faq | Document) -> str:
    """Stable hash of a record's content; equal records hash equally."""
    payload = json.dumps(record.to_dict(), sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()[:32]


def attribute_key(key: Any) -> str:
    """A field or attribute name as stored: "Fill Power" and "fill-power" are both "fill_power"."""
    return str(key).strip().lower().replace(" ", "_").replace("-", "_")


CODE_KEYS = frozenset({"sku", "code", "item_id", "product_id", "mpn", "model", "model_number", "ean", "gtin", "upc"})


def _canon_keys(raw: dict[str, Any], aliases: dict[str, str]) -> dict[str, Any]:
    """Keys lower-cased and aliases renamed; a canonical column wins over its alias, else the first non-blank."""
    out: dict[str, Any] = {}
    canonical_first = sorted(raw.items(), key=lambda kv: attribute_key(kv[0]) in aliases)
    for key, value in canonical_first:
        own = attribute_key(key)
        name = aliases.get(own, own)
        if name in out and not _blank(out[name]):
            if own != name and own not in out and not _blank(value):
                out[own] = value  # "ID" and "SKU" both given: the SKU is kept under its own name
            continue
        out[name] = value
    return out


def aliases_for(kind: str) -> dict[str, str]:
    """The alias table of `kind` ("product", "faq" or "document")."""
    return {"product": PRODUCT_ALIASES, "faq": FAQ_ALIASES, "document": DOCUMENT_ALIASES}[kind]


def missing_columns(kind: str, columns: Iterable[str]) -> list[str]:
    """Required fields of `kind` that none of `columns` (names or aliases) provides."""
    aliases = aliases_for(kind)
    present = {aliases.get(attribute_key(c), attribute_key(c)) for c in columns}
    return [name for name in REQUIRED[kind] if name not in present]


def raw_id(kind: str, raw: Any) -> str | None:
    """The id a raw row carries (under its name or an alias), if it has a usable one."""
    if not isinstance(raw, dict):
        return None
    try:
        return _identifier(_canon_keys(raw, aliases_for(kind)).get("id"), "id")
    except RowError:
        return None


def _json_type(value: Any) -> str:
    names = {dict: "an object", list: "an array", str: "a string", bool: "true/false", type(None): "null"}
    return names.get(type(value), "a number" if isinstance(value, (int, float)) else type(value).__name__)


def _require_object(raw: Any) -> None:
    if not isinstance(raw, dict):
        raise RowError(f"expected an object, got {_json_type(raw)}")


def _text(value: Any, name: str, *, required: bool = False) -> str | None:
    if _blank(value):
        if required:
            raise RowError(f"missing {name}")
        return None
    if isinstance(value, (dict, list)):
        raise RowError(f"{name} must be text, got {_json_type(value)}")
    return str(value).strip()


def _identifier(value: Any, name: str) -> str:
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = _text(value, name, required=True)
    assert text is not None
    if len(text) > 200:
        raise RowError(f"{name} is longer than 200 characters")
    if any(ch in text for ch in "\r\n\t\x00"):
        raise RowError(f"{name} contains a line break or control character: {text[:40]!r}")
    return text


def _currency(value: Any) -> str | None:
    """The currency column: a 3-letter code, a sign or a common name, as an upper-case code."""
    text = _text(value, "currency")
    if text is None:
        return None
    code = currency_code(text) or (text.upper() if re.fullmatch(r"[A-Za-z]{3}", text) else None)
    if code is None:
        raise RowError(f"currency is not a 3-letter code: {text[:20]!r}")
    return code


def _check_finite(value: Any, name: str) -> None:
    """Reject NaN and infinite numbers anywhere in an attribute value (JSON cannot store them)."""
    if isinstance(value, float) and not math.isfinite(value):
        raise RowError(f"attribute {name!r} is not a finite number: {value!r}")
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) > SQLITE_MAX_INT:
        raise RowError(f"attribute {name!r} is too large a number to store: {value!r}")
    if isinstance(value, dict):
        for item in value.values():
            _check_finite(item, name)
    elif isinstance(value, (list, tuple)):
        for item in value:
            _check_finite(item, name)


def _bool(value: Any, name: str) -> bool | None:
    if _blank(value):
        return None
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise RowError(f"{name} is not yes/no: {text[:40]!r}")


def _rating(value: Any) -> float | None:
    if _blank(value):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise RowError(f"rating is not a number: {str(value)[:40]!r}") from None
    if not 0 <= number <= 5:
        raise RowError(f"rating {number} is outside 0..5")
    return round(number, 2)


def _list(value: Any) -> tuple[str, ...]:
    if _blank(value):
        return ()
    if isinstance(value, str):
        text = value.strip()
        if text.startswith("["):
            try:
                value = json.loads(text)
            except json.JSONDecodeError:
                value = re.split(r"[|;,]", text.strip("[]"))
        else:  # "36|37,5|38": a pipe or semicolon list keeps its commas (decimal sizes)
            value = re.split(r"[|;]", text) if re.search(r"[|;]", text) else text.split(",")
    if isinstance(value, (list, tuple)):
        items = [str(v).strip().strip("'\"") for v in value if not _blank(v)]
        return tuple(dict.fromkeys(i for i in items if i))
    return (str(value).strip(),)


def _attributes(value: Any) -> dict[str, Any]:
    if _blank(value):
        return {}
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except json.JSONDecodeError:
            raise RowError("attributes is not a JSON object") from None
    if not isinstance(value, dict):
        raise RowError("attributes must be an object")
    return {attribute_key(k): v for k, v in value.items() if not _blank(v)}


_PLAIN_NUMBER = re.compile(r"-?(?:0|[1-9]\d{0,14})(?:\.\d+)?")


def _scalar_attr(value: Any) -> Any:
    """A CSV cell as the value it spells: yes/no as bools, plain decimals as numbers, else text.

    Codes such as "00123", "1e5" or 20-digit EANs stay text, so nothing is silently altered.
    """
    if isinstance(value, (int, float, bool)) or value is None:
        return value
    if isinstance(value, (list, dict)):
        return value
    text = str(value).strip()
    lowered = text.lower()
    if lowered in ("true", "yes"):
        return True
    if lowered in ("false", "no"):
        return False
    if _PLAIN_NUMBER.fullmatch(text):
        return float(text) if "." in text else int(text)
    return text


def parse_product(raw: dict[str, Any]) -> Product:
    """Validate one raw row into a `Product`, raising `RowError` with the reason."""
    _require_object(raw)
    row = _canon_keys(raw, PRODUCT_ALIASES)
    price, sign_currency = _price(row.get("price"))
    currency = _currency(row.get("currency"))
    attributes = _attributes(row.get("attributes"))
    for key, value in row.items():
        if key not in PRODUCT_FIELDS and not _blank(value):
            attributes.setdefault(key, _scalar_attr(value))
    for key, value in attributes.items():
        _check_finite(value, key)
    return Product(
        id=_identifier(row.get("id"), "id"),
        title=_text(row.get("title"), "title", required=True) or "",
        brand=_text(row.get("brand"), "brand"),
        category=(_text(row.get("category"), "category") or "").lower() or None,
        type=(_text(row.get("type"), "type") or "").lower() or None,
        price=price,
        currency=(currency or sign_currency or None) and (currency or sign_currency).upper(),
        colors=tuple(c.lower() for c in _list(row.get("colors"))),
        sizes=_list(row.get("sizes")),
        material=_text(row.get("material"), "material"),
        stock=_stock(row.get("stock")),
        available=_bool(row.get("available"), "in_stock"),
        rating=_rating(row.get("rating")),
        description=_text(row.get("description"), "description"),
        image=_text(row.get("image"), "image"),
        url=_text(row.get("url"), "url"),
        attributes=attributes,
    )


def parse_faq(raw: dict[str, Any]) -> Faq:
    """Validate one raw row into a `Faq`."""
    _require_object(raw)
    row = _canon_keys(raw, FAQ_ALIASES)
    return Faq(
        id=_identifier(row.get("id"), "id"),
        question=_text(row.get("question"), "question", required=True) or "",
        answer=_text(row.get("answer"), "answer", required=True) or "",
        topic=_text(row.get("topic"), "topic"),
        lang=_language(row.get("lang", row.get("language"))),
    )


def _language(value: Any) -> str | None:
    """A language code as "de" ("de-AT", "DE" and "de_AT" too); a value that is none is a row error."""
    text = _text(value, "lang")
    if text is None:
        return None
    code = text.replace("_", "-").split("-")[0].lower()
    if not (2 <= len(code) <= 3 and code.isalpha() and code.isascii()):
        raise RowError(f"lang {text[:20]!r} is not a language code such as en, de, fr, es or zh")
    return code


def parse_document(raw: dict[str, Any]) -> Document:
    """Validate one raw row into a `Document`."""
    _require_object(raw)
    row = _canon_keys(raw, DOCUMENT_ALIASES)
    return Document(
        id=_identifier(row.get("id"), "id"),
        product_id=_identifier(row.get("product_id"), "product_id"),
        text=_text(row.get("text"), "text", required=True) or "",
        source=_text(row.get("source"), "source"),
    )

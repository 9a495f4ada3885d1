"""The Shopify, WooCommerce and Google Merchant readers: raw rows in, one native product row per product out.

A row that cannot be used is reported with its line (a bad variant drops that variant only);
draft and archived products are skipped and counted. Mappings: docs/ingestion.md.
"""

from __future__ import annotations

import csv
import re
import xml.sax
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from knowledge.loaders import RawRow, _csv, _sniff_delimiter, read_text
from knowledge.schema import RowError, _bool, _scalar_attr, attribute_key
from knowledge.shop_formats import (
    Group, Variant, column, html_to_text, leaf, option_key, path_fields, product_row, recognise, scalar,
)

_OPTION = re.compile(r"option(\d+)_(name|value|linked_to)")
_WOO_ATTR = re.compile(r"attribute_(\d+)_(name|value_s|visible|global|default)")
_AVAILABILITY = {"in_stock": True, "in stock": True, "out_of_stock": False, "out of stock": False,
                 "preorder": False, "backorder": False, "limited_availability": True}
_GENDER = {"male": "men", "female": "women", "unisex": "unisex"}


class ShopReader:
    """Reads one shop file; iterate for `RawRow`s of native product rows; `skipped` counts drafts."""

    def __init__(self, path: Path, fmt: str, currency: str | None) -> None:
        self.path, self.fmt, self.currency = path, fmt, currency
        self.skipped: dict[str, int] = {}
        self.physical_rows = 0

    def __iter__(self) -> Iterator[RawRow]:
        text = read_text(self.path)
        if self.fmt == "merchant" and text.lstrip()[:1] == "<":
            rows: Iterable[RawRow] = merchant_xml(text)
        else:
            rows = _csv(text)
        groups: dict[str, Group] = {}
        problems: list[RawRow] = []
        read = {"shopify": self._shopify, "woocommerce": self._woocommerce, "merchant": self._merchant}[self.fmt]
        for raw in rows:
            self.physical_rows += 1
            if raw.error:
                problems.append(raw)
                continue
            row = {column(k): v for k, v in raw.data.items()}
            try:
                read(row, raw.line, groups)
            except RowError as exc:
                found = _row_id(self.fmt, row)
                if found in groups:
                    groups[found].failed = True
                problems.append(RawRow(raw.line, data={"id": found} if found else None, error=str(exc),
                                       id_trusted=found is not None))
        yield from problems
        for group in groups.values():
            if group.skip:
                self.skipped[group.skip] = self.skipped.get(group.skip, 0) + 1
                continue
            if not group.variants and group.failed:
                continue  # its rows were reported, and its id is kept from --prune
            if not group.variants and not group.fields.get("title"):
                yield RawRow(group.line, data={"id": group.id}, error="no product row for this handle (only image or "
                                                                     "variant rows); missing title")
                continue
            try:
                yield RawRow(group.line, data=product_row(group, self.currency))
            except RowError as exc:
                yield RawRow(group.line, data={"id": group.id}, error=str(exc))

    # ----- Shopify ---------------------------------------------------------------------------
    def _shopify(self, row: dict[str, Any], line: int, groups: dict[str, Group]) -> None:
        handle = scalar(row.get("handle"))
        if handle is None:
            raise RowError("missing Handle")
        group = groups.get(handle)
        if group is None:
            group = groups[handle] = Group(handle, line)
        title = scalar(row.get("title"))
        if title and "title" not in group.fields:
            _shopify_product(group, row)
        status = (scalar(row.get("status")) or "").lower()
        if status in ("draft", "archived"):
            group.skip = status
        image = scalar(row.get("image_src"))
        if image and "image" not in group.fields:
            group.fields["image"] = image
        if not any(scalar(v) for k, v in row.items() if k.startswith("variant_") or _OPTION.fullmatch(k)):
            return  # an image row
        names = group.option_names
        v = Variant(line, sku=scalar(row.get("variant_sku")))
        for key, value in row.items():
            m = _OPTION.fullmatch(key)
            if m and m.group(2) == "value" and scalar(value) and names.get(m.group(1)):
                if not (names[m.group(1)] == "title" and value.strip() == "Default Title"):
                    v.options[option_key(names[m.group(1)])] = value.strip()
        v.set_prices(row.get("variant_price"), row.get("variant_compare_at_price"))
        v.set_stock(row.get("variant_inventory_qty"))
        for key, value in row.items():
            if key == "variant_barcode" and scalar(value):
                v.extra["gtin"] = value.strip()  # a code: kept as text, searchable like the SKU
            elif key.startswith("variant_") and key not in _SHOPIFY_VARIANT_USED and scalar(value):
                v.extra[key.removeprefix("variant_")] = _scalar_attr(value)
        if scalar(row.get("cost_per_item")):
            v.extra["cost_per_item"] = _scalar_attr(row["cost_per_item"])
        group.variants.append(v)

    # ----- WooCommerce -----------------------------------------------------------------------
    def _woocommerce(self, row: dict[str, Any], line: int, groups: dict[str, Group]) -> None:
        kind = (scalar(row.get("type")) or "").lower()
        own_id = scalar(row.get("sku")) or scalar(row.get("id"))
        if "variation" in kind:
            parent = scalar(row.get("parent"))
            group = _woo_parent(groups, parent)
            if group is None:
                raise RowError(f"variation names an unknown parent {parent!r} (the parent row must come first)")
            v = Variant(line, sku=own_id)
            for n, name, values in _woo_attributes(row):
                if values:
                    v.options[option_key(name)] = values[0]
            v.set_prices(row.get("regular_price"), row.get("sale_price"))
            _woo_stock(v, row)
            group.variants.append(v)
            return
        if own_id is None:
            raise RowError("missing SKU and ID")
        if own_id in groups:
            raise RowError(f"duplicate id {own_id!r} (first on line {groups[own_id].line})")
        group = groups[own_id] = Group(own_id, line)
        group.source_id = scalar(row.get("id"))
        published = scalar(row.get("published"))
        if published in ("-1", "0"):
            group.skip = "draft" if published == "-1" else "private"
        group.fields.update(title=scalar(row.get("name")),
                            description=html_to_text(row.get("description")) or html_to_text(row.get("short_description")),
                            url=scalar(row.get("external_url")))
        categories = [c.strip() for c in str(row.get("categories") or "").split(",") if c.strip()]
        if categories:
            group.fields.update(path_fields(categories[0]))
            if len(categories) > 1:
                group.attributes["categories"] = categories
        images = [i.strip() for i in str(row.get("images") or "").split(",") if i.strip()]
        if images:
            group.fields["image"] = images[0]
        if scalar(row.get("tags")):
            group.attributes["tags"] = [t.strip() for t in row["tags"].split(",") if t.strip()]
        for n, name, values in _woo_attributes(row):
            group.option_values[option_key(name)] = values
        for key, value in row.items():
            if key not in _WOO_USED and not _WOO_ATTR.fullmatch(key) and scalar(value):
                group.attributes[key] = _scalar_attr(value)
        if "variable" not in kind:  # a simple (or external, grouped) product is its own one variant
            v = Variant(line, sku=scalar(row.get("sku")))
            v.set_prices(row.get("regular_price"), row.get("sale_price"))
            _woo_stock(v, row)
            group.variants.append(v)

    # ----- Google Merchant -------------------------------------------------------------------
    def _merchant(self, row: dict[str, Any], line: int, groups: dict[str, Group]) -> None:
        item = scalar(row.get("id"))
        if item is None:
            raise RowError("missing id")
        key = scalar(row.get("item_group_id")) or item
        group = groups.get(key)
        if group is None:
            group = groups[key] = Group(key, line)
            group.fields.update(title=scalar(row.get("title")), description=html_to_text(row.get("description")),
                                url=scalar(row.get("link")), image=scalar(row.get("image_link")),
                                brand=scalar(row.get("brand")), material=scalar(row.get("material")),
                                **path_fields(row.get("product_type")))
            gender = (scalar(row.get("gender")) or "").lower()
            if gender:
                group.attributes["gender"] = _GENDER.get(gender, gender)
            for name, value in row.items():
                if name not in _MERCHANT_USED and scalar(value):
                    group.attributes[name] = _scalar_attr(value)
        else:
            group.fields["title"] = _common_title(group.fields.get("title"), scalar(row.get("title")))
        v = Variant(line, sku=item)
        for name in ("color", "size"):
            if scalar(row.get(name)):
                v.options[option_key(name)] = row[name].strip()
        v.set_prices(row.get("price"), row.get("sale_price"))
        availability = (scalar(row.get("availability")) or "").lower()
        if availability:
            if availability not in _AVAILABILITY:
                raise RowError(f"availability is not one of in_stock, out_of_stock, preorder, backorder: {availability!r}")
            v.available = _AVAILABILITY[availability]
        if scalar(row.get("quantity")):
            v.set_stock(row["quantity"])
        for name in ("gtin", "mpn"):
            if scalar(row.get(name)):
                v.extra[name] = row[name].strip()
        group.variants.append(v)


_SHOPIFY_PRODUCT_USED = frozenset({"handle", "title", "body_html", "vendor", "product_category", "type", "tags",
                                   "published", "status", "image_src", "image_position", "image_alt_text",
                                   "cost_per_item"})
_SHOPIFY_VARIANT_USED = frozenset({"variant_sku", "variant_price", "variant_compare_at_price", "variant_inventory_qty"})
_WOO_USED = frozenset({"id", "type", "sku", "name", "published", "description", "short_description", "categories",
                       "images", "tags", "regular_price", "sale_price", "in_stock", "stock", "parent", "external_url"})
_MERCHANT_USED = frozenset({"id", "item_group_id", "title", "description", "link", "image_link", "brand", "material",
                            "product_type", "gender", "color", "size", "price", "sale_price", "availability",
                            "quantity", "gtin", "mpn"})


def _shopify_product(group: Group, row: dict[str, Any]) -> None:
    group.fields.update(title=scalar(row.get("title")), description=html_to_text(row.get("body_html")),
                        brand=scalar(row.get("vendor")), type=scalar(row.get("type")),
                        category=leaf(row.get("product_category")))
    if scalar(row.get("product_category")):
        group.attributes["category_path"] = row["product_category"].strip()
    if scalar(row.get("tags")):
        group.attributes["tags"] = [t.strip() for t in row["tags"].split(",") if t.strip()]
    names = {}
    for key, value in row.items():
        m = _OPTION.fullmatch(key)
        if m and m.group(2) == "name" and scalar(value):
            names[m.group(1)] = attribute_key(value)
        elif not m and not key.startswith("variant_") and key not in _SHOPIFY_PRODUCT_USED and scalar(value):
            group.attributes[key] = _scalar_attr(value)
    group.option_names = names


def _woo_parent(groups: dict[str, Group], parent: str | None) -> Group | None:
    if parent is None:
        return None
    if parent.startswith("id:"):
        wanted = parent[3:]
        return next((g for g in groups.values() if g.source_id == wanted), None)
    return groups.get(parent)


def _woo_attributes(row: dict[str, Any]) -> list[tuple[str, str, list[str]]]:
    out = []
    for key, name in row.items():
        m = _WOO_ATTR.fullmatch(key)
        if m and m.group(2) == "name" and scalar(name):
            values = str(row.get(f"attribute_{m.group(1)}_value_s") or "")
            out.append((m.group(1), name.strip(), [x.strip() for x in values.split(",") if x.strip()]))
    return out


def _woo_stock(v: Variant, row: dict[str, Any]) -> None:
    v.set_stock(row.get("stock"))
    flag = (scalar(row.get("in_stock")) or "").lower()
    if flag == "backorder":
        v.available = False
    elif flag:
        v.available = _bool(flag, "In stock?")


def _common_title(first: str | None, other: str | None) -> str | None:
    """The shared start of two variant titles ("Oxford - Blue / S" and "Oxford - White / XL" give "Oxford")."""
    if not first or not other or first == other:
        return first or other
    n = 0
    while n < min(len(first), len(other)) and first[n].lower() == other[n].lower():
        n += 1
    common = first[:n]
    if n < len(first) and n < len(other):
        common = common[: common.rfind(" ") + 1] if " " in common else common
    common = common.rstrip(" -–—/|,:(")
    return common if len(common) >= 3 else first


def _row_id(fmt: str, row: dict[str, Any]) -> str | None:
    if fmt == "shopify":
        return scalar(row.get("handle"))
    if fmt == "merchant":
        return scalar(row.get("item_group_id")) or scalar(row.get("id"))
    return None if "variation" in str(row.get("type") or "") else scalar(row.get("sku")) or scalar(row.get("id"))


# ----- Merchant XML (RSS 2.0 or Atom with the g: namespace) ---------------------------------------
class _FeedHandler(xml.sax.handler.ContentHandler):
    def __init__(self) -> None:
        super().__init__()
        self.items: list[RawRow] = []
        self.item: dict[str, str] | None = None
        self.line = 0
        self.path: list[str] = []
        self.text: list[str] = []

    def startElement(self, name: str, attrs) -> None:
        local = name.split(":")[-1]
        if local in ("item", "entry") and self.item is None:
            self.item, self.line, self.path = {}, self._locator.getLineNumber(), []
            return
        if self.item is not None:
            self.path.append(local)
            self.text = []
            if local == "link" and attrs.get("href"):
                self.item.setdefault("link", attrs["href"])

    def characters(self, content: str) -> None:
        if self.item is not None:
            self.text.append(content)

    def endElement(self, name: str) -> None:
        local = name.split(":")[-1]
        if self.item is None:
            return
        if local in ("item", "entry") and not self.path:
            self.items.append(RawRow(self.line, data=self.item))
            self.item = None
            return
        value = "".join(self.text).strip()
        key = self.path[0] if len(self.path) == 1 else f"{self.path[0]}_{local}"
        if value:
            self.item[key] = f"{self.item[key]}, {value}" if key in self.item and key != "link" else value
        self.path.pop()
        self.text = []


def merchant_xml(text: str) -> list[RawRow]:
    """The items of an RSS 2.0 (or Atom) Merchant feed, each with the line of its <item>."""
    handler = _FeedHandler()
    try:
        xml.sax.parseString(text.encode("utf-8", errors="surrogateescape"), handler)
    except xml.sax.SAXParseException as exc:
        return [*handler.items, RawRow(exc.getLineNumber(), error=f"malformed XML: {exc.getMessage()}; "
                                                                   "the rest of the feed was not read", id_trusted=False)]
    if not handler.items:
        return [RawRow(1, error="the XML holds no <item> or <entry>: not a Merchant feed")]
    return handler.items


def detect_shop_format(path: Path, fmt: str | None) -> str | None:
    """The shop format of a product file: from `fmt`, an XML start, or the CSV/TSV header; None for native files."""
    if fmt in ("shopify", "woocommerce", "merchant"):
        return fmt
    if fmt:
        return None
    suffix = path.suffix.lower()
    if suffix in (".json", ".jsonl", ".ndjson"):
        return None
    text = read_text(path)
    if suffix == ".xml" or text.lstrip()[:1] == "<":
        return "merchant"
    header = text[:65536].split("\n", 1)[0]
    return recognise(next(csv.reader([header], delimiter=_sniff_delimiter(header)), []))

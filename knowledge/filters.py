"""Structured product filters and their translation to SQL (SQLite or PostgreSQL) and `where` clauses (Chroma)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace
import json
from typing import Any

from knowledge import pg_text
from knowledge.catalog_schema import row_to_product
from knowledge.schema import Product
from shopguide.migrations import dialect


@dataclass(frozen=True)
class SearchFilters:
    """Constraints on products; empty fields constrain nothing."""

    min_price: float | None = None
    max_price: float | None = None
    categories: tuple[str, ...] = ()
    types: tuple[str, ...] = ()
    brands: tuple[str, ...] = ()
    exclude_brands: tuple[str, ...] = ()
    colors: tuple[str, ...] = ()
    exclude_colors: tuple[str, ...] = ()
    avoid_colors: tuple[str, ...] = ()  # a disliked colour: products offered only in these are left out
    sizes: tuple[str, ...] = ()
    in_stock: bool | None = None
    attributes: dict[str, Any] = field(default_factory=dict)
    target_price: float | None = None  # "around 80": the bounds are derived, this is what the user said

    def is_empty(self) -> bool:
        """True when no field constrains anything."""
        return self == SearchFilters()

    def without(self, name: str) -> "SearchFilters":
        """A copy with one named filter removed ("price" removes both bounds)."""
        if name == "price":
            return replace(self, min_price=None, max_price=None, target_price=None)
        if name == "attributes":
            return replace(self, attributes={})
        if name.startswith("attr:"):
            attrs = dict(self.attributes)
            attrs.pop(name[5:], None)
            return replace(self, attributes=attrs)
        default = SearchFilters().__getattribute__(name)
        return replace(self, **{name: default})

    def active(self) -> list[str]:
        """Names of the filters that constrain something, in a stable order."""
        names = []
        if self.min_price is not None or self.max_price is not None:
            names.append("price")
        for name in ("categories", "types", "brands", "exclude_brands", "colors", "exclude_colors", "avoid_colors", "sizes",
                     "in_stock"):
            value = getattr(self, name)
            if value not in ((), None):
                names.append(name)
        names.extend(f"attr:{k}" for k in self.attributes)
        return names

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        data = asdict(self)
        for key, value in list(data.items()):
            if isinstance(value, tuple):
                data[key] = list(value)
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None) -> "SearchFilters":
        """Inverse of `to_dict`; unknown keys are ignored."""
        if not data:
            return cls()
        kwargs: dict[str, Any] = {}
        for name in cls.__dataclass_fields__:
            if name in data and data[name] is not None:
                value = data[name]
                kwargs[name] = tuple(value) if isinstance(value, list) else value
        return cls(**kwargs)


def filters_sql(f: SearchFilters, alias: str = "p", sql_dialect: str = "sqlite") -> tuple[str, list[Any]]:
    """A SQL condition over the products table (aliased) and its parameters, in SQLite's or PostgreSQL's dialect
    (they differ only in how JSON held in TEXT columns is read)."""
    pg = sql_dialect == "postgresql"
    each = pg_text.json_elements if pg else (lambda expr: f"json_each({expr}) j")
    clauses: list[str] = []
    params: list[Any] = []
    if f.min_price is not None:
        clauses.append(f"{alias}.price >= ?")
        params.append(f.min_price)
    if f.max_price is not None:
        clauses.append(f"{alias}.price <= ?")
        params.append(f.max_price)
    for column, values in (("category", f.categories), ("type", f.types)):
        if values:
            clauses.append(f"lower({alias}.{column}) IN ({','.join('?' * len(values))})")
            params.extend(v.lower() for v in values)
    if f.brands:
        clauses.append(f"lower({alias}.brand) IN ({','.join('?' * len(f.brands))})")
        params.extend(b.lower() for b in f.brands)
    if f.exclude_brands:
        clauses.append(f"({alias}.brand IS NULL OR lower({alias}.brand) NOT IN ({','.join('?' * len(f.exclude_brands))}))")
        params.extend(b.lower() for b in f.exclude_brands)
    for column, values in (("colors", f.colors), ("sizes", f.sizes)):
        if values:
            clauses.append(
                f"EXISTS (SELECT 1 FROM {each(f'{alias}.{column}')} WHERE lower(j.value) IN ({','.join('?' * len(values))}))"
            )
            params.extend(v.lower() for v in values)
    if f.exclude_colors:  # products listing none of them (vector hits are checked against this too)
        clauses.append(f"NOT EXISTS (SELECT 1 FROM {each(f'{alias}.colors')} "
                       f"WHERE lower(j.value) IN ({','.join('?' * len(f.exclude_colors))}))")
        params.extend(c.lower() for c in f.exclude_colors)
    if f.avoid_colors:  # offered in some other colour, or with no colour listed (checked on vector hits too)
        length = pg_text.json_length if pg else (lambda expr: f"json_array_length({expr})")
        listed = f"coalesce({alias}.colors, '[]')"
        clauses.append(f"({length(listed)} = 0 OR EXISTS (SELECT 1 FROM "
                       f"{each(f'{alias}.colors')} WHERE lower(j.value) NOT IN ({','.join('?' * len(f.avoid_colors))})))")
        params.extend(c.lower() for c in f.avoid_colors)
    if f.in_stock is True:
        clauses.append(f"({alias}.stock > 0 OR ({alias}.stock IS NULL AND {alias}.available = 1))")
    elif f.in_stock is False:
        clauses.append(f"({alias}.stock = 0 OR ({alias}.stock IS NULL AND {alias}.available = 0))")
    if pg:
        _pg_attributes(f, alias, clauses, params)
    for key, value in ({} if pg else f.attributes).items():
        path = '$."' + key.replace('"', "") + '"'
        if isinstance(value, (list, tuple)):  # any of these values
            clauses.append(f"lower(json_extract({alias}.attributes, ?)) IN ({','.join('?' * len(value))})")
            params.extend([path, *(str(v).lower() for v in value)])
        elif isinstance(value, bool):
            clauses.append(f"json_extract({alias}.attributes, ?) = ?")
            params.extend([path, 1 if value else 0])
        elif isinstance(value, (int, float)):
            clauses.append(f"json_extract({alias}.attributes, ?) = ?")
            params.extend([path, value])
        else:
            clauses.append(f"lower(json_extract({alias}.attributes, ?)) = ?")
            params.extend([path, str(value).lower()])
    return (" AND ".join(clauses) if clauses else ("TRUE" if pg else "1")), params


def _pg_attributes(f: SearchFilters, alias: str, clauses: list[str], params: list[Any]) -> None:
    """The attribute conditions on PostgreSQL: what SQLite's json_extract compares, read with ->> and ->."""
    text_of, equals = pg_text.json_field_text(f"{alias}.attributes"), pg_text.json_field_equals(f"{alias}.attributes")
    for key, value in f.attributes.items():
        key = key.replace('"', "")
        if isinstance(value, (list, tuple)):
            clauses.append(f"lower({text_of}) IN ({','.join('?' * len(value))})")
            params.extend([key, *(str(v).lower() for v in value)])
        elif isinstance(value, (bool, int, float)):
            clauses.append(equals)
            params.extend([key, json.dumps(value)])
        else:
            clauses.append(f"lower({text_of}) = ?")
            params.extend([key, str(value).lower()])


def filters_where(f: SearchFilters) -> dict[str, Any] | None:
    """The same constraints as a Chroma `where` clause over product metadata."""
    conds: list[dict[str, Any]] = []
    if f.min_price is not None:
        conds.append({"price": {"$gte": float(f.min_price)}})
    if f.max_price is not None:
        conds.append({"price": {"$lte": float(f.max_price)}})
    for key, values in (("category", f.categories), ("type", f.types), ("brand", f.brands)):
        if values:
            conds.append({key: {"$in": [v.lower() for v in values]}})
    if f.exclude_brands:
        conds.append({"brand": {"$nin": [b.lower() for b in f.exclude_brands]}})
    for prefix, values in (("color", f.colors), ("size", f.sizes)):
        if values:
            options = [{f"{prefix}:{v.lower()}": True} for v in values]
            conds.append(options[0] if len(options) == 1 else {"$or": options})
    if f.in_stock is not None:
        conds.append({"in_stock": bool(f.in_stock)})
    for key, value in f.attributes.items():
        if isinstance(value, (list, tuple)):
            conds.append({f"attr:{key.lower()}": {"$in": [str(v).lower() for v in value]}})
        else:
            conds.append({f"attr:{key.lower()}": value.lower() if isinstance(value, str) else value})
    if not conds:
        return None
    return conds[0] if len(conds) == 1 else {"$and": conds}


def passing(store: Any, ids: list[str], filters: SearchFilters) -> set[str]:
    """The subset of product `ids` in `store` that satisfy `filters`."""
    if filters.is_empty() or not ids:
        return set(ids)
    cond, params = filters_sql(filters, sql_dialect=dialect(store.db))
    marks = ",".join("?" * len(ids))
    with store.lock:
        rows = store.db.execute(
            f"SELECT p.id FROM products p WHERE p.id IN ({marks}) AND {cond}", [*ids, *params]
        ).fetchall()
    return {r[0] for r in rows}


def best_rated_in_stock(store: Any, filters: SearchFilters, n: int) -> list[Product]:
    """At most `n` products of `store` that pass `filters` and are not out of stock, best rated first (then by id)."""
    cond, params = filters_sql(filters, sql_dialect=dialect(store.db))
    with store.lock:
        rows = list(store.db.query(
            f"SELECT p.* FROM products p WHERE {cond} AND (p.stock IS NULL OR p.stock > 0) "
            "ORDER BY p.rating IS NULL, p.rating DESC, p.id LIMIT ?", [*params, n]))
    return [row_to_product(r) for r in rows]

"""What the catalog holds, counted for the layers above: its words for understanding, its largest groups for the shop's wording."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from knowledge import pg_text
from shopguide.migrations import dialect


@dataclass(frozen=True)
class CatalogWords:
    """The catalog's own names and keys, as the understanding layer's vocabulary is built from them."""

    vocabulary: dict[str, list[str]]
    type_category: dict[str, str]  # each type's category (the most common one where a type has several)
    flags: list[str]  # attribute keys holding true/false
    genders: list[str]
    attributes: list[str]  # the other attribute keys


@dataclass(frozen=True)
class CatalogProfile:
    """The largest groups of the catalog, with counts, for the storefront's wording and example buttons."""

    categories: list[tuple[str, int]]
    types: list[tuple[str, int]]
    brands: list[tuple[str, int]]
    sizes: list[tuple[str, int]]
    currencies: list[tuple[str, int]]
    median_price: float | None
    faq_question: str | None  # the shortest FAQ question in the catalog's language: the example of a store question


def catalog_words(store: Any) -> CatalogWords:
    """The names and attribute keys of `store` (a CatalogStore)."""
    vocab = store.vocabulary()
    with store.lock:
        db = store.db
        pg = dialect(db) == "postgresql"
        pairs = db.execute(
            "SELECT type, category, count(*) FROM products WHERE type IS NOT NULL GROUP BY type, category").fetchall()
        if pg:  # in key order, as SQLite gives them (ties in count below keep it)
            pairs.sort(key=lambda r: (r[0], r[1] is not None, r[1] or ""))
        flag_rows = db.execute(pg_text.FLAG_KEYS if pg else
            "SELECT DISTINCT j.key FROM products, json_each(products.attributes) j WHERE j.type IN ('true', 'false')"
        ).fetchall()
        attribute_rows = db.execute(pg_text.OTHER_KEYS if pg else
            "SELECT DISTINCT j.key FROM products, json_each(products.attributes) j WHERE j.type NOT IN ('true', 'false')"
        ).fetchall()
        genders = db.execute(pg_text.GENDERS if pg else
            "SELECT DISTINCT lower(json_extract(attributes, '$.gender')) FROM products "
            "WHERE json_type(attributes, '$.gender') = 'text'").fetchall()
    type_category: dict[str, str] = {}
    for type_, category, _ in sorted(pairs, key=lambda r: r[2]):
        type_category[type_] = category or ""
    return CatalogWords(vocab, type_category, [r[0] for r in flag_rows], [r[0] for r in genders if r[0]],
                        [r[0] for r in attribute_rows])


def catalog_profile(store: Any, lang: str = "en") -> CatalogProfile:
    """The counts of `store` (a CatalogStore) that the shop's wording is built from; `lang`, the catalog's language."""
    db = store.db
    with store.lock:
        pg = dialect(db) == "postgresql"

        def counts(sql: str) -> list[tuple[str, int]]:
            rows = [(str(r[0]), int(r[1])) for r in db.execute(sql).fetchall() if r[0] is not None]
            return sorted(rows) if pg else rows  # SQLite groups come in key order; PostgreSQL's hashed ones do not

        categories = counts("SELECT category, count(*) FROM products WHERE category IS NOT NULL GROUP BY category")
        types = counts("SELECT type, count(*) FROM products WHERE type IS NOT NULL GROUP BY type")
        brands = counts("SELECT brand, count(*) FROM products WHERE brand IS NOT NULL GROUP BY brand")
        sizes = counts(pg_text.SIZE_COUNTS if pg else
                       "SELECT j.value, count(*) FROM products, json_each(products.sizes) j GROUP BY j.value")
        currencies = counts("SELECT currency, count(*) FROM products WHERE currency IS NOT NULL AND price IS NOT NULL "
                            "GROUP BY currency")
        priced = db.execute("SELECT count(*) FROM products WHERE price IS NOT NULL").fetchone()[0]
        median = db.execute("SELECT price FROM products WHERE price IS NOT NULL ORDER BY price LIMIT 1 OFFSET ?",
                            [priced // 2]).fetchone() if priced else None
        # the crispest example, with no guess in code at which topic matters: the shortest question, in the catalog's language
        faq = db.execute("SELECT question FROM faqs ORDER BY coalesce(lang, ?) != ?, length(question), id LIMIT 1",
                         [lang, lang]).fetchone()
    return CatalogProfile(categories, types, brands, sizes, currencies, median[0] if median else None,
                          faq[0] if faq else None)

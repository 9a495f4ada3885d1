"""The catalog database's schema: its migrations and the keyword index's contents (FTS5; tsvector on PostgreSQL)."""

from __future__ import annotations

import json
from typing import Any

import sqlite_utils

from knowledge import pg_text
from knowledge.order_store import m4_orders
from knowledge.schema import Product
from knowledge.specs import readable_spec
from knowledge.text import keyword_text
from shopguide.migrations import dialect
from shopguide.store_copy import ServerDerived


def _m1_catalog(db: sqlite_utils.Database) -> None:
    if dialect(db) == "postgresql":  # the records with tsvector columns in place of the FTS5 tables
        pg_text.create_catalog(db)
    else:
        _sqlite_records(db)
    db.execute("""CREATE TABLE chunks (
        id TEXT PRIMARY KEY, kind TEXT NOT NULL, item_id TEXT NOT NULL, seq INTEGER NOT NULL,
        text TEXT NOT NULL, hash TEXT NOT NULL)""")
    db.execute("CREATE INDEX chunks_item ON chunks(kind, item_id)")
    db.execute("CREATE TABLE product_codes (code TEXT NOT NULL, product_id TEXT NOT NULL)")
    db.execute("CREATE INDEX product_codes_code ON product_codes(code)")
    db.execute("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT)")


def _sqlite_records(db: sqlite_utils.Database) -> None:
    """Migration 1's record tables on SQLite, each with its FTS5 index."""
    db.execute("""CREATE TABLE products (
        id TEXT PRIMARY KEY, title TEXT NOT NULL, brand TEXT, category TEXT, type TEXT,
        price REAL, currency TEXT, colors TEXT, sizes TEXT, material TEXT, stock INTEGER,
        available INTEGER, rating REAL, description TEXT, image TEXT, url TEXT, attributes TEXT,
        hash TEXT NOT NULL, updated_at TEXT NOT NULL)""")
    db.execute("CREATE INDEX products_category ON products(category)")
    db.execute("CREATE INDEX products_brand ON products(brand COLLATE NOCASE)")
    db.execute("CREATE INDEX products_price ON products(price)")
    db.execute("""CREATE VIRTUAL TABLE products_fts USING fts5(
        id UNINDEXED, title, meta, body, tokenize='porter unicode61')""")
    db.execute("""CREATE TABLE faqs (
        id TEXT PRIMARY KEY, question TEXT NOT NULL, answer TEXT NOT NULL, topic TEXT,
        hash TEXT NOT NULL, updated_at TEXT NOT NULL)""")
    db.execute("""CREATE VIRTUAL TABLE faqs_fts USING fts5(
        id UNINDEXED, question, answer, tokenize='porter unicode61')""")
    db.execute("""CREATE TABLE documents (
        id TEXT PRIMARY KEY, product_id TEXT NOT NULL, source TEXT, text TEXT NOT NULL,
        hash TEXT NOT NULL, updated_at TEXT NOT NULL)""")
    db.execute("CREATE INDEX documents_product ON documents(product_id)")
    db.execute("""CREATE VIRTUAL TABLE documents_fts USING fts5(
        id UNINDEXED, product_id UNINDEXED, text, tokenize='porter unicode61')""")


def _m2_keyword_text(db: sqlite_utils.Database) -> None:
    """Re-index every FTS row with `keyword_text` (units, fractions and sizes spelled one way)."""
    rebuild_keyword_index(db)


def product_keyword_fields(p: Product) -> tuple[str, str, str]:
    """The (title, meta, body) texts of a product as the keyword index holds them."""
    meta = " ".join(x for x in (p.brand, p.category, p.type, " ".join(p.colors), p.material,
                                _attr_text(p.attributes)) if x)
    return keyword_text(p.title), keyword_text(meta), keyword_text(p.description or "")


def document_keyword_text(text: str) -> str:
    """A document's text as the keyword index holds it (a structured spec in its readable form)."""
    return keyword_text(readable_spec(text) or text)


def _m3_fts_rowids(db: sqlite_utils.Database) -> None:
    """Give each FTS row its record's rowid (so one item's row is deleted without a scan); specs made readable."""
    rebuild_keyword_index(db)


def _m5_faq_language(db: sqlite_utils.Database) -> None:
    """FAQ entries carry the language they are written in (a store may have them in several)."""
    if dialect(db) == "postgresql" or "lang" not in {c.name for c in db["faqs"].columns}:  # a store made at d65dd74 had it as migration 4
        db.execute("ALTER TABLE faqs ADD COLUMN lang TEXT")


def _m6_keyword_postings(db: sqlite_utils.Database) -> None:
    """On PostgreSQL: a postings table (stem -> row, with its per-column counts), kept by triggers, so BM25 reads
    only the query stems' rows instead of unpacking every matching row's vector. Nothing on SQLite (FTS5 has its own)."""
    if dialect(db) == "postgresql":
        pg_text.create_postings(db)


MIGRATIONS = [_m1_catalog, _m2_keyword_text, _m3_fts_rowids, m4_orders, _m5_faq_language, _m6_keyword_postings]


def keyword_texts(table: str, row: dict[str, Any]) -> tuple[str, ...]:
    """A record row's indexed texts, in the keyword index's column order (FTS5's columns; on PostgreSQL, the weight
    classes of its keyword vector): products (title, meta, body), faqs (question, answer), documents (text,)."""
    if table == "products":
        return product_keyword_fields(row_to_product(row))
    if table == "faqs":
        return keyword_text(row["question"]), keyword_text(row["answer"])
    if table == "documents":
        return (document_keyword_text(row["text"]),)
    raise ValueError(f"{table} has no keyword index")


KEYWORD_TABLES = frozenset(pg_text.TABLES.values())


def server_keyword_columns(table: str, row: dict[str, Any]) -> dict[str, Any]:
    """A record row's keyword columns on PostgreSQL, as `pg_text.index_row` sets them (for copying a SQLite store)."""
    return pg_text.keyword_columns(keyword_texts(table, row))


# what a catalog on PostgreSQL holds beyond its SQLite file's rows: the keyword columns, and the postings kept from them
SERVER_DERIVED = ServerDerived(column_tables=KEYWORD_TABLES, columns=server_keyword_columns,
                               tables=frozenset({pg_text.POSTINGS}), bulk_load=pg_text.bulk_postings)


def rebuild_keyword_index(db: sqlite_utils.Database) -> None:
    """Refill the three FTS tables from the canonical records (FTS rowid = the record's rowid); on PostgreSQL, the
    records' keyword columns."""
    if dialect(db) == "postgresql":
        pg_text.rebuild(db, {
            "products": [(r["id"], keyword_texts("products", r)) for r in db.query("SELECT * FROM products")],
            "faqs": [(r["id"], keyword_texts("faqs", r)) for r in db.query("SELECT id, question, answer FROM faqs")],
            "documents": [(r["id"], keyword_texts("documents", r)) for r in db.query("SELECT id, text FROM documents")]})
        return
    db.execute("DELETE FROM products_fts")
    for row in db.query("SELECT rowid AS _rowid, * FROM products"):
        db.execute("INSERT INTO products_fts (rowid, id, title, meta, body) VALUES (?, ?, ?, ?, ?)",
                   [row["_rowid"], row["id"], *keyword_texts("products", row)])
    db.execute("DELETE FROM faqs_fts")
    for row in db.query("SELECT rowid, id, question, answer FROM faqs"):
        db.execute("INSERT INTO faqs_fts (rowid, id, question, answer) VALUES (?, ?, ?, ?)",
                   [row["rowid"], row["id"], *keyword_texts("faqs", row)])
    db.execute("DELETE FROM documents_fts")
    for row in db.query("SELECT rowid, id, product_id, text FROM documents"):
        db.execute("INSERT INTO documents_fts (rowid, id, product_id, text) VALUES (?, ?, ?, ?)",
                   [row["rowid"], row["id"], row["product_id"], *keyword_texts("documents", row)])


def _attr_text(attributes: dict[str, Any]) -> str:
    parts = []
    for key, value in attributes.items():
        name = key.replace("_", " ")
        if isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
            parts.extend(" ".join(str(x) for x in v.values() if not isinstance(x, (bool, dict, list))) for v in value)
        elif value is True:
            parts.append(name)
        elif value is False:
            continue
        else:
            parts.append(f"{name} {value}")
    return " ".join(parts)


# what a Product is read from (not `*`: on PostgreSQL the row also holds its keyword vector, long and unused here)
PRODUCT_COLUMNS = ("id, title, brand, category, type, price, currency, colors, sizes, material, stock, available, "
                   "rating, description, image, url, attributes")


def row_to_product(row: dict[str, Any]) -> Product:
    """Rebuild a `Product` from its database row."""
    return Product(
        id=row["id"], title=row["title"], brand=row["brand"], category=row["category"], type=row["type"],
        price=row["price"], currency=row["currency"], colors=tuple(json.loads(row["colors"] or "[]")),
        sizes=tuple(json.loads(row["sizes"] or "[]")), material=row["material"], stock=row["stock"],
        available=None if row["available"] is None else bool(row["available"]), rating=row["rating"],
        description=row["description"], image=row["image"], url=row["url"],
        attributes=json.loads(row["attributes"] or "{}"),
    )

"""Canonical records in SQLite (sqlite-utils) with FTS5 keyword indexes, or on PostgreSQL with tsvector columns
(knowledge/pg_text.py); schema: catalog_schema.py.

This database is the single source of truth for prices, stock and text. The vector index
only points back here, and an item is visible once its row here is committed.
"""

from __future__ import annotations

import json
import logging
import re
import sqlite3
import threading
import time
from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from knowledge import pg_text
from knowledge.catalog_schema import (
    MIGRATIONS, PRODUCT_COLUMNS, document_keyword_text, product_keyword_fields, rebuild_keyword_index, row_to_product,
)
from knowledge.order_store import OrderStore
from knowledge.schema import CODE_KEYS, Document, Faq, Product
from knowledge.text import keyword_text
from shopguide.migrations import dialect, migrate, open_database, transaction

log = logging.getLogger(__name__)
KINDS = ("product", "faq", "document")
_CODE = re.compile(r"[A-Za-z0-9][A-Za-z0-9\-_./]{2,}")
KEYWORD_GENERATION = "keyword_generation"
META_TTL_S = 0.5  # on a database server, a meta value (a generation, an ingest marker) is re-read at most this often


def ingest_marker(kind: str) -> str:
    """The meta key set while an ingest of `kind` is unfinished (cleared when it ends or is repaired)."""
    return f"ingest_in_progress:{kind}"


def name_text(title: str, brand: str | None, category: str | None, kind: str | None,
              colors: Sequence[str], material: str | None) -> str:
    """A product's name fields as one text: what a shopper's words are checked against."""
    return " ".join(filter(None, (title, brand, category, kind, " ".join(colors), material)))


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def product_codes(product: Product) -> set[str]:
    """Identifiers a shopper may type for this product: its SKU and model numbers in its title."""
    codes = {normalise_code(product.id)}
    for key in CODE_KEYS & product.attributes.keys():  # a SKU, EAN or model number kept beside the id
        value = str(product.attributes[key]) if not isinstance(product.attributes[key], bool) else ""
        if len(value) >= 4 and any(ch.isdigit() for ch in value):  # a code, not a model name like "Aurora"
            codes.add(normalise_code(value))
    for variant in product.attributes.get("variants") or ():  # a shop export's variants: their SKUs and barcodes
        if isinstance(variant, dict):
            codes.update(normalise_code(str(variant[key])) for key in CODE_KEYS & variant.keys()
                         if len(str(variant[key])) >= 3)
    for token in _CODE.findall(product.title):
        if any(ch.isdigit() for ch in token) and any(ch.isalpha() for ch in token) and len(token) >= 4:
            codes.add(normalise_code(token))
    codes.discard("")
    return codes


def normalise_code(text: str) -> str:
    """Upper-case a code and drop separators, so "sg-hb 1001" equals "SG-HB-1001"."""
    return re.sub(r"[\s\-_./]", "", text).upper()


class CatalogStore:
    """Store of products, FAQs, documents and the chunks that were embedded: a SQLite file, or with a
    postgresql:// URL the schema `schema` on that server (no file is written)."""

    def __init__(self, path: Path | str, schema: str = "catalog") -> None:
        self.path = path
        self.db = open_database(path, schema)
        self.pg = dialect(self.db) == "postgresql"
        self.lock = threading.RLock()
        migrate(self.db, MIGRATIONS)
        self.orders = OrderStore(self.db, self.lock)
        self._meta_cache: dict[str, tuple[str | None, float]] = {}  # PostgreSQL only: a round trip saved per read

    def order_lines(self) -> Iterator[tuple[str, str, str | None, int]]:
        """Every ingested order line naming a catalog product: (customer_key, product_id, timestamp, quantity).

        `customer_key` is "email:<salted hash>" (Shopify orders) or "user:<id>" (plain CSV); a chat user's
        `/link` maps them to one (`self.orders.linked_customer(user_key)`). Oldest first.
        """
        return self.orders.order_lines()

    # ----- reading -------------------------------------------------------------------
    def hashes(self, kind: str) -> dict[str, str]:
        """Stored content hash of every item of `kind`."""
        table = _table(kind)
        with self.lock:
            return {r[0]: r[1] for r in self.db.execute(f"SELECT id, hash FROM {table}").fetchall()}

    def count(self, kind: str) -> int:
        """Number of stored items of `kind`."""
        with self.lock:
            return self.db.execute(f"SELECT count(*) FROM {_table(kind)}").fetchone()[0]

    def get_product(self, product_id: str) -> Product | None:
        """One product by exact id."""
        found = self.get_products([product_id])
        return found.get(product_id)

    def get_products(self, ids: Sequence[str]) -> dict[str, Product]:
        """Products by id; missing ids are absent from the result."""
        return {row["id"]: row_to_product(row) for row in self._rows_in(f"SELECT {PRODUCT_COLUMNS} FROM products WHERE id IN ({{}})", ids)}

    def name_texts(self, ids: Sequence[str]) -> dict[str, str]:
        """Per product id, its name fields (title, brand, category, type, colours, material) as one text."""
        rows = self._rows_in("SELECT id, title, brand, category, type, colors, material FROM products WHERE id IN ({})", ids)
        return {r["id"]: name_text(r["title"], r["brand"], r["category"], r["type"], json.loads(r["colors"] or "[]"),
                                   r["material"]) for r in rows}

    def all_products(self) -> list[Product]:
        """Every product, in id order."""
        with self.lock:
            return [row_to_product(r) for r in self.db.query(f"SELECT {PRODUCT_COLUMNS} FROM products ORDER BY id")]

    def get_faqs(self, ids: Sequence[str] | None = None) -> dict[str, Faq]:
        """FAQs by id, or all of them."""
        with self.lock:
            if ids is None:
                rows = self.db.query("SELECT * FROM faqs ORDER BY id")
            else:
                marks = ",".join("?" * len(ids)) or "''"
                rows = self.db.query(f"SELECT * FROM faqs WHERE id IN ({marks})", list(ids))
            return {r["id"]: Faq(r["id"], r["question"], r["answer"], r["topic"], r.get("lang")) for r in rows}

    def documents_for(self, product_id: str) -> list[Document]:
        """All documents about one product."""
        with self.lock:
            rows = self.db.query("SELECT * FROM documents WHERE product_id = ? ORDER BY id", [product_id])
            return [Document(r["id"], r["product_id"], r["text"], r["source"]) for r in rows]

    def get_records(self, kind: str, ids: Sequence[str]) -> dict[str, Product | Faq | Document]:
        """Stored items of `kind` by id, as the records they were ingested from."""
        if kind == "product":
            return dict(self.get_products(ids))
        if kind == "faq":
            return dict(self.get_faqs(ids))
        rows = self._rows_in("SELECT * FROM documents WHERE id IN ({})", ids)
        return {r["id"]: Document(r["id"], r["product_id"], r["text"], r["source"]) for r in rows}

    def chunk_texts(self, ids: Sequence[str]) -> dict[str, dict[str, Any]]:
        """Chunk rows by chunk id."""
        return {row["id"]: row for row in self._rows_in("SELECT * FROM chunks WHERE id IN ({})", ids)}

    def chunk_ids(self, kind: str | None = None) -> set[str]:
        """Ids of all stored chunks, optionally of one kind."""
        with self.lock:
            if kind:
                rows = self.db.execute("SELECT id FROM chunks WHERE kind = ?", [kind]).fetchall()
            else:
                rows = self.db.execute("SELECT id FROM chunks").fetchall()
        return {r[0] for r in rows}

    def products_by_code(self, codes: Iterable[str]) -> list[str]:
        """Product ids whose SKU or model number equals one of `codes`."""
        return list(dict.fromkeys(pid for ids in self.products_by_codes(codes).values() for pid in ids))

    def products_by_codes(self, codes: Iterable[str]) -> dict[str, list[str]]:
        """For each of `codes` (as given) that is some product's SKU or model number, those product ids: one query
        for all of them (a search looks up every word of the query)."""
        wanted = {c: n for c in codes if (n := normalise_code(c))}
        if not wanted:
            return {}
        keys = sorted(set(wanted.values()))
        with self.lock:
            rows = self.db.execute(
                f"SELECT DISTINCT code, product_id FROM product_codes WHERE code IN ({','.join('?' * len(keys))})", keys
            ).fetchall()
        found: dict[str, list[str]] = {}
        for code, pid in rows:
            found.setdefault(code, []).append(pid)
        return {c: found[n] for c, n in wanted.items() if n in found}

    def vocabulary(self) -> dict[str, list[str]]:
        """The catalog's own words for brands, categories, types, colours, sizes and materials."""
        pg = self.pg
        with self.lock:
            def distinct(col: str) -> list[str]:
                rows = self.db.execute(f"SELECT DISTINCT {col} FROM products WHERE {col} IS NOT NULL").fetchall()
                return sorted({r[0] for r in rows if r[0]})

            def distinct_json(col: str) -> list[str]:
                rows = self.db.execute(pg_text.distinct_elements(col) if pg else
                    f"SELECT DISTINCT j.value FROM products, json_each(products.{col}) j"
                ).fetchall()
                return sorted({str(r[0]) for r in rows if r[0]})

            attrs = self.db.execute(pg_text.ATTRIBUTE_KEYS if pg else
                "SELECT DISTINCT j.key FROM products, json_each(products.attributes) j"
            ).fetchall()
            return {
                "brands": distinct("brand"),
                "categories": distinct("category"),
                "types": distinct("type"),
                "materials": distinct("material"),
                "colors": distinct_json("colors"),
                "sizes": distinct_json("sizes"),
                "attributes": sorted({r[0] for r in attrs}),
            }

    def get_meta(self, key: str) -> str | None:
        """A value from the meta table. On PostgreSQL a value read in the last `META_TTL_S` is reused: a search
        reads the catalog's generation several times, each a network round trip, and another process's ingest
        may be seen that much later (this process's own writes clear the cache at once)."""
        now = time.monotonic()
        if self.pg and (hit := self._meta_cache.get(key)) is not None and now - hit[1] < META_TTL_S:
            return hit[0]
        with self.lock:
            row = self.db.execute("SELECT value FROM meta WHERE key = ?", [key]).fetchone()
        value = row[0] if row else None
        if self.pg:
            self._meta_cache[key] = (value, now)
        return value

    def set_meta(self, key: str, value: str | None) -> None:
        """Set or clear a value in the meta table."""
        self._meta_cache.clear()
        with self.lock:
            if value is None:
                self.db.execute("DELETE FROM meta WHERE key = ?", [key])
            else:
                self.db.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", [key, value])

    # ----- writing -------------------------------------------------------------------
    def write_items(
        self,
        kind: str,
        items: Sequence[tuple[Product | Faq | Document, str, list[str]]],
    ) -> None:
        """Upsert items with their hashes and chunk texts, all in one transaction."""
        now = _now()
        with self.lock, transaction(self.db):
            for record, digest, chunks in items:
                self._delete_one(kind, record.id)
                if kind == "product":
                    self._insert_product(record, digest, now)  # type: ignore[arg-type]
                elif kind == "faq":
                    self._insert_faq(record, digest, now)  # type: ignore[arg-type]
                else:
                    self._insert_document(record, digest, now)  # type: ignore[arg-type]
                for seq, text in enumerate(chunks):
                    self.db.execute(
                        "INSERT INTO chunks (id, kind, item_id, seq, text, hash) VALUES (?, ?, ?, ?, ?, ?)",
                        [chunk_id(kind, record.id, seq), kind, record.id, seq, text, digest],
                    )
            if items:
                self._bump_generation(kind)

    def delete_items(self, kind: str, ids: Iterable[str]) -> None:
        """Remove items, their chunks and index rows, in one transaction."""
        with self.lock, transaction(self.db):
            for item_id in ids:
                self._delete_one(kind, item_id)
            self._bump_generation(kind)

    def generation(self, kind: str) -> int:
        """A number that changes whenever items of `kind` are written or removed (by any process)."""
        value = self.get_meta(f"{KEYWORD_GENERATION}:{kind}")
        return int(value) if value else 0

    def _bump_generation(self, kind: str) -> None:
        self._meta_cache.clear()
        self.db.execute(
            "INSERT INTO meta (key, value) VALUES (?, '1') "
            "ON CONFLICT(key) DO UPDATE SET value = CAST(meta.value AS INTEGER) + 1",
            [f"{KEYWORD_GENERATION}:{kind}"],
        )

    def product_titles(self) -> list[str]:
        """Every product title (for building the catalog's vocabulary)."""
        with self.lock:
            return [r[0] for r in self.db.execute("SELECT title FROM products").fetchall()]

    def product_names(self) -> list[tuple[str, str | None, str | None]]:
        """(id, title, brand) of every product (for reading products named in a message)."""
        with self.lock:
            return [tuple(r) for r in self.db.execute("SELECT id, title, brand FROM products").fetchall()]

    def keyword_known(self, kind: str, term: str) -> bool:
        """Whether the keyword index of `kind` holds `term` anywhere (after its own stemming)."""
        table = f"{_table(kind)}_fts"
        with self.lock:
            if self.pg:
                return pg_text.known(self, kind, f'"{term}"')
            return self.db.execute(f"SELECT 1 FROM {table} WHERE {table} MATCH ? LIMIT 1",
                                   [f'"{term}"']).fetchone() is not None

    def keywords_known(self, kind: str, terms: Sequence[str]) -> set[str]:
        """Those of `terms` the keyword index of `kind` holds anywhere (on PostgreSQL in one round trip)."""
        if self.pg:
            with self.lock:
                return pg_text.known_words(self, kind, terms)
        return {t for t in terms if self.keyword_known(kind, t)}

    def document_ids_of(self, product_ids: Sequence[str]) -> list[str]:
        """Ids of the documents about any of `product_ids`."""
        return [r["id"] for r in self._rows_in("SELECT id FROM documents WHERE product_id IN ({})", product_ids)]

    def _rows_in(self, sql: str, keys: Sequence[str]) -> list[dict[str, Any]]:
        """Rows of `sql`, whose `IN ({})` is filled with the distinct `keys`, 500 at a time."""
        keys = list(dict.fromkeys(keys))
        out: list[dict[str, Any]] = []
        with self.lock:
            for start in range(0, len(keys), 500):
                part = keys[start:start + 500]
                out += self.db.query(sql.format(",".join("?" * len(part))), part)
        return out

    def _delete_one(self, kind: str, item_id: str) -> None:
        table = _table(kind)
        if self.pg:  # the keyword columns go with the record
            if self.db.execute(f"DELETE FROM {table} WHERE id = ?", [item_id]).rowcount < 1:
                return
            self._delete_rest(kind, item_id)
            return
        # The record, its FTS row, chunks and codes are written in one transaction, so without a
        # record there is nothing to delete. The FTS row shares the record's rowid; deleting by
        # the unindexed id column instead would scan the whole index. A rowid that no longer
        # matches (a VACUUM may renumber rowids) realigns the whole index once.
        row = self.db.execute(f"SELECT rowid FROM {table} WHERE id = ?", [item_id]).fetchone()
        if row is None:
            return
        self.db.execute(f"DELETE FROM {table} WHERE id = ?", [item_id])
        if self.db.execute(f"DELETE FROM {table}_fts WHERE rowid = ? AND id = ?", [row[0], item_id]).rowcount < 1:
            self._realign_keywords()
        self._delete_rest(kind, item_id)

    def _delete_rest(self, kind: str, item_id: str) -> None:
        self.db.execute("DELETE FROM chunks WHERE kind = ? AND item_id = ?", [kind, item_id])
        if kind == "product":
            self.db.execute("DELETE FROM product_codes WHERE product_id = ?", [item_id])

    def _insert_product(self, p: Product, digest: str, now: str) -> None:
        rowid = self.db.execute(
            """INSERT INTO products (id, title, brand, category, type, price, currency, colors, sizes,
               material, stock, available, rating, description, image, url, attributes, hash, updated_at)
               VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
            [p.id, p.title, p.brand, p.category, p.type, p.price, p.currency, json.dumps(list(p.colors)),
             json.dumps(list(p.sizes)), p.material, p.stock,
             None if p.available is None else int(p.available), p.rating, p.description, p.image, p.url,
             json.dumps(p.attributes, ensure_ascii=False, default=str), digest, now],
        ).lastrowid
        self._insert_keywords("products_fts", ("id", "title", "meta", "body"), rowid, [p.id, *product_keyword_fields(p)])
        for code in product_codes(p):
            self.db.execute("INSERT INTO product_codes (code, product_id) VALUES (?, ?)", [code, p.id])

    def _insert_faq(self, f: Faq, digest: str, now: str) -> None:
        rowid = self.db.execute(
            "INSERT INTO faqs (id, question, answer, topic, lang, hash, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
            [f.id, f.question, f.answer, f.topic, f.lang, digest, now],
        ).lastrowid
        self._insert_keywords("faqs_fts", ("id", "question", "answer"), rowid,
                              [f.id, keyword_text(f.question), keyword_text(f.answer)])

    def _insert_document(self, d: Document, digest: str, now: str) -> None:
        rowid = self.db.execute(
            "INSERT INTO documents (id, product_id, source, text, hash, updated_at) VALUES (?, ?, ?, ?, ?, ?)",
            [d.id, d.product_id, d.source, d.text, digest, now],
        ).lastrowid
        self._insert_keywords("documents_fts", ("id", "product_id", "text"), rowid,
                              [d.id, d.product_id, document_keyword_text(d.text)])

    def _insert_keywords(self, table: str, columns: Sequence[str], rowid: int, values: list[Any]) -> None:
        if self.pg:  # the record's own columns; values: its id, then the indexed texts (documents: product id first)
            pg_text.index_row(self.db, table.removesuffix("_fts"), values[0],
                              values[2:] if table == "documents_fts" else values[1:])
            return
        sql = f"INSERT INTO {table} (rowid, {', '.join(columns)}) VALUES (?{', ?' * len(columns)})"
        try:
            self.db.execute(sql, [rowid, *values])
        except sqlite3.IntegrityError:
            self._realign_keywords()

    def _realign_keywords(self) -> None:
        # Rowids renumbered behind the index's back (a manual VACUUM): rebuild it from the records.
        log.warning("keyword index rowids out of step with the records; rebuilding it")
        rebuild_keyword_index(self.db)

    def close(self) -> None:
        """Close the database connection."""
        with self.lock:
            self.db.conn.close()


def chunk_id(kind: str, item_id: str, seq: int) -> str:
    """The id under which one chunk of an item is stored in both stores."""
    return f"{kind[0]}:{item_id}:{seq}"


def _table(kind: str) -> str:
    if kind not in KINDS:
        raise ValueError(f"unknown kind {kind!r}")
    return {"product": "products", "faq": "faqs", "document": "documents"}[kind]

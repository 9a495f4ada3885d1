"""Orders in the catalog database: written idempotently, read only by number plus e-mail, or by a chat's link."""

from __future__ import annotations

import hmac
import threading
from collections.abc import Iterable, Iterator

import sqlite_utils

from knowledge.orders import Order, OrderLine, email_hash, new_salt, now, order_key
from shopguide.migrations import dialect, transaction

SALT_KEY = "order_email_salt"
SYNCED_KEY = "synced_at:orders"  # when orders were last ingested: the age of an order status


def m4_orders(db: sqlite_utils.Database) -> None:
    """Orders, their line items and the chats linked to a customer (issue 24); no names, addresses or phones."""
    db.execute("""CREATE TABLE orders (
        key TEXT PRIMARY KEY, number TEXT NOT NULL, customer_key TEXT NOT NULL, email_hash TEXT,
        created_at TEXT, currency TEXT, total REAL, financial_status TEXT, fulfillment_status TEXT,
        fulfilled_at TEXT, carrier TEXT, tracking_number TEXT, tracking_url TEXT,
        hash TEXT NOT NULL, updated_at TEXT NOT NULL)""")
    db.execute("CREATE INDEX orders_customer ON orders(customer_key)")
    db.execute("""CREATE TABLE order_lines (
        order_key TEXT NOT NULL REFERENCES orders(key) ON DELETE CASCADE, seq INTEGER NOT NULL,
        customer_key TEXT NOT NULL, product_id TEXT, sku TEXT, title TEXT, quantity INTEGER NOT NULL,
        price REAL, created_at TEXT, PRIMARY KEY (order_key, seq))""")
    db.execute("CREATE INDEX order_lines_customer ON order_lines(customer_key)")
    db.execute("""CREATE TABLE customer_links (
        user_key TEXT PRIMARY KEY, customer_key TEXT NOT NULL, order_key TEXT NOT NULL, linked_at TEXT NOT NULL)""")
    db.execute("CREATE TABLE order_attempts (user_key TEXT NOT NULL, at TEXT NOT NULL)")  # wrong number/e-mail pairs
    db.execute("CREATE INDEX order_attempts_user ON order_attempts(user_key, at)")


class OrderStore:
    """The orders tables of one catalog database (sharing its connection and lock)."""

    def __init__(self, db: sqlite_utils.Database, lock: threading.RLock) -> None:
        self.db, self.lock = db, lock

    def salt(self) -> str:
        """This store's salt for e-mail hashes, made on first use."""
        with self.lock, transaction(self.db):
            row = self.db.execute("SELECT value FROM meta WHERE key = ?", [SALT_KEY]).fetchone()
            if row:
                return row[0]
            value = new_salt()
            self.db.execute("INSERT INTO meta (key, value) VALUES (?, ?)", [SALT_KEY, value])
            return value

    def write(self, orders: Iterable[Order]) -> tuple[int, int, int]:
        """Upsert orders by number in one transaction; returns (added, updated, unchanged)."""
        added = updated = unchanged = 0
        stamp = now()
        with self.lock, transaction(self.db):
            stored = {r[0]: r[1] for r in self.db.execute("SELECT key, hash FROM orders")}
            for order in orders:
                key, digest = order_key(order.number), order.digest()
                if stored.get(key) == digest:
                    unchanged += 1
                    continue
                if key in stored:
                    updated += 1
                    self.db.execute("DELETE FROM order_lines WHERE order_key = ?", [key])
                    self.db.execute("DELETE FROM orders WHERE key = ?", [key])
                else:
                    added += 1
                self.db.execute(
                    """INSERT INTO orders (key, number, customer_key, email_hash, created_at, currency, total,
                       financial_status, fulfillment_status, fulfilled_at, carrier, tracking_number, tracking_url,
                       hash, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
                    [key, order.number, order.customer_key, order.email_hash, order.created_at, order.currency,
                     order.total, order.financial_status, order.fulfillment_status, order.fulfilled_at, order.carrier,
                     order.tracking_number, order.tracking_url, digest, stamp])
                (self.db if dialect(self.db) == "postgresql" else self.db.conn).executemany(
                    "INSERT INTO order_lines (order_key, seq, customer_key, product_id, sku, title, quantity, price, "
                    "created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    [(key, seq, order.customer_key, line.product_id, line.sku, line.title, line.quantity, line.price,
                      order.created_at) for seq, line in enumerate(order.lines)])
            self.db.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", [SYNCED_KEY, stamp])
        return added, updated, unchanged

    def count(self) -> int:
        with self.lock:
            return self.db.execute("SELECT count(*) FROM orders").fetchone()[0]

    def order_lines(self) -> Iterator[tuple[str, str, str | None, int]]:
        """Every line item naming a catalog product: (customer_key, product_id, timestamp, quantity), oldest first."""
        with self.lock:
            rows = self.db.execute(
                "SELECT customer_key, product_id, created_at, quantity FROM order_lines "
                "WHERE product_id IS NOT NULL ORDER BY created_at, order_key, seq").fetchall()
        for row in rows:
            yield row[0], row[1], row[2], row[3]

    def find(self, number: str, email: str) -> Order | None:
        """The order with this number, only if `email` is the one it was placed with."""
        order = self._get(order_key(number))
        if order is None or order.email_hash is None:
            return None
        return order if hmac.compare_digest(order.email_hash, email_hash(self.salt(), email)) else None

    def link(self, user_key: str, number: str, email: str) -> Order | None:
        """Link a chat user to the customer of an order, checked like `find`; the order, or None."""
        order = self.find(number, email)
        if order is not None:
            with self.lock:
                self.db.execute("INSERT OR REPLACE INTO customer_links (user_key, customer_key, order_key, linked_at) "
                                "VALUES (?, ?, ?, ?)", [user_key, order.customer_key, order_key(number), now()])
        return order

    def linked_customer(self, user_key: str) -> str | None:
        """The customer key a chat user has linked, if any (what recommendations know a customer by)."""
        with self.lock:
            row = self.db.execute("SELECT customer_key FROM customer_links WHERE user_key = ?", [user_key]).fetchone()
        return row[0] if row else None

    def for_linked(self, user_key: str, number: str) -> Order | None:
        """An order of the customer this chat user linked, by number."""
        customer = self.linked_customer(user_key)
        order = self._get(order_key(number)) if customer else None
        return order if order is not None and order.customer_key == customer else None

    def latest_for(self, customer_key: str) -> Order | None:
        """The customer's most recent order."""
        with self.lock:
            row = self.db.execute("SELECT key FROM orders WHERE customer_key = ? ORDER BY created_at DESC LIMIT 1",
                                  [customer_key]).fetchone()
        return self._get(row[0]) if row else None

    def record_failure(self, user_key: str) -> None:
        """Note a wrong order-number/e-mail pair from this chat (for throttling)."""
        with self.lock:
            self.db.execute("INSERT INTO order_attempts (user_key, at) VALUES (?, ?)", [user_key, now()])

    def failures(self, user_key: str, since: str) -> int:
        """Wrong pairs from this chat since an ISO time; older ones are cleared."""
        with self.lock:
            self.db.execute("DELETE FROM order_attempts WHERE at < ?", [since])
            return self.db.execute("SELECT count(*) FROM order_attempts WHERE user_key = ? AND at >= ?",
                                   [user_key, since]).fetchone()[0]

    def unlink(self, user_key: str) -> None:
        with self.lock:
            self.db.execute("DELETE FROM customer_links WHERE user_key = ?", [user_key])

    def _get(self, key: str) -> Order | None:
        with self.lock:
            row = self.db.execute("SELECT * FROM orders WHERE key = ?", [key]).fetchone()
            if row is None:
                return None
            names = [d[0] for d in self.db.execute("SELECT * FROM orders LIMIT 0").description]
            data = dict(zip(names, row))
            lines = self.db.execute("SELECT product_id, sku, title, quantity, price FROM order_lines "
                                    "WHERE order_key = ? ORDER BY seq", [key]).fetchall()
        fields = {k: data[k] for k in ("number", "customer_key", "email_hash", "created_at", "currency", "total",
                                       "financial_status", "fulfillment_status", "fulfilled_at", "carrier",
                                       "tracking_number", "tracking_url")}
        synced = self.db.execute("SELECT value FROM meta WHERE key = ?", [SYNCED_KEY]).fetchone()
        return Order(**fields, lines=[OrderLine(*line) for line in lines], synced_at=synced[0] if synced else None)

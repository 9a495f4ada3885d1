"""A customer's ingested orders on request: found by e-mail, exported and erased with their chats' `/link`s,
and the trained recommendation models that learned from them dropped."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from knowledge.order_store import SALT_KEY, OrderStore
from knowledge.orders import email_hash
from shopguide.migrations import dialect, transaction

log = logging.getLogger(__name__)

ORDER_FIELDS = ("number", "created_at", "currency", "total", "financial_status", "fulfillment_status",
                "fulfilled_at", "carrier", "tracking_number", "tracking_url")


def customer_of_email(store: OrderStore, email: str) -> str | None:
    """The customer key orders placed with `email` are stored under, or None when the store has never hashed
    an e-mail (no salt yet: no order can name one). Reading makes no salt."""
    with store.lock:
        row = store.db.execute("SELECT value FROM meta WHERE key = ?", [SALT_KEY]).fetchone()
    return f"email:{email_hash(row[0], email)}" if row else None


def linked_users(store: OrderStore, customer: str) -> list[str]:
    """The chat users (`platform:id`) who linked themselves to this customer with `/link`."""
    with store.lock:
        return [r[0] for r in store.db.execute(
            "SELECT user_key FROM customer_links WHERE customer_key = ? ORDER BY user_key", [customer])]


def export_orders(store: OrderStore, customer: str) -> dict[str, Any] | None:
    """The customer's orders (with their lines) and the chats linked to them; None when nothing is held."""
    with store.lock:
        orders = []
        for row in store.db.execute(f"SELECT key, {', '.join(ORDER_FIELDS)} FROM orders WHERE customer_key = ? "
                                    "ORDER BY created_at, key", [customer]).fetchall():
            order = dict(zip(ORDER_FIELDS, row[1:]))
            order["lines"] = [dict(zip(("product_id", "sku", "title", "quantity", "price"), line)) for line in
                              store.db.execute("SELECT product_id, sku, title, quantity, price FROM order_lines "
                                               "WHERE order_key = ? ORDER BY seq", [row[0]]).fetchall()]
            orders.append(order)
        links = [dict(zip(("user", "order", "linked_at"), r)) for r in store.db.execute(
            "SELECT user_key, order_key, linked_at FROM customer_links WHERE customer_key = ? ORDER BY user_key",
            [customer]).fetchall()]
    return {"orders": orders, "chat_links": links} if orders or links else None


def export_chat_user(store: OrderStore, user_key: str) -> dict[str, Any]:
    """What the orders tables hold about one chat user: their `/link` and recent wrong order/e-mail attempts."""
    with store.lock:
        links = [dict(zip(("order", "linked_at"), r)) for r in store.db.execute(
            "SELECT order_key, linked_at FROM customer_links WHERE user_key = ?", [user_key]).fetchall()]
        attempts = [r[0] for r in store.db.execute(
            "SELECT at FROM order_attempts WHERE user_key = ? ORDER BY at", [user_key]).fetchall()]
    return {"order_link": links, "order_attempts": attempts}


def erase_orders(store: OrderStore, customer: str) -> dict[str, int]:
    """Delete the customer's orders, their lines and every chat's link to them, in one transaction, leaving
    no copy in free pages or the WAL; returns the rows removed by kind."""
    with store.lock:
        store.db.execute("PRAGMA secure_delete = ON")
        with transaction(store.db):
            removed = {
                "chat links": store.db.execute("DELETE FROM customer_links WHERE customer_key = ?", [customer]).rowcount,
                "order lines": store.db.execute(
                    "DELETE FROM order_lines WHERE customer_key = ? OR order_key IN "
                    "(SELECT key FROM orders WHERE customer_key = ?)", [customer, customer]).rowcount,
                "orders": store.db.execute("DELETE FROM orders WHERE customer_key = ?", [customer]).rowcount,
            }
        _checkpoint(store)
    log.info("erased a customer's orders: %s", removed)
    return removed


def forget_chat_user(store: OrderStore, user_key: str) -> int:
    """Delete a chat user's `/link` and their wrong order/e-mail attempts; returns the rows removed."""
    with store.lock:
        store.db.execute("PRAGMA secure_delete = ON")
        with transaction(store.db):
            removed = sum(store.db.execute(f"DELETE FROM {table} WHERE user_key = ?", [user_key]).rowcount
                          for table in ("customer_links", "order_attempts"))
        if removed:
            _checkpoint(store)
    return removed


def purge_attempts(store: OrderStore, before: str) -> int:
    """Delete wrong order/e-mail attempts older than `before` (ISO); the throttle only looks at the last hour."""
    with store.lock:
        store.db.execute("PRAGMA secure_delete = ON")
        return store.db.execute("DELETE FROM order_attempts WHERE at < ?", [before]).rowcount


def drop_order_models(cache_dir: Path) -> int:
    """Delete every cached order-history model (`cache_dir/recs/`): each was trained on the orders of its day,
    erased customers' included; the next start (or `retrain`) trains one on the orders that remain."""
    removed = 0
    for path in Path(cache_dir, "recs").glob("*"):
        if path.is_file() and path.suffix in (".pkl", ".tmp"):
            path.unlink(missing_ok=True)
            removed += 1
    return removed


def _checkpoint(store: OrderStore) -> None:
    if dialect(store.db) == "postgresql":  # the server's WAL and vacuum are its operator's (docs/privacy.md)
        return
    busy, _, _ = store.db.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
    if busy:
        log.warning("the catalog WAL could not be truncated now (another connection is reading); the next "
                    "checkpoint does it")

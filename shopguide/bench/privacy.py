"""`shopguide bench privacy`: how long the retention purge and one erasure take on a generated memory.db, and
an erasure by e-mail on generated orders with the recommendation model retrained."""

from __future__ import annotations

import random
import shutil
import time
from datetime import datetime, timedelta, timezone
from typing import Any

from shopguide.bench.common import BenchContext

EVENTS = 100_000
USERS = 5_000
DAYS = 180  # events spread evenly over the last half year: about half are past the 90-day retention


def generate(memory, events: int = EVENTS, users: int = USERS, days: int = DAYS, seed: int = 7) -> None:
    """Fill a memory.db with `events` events (and half as many interactions) of `users` customers, each with
    a conversation state and two preferences, dated evenly over the last `days` days, in one transaction."""
    from bot.memory import ConversationState, iso
    from shopguide.migrations import transaction

    rng = random.Random(seed)
    now = datetime.now(timezone.utc)
    words = ["tent", "boots", "jacket", "stove", "lamp", "rope", "socks", "bag", "poles", "map"]

    def when() -> str:
        return iso(now - timedelta(seconds=rng.uniform(0, days * 86400)))

    def text() -> str:
        return " ".join(rng.choice(words) for _ in range(4)) + f" {rng.randrange(10**6)}"

    keys = [f"telegram:{100000 + i}" for i in range(users)]
    with memory.lock, transaction(memory.db):
        memory.db.conn.executemany(
            "INSERT INTO events (user_key, platform, intent, text, results, answered, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
            [(rng.choice(keys), "telegram", "search", text(), rng.randrange(6), rng.random() > 0.1, when())
             for _ in range(events)])
        memory.db.conn.executemany(
            "INSERT INTO interactions (user_key, kind, product_id, query, created_at) VALUES (?, ?, ?, ?, ?)",
            [(rng.choice(keys), "searched" if rng.random() < 0.5 else "clicked",
              None if rng.random() < 0.5 else f"SG-{rng.randrange(500)}", text(), when()) for _ in range(events // 2)])
        for key in keys:
            seen = when()
            memory.db.execute("INSERT INTO conversations (user_key, state, updated_at) VALUES (?, ?, ?)",
                              [key, ConversationState(query=text()).to_json(), seen])
            for pref, value in (("budget", rng.randrange(50, 300)), ("shoe_size", str(rng.randrange(38, 47)))):
                memory.db.execute("INSERT INTO preferences (user_key, key, value, source, created_at) VALUES (?, ?, ?, ?, ?)",
                                  [key, pref, str(value), "you said: " + text(), seen])
            memory.db.execute("INSERT INTO last_seen (user_key, day) VALUES (?, ?)", [key, seen[:10]])


ORDERS = 20_000
ORDER_CUSTOMERS = 4_000


def generate_orders(store, orders: int = ORDERS, customers: int = ORDER_CUSTOMERS, seed: int = 7) -> list[str]:
    """Write `orders` orders of `customers` e-mail customers (two to three lines each, 500 products) into a
    catalog store's order tables; returns the customers' addresses (`customer-N@example.com`)."""
    from knowledge.orders import Order, OrderLine, email_hash

    rng = random.Random(seed)
    salt = store.orders.salt()
    emails = [f"customer-{i}@example.com" for i in range(customers)]
    hashes = [email_hash(salt, e) for e in emails]
    now = datetime.now(timezone.utc)
    batch = []
    for n in range(orders):
        c = rng.randrange(customers)
        when = (now - timedelta(seconds=rng.uniform(0, DAYS * 86400))).isoformat(timespec="seconds")
        lines = [OrderLine(f"P{rng.randrange(500)}", None, None, rng.randint(1, 3), 10.0) for _ in range(rng.randint(2, 3))]
        batch.append(Order(number=f"#{100000 + n}", customer_key=f"email:{hashes[c]}", email_hash=hashes[c],
                           created_at=when, currency="EUR", total=30.0, tracking_number=f"T{n}", lines=lines))
    store.orders.write(batch)
    return emails


def run_orders(folder, memory) -> dict[str, Any]:
    """Time training the order-history model, then one customer's erasure by e-mail (orders, links, models
    dropped) and the retraining on what remains."""
    from bot.privacy import erase_by_email
    from knowledge.recommend_orders import orders_from_store
    from knowledge.store import CatalogStore

    store = CatalogStore(folder / "catalog.db")
    cache = folder / "cache"
    emails = generate_orders(store)
    started = time.perf_counter()
    orders_from_store(store, cache)
    train_s = time.perf_counter() - started
    email = emails[0]
    started = time.perf_counter()
    removed = erase_by_email(memory, store.orders, email, "bench", cache)
    erase_s = time.perf_counter() - started
    started = time.perf_counter()
    orders_from_store(store, cache)
    retrain_s = time.perf_counter() - started
    store.close()
    return {"orders": ORDERS, "order_customers": ORDER_CUSTOMERS, "train_s": round(train_s, 2),
            "erase_email_s": round(erase_s, 3), "erased": removed, "retrain_s": round(retrain_s, 2)}


def run_privacy(ctx: BenchContext) -> dict[str, Any]:
    """Generate the store, copy it, then time `run_purge` (default retention) and one customer's erasure."""
    from bot.memory import Memory
    from bot.privacy import run_purge

    folder = ctx.bench_dir / "privacy"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    memory = Memory(folder / "memory.db")
    started = time.perf_counter()
    generate(memory)
    memory.scrub()
    generate_s = time.perf_counter() - started
    size_before = (folder / "memory.db").stat().st_size
    key = memory.db.execute("SELECT user_key FROM events GROUP BY user_key ORDER BY count(*) DESC LIMIT 1").fetchone()[0]
    report = run_purge(memory, ctx.settings)
    size_after = (folder / "memory.db").stat().st_size
    wal = folder / "memory.db-wal"
    started = time.perf_counter()
    erased = memory.forget(key)
    forget_s = time.perf_counter() - started
    orders = run_orders(folder, memory)
    memory.close()
    shutil.rmtree(folder, ignore_errors=True)
    return {"events": EVENTS, "interactions": EVENTS // 2, "users": USERS, "days": DAYS,
            "retention_days": ctx.settings.retention_days, "generate_s": round(generate_s, 2),
            "purge_s": round(report.seconds, 3), "removed": report.removed,
            "db_mb_before": round(size_before / 2**20, 1), "db_mb_after": round(size_after / 2**20, 1),
            "wal_bytes_after": wal.stat().st_size if wal.exists() else 0,
            "forget_rows": erased, "forget_s": round(forget_s, 3), **orders}


def rows(r: dict[str, Any]) -> list[tuple[str, str]]:
    """The readable lines of the section."""
    removed = ", ".join(f"{n:,} {k}" for k, n in r["removed"].items())
    return [("generated memory.db", f"{r['events']:,} events, {r['interactions']:,} interactions, {r['users']:,} "
                                    f"customers over {r['days']} days ({r['db_mb_before']} MiB)"),
            (f"purge (retention {r['retention_days']} days)", f"{r['purge_s']} s: {removed}"),
            ("after the purge", f"{r['db_mb_after']} MiB, WAL {r['wal_bytes_after']} bytes"),
            ("one customer erased", f"{r['forget_rows']} rows in {r['forget_s']} s"),
            ("order-history model trained", f"{r['orders']:,} orders of {r['order_customers']:,} customers: "
                                            f"{r['train_s']} s"),
            ("one customer erased by e-mail", f"{r['erase_email_s']} s: "
                                              + ", ".join(f"{n} {k}" for k, n in r["erased"].items())),
            ("model retrained without them", f"{r['retrain_s']} s")]

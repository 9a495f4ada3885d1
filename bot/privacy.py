"""What the shop holds about customers, and for how long: the retention purge (one purge function per
owner of customer data, run daily while a bot runs and on demand), staff-side export, erasure and search,
and the report of what is held."""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bot.claims import Claims
from bot.handoff_store import HandoffStore
from bot.memory import USER_TABLES, Memory, iso
from knowledge import order_privacy
from knowledge.order_store import OrderStore

if TYPE_CHECKING:
    from shopguide.settings import Settings

log = logging.getLogger(__name__)

DAY_S = 24 * 3600


@dataclass(frozen=True)
class PurgeScope:
    """What one purge removes: conversation text older than `before`, the profiles of customers idle since
    before `idle_before`. Each owner's purge function reads its own stores from here (or from `settings`)."""

    memory: Memory
    settings: "Settings"
    before: str  # ISO-8601 UTC moment
    idle_before: str  # YYYY-MM-DD


Purge = Callable[[PurgeScope], dict[str, int]]


def purge_memory(scope: PurgeScope) -> dict[str, int]:
    """memory.db: events, conversation states, interaction texts; idle customers' preferences and history."""
    return {**scope.memory.purge_text(scope.before), **scope.memory.purge_idle(scope.idle_before)}


def purge_handoffs(scope: PurgeScope) -> dict[str, int]:
    """memory.db's handoff threads closed before the retention cut-off, with their transcripts."""
    moment = datetime.fromisoformat(scope.before.replace("Z", "+00:00"))
    return {"handoffs": HandoffStore(scope.memory.db, scope.memory.lock).purge_handoffs(moment)}


def purge_claims(scope: PurgeScope) -> dict[str, int]:
    """memory.db's delivery claims completed more than 48 hours ago (issue 26 owns their retention)."""
    return {"delivery claims": Claims.on(scope.memory, clock=lambda: scope.memory.clock().timestamp()).prune()}


def purge_order_attempts(scope: PurgeScope) -> dict[str, int]:
    """catalog.db's wrong order/e-mail attempts (chat ids and times) older than the retention cut-off. Orders
    themselves are the shop's records and go on erasure only (docs/privacy.md); trained recommendation
    models are dropped when an erasure removes orders."""
    with _order_tables(scope.settings) as store:
        return {"order attempts": order_privacy.purge_attempts(store, scope.before)} if store else {}


@contextmanager
def _order_tables(settings: "Settings") -> Iterator[OrderStore | None]:
    """The catalog's order tables on a connection of their own, or None where there are none (nothing is created)."""
    if not settings.catalog_present:
        yield None
        return
    from shopguide.migrations import open_database

    db = open_database(settings.catalog_target, "catalog")
    try:
        yield OrderStore(db, threading.RLock()) if db["orders"].exists() else None
    finally:
        db.conn.close()


# One function per owner of customer data, each removing what of its own is past retention and saying how
# much by kind.
PURGES: list[Purge] = [purge_memory, purge_handoffs, purge_claims, purge_order_attempts]


@dataclass
class PurgeReport:
    """What a purge removed, by kind."""

    before: str
    idle_before: str
    removed: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return {"before": self.before, "idle_before": self.idle_before, "removed": self.removed,
                "total": sum(self.removed.values()), "seconds": round(self.seconds, 3)}

    def summary(self) -> str:
        parts = [f"{n} {kind}" for kind, n in self.removed.items()]
        return (f"Purged conversation text from before {self.before} and the profiles of customers not seen since "
                f"{self.idle_before}: " + (", ".join(parts) if parts else "nothing") + ".")


def cutoffs(now: datetime, text_days: int, idle_days: int) -> tuple[str, str]:
    """The purge's limits: the start of the UTC day `text_days` ago (now itself for 0, so that all text
    goes), and the day `idle_days` ago."""
    now = now.astimezone(timezone.utc)
    if text_days <= 0:
        before = iso(now + timedelta(seconds=1))
    else:
        before = iso((now - timedelta(days=text_days)).replace(hour=0, minute=0, second=0, microsecond=0))
    return before, (now - timedelta(days=idle_days)).date().isoformat()


def run_purge(memory: Memory, settings: "Settings", older_than: int | None = None,
              purges: list[Purge] | None = None) -> PurgeReport:
    """Run every owner's purge (text older than `older_than` days, default the retention setting), then
    scrub the database so that no copy stays in an index or the WAL."""
    started = time.perf_counter()
    days = settings.retention_days if older_than is None else older_than
    before, idle_before = cutoffs(memory.clock(), days, settings.preference_retention_days)
    scope = PurgeScope(memory, settings, before, idle_before)
    report = PurgeReport(before, idle_before)
    for purge in PURGES if purges is None else purges:
        for kind, n in purge(scope).items():
            report.removed[kind] = report.removed.get(kind, 0) + n
    memory.scrub()
    report.seconds = time.perf_counter() - started
    log.info("retention purge: %s", ", ".join(f"{n} {k}" for k, n in report.removed.items()) or "nothing")
    return report


async def purge_daily(memory: Memory, settings: "Settings", interval_s: float = DAY_S) -> None:
    """Purge at once, then every `interval_s` seconds, until cancelled; a failed purge is logged and retried
    at the next interval."""
    while True:
        try:
            await asyncio.to_thread(run_purge, memory, settings)
        except Exception:
            log.exception("the retention purge failed; it runs again in %d hours", interval_s // 3600)
        await asyncio.sleep(interval_s)


def start_daily_purge(memory: Memory, settings: "Settings") -> asyncio.Task:
    """The background task a running bot keeps while it runs (cancel it at shutdown)."""
    return asyncio.get_running_loop().create_task(purge_daily(memory, settings), name="retention-purge")


# ----- requests made to staff -----------------------------------------------------------------
def customer_key(platform: str, user: str) -> str:
    """The memory key of a customer on a platform (as `IncomingMessage.user_key` builds it)."""
    return f"{platform.strip().lower()}:{user.strip()}"


def no_data(key: str) -> str:
    return f"no data held for {key}"


def export_customer(memory: Memory, key: str, orders: OrderStore | None = None) -> dict[str, Any] | None:
    """Everything held about a customer, as the in-chat export gives it (plus their `/link` and wrong order
    attempts when the orders store is given and holds any); None when nothing is held."""
    linked = order_privacy.export_chat_user(orders, key) if orders is not None else {}
    linked = {k: v for k, v in linked.items() if v}
    if memory.count_rows(key) == 0 and not linked:
        return None
    return {**memory.export(key), **linked}


def export_by_email(memory: Memory, orders: OrderStore, email: str) -> dict[str, Any] | None:
    """A customer's ingested orders found by the e-mail they were placed with, the chats linked to them and
    what those chats hold; None when no order or link names that customer."""
    customer = order_privacy.customer_of_email(orders, email)
    held = order_privacy.export_orders(orders, customer) if customer else None
    if held is None:
        return None
    chats = {user: export_customer(memory, user, orders) for user in order_privacy.linked_users(orders, customer)}
    return {"email": email.strip(), "exported_at": iso(memory.clock()), **held,
            "chats": {user: data for user, data in chats.items() if data}}


def erase_by_email(memory: Memory, orders: OrderStore, email: str, actor: str, cache_dir: Path) -> dict[str, int]:
    """Erase a customer found by e-mail: the chats linked to them (as `erase_customer`, each audited), then
    their orders, order lines and links, then every cached recommendation model (which learned from those
    orders). The audit entry names who and when, and counts; never the address or an order. Empty: nothing held."""
    customer = order_privacy.customer_of_email(orders, email)
    if customer is None:
        return {}
    removed: dict[str, int] = {}
    for user in order_privacy.linked_users(orders, customer):
        removed["chat records"] = removed.get("chat records", 0) + erase_customer(memory, user, actor, orders)
    removed.update({k: n for k, n in order_privacy.erase_orders(orders, customer).items() if n})
    if not removed:
        return {}
    if removed.get("orders"):
        removed["recommendation models"] = order_privacy.drop_order_models(cache_dir)
    memory.audit(actor, "erase_orders", "a customer by e-mail",
                 ", ".join(f"{n} {kind}" for kind, n in removed.items()))
    memory.scrub()
    return removed


def erase_customer(memory: Memory, key: str, actor: str, orders: OrderStore | None = None) -> int:
    """Erase a customer as the in-chat "forget me" does, and their `/link` to an order customer when the
    orders store is given, with an audit entry of who erased whom and when (no content); returns the rows
    deleted (0: nothing was held, and nothing is audited)."""
    deleted = memory.forget(key) + HandoffStore(memory.db, memory.lock).forget_handoffs(key)
    if orders is not None:
        deleted += order_privacy.forget_chat_user(orders, key)
    if deleted:
        memory.audit(actor, "erase_customer", key, f"{deleted} records")
    return deleted


def find_customers(memory: Memory, text: str, limit: int = 20) -> list[dict[str, Any]]:
    """Customers whose key or stored text (messages, searches, preferences, conversation state) contains
    `text`, case-insensitively, with how many rows match and their last visit."""
    needle = text.strip().lower()
    if not needle:
        return []
    sources = [("events", "text"), ("interactions", "query"), ("preferences", "source"),
               ("preferences", "value"), ("conversations", "state")]
    union = " UNION ALL ".join(f"SELECT user_key, '{t}' AS kind FROM {t} WHERE instr(lower({c}), :q) > 0"
                               for t, c in sources)
    keys = " UNION ".join(f"SELECT user_key FROM {t}" for t in USER_TABLES)
    sql = f"""SELECT m.user_key, m.kind, count(*) FROM (
                {union} UNION ALL SELECT user_key, 'user id' FROM ({keys}) AS k WHERE instr(lower(user_key), :q) > 0
              ) m GROUP BY 1, 2"""
    found: dict[str, dict[str, Any]] = {}
    with memory.lock:
        for key, kind, n in memory.db.execute(sql, {"q": needle}).fetchall():
            entry = found.setdefault(key, {"user": key, "matches": {}, "last_seen": None})
            entry["matches"][kind] = entry["matches"].get(kind, 0) + n
        for entry in found.values():
            row = memory.db.execute("SELECT day FROM last_seen WHERE user_key = ?", [entry["user"]]).fetchone()
            entry["last_seen"] = row[0] if row else None
    return sorted(found.values(), key=lambda e: (-sum(e["matches"].values()), e["user"]))[:limit]


# ----- what is held -----------------------------------------------------------------------------
# (what, table, date column, condition, how long): every memory.db table that can hold personal data.
HELD: list[tuple[str, str, str, str, str]] = [
    ("events (message text)", "events", "created_at", "1 = 1", "retention_days"),
    ("conversation states", "conversations", "updated_at", "1 = 1", "retention_days"),
    ("interactions with search text", "interactions", "created_at", "query IS NOT NULL", "retention_days"),
    ("interactions (products)", "interactions", "created_at", "query IS NULL", "preference_retention_days idle"),
    ("preferences", "preferences", "created_at", "1 = 1", "preference_retention_days idle"),
    ("last visits", "last_seen", "day", "1 = 1", "with the profile it dates"),
    ("daily counts (no text)", "event_counts", "day", "1 = 1", "kept"),
    ("audit entries", "audit", "created_at", "1 = 1", "kept"),
    ("delivery claims", "delivery_claims", "created_at", "1 = 1", "48 hours after delivery (ids; the update until then)"),
    ("handoff threads", "handoffs", "created_at", "1 = 1", "retention_days after closing"),
    ("handoff transcripts", "handoff_messages", "created_at", "1 = 1", "retention_days after closing"),
]
# the same for catalog.db's order tables (ingested orders, `/link`s, wrong attempts)
HELD_ORDERS: list[tuple[str, str, str, str, str]] = [
    ("orders", "orders", "created_at", "1 = 1", "until erased (privacy forget --email)"),
    ("order lines", "order_lines", "created_at", "1 = 1", "until erased (privacy forget --email)"),
    ("chat links (/link)", "customer_links", "linked_at", "1 = 1", "until the chat or the customer is erased"),
    ("wrong order attempts", "order_attempts", "at", "1 = 1", "retention_days"),
]


def held_report(memory: Memory, settings: "Settings") -> list[dict[str, Any]]:
    """Current counts and the oldest entry of every kind of personal data, and the log files."""
    limits = {"retention_days": f"{settings.retention_days} days",
              "retention_days after closing": f"{settings.retention_days} days after closing",
              "preference_retention_days idle": f"{settings.preference_retention_days} days without a visit"}
    rows = []

    def count(db, lock, name: str, held: list[tuple[str, str, str, str, str]]) -> None:
        with lock:
            for what, table, column, where, kept in held:
                if not db[table].exists():
                    continue
                n, oldest = db.execute(f"SELECT count(*), min({column}) FROM {table} WHERE {where}").fetchone()
                rows.append({"what": what, "where": f"{name}:{table}", "rows": n, "oldest": oldest,
                             "kept": limits.get(kept, kept)})

    count(memory.db, memory.lock, "memory.db" if memory.path else "database:memory", HELD)
    with _order_tables(settings) as store:
        if store is not None:
            count(store.db, store.lock, "catalog.db", HELD_ORDERS)
    models = [p for p in Path(settings.cache_dir, "recs").glob("*.pkl")]
    if models:
        rows.append({"what": "trained recommendation models", "where": f"{settings.cache_dir}/recs", "rows": len(models),
                     "oldest": datetime.fromtimestamp(min(p.stat().st_mtime for p in models), timezone.utc)
                     .isoformat(timespec="seconds"), "kept": "dropped and retrained when an erasure removes orders"})
    logs = sorted(Path(settings.data_dir, "logs").glob("*.log*"))
    if logs:
        rows.append({"what": "log files (no message text)", "where": "logs/", "rows": len(logs),
                     "oldest": min(filter(None, map(_first_timestamp, logs)), default=None),
                     "kept": "rotated at 5 MB, 3 old files"})
    return rows


def _first_timestamp(path: Path) -> str | None:
    """The time of a log file's first line (`2026-12-04 20:31:02,123 INFO ...`), or None."""
    try:
        with path.open("r", encoding="utf-8", errors="replace") as fh:
            head = fh.readline()[:19]
    except OSError:
        return None
    return head if len(head) == 19 and head[4] == "-" and head[10] == " " else None

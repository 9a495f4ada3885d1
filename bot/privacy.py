"""What the shop holds about customers, and for how long: the retention purge (one purge function per
owner of customer data, run daily while a bot runs and on demand), staff-side export, erasure and search,
and the report of what is held."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bot.claims import Claims
from bot.handoff_store import HandoffStore
from bot.memory import USER_TABLES, Memory, iso

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


# One function per owner of customer data, each removing what of its own is past retention and saying how
# much by kind. Ingested orders and trained recommendation data each add one line here.
PURGES: list[Purge] = [purge_memory, purge_handoffs, purge_claims]


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


def export_customer(memory: Memory, key: str) -> dict[str, Any] | None:
    """Everything held about a customer, as the in-chat export gives it; None when nothing is held."""
    if memory.count_rows(key) == 0:
        return None
    return memory.export(key)


def erase_customer(memory: Memory, key: str, actor: str) -> int:
    """Erase a customer as the in-chat "forget me" does, with an audit entry of who erased whom and when
    (no content); returns the rows deleted (0: nothing was held, and nothing is audited)."""
    deleted = memory.forget(key) + HandoffStore(memory.db, memory.lock).forget_handoffs(key)
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
                {union} UNION ALL SELECT user_key, 'user id' FROM ({keys}) WHERE instr(lower(user_key), :q) > 0
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
    ("events (message text)", "events", "created_at", "1", "retention_days"),
    ("conversation states", "conversations", "updated_at", "1", "retention_days"),
    ("interactions with search text", "interactions", "created_at", "query IS NOT NULL", "retention_days"),
    ("interactions (products)", "interactions", "created_at", "query IS NULL", "preference_retention_days idle"),
    ("preferences", "preferences", "created_at", "1", "preference_retention_days idle"),
    ("last visits", "last_seen", "day", "1", "with the profile it dates"),
    ("daily counts (no text)", "event_counts", "day", "1", "kept"),
    ("audit entries", "audit", "created_at", "1", "kept"),
    ("delivery claims", "delivery_claims", "created_at", "1", "48 hours after delivery (ids; the update until then)"),
]


def held_report(memory: Memory, settings: "Settings") -> list[dict[str, Any]]:
    """Current counts and the oldest entry of every kind of personal data, and the log files."""
    limits = {"retention_days": f"{settings.retention_days} days",
              "preference_retention_days idle": f"{settings.preference_retention_days} days without a visit"}
    rows = []
    with memory.lock:
        for what, table, column, where, kept in HELD:
            n, oldest = memory.db.execute(f"SELECT count(*), min({column}) FROM {table} WHERE {where}").fetchone()
            rows.append({"what": what, "where": f"memory.db:{table}", "rows": n, "oldest": oldest,
                         "kept": limits.get(kept, kept)})
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

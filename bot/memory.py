"""Per-user memory in SQLite (sqlite-utils) or PostgreSQL (schema `memory`), with migrations: conversation state,
preferences, interactions, events and last visits. Survives restarts; a user can see, export and erase all of it,
and what outlives its retention period is purged here (bot/privacy.py decides when)."""

from __future__ import annotations

import json
import logging
import threading
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import sqlite_utils

from bot.claims import Claims, migrate_claims
from bot.handoff_store import migrate_handoff_parts, migrate_handoffs
from shopguide.migrations import migrate, open_database, scrub_database, transaction
from shopguide.storage import is_database_url

log = logging.getLogger(__name__)

# Tables holding a user's data, each keyed by `user_key`; forget/export cover exactly these.
USER_TABLES = ("conversations", "preferences", "interactions", "events", "last_seen")
Clock = Callable[[], datetime]


def _m1_memory(db: sqlite_utils.Database) -> None:
    db.execute("""CREATE TABLE conversations (
        user_key TEXT PRIMARY KEY, state TEXT NOT NULL, updated_at TEXT NOT NULL)""")
    db.execute("""CREATE TABLE preferences (
        user_key TEXT NOT NULL, key TEXT NOT NULL, value TEXT NOT NULL, source TEXT,
        created_at TEXT NOT NULL, PRIMARY KEY (user_key, key))""")
    db.execute("""CREATE TABLE interactions (
        id INTEGER PRIMARY KEY AUTOINCREMENT, user_key TEXT NOT NULL, kind TEXT NOT NULL,
        product_id TEXT, query TEXT, created_at TEXT NOT NULL)""")
    db.execute("CREATE INDEX interactions_user ON interactions(user_key, created_at)")
    db.execute("CREATE INDEX interactions_product ON interactions(product_id)")
    db.execute("""CREATE TABLE events (
        id INTEGER PRIMARY KEY AUTOINCREMENT, user_key TEXT NOT NULL, platform TEXT, intent TEXT,
        text TEXT, results INTEGER, answered INTEGER, created_at TEXT NOT NULL)""")
    db.execute("CREATE INDEX events_time ON events(created_at)")
    db.execute("CREATE INDEX events_user ON events(user_key)")


def _m2_delivery(db: sqlite_utils.Database) -> None:
    db.execute("CREATE TABLE seen_updates (key TEXT PRIMARY KEY, created_at TEXT NOT NULL)")
    db.execute("""CREATE TABLE audit (
        id INTEGER PRIMARY KEY AUTOINCREMENT, actor TEXT NOT NULL, action TEXT NOT NULL,
        subject TEXT, detail TEXT, created_at TEXT NOT NULL)""")


def _m4_retention(db: sqlite_utils.Database) -> None:
    """The day of each customer's last visit (which purging conversation text keeps), and per-day counts
    of purged events (for `/shop stats`, without any text); existing customers get their latest row's day."""
    db.execute("CREATE TABLE last_seen (user_key TEXT PRIMARY KEY, day TEXT NOT NULL)")
    db.execute("""INSERT INTO last_seen (user_key, day)
        SELECT user_key, substr(max(at), 1, 10) FROM (
            SELECT user_key, created_at AS at FROM events UNION ALL SELECT user_key, updated_at FROM conversations
            UNION ALL SELECT user_key, created_at FROM preferences UNION ALL SELECT user_key, created_at FROM interactions) AS seen
        GROUP BY user_key""")
    db.execute("""CREATE TABLE event_counts (
        day TEXT NOT NULL, platform TEXT NOT NULL, turns INTEGER NOT NULL, conversations INTEGER NOT NULL,
        zero_result INTEGER NOT NULL, unanswered INTEGER NOT NULL, PRIMARY KEY (day, platform))""")


MIGRATIONS = [_m1_memory, _m2_delivery, migrate_handoffs, _m4_retention, migrate_claims, migrate_handoff_parts]


def utc_now() -> datetime:
    """The current time in UTC (the default clock)."""
    return datetime.now(timezone.utc)


def iso(moment: datetime) -> str:
    """A moment as the ISO-8601 text stored in every `created_at` column."""
    return moment.astimezone(timezone.utc).isoformat(timespec="seconds")


def now_iso() -> str:
    """Current UTC time as ISO-8601."""
    return iso(utc_now())


@dataclass
class ConversationState:
    """What the assistant remembers of the running conversation with one user."""

    query: str = ""
    label: str = ""  # what replies quote for the search: its kind when the query is a long sentence
    filters: dict[str, Any] = field(default_factory=dict)
    sort: str = "relevance"
    results: list[str] = field(default_factory=list)  # ranked ids of the last search
    shown: list[str] = field(default_factory=list)  # ids in the last reply, in order (ordinals refer here)
    offset: int = 0
    focus: str | None = None  # the product last talked about
    pending: str | None = None  # e.g. "confirm_forget"
    lang: str | None = None  # the conversation's language ("en", "de", ...): kept when a message's cannot be told

    @classmethod
    def from_json(cls, text: str | None) -> "ConversationState":
        """Parse a stored state; unknown keys are ignored."""
        if not text:
            return cls()
        data = json.loads(text)
        return cls(**{k: v for k, v in data.items() if k in cls.__dataclass_fields__})

    def to_json(self) -> str:
        """Serialise for storage."""
        return json.dumps(asdict(self), ensure_ascii=False)


@dataclass(frozen=True)
class Preference:
    """An explicit preference and where it came from."""

    key: str
    value: Any
    source: str
    created_at: str


class Memory:
    """All per-user storage; safe to call from several threads."""

    def __init__(self, path: Path | str, clock: Clock = utc_now, *, schema: str = "memory") -> None:
        """`path`: the SQLite file, or a postgresql:// URL (then no file is written; tables in `schema`)."""
        self.path = None if is_database_url(path) else Path(path)
        self.db = open_database(path, schema=schema)
        self.db.execute("PRAGMA secure_delete = ON")  # deleted rows are overwritten, not left in free pages
        self.clock = clock  # tests pass one to write rows dated in the past
        self.lock = threading.RLock()
        migrate(self.db, MIGRATIONS)

    def now(self) -> str:
        """The clock's time as stored text."""
        return iso(self.clock())

    # ----- conversation state ------------------------------------------------------------
    def load_state(self, user_key: str) -> ConversationState:
        """The user's conversation state (empty for a new user)."""
        with self.lock:
            row = self.db.execute("SELECT state FROM conversations WHERE user_key = ?", [user_key]).fetchone()
        return ConversationState.from_json(row[0] if row else None)

    def save_state(self, user_key: str, state: ConversationState) -> None:
        """Persist the user's conversation state."""
        with self.lock:
            self.db.execute(
                "INSERT OR REPLACE INTO conversations (user_key, state, updated_at) VALUES (?, ?, ?)",
                [user_key, state.to_json(), self.now()],
            )

    # ----- preferences ------------------------------------------------------------------
    def set_preference(self, user_key: str, key: str, value: Any, source: str) -> None:
        """Store or replace one explicit preference."""
        with self.lock:
            self.db.execute(
                "INSERT OR REPLACE INTO preferences (user_key, key, value, source, created_at) VALUES (?, ?, ?, ?, ?)",
                [user_key, key, json.dumps(value), source[:300], self.now()],
            )

    def remove_preference(self, user_key: str, key: str) -> bool:
        """Drop one preference; True if it existed."""
        with self.lock:
            cur = self.db.execute("DELETE FROM preferences WHERE user_key = ? AND key = ?", [user_key, key])
        return cur.rowcount > 0

    def preferences(self, user_key: str) -> dict[str, Preference]:
        """All explicit preferences of the user."""
        with self.lock:
            rows = self.db.execute(
                "SELECT key, value, source, created_at FROM preferences WHERE user_key = ? ORDER BY key", [user_key]
            ).fetchall()
        return {r[0]: Preference(r[0], json.loads(r[1]), r[2] or "", r[3]) for r in rows}

    # ----- interactions and events --------------------------------------------------------
    def record(self, user_key: str, kind: str, product_id: str | None = None, query: str | None = None) -> None:
        """Note that the user viewed, clicked, liked or asked about something."""
        with self.lock:
            self.db.execute(
                "INSERT INTO interactions (user_key, kind, product_id, query, created_at) VALUES (?, ?, ?, ?, ?)",
                [user_key, kind, product_id, (query or "")[:500] or None, self.now()],
            )

    def record_many(self, user_key: str, kind: str, product_ids: Iterable[str], query: str | None = None) -> None:
        """Note several interactions of one kind in one transaction."""
        now = self.now()
        with self.lock, transaction(self.db):
            for pid in product_ids:
                self.db.execute(
                    "INSERT INTO interactions (user_key, kind, product_id, query, created_at) VALUES (?, ?, ?, ?, ?)",
                    [user_key, kind, pid, (query or "")[:500] or None, now],
                )

    def interactions(self, user_key: str, limit: int = 200) -> list[dict[str, Any]]:
        """The user's latest interactions, newest first."""
        with self.lock:
            return list(self.db.query(
                "SELECT kind, product_id, query, created_at FROM interactions WHERE user_key = ? "
                "ORDER BY id DESC LIMIT ?", [user_key, limit]))

    def co_interacted(self, product_ids: Iterable[str], exclude_user: str, kinds: tuple[str, ...] = ("liked", "clicked")) -> Counter:
        """Products that other users who engaged with `product_ids` also engaged with, counted by user."""
        ids = list(dict.fromkeys(product_ids))
        if not ids:
            return Counter()
        marks = ",".join("?" * len(ids))
        kmarks = ",".join("?" * len(kinds))
        with self.lock:
            rows = self.db.execute(
                f"""SELECT b.product_id, COUNT(DISTINCT b.user_key) FROM interactions a
                    JOIN interactions b ON a.user_key = b.user_key AND b.product_id != a.product_id
                    WHERE a.product_id IN ({marks}) AND a.kind IN ({kmarks}) AND b.kind IN ({kmarks})
                    AND a.user_key != ? AND b.product_id IS NOT NULL
                    GROUP BY b.product_id""",
                [*ids, *kinds, *kinds, exclude_user],
            ).fetchall()
        return Counter({r[0]: r[1] for r in rows if r[0] not in ids})

    def log_event(self, user_key: str, platform: str, intent: str, text: str, results: int | None, answered: bool) -> None:
        """Record one handled turn, for staff statistics, and the day of the customer's visit."""
        now = self.now()
        with self.lock, transaction(self.db):
            self.db.execute(
                "INSERT INTO events (user_key, platform, intent, text, results, answered, created_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                [user_key, platform, intent, text[:300], results, int(answered), now],
            )
            self.db.execute("INSERT OR REPLACE INTO last_seen (user_key, day) VALUES (?, ?)", [user_key, now[:10]])

    def recent_events(self, user_key: str, limit: int = 6) -> list[dict[str, Any]]:
        """The user's latest handled turns (intent, text, answered), oldest first."""
        with self.lock:
            rows = list(self.db.query("SELECT intent, text, answered, created_at FROM events WHERE user_key = ? "
                                      "ORDER BY id DESC LIMIT ?", [user_key, limit]))
        return rows[::-1]

    def events_since(self, days: int) -> list[dict[str, Any]]:
        """All events of the last `days` days."""
        since = iso(self.clock() - timedelta(days=days))
        with self.lock:
            return list(self.db.query("SELECT * FROM events WHERE created_at >= ? ORDER BY id", [since]))

    # ----- the user's rights -------------------------------------------------------------
    def export(self, user_key: str) -> dict[str, Any]:
        """Every stored row about the user, table by table."""
        out: dict[str, Any] = {"user": user_key, "exported_at": self.now()}
        with self.lock:
            for table in USER_TABLES:
                rows = list(self.db.query(f"SELECT * FROM {table} WHERE user_key = ?", [user_key]))
                for row in rows:
                    for key in ("state", "value"):
                        if isinstance(row.get(key), str):
                            try:
                                row[key] = json.loads(row[key])
                            except json.JSONDecodeError:
                                pass
                out[table] = rows
            out["handoffs"] = self._handoffs(user_key)
        return out

    def _handoffs(self, user_key: str) -> list[dict[str, Any]]:
        """The user's conversations with staff (handoffs) and their transcripts, for the export."""
        handoffs = list(self.db.query(
            "SELECT id, platform, lang, origin, reason, mode, status, created_at, first_reply_at, closed_at, "
            "close_reason FROM handoffs WHERE user_key = ? ORDER BY id", [user_key]))
        for handoff in handoffs:
            handoff["transcript"] = list(self.db.query(
                "SELECT role, kind, text, created_at FROM handoff_messages WHERE handoff_id = ? "
                "AND kind NOT IN ('delete', 'said') ORDER BY id", [handoff["id"]]))
        return handoffs

    def forget(self, user_key: str) -> int:
        """Delete every row of the user in every table, leaving no copy in the WAL; returns how many rows went."""
        deleted = 0
        with self.lock:
            with transaction(self.db):
                for table in USER_TABLES:
                    deleted += self.db.execute(f"DELETE FROM {table} WHERE user_key = ?", [user_key]).rowcount
            self.scrub()
        log.info("forgot a user: %d rows deleted", deleted)
        return deleted

    # ----- retention ------------------------------------------------------------------------
    def purge_text(self, before: str) -> dict[str, int]:
        """Delete conversation text older than `before` (ISO): events (counted per day and platform first,
        without text), conversation states, and the query text kept with interactions."""
        with self.lock, transaction(self.db):
            self.db.execute("""INSERT INTO event_counts (day, platform, turns, conversations, zero_result, unanswered)
                SELECT substr(created_at, 1, 10), coalesce(platform, ''), count(*), count(DISTINCT user_key),
                       sum(CASE WHEN results = 0 THEN 1 ELSE 0 END), sum(CASE WHEN answered = 0 THEN 1 ELSE 0 END)
                FROM events WHERE created_at < ? GROUP BY 1, 2 ORDER BY 1, 2 LIMIT -1
                ON CONFLICT (day, platform) DO UPDATE SET turns = event_counts.turns + excluded.turns,
                    conversations = event_counts.conversations + excluded.conversations,
                    zero_result = event_counts.zero_result + excluded.zero_result,
                    unanswered = event_counts.unanswered + excluded.unanswered""",
                            [before])
            removed = {
                "events": self.db.execute("DELETE FROM events WHERE created_at < ?", [before]).rowcount,
                "conversation states": self.db.execute(
                    "DELETE FROM conversations WHERE updated_at < ?", [before]).rowcount,
                # a search or question with no product is nothing but its text: the row goes
                "interaction texts": self.db.execute(
                    "DELETE FROM interactions WHERE created_at < ? AND query IS NOT NULL AND product_id IS NULL",
                    [before]).rowcount,
            }
            removed["interaction texts"] += self.db.execute(
                "UPDATE interactions SET query = NULL WHERE created_at < ? AND query IS NOT NULL", [before]).rowcount
        return removed

    def purge_idle(self, before_day: str) -> dict[str, int]:
        """Delete the preferences and product history of customers not seen since before `before_day`
        (YYYY-MM-DD), with their last-seen day; a customer without one is dated by their rows."""
        idle = """user_key IN (SELECT user_key FROM last_seen WHERE day < :day)
                  OR (user_key NOT IN (SELECT user_key FROM last_seen) AND substr({col}, 1, 10) < :day)"""
        with self.lock, transaction(self.db):
            removed = {
                "preferences": self.db.execute(
                    "DELETE FROM preferences WHERE " + idle.format(col="created_at"), {"day": before_day}).rowcount,
                "interactions": self.db.execute(
                    "DELETE FROM interactions WHERE " + idle.format(col="created_at"), {"day": before_day}).rowcount,
            }
            # the last visit outlives the text it dated, and goes with the profile it kept alive
            self.db.execute("""DELETE FROM last_seen WHERE day < ? AND user_key NOT IN (
                SELECT user_key FROM preferences UNION SELECT user_key FROM interactions
                UNION SELECT user_key FROM conversations UNION SELECT user_key FROM events)""", [before_day])
        return removed

    def purged_counts(self, days: int) -> dict[str, int]:
        """Counts kept for purged events of the last `days` days (no text), in `/shop stats` terms."""
        since = iso(self.clock() - timedelta(days=days))[:10]
        with self.lock:
            row = self.db.execute("SELECT coalesce(sum(turns), 0), coalesce(sum(conversations), 0), "
                                  "coalesce(sum(zero_result), 0), coalesce(sum(unanswered), 0) "
                                  "FROM event_counts WHERE day >= ?", [since]).fetchone()
        return dict(zip(("turns", "conversations", "zero_result_count", "unanswered_count"), row))

    def scrub(self) -> None:
        """Leave no copy of deleted rows: FTS5 indexes rebuilt and merged, the WAL checkpointed and truncated."""
        with self.lock:
            scrub_database(self.db)

    def count_rows(self, user_key: str) -> int:
        """Rows stored about the user, over all user tables."""
        with self.lock:
            return sum(
                self.db.execute(f"SELECT count(*) FROM {t} WHERE user_key = ?", [user_key]).fetchone()[0]
                for t in USER_TABLES
            )

    # ----- delivery bookkeeping for adapters ----------------------------------------------
    def first_sighting(self, key: str) -> bool:
        """True the first time `key` (e.g. a platform update id) is seen, False after."""
        return Claims.on(self, clock=lambda: self.clock().timestamp()).seen_once(key)

    def audit(self, actor: str, action: str, subject: str, detail: str = "") -> None:
        """Append an audit entry (who did what to which record, and when)."""
        with self.lock:
            self.db.execute(
                "INSERT INTO audit (actor, action, subject, detail, created_at) VALUES (?, ?, ?, ?, ?)",
                [actor, action, subject, detail, self.now()],
            )

    def audit_log(self, subject: str | None = None) -> list[dict[str, Any]]:
        """Audit entries, optionally about one subject."""
        with self.lock:
            if subject:
                return list(self.db.query("SELECT * FROM audit WHERE subject = ? ORDER BY id", [subject]))
            return list(self.db.query("SELECT * FROM audit ORDER BY id"))

    def close(self) -> None:
        """Close the database connection."""
        with self.lock:
            self.db.conn.close()

"""Handoffs to staff in the memory database (SQLite or PostgreSQL): who holds a conversation, its transcript, and
an outbox that separate processes share through claims, so a relayed message is delivered once, in order, even by
another process."""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

import sqlite_utils

from shopguide.migrations import transaction

log = logging.getLogger(__name__)

MODES = ("person", "assist", "bot")  # who answers the customer: staff, staff approving drafts, the assistant
LEASE_S = 60.0  # a claim not finished within this is taken over by another worker (a crashed process)
MAX_ATTEMPTS = 5


def migrate_handoffs(db: sqlite_utils.Database) -> None:
    """Schema step of the memory database (see `bot.memory.MIGRATIONS`)."""
    db.execute("""CREATE TABLE handoffs (
        id INTEGER PRIMARY KEY AUTOINCREMENT, user_key TEXT, platform TEXT NOT NULL, chat_id TEXT,
        user_name TEXT, lang TEXT, origin TEXT NOT NULL, reason TEXT, context TEXT, desk TEXT,
        mode TEXT NOT NULL, status TEXT NOT NULL, channel TEXT, thread_ts TEXT, told INTEGER NOT NULL DEFAULT 0,
        taken_by TEXT, created_at TEXT NOT NULL, first_reply_at TEXT, last_staff_at TEXT,
        closed_at TEXT, closed_by TEXT, close_reason TEXT)""")
    db.execute("CREATE UNIQUE INDEX handoffs_one_open ON handoffs(user_key) WHERE status = 'open'")
    db.execute("CREATE INDEX handoffs_thread ON handoffs(channel, thread_ts)")
    db.execute("""CREATE TABLE handoff_messages (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        handoff_id INTEGER NOT NULL REFERENCES handoffs(id) ON DELETE CASCADE,
        role TEXT NOT NULL, kind TEXT NOT NULL, author TEXT, text TEXT, target TEXT, dedup TEXT UNIQUE,
        claimed_by TEXT, claimed_until REAL, sent_at TEXT, attempts INTEGER NOT NULL DEFAULT 0, remote_id TEXT,
        error TEXT, created_at TEXT NOT NULL)""")
    db.execute("CREATE INDEX handoff_messages_pending ON handoff_messages(target, sent_at, handoff_id, id)")


def migrate_handoff_parts(db: sqlite_utils.Database) -> None:
    """How many parts of a split message reached the platform, so a retry resumes at the failed part."""
    db.execute("ALTER TABLE handoff_messages ADD COLUMN parts_done INTEGER NOT NULL DEFAULT 0")


def customer_target(platform: str) -> str:
    """The outbox target of messages for a customer on `platform`."""
    return f"to:{platform}"


def desk_target(desk: str | None) -> str | None:
    """The outbox target of messages for staff at `desk` ("slack", "console")."""
    return f"desk:{desk}" if desk else None


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


@dataclass(frozen=True)
class Handoff:
    """One conversation handed to staff."""

    id: int
    user_key: str | None
    platform: str
    chat_id: str | None
    user_name: str | None
    lang: str | None
    origin: str  # "asked", "offer" or "unanswered"
    reason: str | None  # the customer's words
    context: dict[str, Any]  # {"turns": [...], "products": [...]} as they were at the handoff
    desk: str | None  # where staff see it: "slack", "console"
    mode: str
    status: str  # "open", "closed", "erased"
    channel: str | None
    thread_ts: str | None
    told: bool
    taken_by: str | None
    created_at: str
    first_reply_at: str | None
    last_staff_at: str | None
    closed_at: str | None
    close_reason: str | None
    closed_by: str | None = None

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> "Handoff":
        data = {k: row.get(k) for k in cls.__dataclass_fields__}
        data["context"] = json.loads(row["context"]) if row.get("context") else {}
        data["told"] = bool(row.get("told"))
        return cls(**data)


@dataclass(frozen=True)
class Delivery:
    """An outbox message claimed for delivery, with what the deliverer needs of its handoff."""

    id: int
    handoff: Handoff
    role: str  # "customer", "staff", "assistant", "system"
    kind: str  # "open", "text", "draft", "mode", "closed", "faq", "delete" ("said": a staff reply as typed, not sent)
    author: str | None
    text: str
    attempts: int
    parts_done: int = 0  # parts of a split message already delivered by an earlier attempt


class HandoffStore:
    """Handoff records and their outbox, on the memory database (one connection per process)."""

    def __init__(self, db: sqlite_utils.Database, lock: threading.RLock | None = None) -> None:
        self.db = db
        self.lock = lock or threading.RLock()
        self.listeners: list[Callable[[str], None]] = []  # called with a target when something waits for it

    # ----- reading -------------------------------------------------------------------------------
    def _one(self, sql: str, params: list[Any]) -> Handoff | None:
        with self.lock:
            rows = list(self.db.query(sql, params))
        return Handoff.from_row(rows[0]) if rows else None

    def get(self, handoff_id: int) -> Handoff | None:
        """A handoff by id."""
        return self._one("SELECT * FROM handoffs WHERE id = ?", [handoff_id])

    def active(self, user_key: str) -> Handoff | None:
        """The user's open handoff, if any."""
        return self._one("SELECT * FROM handoffs WHERE user_key = ? AND status = 'open'", [user_key])

    def by_thread(self, channel: str, thread_ts: str) -> Handoff | None:
        """The handoff whose staff thread this is (open, closed or erased)."""
        return self._one("SELECT * FROM handoffs WHERE channel = ? AND thread_ts = ? ORDER BY id DESC LIMIT 1",
                         [channel, thread_ts])

    def list_open(self) -> list[Handoff]:
        """Open handoffs, oldest first."""
        with self.lock:
            rows = list(self.db.query("SELECT * FROM handoffs WHERE status = 'open' ORDER BY id"))
        return [Handoff.from_row(r) for r in rows]

    def transcript(self, handoff_id: int) -> list[dict[str, Any]]:
        """Every message of a handoff in order (role, kind, author, text, created_at); staff words as they were
        relayed ("Anna from the shop: …"), not also as typed."""
        with self.lock:
            return list(self.db.query("SELECT role, kind, author, text, created_at FROM handoff_messages "
                                      "WHERE handoff_id = ? AND kind NOT IN ('delete', 'said') ORDER BY id", [handoff_id]))

    # ----- writing -------------------------------------------------------------------------------
    def open(self, *, user_key: str, platform: str, chat_id: str, user_name: str | None, lang: str | None,
             origin: str, reason: str, context: dict[str, Any], desk: str | None, mode: str) -> tuple[Handoff, bool]:
        """Open a handoff (or return the user's open one); True when it is new. Staff are told through the outbox."""
        assert mode in MODES
        with self.lock, transaction(self.db):
            existing = self.db.execute("SELECT id FROM handoffs WHERE user_key = ? AND status = 'open'",
                                       [user_key]).fetchone()
            if existing:
                new, handoff_id = False, existing[0]
            else:
                cur = self.db.execute(
                    "INSERT INTO handoffs (user_key, platform, chat_id, user_name, lang, origin, reason, context, desk, "
                    "mode, status, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'open', ?)",
                    [user_key, platform, chat_id, user_name, lang, origin, reason[:2000],
                     json.dumps(context, ensure_ascii=False), desk, mode, _now()])
                new, handoff_id = True, cur.lastrowid
                self._add(handoff_id, "system", "open", None, reason[:2000], desk_target(desk))
        if new and desk:
            self._wake(desk_target(desk))  # type: ignore[arg-type]
        return self.get(handoff_id), new  # type: ignore[return-value]

    def _add(self, handoff_id: int, role: str, kind: str, author: str | None, text: str, target: str | None,
             dedup: str | None = None) -> int | None:
        cur = self.db.execute(
            "INSERT OR IGNORE INTO handoff_messages (handoff_id, role, kind, author, text, target, dedup, created_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?)", [handoff_id, role, kind, author, text, target, dedup, _now()])
        return cur.lastrowid if cur.rowcount == 1 else None

    def add(self, handoff_id: int, role: str, text: str, *, kind: str = "text", author: str | None = None,
            target: str | None = None, dedup: str | None = None) -> int | None:
        """Append to the transcript, queued for `target` when given; None when `dedup` was seen before."""
        with self.lock:
            added = self._add(handoff_id, role, kind, author, text, target, dedup)
        if added and target:
            self._wake(target)
        return added

    def staff_reply(self, handoff: Handoff, staff_id: str, text: str, dedup: str | None, remote_id: str | None = None,
                    said: str | None = None) -> bool:
        """A staff member's words for the customer, queued for the customer's platform; False for a repeat.
        `said`, the words as typed (without "Anna from the shop:"), is kept unsent for Save as FAQ."""
        now = _now()
        with self.lock, transaction(self.db):
            added = self._add(handoff.id, "staff", "text", staff_id, text, customer_target(handoff.platform), dedup)
            if added is None:
                return False
            if remote_id:
                self.db.execute("UPDATE handoff_messages SET remote_id = ? WHERE id = ?", [remote_id, added])
            if said and said.strip():
                self._add(handoff.id, "staff", "said", staff_id, said.strip(), None)
            self.db.execute("UPDATE handoffs SET first_reply_at = coalesce(first_reply_at, ?), last_staff_at = ?, "
                            "taken_by = coalesce(taken_by, ?) WHERE id = ?", [now, now, staff_id, handoff.id])
        self._wake(customer_target(handoff.platform))
        return True

    def draft(self, draft_id: int) -> tuple[Handoff, str] | None:
        """A draft still waiting for a staff decision, with its handoff; None once sent or discarded."""
        with self.lock:
            row = self.db.execute("SELECT handoff_id, text FROM handoff_messages WHERE id = ? AND kind = 'draft'",
                                  [draft_id]).fetchone()
        handoff = self.get(row[0]) if row else None
        return (handoff, row[1] or "") if handoff is not None else None

    def decide_draft(self, draft_id: int, by: str, send: bool) -> tuple[Handoff, str] | None:
        """Mark a draft sent or discarded, once (a second press, here or in another process, gets None); a sent
        draft counts as the staff member's reply (first response, taken by)."""
        now = _now()
        with self.lock, transaction(self.db):
            cur = self.db.execute("UPDATE handoff_messages SET kind = ?, author = ? WHERE id = ? AND kind = 'draft'",
                                  ["draft_sent" if send else "draft_discarded", by, draft_id])
            if cur.rowcount != 1:
                return None
            handoff_id, text = self.db.execute("SELECT handoff_id, text FROM handoff_messages WHERE id = ?",
                                               [draft_id]).fetchone()
            if send:
                self.db.execute("UPDATE handoffs SET first_reply_at = coalesce(first_reply_at, ?), last_staff_at = ?, "
                                "taken_by = coalesce(taken_by, ?) WHERE id = ?", [now, now, by, handoff_id])
        return self.get(handoff_id), text or ""  # type: ignore[return-value]

    def staff_said(self, handoff_id: int) -> list[str]:
        """What staff wrote to the customer in a handoff, as typed, oldest first (for Save as FAQ)."""
        with self.lock:
            return [r[0] for r in self.db.execute("SELECT text FROM handoff_messages WHERE handoff_id = ? AND "
                                                  "kind = 'said' ORDER BY id", [handoff_id]).fetchall()]

    def set_mode(self, handoff: Handoff, mode: str, by: str) -> Handoff:
        """Switch who answers; the switch is a transcript event (told to the staff desk)."""
        assert mode in MODES
        with self.lock, transaction(self.db):
            self.db.execute("UPDATE handoffs SET told = CASE WHEN mode = ? THEN told ELSE 0 END, mode = ?, "
                            "taken_by = coalesce(taken_by, ?) WHERE id = ?", [mode, mode, by, handoff.id])
            self._add(handoff.id, "system", "mode", by, mode, desk_target(handoff.desk))
        if handoff.desk:
            self._wake(desk_target(handoff.desk))  # type: ignore[arg-type]
        return self.get(handoff.id)  # type: ignore[return-value]

    def take(self, handoff: Handoff, by: str) -> Handoff:
        """A staff member takes the conversation: a person answers from now on."""
        now = _now()
        with self.lock:
            self.db.execute("UPDATE handoffs SET taken_by = ?, last_staff_at = ? WHERE id = ?", [by, now, handoff.id])
        return self.set_mode(handoff, "person", by)

    def mark_told(self, handoff: Handoff) -> bool:
        """Note that the customer was told a person is with them; True only the first time."""
        with self.lock:
            return self.db.execute("UPDATE handoffs SET told = 1 WHERE id = ? AND told = 0", [handoff.id]).rowcount == 1

    def close(self, handoff: Handoff, by: str, reason: str, customer_text: str | None) -> bool:
        """Hand back to the assistant; `customer_text` is queued for the customer. False when it was not open."""
        with self.lock, transaction(self.db):
            cur = self.db.execute("UPDATE handoffs SET status = 'closed', closed_at = ?, closed_by = ?, close_reason = ? "
                                  "WHERE id = ? AND status = 'open'", [_now(), by, reason, handoff.id])
            if cur.rowcount != 1:
                return False
            self._add(handoff.id, "system", "closed", by, reason, desk_target(handoff.desk))
            if customer_text:
                self._add(handoff.id, "assistant", "text", None, customer_text, customer_target(handoff.platform))
        for target in {desk_target(handoff.desk), customer_target(handoff.platform) if customer_text else None} - {None}:
            self._wake(target)  # type: ignore[arg-type]
        return True

    def set_thread(self, handoff_id: int, channel: str, thread_ts: str) -> None:
        """Where the staff thread of a handoff is."""
        with self.lock:
            self.db.execute("UPDATE handoffs SET channel = ?, thread_ts = ? WHERE id = ?", [channel, thread_ts, handoff_id])

    def expired(self, timeout_h: float, now: datetime | None = None) -> list[Handoff]:
        """Open handoffs with no staff word for `timeout_h` hours (from the handoff, or the last staff message)."""
        cutoff = ((now or datetime.now(timezone.utc)) - timedelta(hours=timeout_h)).isoformat(timespec="seconds")
        with self.lock:
            rows = list(self.db.query("SELECT * FROM handoffs WHERE status = 'open' "
                                      "AND coalesce(last_staff_at, created_at) < ?", [cutoff]))
        return [Handoff.from_row(r) for r in rows]

    # ----- the outbox: claims shared by processes -------------------------------------------------
    def claim(self, target: str, worker: str, lease_s: float = LEASE_S, chat_id: str | None = None) -> Delivery | None:
        """Claim the next message for `target`: the oldest unsent one whose handoff has no earlier unsent one
        (so each conversation is delivered in order), not held by a live claim; only `chat_id`'s when given
        (a console session delivers its own user's messages)."""
        now = time.time()
        chat = " AND o.handoff_id IN (SELECT id FROM handoffs WHERE chat_id = ?)" if chat_id is not None else ""
        with self.lock, transaction(self.db):
            row = self.db.execute(
                f"""SELECT o.id FROM handoff_messages o WHERE o.target = ? AND o.sent_at IS NULL
                   AND (o.claimed_until IS NULL OR o.claimed_until < ?){chat}
                   AND NOT EXISTS (SELECT 1 FROM handoff_messages p WHERE p.handoff_id = o.handoff_id
                                   AND p.target = o.target AND p.sent_at IS NULL AND p.id < o.id)
                   ORDER BY o.id LIMIT 1""", [target, now, *([chat_id] if chat_id is not None else [])]).fetchone()
            if row is None:
                return None
            self.db.execute("UPDATE handoff_messages SET claimed_by = ?, claimed_until = ?, attempts = attempts + 1 "
                            "WHERE id = ?", [worker, now + lease_s, row[0]])
            msg = dict(zip(("handoff_id", "role", "kind", "author", "text", "attempts", "parts_done"), self.db.execute(
                "SELECT handoff_id, role, kind, author, text, attempts, parts_done FROM handoff_messages WHERE id = ?",
                [row[0]]).fetchone()))
        handoff = self.get(msg["handoff_id"])
        assert handoff is not None
        return Delivery(row[0], handoff, msg["role"], msg["kind"], msg["author"], msg["text"] or "", msg["attempts"],
                        msg["parts_done"])

    def part_done(self, delivery: Delivery, parts: int) -> None:
        """Note that the first `parts` parts of a split message were delivered (a retry skips them)."""
        with self.lock:
            self.db.execute("UPDATE handoff_messages SET parts_done = ? WHERE id = ?", [parts, delivery.id])

    def done(self, delivery: Delivery, worker: str, remote_id: str | None = None) -> bool:
        """Mark a claimed message delivered; False when the claim was lost to another worker meanwhile."""
        with self.lock:
            cur = self.db.execute("UPDATE handoff_messages SET sent_at = ?, remote_id = ?, claimed_until = NULL "
                                  "WHERE id = ? AND claimed_by = ? AND sent_at IS NULL",
                                  [_now(), remote_id, delivery.id, worker])
        return cur.rowcount == 1

    def failed(self, delivery: Delivery, error: str, *, retry: bool, delay_s: float = 2.0) -> None:
        """A delivery failed: try again after `delay_s` (up to MAX_ATTEMPTS), else give it up (logged)."""
        give_up = not retry or delivery.attempts >= MAX_ATTEMPTS
        with self.lock:
            if give_up:
                self.db.execute("UPDATE handoff_messages SET sent_at = ?, error = ?, claimed_until = NULL WHERE id = ?",
                                [_now(), error[:300], delivery.id])
            else:
                self.db.execute("UPDATE handoff_messages SET error = ?, claimed_until = ? WHERE id = ?",
                                [error[:300], time.time() + delay_s, delivery.id])
        if give_up:
            log.warning("gave up delivering handoff message %d: %s", delivery.id, error[:120])

    def pending(self, target: str) -> int:
        """Messages waiting for `target`."""
        with self.lock:
            return self.db.execute("SELECT count(*) FROM handoff_messages WHERE target = ? AND sent_at IS NULL",
                                   [target]).fetchone()[0]

    def _wake(self, target: str) -> None:
        for listener in list(self.listeners):
            try:
                listener(target)
            except Exception:
                log.debug("a handoff listener failed", exc_info=True)

    # ----- statistics and data rights ----------------------------------------------------------------
    def stats(self, days: int) -> dict[str, Any]:
        """Handoffs of the last `days` days: opened, taken, closed by staff, timed out, answered, the median
        minutes to the first staff reply, and the staff answers saved as FAQ entries."""
        since = (datetime.now(timezone.utc) - timedelta(days=days)).isoformat(timespec="seconds")
        with self.lock:
            rows = self.db.execute("SELECT created_at, first_reply_at, taken_by, status, close_reason FROM handoffs "
                                   "WHERE created_at >= ? AND status != 'erased'", [since]).fetchall()
            saved = self.db.execute("SELECT count(*) FROM handoff_messages WHERE kind = 'faq' AND created_at >= ?",
                                    [since]).fetchone()[0]
        waits = sorted((datetime.fromisoformat(b) - datetime.fromisoformat(a)).total_seconds() / 60
                       for a, b, *_ in rows if b)
        return {"handoffs": len(rows), "taken": sum(1 for r in rows if r[2]), "answered": len(waits),
                "closed": sum(1 for r in rows if r[3] == "closed" and r[4] != "timeout"),
                "timed_out": sum(1 for r in rows if r[4] == "timeout"), "saved_faqs": saved,
                "median_response_min": round(waits[len(waits) // 2], 1) if waits else None}

    def forget_handoffs(self, user_key: str) -> int:
        """Erase a user's handoff transcripts; each thread is kept as an anonymous tombstone (so a late staff
        reply is told the conversation was deleted) and its posted Slack messages are queued for `chat.delete`.
        Returns how many transcript rows went."""
        with self.lock, transaction(self.db):
            rows = self.db.execute("SELECT id, desk, channel FROM handoffs WHERE user_key = ?", [user_key]).fetchall()
            deleted = 0
            for handoff_id, desk, channel in rows:
                posted = [r[0] for r in self.db.execute(
                    "SELECT remote_id FROM handoff_messages WHERE handoff_id = ? AND remote_id IS NOT NULL "
                    "AND (target = 'desk:slack' OR role = 'staff')", [handoff_id]).fetchall()]
                deleted += self.db.execute("DELETE FROM handoff_messages WHERE handoff_id = ?", [handoff_id]).rowcount
                self.db.execute("UPDATE handoffs SET user_key = NULL, chat_id = NULL, user_name = NULL, reason = NULL, "
                                "context = NULL, status = 'erased', closed_at = coalesce(closed_at, ?), "
                                "close_reason = 'erased' WHERE id = ?", [_now(), handoff_id])
                if desk == "slack" and channel and posted:
                    self._add(handoff_id, "system", "delete", None, json.dumps({"channel": channel, "ts": posted}),
                              "desk:slack")
        if rows:
            self._wake("desk:slack")
        return deleted + len(rows)

    def purge_handoffs(self, older_than: datetime) -> int:
        """Delete handoffs closed or erased before `older_than` with everything they hold; returns how many."""
        cutoff = older_than.astimezone(timezone.utc).isoformat(timespec="seconds")
        with self.lock, transaction(self.db):
            ids = [r[0] for r in self.db.execute("SELECT id FROM handoffs WHERE status != 'open' AND closed_at < ?",
                                                 [cutoff]).fetchall()]
            for handoff_id in ids:
                self.db.execute("DELETE FROM handoff_messages WHERE handoff_id = ?", [handoff_id])
                self.db.execute("DELETE FROM handoffs WHERE id = ?", [handoff_id])
        return len(ids)

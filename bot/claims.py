"""Delivery claims and per-user leases in the memory database: each platform update is handled exactly once
across worker processes (claim with a lease before the turn, complete after the reply is sent, take over an
expired lease), and one user's turns run one at a time, in the order the platform numbered them."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import os
import socket
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Literal

import sqlite_utils

from shopguide.migrations import dialect, transaction

log = logging.getLogger(__name__)

KEEP_DONE_S = 48 * 3600  # completed claims are kept this long (Telegram may reuse update ids after a week idle)
Outcome = Literal["claimed", "done", "busy"]


def migrate_claims(db: sqlite_utils.Database) -> None:
    """`delivery_claims` replaces `seen_updates` (its ids become completed claims) and `user_leases` orders
    one user's turns across processes. Times are epoch seconds (REAL); `created_at` stays ISO text."""
    db.execute("""CREATE TABLE delivery_claims (
        key TEXT PRIMARY KEY, worker TEXT NOT NULL, lease_until REAL NOT NULL, done_at REAL,
        user_key TEXT, seq REAL, payload TEXT, attempts INTEGER NOT NULL DEFAULT 1, created_at TEXT NOT NULL)""")
    db.execute("CREATE INDEX delivery_claims_open ON delivery_claims(user_key, seq) WHERE done_at IS NULL")
    db.execute("CREATE INDEX delivery_claims_done ON delivery_claims(done_at)")
    if dialect(db) == "sqlite":  # a PostgreSQL schema starts at this version's tables: nothing to carry over
        db.execute("""INSERT INTO delivery_claims (key, worker, lease_until, done_at, created_at)
            SELECT key, '', 0, CAST(strftime('%s', created_at) AS REAL), created_at FROM seen_updates""")
    db.execute("DROP TABLE seen_updates")
    db.execute("""CREATE TABLE user_leases (
        user_key TEXT PRIMARY KEY, worker TEXT NOT NULL, token TEXT NOT NULL, lease_until REAL NOT NULL)""")


def worker_id() -> str:
    """This process's name in claims: host, pid and a random suffix (a restarted pid is another worker)."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


@dataclass(frozen=True)
class Abandoned:
    """A claim whose worker's lease ran out before it completed: its payload is handled again."""

    key: str
    payload: str
    attempts: int


class Claims:
    """Claim-then-complete bookkeeping on the memory database (its connection and lock); every method that reads
    before it writes is one short transaction holding the database's writer lock (SQLite's `BEGIN IMMEDIATE`,
    an advisory lock on PostgreSQL), so any number of processes may share the file or the server. The steps of
    every message (a new key claimed, a claim completed, a user's lease given back) are single statements and
    take no writer lock, so workers do not queue behind each other for them."""

    def __init__(self, db: sqlite_utils.Database, lock, *, worker: str | None = None, lease_s: float = 60.0,
                 clock: Callable[[], float] = time.time) -> None:
        self.db = db
        self.lock = lock
        self.worker = worker or worker_id()
        self.lease_s = lease_s
        self.clock = clock
        self.held: set[str] = set()  # keys this worker claimed and has not completed: renewed by keep_alive
        self._renewed = 0.0
        self._thread: ThreadPoolExecutor | None = None

    @classmethod
    def on(cls, memory, **kwargs) -> "Claims":
        """Claims on a `Memory`'s database."""
        return cls(memory.db, memory.lock, **kwargs)

    async def call(self, method: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """Run one of these methods on the claims' own thread: renewing this worker's leases never queues behind
        turns' work in the loop's default executor (a late renewal lets another worker take its updates over)."""
        if self._thread is None:
            self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="claims")
        return await asyncio.get_running_loop().run_in_executor(self._thread, functools.partial(method, *args, **kwargs))

    # ----- claim then complete -----------------------------------------------------------------
    def claim(self, key: str, *, user_key: str | None = None, seq: float | None = None,
              payload: str | None = None) -> Outcome:
        """Claim `key` for this worker: "claimed" (new, or an expired lease taken over), "done" (handled
        before: skip it) or "busy" (another live worker holds it: skip it; should that worker die, its lease
        runs out and `abandoned()` hands the payload to a live one)."""
        now = self.clock()
        insert = ("INSERT OR IGNORE INTO delivery_claims (key, worker, lease_until, user_key, seq, payload, created_at) "
                  "VALUES (?, ?, ?, ?, ?, ?, ?)")
        values = [key, self.worker, now + self.lease_s, user_key, seq, payload, _iso(now)]
        with self.lock:  # a new key, the common case: one statement, no writer lock (the key is the primary key)
            inserted = self.db.execute(insert, values).rowcount == 1
        if inserted:
            self.held.add(key)
            return "claimed"
        with self.lock, transaction(self.db):  # seen before: done, another worker's, or an expired lease to take over
            row = self.db.execute("SELECT worker, lease_until, done_at FROM delivery_claims WHERE key = ?",
                                  [key]).fetchone()
            if row is None:  # pruned in between
                self.db.execute(insert, values)
                self.held.add(key)
                return "claimed"
            holder, lease_until, done_at = row
            if done_at is not None:
                return "done"
            if key in self.held or (lease_until > now and holder != self.worker):
                return "busy"  # in a turn here already, or in another live worker's
            self.db.execute("UPDATE delivery_claims SET worker = ?, lease_until = ?, attempts = attempts + 1, "
                            "payload = coalesce(payload, ?) WHERE key = ?",
                            [self.worker, now + self.lease_s, payload, key])
        self.held.add(key)
        if holder != self.worker:
            log.warning("took over the expired claim %s from worker %s", key, holder)
        return "claimed"

    def complete(self, key: str) -> None:
        """The turn's replies were sent: the claim is done (its payload is dropped; the id is kept 48 h). One
        statement, so no writer lock: nothing is read first, and it commits as soon as the reply is out."""
        with self.lock:
            self.db.execute("UPDATE delivery_claims SET done_at = ?, payload = NULL WHERE key = ?", [self.clock(), key])
        self.held.discard(key)

    def release(self, key: str) -> None:
        """Stop renewing `key` without completing it (its lease runs out and another attempt follows)."""
        self.held.discard(key)

    def seen_once(self, key: str) -> bool:
        """Claim and complete at once: True the first time `key` is seen (for events with no turn to lose)."""
        if self.claim(key) != "claimed":
            return False
        self.complete(key)
        return True

    def renew(self) -> None:
        """Extend this worker's leases: every claim it holds (waiting or in its turn) and its users' leases."""
        now = self.clock()
        if self._renewed and now - self._renewed > self.lease_s / 2:
            log.warning("this worker renewed its leases %.1f s after the last time (lease %.0f s): it is overloaded, "
                        "and another worker may take over its updates", now - self._renewed, self.lease_s)
        self._renewed = now
        until = now + self.lease_s
        keys = list(self.held)
        with self.lock, transaction(self.db):
            for start in range(0, len(keys), 500):
                part = keys[start:start + 500]
                self.db.execute(f"UPDATE delivery_claims SET lease_until = ? WHERE worker = ? AND done_at IS NULL "
                                f"AND key IN ({','.join('?' * len(part))})", [until, self.worker, *part])
            self.db.execute("UPDATE user_leases SET lease_until = ? WHERE worker = ?", [until, self.worker])

    async def keep_alive(self) -> None:
        """Renew this worker's leases every fifth of the lease, until cancelled (a dead worker stops renewing)."""
        while True:
            await asyncio.sleep(self.lease_s / 5)
            try:
                await self.call(self.renew)
            except Exception:
                log.warning("could not renew this worker's leases", exc_info=True)

    def abandoned(self, prefix: str = "", limit: int = 50, max_attempts: int = 3) -> list[Abandoned]:
        """Claims (of keys starting with `prefix`: one platform's, as the database is shared by all) whose lease
        ran out before completion, with the payload to handle them again; one that failed `max_attempts` times
        is completed instead (logged), so a poison update cannot loop forever."""
        now = self.clock()
        with self.lock, transaction(self.db):
            rows = self.db.execute(
                "SELECT key, payload, attempts FROM delivery_claims WHERE done_at IS NULL AND lease_until <= ? "
                "AND payload IS NOT NULL AND substr(key, 1, ?) = ? ORDER BY seq LIMIT ?",
                [now, len(prefix), prefix, limit]).fetchall()
            poison = [r[0] for r in rows if r[2] >= max_attempts]
            for key in poison:
                log.error("giving up on %s after %d attempts", key, max_attempts)
                self.db.execute("UPDATE delivery_claims SET done_at = ?, payload = NULL WHERE key = ?", [now, key])
        return [Abandoned(r[0], r[1], r[2]) for r in rows if r[2] < max_attempts]

    def prune(self, keep_s: float = KEEP_DONE_S) -> int:
        """Delete claims completed (or left) more than `keep_s` seconds ago, and stale user leases."""
        cutoff = self.clock() - keep_s
        with self.lock, transaction(self.db):
            n = self.db.execute("DELETE FROM delivery_claims WHERE coalesce(done_at, lease_until) < ?",
                                [cutoff]).rowcount
            self.db.execute("DELETE FROM user_leases WHERE lease_until < ?", [cutoff])
        return n

    # ----- one user's turns, one at a time, in order ------------------------------------------
    def try_user(self, user_key: str, token: str, seq: float | None) -> bool:
        """Take the user's lease when it is free (or expired, or ours) and no earlier live claim of the same
        user is still open; True when taken."""
        now = self.clock()
        with self.lock:
            if self._user_blocked(user_key, token, seq, now):  # a plain read first: waiting takes no write lock
                return False
        with self.lock, transaction(self.db):
            if self._user_blocked(user_key, token, seq, now):
                return False
            self.db.execute("INSERT OR REPLACE INTO user_leases (user_key, worker, token, lease_until) VALUES (?, ?, ?, ?)",
                            [user_key, self.worker, token, now + self.lease_s])
        return True

    def _user_blocked(self, user_key: str, token: str, seq: float | None, now: float) -> bool:
        row = self.db.execute("SELECT token, lease_until FROM user_leases WHERE user_key = ?", [user_key]).fetchone()
        if row is not None and row[0] != token and row[1] > now:
            return True
        # an earlier message of this user is handled somewhere, or will be again: it goes first
        return seq is not None and self.db.execute(
            "SELECT 1 FROM delivery_claims WHERE user_key = ? AND seq < ? AND done_at IS NULL "
            "AND (lease_until > ? OR payload IS NOT NULL) LIMIT 1", [user_key, seq, now]).fetchone() is not None

    def release_user(self, user_key: str, token: str) -> None:
        """Give the user's lease back (only if still ours); one statement, so no writer lock."""
        with self.lock:
            self.db.execute("DELETE FROM user_leases WHERE user_key = ? AND token = ?", [user_key, token])

    @contextlib.asynccontextmanager
    async def user_turn(self, user_key: str, seq: float | None = None, *, timeout_s: float = 30.0,
                        poll_s: float = 0.02) -> AsyncIterator[bool]:
        """Hold the user's lease for the block; waits (polling, backing off to 0.2 s) up to `timeout_s`, then
        goes ahead without it (logged: a stuck lease must not silence a customer). Yields whether it was held."""
        token = uuid.uuid4().hex
        deadline = time.monotonic() + timeout_s
        held = self.try_user(user_key, token, seq)
        while not held and time.monotonic() < deadline:
            await asyncio.sleep(poll_s)
            poll_s = min(poll_s * 1.5, 0.2)
            held = self.try_user(user_key, token, seq)
        if not held:
            log.warning("waited %.0f s for a user's lease; answering without it", timeout_s)
        try:
            yield held
        finally:
            if held:
                self.release_user(user_key, token)


async def keep_claims(claims: Claims, stop: asyncio.Event, again: Callable[[Abandoned], Awaitable[None]],
                      interval_s: float | None = None, *, prefix: str) -> None:
    """Until `stop`: renew this worker's leases and hand `again` each delivery (of a key starting with `prefix`, the
    platform's own: a Telegram worker cannot read a Slack event) whose worker died mid-turn."""
    interval = interval_s if interval_s is not None else max(claims.lease_s / 5, 0.2)
    while not stop.is_set():
        try:
            await claims.call(claims.renew)
            for left in await claims.call(claims.abandoned, prefix):
                log.warning("handling again %s (its worker's lease ran out)", left.key)
                await again(left)
        except Exception:
            log.exception("could not renew or recover claims")
        try:
            await asyncio.wait_for(stop.wait(), interval)
        except asyncio.TimeoutError:
            pass


def _iso(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, timezone.utc).isoformat(timespec="seconds")

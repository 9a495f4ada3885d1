"""Numbered schema migrations on sqlite-utils databases.

Each database has a `_migrations` table listing the steps already applied; `migrate()`
runs the missing ones in order, each inside its own transaction.
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Callable, Sequence
from contextlib import nullcontext
from datetime import datetime, timezone
from pathlib import Path

import sqlite_utils

log = logging.getLogger(__name__)

Migration = Callable[[sqlite_utils.Database], None]


def open_database(path: Path | str) -> sqlite_utils.Database:
    """Open (creating) a SQLite database usable from several threads, in WAL mode."""
    if str(path) != ":memory:":
        Path(path).parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None, timeout=30)
    db = sqlite_utils.Database(conn)
    if str(path) != ":memory:":
        db.enable_wal()
    db.execute("PRAGMA foreign_keys = ON")
    db.execute("PRAGMA synchronous = NORMAL")
    return db


def scrub_database(db: sqlite_utils.Database) -> None:
    """After deleting personal data: rebuild external-content FTS5 indexes (deleting a source row does not
    touch them), merge every FTS5 index (dropping deleted entries), then checkpoint the WAL and truncate it,
    so no copy of a deleted row is left in the index or the log. Pair with `PRAGMA secure_delete = ON`."""
    rows = db.execute("SELECT name, sql FROM sqlite_master WHERE type = 'table' AND sql LIKE '%USING fts5%'").fetchall()
    with transaction(db) if rows else nullcontext():
        for name, sql in rows:
            quoted = '"' + name.replace('"', '""') + '"'
            if "content=" in sql.replace(" ", "").lower() and "content=''" not in sql.replace(" ", "").lower():
                db.execute(f"INSERT INTO {quoted}({quoted}) VALUES ('rebuild')")
            db.execute(f"INSERT INTO {quoted}({quoted}) VALUES ('optimize')")
    if str(db.execute("PRAGMA journal_mode").fetchone()[0]).lower() == "wal":
        busy, _, _ = db.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
        if busy:
            log.warning("the WAL could not be truncated now (another connection is reading); the next checkpoint does it")


def migrate(db: sqlite_utils.Database, steps: Sequence[Migration]) -> int:
    """Apply the steps not yet recorded in `_migrations`; returns how many ran."""
    table = db["_migrations"]
    if not table.exists():
        db.execute("CREATE TABLE _migrations (version INTEGER PRIMARY KEY, name TEXT, applied_at TEXT)")
    done = {row["version"] for row in db.query("SELECT version FROM _migrations")}
    ran = 0
    for version, step in enumerate(steps, start=1):
        if version in done:
            continue
        with transaction(db):
            step(db)
            db.execute(
                "INSERT INTO _migrations (version, name, applied_at) VALUES (?, ?, ?)",
                [version, step.__name__, datetime.now(timezone.utc).isoformat()],
            )
        log.debug("applied migration %d (%s)", version, step.__name__)
        ran += 1
    return ran


class transaction:
    """`with transaction(db):` runs the block in one SQLite transaction (nested blocks join it)."""

    def __init__(self, db: sqlite_utils.Database) -> None:
        self.conn = db.conn
        self.owner = False

    def __enter__(self) -> None:
        if not self.conn.in_transaction:
            self.conn.execute("BEGIN IMMEDIATE")
            self.owner = True

    def __exit__(self, exc_type, exc, tb) -> None:
        if not self.owner:
            return
        if exc_type is None:
            self.conn.execute("COMMIT")
        else:
            self.conn.execute("ROLLBACK")

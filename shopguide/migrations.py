"""Opening a store's database (a SQLite file, or a schema on PostgreSQL) and its numbered migrations.

Each database has a `_migrations` table listing the steps already applied; `migrate()`
runs the missing ones in order, each inside its own transaction. Steps are written in SQLite's dialect;
`shopguide.storage.PgDatabase` translates them, and a step whose SQL differs asks `dialect(db)`.
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Callable, Sequence
from contextlib import nullcontext
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import sqlite_utils

from shopguide.storage import PgDatabase, is_database_url

log = logging.getLogger(__name__)

Migration = Callable[[sqlite_utils.Database], None]
Database = Any  # sqlite_utils.Database or shopguide.storage.PgDatabase: the same subset of calls


def dialect(db: Database) -> str:
    """"sqlite" or "postgresql"."""
    return getattr(db, "dialect", "sqlite")


def open_database(path: Path | str, schema: str = "public") -> Database:
    """Open (creating) a SQLite database usable from several threads, in WAL mode; or, when `path` is a
    postgresql:// URL, a connection to that server whose tables live in `schema` (made when missing)."""
    if is_database_url(path):
        return PgDatabase(str(path), schema)
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
    so no copy of a deleted row is left in the index or the log. Pair with `PRAGMA secure_delete = ON`.
    On PostgreSQL nothing is done here: deleted rows stay in dead tuples until autovacuum and in the server's
    WAL and backups until they rotate, which the server's operator configures."""
    if dialect(db) == "postgresql":
        return
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
        db.execute("CREATE TABLE IF NOT EXISTS _migrations (version INTEGER PRIMARY KEY, name TEXT, applied_at TEXT)")
    done = {row["version"] for row in db.query("SELECT version FROM _migrations")}
    ran = 0
    for version, step in enumerate(steps, start=1):
        if version in done:
            continue
        with transaction(db):
            if db.execute("SELECT 1 FROM _migrations WHERE version = ?", [version]).fetchone():
                continue  # another process applied it meanwhile
            step(db)
            db.execute(
                "INSERT INTO _migrations (version, name, applied_at) VALUES (?, ?, ?)",
                [version, step.__name__, datetime.now(timezone.utc).isoformat()],
            )
        log.debug("applied migration %d (%s)", version, step.__name__)
        ran += 1
    return ran


class transaction:
    """`with transaction(db):` runs the block in one transaction holding the database's writer lock
    (SQLite: BEGIN IMMEDIATE; PostgreSQL: an advisory lock on the schema); nested blocks join it."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self.pg = dialect(db) == "postgresql"
        self.owner = False

    def __enter__(self) -> None:
        if self.pg:
            if not self.db.in_transaction:
                self.db.begin()
                self.owner = True
        elif not self.db.conn.in_transaction:
            self.db.conn.execute("BEGIN IMMEDIATE")
            self.owner = True

    def __exit__(self, exc_type, exc, tb) -> None:
        if not self.owner:
            return
        if self.pg:
            self.db.commit() if exc_type is None else self.db.rollback()
        elif exc_type is None:
            self.db.conn.execute("COMMIT")
        else:
            self.db.conn.execute("ROLLBACK")

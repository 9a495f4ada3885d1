"""`shopguide database upload`: copy the data directory's SQLite stores (memory.db, catalog.db) into the database
at SHOPGUIDE_DATABASE_URL, one transaction per store."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from shopguide.errors import NotConfigured, UserFacingError
from shopguide.store_copy import NOTHING_DERIVED, CopyReport, ServerDerived, copy_store, refuse_if_held

VECTORS_NOTE = ("the vectors stay in Chroma: `shopguide vectors upload` copies them to the server at "
                "SHOPGUIDE_CHROMA_URL (or keep the embedded store in the data directory)")


def add_parser(sub) -> None:
    """Register `shopguide database`."""
    p = sub.add_parser("database", help="copy the SQLite stores to the database server",
                       description="upload: copy memory.db (conversation state, preferences, events, handoffs, claims) "
                                   "and catalog.db (when present: products, FAQs, documents, orders) from the data "
                                   "directory into the database at SHOPGUIDE_DATABASE_URL, after its migrations; one "
                                   "transaction per store, refused when the server already holds rows (unless "
                                   "--replace). The vectors stay in Chroma (`shopguide vectors upload`).")
    p.add_argument("action", choices=["upload"])
    p.add_argument("--replace", action="store_true",
                   help="empty the server's tables of a store first (in the same transaction) instead of refusing")
    p.add_argument("--json", action="store_true", help="print the report as JSON")
    p.set_defaults(func="shopguide.cli.databasecli:main")


def _stores(settings) -> list[tuple[str, Path, Callable[[Any], Any], ServerDerived]]:
    """(name, SQLite file, store class opening either backend, what the server derives) of each store."""
    from bot.memory import Memory
    from knowledge.catalog_schema import SERVER_DERIVED
    from knowledge.store import CatalogStore

    return [("memory", settings.memory_db_path, Memory, NOTHING_DERIVED),
            ("catalog", settings.catalog_db_path, CatalogStore, SERVER_DERIVED)]


def main(args: argparse.Namespace) -> int:
    """Entry point of `shopguide database`."""
    from shopguide.cli.startup import start
    from shopguide.storage import database_errors

    settings = start(args, stderr_level="WARNING")
    if not settings.database_url:
        raise NotConfigured("set SHOPGUIDE_DATABASE_URL to the PostgreSQL database to copy the stores into")
    url, where = settings.database_url.get_secret_value(), settings.memory_where
    found = [s for s in _stores(settings) if s[1].is_file()]
    if not found:
        raise UserFacingError(f"no memory.db or catalog.db in {settings.data_dir} (SHOPGUIDE_DATA_DIR): nothing to copy")
    opened: list[tuple[str, Any, Any, ServerDerived]] = []
    reports: list[CopyReport] = []
    try:
        for name, path, store_class, derived in found:
            source = store_class(path)  # migrates the SQLite file to this version, as starting the bot would
            opened.append((name, source, None, derived))
            target = store_class(url)  # the server's migrations; a bad URL stops here, naming SHOPGUIDE_DATABASE_URL
            opened[-1] = (name, source, target, derived)
        if not args.replace:  # refuse before writing anything, not after the first store went in
            for name, _, target, derived in opened:
                refuse_if_held(target.db, name, derived)
        for name, source, target, derived in opened:
            try:
                with source.lock, target.lock:
                    reports.append(copy_store(source.db, target.db, name, where, replace=args.replace, derived=derived))
            except database_errors() as exc:
                reason = " ".join(str(exc).split())[:300]
                done = f"; {', '.join(r.store for r in reports)} copied before it" if reports else ""
                raise UserFacingError(f"{name}: copying into {where} failed, nothing of it was written: "
                                      f"{type(exc).__name__}: {reason}{done} (SHOPGUIDE_DATABASE_URL)") from None
    except database_errors() as exc:  # e.g. no right to create the schema or its tables
        reason = " ".join(str(exc).split())[:300]
        raise UserFacingError(f"{where}: {type(exc).__name__}: {reason} (SHOPGUIDE_DATABASE_URL)") from None
    finally:
        for _, source, target, _ in opened:
            for store in (source, target):
                if store is not None:
                    store.close()
    missing = [f"{path.name} (none in {settings.data_dir})" for name, path, _, _ in _stores(settings) if not path.is_file()]
    _print(reports, missing, args.json)
    return 0


def _print(reports: list[CopyReport], missing: list[str], as_json: bool) -> None:
    if as_json:
        print(json.dumps({"stores": [r.to_dict() for r in reports], "not_found": missing, "vectors": VECTORS_NOTE},
                         indent=2))
        return
    for r in reports:
        emptied = f", after emptying {sum(r.replaced.values())} rows there" if r.replaced else ""
        print(f"{r.store}: {r.rows} rows in {len(r.copied)} tables copied to {r.where}{emptied} ({r.seconds:.1f} s)")
        for table, n in sorted(r.copied.items()):
            print(f"  {table:22} {n}")
        for table, n in r.derived.items():
            print(f"  {table:22} {n} (made on the server from the copied rows)")
        for table, why in r.left.items():
            print(f"  left: {table} ({why})")
    for name in missing:
        print(f"not copied: {name}")
    print(VECTORS_NOTE, file=sys.stderr)

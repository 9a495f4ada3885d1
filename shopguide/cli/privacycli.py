"""`shopguide privacy ...`: purge, export, forget, find and report, on memory.db alone (no model is loaded)."""

from __future__ import annotations

import argparse
import getpass
import json
import logging
import sys
from typing import Any

from shopguide.errors import UserFacingError
from shopguide.storage import database_errors

log = logging.getLogger(__name__)


def add_parser(sub) -> None:
    """The `privacy` subcommand and its own subcommands."""
    p = sub.add_parser("privacy", help="retention purge, and a customer's data exported, erased or found",
                       description="What the shop holds about customers (docs/privacy.md).")
    psub = p.add_subparsers(dest="privacy_command", required=True, metavar="{purge,export,forget,find,report}")
    purge = psub.add_parser("purge", help="delete conversation text past retention now (also runs daily in a bot)")
    purge.add_argument("--older-than", type=_days, metavar="DAYS",
                       help="text older than DAYS days (default SHOPGUIDE_RETENTION_DAYS; 0: all of it)")
    purge.add_argument("--json", action="store_true")
    export = psub.add_parser("export", help="everything held about one customer (as the in-chat export)")
    forget = psub.add_parser("forget", help="erase one customer (as the in-chat \"forget me\"), with an audit entry")
    for q in (export, forget):
        q.add_argument("--platform", help="telegram, slack, console, ...")
        q.add_argument("--user", help="the customer's user id on that platform")
        q.add_argument("--email", metavar="ADDRESS", help="instead of --platform/--user: the customer of the ingested "
                                                           "orders placed with this address, and the chats linked to them")
    export.add_argument("--json", action="store_true", help="print the export as one JSON document")
    forget.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    forget.add_argument("--by", help="who asks for the erasure, for the audit entry (default: the login name)")
    find = psub.add_parser("find", help="customers whose messages, searches, preferences or id contain TEXT")
    find.add_argument("text")
    find.add_argument("--json", action="store_true")
    report = psub.add_parser("report", help="how many rows of each kind of personal data are held, and the oldest")
    report.add_argument("--json", action="store_true")
    for q in (purge, export, forget, find, report):
        q.set_defaults(func="shopguide.cli.privacycli:main")


def _days(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number of days: {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more days, got {value}")
    return value


def main(args: argparse.Namespace) -> int:
    """Run one `privacy` subcommand; a store that cannot be written is exit code 1."""
    from bot.memory import Memory
    from shopguide.cli.startup import start

    if args.privacy_command in ("export", "forget") and bool(args.email) == bool(args.platform or args.user):
        raise UserFacingError(f"privacy {args.privacy_command}: give either --email ADDRESS or --platform and --user")
    if args.privacy_command in ("export", "forget") and not args.email and not (args.platform and args.user):
        raise UserFacingError(f"privacy {args.privacy_command}: --platform and --user go together")
    settings = start(args, stderr_level="WARNING")
    try:
        memory = Memory(settings.memory_target)
        args.orders = _orders(settings)
    except database_errors() as exc:
        raise UserFacingError(f"cannot open {settings.memory_where} or {settings.catalog_where}: {exc}") from None
    try:
        return COMMANDS[args.privacy_command](args, settings, memory)
    except database_errors() as exc:
        raise UserFacingError(f"the store {settings.memory_where} or {settings.catalog_where} could not be "
                              f"changed: {exc}") from None
    finally:
        memory.close()
        if args.orders is not None:
            args.orders.close()


def _orders(settings):
    """The catalog store holding ingested orders and `/link`s: on the database server, or catalog.db when it exists
    (none is created)."""
    if not settings.catalog_present:
        return None
    from knowledge.store import CatalogStore

    return CatalogStore(settings.catalog_target)


def purge(args, settings, memory) -> int:
    from bot.privacy import run_purge

    report = run_purge(memory, settings, args.older_than)
    if args.json:
        _print_json(report.to_dict())
    else:
        print(report.summary())
        for kind, n in report.removed.items():
            print(f"  {kind}: {n}")
    return 0


def export(args, settings, memory) -> int:
    from bot.privacy import customer_key, export_customer, no_data

    if args.email:
        return _export_email(args, memory)
    key = customer_key(args.platform, args.user)
    data = export_customer(memory, key, args.orders.orders if args.orders else None)
    if data is None:
        print(no_data(key), file=sys.stderr)
        if args.json:
            _print_json({"user": key, "found": False})
        return 0  # nothing to export is an answer
    if args.json:
        print(json.dumps(data, ensure_ascii=False, indent=2))
        return 0
    print(f"Everything held about {key} (exported {data['exported_at']}):")
    for table, rows in data.items():
        if isinstance(rows, list):
            print(f"\n{table} ({len(rows)}):")
            for row in rows:
                print("  " + json.dumps({k: v for k, v in row.items() if k not in ("user_key", "id")}, ensure_ascii=False))
    return 0


def forget(args, settings, memory) -> int:
    from bot.privacy import customer_key, erase_customer, no_data

    from knowledge import order_privacy

    if args.email:
        return _forget_email(args, settings, memory)
    key = customer_key(args.platform, args.user)
    orders = args.orders.orders if args.orders else None
    rows = memory.count_rows(key) + (sum(map(len, order_privacy.export_chat_user(orders, key).values())) if orders else 0)
    if rows == 0:
        print(no_data(key))
        return 0
    if not _confirmed(args, f"{key} ({rows} records)"):
        return 2 if not args.yes and not sys.stdin.isatty() else 0
    actor = f"cli:{args.by or _login()}"
    deleted = erase_customer(memory, key, actor, orders)
    print(f"Erased {key}: {deleted} records deleted (audited as erased by {actor}).")
    return 0


def _confirmed(args, whom: str) -> bool:
    """--yes, or a "y" typed at the terminal; without a terminal, says that --yes is needed."""
    if args.yes:
        return True
    if not sys.stdin.isatty():
        print(f"shopguide: erasing {whom} needs --yes when not run on a terminal; nothing was erased", file=sys.stderr)
        return False
    answer = input(f"Erase everything held about {whom}? This cannot be undone. [y/N] ")
    if answer.strip().lower() in ("y", "yes"):
        return True
    print("Nothing was erased.")
    return False


def _export_email(args, memory) -> int:
    from bot.privacy import export_by_email, no_data

    data = export_by_email(memory, args.orders.orders, args.email) if args.orders else None
    if data is None:
        print(no_data(args.email.strip()), file=sys.stderr)
        if args.json:
            _print_json({"email": args.email.strip(), "found": False})
        return 0  # nothing to export is an answer
    if args.json:
        print(json.dumps(data, ensure_ascii=False, indent=2))
        return 0
    print(f"Everything held about the customer of {data['email']} (exported {data['exported_at']}):")
    print(f"\norders ({len(data['orders'])}):")
    for order in data["orders"]:
        print("  " + json.dumps(order, ensure_ascii=False))
    print(f"\nchats linked with /link ({len(data['chat_links'])}):")
    for link in data["chat_links"]:
        print("  " + json.dumps(link, ensure_ascii=False))
    for user, held in data["chats"].items():
        rows = sum(len(v) for v in held.values() if isinstance(v, list))
        print(f"\n{user}: {rows} records (shopguide privacy export --platform {user.split(':', 1)[0]} "
              f"--user {user.split(':', 1)[1]})")
    return 0


def _forget_email(args, settings, memory) -> int:
    from bot.privacy import erase_by_email, export_by_email, no_data

    held = export_by_email(memory, args.orders.orders, args.email) if args.orders else None
    if held is None:
        print(no_data(args.email.strip()))
        return 0
    whom = (f"the customer of {args.email.strip()} ({len(held['orders'])} orders, "
            f"{len(held['chat_links'])} linked chats)")
    if not _confirmed(args, whom):
        return 2 if not args.yes and not sys.stdin.isatty() else 0
    actor = f"cli:{args.by or _login()}"
    removed = erase_by_email(memory, args.orders.orders, args.email, actor, settings.cache_dir)
    print(f"Erased the customer of {args.email.strip()}: "
          + ", ".join(f"{n} {kind}" for kind, n in removed.items()) + f" (audited as erased by {actor}).", flush=True)  # done: the retraining below takes minutes
    if removed.get("orders"):
        _retrain(args.orders, settings)
    return 0


def _retrain(store, settings) -> None:
    """Train the order-history model on the orders that remain, so that the next start loads it at once."""
    from knowledge.recommend_orders import orders_from_store

    try:
        model = orders_from_store(store, settings.cache_dir)
    except Exception:
        log.warning("recommendations could not be retrained after an erasure", exc_info=True)
        print("shopguide: warning: recommendations could not be retrained; the next start trains them",
              file=sys.stderr)
        return
    if model is not None:
        print(f"recommendations retrained without them: {model.report.lines} order lines, "
              f"{model.report.customers} customers (restart running bots to use it)")


def find(args, settings, memory) -> int:
    from bot.privacy import find_customers

    found = find_customers(memory, args.text)
    if args.json:
        _print_json({"text": args.text, "customers": found})
        return 0
    if not found:
        print(f"no customer's data contains {args.text!r}")
        return 0
    for entry in found:
        where = ", ".join(f"{n} in {kind}" for kind, n in entry["matches"].items())
        print(f"{entry['user']}  ({where}; last seen {entry['last_seen'] or 'unknown'})")
    return 0


def report(args, settings, memory) -> int:
    from bot.privacy import held_report

    rows = held_report(memory, settings)
    if args.json:
        _print_json({"held": rows})
        return 0
    from rich.console import Console
    from rich.table import Table

    table = Table("what", "where", "rows", "oldest", "kept")
    for row in rows:
        table.add_row(row["what"], row["where"], str(row["rows"]), row["oldest"] or "-", row["kept"])
    Console(width=140).print(table)
    return 0


def _login() -> str:
    try:
        return getpass.getuser()
    except Exception:  # no login name in a container: still audited
        return "unknown"


def _print_json(data: Any) -> None:
    print(json.dumps(data, ensure_ascii=False))


COMMANDS = {"purge": purge, "export": export, "forget": forget, "find": find, "report": report}

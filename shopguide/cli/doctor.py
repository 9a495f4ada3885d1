"""`shopguide doctor`: checks every configured service (data directory, databases, vectors, model, platform
tokens) and says what is missing or unreachable, naming the setting; exit code 1 when something fails."""

from __future__ import annotations

import argparse
import asyncio
import json
import sqlite3
import sys
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

from shopguide.errors import NotConfigured, ShopguideError
from shopguide.settings import Settings


@dataclass(frozen=True)
class Check:
    """One service's state: "ok", "off" (not configured, and not needed) or "fail"."""

    name: str
    state: str
    detail: str


def check_data_dir(settings: Settings) -> Check:
    """The data directory exists (or can be made) and is writable."""
    path = settings.data_dir
    try:
        path.mkdir(parents=True, exist_ok=True)
        probe = path / ".doctor"
        probe.write_text("ok")
        probe.unlink()
    except OSError as exc:
        return Check("data directory", "fail", f"{path} is not writable ({exc.strerror}; SHOPGUIDE_DATA_DIR)")
    return Check("data directory", "ok", str(path))


def check_memory(settings: Settings) -> Check:
    """memory.db opens, its migrations apply, and how many delivery claims are open."""
    from bot.memory import Memory

    if settings.database_url:
        return Check("memory database", "off", "on the database server (SHOPGUIDE_DATABASE_URL): see \"database server\"")
    try:
        memory = Memory(settings.memory_db_path)
    except (sqlite3.Error, OSError) as exc:
        return Check("memory database", "fail", f"{settings.memory_db_path}: {exc} (SHOPGUIDE_DATA_DIR)")
    try:
        with memory.lock:
            open_claims = memory.db.execute("SELECT count(*) FROM delivery_claims WHERE done_at IS NULL").fetchone()[0]
    finally:
        memory.close()
    return Check("memory database", "ok", f"{settings.memory_db_path} (SQLite, migrations current, "
                                          f"{open_claims} deliveries in progress)")


def check_catalog(settings: Settings) -> Check:
    """catalog.db holds products (an empty one gets the demo store at start); on the database server, its schema."""
    if settings.database_url:
        return _server_catalog(settings)
    path = settings.catalog_db_path
    if not path.exists():
        return Check("catalog database", "ok", f"{path} not created yet: the bundled demo store loads at start")
    try:
        with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as conn:
            n = conn.execute("SELECT count(*) FROM products").fetchone()[0]
    except sqlite3.Error as exc:
        return Check("catalog database", "fail", f"{path}: {exc}")
    return Check("catalog database", "ok", f"{path} (SQLite, {n} products)")


def check_vectors(settings: Settings) -> Check:
    """The Chroma server answers (SHOPGUIDE_CHROMA_URL), else the embedded store's directory."""
    if not settings.chroma_url:
        return Check("vectors", "ok", f"embedded Chroma in {settings.chroma_dir}")
    from knowledge.vector_server import http_client

    token = settings.chroma_token.get_secret_value() if settings.chroma_token else None
    try:
        client = http_client(settings.chroma_url, token)
        names = sorted(c.name for c in client.list_collections())
    except NotConfigured as exc:
        return Check("vectors", "fail", str(exc))
    return Check("vectors", "ok", f"Chroma server at {settings.chroma_url} ({len(names)} collections)")


def check_llm(settings: Settings) -> Check:
    """The model server answers with the model (SHOPGUIDE_LLM_URL), else the GGUF file resolves."""
    if not settings.llm_enabled:
        return Check("language model", "off", "SHOPGUIDE_LLM_ENABLED is false: templates only")
    if settings.llm_url:
        from models.remote import RemoteChatModel

        key = settings.llm_api_key.get_secret_value() if settings.llm_api_key else None
        try:
            name = RemoteChatModel(settings.llm_url, api_key=key, model=settings.llm_model_name,
                                   timeout_s=max(settings.llm_timeout_s, 5.0)).check()
        except NotConfigured as exc:
            return Check("language model", "fail", str(exc))
        return Check("language model", "ok", f"model {name!r} on the server at {settings.llm_url}")
    from models.resolve import resolve_gguf

    try:
        path = resolve_gguf(settings.llm_model_path)
    except ShopguideError as exc:
        return Check("language model", "fail", str(exc))
    used = "loaded at start" if settings.chat_model_needed else "not loaded: no feature uses it"
    return Check("language model", "ok", f"{path.name} in-process ({used})")


def check_telegram(settings: Settings) -> Check:
    """The bot token is accepted by the Bot API (getMe)."""
    if not settings.telegram_token:
        return Check("Telegram", "off", "SHOPGUIDE_TELEGRAM_TOKEN is not set")
    from telegram.error import InvalidToken, TelegramError

    from adapters.telegram.run import _api_host, check_token

    try:
        name = asyncio.run(check_token(settings.telegram_token.get_secret_value(), settings.telegram_api_url))
    except InvalidToken:
        return Check("Telegram", "fail", "the Bot API rejected the token (SHOPGUIDE_TELEGRAM_TOKEN)")
    except TelegramError as exc:
        return Check("Telegram", "fail", f"could not reach the Bot API at {_api_host(settings.telegram_api_url)} "
                                         f"({type(exc).__name__}; SHOPGUIDE_TELEGRAM_API_URL)")
    return Check("Telegram", "ok", f"token accepted for @{name}")


def check_slack(settings: Settings) -> Check:
    """The bot token is accepted (auth.test) and the signing secret is set."""
    if not settings.slack_bot_token:
        return Check("Slack", "off", "SHOPGUIDE_SLACK_BOT_TOKEN is not set")
    if not settings.slack_signing_secret:
        return Check("Slack", "fail", "SHOPGUIDE_SLACK_SIGNING_SECRET is not set (needed to verify Slack's requests)")
    from slack_sdk import WebClient
    from slack_sdk.errors import SlackApiError

    base = settings.slack_api_url if settings.slack_api_url.endswith("/") else settings.slack_api_url + "/"
    try:
        auth = WebClient(token=settings.slack_bot_token.get_secret_value(), base_url=base, timeout=10).auth_test()
    except SlackApiError as exc:
        return Check("Slack", "fail", f"Slack refused the bot token ({exc.response.get('error')}; SHOPGUIDE_SLACK_BOT_TOKEN)")
    except Exception as exc:
        return Check("Slack", "fail", f"could not reach Slack at {base} ({type(exc).__name__}; SHOPGUIDE_SLACK_API_URL)")
    return Check("Slack", "ok", f"token accepted for {auth.get('user') or 'the bot'} in {auth.get('team') or 'the workspace'}")


def check_database_url(settings: Settings) -> Check:
    """SHOPGUIDE_DATABASE_URL connects, the memory schema's migrations apply, and their version."""
    if not settings.database_url:
        return Check("database server", "off", "records in SQLite under the data directory (SHOPGUIDE_DATABASE_URL)")
    from bot.memory import MIGRATIONS, Memory
    from shopguide.storage import server_version

    memory, failed = _on_server("database server", settings.memory_where, lambda: Memory(settings.memory_target))
    if failed:
        return failed
    try:
        with memory.lock:
            version = _migration_version(memory.db)
            open_claims = memory.db.execute("SELECT count(*) FROM delivery_claims WHERE done_at IS NULL").fetchone()[0]
        server = server_version(memory.db)
    finally:
        memory.close()
    return Check("database server", "ok", f"{settings.memory_where} (PostgreSQL {server}, memory migrations at "
                                          f"{version}/{len(MIGRATIONS)}, {open_claims} deliveries in progress)")


def _server_catalog(settings: Settings) -> Check:
    """The catalog schema on SHOPGUIDE_DATABASE_URL: its migrations apply, and how many products it holds."""
    from knowledge.catalog_schema import MIGRATIONS as CATALOG_MIGRATIONS
    from knowledge.store import CatalogStore

    store, failed = _on_server("catalog database", settings.catalog_where, lambda: CatalogStore(settings.catalog_target))
    if failed:
        return failed
    try:
        n = store.count("product")
        with store.lock:
            version = _migration_version(store.db)
    finally:
        store.close()
    return Check("catalog database", "ok", f"{settings.catalog_where} (PostgreSQL schema catalog, migrations at "
                                           f"{version}/{len(CATALOG_MIGRATIONS)}, {n} products)")


def _on_server(name: str, where: str, open_store: Callable[[], Any]) -> tuple[Any, Check | None]:
    """A store opened (and migrated) on SHOPGUIDE_DATABASE_URL, or the failed check saying why not."""
    try:
        return open_store(), None
    except NotConfigured as exc:
        return None, Check(name, "fail", str(exc))
    except Exception as exc:  # e.g. no right to create the schema or its tables
        return None, Check(name, "fail", f"{where}: {type(exc).__name__}: {' '.join(str(exc).split())[:200]} "
                                         "(SHOPGUIDE_DATABASE_URL)")


def _migration_version(db: Any) -> int:
    """The highest migration applied to a store's database."""
    return db.execute("SELECT coalesce(max(version), 0) FROM _migrations").fetchone()[0]


CHECKS: list[Callable[[Settings], Check]] = [check_data_dir, check_memory, check_catalog, check_database_url,
                                             check_vectors, check_llm, check_telegram, check_slack]


def run_checks(settings: Settings) -> list[Check]:
    """Every check, each failing on its own (an unexpected error is reported, not raised)."""
    out = []
    for check in CHECKS:
        try:
            out.append(check(settings))
        except Exception as exc:  # a check must not stop the others
            out.append(Check(check.__name__.removeprefix("check_"), "fail", f"unexpected {type(exc).__name__}: {exc}"))
    return out


def main(args: argparse.Namespace) -> int:
    """Entry point of `shopguide doctor`."""
    from shopguide.cli.startup import start

    settings = start(args, stderr_level="ERROR")
    checks = run_checks(settings)
    if getattr(args, "json", False):
        print(json.dumps([asdict(c) for c in checks], indent=2))
    else:
        for c in checks:
            print(f"{c.state.upper():5} {c.name:17} {c.detail}")
    failed = [c for c in checks if c.state == "fail"]
    if failed and not getattr(args, "json", False):
        print(f"shopguide: {len(failed)} check(s) failed: {', '.join(c.name for c in failed)}", file=sys.stderr)
    return 1 if failed else 0

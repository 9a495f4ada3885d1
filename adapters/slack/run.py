"""`shopguide slack`: the Slack app in Socket Mode (default) or over HTTP (`--http`)."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from collections.abc import Awaitable, Callable

from bot.runtime import Runtime
from shopguide.errors import NotConfigured
from shopguide.settings import Settings

log = logging.getLogger(__name__)


def required_settings(http: bool) -> tuple[str, ...]:
    """The settings each mode needs."""
    base = ("slack_bot_token", "slack_signing_secret")
    return base if http else (*base, "slack_app_token")


def main(args: argparse.Namespace, load: Callable[[], Settings], build: Callable[[Settings], Runtime],
         warm_up: Callable[[Runtime], Awaitable[object]]) -> int:
    """Run the Slack app until interrupted with the runtime `build` makes from the settings `load` reads; a missing
    setting is a one-line error and exit code 1."""
    http = bool(getattr(args, "http", False))
    try:
        settings = load()
        settings.require(*required_settings(http))
    except NotConfigured as exc:
        print(f"shopguide slack: configuration error: {exc}", file=sys.stderr)
        return 1
    if not settings.staff_ids():
        log.warning("SHOPGUIDE_SLACK_STAFF is empty: /shop will refuse everyone")
    runtime = build(settings)
    try:
        return asyncio.run(_serve(runtime, args, http, warm_up))
    finally:
        runtime.close()


async def _serve(runtime: Runtime, args: argparse.Namespace, http: bool,
                 warm_up: Callable[[Runtime], Awaitable[object]]) -> int:
    from adapters.slack.app import create_bot
    from bot.privacy import start_daily_purge

    await warm_up(runtime)  # models and indexes load now, not on the first customer's message
    bot = create_bot(runtime)
    stop = asyncio.Event()
    outboxes = [asyncio.create_task(o.run(stop)) for o in (bot.desk.outboxes() if bot.desk else [])]
    outboxes.append(asyncio.create_task(bot.recover(stop), name="claims"))  # a dead worker's events
    purging = start_daily_purge(runtime.memory, runtime.settings)  # retention: conversation text past its days goes
    try:
        if http:
            await _serve_http(bot, args.host, args.port)
        else:
            await _serve_socket_mode(bot, runtime.settings.slack_app_token.get_secret_value())
    finally:
        stop.set()
        if outboxes:
            await asyncio.wait(outboxes, timeout=10)
        purging.cancel()
        await bot.drain(timeout=10)
    return 0


async def _serve_http(bot, host: str, port: int) -> None:
    from aiohttp import web

    runner = web.AppRunner(bot.web_app())
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    await site.start()
    log.info("Slack app listening on http://%s:%d/slack/events", host, port)
    try:
        await asyncio.Event().wait()
    finally:
        await runner.cleanup()


async def _serve_socket_mode(bot, app_token: str) -> None:
    from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler

    handler = AsyncSocketModeHandler(bot.app, app_token)
    log.info("Slack app connecting in Socket Mode")
    try:
        await handler.start_async()
    finally:
        await handler.close_async()

"""`shopguide serve`: Telegram and Slack in one process, with one core, one model and one store; each platform
runs when its tokens are configured, and the handoff outboxes deliver between them."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import signal
import sys
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from bot.runtime import Runtime
from shopguide.errors import NotConfigured
from shopguide.settings import Settings

log = logging.getLogger(__name__)


@dataclass
class Served:
    """What `start_all` started, for `stop_all`."""

    stop: asyncio.Event
    tasks: list[asyncio.Task] = field(default_factory=list)
    telegram: Any = None  # the PTB Application
    telegram_bot: Any = None  # its TelegramBot behaviour
    slack: Any = None  # the SlackBot
    slack_port: int | None = None
    runner: Any = None  # the aiohttp runner of Slack's HTTP mode


def platforms(settings) -> tuple[bool, bool]:
    """Which platforms have their tokens: (telegram, slack)."""
    slack = bool(settings.slack_bot_token and settings.slack_signing_secret)
    return bool(settings.telegram_token), slack


async def start_all(runtime, stop: asyncio.Event, *, assistant=None, telegram_webhook=None, slack_http: bool = False,
                    slack_host: str = "0.0.0.0", slack_port: int = 3000, poll_timeout: float = 10.0) -> Served:
    """Start every configured platform and the handoff delivery loops; returns once they run (`assistant`
    wraps the core's for Telegram, as tests do)."""
    settings = runtime.settings
    use_telegram, use_slack = platforms(settings)
    served = Served(stop)
    handoffs = runtime.services.handoffs
    if use_telegram:
        from adapters.telegram.bot import TelegramBot, build_application, serve
        from adapters.telegram.relay import telegram_outbox

        from adapters.telegram.claimed import recover_abandoned
        from bot.claims import Claims

        behaviour = TelegramBot(assistant or runtime.assistant, runtime.memory)
        claims = Claims.on(runtime.memory, lease_s=settings.claim_lease_s)  # several workers may share the database
        app = build_application(behaviour, settings.telegram_token.get_secret_value(), settings.telegram_api_url,
                                claims=claims, user_timeout_s=settings.user_lease_timeout_s)
        task = asyncio.create_task(serve(app, stop, webhook=telegram_webhook, poll_timeout=poll_timeout), name="telegram")
        served.tasks.append(task)
        served.tasks.append(asyncio.create_task(recover_abandoned(app, claims, stop), name="claims"))
        while not app.running and not task.done():
            await asyncio.sleep(0.02)
        if task.done():
            task.result()  # raises what stopped it (an invalid token, a taken port)
        served.telegram, served.telegram_bot = app, behaviour
        if handoffs is not None:
            served.tasks.append(asyncio.create_task(telegram_outbox(handoffs, behaviour, app.bot).run(stop)))
    if use_slack:
        from adapters.slack.app import create_bot

        bot = create_bot(runtime)
        served.slack = bot
        served.tasks.append(asyncio.create_task(bot.recover(stop), name="slack-claims"))  # a dead worker's events
        if slack_http:
            from aiohttp import web

            served.runner = web.AppRunner(bot.web_app())
            await served.runner.setup()
            site = web.TCPSite(served.runner, slack_host, slack_port)
            await site.start()
            served.slack_port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
            log.info("Slack app listening on http://%s:%d/slack/events", slack_host, served.slack_port)
        else:
            from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler

            settings.require("slack_app_token")
            handler = AsyncSocketModeHandler(bot.app, settings.slack_app_token.get_secret_value())
            await handler.connect_async()
            served.tasks.append(asyncio.create_task(_close_on_stop(handler, stop)))
        if bot.desk is not None:
            served.tasks += [asyncio.create_task(o.run(stop)) for o in bot.desk.outboxes()]
    if use_telegram or use_slack:  # retention: conversation text past its days goes, daily
        from bot.privacy import start_daily_purge

        purging = start_daily_purge(runtime.memory, settings)
        served.tasks.append(asyncio.create_task(_cancel_on_stop(purging, stop)))
    return served


async def _cancel_on_stop(task: asyncio.Task, stop: asyncio.Event) -> None:
    await stop.wait()
    task.cancel()


async def _close_on_stop(handler, stop: asyncio.Event) -> None:
    await stop.wait()
    await handler.close_async()


async def stop_all(served: Served, timeout: float = 20.0) -> None:
    """Stop everything `start_all` started."""
    served.stop.set()
    if served.tasks:
        await asyncio.wait(served.tasks, timeout=timeout)
    if served.slack is not None:
        await served.slack.drain(timeout=10)
    if served.runner is not None:
        await served.runner.cleanup()


def main(args: argparse.Namespace, settings: Settings, build: Callable[[Settings], Runtime],
         warm_up: Callable[[Runtime], Awaitable[object]]) -> int:
    """Serve every configured platform until interrupted with the runtime `build` makes; returns the exit code."""
    from adapters.telegram.run import webhook_config

    use_telegram, use_slack = platforms(settings)
    if not (use_telegram or use_slack):
        raise NotConfigured("nothing to serve: set SHOPGUIDE_TELEGRAM_TOKEN, or SHOPGUIDE_SLACK_BOT_TOKEN and "
                            "SHOPGUIDE_SLACK_SIGNING_SECRET (and SHOPGUIDE_SLACK_APP_TOKEN for Socket Mode)")
    if use_slack and not args.slack_http:
        settings.require("slack_app_token")
    if settings.slack_handoff_channel and not use_slack:
        log.warning("SHOPGUIDE_SLACK_HANDOFF_CHANNEL is set but Slack is not configured here: another process "
                    "(shopguide slack) must deliver handoffs")
    webhook = webhook_config(argparse.Namespace(webhook_url=args.telegram_webhook_url, listen=args.telegram_listen,
                                                port=args.telegram_port), settings) if use_telegram else None
    runtime = build(settings)
    try:
        asyncio.run(_run(runtime, args, webhook, warm_up))
    except KeyboardInterrupt:
        pass
    except OSError as exc:
        print(f"shopguide serve: could not start: {exc.strerror or type(exc).__name__}.", file=sys.stderr)
        return 1
    finally:
        runtime.close()
    return 0


async def _run(runtime: Runtime, args: argparse.Namespace, webhook,
               warm_up: Callable[[Runtime], Awaitable[object]]) -> None:
    await warm_up(runtime)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)
    served = await start_all(runtime, stop, telegram_webhook=webhook, slack_http=args.slack_http,
                             slack_host=args.host, slack_port=args.port)
    await stop.wait()
    await stop_all(served)

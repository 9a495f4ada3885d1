"""`shopguide telegram`: check the token, build the runtime once (the CLI's builder), warm it up, then poll or serve the
webhook."""

from __future__ import annotations

import argparse
import asyncio
import logging
import re
import secrets
import signal
import sys
from collections.abc import Awaitable, Callable
from urllib.parse import urlparse

from telegram import Bot
from telegram.error import InvalidToken, NetworkError, TelegramError

from adapters.telegram.bot import TelegramBot, WebhookConfig, build_application, file_url_for, serve
from bot.runtime import Runtime
from shopguide.errors import NotConfigured
from shopguide.settings import Settings

log = logging.getLogger(__name__)

_SECRET_SHAPE = re.compile(r"^[A-Za-z0-9_-]{1,256}$")


async def check_token(token: str, base_url: str) -> str:
    """getMe with the token; returns the bot's username. Raises InvalidToken or NetworkError."""
    async with Bot(token, base_url=base_url, base_file_url=file_url_for(base_url)) as bot:
        return bot.username


def webhook_config(args: argparse.Namespace, settings: Settings) -> WebhookConfig | None:
    """Webhook settings from the command line, or None for long polling."""
    url = getattr(args, "webhook_url", None)
    if not url:
        return None
    if urlparse(url).scheme not in ("https", "http"):
        raise NotConfigured("--webhook-url must be an http(s) URL")
    configured = settings.telegram_webhook_secret.get_secret_value() if settings.telegram_webhook_secret else ""
    if configured and not _SECRET_SHAPE.match(configured):
        raise NotConfigured("SHOPGUIDE_TELEGRAM_WEBHOOK_SECRET must be 1-256 characters of A-Z, a-z, 0-9, _ and -")
    secret = configured or secrets.token_urlsafe(32)  # a fresh one per run when none is configured
    return WebhookConfig(url=url, listen=getattr(args, "listen", "0.0.0.0"), port=int(getattr(args, "port", 8443)),
                         secret_token=secret)


def _api_host(base_url: str) -> str:
    return urlparse(base_url).netloc or "the Bot API"


async def _run(runtime: Runtime, token: str, settings: Settings, webhook: WebhookConfig | None,
               warm_up: Callable[[Runtime], Awaitable[object]]) -> None:
    from bot.privacy import start_daily_purge

    await warm_up(runtime)  # models and indexes load now, not on the first customer's message
    from adapters.telegram.claimed import recover_abandoned
    from bot.claims import Claims

    behaviour = TelegramBot(runtime.assistant, runtime.memory)
    claims = Claims.on(runtime.memory, lease_s=settings.claim_lease_s)  # several workers may share the database
    app = build_application(behaviour, token, settings.telegram_api_url, claims=claims,
                            user_timeout_s=settings.user_lease_timeout_s)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        try:
            loop.add_signal_handler(sig, stop.set)
        except (NotImplementedError, RuntimeError):  # not the main thread, or no signals here
            pass
    relay = None
    if runtime.services.handoffs is not None:  # staff replies for Telegram customers, from this or another process
        from adapters.telegram.relay import telegram_outbox

        relay = asyncio.create_task(telegram_outbox(runtime.services.handoffs, behaviour, app.bot).run(stop))
    purging = start_daily_purge(runtime.memory, settings)  # retention: conversation text past its days goes
    recovering = asyncio.create_task(recover_abandoned(app, claims, stop), name="claims")
    try:
        await serve(app, stop, webhook=webhook)
    finally:
        stop.set()
        purging.cancel()
        await recovering
        if relay is not None:
            await relay


def main(args: argparse.Namespace, settings: Settings, build: Callable[[Settings], Runtime],
         warm_up: Callable[[Runtime], Awaitable[object]]) -> int:
    """Run the bot until interrupted with the runtime `build` makes once the token is accepted; returns the exit code."""
    settings.require("telegram_token")
    webhook = webhook_config(args, settings)
    token = settings.telegram_token.get_secret_value()  # type: ignore[union-attr]
    try:
        username = asyncio.run(check_token(token, settings.telegram_api_url))
    except InvalidToken:
        log.debug("getMe rejected the token")
        print("shopguide: Telegram rejected the bot token: check SHOPGUIDE_TELEGRAM_TOKEN (get one from @BotFather).",
              file=sys.stderr)
        return 1
    except NetworkError as exc:
        log.debug("getMe failed: %s", type(exc).__name__)
        print(f"shopguide: could not reach the Telegram Bot API at {_api_host(settings.telegram_api_url)} "
              f"({type(exc).__name__}); check the network or SHOPGUIDE_TELEGRAM_API_URL.", file=sys.stderr)
        return 1
    except TelegramError as exc:
        print(f"shopguide: Telegram refused to start the bot ({type(exc).__name__}).", file=sys.stderr)
        return 1
    log.info("token accepted for @%s", username)
    runtime = build(settings)
    try:
        asyncio.run(_run(runtime, token, settings, webhook, warm_up))
    except InvalidToken:
        print("shopguide: Telegram rejected the bot token: check SHOPGUIDE_TELEGRAM_TOKEN.", file=sys.stderr)
        return 1
    except OSError as exc:  # e.g. the webhook port is taken
        log.debug("could not start", exc_info=True)
        print(f"shopguide: could not start the Telegram bot: {exc.strerror or type(exc).__name__}.", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        pass
    finally:
        runtime.close()
    return 0

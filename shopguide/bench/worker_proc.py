"""One worker process of `shopguide bench workers`: the real PTB Application in webhook mode and, with `--slack-port`,
the real Slack bolt app over HTTP, both with delivery claims on the shared memory database, talking to the fake Bot
API and the fake Slack Web API; its assistant echoes after a fixed pause (delivery is what is measured, not dialogue)."""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
from types import SimpleNamespace

from adapters.telegram.bot import TelegramBot, WebhookConfig, build_application, serve
from adapters.telegram.claimed import recover_abandoned
from bot.claims import Claims
from bot.memory import Memory
from bot.types import IncomingMessage, Reply
from shopguide.bench.fake_telegram import TOKEN

SECRET = "bench-webhook-secret"
PATH = "tg"


class Echo:
    """Answers "echo <text>" after `turn_s` seconds, as a turn of the core would after its work."""

    def __init__(self, turn_s: float) -> None:
        self.turn_s = turn_s

    async def handle(self, msg: IncomingMessage) -> list[Reply]:
        await asyncio.sleep(self.turn_s)
        return [Reply(text=f"echo {msg.text}")]


def echo_runtime(settings, memory: Memory, turn_s: float = 0.0) -> SimpleNamespace:
    """What the Slack adapter reads of a `Runtime`: the settings, the memory and an assistant that echoes; no
    catalog, staff tools' services or handoffs (delivery is what is exercised, not dialogue)."""
    return SimpleNamespace(settings=settings, memory=memory, assistant=Echo(turn_s), kb=SimpleNamespace(store=None),
                           services=SimpleNamespace(handoffs=None, search=None, faq=None,
                                                    writer=SimpleNamespace(check=None)))


async def run(db: str, api: str, port: int, lease_s: float, turn_s: float, schema: str = "memory",
              slack_port: int | None = None, slack_api: str | None = None) -> None:
    memory = Memory(db, schema=schema)
    claims = Claims.on(memory, lease_s=lease_s)
    app = build_application(TelegramBot(Echo(turn_s), None, typing_interval=60), TOKEN, api, claims=claims)
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    recovering = [asyncio.create_task(recover_abandoned(app, claims, stop))]
    slack = await _start_slack(memory, lease_s, turn_s, slack_port, slack_api, stop, recovering) if slack_port else None
    webhook = WebhookConfig(url=f"http://127.0.0.1:{port}/{PATH}", listen="127.0.0.1", port=port, secret_token=SECRET)
    try:
        await serve(app, stop, webhook=webhook)
    finally:
        stop.set()
        await asyncio.gather(*recovering)
        if slack is not None:
            bot, runner = slack
            await bot.drain(timeout=10)
            await runner.cleanup()
        memory.close()


async def _start_slack(memory: Memory, lease_s: float, turn_s: float, port: int, api: str | None,
                       stop: asyncio.Event, background: list[asyncio.Task]):
    """The Slack bolt app (the adapter `shopguide slack --http` runs) on `port`, echoing; its claims recovered."""
    from aiohttp import web

    from adapters.slack.app import create_bot
    from shopguide.bench.fake_slack import BOT_TOKEN, SIGNING_SECRET
    from shopguide.settings import Settings

    settings = Settings(slack_bot_token=BOT_TOKEN, slack_signing_secret=SIGNING_SECRET, slack_api_url=api,
                        claim_lease_s=lease_s, slack_handoff_channel=None, slack_staff="")
    bot = create_bot(echo_runtime(settings, memory, turn_s))  # type: ignore[arg-type]
    runner = web.AppRunner(bot.web_app())
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    background.append(asyncio.create_task(bot.recover(stop)))
    return bot, runner


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", required=True)
    parser.add_argument("--api", required=True)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--lease", type=float, default=3.0)
    parser.add_argument("--turn", type=float, default=0.05)
    parser.add_argument("--schema", default="memory", help="PostgreSQL schema (with a postgresql:// --db)")
    parser.add_argument("--slack-port", type=int, help="also serve Slack's Events API on this port")
    parser.add_argument("--slack-api", help="the Slack Web API base URL (the bench's fake)")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    asyncio.run(run(args.db, args.api, args.port, args.lease, args.turn, args.schema, args.slack_port, args.slack_api))


if __name__ == "__main__":
    main()

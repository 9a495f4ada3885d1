"""One worker process of `shopguide bench workers`: the real PTB Application in webhook mode with delivery claims on
the shared memory database, talking to the fake Bot API; its assistant echoes after a fixed pause (delivery is
what is measured, not dialogue)."""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal

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


async def run(db: str, api: str, port: int, lease_s: float, turn_s: float, schema: str = "memory") -> None:
    memory = Memory(db, schema=schema)
    claims = Claims.on(memory, lease_s=lease_s)
    app = build_application(TelegramBot(Echo(turn_s), None, typing_interval=60), TOKEN, api, claims=claims)
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    recovering = asyncio.create_task(recover_abandoned(app, claims, stop))
    webhook = WebhookConfig(url=f"http://127.0.0.1:{port}/{PATH}", listen="127.0.0.1", port=port, secret_token=SECRET)
    try:
        await serve(app, stop, webhook=webhook)
    finally:
        stop.set()
        await recovering
        memory.close()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", required=True)
    parser.add_argument("--api", required=True)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--lease", type=float, default=3.0)
    parser.add_argument("--turn", type=float, default=0.05)
    parser.add_argument("--schema", default="memory", help="PostgreSQL schema (with a postgresql:// --db)")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    asyncio.run(run(args.db, args.api, args.port, args.lease, args.turn, args.schema))


if __name__ == "__main__":
    main()

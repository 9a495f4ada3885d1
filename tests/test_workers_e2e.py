"""Two real PTB Applications (workers) sharing one memory database, against the fake Bot API: every update is
answered once, each chat in order, through redeliveries to both workers and a worker that hangs mid-turn.
The assistant is a stub that echoes: this tests delivery, not dialogue."""

from __future__ import annotations

import asyncio
import os
import random
from collections import defaultdict

import pytest
from telegram import Update

from adapters.telegram.bot import TelegramBot, build_application
from adapters.telegram.claimed import recover_abandoned
from bot.claims import Claims
from bot.memory import Memory
from bot.types import IncomingMessage, Reply
from shopguide.bench.fake_telegram import FakeBotApi


class Echo:
    """Answers "echo <text>" after a short random pause; hangs (a dead worker) on the texts in `hang_on`."""

    def __init__(self, seed: int, hang_on: set[str] = frozenset()) -> None:
        self.rng = random.Random(seed)
        self.hang_on = hang_on
        self.release = asyncio.Event()

    async def handle(self, msg: IncomingMessage) -> list[Reply]:
        if msg.text in self.hang_on:
            await self.release.wait()
            raise RuntimeError("a worker that hung")
        await asyncio.sleep(self.rng.uniform(0, 0.03))
        return [Reply(text=f"echo {msg.text}")]


@pytest.fixture
async def fake(monkeypatch):
    for name in ("NO_PROXY", "no_proxy"):
        monkeypatch.setenv(name, ",".join(filter(None, [os.environ.get(name, ""), "127.0.0.1", "localhost"])))
    server = await FakeBotApi().start()
    yield server
    await server.close()


async def test_two_workers_answer_every_update_once_in_order(tmp_path, fake):
    db = tmp_path / "memory.db"
    hung = Echo(2, hang_on={"3-1"})
    assistants = [Echo(1), hung]
    memories = [Memory(db), Memory(db)]
    claims = [Claims.on(m, worker=f"w{i}", lease_s=1.0) for i, m in enumerate(memories)]
    apps = [build_application(TelegramBot(a, None, typing_interval=5), fake.token, fake.base_url, claims=c)
            for a, c in zip(assistants, claims)]
    for app in apps:
        await app.initialize()
        await app.start()
    stop = asyncio.Event()
    recovering = asyncio.create_task(recover_abandoned(apps[0], claims[0], stop, interval_s=0.2))  # w1 is "dead"
    rng = random.Random(26)
    chats, rounds = range(1, 7), 4
    pushed = []
    dead = False
    try:
        for m in range(rounds):
            for chat in chats:
                raw = fake.push({"message": fake.message(f"{chat}-{m}", chat_id=chat)})
                pushed.append(raw)
                text = raw["message"]["text"]
                if dead:  # w1 hangs in "3-1" and renews nothing, as a killed worker: the proxy sends it nothing more
                    targets = [0]
                else:
                    first = 1 if text == "3-1" else rng.randrange(2)
                    targets = [first] + ([1 - first] if rng.random() < 0.3 and text != "3-1" else [])
                    dead = text == "3-1"
                for i in targets:  # a redelivery reaches the other worker too
                    await apps[i].update_queue.put(Update.de_json(raw, apps[i].bot))
            await asyncio.sleep(0.05)
        total = len(chats) * rounds
        await fake.wait_for(lambda: len(fake.sent()) >= total, timeout=30)
        for raw in pushed[:3]:  # a late redelivery of updates already answered
            await apps[1].update_queue.put(Update.de_json(raw, apps[1].bot))
        await asyncio.sleep(1.0)
        texts = [c.text for c in fake.sent()]
        assert sorted(texts) == sorted(f"echo {chat}-{m}" for chat in chats for m in range(rounds)), texts
        by_chat: dict[int, list[int]] = defaultdict(list)
        for c in fake.sent():
            by_chat[c.params["chat_id"]].append(int(c.text.split("-")[1]))
        assert all(seq == sorted(seq) for seq in by_chat.values()), dict(by_chat)
    finally:
        stop.set()
        await recovering
        hung.release.set()
        for app in apps:
            await app.stop()
            await app.shutdown()
        for m in memories:
            m.close()

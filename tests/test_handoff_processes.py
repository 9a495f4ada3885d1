"""End to end with real OS processes: `shopguide telegram` (long polling the fake Bot API) and two `shopguide slack
--http` workers (signed events POSTed to them, the fake Slack Web API behind them) share one data directory, so a
handoff goes between processes only through the shared SQLite memory database (WAL); the same scenario with one
`shopguide serve` process. Nothing is lost, nothing is sent twice."""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import aiohttp
import pytest

from bot.handoff import TEXTS
from bot.handoff_store import HandoffStore
from bot.memory import Memory
from bot.present import format_price
from shopguide.bench.fake_telegram import FakeBotApi
from tests.servers import free_port, reap
from tests.slack_fake import BOT_TOKEN, SIGNING_SECRET, FakeSlack, block_text, event_body, sign

pytestmark = pytest.mark.e2e
ROOT = Path(__file__).resolve().parent.parent
ALICE = 42
DESK = "CHAND"
STAFF = "U111"
MODES = {
    "separate": [["telegram"], ["slack", "--http", "--host", "127.0.0.1", "--port", "{port}"],
                 ["slack", "--http", "--host", "127.0.0.1", "--port", "{port2}"]],  # two Slack workers, one database
    "serve": [["serve", "--slack-http", "--host", "127.0.0.1", "--port", "{port}"]],
}


@contextlib.contextmanager
def processes(commands: list[list[str]], env: dict[str, str], logs: Path) -> Iterator[list[subprocess.Popen]]:
    """Start each `shopguide` command of this checkout; terminate (then kill) every one on the way out."""
    procs: list[tuple[subprocess.Popen, object]] = []
    try:
        for i, args in enumerate(commands):
            log = open(logs / f"{i}-{args[0]}.log", "wb")
            proc = subprocess.Popen([sys.executable, "-m", "shopguide.cli", *args], cwd=logs, env=env, stdout=log,
                                    stderr=subprocess.STDOUT, start_new_session=True)
            procs.append((proc, log))
        yield [p for p, _ in procs]
    finally:
        for proc, _ in procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc, log in procs:  # all were signalled first: they stop side by side
            reap(proc, 20)
            log.close()


def tails(logs: Path, n: int = 2500) -> str:
    return "\n".join(f"--- {p.name}\n{p.read_bytes()[-n:].decode('utf-8', 'replace')}" for p in sorted(logs.glob("*.log")))


class Shop:
    """The processes under test between the two fakes, seen from outside: the fakes' records and the database."""

    def __init__(self, tg: FakeBotApi, slack: FakeSlack, procs, logs: Path, ports: list[int], store: HandoffStore,
                 http: aiohttp.ClientSession) -> None:
        self.tg, self.slack, self.procs, self.logs, self.store, self.http = tg, slack, procs, logs, store, http
        self.urls = [f"http://127.0.0.1:{port}/slack/events" for port in ports]  # one per Slack process
        self.seq = 0

    def alive(self) -> None:
        for proc in self.procs:
            if proc.poll() is not None:
                pytest.fail(f"{proc.args[3:5]} exited with {proc.returncode}:\n{tails(self.logs)}")

    async def until(self, predicate, timeout: float = 60.0, what: str = "") -> None:
        deadline = time.monotonic() + timeout
        while not predicate():
            self.alive()
            if time.monotonic() > deadline:
                pytest.fail(f"timed out waiting for {what}:\n{tails(self.logs)}")
            await asyncio.sleep(0.1)

    async def ready(self, timeout: float = 420.0) -> None:
        """Telegram is polling (PTB deletes any webhook as polling starts) and Slack answers HTTP (both after their
        warm-up)."""
        async def answers() -> bool:
            for url in self.urls:
                try:
                    async with self.http.get(url) as resp:
                        assert resp.status > 0
                except aiohttp.ClientError:
                    return False
            return True

        deadline = time.monotonic() + timeout
        while not (self.tg.calls_of("deleteWebhook") and await answers()):
            self.alive()
            if time.monotonic() > deadline:
                pytest.fail(f"the processes did not start within {timeout:.0f} s:\n{tails(self.logs)}")
            await asyncio.sleep(0.3)

    async def post(self, body: str, headers: dict | None = None, worker: int = 0) -> int:
        """POST to the Slack process `worker` (modulo how many there are: a load balancer's choice)."""
        async with self.http.post(self.urls[worker % len(self.urls)], data=body.encode(),
                                  headers={"Content-Type": "application/json", **sign(body), **(headers or {})}) as resp:
            return resp.status

    async def staff_says(self, text: str, thread_ts: str, event_id: str, ts: str | None = None,
                         headers: dict | None = None, worker: int = 0) -> str:
        self.seq += 1
        ts = ts or f"1700002000.{self.seq:06d}"
        event = {"type": "message", "channel": DESK, "channel_type": "channel", "user": STAFF, "text": text,
                 "ts": ts, "thread_ts": thread_ts, "event_ts": ts}
        assert await self.post(event_body(event, event_id), headers=headers, worker=worker) == 200
        return ts

    async def settled(self) -> None:
        """Nothing left to deliver in either direction, then a few poll intervals (0.5 s) for a duplicate to show."""
        await self.until(lambda: not any(self.store.pending(t) for t in ("desk:slack", "to:telegram")),
                         what="the outboxes to empty")
        await asyncio.sleep(2.0)

    def in_thread(self, thread_ts: str) -> list[str]:
        return [c.params.get("text", "") for c in self.slack.to("chat.postMessage",
                                                                  lambda c: c.params.get("thread_ts") == thread_ts)]

    def relayed(self) -> list[str]:
        return [c.text for c in self.tg.sent(ALICE) if "from the shop:" in c.text]


@pytest.fixture(params=list(MODES))
async def shop(request, demo_store_dir, tmp_path, monkeypatch):
    for name in ("NO_PROXY", "no_proxy"):
        monkeypatch.setenv(name, ",".join(filter(None, [os.environ.get(name, ""), "127.0.0.1", "localhost"])))
    data = tmp_path / "data"
    shutil.copytree(demo_store_dir, data)
    logs = tmp_path / "logs"
    logs.mkdir()
    tg, slack = await FakeBotApi().start(), await FakeSlack().start()
    ports = [free_port(), free_port()]
    env = {k: v for k, v in os.environ.items() if not k.startswith("SHOPGUIDE_")}
    env.update(PYTHONPATH=str(ROOT), HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1", ANONYMIZED_TELEMETRY="False",
               SHOPGUIDE_DATA_DIR=str(data), SHOPGUIDE_LLM_ENABLED="false",
               SHOPGUIDE_TELEGRAM_TOKEN=tg.token, SHOPGUIDE_TELEGRAM_API_URL=tg.base_url,
               SHOPGUIDE_SLACK_BOT_TOKEN=BOT_TOKEN, SHOPGUIDE_SLACK_SIGNING_SECRET=SIGNING_SECRET,
               SHOPGUIDE_SLACK_API_URL=slack.base_url, SHOPGUIDE_SLACK_STAFF=f"{STAFF},{DESK}",
               SHOPGUIDE_SLACK_HANDOFF_CHANNEL=DESK)
    memory = Memory(data / "memory.db")  # the test's own connection, as a third process would have
    commands = [[a.format(port=ports[0], port2=ports[1]) for a in args] for args in MODES[request.param]]
    ports = ports[:sum(1 for args in commands if "--port" in args)]
    http = aiohttp.ClientSession()
    try:
        with processes(commands, env, logs) as procs:
            shop = Shop(tg, slack, procs, logs, ports, HandoffStore(memory.db, memory.lock), http)
            await shop.ready()
            yield shop
    finally:
        await http.close()
        memory.close()
        await tg.close()
        await slack.stop()


async def test_handoff_between_processes_relays_once_and_hands_back(shop, demo_kb):
    tg, slack = shop.tg, shop.slack
    tg.text_update("waterproof hiking boots", ALICE, first_name="Alice")
    tg.text_update("/human", ALICE, first_name="Alice")
    started = TEXTS["started"][:40]
    await shop.until(lambda: any(started in c.text for c in tg.sent(ALICE)), what="the hand-over text")
    sent = tg.sent(ALICE)
    skus = [b["callback_data"][2:] for c in sent for b in c.buttons if b.get("callback_data", "").startswith("d:")]
    assert len(skus) >= 3, [c.text for c in sent]

    # the Telegram process recorded the handoff; the Slack process posts its root from the shared database
    [root] = await slack.wait_for("chat.postMessage", predicate=lambda c: c.params.get("channel") == DESK
                                  and not c.params.get("thread_ts"), timeout=60)
    text = block_text(root.params["blocks"])
    assert "Alice" in text and "telegram" in text and "waterproof hiking boots" in text
    for sku in set(skus):  # the products in view, with prices from the records
        product = demo_kb.store.get_product(sku)
        assert product.title.replace("&", "&amp;") in text and format_price(product.price, product.currency) in text
    await shop.until(lambda: (h := shop.store.active(f"telegram:{ALICE}")) is not None and h.thread_ts,
                     what="the thread ts recorded")
    thread = shop.store.active(f"telegram:{ALICE}").thread_ts

    before = len(tg.sent(ALICE))
    tg.text_update("do they come in a wide fit?", ALICE, first_name="Alice")
    await slack.wait_for("chat.postMessage", predicate=lambda c: c.params.get("thread_ts") == thread
                         and "do they come in a wide fit?" in c.params.get("text", ""), timeout=60)
    await shop.settled()
    assert len(tg.sent(ALICE)) == before, "the assistant stays quiet while a person holds the conversation"

    words = "Yes, the second pair comes in wide & narrow <fits>."
    ts = await shop.staff_says(words, thread, "EvRelay")
    await shop.until(lambda: shop.relayed(), what="the staff reply at Telegram")
    await shop.staff_says(words, thread, "EvRelay", ts=ts, headers={"X-Slack-Retry-Num": "1",
                                                                   "X-Slack-Retry-Reason": "http_timeout"}, worker=1)
    await shop.settled()
    assert shop.relayed() == [f"Anna from the shop: {words}"], \
        "relayed once, also when Slack retries the event (to the other Slack process, when there are two)"
    roots = slack.to("chat.postMessage", lambda c: c.params.get("channel") == DESK and not c.params.get("thread_ts"))
    assert len(roots) == 1, "the root is posted once, whichever Slack process claimed it"

    before = len(tg.sent(ALICE))
    await shop.staff_says("!close", thread, "EvClose", worker=1)
    back = TEXTS["handed_back"].format(name="Anna")
    await shop.until(lambda: any(c.text == back for c in tg.sent(ALICE)), what="the hand-back at Telegram")
    await shop.until(lambda: any(t.startswith("Handed back to the assistant") for t in shop.in_thread(thread)),
                     what="the hand-back note in the thread")
    await shop.settled()
    assert [c.text for c in tg.sent(ALICE)[before:]] == [back], "told once, and `!close` itself is never relayed"
    assert shop.store.active(f"telegram:{ALICE}") is None

    before = len(tg.sent(ALICE))
    tg.text_update("waterproof hiking boots", ALICE, first_name="Alice")
    await shop.until(lambda: sum(1 for c in tg.sent(ALICE)[before:] for b in c.buttons
                                 if b.get("callback_data", "").startswith("d:")) >= 3, what="the assistant answering again")

"""End to end: a Telegram customer's handoff becomes a Slack thread and staff replies come back, with the real
python-telegram-bot and slack-bolt (one process, `shopguide serve`'s wiring) against both fake servers at once."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import time

import aiohttp
import pytest

from adapters.serve import start_all, stop_all
from adapters.slack.handoff import ERASED, NOT_STAFF
from adapters.telegram.relay import BLOCKED_NOTE
from adapters.telegram.render import render_reply
from bot.handoff import TEXTS
from bot.present import format_price
from shopguide.cli.app import build_runtime
from shopguide.bench.fake_telegram import FakeBotApi, tg_len
from shopguide.settings import Settings
from tests.slack_fake import BOT_TOKEN, SIGNING_SECRET, FakeSlack, action_body, block_text, event_body, sign

pytestmark = pytest.mark.e2e
ALICE, BOB, CAROL = 42, 43, 44
DESK = "CHAND"
STAFF = "U111"


class Recorder:
    """Wraps the assistant; remembers each turn so the test knows how many messages to wait for."""

    def __init__(self, inner) -> None:
        self.inner, self.turns = inner, []

    async def handle(self, msg):
        replies = await self.inner.handle(msg)
        self.turns.append((msg, replies))
        return replies


class Both:
    """The app under test between the two fakes."""

    def __init__(self, tg: FakeBotApi, slack: FakeSlack, served, runtime, rec: Recorder, http) -> None:
        self.tg, self.slack, self.served, self.runtime, self.rec, self.http = tg, slack, served, runtime, rec, http
        self.url = f"http://127.0.0.1:{served.slack_port}/slack/events"
        self.seq = 0

    async def say(self, text: str, chat: int = ALICE, first_name: str = "Alice"):
        turns, sent = len(self.rec.turns), len(self.tg.sent(chat))
        self.tg.text_update(text, chat, first_name=first_name)
        await self.tg.wait_for(lambda: len(self.rec.turns) > turns)
        replies = self.rec.turns[turns][1]
        expected = sum(len(render_reply(r)) for r in replies)
        await self.tg.wait_for(lambda: len(self.tg.sent(chat)) >= sent + expected)
        return replies, self.tg.sent(chat)[sent:]

    async def post(self, body: str, content_type: str = "application/json", headers: dict | None = None) -> int:
        async with self.http.post(self.url, data=body.encode(),
                                  headers={"Content-Type": content_type, **sign(body), **(headers or {})}) as resp:
            return resp.status

    async def staff_says(self, text: str, thread_ts: str, user: str = STAFF, event_id: str | None = None,
                         ts: str | None = None, headers: dict | None = None, files: list | None = None) -> str:
        self.seq += 1
        ts = ts or f"1700002000.{self.seq:06d}"
        event = {"type": "message", "channel": DESK, "channel_type": "channel", "user": user, "text": text,
                 "ts": ts, "thread_ts": thread_ts, "event_ts": ts}
        if files:
            event["subtype"], event["files"] = "file_share", files
        assert await self.post(event_body(event, event_id or f"Ev{self.seq:04d}"), headers=headers) == 200
        return ts

    async def settled(self) -> None:
        """Every background Slack task done and nothing left in the outboxes."""
        await self.served.slack.drain(10)
        store = self.runtime.services.handoffs.store
        deadline = time.monotonic() + 20
        while any(store.pending(t) for t in ("desk:slack", "to:telegram")) and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        await asyncio.sleep(0.3)

    def root(self, user_key: str) -> tuple[int, str]:
        """The handoff id and its thread's ts, once posted."""
        handoff = self.runtime.services.handoffs.store.active(user_key)
        assert handoff is not None and handoff.thread_ts
        return handoff.id, handoff.thread_ts

    def in_thread(self, thread_ts: str) -> list[str]:
        return [c.params.get("text", "") for c in self.slack.to("chat.postMessage", lambda c: c.params.get("thread_ts") == thread_ts)]


@contextlib.asynccontextmanager
async def serving(monkeypatch, kb, tmp_path):
    """Both fakes and `shopguide serve`'s wiring on `kb`, torn down after."""
    for name in ("NO_PROXY", "no_proxy"):
        monkeypatch.setenv(name, ",".join(filter(None, [os.environ.get(name, ""), "127.0.0.1", "localhost"])))
    tg, slack = await FakeBotApi().start(), await FakeSlack().start()
    settings = Settings(data_dir=tmp_path / "data", _env_file=None, llm_enabled=False, telegram_token=tg.token,
                        telegram_api_url=tg.base_url, slack_bot_token=BOT_TOKEN, slack_signing_secret=SIGNING_SECRET,
                        slack_api_url=slack.base_url, slack_staff=f"{STAFF},{DESK}", slack_handoff_channel=DESK)
    runtime = build_runtime(settings, kb=kb, load_llm=False, memory_path=tmp_path / "m.db")
    rec = Recorder(runtime.assistant)
    served = await start_all(runtime, asyncio.Event(), assistant=rec, slack_http=True, slack_host="127.0.0.1",
                             slack_port=0, poll_timeout=1)
    http = aiohttp.ClientSession()
    try:
        yield Both(tg, slack, served, runtime, rec, http)
    finally:
        await http.close()
        await stop_all(served)
        runtime.close()
        await tg.close()
        await slack.stop()


@pytest.fixture
async def both(monkeypatch, demo_kb, tmp_path):
    async with serving(monkeypatch, demo_kb, tmp_path) as served:
        yield served


def relayed(tg: FakeBotApi, chat: int) -> list[str]:
    return [c.text for c in tg.sent(chat) if "from the shop:" in c.text]


async def test_handoff_thread_relay_quiet_assistant_and_close(both, demo_kb):
    tg, slack = both.tg, both.slack
    _, cards = await both.say("waterproof hiking boots")
    skus = [b["callback_data"][2:] for c in cards for b in c.buttons if b["callback_data"].startswith("d:")]
    assert len(skus) >= 3
    [started], _ = await both.say("/human")
    assert started.text == TEXTS["started"]

    [root] = await slack.wait_for("chat.postMessage", predicate=lambda c: c.params.get("channel") == DESK
                                  and not c.params.get("thread_ts"))
    text = block_text(root.params["blocks"])
    assert "Alice" in text and "telegram" in text and "waterproof hiking boots" in text
    for sku in skus:  # the products in view, with prices from the records
        product = demo_kb.store.get_product(sku)
        assert product.title.replace("&", "&amp;") in text and format_price(product.price, product.currency) in text
    buttons = [e["action_id"] for b in root.params["blocks"] if b["type"] == "actions" for e in b["elements"]]
    assert buttons[:2] == ["handoff_take", "handoff_close"]
    handoff_id, thread = both.root(f"telegram:{ALICE}")

    quiet, _ = await both.say("do they come in a wide fit?")
    assert quiet == [], "the hand-over already said a person answers from now on"
    await slack.wait_for("chat.postMessage", predicate=lambda c: c.params.get("thread_ts") == thread
                         and "do they come in a wide fit?" in c.params.get("text", ""))

    await both.staff_says("Yes, the second pair comes in wide & narrow <fits>.", thread, event_id="EvRelay")
    await tg.wait_for(lambda: relayed(tg, ALICE))
    assert relayed(tg, ALICE) == ["Anna from the shop: Yes, the second pair comes in wide & narrow <fits>."]
    await both.staff_says("Yes, the second pair comes in wide & narrow <fits>.", thread, event_id="EvRelay",
                          ts=f"1700002000.{both.seq:06d}", headers={"X-Slack-Retry-Num": "1",
                                                                    "X-Slack-Retry-Reason": "http_timeout"})
    await both.settled()
    assert len(relayed(tg, ALICE)) == 1, "a retried Slack event is relayed once"

    replies, sent = await both.say("thanks, and in red?")
    assert replies == [] and sent == [], "the assistant stays quiet while a person holds the conversation"

    tg.fail_next("sendMessage", 429, retry_after=1, match=lambda p: "from the shop" in str(p.get("text")))
    await both.staff_says("We have it in red too.", thread)
    await tg.wait_for(lambda: len(relayed(tg, ALICE)) == 2)
    await both.settled()
    limited = [c for c in tg.calls_of("sendMessage", ALICE, ok=False) if c.status == 429]
    assert limited and relayed(tg, ALICE)[1] == "Anna from the shop: We have it in red too."
    assert len(relayed(tg, ALICE)) == 2, "a 429 is waited out and the message delivered once"

    long = " ".join(f"word{i}" for i in range(2500))  # ~17,000 characters
    await both.staff_says(long, thread, files=[{"name": "size-chart.pdf"}])
    await tg.wait_for(lambda: len(tg.sent(ALICE)) >= 9)
    await both.settled()
    pieces = [c.text for c in tg.sent(ALICE)][-5:]
    assert all(tg_len(p) <= 4096 for p in pieces)
    joined = " ".join(p for p in pieces if "word" in p or "attachment" in p)
    assert "word2499" in joined and "size-chart.pdf" in joined

    await both.staff_says("I'm not staff", thread, user="U999")
    refusal = await slack.wait_for("chat.postEphemeral", predicate=lambda c: c.params.get("user") == "U999")
    assert refusal[0].params["text"] == NOT_STAFF

    before = len(tg.sent(ALICE))
    assert await both.post(action_body("handoff_close", str(handoff_id), slack.response_url(1), user=STAFF,
                                       channel=DESK, message_ts=thread), "application/x-www-form-urlencoded") == 200
    await tg.wait_for(lambda: len(tg.sent(ALICE)) > before)
    assert tg.sent(ALICE)[-1].text == TEXTS["handed_back"].format(name="Anna")
    await both.settled()
    assert any(t.startswith("Handed back to the assistant") for t in both.in_thread(thread))
    assert not any("I'm not staff" in t for t in relayed(tg, ALICE))

    _, cards = await both.say("waterproof hiking boots")
    assert len(cards) >= 3, "handed back: the assistant answers again"


async def test_two_customers_never_cross_and_blocked_or_erased_customers(both):
    tg, slack = both.tg, both.slack
    await both.say("/human", BOB, "Bob")
    await both.say("/human", CAROL, "Carol")
    await slack.wait_for("chat.postMessage", 2, predicate=lambda c: c.params.get("channel") == DESK
                         and not c.params.get("thread_ts"))
    await both.settled()
    _, bob_thread = both.root(f"telegram:{BOB}")
    carol_id, carol_thread = both.root(f"telegram:{CAROL}")
    assert bob_thread != carol_thread

    await both.staff_says("For Bob", bob_thread)
    await both.staff_says("For Carol", carol_thread)
    await tg.wait_for(lambda: relayed(tg, BOB) and relayed(tg, CAROL))
    await both.settled()
    assert relayed(tg, BOB) == ["Anna from the shop: For Bob"] and relayed(tg, CAROL) == ["Anna from the shop: For Carol"]

    tg.fail_next("sendMessage", 403, "Forbidden: bot was blocked by the user", match=lambda p: p.get("chat_id") == CAROL)
    await both.staff_says("Are you there?", carol_thread)
    await slack.wait_for("chat.postMessage", predicate=lambda c: c.params.get("thread_ts") == carol_thread
                         and BLOCKED_NOTE in c.params.get("text", ""))
    assert both.runtime.services.handoffs.store.get(carol_id).close_reason == "blocked"

    [ask], _ = await both.say("/forget", BOB, "Bob")
    assert ask.intent == "forget"
    [done], _ = await both.say("yes", BOB, "Bob")
    assert TEXTS["erased_note"] in done.text
    deleted = await slack.wait_for("chat.delete", 2)
    assert {c.params["ts"] for c in deleted} >= {bob_thread}
    await both.staff_says("Hello again", bob_thread)
    gone = await slack.wait_for("chat.postEphemeral", predicate=lambda c: c.params.get("text") == ERASED)
    assert gone[0].params["user"] == STAFF
    await both.settled()
    assert relayed(tg, BOB) == ["Anna from the shop: For Bob"]

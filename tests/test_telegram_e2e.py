"""End to end: the real, unmodified PTB Application and the real core against the fake Bot API server."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import os
import socket
import time
from collections.abc import AsyncIterator, Callable

import aiohttp
import pytest
from shopguide.bench.fake_telegram import FakeBotApi, tg_len

from shopguide.cli import platforms
from adapters.telegram.bot import APOLOGY, STALE_BUTTON, TEXT_ONLY, UNKNOWN_COMMAND, TelegramBot, WebhookConfig, build_application, serve
from adapters.telegram.render import render_reply
from bot.present import details_text, format_price
from bot.types import IncomingMessage, Reply
from shopguide.cli.app import build_runtime

pytestmark = pytest.mark.e2e

ALICE = 42


class Recorder:
    """Wraps an assistant; remembers each turn so tests know how many messages to wait for."""

    def __init__(self, inner, before: Callable[[IncomingMessage], object] | None = None) -> None:
        self.inner, self.before = inner, before
        self.turns: list[tuple[IncomingMessage, list[Reply]]] = []

    async def handle(self, msg: IncomingMessage) -> list[Reply]:
        if self.before is not None:
            special = self.before(msg)
            if asyncio.iscoroutine(special):
                special = await special
            if special is not None:
                self.turns.append((msg, special))
                return special
        replies = await self.inner.handle(msg)
        self.turns.append((msg, replies))
        return replies


@pytest.fixture
async def fake(monkeypatch) -> AsyncIterator[FakeBotApi]:
    for name in ("NO_PROXY", "no_proxy"):  # httpx (PTB) and aiohttp must not send 127.0.0.1 through a proxy
        monkeypatch.setenv(name, ",".join(filter(None, [os.environ.get(name, ""), "127.0.0.1", "localhost"])))
    server = await FakeBotApi().start()
    yield server
    await server.close()


@contextlib.asynccontextmanager
async def running(fake: FakeBotApi, assistant, seen, *, webhook: WebhookConfig | None = None):
    """Serve the bot (PTB Application built with `base_url` pointing at the fake) until the block ends."""
    app = build_application(TelegramBot(assistant, seen, typing_interval=0.3), fake.token, fake.base_url)
    stop = asyncio.Event()
    task = asyncio.create_task(serve(app, stop, webhook=webhook, poll_timeout=1))
    await fake.wait_for(lambda: task.done() or app.running)
    if task.done():
        task.result()
    try:
        yield app
    finally:
        stop.set()
        await asyncio.wait_for(task, 20)


async def turn(fake: FakeBotApi, rec: Recorder, push: Callable[[], object], chat_id: int = ALICE):
    """Push one update and return every message the bot sent for it, once all have arrived."""
    turns, sent = len(rec.turns), len(fake.sent(chat_id))
    push()
    await fake.wait_for(lambda: len(rec.turns) > turns)
    expected = sum(len(render_reply(r)) for r in rec.turns[turns][1])
    await fake.wait_for(lambda: len(fake.sent(chat_id)) >= sent + expected)
    return fake.sent(chat_id)[sent:]


def sku_of(call) -> str:
    details = [b["callback_data"] for b in call.buttons if b["callback_data"].startswith("d:")]
    assert details, f"no Details button on {call.text!r}"
    return details[0][2:]


async def search_turn(fake, rec, demo_kb, query="waterproof hiking boots", chat_id=ALICE):
    """A search; asserts intro + one card per product with catalog titles, prices and buttons."""
    sent = await turn(fake, rec, lambda: fake.text_update(query, chat_id), chat_id)
    intro, cards = sent[0], sent[1:]
    assert "waterproof hiking boots" in intro.text and intro.buttons == []
    assert len(cards) >= 3
    for call in cards:
        product = demo_kb.store.get_product(sku_of(call))
        assert product is not None
        assert product.title in call.text
        assert format_price(product.price, product.currency) in call.text
        assert call.params["parse_mode"] == "HTML"
        assert [b["callback_data"] for b in call.buttons[:3]] == [f"d:{product.id}", f"m:{product.id}", f"s:{product.id}"]
        assert [b["text"] for b in call.buttons[:3]] == ["Details", "More like this", "♥ Save"]
    titles = [demo_kb.store.get_product(sku_of(c)).title.lower() for c in cards]
    assert sum("boot" in t for t in titles) >= len(titles) - 1
    return cards


async def test_start_search_and_details_button(fake, runtime, demo_kb):
    rec = Recorder(runtime.assistant)
    async with running(fake, rec, runtime.memory):
        assert [c["command"] for c in fake.calls_of("setMyCommands")[0].params["commands"]] == [
            "start", "help", "search", "prefs", "forget", "export", "human", "language"]
        [greeting] = await turn(fake, rec, lambda: fake.text_update("/start"))
        assert greeting.text.startswith("Hello, Alice! I'm the shop's assistant.")
        assert "find products" in greeting.text and "compare" in greeting.text
        assert [b["callback_data"] for b in greeting.buttons] == [b.action for b in runtime.services.storefront.examples]
        assert "q:hiking boots" in [b["callback_data"] for b in greeting.buttons]  # the demo's largest product type
        typing = fake.calls_of("sendChatAction", ALICE)
        assert typing and typing[0].params["action"] == "typing" and typing[0].at <= greeting.at

        cards = await search_turn(fake, rec, demo_kb)

        card = cards[1]
        product = demo_kb.store.get_product(sku_of(card))
        details = await turn(fake, rec, lambda: fake.callback_update(f"d:{product.id}", message=card.result, query_id="cbq-details"))
        [answer] = fake.calls_of("answerCallbackQuery")
        assert answer.params["callback_query_id"] == "cbq-details" and answer.at <= details[0].at
        body = "\n".join(c.text for c in details)
        assert body == details_text(product)
        assert f"Price: {format_price(product.price, product.currency)}" in body and f"SKU: {product.id}" in body
        assert [b["callback_data"] for b in details[-1].buttons] == [f"m:{product.id}", f"s:{product.id}"]


async def test_forget_asks_for_confirmation_then_erases(fake, runtime):
    rec, user = Recorder(runtime.assistant), f"telegram:{ALICE}"
    async with running(fake, rec, runtime.memory):
        [noted] = await turn(fake, rec, lambda: fake.text_update("I wear size 42"))
        assert "size 42" in noted.text and runtime.memory.preferences(user)["shoe_size"].value == "42"

        [ask] = await turn(fake, rec, lambda: fake.text_update("/forget"))
        assert "Are you sure?" in ask.text
        assert [b["callback_data"] for b in ask.buttons] == ["forget:yes", "forget:no"]
        [kept] = await turn(fake, rec, lambda: fake.callback_update("forget:no", message=ask.result, query_id="cbq-no"))
        assert kept.text == "Okay, nothing was erased." and runtime.memory.preferences(user)

        [ask] = await turn(fake, rec, lambda: fake.text_update("/forget"))
        [done] = await turn(fake, rec, lambda: fake.callback_update("forget:yes", message=ask.result, query_id="cbq-yes"))
        assert done.text.startswith("Done. I've erased everything I had about you")
        assert [c.params["callback_query_id"] for c in fake.calls_of("answerCallbackQuery")] == ["cbq-no", "cbq-yes"]
        assert runtime.memory.preferences(user) == {} and runtime.memory.count_rows(user) == 0


async def test_prefs_export_human_and_search_commands(fake, runtime, demo_kb):
    rec = Recorder(runtime.assistant)
    async with running(fake, rec, runtime.memory):
        await turn(fake, rec, lambda: fake.text_update("I wear size 42"))
        [prefs] = await turn(fake, rec, lambda: fake.text_update("/prefs"))
        assert prefs.text.startswith("Here is what I remember about you:") and "shoe size: 42" in prefs.text
        [export] = await turn(fake, rec, lambda: fake.text_update("/export"))
        assert export.name == "senddocument" and export.text.startswith("Here is a copy of everything I store about you")
        filename, content = export.files["document"]
        data = json.loads(content)
        assert filename == "shopguide-export.json" and data["user"] == f"telegram:{ALICE}"
        assert [(p["key"], p["value"]) for p in data["preferences"]] == [("shoe_size", "42")]
        [human] = await turn(fake, rec, lambda: fake.text_update("/human"))
        assert human.text.startswith("I'm sorry: our team can't be reached through this chat")  # no staff desk set
        found = await turn(fake, rec, lambda: fake.text_update("/search rain jacket"))
        assert "rain jacket" in found[0].text and len(found) >= 2
        for card in found[1:]:
            product = demo_kb.store.get_product(sku_of(card))
            assert product.title in card.text and format_price(product.price, product.currency) in card.text


async def test_429_is_waited_out_and_the_same_message_resent_once(fake, runtime):
    rec = Recorder(runtime.assistant)
    async with running(fake, rec, runtime.memory):
        fake.fail_next("sendMessage", 429, retry_after=1)
        [reply] = await turn(fake, rec, lambda: fake.text_update("/help"))
        attempts = fake.calls_of("sendMessage", ALICE, ok=None)
        assert [c.status for c in attempts] == [429, 200]
        assert attempts[0].params == attempts[1].params  # the very same message
        assert attempts[1].at - attempts[0].at >= 0.9
        assert reply.text == runtime.services.storefront.capabilities
        await asyncio.sleep(0.3)
        assert len(fake.sent(ALICE)) == 1


async def test_reply_over_4096_characters_arrives_split(fake, runtime, demo_kb):
    blocks = [details_text(p) for p in demo_kb.store.all_products()[:20]]
    long_text = "\n\n".join(blocks)
    assert len(long_text) > 4096

    def catalog_dump(msg: IncomingMessage):
        return [Reply(text=long_text)] if msg.text == "everything please" else None

    rec = Recorder(runtime.assistant, before=catalog_dump)
    async with running(fake, rec, runtime.memory):
        parts = await turn(fake, rec, lambda: fake.text_update("everything please"))
    assert len(parts) >= 2
    assert all(tg_len(p.text) <= 4096 for p in parts)
    assert "\n\n".join(p.text for p in parts) == long_text
    paragraphs = set(long_text.split("\n\n"))
    assert all(set(p.text.split("\n\n")) <= paragraphs for p in parts)  # cut at paragraph boundaries


async def test_rejected_html_is_resent_as_plain_text(fake, runtime):
    rec = Recorder(runtime.assistant)
    async with running(fake, rec, runtime.memory):
        fake.fail_next("sendMessage", 400, "Bad Request: can't parse entities: Unsupported start tag \"x\" at byte offset 3")
        [reply] = await turn(fake, rec, lambda: fake.text_update("/help"))
    first, second = fake.calls_of("sendMessage", ALICE, ok=None)
    assert (first.status, first.params["parse_mode"]) == (400, "HTML")
    assert second.ok and "parse_mode" not in second.params
    help_text = runtime.services.storefront.capabilities
    assert second.params["text"] == help_text and reply.text == help_text
    assert second.params["reply_markup"] == first.params["reply_markup"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def test_webhook_accepts_the_secret_token_and_rejects_a_wrong_one(fake, runtime):
    rec, port, secret = Recorder(runtime.assistant), free_port(), "s3cret_Webhook-token"
    hook = WebhookConfig(url="https://shop.example/telegram/hook", listen="127.0.0.1", port=port, secret_token=secret)
    async with running(fake, rec, runtime.memory, webhook=hook), aiohttp.ClientSession() as http:
        [setup] = fake.calls_of("setWebhook")
        assert setup.params["url"] == hook.url and setup.params["secret_token"] == secret
        url = f"http://127.0.0.1:{port}/telegram/hook"

        async def post(update: dict, token: str | None) -> int:
            headers = {"Content-Type": "application/json"} | ({"X-Telegram-Bot-Api-Secret-Token": token} if token else {})
            async with http.post(url, data=json.dumps(update), headers=headers) as resp:
                return resp.status

        statuses = []
        forged = {"update_id": 900, "message": fake.message("/start", chat_id=77)}
        [greeting] = await turn(fake, rec, lambda: statuses.append(asyncio.ensure_future(post(
            {"update_id": 901, "message": fake.message("/start", chat_id=ALICE)}, secret))))
        assert await statuses[0] == 200
        assert greeting.text.startswith("Hello, Alice!")
        assert await post(forged, "wrong-token") == 403
        assert await post(forged, None) == 403
        await asyncio.sleep(0.5)
        assert fake.sent(77) == [] and len(rec.turns) == 1
        assert fake.calls_of("getUpdates", ok=None) == []


async def test_restart_keeps_state_and_skips_old_updates(fake, settings, demo_kb, chat_worker, tmp_path):
    path = tmp_path / "telegram-memory.db"
    first = build_runtime(settings, kb=demo_kb, worker=chat_worker, memory_path=path)
    rec = Recorder(first.assistant)
    try:
        async with running(fake, rec, first.memory):
            await turn(fake, rec, lambda: fake.text_update("/start"))
            cards = await search_turn(fake, rec, demo_kb)
    finally:
        first.close()
    second_sku = sku_of(cards[1])
    handled = [u["update_id"] for u in fake.updates]

    fake.unconfirm()  # Telegram delivers everything again, as after a crash before the offset was confirmed
    second = build_runtime(settings, kb=demo_kb, worker=chat_worker, memory_path=path)
    rec2 = Recorder(second.assistant)
    try:
        async with running(fake, rec2, second.memory):
            details = await turn(fake, rec2, lambda: fake.text_update("details of the second one"))
            await asyncio.sleep(0.3)
    finally:
        second.close()
    product = demo_kb.store.get_product(second_sku)
    assert "\n".join(c.text for c in details) == details_text(product)
    assert [m.text for m, _ in rec2.turns] == ["details of the second one"]  # old updates were not reprocessed
    redelivered = [u["update_id"] for c in fake.calls_of("getUpdates") for u in c.result]
    assert set(handled) <= set(redelivered)
    assert sum(c.text.startswith("Hello, Alice!") for c in fake.sent(ALICE)) == 1


async def test_a_slow_chat_does_not_block_others_and_each_chat_stays_in_order(fake, runtime):
    slow_chat, fast_chat = 1001, 1002

    async def slow_greeting(msg: IncomingMessage):
        if msg.chat_id == str(slow_chat) and msg.text == "hello":
            await asyncio.sleep(2.0)
        return None

    rec = Recorder(runtime.assistant, before=slow_greeting)
    async with running(fake, rec, runtime.memory):
        fake.text_update("/start", slow_chat)
        fake.callback_update("help", slow_chat, query_id="cbq-while-busy")
        fake.text_update("/help", fast_chat)
        pushed = time.monotonic()
        await fake.wait_for(lambda: len(fake.sent(slow_chat)) >= 2, timeout=20)
    [fast] = fake.sent(fast_chat)
    slow_greet, slow_help = fake.sent(slow_chat)
    [answer] = fake.calls_of("answerCallbackQuery")
    assert answer.params["callback_query_id"] == "cbq-while-busy" and answer.at - pushed < 1.5  # not after the slow turn
    assert fast.text == runtime.services.storefront.capabilities and fast.at - pushed < 1.5
    assert fast.at < slow_greet.at
    assert len(fake.calls_of("sendChatAction", slow_chat)) >= 4  # "typing…" kept up while the core worked
    assert slow_greet.text.startswith("Hello, Alice!") and slow_help.text == runtime.services.storefront.capabilities  # order kept within the chat


async def test_group_chat_answers_only_mentions_and_replies_with_memory_per_user(fake, runtime):
    group, bob = -100777, 7
    rec = Recorder(runtime.assistant)
    async with running(fake, rec, runtime.memory):
        said = dict(chat_type="supergroup", first_name="Bob")
        fake.text_update("anyone been to the Alps?", group, bob, **said)
        fake.text_update("ask @other_bot for the weather", group, bob, **said)
        [hello] = await turn(fake, rec, lambda: fake.text_update("@shop_bot hello", group, bob, **said), group)
        assert hello.text.startswith("Hello, Bob!")
        [helped] = await turn(fake, rec, lambda: fake.text_update("what can you do?", group, bob, reply_to=hello.result,
                                                               **said), group)
        assert helped.text == runtime.services.storefront.capabilities
    assert [m.text for m, _ in rec.turns] == ["hello", "what can you do?"]
    assert {m.user_key for m, _ in rec.turns} == {"telegram:7"}
    assert {e["user_key"] for e in runtime.memory.events_since(1)} == {"telegram:7"}


async def test_bad_input_gets_clear_answers_and_never_crashes(fake, runtime):
    rec = Recorder(runtime.assistant)
    async with running(fake, rec, runtime.memory):
        sticker = {"file_id": "s", "file_unique_id": "s1", "type": "regular", "width": 512, "height": 512,
                   "is_animated": False, "is_video": False}
        fake.push({"message": fake.message(None, sticker=sticker)})
        fake.push({"edited_message": {**fake.message("hello again"), "edit_date": int(time.time())}})
        fake.push({"channel_post": {"message_id": 5, "date": int(time.time()), "text": "sale!",
                                    "chat": {"id": -1009, "type": "channel", "title": "News"}}})
        fake.text_update("/teleport")
        fake.callback_update(None, query_id="cbq-game")
        fake.callback_update("d:" + "X" * 70, query_id="cbq-long")
        await fake.wait_for(lambda: len(fake.sent(ALICE)) >= 2 and len(fake.calls_of("answerCallbackQuery")) >= 2)
        [stale] = await turn(fake, rec, lambda: fake.callback_update("d:SG-NOPE-0000", query_id="cbq-forged"))
        cut = await turn(fake, rec, lambda: fake.text_update("waterproof boots " * 300))
    texts = [c.text for c in fake.sent(ALICE)]
    assert texts[:3] == [TEXT_ONLY, UNKNOWN_COMMAND, stale.text]
    assert stale.text == "Sorry, that product is no longer in our catalog. Ask me to search again."
    assert cut[0].text.startswith("(Your message was very long, so I read only the first 4,000 characters.)")
    answers = {c.params["callback_query_id"]: c.params.get("text") for c in fake.calls_of("answerCallbackQuery")}
    assert answers == {"cbq-game": STALE_BUTTON, "cbq-long": STALE_BUTTON, "cbq-forged": None}
    assert fake.sent(-1009) == [] and len(texts) == 3 + len(cut)
    assert [m.action or m.text[:20] for m, _ in rec.turns] == ["d:SG-NOPE-0000", "waterproof boots wat"]


async def test_failing_handler_logs_traceback_and_apologises(fake, runtime, caplog):
    def explode(msg: IncomingMessage):
        raise RuntimeError("boom in the core")

    rec = Recorder(runtime.assistant, before=explode)
    async with running(fake, rec, runtime.memory):
        fake.text_update("hello")
        [apology] = await fake.wait_for(lambda: fake.sent(ALICE))
    assert apology.text == APOLOGY
    failures = [r for r in caplog.records if r.levelno >= logging.ERROR and r.exc_info]
    assert failures and "boom in the core" in str(failures[0].exc_info[1])


@pytest.fixture
def restore_logging():
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    for h in list(root.handlers):
        if h not in handlers:
            root.removeHandler(h)
            h.close()
    for h in handlers:
        if h not in root.handlers:
            root.addHandler(h)
    root.setLevel(level)


def cli_args(**kw) -> argparse.Namespace:
    return argparse.Namespace(config=None, log_level=None, webhook_url=None, listen="127.0.0.1", port=0, **kw)


async def test_invalid_token_fails_at_start_with_one_clear_line(fake, tmp_path, monkeypatch, capsys, restore_logging):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SHOPGUIDE_TELEGRAM_TOKEN", "999999:not-a-valid-token-at-all-xxxxxxxxxxxx")
    monkeypatch.setenv("SHOPGUIDE_TELEGRAM_API_URL", fake.base_url)
    monkeypatch.setenv("SHOPGUIDE_DATA_DIR", str(tmp_path / "data"))
    code = await asyncio.to_thread(platforms.telegram, cli_args())
    err = capsys.readouterr().err
    assert code == 1
    assert err.strip().splitlines() == [
        "shopguide: Telegram rejected the bot token: check SHOPGUIDE_TELEGRAM_TOKEN (get one from @BotFather)."]
    assert "not-a-valid-token" not in err
    assert [c.method for c in fake.calls] == ["getMe"] and fake.calls[0].status == 401


def test_missing_token_names_the_setting(tmp_path, monkeypatch, capsys, restore_logging):
    from shopguide.cli import main as cli_main

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SHOPGUIDE_DATA_DIR", str(tmp_path / "data"))
    assert cli_main(["telegram"]) == 1
    err = capsys.readouterr().err
    assert "SHOPGUIDE_TELEGRAM_TOKEN" in err and "Traceback" not in err

"""A Slack event whose worker died mid-turn is taken over by a live worker: answered once, and not again when the
dead worker had already posted the reply (read back from the thread) before it could record it."""

from __future__ import annotations

import asyncio
import json

from slack_fake import BOT_TOKEN, SIGNING_SECRET, FakeSlack, dm_event, event_body

from adapters.slack.app import create_bot, make_client
from adapters.slack.convert import answered_in_thread, event_key
from bot.claims import Claims
from bot.memory import Memory
from shopguide.bench.worker_proc import echo_runtime
from shopguide.settings import Settings


def test_answered_in_thread_reads_only_this_bots_later_messages():
    thread = [{"ts": "100.000001", "user": "U1", "text": "hi"}, {"ts": "101.5", "bot_id": "BOTHER"},
              {"ts": "99.0", "bot_id": "BME"}, {"ts": "bad", "bot_id": "BME"}]
    assert not answered_in_thread(thread, "BME", "100.000001")  # only another bot, or ours before the message
    assert answered_in_thread([*thread, {"ts": "100.2", "bot_id": "BME"}], "BME", "100.000001")
    assert not answered_in_thread([{"ts": "100.2", "bot_id": "BME"}], None, "100.000001")
    assert not answered_in_thread([{"ts": "100.2", "bot_id": "BME"}], "BME", None)


async def _recover_once(tmp_path, answered_before: bool) -> tuple[FakeSlack, Memory, str]:
    fake = await FakeSlack().start()
    settings = Settings(data_dir=tmp_path / "data", _env_file=None, slack_bot_token=BOT_TOKEN,
                        slack_signing_secret=SIGNING_SECRET, slack_api_url=fake.base_url, claim_lease_s=1.0)
    memory = Memory(tmp_path / "memory.db")
    event = dm_event("tents please", ts="1700000000.000500")
    body = event_body(event, "EvDEAD1")
    dead = Claims.on(memory, worker="dead", lease_s=0.3)  # claimed, then the worker died mid-turn
    assert dead.claim(event_key(json.loads(body)), user_key="slack:U222", seq=1700000000.0005, payload=body) == "claimed"
    bot = create_bot(echo_runtime(settings, memory), make_client(settings))  # type: ignore[arg-type]
    if answered_before:  # it got as far as posting the reply
        await bot.client.chat_postMessage(channel=event["channel"], thread_ts=event["ts"], text="echo tents please")
    stop = asyncio.Event()
    recovering = asyncio.create_task(bot.recover(stop))
    key = event_key(json.loads(body))
    for _ in range(100):
        await asyncio.sleep(0.1)
        row = memory.db.execute("SELECT done_at FROM delivery_claims WHERE key = ?", [key]).fetchone()
        if row[0] is not None:
            break
    await bot.drain(5)
    stop.set()
    await recovering
    return fake, memory, key


async def test_an_abandoned_event_is_answered_by_the_live_worker(tmp_path):
    fake, memory, key = await _recover_once(tmp_path, answered_before=False)
    try:
        assert [c.params["text"] for c in fake.to("chat.postMessage")] == ["echo tents please"]
        assert memory.db.execute("SELECT done_at FROM delivery_claims WHERE key = ?", [key]).fetchone()[0] is not None
    finally:
        memory.close()
        await fake.stop()


async def test_an_event_answered_before_its_worker_died_is_not_answered_again(tmp_path):
    fake, memory, key = await _recover_once(tmp_path, answered_before=True)
    try:
        assert [c.params["text"] for c in fake.to("chat.postMessage")] == ["echo tents please"]  # the dead one's only
        assert fake.to("conversations.replies")
        assert memory.db.execute("SELECT done_at FROM delivery_claims WHERE key = ?", [key]).fetchone()[0] is not None
    finally:
        memory.close()
        await fake.stop()

"""Handoff latency through both fakes: `python -m tests.bench_handoff [--customers N] [--data-dir DIR]`.

Post latency: a Telegram customer's /human queued at the fake Bot API → the thread's root message at the fake
Slack (the turn, the outbox, chat.postMessage). Relay latency: a signed staff reply POSTed to the Slack app →
"NAME from the shop: …" at the fake Bot API. Draft latency (assisted mode, after `!bot assist`): the customer's
next message queued at the fake Bot API → the assistant's draft with Send / Edit / Discard in the thread. Send
latency: the staff member's Send press POSTed to the Slack app → the draft's text at the fake Bot API.
The real python-telegram-bot, slack-bolt and core, one process.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import tempfile
import time
from pathlib import Path

import aiohttp

from adapters.serve import start_all, stop_all
from shopguide.cli.app import build_runtime, load_demo_store, open_knowledge, prepare_environment
from shopguide.bench.common import summarise
from shopguide.bench.fake_telegram import FakeBotApi
from shopguide.settings import Settings
from tests.slack_fake import BOT_TOKEN, SIGNING_SECRET, FakeSlack, action_body, event_body, sign

DESK, STAFF = "CHAND", "U111"


async def bench(customers: int, data_dir: Path) -> dict:
    os.environ.setdefault("NO_PROXY", "127.0.0.1,localhost")
    tg, slack = await FakeBotApi().start(), await FakeSlack().start()
    settings = Settings(data_dir=data_dir, _env_file=None, llm_enabled=False, telegram_token=tg.token,
                        telegram_api_url=tg.base_url, slack_bot_token=BOT_TOKEN, slack_signing_secret=SIGNING_SECRET,
                        slack_api_url=slack.base_url, slack_staff=STAFF, slack_handoff_channel=DESK)
    kb = open_knowledge(settings)
    load_demo_store(kb)
    runtime = build_runtime(settings, kb=kb, load_llm=False, memory_path=Path(tempfile.mkdtemp()) / "m.db")
    served = await start_all(runtime, asyncio.Event(), slack_http=True, slack_host="127.0.0.1", slack_port=0,
                             poll_timeout=1)
    url = f"http://127.0.0.1:{served.slack_port}/slack/events"
    post_s, relay_s, draft_s, send_s = [], [], [], []
    store = runtime.services.handoffs.store
    async with aiohttp.ClientSession() as http:
        for i in range(customers):
            chat = 9000 + i
            roots = len(slack.to("chat.postMessage", lambda c: c.params.get("channel") == DESK and not c.params.get("thread_ts")))
            started = time.perf_counter()
            tg.text_update("/human", chat, first_name=f"C{i}")
            await slack.wait_for("chat.postMessage", roots + 1,
                                 lambda c: c.params.get("channel") == DESK and not c.params.get("thread_ts"))
            post_s.append(time.perf_counter() - started)
            while not (h := store.active(f"telegram:{chat}")) or not h.thread_ts:
                await asyncio.sleep(0.01)
            ts = f"1700003000.{i:06d}"
            body = event_body({"type": "message", "channel": DESK, "channel_type": "channel", "user": STAFF,
                               "text": f"hello {i}", "ts": ts, "thread_ts": h.thread_ts, "event_ts": ts}, f"EvB{i}")
            started = time.perf_counter()
            async with http.post(url, data=body.encode(), headers={"Content-Type": "application/json", **sign(body)}):
                pass
            await tg.wait_for(lambda: any("from the shop: hello" in c.text for c in tg.sent(chat)))
            relay_s.append(time.perf_counter() - started)

            ts = f"1700004000.{i:06d}"
            body = event_body({"type": "message", "channel": DESK, "channel_type": "channel", "user": STAFF,
                               "text": "!bot assist", "ts": ts, "thread_ts": h.thread_ts, "event_ts": ts}, f"EvA{i}")
            async with http.post(url, data=body.encode(), headers={"Content-Type": "application/json", **sign(body)}):
                pass
            while store.get(h.id).mode != "assist":
                await asyncio.sleep(0.01)
            thread = h.thread_ts
            drafts = len(slack.to("chat.postMessage", lambda c: c.params.get("thread_ts") == thread
                                  and "draft_send" in str(c.params.get("blocks"))))
            started = time.perf_counter()
            tg.text_update("waterproof hiking boots", chat, first_name=f"C{i}")
            [*_, draft] = await slack.wait_for("chat.postMessage", drafts + 1, lambda c: c.params.get("thread_ts") == thread
                                               and "draft_send" in str(c.params.get("blocks")))
            draft_s.append(time.perf_counter() - started)
            blocks = draft.params["blocks"] if isinstance(draft.params["blocks"], list) else json.loads(draft.params["blocks"])
            draft_id = blocks[1]["elements"][0]["value"]
            text = store.draft(int(draft_id))[1]
            body = action_body("draft_send", draft_id, slack.response_url(i), user=STAFF, channel=DESK)
            started = time.perf_counter()
            async with http.post(url, data=body.encode(),
                                 headers={"Content-Type": "application/x-www-form-urlencoded", **sign(body)}):
                pass
            await tg.wait_for(lambda: any(c.text == text for c in tg.sent(chat)))
            send_s.append(time.perf_counter() - started)
    await stop_all(served)
    runtime.close()
    kb.close()
    await tg.close()
    await slack.stop()
    return {"customers": customers, "post_s": summarise(post_s), "relay_s": summarise(relay_s),
            "draft_s": summarise(draft_s), "send_s": summarise(send_s)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=20)
    parser.add_argument("--data-dir", type=Path, default=None, help="a data dir holding (or to hold) the demo store")
    args = parser.parse_args()
    prepare_environment()
    data_dir = args.data_dir or Path(tempfile.mkdtemp()) / "data"
    result = asyncio.run(bench(args.customers, data_dir))
    print(json.dumps(result, indent=2))
    for name in ("post_s", "relay_s", "draft_s", "send_s"):
        r = result[name]
        print(f"{name[:-2]:>5}: n={r['n']} p50={r['p50'] * 1000:.0f} ms p95={r['p95'] * 1000:.0f} ms max={r['max'] * 1000:.0f} ms")


if __name__ == "__main__":
    main()

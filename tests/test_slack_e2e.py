"""End to end: the real slack-bolt app over HTTP, signed requests in, a fake Slack Web API out."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from dataclasses import dataclass

import aiohttp
import pytest
from aiohttp import web

from adapters.slack.app import SlackBot, create_bot, make_client
from bot.present import format_price
from shopguide.cli.app import build_runtime
from shopguide.settings import Settings
from tests.slack_fake import (
    BOT_TOKEN,
    SIGNING_SECRET,
    FakeSlack,
    action_body,
    command_body,
    dm_event,
    event_body,
    mention_event,
    sign,
)

pytestmark = pytest.mark.e2e
FORM = "application/x-www-form-urlencoded"


@dataclass
class SlackEnv:
    """The app under test, served on 127.0.0.1, and the fake Web API it talks to."""

    fake: FakeSlack
    bot: SlackBot
    runtime: object
    url: str
    http: aiohttp.ClientSession

    async def post(self, body: str, content_type: str = "application/json", headers: dict | None = None,
                   signed: bool = True) -> tuple[int, str, float]:
        """POST a (signed) request to /slack/events; returns status, body and seconds taken."""
        all_headers = {"Content-Type": content_type, **(sign(body) if signed else {}), **(headers or {})}
        started = time.monotonic()
        async with self.http.post(self.url, data=body.encode(), headers=all_headers) as resp:
            return resp.status, await resp.text(), time.monotonic() - started

    async def command(self, text: str, n: int, **kwargs) -> tuple[int, str, float]:
        return await self.post(command_body(text, self.fake.response_url(n), **kwargs), FORM)

    async def event(self, event: dict, event_id: str | None = None, headers: dict | None = None):
        return await self.post(event_body(event, event_id), headers=headers)


@pytest.fixture
async def fake():
    server = await FakeSlack().start()
    yield server
    await server.stop()


async def start_env(fake: FakeSlack, runtime) -> SlackEnv:
    bot = create_bot(runtime, make_client(runtime.settings))
    runner = web.AppRunner(bot.web_app())
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    http = aiohttp.ClientSession()
    env = SlackEnv(fake, bot, runtime, f"http://127.0.0.1:{port}/slack/events", http)
    env._runner = runner  # type: ignore[attr-defined]
    return env


async def stop_env(env: SlackEnv) -> None:
    await env.bot.drain(10)
    await env.http.close()
    await env._runner.cleanup()  # type: ignore[attr-defined]


def slack_settings(fake: FakeSlack, tmp_path, **overrides) -> Settings:
    return Settings(data_dir=tmp_path / "data", _env_file=None, slack_bot_token=BOT_TOKEN,
                    slack_signing_secret=SIGNING_SECRET, slack_api_url=fake.base_url, slack_staff="U111,C111",
                    **overrides)


@pytest.fixture
async def env(fake, demo_kb, chat_worker, tmp_path):
    runtime = build_runtime(slack_settings(fake, tmp_path), kb=demo_kb, worker=chat_worker,
                            memory_path=tmp_path / "m.db")
    e = await start_env(fake, runtime)
    yield e
    await stop_env(e)
    runtime.close()


def block_text(blocks: list[dict]) -> str:
    """Every visible string in a list of blocks."""
    out: list[str] = []
    for b in blocks:
        if "text" in b and isinstance(b["text"], dict):
            out.append(b["text"]["text"])
        out.extend(f["text"] for f in b.get("fields", []))
        out.extend(e["text"]["text"] for e in b.get("elements", []) if isinstance(e.get("text"), dict))
        out.extend(e["text"] for e in b.get("elements", []) if isinstance(e.get("text"), str))
    return "\n".join(out)


def card_skus(blocks: list[dict]) -> list[str]:
    return [e["value"] for b in blocks if b["type"] == "actions" for e in b["elements"] if e["action_id"] == "details"]


# ----- conversations ------------------------------------------------------------------------------


async def test_dm_search_posts_cards_with_catalog_titles_and_prices(env, demo_kb):
    status, _, took = await env.event(dm_event("waterproof hiking boots", ts="1700000000.000101"))
    assert status == 200 and took < 3
    posts = await env.fake.wait_for("chat.postMessage", predicate=lambda c: card_skus(c.params.get("blocks") or []))
    msg = posts[0].params
    assert msg["channel"] == "D222" and msg["thread_ts"] == "1700000000.000101"
    assert msg["text"], "a plain-text fallback is always sent"
    skus = card_skus(msg["blocks"])
    assert len(skus) >= 3
    text = block_text(msg["blocks"])
    for sku in skus:
        product = demo_kb.store.get_product(sku)
        assert product is not None, f"{sku} is not a catalog id"
        assert product.title.replace("&", "&amp;") in text
        assert format_price(product.price, product.currency) in text
    assert any("boot" in demo_kb.store.get_product(s).type for s in skus)
    assert all(len(m.params["blocks"]) <= 50 for m in posts)


async def test_app_mention_is_answered_in_its_thread(env):
    await env.event(mention_event("red jackets?", ts="1700000000.000201", thread_ts="1700000000.000001"))
    posts = await env.fake.wait_for("chat.postMessage", predicate=lambda c: c.params.get("channel") == "C999")
    assert all(p.params["thread_ts"] == "1700000000.000001" for p in posts)
    await env.event(mention_event("thanks", ts="1700000000.000202"))
    posts = await env.fake.wait_for("chat.postMessage", predicate=lambda c: c.params["thread_ts"] == "1700000000.000202")
    assert posts[0].params["channel"] == "C999"
    texts = [e["text"] for e in env.runtime.memory.events_since(1)]
    assert "red jackets?" in texts, "the bot mention is stripped before the core sees the text"


async def test_retried_event_is_answered_once(env):
    body_event = dm_event("show me tents", ts="1700000000.000301")
    await env.event(body_event, event_id="EvRETRY1")
    first = await env.fake.wait_for("chat.postMessage", predicate=lambda c: c.params["thread_ts"] == "1700000000.000301")
    status, _, _ = await env.event(body_event, event_id="EvRETRY1",
                                   headers={"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_timeout"})
    assert status == 200
    await env.bot.drain(5)
    await asyncio.sleep(0.5)
    again = env.fake.to("chat.postMessage", lambda c: c.params["thread_ts"] == "1700000000.000301")
    assert len(again) == len(first) >= 1
    assert len([e for e in env.runtime.memory.events_since(1) if e["text"] == "show me tents"]) == 1


async def test_an_event_is_claimed_before_slack_hears_it_arrived(env, monkeypatch):
    """Slack retries only an event it got no 200 for, so the claim is written before the answer leaves: a worker
    killed right after answering leaves a claim another worker takes over (bench workers lost one before), and an
    event whose claim cannot be written (the database unreachable) is answered with an error, so Slack retries it."""
    status, _, _ = await env.event(dm_event("show me tents", ts="1700000000.000401"), event_id="EvCLAIMED1")
    assert status == 200
    row = env.runtime.memory.db.execute("SELECT key FROM delivery_claims WHERE key LIKE ?", ["%EvCLAIMED1"]).fetchone()
    assert row is not None
    await env.bot.drain(5)

    def unreachable(*args, **kwargs):
        raise OSError("the database is unreachable")

    monkeypatch.setattr(env.bot.claims, "claim", unreachable)
    status, _, _ = await env.event(dm_event("show me tents", ts="1700000000.000402"), event_id="EvCLAIMED2")
    assert status != 200  # Slack delivers it again later


async def test_chat_post_message_429_is_retried_after_retry_after(env):
    env.fake.rate_limit("chat.postMessage", times=1, retry_after=1)
    await env.event(dm_event("hello", ts="1700000000.000401"))
    ok = await env.fake.wait_for("chat.postMessage", predicate=lambda c: c.params["thread_ts"] == "1700000000.000401")
    limited = [c for c in env.fake.calls if c.method == "chat.postMessage" and c.status == 429]
    assert len(limited) == 1
    assert ok[0].at - limited[0].at >= 1.0, "the client waited Retry-After before retrying"
    assert ok[0].params["text"] == limited[0].params["text"]


async def test_reply_with_more_than_50_blocks_arrives_split(fake, demo_kb, chat_worker, tmp_path):
    runtime = build_runtime(slack_settings(fake, tmp_path, results_per_page=20), kb=demo_kb, worker=chat_worker,
                            memory_path=tmp_path / "m.db")
    env = await start_env(fake, runtime)
    try:
        await env.event(dm_event("jackets", ts="1700000000.000501"))
        await fake.wait_for("chat.postMessage", count=2)
        await env.bot.drain(10)
        posts = fake.to("chat.postMessage")
        assert len(posts) >= 2
        assert all(p.params["thread_ts"] == "1700000000.000501" for p in posts)
        assert all(len(p.params["blocks"]) <= 50 and p.params["text"] for p in posts)
        assert sum(len(p.params["blocks"]) for p in posts) > 50
        skus = [s for p in posts for s in card_skus(p.params["blocks"])]
        assert len(skus) == 20 and len(set(skus)) == 20
    finally:
        await stop_env(env)
        runtime.close()


async def test_details_button_is_answered_in_the_thread_of_its_message(env, demo_kb):
    body = action_body("details", "SG-HB-1001", env.fake.response_url(1), user="U222", channel="D222",
                       message_ts="1700000000.000702", thread_ts="1700000000.000700")
    status, _, took = await env.post(body, FORM)
    assert status == 200 and took < 3
    post = (await env.fake.wait_for("chat.postMessage"))[0].params
    assert post["channel"] == "D222" and post["thread_ts"] == "1700000000.000700"
    product = demo_kb.store.get_product("SG-HB-1001")
    assert product.title in post["text"] and "€147.99" in post["text"]
    assert card_skus(post["blocks"]) == ["SG-HB-1001"]


async def test_which_one_question_is_answered_about_the_tapped_product(env, demo_kb):
    await env.event(dm_event("rain jackets", ts="1700000000.000801"))
    await env.fake.wait_for("chat.postMessage", predicate=lambda c: card_skus(c.params.get("blocks") or []))
    await env.event(dm_event("is it waterproof?", ts="1700000000.000802"))
    [ask] = await env.fake.wait_for("chat.postMessage", predicate=lambda c: "Which one do you mean?" in c.params["text"])
    picks = [e for b in ask.params["blocks"] if b["type"] == "actions" for e in b["elements"]]
    assert len(picks) >= 2 and all(e["value"].startswith("a:") for e in picks)
    second = demo_kb.store.get_product(picks[1]["value"][2:])
    assert picks[1]["text"]["text"].startswith("2. ") and second.type == "rain jacket"
    body = action_body(picks[1]["action_id"], picks[1]["value"], env.fake.response_url(2), user="U222", channel="D222",
                       message_ts=ask.params.get("ts", "1700000000.000803"), thread_ts="1700000000.000802")
    status, _, _ = await env.post(body, FORM)
    assert status == 200
    [answer] = await env.fake.wait_for("chat.postMessage", predicate=lambda c: second.title in c.params["text"]
                                       and "waterproof" in c.params["text"])
    waterproof = second.attributes.get("waterproof")
    assert answer.params["text"].startswith(("Yes, " if waterproof else "No, ") + second.title)


async def test_data_export_is_uploaded_as_a_json_file_in_the_thread(env):
    await env.event(dm_event("export my data", ts="1700000000.000651"))
    done = (await env.fake.wait_for("files.completeUploadExternal"))[0].params
    assert done["channel_id"] == "D222" and done["thread_ts"] == "1700000000.000651"
    exported = json.loads(env.fake.uploaded(done["files"][0]["id"]))
    assert exported["user"] == "slack:U222"
    post = env.fake.to("chat.postMessage")[0].params
    assert "everything I store about you" in post["text"] and post["thread_ts"] == "1700000000.000651"


async def test_core_failure_logs_traceback_and_apologises(env, monkeypatch, caplog):
    async def broken(msg):
        raise RuntimeError("boom")

    monkeypatch.setattr(env.runtime.assistant, "handle", broken)
    with caplog.at_level(logging.ERROR, logger="adapters.slack.app"):
        await env.event(dm_event("hello", ts="1700000000.000601"))
        posts = await env.fake.wait_for("chat.postMessage")
    assert "Sorry, something went wrong" in posts[0].params["text"]
    assert posts[0].params["thread_ts"] == "1700000000.000601"
    assert any(r.exc_info and "boom" in str(r.exc_info[1]) for r in caplog.records)


# ----- staff commands ------------------------------------------------------------------------------


async def test_shop_sku_shows_full_record_with_stock(env):
    status, body, took = await env.command("sku SG-HB-1001", 1)
    assert status == 200 and took < 3
    resp = (await env.fake.wait_for("response"))[0].params
    text = block_text(resp["blocks"])
    assert "Ridgeline Aurora Men's Waterproof Hiking Boot" in text
    assert "Stock: 27 (in stock)" in text and "€147.99" in text and "Weight (g): 1050" in text
    assert resp["response_type"] == "in_channel"  # C111 is a staff channel

    await env.command("sku SG-NOPE-1", 2, channel="C555")  # allowed by user id, outside the staff channel
    resp = (await env.fake.wait_for("response", predicate=lambda c: c.path.endswith("/2")))[0].params
    assert "not found" in resp["text"] and "Closest matches" in resp["text"] and "SG-" in resp["text"]
    assert resp["response_type"] == "ephemeral"


async def test_shop_search_with_filters_and_unknown_subcommand(env, demo_kb):
    await env.command("search boots brand:Stonepine max:150", 1)
    resp = (await env.fake.wait_for("response"))[0].params
    skus = [b["block_id"].split(":", 1)[1] for b in resp["blocks"] if b.get("block_id", "").startswith("p")]
    assert skus
    for sku in skus:
        p = demo_kb.store.get_product(sku)
        assert p.brand == "Stonepine" and p.price <= 150
    await env.command("frobnicate", 2)
    resp = (await env.fake.wait_for("response", predicate=lambda c: c.path.endswith("/2")))[0].params
    assert "frobnicate" in resp["text"] and "/shop sku ID" in resp["text"]


async def test_non_staff_get_a_polite_refusal(env):
    status, body, _ = await env.command("sku SG-HB-1001", 1, user="U999", channel="C999")
    assert status == 200 and "only for store staff" in body  # the ack carries the refusal
    value = json.dumps({"id": "SG-HB-1001", "text": "The Ridgeline Aurora Men's Waterproof Hiking Boot."})
    await env.post(action_body("staff_approve", value, env.fake.response_url(2), user="U999", channel="C999"), FORM)
    resp = (await env.fake.wait_for("response", predicate=lambda c: c.path.endswith("/2")))[0].params
    assert "only for store staff" in resp["text"] and not resp.get("replace_original")
    assert env.runtime.memory.audit_log() == []
    assert not env.fake.to("response", lambda c: c.path.endswith("/1"))


async def test_shop_describe_then_approve_stores_description_with_audit(fake, writable_kb, chat_worker, tmp_path):
    runtime = build_runtime(slack_settings(fake, tmp_path), kb=writable_kb, worker=chat_worker,
                            memory_path=tmp_path / "m.db")
    env = await start_env(fake, runtime)
    try:
        await env.command("describe SG-HB-1002", 1)
        draft = (await fake.wait_for("response", timeout=60))[0].params
        buttons = {e["action_id"]: e for b in draft["blocks"] if b["type"] == "actions" for e in b["elements"]}
        assert set(buttons) == {"staff_approve", "staff_regenerate"}
        value = json.loads(buttons["staff_approve"]["value"])
        product = writable_kb.store.get_product("SG-HB-1002")
        assert value["id"] == "SG-HB-1002" and value["text"] != product.description
        assert env.bot.staff.description_problems(value["text"], product) == []

        await env.post(action_body("staff_approve", buttons["staff_approve"]["value"], fake.response_url(2)), FORM)
        done = (await fake.wait_for("response", predicate=lambda c: c.path.endswith("/2"), timeout=60))[0].params
        assert done["replace_original"] is True and "Approved by <@U111>" in done["text"]
        assert writable_kb.store.get_product("SG-HB-1002").description == value["text"]
        audit = runtime.memory.audit_log("SG-HB-1002")
        assert len(audit) == 1 and audit[0]["actor"] == "slack:U111" and audit[0]["action"] == "approve_description"
        assert audit[0]["detail"] == value["text"] and audit[0]["created_at"]

        await env.post(action_body("staff_regenerate", "SG-HB-1002", fake.response_url(3)), FORM)
        again = (await fake.wait_for("response", predicate=lambda c: c.path.endswith("/3"), timeout=60))[0].params
        assert again["replace_original"] is True and "Draft description" in again["text"]
    finally:
        await stop_env(env)
        runtime.close()


async def test_shop_stats_uploads_a_png_chart(env):
    mem = env.runtime.memory
    for user, text, results, answered in [("slack:U1", "red jackets", 5, True), ("slack:U2", "red jackets", 5, True),
                                          ("slack:U2", "unicorn saddle", 0, False), ("slack:U3", "tents", 4, True)]:
        mem.log_event(user, "slack", "search", text, results, answered)
    mem.log_event("slack:U3", "slack", "faq", "do you ship to mars", None, False)
    await env.command("stats 7", 1)
    resp = (await env.fake.wait_for("response"))[0].params
    assert "Conversations: 3 (messages: 5)" in resp["text"]
    assert "2× red jackets" in resp["text"] and "unicorn saddle" in resp["text"] and "do you ship to mars" in resp["text"]
    done = (await env.fake.wait_for("files.completeUploadExternal"))[0].params
    assert done["channel_id"] == "C111"
    file_id = done["files"][0]["id"]
    assert env.fake.to("files.getUploadURLExternal")[0].params["filename"] == "shop-stats-7d.png"
    assert env.fake.uploaded(file_id).startswith(b"\x89PNG\r\n\x1a\n")


# ----- request verification and bad input ------------------------------------------------------------


async def test_bad_signature_and_stale_timestamp_get_401(env):
    body = event_body(dm_event("hello", ts="1700000000.000701"))
    status, _, _ = await env.post(body, headers=sign(body, secret="not-the-secret"))
    assert status == 401
    stale = int(time.time()) - 6 * 60
    status, _, _ = await env.post(body, headers=sign(body, timestamp=stale))
    assert status == 401
    status, _, _ = await env.post(body, signed=False)
    assert status == 401
    await asyncio.sleep(0.3)
    assert not env.fake.to("chat.postMessage")


async def test_malformed_and_unknown_requests_do_not_crash(env):
    status, _, _ = await env.post('{"type": "event_callback", "event": ')  # signed, malformed JSON
    assert status == 400
    status, _, _ = await env.post('{"broken', signed=False)
    assert status == 401
    status, _, _ = await env.post("token=x&foo=payload", FORM)  # form without a payload field
    assert 400 <= status < 500
    status, _, _ = await env.event({"type": "reaction_added", "user": "U222", "reaction": "tada"})
    assert status == 200
    status, body, _ = await env.post(json.dumps({"type": "url_verification", "challenge": "chal-123", "token": "x"}))
    assert status == 200 and "chal-123" in body
    status, _, _ = await env.event(dm_event("boots " * 1500, ts="1700000000.000801"))  # 9000 characters
    assert status == 200
    posts = await env.fake.wait_for("chat.postMessage")
    assert all(c.params["thread_ts"] == "1700000000.000801" for c in env.fake.to("chat.postMessage"))
    assert "read only the first 4,000 characters" in posts[0].params["text"]  # cut with a notice


# ----- the description check and start-up, without HTTP --------------------------------------------


def test_description_check_rejects_invented_facts_and_the_template_passes(runtime_no_llm):
    from adapters.slack.staff import StaffTools, template_description

    staff = StaffTools(runtime_no_llm)
    boot = runtime_no_llm.kb.store.get_product("SG-HB-1001")  # waterproof, 1050 g, no hood
    fleece = runtime_no_llm.kb.store.get_product("SG-FJ-1002")  # waterproof: false
    for product in (boot, fleece):
        template = template_description(product)
        assert product.title in template and staff.description_problems(template, product) == []
    assert staff.description_problems("It weighs 900 g.", boot)  # a number not in the record
    assert staff.description_problems("Now only €99.", boot)  # a price
    assert staff.description_problems("It has a breathable lining.", boot)  # a claim not in the record
    assert staff.description_problems("A waterproof fleece.", fleece)  # the record says no
    assert staff.description_problems("Made by the Luminous brand.", boot)  # an invented name
    assert staff.description_problems(f"Pairs well with the {fleece.title}.", boot)  # another product
    assert staff.description_problems("The Aurora boot is waterproof and made of suede and nylon mesh.", boot) == []


async def test_describe_without_a_model_uses_the_template(runtime_no_llm):
    from adapters.slack.staff import StaffTools, template_description

    out = await StaffTools(runtime_no_llm).describe("SG-HB-1001")
    product = runtime_no_llm.kb.store.get_product("SG-HB-1001")
    assert out.notes["text"] == template_description(product) and out.notes["source"].startswith("template")


def test_missing_settings_fail_at_start_up_naming_them(tmp_path, monkeypatch, capsys):
    from shopguide.cli import main

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SHOPGUIDE_DATA_DIR", str(tmp_path / "data"))
    root = logging.getLogger()
    saved = (list(root.handlers), root.level)
    try:
        assert main(["slack"]) == 1
        err = capsys.readouterr().err.strip()
        assert "SHOPGUIDE_SLACK_BOT_TOKEN" in err and "SHOPGUIDE_SLACK_SIGNING_SECRET" in err
        assert "SHOPGUIDE_SLACK_APP_TOKEN" in err and len(err.splitlines()) == 1
        monkeypatch.setenv("SHOPGUIDE_SLACK_BOT_TOKEN", "xoxb-secret-value")
        monkeypatch.setenv("SHOPGUIDE_SLACK_SIGNING_SECRET", "shh")
        assert main(["slack"]) == 1  # Socket Mode also needs the app-level token
        err = capsys.readouterr().err.strip()
        assert "SHOPGUIDE_SLACK_APP_TOKEN" in err and "BOT_TOKEN" not in err and "xoxb-secret-value" not in err
    finally:
        for h in list(root.handlers):
            root.removeHandler(h)
        for h in saved[0]:
            root.addHandler(h)
        root.setLevel(saved[1])


async def test_socket_mode_answers_a_dm_and_skips_its_retry(fake, demo_kb, chat_worker, tmp_path):
    from adapters.slack.run import _serve_socket_mode
    from tests.slack_fake import APP_TOKEN

    runtime = build_runtime(slack_settings(fake, tmp_path, slack_app_token=APP_TOKEN), kb=demo_kb,
                            worker=chat_worker, memory_path=tmp_path / "m.db")
    bot = create_bot(runtime, make_client(runtime.settings))
    serving = asyncio.create_task(_serve_socket_mode(bot, APP_TOKEN))
    try:
        envelope = {"envelope_id": "env-1", "type": "events_api", "accepts_response_payload": False,
                    "retry_attempt": 0, "retry_reason": "",
                    "payload": json.loads(event_body(dm_event("tents please", ts="1700000000.000901"), "EvSOCK1"))}
        await fake.send_envelope(envelope)
        first = await fake.wait_for("chat.postMessage")
        assert first[0].params["thread_ts"] == "1700000000.000901" and first[0].params["channel"] == "D222"
        await fake.send_envelope({**envelope, "envelope_id": "env-2", "retry_attempt": 1, "retry_reason": "timeout"})
        deadline = time.monotonic() + 10
        while {"env-1", "env-2"} - {a.get("envelope_id") for a in fake.socket_acks} and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        assert {"env-1", "env-2"} <= {a.get("envelope_id") for a in fake.socket_acks}  # both acknowledged
        await bot.drain(10)
        await asyncio.sleep(0.3)
        assert len(fake.to("chat.postMessage")) == len(first)  # the retry was not answered again
        assert fake.to("apps.connections.open")[0].token == APP_TOKEN
    finally:
        serving.cancel()
        try:
            await serving
        except asyncio.CancelledError:
            pass
        runtime.close()

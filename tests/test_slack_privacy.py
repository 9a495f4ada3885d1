"""End to end in Slack: staff export and erase a customer's data (`/shop export|forget PLATFORM USER`)."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest

from bot.privacy import run_purge
from shopguide.cli.app import build_runtime
from tests.slack_fake import FakeSlack, action_body
from tests.test_slack_e2e import FORM, block_text, slack_settings, start_env, stop_env

pytestmark = pytest.mark.e2e


@pytest.fixture
async def fake():
    server = await FakeSlack().start()
    yield server
    await server.stop()


@pytest.fixture
async def env(fake, demo_kb, tmp_path):
    runtime = build_runtime(slack_settings(fake, tmp_path), kb=demo_kb, load_llm=False, memory_path=tmp_path / "m.db")
    e = await start_env(fake, runtime)
    yield e
    await stop_env(e)
    runtime.close()


def response(env, n: int):
    return env.fake.wait_for("response", predicate=lambda c: c.path.endswith(f"/{n}"))


async def test_staff_export_as_a_file_and_erase_after_the_confirm_button(env):
    mem = env.runtime.memory
    mem.log_event("telegram:12345", "telegram", "search", "hiking boots in size 44", 4, True)
    mem.set_preference("telegram:12345", "shoe_size", "44", "you said: I wear size 44")
    held = mem.count_rows("telegram:12345")

    status, body, _ = await env.command("forget telegram 12345", 1, user="U999", channel="C999")
    assert status == 200 and "only for store staff" in body  # non-staff: refused in the ack
    await env.command("export telegram 12345", 2)
    [resp] = await response(env, 2)
    assert "shopguide-export-telegram-12345.json" in resp.params["text"]
    done = (await env.fake.wait_for("files.completeUploadExternal"))[0].params
    assert done["channel_id"] == "C111"
    exported = json.loads(env.fake.uploaded(done["files"][0]["id"]))
    assert {**exported, "exported_at": None} == {**mem.export("telegram:12345"), "exported_at": None}

    await env.command("forget telegram 12345", 3)
    [ask] = await response(env, 3)
    buttons = {e["action_id"]: e for b in ask.params["blocks"] if b["type"] == "actions" for e in b["elements"]}
    assert set(buttons) == {"staff_forget", "staff_forget_cancel"} and buttons["staff_forget"]["confirm"]
    assert f"{held} records" in block_text(ask.params["blocks"]) and mem.count_rows("telegram:12345") == held

    await env.post(action_body("staff_forget", "telegram:12345", env.fake.response_url(4), user="U999",
                               channel="C999"), FORM)
    [refused] = await response(env, 4)
    assert "only for store staff" in refused.params["text"] and mem.count_rows("telegram:12345") == held

    await env.post(action_body("staff_forget", "telegram:12345", env.fake.response_url(5)), FORM)
    [erased] = await response(env, 5)
    assert erased.params["replace_original"] is True and f"Erased telegram:12345: {held} records" in erased.params["text"]
    assert mem.count_rows("telegram:12345") == 0
    audit = [(a["actor"], a["action"], a["subject"]) for a in mem.audit_log("telegram:12345")]
    assert audit == [("slack:U111", "export_customer", "telegram:12345"), ("slack:U111", "erase_customer", "telegram:12345")]
    assert all("boots" not in str(a) for a in mem.audit_log())  # who, whom and when: no content


async def test_bad_privacy_requests_get_a_clear_answer(env):
    env.runtime.memory.log_event("slack:U7", "slack", "search", "tents", 2, True)
    for n, (text, channel, expected) in enumerate([
        ("export telegram 99", "C111", "No data held for telegram:99"),
        ("forget myspace 1", "C111", "No data held for myspace:1"),
        ("export telegram", "C111", "/shop export PLATFORM USER"),
        ("export slack U7", "C555", "only posted in a staff channel or in a direct message"),
    ], start=1):
        await env.command(text, n, channel=channel)
        [resp] = await response(env, n)
        assert expected in resp.params["text"], text
    assert not env.fake.to("files.completeUploadExternal")
    await env.post(action_body("staff_forget_cancel", "slack:U7", env.fake.response_url(9)), FORM)
    [kept] = await response(env, 9)
    assert "Nothing was erased" in kept.params["text"] and env.runtime.memory.count_rows("slack:U7") > 0


async def test_stats_keep_counting_purged_events_without_their_text(env):
    mem = env.runtime.memory
    mem.clock = lambda: datetime.now(timezone.utc) - timedelta(days=30)
    mem.log_event("slack:U1", "slack", "search", "unicorn saddle", 0, False)
    mem.log_event("slack:U2", "slack", "search", "tents", 3, True)
    mem.clock = lambda: datetime.now(timezone.utc)
    mem.log_event("slack:U2", "slack", "search", "tents", 3, True)
    run_purge(mem, env.runtime.settings, older_than=7)
    await env.command("stats 60", 1)
    [resp] = await response(env, 1)
    text = resp.params["text"]
    # conversations are counted per day once purged: U2, seen on two days, counts twice
    assert "Conversations: 3 (messages: 3)" in text and "Zero-result queries: 1" in text
    assert "unicorn saddle" not in text and "1× tents" in text

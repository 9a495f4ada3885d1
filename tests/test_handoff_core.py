"""The core's handoff behaviour with the real runtime (no platforms): honest texts, hours, timeouts, modes."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from bot.handoff import TEXTS
from bot.types import IncomingMessage
from shopguide.cli.app import build_runtime
from shopguide.settings import Settings


def make(demo_kb, tmp_path, **settings):
    s = Settings(data_dir=tmp_path / "data", _env_file=None, llm_enabled=False, **settings)
    return build_runtime(s, kb=demo_kb, load_llm=False, memory_path=tmp_path / "m.db")


def msg(text="", action=None, user="7"):
    return IncomingMessage(platform="telegram", user_id=user, chat_id=user, text=text, action=action, user_name="Eve")


@pytest.fixture
def desk(demo_kb, tmp_path):
    rt = make(demo_kb, tmp_path, slack_handoff_channel="CHAND", shop_contact="help@shop.example")
    yield rt
    rt.close()


async def test_without_a_desk_the_customer_is_told_the_truth(demo_kb, tmp_path):
    rt = make(demo_kb, tmp_path, shop_contact="help@shop.example")
    try:
        [reply] = await rt.assistant.handle(msg(action="human"))
        assert reply.text == TEXTS["no_staff"].format(contact=TEXTS["contact"].format(contact="help@shop.example"))
        assert "will reply here" not in reply.text
        assert rt.services.handoffs.store.active("telegram:7") is None
    finally:
        rt.close()


async def test_outside_staff_hours_the_assistant_keeps_helping(demo_kb, tmp_path):
    today = datetime.now(timezone.utc).strftime("%a")
    other = "Mon" if today != "Mon" else "Tue"
    rt = make(demo_kb, tmp_path, slack_handoff_channel="CHAND", staff_hours=f"{other} 09:00-17:00 UTC")
    try:
        [reply] = await rt.assistant.handle(msg(action="human"))
        assert "no one is in right now" in reply.text and f"{other} 09:00" in reply.text
        handoff = rt.services.handoffs.store.active("telegram:7")
        assert handoff.mode == "bot"
        replies = await rt.assistant.handle(msg("waterproof hiking boots"))
        assert replies and replies[0].products, "the assistant answers while no one is in"
        roles = [m["role"] for m in rt.services.handoffs.store.transcript(handoff.id)]
        assert roles[-2:] == ["customer", "assistant"], "staff will see both in the thread"
    finally:
        rt.close()


async def test_yes_to_the_offer_hands_over_with_the_unanswered_question(desk):
    first = await desk.assistant.handle(msg("do you offer a student discount on birthdays in Antarctica?"))
    assert "person" in first[0].text
    [started] = await desk.assistant.handle(msg("yes"))
    assert started.text == TEXTS["started"]
    handoff = desk.services.handoffs.store.active("telegram:7")
    assert handoff.origin == "offer" and "student discount" in handoff.reason
    assert await desk.assistant.handle(msg("/human", action="human")) == [], "held: it goes to the thread"


async def test_a_timed_out_handoff_goes_back_to_the_assistant(desk):
    await desk.assistant.handle(msg(action="human"))
    store = desk.services.handoffs.store
    handoff = store.active("telegram:7")
    old = (datetime.now(timezone.utc) - timedelta(hours=25)).isoformat(timespec="seconds")
    store.db.execute("UPDATE handoffs SET created_at = ? WHERE id = ?", [old, handoff.id])
    assert desk.services.handoffs.expire() == 1
    assert store.active("telegram:7") is None
    told = [m["text"] for m in store.transcript(handoff.id) if m["role"] == "assistant"]
    assert told and told[0].startswith("No one from the shop has answered for 24 hours")
    replies = await desk.assistant.handle(msg("waterproof hiking boots"))
    assert replies[0].products


async def test_bot_mode_lets_the_assistant_answer_and_data_rights_always_work(desk):
    await desk.assistant.handle(msg(action="human"))
    store = desk.services.handoffs.store
    assert await desk.assistant.handle(msg("hello?")) == []
    store.set_mode(store.active("telegram:7"), "bot", "U111")
    assert (await desk.assistant.handle(msg("waterproof hiking boots")))[0].products
    store.set_mode(store.active("telegram:7"), "person", "U111")
    [ask] = await desk.assistant.handle(msg("forget me"))
    assert ask.intent == "forget", "a person holding the chat never blocks erasure"
    [done] = await desk.assistant.handle(msg("yes"))
    assert TEXTS["erased_note"] in done.text and store.active("telegram:7") is None


def test_what_staff_relay_later_speaks_the_conversations_language(tmp_path):
    from bot.handoff import Handoffs
    from bot.handoff_store import HandoffStore
    from bot.memory import ConversationState, Memory

    memory = Memory(tmp_path / "m.db")
    try:
        settings = Settings(data_dir=tmp_path / "data", _env_file=None, llm_enabled=False, slack_handoff_channel="C1")
        handoffs = Handoffs.build(HandoffStore(memory.db, memory.lock), settings)
        store = handoffs.store
        kw = dict(platform="telegram", chat_id="7", user_name="Eve", origin="asked", reason="?", context={},
                  desk="slack", mode="person")
        handoff, _ = store.open(user_key="telegram:7", lang="fr", **kw)
        memory.save_state("telegram:7", ConversationState(lang="de"))  # the conversation moved on to German
        assert handoffs.customer_lang(handoff) == "de"
        assert handoffs.staff_reply(handoff, "U1", None, "Hallo!", "d1", attachments=["a.pdf"])
        assert handoffs.close(store.active("telegram:7"), "U1", "Anna")
        told = [m["text"] for m in store.transcript(handoff.id) if m["role"] in ("staff", "assistant")]
        assert told == ["Ein Mitglied unseres Teams vom Shop: Hallo!\n(hat einen Anhang geschickt: a.pdf, der hier "
                        "nicht angezeigt werden kann)",
                        "Anna vom Shop hat Sie wieder an mich, den Assistenten des Shops, übergeben. Kann ich noch "
                        "etwas für Sie finden?"]
        other, _ = store.open(user_key="telegram:8", lang="zh-Hans", **kw)  # no state: what the handoff recorded
        assert handoffs.customer_lang(other) == "zh"
        english, _ = store.open(user_key="telegram:9", lang=None, **kw)
        assert handoffs.customer_lang(english) == "en"
        assert handoffs.staff_reply(english, "U1", "Anna", "hi", "d2")
        assert store.transcript(english.id)[-1]["text"] == TEXTS["staff_says"].format(name="Anna", text="hi")
    finally:
        memory.close()


def test_the_console_shows_the_handoff_and_staff_replies_and_the_export_has_them(demo_kb, tmp_path, capsys):
    import argparse
    import asyncio
    import io
    import json

    from adapters.console import handoff_line, make_message, run_once
    from adapters.console_handoffs import main as handoffs_cli

    settings = Settings(data_dir=tmp_path / "data", _env_file=None, llm_enabled=False, handoff_console=True)
    rt = build_runtime(settings, kb=demo_kb, load_llm=False, memory_path=settings.memory_db_path)

    def once(text: str) -> dict:
        out = io.StringIO()
        assert run_once(rt.assistant, text, "local", True, out) == 0
        return json.loads(out.getvalue())

    try:
        [started] = asyncio.run(rt.assistant.handle(make_message("", "local", action="human")))
        assert started.text == TEXTS["started"]
        held = once("is anyone there?")
        assert held["replies"] == [] and held["staff"] == [] and held["handoff"]["mode"] == "person"
        assert "holds this conversation" in handoff_line(held["handoff"])
        handoff_id = held["handoff"]["id"]
        # staff answer from another process's connection, as `shopguide handoffs reply` does
        handoffs_cli(argparse.Namespace(handoff_action="reply", id=handoff_id, text="Yes, Anna here.", name="Anna"),
                     settings)
        relayed = once("great")
        assert relayed["staff"] == [TEXTS["staff_says"].format(name="Anna", text="Yes, Anna here.")]
        assert relayed["handoff"]["held_by"].startswith("console:")
        handoffs_cli(argparse.Namespace(handoff_action="close", id=handoff_id, text=None, name="Anna"), settings)
        back = once("waterproof hiking boots")
        assert back["staff"] == [TEXTS["handed_back"].format(name="Anna")] and back["handoff"] is None
        assert back["replies"][0]["products"], "handed back: the assistant answers"
        assert once("waterproof hiking boots")["staff"] == [], "each staff message is shown once"
        exported = rt.services.memory.export("console:local")["handoffs"]
        assert [h["id"] for h in exported] == [handoff_id]
        texts = [m["text"] for m in exported[0]["transcript"]]
        assert "is anyone there?" in texts and relayed["staff"][0] in texts
        json.dumps(exported)
    finally:
        rt.close()
    capsys.readouterr()

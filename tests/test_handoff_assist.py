"""End to end (real python-telegram-bot and slack-bolt against both fakes): assisted mode's drafts wait for a person,
Save as FAQ answers the next customer, the root message shows the state, `/shop stats` counts handoffs."""

from __future__ import annotations

import json

import pytest

from adapters.slack.handoff import NOT_STAFF
from adapters.slack.handoff_assist import EDIT_VIEW, GONE
from adapters.slack.handoff_faq import FAQ_VIEW
from adapters.slack.staff_stats import stats as shop_stats
from bot.handoff import TEXTS
from bot.present import format_price
from tests.slack_fake import action_body, block_text, view_body
from tests.test_handoff_e2e import ALICE, BOB, DESK, STAFF, both, relayed, serving  # noqa: F401 (both: a fixture)

pytestmark = pytest.mark.e2e
FORM = "application/x-www-form-urlencoded"
QUESTION = "do you offer a student discount on birthdays in Antarctica?"
ANSWER = "Students get 10% off everything with a valid student card."


@pytest.fixture
async def both_rw(monkeypatch, writable_kb, tmp_path):
    async with serving(monkeypatch, writable_kb, tmp_path) as served:
        yield served


def root_updates(slack, thread: str) -> list[str]:
    """The state lines the root message was updated to, in order."""
    return [block_text(c.params["blocks"]) for c in slack.to("chat.update", lambda c: c.params.get("ts") == thread)]


def draft_posts(slack, thread: str) -> list:
    return slack.to("chat.postMessage", lambda c: c.params.get("thread_ts") == thread
                    and "draft_send" in json.dumps(c.params.get("blocks") or ""))


async def press(both, action_id: str, value: str, message_ts: str, user: str = STAFF, n: int = 1) -> None:
    assert await both.post(action_body(action_id, value, both.slack.response_url(n), user=user, channel=DESK,
                                       message_ts=message_ts), FORM) == 200


def draft_of(call) -> tuple[str, str]:
    """A posted draft's id (its buttons' value) and its message ts."""
    value = next(e["value"] for b in call.params["blocks"] if b["type"] == "actions" for e in b["elements"])
    return value, call.params.get("ts") or ""


async def test_assisted_mode_drafts_wait_for_a_person(both, demo_kb):
    tg, slack, store = both.tg, both.slack, both.runtime.services.handoffs.store
    await both.say("/human")
    await slack.wait_for("chat.postMessage", predicate=lambda c: c.params.get("channel") == DESK
                         and not c.params.get("thread_ts"))
    handoff_id, thread = both.root(f"telegram:{ALICE}")

    await both.staff_says("!bot assist", thread)
    await slack.wait_for("chat.update", predicate=lambda c: c.params.get("ts") == thread)
    assert store.get(handoff_id).mode == "assist"
    assert "Held by <@U111>" in root_updates(slack, thread)[-1] and "assisted" in root_updates(slack, thread)[-1]
    assert not any("!bot assist" in t for t in relayed(tg, ALICE)), "a command is never relayed"

    replies, sent = await both.say("waterproof hiking boots")
    assert [r.text for r in replies] == [TEXTS["person_with_you"]] and not any(c.buttons for c in sent)
    shown = len(tg.sent(ALICE))
    [draft] = await slack.wait_for("chat.postMessage", predicate=lambda c: c in draft_posts(slack, thread))
    draft_id, _ = draft_of(draft)
    text = block_text(draft.params["blocks"])
    cards = [m["text"] for m in store.transcript(handoff_id) if m["kind"] == "draft"]
    assert cards and "\n1. " in cards[0], "the draft carries the products the assistant found"
    assert sum(line[:2] == "1." for line in cards[0].splitlines()) == 1, "each product once"
    for line in cards[0].splitlines():
        if line[:2] == "1.":
            title, _, rest = line[3:].partition(" — ")
            price = rest.split(" · ")[0]
            product = next(p for p in demo_kb.store.get_products(list(demo_kb.store.hashes("product"))).values()
                           if p.title == title)
            assert price == format_price(product.price, product.currency), "the draft's prices are the records'"
    assert "hiking" in text.lower() or "boot" in text.lower()
    await both.settled()
    assert relayed(tg, ALICE) == [] and len(tg.sent(ALICE)) == shown, "nothing reached the customer"

    before = len(tg.sent(ALICE))
    await press(both, "draft_send", draft_id, "1700001000.999999", user="U999", n=1)
    await slack.wait_for("response", predicate=lambda c: c.params.get("text") == NOT_STAFF)
    await press(both, "draft_send", draft_id, "1700001000.999999", n=2)
    await tg.wait_for(lambda: len(tg.sent(ALICE)) > before)
    await press(both, "draft_send", draft_id, "1700001000.999999", n=3)
    await slack.wait_for("response", predicate=lambda c: c.params.get("text") == GONE)
    await both.settled()
    assert [c.text for c in tg.sent(ALICE)[before:]] == [cards[0]], "sent once, as drafted"
    await slack.wait_for("chat.update", predicate=lambda c: "Sent to the customer by <@U111>" in c.params.get("text", ""))

    await both.say("do they come in a wide fit?")
    drafts = await slack.wait_for("chat.postMessage", 2, predicate=lambda c: c in draft_posts(slack, thread))
    second, _ = draft_of(drafts[-1])
    await press(both, "draft_edit", second, "1700001000.999998", n=4)
    [opened] = await slack.wait_for("views.open")
    view = opened.params["view"] if isinstance(opened.params["view"], dict) else json.loads(opened.params["view"])
    assert view["callback_id"] == EDIT_VIEW and view["private_metadata"] == second
    assert view["blocks"][0]["element"]["initial_value"] == store.draft(int(second))[1]
    assert await both.post(view_body(EDIT_VIEW, {"answer": "Yes, all of them come in a wide fit."}, second), FORM) == 200
    await tg.wait_for(lambda: relayed(tg, ALICE))
    assert relayed(tg, ALICE) == ["Anna from the shop: Yes, all of them come in a wide fit."]
    assert await both.post(view_body(EDIT_VIEW, {"answer": "Again?"}, second), FORM) == 200  # a second submit

    await both.say("and in red?")
    drafts = await slack.wait_for("chat.postMessage", 3, predicate=lambda c: c in draft_posts(slack, thread))
    third, _ = draft_of(drafts[-1])
    before = len(tg.sent(ALICE))
    await press(both, "draft_discard", third, "1700001000.999997", n=5)
    await slack.wait_for("chat.update", predicate=lambda c: "Discarded by <@U111>" in c.params.get("text", ""))
    await press(both, "draft_send", third, "1700001000.999997", n=6)
    await slack.wait_for("response", 2, predicate=lambda c: c.params.get("text") == GONE)
    await both.settled()
    assert len(tg.sent(ALICE)) == before and relayed(tg, ALICE)[-1].endswith("wide fit."), "discarded: nothing sent"
    assert not any("Again?" in c.text for c in tg.sent(ALICE))

    await both.staff_says("!bot off", thread)
    await both.settled()
    modes = [m["text"] for m in store.transcript(handoff_id) if m["kind"] == "mode"]
    assert modes == ["assist", "person"], "every switch is in the conversation's record"
    assert "staff answer" in root_updates(slack, thread)[-1]


async def test_save_as_faq_answers_the_next_customer_and_stats_count_it(both_rw):
    tg, slack, runtime = both_rw.tg, both_rw.slack, both_rw.runtime
    store = runtime.services.handoffs.store
    [offer, *_], _ = await both_rw.say(QUESTION)
    assert "person" in offer.text and ANSWER not in offer.text
    await both_rw.say("yes")
    [root] = await slack.wait_for("chat.postMessage", predicate=lambda c: c.params.get("channel") == DESK
                                  and not c.params.get("thread_ts"))
    buttons = [e["action_id"] for b in root.params["blocks"] if b["type"] == "actions" for e in b["elements"]]
    assert "handoff_faq" in buttons, "a handoff from an unanswered question offers Save as FAQ"
    handoff_id, thread = both_rw.root(f"telegram:{ALICE}")

    await both_rw.staff_says(ANSWER, thread)
    await tg.wait_for(lambda: relayed(tg, ALICE))
    await press(both_rw, "handoff_faq", str(handoff_id), thread, user="U999", n=1)
    await slack.wait_for("response", predicate=lambda c: c.params.get("text") == NOT_STAFF)
    await press(both_rw, "handoff_faq", str(handoff_id), thread, n=2)
    [opened] = await slack.wait_for("views.open")
    view = opened.params["view"] if isinstance(opened.params["view"], dict) else json.loads(opened.params["view"])
    fields = {b["block_id"]: b["element"].get("initial_value") for b in view["blocks"]}
    assert view["callback_id"] == FAQ_VIEW and fields == {"question": QUESTION, "answer": ANSWER}
    assert "Alice" not in json.dumps(view), "nothing of the customer but their question"

    assert await both_rw.post(view_body(FAQ_VIEW, {"question": QUESTION, "answer": ""}, str(handoff_id)), FORM) == 200
    assert await both_rw.post(view_body(FAQ_VIEW, {"question": QUESTION, "answer": ANSWER}, str(handoff_id)), FORM) == 200
    await slack.wait_for("chat.postMessage", predicate=lambda c: c.params.get("thread_ts") == thread
                         and "as FAQ entry" in c.params.get("text", ""))
    saved = [f for f in runtime.kb.store.get_faqs().values() if f.answer == ANSWER]
    assert len(saved) == 1 and saved[0].question == QUESTION and saved[0].id.startswith("staff-")

    await press(both_rw, "handoff_close", str(handoff_id), thread, n=3)
    await slack.wait_for("chat.update", predicate=lambda c: c.params.get("ts") == thread
                         and "*Closed*" in block_text(c.params.get("blocks") or []))
    after_close = root_updates(slack, thread)[-1]
    assert "handoff_take" not in json.dumps(slack.to("chat.update")[-1].params.get("blocks"))
    assert "Closed" in after_close

    [answer, *_], _ = await both_rw.say(QUESTION, BOB, "Bob")
    assert ANSWER in answer.text, "the next customer's same question is answered from the new entry"
    assert store.active(f"telegram:{BOB}") is None

    output = await shop_stats(runtime, "7")
    counts = output.notes["handoffs"]
    assert counts["handoffs"] == 1 and counts["taken"] == 1 and counts["closed"] == 1 and counts["saved_faqs"] == 1
    assert counts["answered"] == 1 and counts["median_response_min"] is not None
    text = "\n".join(block_text(m.get("blocks") or []) for m in output.messages).replace("&amp;", "&")
    assert "Handoffs to staff: 1 opened, 1 taken, 1 closed by staff, 0 timed out" in text
    assert "Staff answers saved as FAQ: 1" in text


async def test_a_split_staff_reply_that_fails_half_way_resumes_at_the_failed_part(both):
    tg, slack = both.tg, both.slack
    await both.say("/human")
    await slack.wait_for("chat.postMessage", predicate=lambda c: c.params.get("channel") == DESK
                         and not c.params.get("thread_ts"))
    _, thread = both.root(f"telegram:{ALICE}")
    long = " ".join(f"word{i}" for i in range(2500))  # ~17,000 characters: five parts
    tg.fail_next("sendMessage", 502, "Bad Gateway", match=lambda p: "word1500 " in str(p.get("text")))
    await both.staff_says(long, thread)
    await tg.wait_for(lambda: any("word2499" in c.text for c in tg.sent(ALICE)))
    await both.settled()
    assert [c for c in tg.calls_of("sendMessage", ALICE, ok=False) if c.status == 502], "a part failed once"
    pieces = [c.text for c in tg.sent(ALICE) if "word" in c.text]
    words = " ".join(pieces).replace("Anna from the shop: ", "").split()
    assert words == long.split(), "every part arrived once, in order"

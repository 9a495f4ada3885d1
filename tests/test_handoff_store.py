"""The handoff store: claims shared by separate connections (processes), order, de-duplication, erasure, hours."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest

from bot.handoff import StaffHours
from bot.handoff_store import HandoffStore, customer_target
from bot.memory import Memory
from shopguide.errors import NotConfigured

DESK = "desk:slack"


def open_one(store: HandoffStore, user: str = "telegram:42", desk: str | None = "slack"):
    handoff, new = store.open(user_key=user, platform="telegram", chat_id=user.split(":")[1], user_name="Alice",
                              lang="en", origin="asked", reason="where is my order?",
                              context={"turns": [], "products": []}, desk=desk, mode="person")
    return handoff, new


@pytest.fixture
def two(memory_target):
    """Two memories on one file (or PostgreSQL database), as two processes would have."""
    a, b = Memory(memory_target), Memory(memory_target)
    yield HandoffStore(a.db, a.lock), HandoffStore(b.db, b.lock)
    a.close()
    b.close()


def test_one_open_handoff_per_user_and_claims_are_exclusive_across_connections(two):
    first, second = two
    handoff, new = open_one(first)
    again, new_again = open_one(second)
    assert new and not new_again and again.id == handoff.id
    item = first.claim(DESK, "w1")
    assert item is not None and item.kind == "open" and item.handoff.id == handoff.id
    assert second.claim(DESK, "w2") is None  # held by w1's claim
    assert second.done(item, "w2") is False  # not w2's to finish
    assert first.done(item, "w1", "1700.1") is True
    assert second.claim(DESK, "w2") is None  # nothing sent twice


def test_messages_of_one_conversation_go_in_order_and_others_in_parallel(two):
    first, second = two
    a, _ = open_one(first, "telegram:1")
    first.add(a.id, "customer", "one", target=DESK)
    b, _ = open_one(second, "telegram:2")
    opened_a = first.claim(DESK, "w1")
    opened_b = second.claim(DESK, "w2")  # another conversation is not held up by a's claim
    assert (opened_a.handoff.id, opened_b.handoff.id) == (a.id, b.id)
    assert first.claim(DESK, "w3") is None  # a's "one" waits until its thread exists
    first.done(opened_a, "w1", "ts-a")
    follow = second.claim(DESK, "w2")
    assert follow.text == "one"


def test_a_lapsed_claim_is_taken_over_and_failures_retry_then_give_up(two):
    first, second = two
    open_one(first)
    item = first.claim(DESK, "dead", lease_s=-1)  # a process that died holding the claim
    taken = second.claim(DESK, "alive")
    assert taken is not None and taken.id == item.id
    second.failed(taken, "ratelimited", retry=True, delay_s=-1)
    again = second.claim(DESK, "alive")
    assert again.id == item.id and again.attempts == 3
    second.failed(again, "channel_not_found", retry=False)
    assert second.pending(DESK) == 0


def test_a_retried_staff_reply_is_queued_once(two):
    first, second = two
    handoff, _ = open_one(first)
    assert first.staff_reply(handoff, "U111", "Anna from the shop: hi", "slack:C1:1.2")
    assert not second.staff_reply(handoff, "U111", "Anna from the shop: hi", "slack:C1:1.2")
    assert first.pending(customer_target("telegram")) == 1
    assert first.get(handoff.id).first_reply_at is not None


def test_forget_keeps_an_anonymous_tombstone_and_queues_chat_delete(two):
    first, _ = two
    handoff, _ = open_one(first)
    item = first.claim(DESK, "w")
    first.done(item, "w", "1700.5")
    first.set_thread(handoff.id, "CH", "1700.5")
    first.staff_reply(handoff, "U111", "Anna from the shop: hi", "slack:CH:1700.6", remote_id="1700.6")
    assert first.forget_handoffs("telegram:42") > 0
    tomb = first.by_thread("CH", "1700.5")
    assert tomb.status == "erased" and tomb.user_key is None and tomb.reason is None and tomb.user_name is None
    assert first.active("telegram:42") is None
    delete = first.claim(DESK, "w")
    assert delete.kind == "delete" and json.loads(delete.text) == {"channel": "CH", "ts": ["1700.5", "1700.6"]}
    assert first.transcript(handoff.id) == []


def test_purge_removes_only_old_closed_handoffs(two):
    first, _ = two
    old, _ = open_one(first, "telegram:1")
    first.close(old, "U1", "closed", "bye")
    open_one(first, "telegram:2")
    assert first.purge_handoffs(datetime.now(timezone.utc) - timedelta(days=1)) == 0
    assert first.purge_handoffs(datetime.now(timezone.utc) + timedelta(days=1)) == 1
    assert first.get(old.id) is None and len(first.list_open()) == 1


def test_expiry_counts_from_the_last_staff_word(two):
    first, _ = two
    handoff, _ = open_one(first)
    later = datetime.now(timezone.utc) + timedelta(hours=25)
    assert [h.id for h in first.expired(24, later)] == [handoff.id]
    assert first.expired(24) == []


def test_staff_hours():
    hours = StaffHours.parse("Mon-Fri 09:00-17:00 Europe/Berlin")
    monday_noon = datetime(2024, 6, 3, 10, 0, tzinfo=timezone.utc)  # 12:00 in Berlin
    saturday = datetime(2024, 6, 8, 10, 0, tzinfo=timezone.utc)
    assert hours.is_open(monday_noon) and not hours.is_open(saturday)
    assert hours.next_open(saturday).strftime("%a %H:%M") == "Mon 09:00"
    assert StaffHours.parse("Sat,Sun 10:00-14:00").is_open(saturday)
    for bad in ("weekdays 9-5", "Mon-Fri 17:00-09:00", "Mon-Fri 09:00-17:00 Mars/Base"):
        with pytest.raises(NotConfigured, match="SHOPGUIDE_STAFF_HOURS"):
            StaffHours.parse(bad)


def test_drafts_are_decided_once_across_connections_and_parts_resume(two):
    first, second = two
    handoff, _ = open_one(first)
    draft = first.add(handoff.id, "assistant", "We have 3 pairs.", kind="draft", target=DESK)
    assert second.draft(draft)[1] == "We have 3 pairs."
    assert first.decide_draft(draft, "U1", send=True)[1] == "We have 3 pairs."
    assert second.decide_draft(draft, "U2", send=True) is None, "a second press in another process sends nothing"
    assert second.decide_draft(draft, "U2", send=False) is None and second.draft(draft) is None
    assert second.get(handoff.id).first_reply_at and second.get(handoff.id).taken_by == "U1"
    other = first.add(handoff.id, "assistant", "Maybe.", kind="draft", target=DESK)
    assert second.decide_draft(other, "U2", send=False)[1] == "Maybe."
    assert first.decide_draft(other, "U1", send=True) is None, "a discarded draft is never sent"

    assert first.staff_reply(handoff, "U1", "Anna from the shop: hi", "d1", said="hi")
    assert second.staff_said(handoff.id) == ["hi"]
    target = customer_target("telegram")
    item = first.claim(target, "w1")
    assert item.parts_done == 0
    first.part_done(item, 2)  # two parts sent, then the third failed
    first.failed(item, "NetworkError", retry=True, delay_s=0)
    again = second.claim(target, "w2")
    assert again.id == item.id and again.parts_done == 2
    stats = first.stats(7)
    assert (stats["handoffs"], stats["taken"], stats["answered"], stats["saved_faqs"]) == (1, 1, 1, 0)

"""Multi-turn conversations on the demo store through the real core, retrieval and GGUF model."""

from __future__ import annotations

import pytest

from conversation_runner import (
    ConversationContext,
    check_turn,
    load_conversations,
    message,
    resolve_press,
    ungrounded_amounts,
    user_numbers,
)
from bot.types import ProductCard, Reply
from shopguide.cli.app import build_runtime

CONVERSATIONS = load_conversations()


def test_there_are_enough_conversations_covering_every_intent():
    """The suite holds at least 40 conversations and exercises every intent of the core."""
    assert len(CONVERSATIONS) >= 40
    intents = set()
    for conv in CONVERSATIONS:
        for turn in conv["turns"]:
            wanted = turn.get("intent", [])
            intents.update(wanted if isinstance(wanted, list) else [wanted])
    required = {"search", "refine", "more", "details", "product_question", "compare", "faq", "recommend",
                "similar", "preference", "show_data", "export", "forget", "greeting", "help", "thanks",
                "out_of_scope", "human", "empty", "buy"}
    assert required <= intents, f"missing intents: {required - intents}"


def _param(conv):
    """A conversation; one with a `known_gap:` (what the assistant cannot do yet, and why) is expected to fail."""
    gap = conv.get("known_gap")
    marks = [pytest.mark.xfail(reason=f"known gap: {gap}", strict=False)] if gap else []
    return pytest.param(conv, marks=marks, id=f"{conv['file']}:{conv['name']}")


@pytest.mark.e2e
@pytest.mark.parametrize("conv", [_param(c) for c in CONVERSATIONS])
async def test_conversation(conv, settings, demo_kb, chat_worker, tmp_path):
    """Every turn meets its expectations, and every money amount in every reply is grounded."""
    memory_path = tmp_path / "memory.db"
    runtime = build_runtime(settings, kb=demo_kb, worker=chat_worker, memory_path=memory_path)
    ctx = ConversationContext()
    try:
        for number, turn in enumerate(conv["turns"], start=1):
            where = f"{conv['name']} turn {number}"
            if turn.get("restart"):
                runtime.close()
                runtime = build_runtime(settings, kb=demo_kb, worker=chat_worker, memory_path=memory_path)
                continue
            user = str(turn.get("user", "u1"))
            text = str(turn.get("say", ""))
            if "say_repeat" in turn:
                text = str(turn["say_repeat"]["text"]) * int(turn["say_repeat"]["times"])
            action = resolve_press(turn["press"], ctx) if "press" in turn else None
            ctx.user_numbers |= user_numbers(text)
            replies = await runtime.assistant.handle(message(user, text, action))
            check_turn(turn, replies, demo_kb, ctx, where)
            problems = ungrounded_amounts(replies, demo_kb, ctx)
            assert not problems, f"{where}: ungrounded money amounts: {problems}"
            ctx.last = replies
    finally:
        runtime.close()


def test_money_scan_catches_an_invented_price(demo_kb):
    """The grounding scan is able to fail: a price that no shown product has is reported."""
    product = demo_kb.store.get_product("SG-HB-1001")
    honest = Reply(text=f"{product.title} costs €{product.price:.2f}.",
                   products=(ProductCard(id=product.id, title=product.title, price=product.price,
                                         currency="EUR", in_stock=product.in_stock),))
    invented = Reply(text=f"{product.title} costs €1.00 today.", products=honest.products)
    assert ungrounded_amounts([honest], demo_kb, ConversationContext()) == []
    assert ungrounded_amounts([invented], demo_kb, ConversationContext())
    forged_card = Reply(text="A deal.", products=(ProductCard(id=product.id, title=product.title, price=1.0,
                                                               currency="EUR", in_stock=product.in_stock),))
    assert ungrounded_amounts([forged_card], demo_kb, ConversationContext())

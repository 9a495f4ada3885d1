"""Core replies as Block Kit messages: cards, limits, splitting, escaping and the text fallback."""

from __future__ import annotations

import json

from adapters.slack.render import (
    MAX_BLOCKS,
    MAX_FIELD_CHARS,
    MAX_FIELDS,
    MAX_SECTION_CHARS,
    escape,
    plain_messages,
    render_reply,
    split_text,
)
from bot.types import Button, ProductCard, Reply


def card(i: int, **kw) -> ProductCard:
    base = dict(id=f"SG-T-{i:04d}", title=f"Trail Shoe {i}", price=99.5 + i, currency="EUR", in_stock=True, stock=40,
                attributes={"brand": "Ridgeline", "colours": "red, navy"},
                buttons=(Button("Details", f"d:SG-T-{i:04d}"), Button("More like this", f"m:SG-T-{i:04d}")))
    base.update(kw)
    return ProductCard(**base)


def results(n: int, **kw) -> Reply:
    cards = tuple(card(i, **kw) for i in range(1, n + 1))
    lines = "\n".join(f"{i}. {c.title} — €{c.price:.2f}" for i, c in enumerate(cards, 1))
    return Reply(text=f"Here is what I found:\n\n{lines}", products=cards, buttons=(Button("Show more", "more"),),
                 intent="search", data={"intro": "Here is what I found:", "start": 1})


def all_blocks(messages):
    return [b for m in messages for b in m["blocks"]]


def test_product_card_is_a_section_with_fields_and_buttons():
    messages = render_reply(results(2))
    assert len(messages) == 1
    blocks = messages[0]["blocks"]
    assert blocks[0] == {"type": "section", "text": {"type": "mrkdwn", "text": "Here is what I found:"}}
    sec = blocks[1]
    assert sec["type"] == "section" and sec["text"]["text"] == "*1. Trail Shoe 1*"
    fields = [f["text"] for f in sec["fields"]]
    assert fields[:2] == ["*Price*\n€100.50", "*Stock*\nin stock"]
    assert "*Brand*\nRidgeline" in fields and "*SKU*\nSG-T-0001" in fields
    assert "accessory" not in sec
    act = blocks[2]
    assert act["type"] == "actions"
    assert [(e["action_id"], e["value"], e["text"]["text"]) for e in act["elements"]] == [
        ("details", "SG-T-0001", "Details"), ("more_like_this", "SG-T-0001", "More like this")]
    last = blocks[-1]
    assert last["type"] == "actions" and last["elements"][0]["action_id"] == "act_0"
    assert last["elements"][0]["value"] == "more"
    assert messages[0]["text"] == results(2).text  # the core's plain rendering is the fallback
    block_ids = [b["block_id"] for b in blocks if "block_id" in b]
    assert len(block_ids) == len(set(block_ids))


def test_image_becomes_an_accessory():
    msg = render_reply(Reply(text="One", products=(card(1, image="https://img.example/1.png"),)))[0]
    acc = msg["blocks"][1]["accessory"]
    assert acc == {"type": "image", "image_url": "https://img.example/1.png", "alt_text": "Trail Shoe 1"}
    not_web = render_reply(Reply(text="One", products=(card(1, image="file:///etc/passwd"),)))[0]
    assert "accessory" not in not_web["blocks"][1]


def test_record_text_is_escaped_for_mrkdwn():
    r = Reply(text="Tom & Jerry's <Boot>", products=(card(1, title="Tom & Jerry's <Boot>",
                                                          attributes={"material": "a<b>&c"}),))
    msg = render_reply(r)[0]
    dumped = json.dumps(msg["blocks"])
    assert "Tom &amp; Jerry's &lt;Boot&gt;" in dumped and "a&lt;b&gt;&amp;c" in dumped
    assert "<Boot>" not in dumped.replace('"alt_text": "Tom & Jerry\'s <Boot>"', "")
    assert msg["text"] == "Tom &amp; Jerry's &lt;Boot&gt;"
    assert escape("<!channel> & <@U1>") == "&lt;!channel&gt; &amp; &lt;@U1&gt;"


def test_more_than_50_blocks_are_split_across_messages():
    reply = results(20)  # 1 intro + 20 × (section, actions, divider) + 1 actions > 50
    messages = render_reply(reply)
    assert len(messages) >= 2
    assert all(0 < len(m["blocks"]) <= MAX_BLOCKS for m in messages)
    skus = [e["value"] for b in all_blocks(messages) if b["type"] == "actions"
            for e in b["elements"] if e["action_id"] == "details"]
    assert skus == [f"SG-T-{i:04d}" for i in range(1, 21)]  # all cards, in order, none duplicated
    assert all(m["text"] for m in messages)
    assert "1. Trail Shoe 1" in messages[0]["text"] and "20. Trail Shoe 20" in messages[-1]["text"]
    assert all(m["blocks"][-1]["type"] != "divider" for m in messages)
    # numbering continues across messages
    titles = [b["text"]["text"] for b in all_blocks(messages) if b.get("block_id", "").startswith("p")]
    assert titles[-1] == "*20. Trail Shoe 20*"


def test_long_text_is_split_into_sections_of_at_most_3000_characters():
    text = "\n".join(f"Line {i}: " + "word " * 30 for i in range(200))  # ~32k characters
    messages = render_reply(Reply(text=text))
    sections = [b["text"]["text"] for b in all_blocks(messages)]
    assert all(len(s) <= MAX_SECTION_CHARS for s in sections)
    assert all(len(m["blocks"]) <= MAX_BLOCKS and len(json.dumps(m["blocks"])) < 13200 for m in messages)
    assert len(messages) >= 3
    joined = "\n".join(sections)
    assert "Line 0:" in joined and "too long for Slack" in joined  # cut with a notice past 30,000


def test_escaping_never_pushes_a_section_over_the_limit():
    messages = render_reply(Reply(text="&" * 5000))
    sections = [b["text"]["text"] for b in all_blocks(messages)]
    assert all(len(s) <= MAX_SECTION_CHARS for s in sections)
    assert sum(s.count("&amp;") for s in sections) == 5000


def test_field_limits_and_button_limits():
    attrs = {f"attr_{i}": "x" * 5000 for i in range(20)}
    msg = render_reply(Reply(text="t", products=(card(1, attributes=attrs, buttons=(Button("L" * 200, "d:SG-T-0001"),)),)))[0]
    sec = msg["blocks"][1]
    assert len(msg["blocks"]) == 3 and len(json.dumps(msg["blocks"])) < 12000  # the card still fits one message
    assert len(sec["fields"]) == MAX_FIELDS and all(len(f["text"]) <= MAX_FIELD_CHARS for f in sec["fields"])
    assert sec["fields"][-1]["text"] == "*SKU*\nSG-T-0001"
    assert len(msg["blocks"][2]["elements"][0]["text"]["text"]) <= 75


def test_stock_wording_and_text_only_reply():
    low = render_reply(Reply(text="x", products=(card(1, stock=2),)))[0]["blocks"][1]["fields"][1]["text"]
    out = render_reply(Reply(text="x", products=(card(1, in_stock=False, stock=0),)))[0]["blocks"][1]["fields"][1]["text"]
    assert low == "*Stock*\nonly 2 left" and out == "*Stock*\nout of stock"
    plain = render_reply(Reply(text="Hello there", buttons=(Button("Yes, erase everything", "forget:yes"),)))
    assert len(plain) == 1 and plain[0]["text"] == "Hello there"
    assert plain[0]["blocks"][-1]["elements"][0]["value"] == "forget:yes"


def test_split_text_prefers_line_breaks_and_plain_messages_pack():
    assert split_text("aaa\nbbb\nccc", 8) == ["aaa\nbbb", "ccc"]
    assert split_text("x" * 25, 10) == ["x" * 10, "x" * 10, "x" * 5]
    extra = {"type": "context", "elements": [{"type": "mrkdwn", "text": "note"}]}
    msgs = plain_messages("Hi <there>", [extra])
    assert msgs[0]["blocks"] == [{"type": "section", "text": {"type": "mrkdwn", "text": "Hi &lt;there&gt;"}}, extra]
    assert msgs[0]["text"] == "Hi &lt;there&gt;"

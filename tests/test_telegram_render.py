"""Replies -> Bot API calls: escaping, cards, keyboards, splitting and limits (pure functions)."""

from __future__ import annotations

import json

from shopguide.bench.fake_telegram import parse_html

from adapters.telegram.render import (
    MAX_CAPTION,
    MAX_TEXT,
    OutgoingMessage,
    render_reply,
    split_text,
    tg_len,
)
from bot.types import Button, ProductCard, Reply

BUTTONS = lambda sku: (Button("Details", f"d:{sku}"), Button("More like this", f"m:{sku}"), Button("♥ Save", f"s:{sku}"))  # noqa: E731


def card(sku: str = "SG-HB-1001", title: str = "Ridgeline Aurora Men's Waterproof Hiking Boot", price: float = 147.99,
         image: str | None = None, **attrs: str) -> ProductCard:
    return ProductCard(id=sku, title=title, price=price, currency="EUR", in_stock=True, stock=27, image=image,
                       attributes=attrs or {"brand": "Ridgeline", "colours": "navy, orange"}, buttons=BUTTONS(sku))


def markup(out: OutgoingMessage) -> list[list[dict]]:
    rm = out.kwargs.get("reply_markup")
    return rm.to_dict()["inline_keyboard"] if rm is not None else []


def seen_by_user(out: OutgoingMessage) -> str:
    """What Telegram would display: the HTML parsed the way the fake server (strictly) parses it."""
    return parse_html(out.kwargs.get("text") or out.kwargs.get("caption") or "")


def test_plain_reply_is_escaped_html_with_a_plain_twin():
    reply = Reply(text='Try “I don\'t like <brand>” & more', buttons=(Button("Talk to a person", "human"),))
    [out] = render_reply(reply)
    assert out.method == "send_message"
    assert out.kwargs["parse_mode"] == "HTML"
    assert "&lt;brand&gt;" in out.kwargs["text"] and "&amp;" in out.kwargs["text"]
    assert seen_by_user(out) == reply.text
    assert out.plain["text"] == reply.text and "parse_mode" not in out.plain
    assert out.plain["reply_markup"] is out.kwargs["reply_markup"]
    assert markup(out) == [[{"text": "Talk to a person", "callback_data": "human"}]]


def test_result_list_is_intro_plus_one_card_per_product_with_buttons():
    cards = (card("SG-HB-1001"), card("SG-HB-1002", "Stonepine Lichen <GTX> & Co", 113.99))
    reply = Reply(text="Here is what I found:\n\n1. ...\n2. ...", products=cards, buttons=(Button("Show more", "more"),),
                  data={"intro": "Here is what I found for “boots”:", "start": 1})
    outs = render_reply(reply)
    assert [o.method for o in outs] == ["send_message"] * 3
    assert seen_by_user(outs[0]) == "Here is what I found for “boots”:"
    assert markup(outs[0]) == []
    first, second = seen_by_user(outs[1]), seen_by_user(outs[2])
    assert first.startswith("1. Ridgeline Aurora Men's Waterproof Hiking Boot\n€147.99 · in stock")
    assert second.startswith("2. Stonepine Lichen <GTX> & Co\n€113.99")
    assert "<b>2. Stonepine Lichen &lt;GTX&gt; &amp; Co</b>" in outs[2].kwargs["text"]
    assert "Brand: Ridgeline" in first
    assert [b["callback_data"] for b in markup(outs[1])[0]] == ["d:SG-HB-1001", "m:SG-HB-1001", "s:SG-HB-1001"]
    assert [b["text"] for b in markup(outs[1])[0]] == ["Details", "More like this", "♥ Save"]
    assert len(markup(outs[1])) == 1
    assert markup(outs[2])[-1] == [{"text": "Show more", "callback_data": "more"}]  # reply buttons on the last card


def test_numbering_continues_on_later_pages():
    reply = Reply(text="x", products=(card("A-1"), card("A-2")), data={"intro": "More results:", "start": 6})
    outs = render_reply(reply)
    assert seen_by_user(outs[1]).startswith("6. ") and seen_by_user(outs[2]).startswith("7. ")


def test_card_with_image_is_a_photo_with_caption_and_a_text_fallback():
    reply = Reply(text="x", products=(card(image="https://shop.example/img/1001.jpg"),), data={"intro": "Found:"})
    photo = render_reply(reply)[1]
    assert photo.method == "send_photo"
    assert photo.kwargs["photo"] == "https://shop.example/img/1001.jpg"
    assert seen_by_user(photo).startswith("1. Ridgeline Aurora")
    assert photo.fallback is not None and photo.fallback.method == "send_message"
    assert markup(photo) == markup(photo.fallback) and len(markup(photo)[0]) == 3


def test_local_image_paths_are_not_sent_as_photos():
    reply = Reply(text="x", products=(card(image="/srv/images/1001.jpg"),), data={"intro": "Found:"})
    assert render_reply(reply)[1].method == "send_message"


def test_caption_is_kept_under_1024_with_the_title():
    attrs = {f"attribute_{i}": "a long value " * 8 for i in range(30)}
    photo = render_reply(Reply(text="x", products=(card(image="https://x.example/a.jpg", **attrs),),
                               data={"intro": "Found:"}))[1]
    caption = seen_by_user(photo)
    assert tg_len(caption) <= MAX_CAPTION
    assert caption.startswith("1. Ridgeline Aurora") and "€147.99" in caption
    assert tg_len(seen_by_user(photo.fallback)) > MAX_CAPTION  # the text card keeps more


def test_button_with_data_over_64_bytes_is_dropped():
    long_sku = "SKU-" + "ü" * 40  # 84 bytes, 44 characters
    reply = Reply(text="Pick one", buttons=(Button("Details", f"d:{long_sku}"), Button("Help", "help")))
    [out] = render_reply(reply)
    assert markup(out) == [[{"text": "Help", "callback_data": "help"}]]


def test_all_buttons_too_long_means_no_keyboard():
    [out] = render_reply(Reply(text="Pick", buttons=(Button("Details", "d:" + "x" * 80),)))
    assert "reply_markup" not in out.kwargs


def test_long_text_is_split_at_paragraphs_under_4096_with_buttons_on_the_last_piece():
    paragraphs = [(f"Paragraph {i}. " + "Sturdy boots for wet trails. " * 12).strip() for i in range(40)]
    text = "\n\n".join(paragraphs)
    assert len(text) > 3 * MAX_TEXT
    outs = render_reply(Reply(text=text, buttons=(Button("Show more", "more"),)))
    assert len(outs) >= 4
    pieces = [seen_by_user(o) for o in outs]
    assert all(tg_len(p) <= MAX_TEXT for p in pieces)
    assert "\n\n".join(pieces) == text  # nothing lost, nothing repeated, order kept
    for piece in pieces:
        assert set(piece.split("\n\n")) <= set(paragraphs)  # whole paragraphs only
    assert all(markup(o) == [] for o in outs[:-1]) and markup(outs[-1]) == [[{"text": "Show more", "callback_data": "more"}]]


def test_one_huge_paragraph_is_split_at_sentences():
    text = " ".join(f"Sentence number {i} is about tents and rain." for i in range(300))
    pieces = split_text(text)
    assert len(pieces) > 1
    assert all(tg_len(p) <= MAX_TEXT and p.endswith(".") for p in pieces)
    assert " ".join(pieces) == text


def test_split_counts_utf16_units_and_hard_cuts_unbroken_text():
    emoji = "🥾" * 3000  # 6000 UTF-16 units, no spaces
    pieces = split_text(emoji)
    assert len(pieces) == 2 and all(tg_len(p) <= MAX_TEXT for p in pieces)
    assert "".join(pieces) == emoji


def test_split_is_not_fooled_by_escaping():
    text = "<&>" * 2000  # 6000 characters, 26000 once escaped
    outs = render_reply(Reply(text=text))
    assert len(outs) == 2
    assert "".join(seen_by_user(o) for o in outs) == text


def test_export_is_a_json_document_with_caption():
    data = {"user": "telegram:42", "preferences": [{"key": "shoe_size", "value": "42"}]}
    reply = Reply(text="Here is a copy of everything I store about you (1 records) as JSON.", intent="export",
                  data={"export": data, "filename": "shopguide-export.json", "json": json.dumps(data)})
    [out] = render_reply(reply)
    assert out.method == "send_document"
    assert json.loads(out.kwargs["document"].decode()) == data
    assert out.kwargs["filename"] == "shopguide-export.json"
    assert seen_by_user(out) == reply.text


def test_details_reply_with_image_is_a_photo_with_the_details_caption():
    details = "Ridgeline Aurora Men's Waterproof Hiking Boot\nPrice: €147.99 · in stock\nSKU: SG-HB-1001"
    c = card(image="https://shop.example/1001.jpg")
    reply = Reply(text=details, products=(c,), buttons=(Button("More like this", "m:SG-HB-1001"),),
                  image="https://shop.example/1001.jpg", intent="details")
    [out] = render_reply(reply)
    assert out.method == "send_photo" and seen_by_user(out) == details
    assert out.kwargs["caption"].startswith("<b>Ridgeline Aurora Men&#x27;s Waterproof Hiking Boot</b>\n")
    assert markup(out) == [[{"text": "More like this", "callback_data": "m:SG-HB-1001"}]]
    assert out.fallback.method == "send_message" and seen_by_user(out.fallback) == details


def test_long_details_with_image_are_photo_then_text():
    details = "Ridgeline Aurora Men's Waterproof Hiking Boot\n" + "Great boot. " * 200
    c = card(image="https://shop.example/1001.jpg")
    outs = render_reply(Reply(text=details, products=(c,), image=c.image))
    assert [o.method for o in outs] == ["send_photo", "send_message"]
    assert seen_by_user(outs[0]) == c.title
    assert seen_by_user(outs[1]) == details.strip()
    assert [b["callback_data"] for b in markup(outs[1])[0]] == ["d:SG-HB-1001", "m:SG-HB-1001", "s:SG-HB-1001"]


def test_answer_about_one_product_without_buttons_gets_the_card_buttons():
    [out] = render_reply(Reply(text="Yes, it is waterproof.", products=(card(),)))
    assert [b["callback_data"] for b in markup(out)[0]] == ["d:SG-HB-1001", "m:SG-HB-1001", "s:SG-HB-1001"]


def test_too_many_products_degrade_to_the_numbered_text():
    cards = tuple(card(f"SG-X-{i:04d}") for i in range(12))
    text = "Found 12:\n\n" + "\n".join(f"{i + 1}. Boot {i}" for i in range(12))
    [out] = render_reply(Reply(text=text, products=cards, data={"intro": "Found 12:"}))
    assert seen_by_user(out) == text
    numbers = [b for row in markup(out) for b in row]
    assert [b["text"] for b in numbers] == [str(i) for i in range(1, 13)]
    assert numbers[0]["callback_data"] == "d:SG-X-0000"
    assert all(len(row) <= 8 for row in markup(out))


def test_empty_reply_sends_nothing():
    assert render_reply(Reply(text="  ")) == []


def test_notice_the_core_puts_before_a_result_list_is_kept_in_the_intro():
    notice = "(Your message was very long, so I read only the first 4,000 characters.)"
    intro = "Here is what I found for “boots”:"
    reply = Reply(text=f"{notice}\n\n{intro}\n\n1. Boot", products=(card(),), data={"intro": intro, "start": 1})
    assert seen_by_user(render_reply(reply)[0]) == f"{notice}\n\n{intro}"

"""Core replies as Slack messages: Block Kit product cards, split to Slack's limits, with a text fallback.

Pure functions only: every result is a list of `chat.postMessage` keyword arguments
(`text` and `blocks`); the caller adds `channel` and `thread_ts`.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from bot.i18n import tr
from bot.present import card_stock_text, format_price, stock_text
from bot.types import Button, ProductCard, Reply
from knowledge.schema import Product

MAX_BLOCKS = 50  # per message
MAX_SECTION_CHARS = 3000  # text of one section
MAX_FIELDS = 10  # per section
MAX_FIELD_CHARS = 2000
MAX_CARD_FIELD_CHARS = 300  # a card's attribute values are short; this keeps a card well under the message budget
MAX_ACTION_ELEMENTS = 25
MAX_BLOCK_ID = 255
MAX_BUTTON_LABEL = 75
MAX_BUTTON_VALUE = 2000
MAX_MESSAGE_BLOCK_CHARS = 12000  # Slack may fail with msg_blocks_too_long at about 13.2k (undocumented)
MAX_FALLBACK_CHARS = 39000  # Slack truncates `text` after 40,000 characters
MAX_REPLY_CHARS = 30000  # longer reply text is cut with a notice
CUT_NOTICE = "… (cut: this message was too long for Slack)"
CARD_ACTIONS = {"d": "details", "m": "more_like_this", "s": "save"}
ACTION_PREFIXES = {v: k for k, v in CARD_ACTIONS.items()}


def escape(text: str) -> str:
    """Escape the three characters Slack's mrkdwn treats as control characters."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def cut(text: str, limit: int, notice: str = CUT_NOTICE) -> str:
    """`text` shortened to `limit` characters, ending with `notice` when it was cut."""
    if len(text) <= limit:
        return text
    return text[: max(0, limit - len(notice) - 1)].rstrip() + " " + notice


@dataclass
class Unit:
    """Blocks that must stay in one message, and their plain-text form for the fallback."""

    blocks: list[dict[str, Any]]
    plain: str = ""
    size: int = field(init=False)

    def __post_init__(self) -> None:
        self.size = len(json.dumps(self.blocks, ensure_ascii=False))


def mrkdwn(text: str) -> dict[str, Any]:
    """A mrkdwn text object (the caller escapes record text)."""
    return {"type": "mrkdwn", "text": text}


def section(text: str, *, fields: Sequence[str] = (), block_id: str | None = None,
            accessory: dict[str, Any] | None = None) -> dict[str, Any]:
    """A section block, with its text and fields cut to Slack's limits."""
    block: dict[str, Any] = {"type": "section", "text": mrkdwn(cut(text, MAX_SECTION_CHARS) or " ")}
    if fields:
        block["fields"] = [mrkdwn(cut(f, MAX_FIELD_CHARS)) for f in fields[:MAX_FIELDS]]
    if block_id:
        block["block_id"] = block_id[:MAX_BLOCK_ID]
    if accessory:
        block["accessory"] = accessory
    return block


def context(text: str) -> dict[str, Any]:
    """A context block: small grey text."""
    return {"type": "context", "elements": [mrkdwn(cut(text, MAX_SECTION_CHARS))]}


def button(label: str, action_id: str, value: str, style: str | None = None) -> dict[str, Any]:
    """A button element."""
    element: dict[str, Any] = {
        "type": "button",
        "text": {"type": "plain_text", "text": cut(label, MAX_BUTTON_LABEL, "…") or "?", "emoji": True},
        "action_id": action_id[:MAX_BLOCK_ID],
        "value": value,
    }
    if style in ("primary", "danger"):
        element["style"] = style
    return element


def actions(elements: Sequence[dict[str, Any]], block_id: str | None = None) -> dict[str, Any]:
    """An actions block with at most 25 elements."""
    block: dict[str, Any] = {"type": "actions", "elements": list(elements[:MAX_ACTION_ELEMENTS])}
    if block_id:
        block["block_id"] = block_id[:MAX_BLOCK_ID]
    return block


def split_text(text: str, limit: int = MAX_SECTION_CHARS) -> list[str]:
    """Cut `text` into pieces of at most `limit` characters, at line breaks or spaces where possible."""
    pieces: list[str] = []
    rest = text.strip()
    while len(rest) > limit:
        at = rest.rfind("\n", 0, limit + 1)
        if at < limit // 2:
            at = rest.rfind(" ", 0, limit + 1)
        if at < limit // 2:
            at = limit
        pieces.append(rest[:at].rstrip())
        rest = rest[at:].lstrip()
    if rest:
        pieces.append(rest)
    return pieces


def _split_escaped(text: str, limit: int = MAX_SECTION_CHARS) -> list[str]:
    """Split raw text so that each piece is at most one section long once escaped."""
    out: list[str] = []
    for piece in split_text(text, limit):
        if len(escape(piece)) <= MAX_SECTION_CHARS:
            out.append(piece)
        else:  # escaping lengthened it ("&" becomes five characters): split finer
            out.extend(_split_escaped(piece, max(1, limit // 2)))
    return out


def text_units(text: str) -> list[Unit]:
    """Record or reply text as section blocks of at most 3000 characters each."""
    return [Unit([section(escape(piece))], piece) for piece in _split_escaped(text)]


def _is_web_url(url: str | None) -> bool:
    return bool(url) and url.startswith(("https://", "http://")) and len(url) <= 3000  # type: ignore[union-attr]


def card_button(btn: Button, position: int) -> dict[str, Any] | None:
    """A product card's button: action_id names the kind, value is the product id."""
    kind, _, arg = btn.action.partition(":")
    action_id = CARD_ACTIONS.get(kind)
    value = arg if action_id and arg else btn.action
    if not action_id:
        action_id = f"act_{position}"
    if not value or len(value) > MAX_BUTTON_VALUE:
        return None
    return button(btn.label, action_id, value)


def card_unit(card: ProductCard, position: int | None, index: int) -> Unit:
    """One product card: a section with fields (and image), then its buttons."""
    title = escape(card.title)
    heading = f"*{position}. {title}*" if position is not None else f"*{title}*"
    fields = [f"*{tr(card.lang, 'Price')}*\n{escape(format_price(card.price, card.currency, card.lang))}",
              f"*{tr(card.lang, 'Stock')}*\n{card_stock_text(card)}"]
    for key, value in card.attributes.items():
        if len(fields) >= MAX_FIELDS - 1:
            break
        label = cut(key.replace("_", " ").capitalize(), 60, "…")
        fields.append(f"*{escape(label)}*\n{escape(cut(str(value), MAX_CARD_FIELD_CHARS, '…'))}")
    fields.append(f"*SKU*\n{escape(card.id)}")
    accessory = None
    if _is_web_url(card.image):
        accessory = {"type": "image", "image_url": card.image, "alt_text": cut(card.title, 2000, "…")}
    blocks = [section(heading, fields=fields, block_id=f"p{index}:{card.id}", accessory=accessory)]
    elements = [e for i, b in enumerate(card.buttons) if (e := card_button(b, i)) is not None]
    if elements:
        blocks.append(actions(elements, block_id=f"a{index}:{card.id}"))
    blocks.append({"type": "divider"})
    plain_head = f"{position}. {card.title}" if position is not None else card.title
    plain = f"{plain_head} — {format_price(card.price, card.currency, card.lang)} · {card_stock_text(card)}"
    return Unit(blocks, plain)


def reply_buttons_unit(buttons: Sequence[Button]) -> Unit | None:
    """The reply's own buttons ("Show more", "Yes, erase everything"): value is the core's action string."""
    elements = [button(b.label, f"act_{i}", b.action) for i, b in enumerate(buttons)
                if b.action and len(b.action) <= MAX_BUTTON_VALUE]
    if not elements:
        return None
    return Unit([actions(elements, block_id="reply_actions")], "")


def pack(units: Iterable[Unit], *, max_blocks: int = MAX_BLOCKS,
         max_chars: int = MAX_MESSAGE_BLOCK_CHARS) -> list[dict[str, Any]]:
    """Pack units into as many messages as needed, each within the block and size limits."""
    messages: list[dict[str, Any]] = []
    blocks: list[dict[str, Any]] = []
    plains: list[str] = []
    size = 0

    def flush() -> None:
        if blocks and len(blocks) > 1 and blocks[-1].get("type") == "divider":
            blocks.pop()  # no rule under the last card of a message
        if blocks:
            text = "\n".join(p for p in plains if p) or "(see the message)"
            messages.append({"text": cut(escape(text), MAX_FALLBACK_CHARS), "blocks": list(blocks)})
            blocks.clear()
            plains.clear()

    for unit in units:
        if blocks and (len(blocks) + len(unit.blocks) > max_blocks or size + unit.size > max_chars):
            flush()
            size = 0
        blocks.extend(unit.blocks[:max_blocks])
        plains.append(unit.plain)
        size += unit.size
    flush()
    return messages


def render_reply(reply: Reply) -> list[dict[str, Any]]:
    """A core reply as one or more `chat.postMessage` payloads (`text` + `blocks`)."""
    data = reply.data or {}
    intro = data.get("intro") if reply.products else None
    full = cut(reply.text or "", MAX_REPLY_CHARS)
    lead = cut(str(intro), MAX_REPLY_CHARS) if intro else full
    units = text_units(lead)
    start = int(data.get("start", 1) or 1) if intro else None
    card_images = {c.image for c in reply.products}
    if reply.image and reply.image not in card_images and _is_web_url(reply.image):
        units.append(Unit([{"type": "image", "image_url": reply.image, "alt_text": "product image"}], ""))
    for i, card in enumerate(reply.products):
        units.append(card_unit(card, None if start is None else start + i, i))
    extra = reply_buttons_unit(reply.buttons)
    if extra:
        units.append(extra)
    messages = pack(units)
    if len(messages) == 1 and full:
        messages[0]["text"] = cut(escape(full), MAX_FALLBACK_CHARS)  # the core's complete plain-text rendering
    if not messages:
        messages = [{"text": escape(full) or "…", "blocks": []}]
    return messages


def plain_messages(text: str, extra: Sequence[dict[str, Any]] = ()) -> list[dict[str, Any]]:
    """Plain text (escaped into sections) followed by extra blocks, packed into messages."""
    units = text_units(cut(text, MAX_REPLY_CHARS))
    if extra:
        units.append(Unit(list(extra), ""))
    return pack(units) or [{"text": escape(text) or "…", "blocks": []}]


def record_messages(product: Product, attribute_lines: Sequence[str] = ()) -> list[dict[str, Any]]:
    """Every field of a stored record, stock count included, one per line (the staff view)."""
    stock = f"{product.stock} ({stock_text(product)})" if product.stock is not None else stock_text(product)
    lines = [product.title, f"SKU: {product.id}", f"Price: {format_price(product.price, product.currency)}",
             f"Stock: {stock}"]
    if product.available is not None:
        lines.append(f"Available: {'yes' if product.available else 'no'}")
    for label, value in (("Brand", product.brand), ("Category", product.category), ("Type", product.type),
                         ("Material", product.material), ("Image", product.image), ("URL", product.url)):
        if value:
            lines.append(f"{label}: {value}")
    if product.colors:
        lines.append("Colours: " + ", ".join(product.colors))
    if product.sizes:
        lines.append("Sizes: " + ", ".join(product.sizes))
    if product.rating is not None:
        lines.append(f"Rating: {product.rating:.1f}/5")
    lines.extend(attribute_lines)
    lines.append("Description: " + (product.description or "(none)"))
    image = [{"type": "image", "image_url": product.image, "alt_text": cut(product.title, 2000, "…")}] \
        if _is_web_url(product.image) else []
    return plain_messages("\n".join(lines), image)

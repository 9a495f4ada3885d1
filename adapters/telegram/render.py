"""Pure rendering of the core's replies as Bot API calls: HTML text, product cards, inline keyboards.

Limits are counted in UTF-16 code units, as Telegram counts them, so they hold for every script.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field
from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, LinkPreviewOptions
from telegram.constants import ParseMode

from adapters.telegram.convert import MAX_CALLBACK_BYTES
from bot.present import card_stock_text, format_price
from bot.types import Button, ProductCard, Reply

MAX_TEXT = 4096
MAX_CAPTION = 1024
MAX_CARDS = 10  # more products than this are shown as one numbered list
BUTTONS_PER_ROW = 3
MAX_BUTTONS = 100
MAX_LABEL = 64

_SENTENCE_END = re.compile(r"(?<=[.!?…])\s+")


@dataclass(frozen=True)
class OutgoingMessage:
    """One Bot API call: `method` is the PTB Bot method, `kwargs` its arguments without `chat_id`."""

    method: str  # "send_message" | "send_photo" | "send_document"
    kwargs: dict[str, Any] = field(default_factory=dict)
    plain: dict[str, Any] | None = None  # the same call as plain text, for when Telegram rejects the HTML
    fallback: "OutgoingMessage | None" = None  # sent instead when a photo can't be fetched by Telegram

    @property
    def text(self) -> str:
        """The plain text the user will read (message text or caption)."""
        source = self.plain if self.plain is not None else self.kwargs
        return str(source.get("text") or source.get("caption") or "")


def tg_len(text: str) -> int:
    """Length as Telegram counts it (UTF-16 code units)."""
    return len(text.encode("utf-16-le")) // 2


def esc(text: object) -> str:
    """HTML-escape anything taken from a record or the user."""
    return html.escape(str(text), quote=True)


def split_text(text: str, limit: int = MAX_TEXT) -> list[str]:
    """Cut text into pieces under `limit`, at paragraph, then line, then sentence, then word boundaries."""
    text = text.strip()
    if not text:
        return []
    if tg_len(text) <= limit:
        return [text]
    return [c for c in (chunk.strip() for chunk in _split(text, limit, 0)) if c]


_SEPARATORS: tuple[str | re.Pattern[str], ...] = ("\n\n", "\n", _SENTENCE_END, " ")


def _split(text: str, limit: int, level: int) -> list[str]:
    if tg_len(text) <= limit:
        return [text]
    if level >= len(_SEPARATORS):
        return _hard_cut(text, limit)
    sep = _SEPARATORS[level]
    units = _units(text, sep)
    if len(units) == 1:
        return _split(text, limit, level + 1)
    chunks: list[str] = []
    current = ""
    for unit in units:
        if tg_len(current + unit) <= limit:
            current += unit
            continue
        if current.strip():
            chunks.append(current)
        current = ""
        if tg_len(unit) <= limit:
            current = unit
        else:
            chunks.extend(_split(unit, limit, level + 1))
    if current.strip():
        chunks.append(current)
    return chunks


def _units(text: str, sep: str | re.Pattern[str]) -> list[str]:
    """Pieces of `text`, each keeping the separator that follows it."""
    if isinstance(sep, str):
        parts = text.split(sep)
        return [p + sep for p in parts[:-1]] + [parts[-1]]
    out, start = [], 0
    for m in sep.finditer(text):
        out.append(text[start:m.end()])
        start = m.end()
    out.append(text[start:])
    return [u for u in out if u]


def _hard_cut(text: str, limit: int) -> list[str]:
    out, current, size = [], [], 0
    for ch in text:
        w = tg_len(ch)
        if size + w > limit:
            out.append("".join(current))
            current, size = [], 0
        current.append(ch)
        size += w
    if current:
        out.append("".join(current))
    return out


def truncate(text: str, limit: int, ellipsis: str = "…") -> str:
    """`text` cut to `limit` UTF-16 units, ending in an ellipsis when cut."""
    if tg_len(text) <= limit:
        return text
    cut = _hard_cut(text, limit - tg_len(ellipsis))[0].rstrip()
    return cut + ellipsis


def keyboard(rows: list[list[Button]]) -> InlineKeyboardMarkup | None:
    """An inline keyboard; buttons whose action id would exceed 64 bytes are dropped."""
    out: list[list[InlineKeyboardButton]] = []
    count = 0
    for row in rows:
        kept = []
        for b in row:
            data = b.action or ""
            if not data or len(data.encode("utf-8")) > MAX_CALLBACK_BYTES or not b.label or count >= MAX_BUTTONS:
                continue
            kept.append(InlineKeyboardButton(truncate(b.label, MAX_LABEL), callback_data=data))
            count += 1
        for i in range(0, len(kept), 8):
            out.append(kept[i:i + 8])
    return InlineKeyboardMarkup(out) if out else None


def button_rows(buttons: tuple[Button, ...] | list[Button]) -> list[list[Button]]:
    """Reply-level buttons laid out a few per row."""
    items = list(buttons)
    return [items[i:i + BUTTONS_PER_ROW] for i in range(0, len(items), BUTTONS_PER_ROW)]


def card_lines(card: ProductCard, position: int | None = None) -> list[tuple[str, str]]:
    """A card as (plain, html) lines: title, price and stock, then the key attributes."""
    title = f"{position}. {card.title}" if position is not None else card.title
    price = f"{format_price(card.price, card.currency, card.lang)} · {card_stock_text(card)}"
    lines = [(title, f"<b>{esc(title)}</b>"), (price, esc(price))]
    for key, value in card.attributes.items():
        line = f"{key.replace('_', ' ').capitalize()}: {value}"
        lines.append((line, esc(line)))
    return lines


def fit_lines(lines: list[tuple[str, str]], limit: int) -> tuple[str, str]:
    """Join (plain, html) lines, dropping trailing lines and then shortening the first until under `limit`."""
    lines = list(lines)
    while len(lines) > 1 and tg_len("\n".join(p for p, _ in lines)) > limit:
        lines.pop()
    plain = "\n".join(p for p, _ in lines)
    if tg_len(plain) > limit:
        short = truncate(plain, limit)
        return short, esc(short)
    return plain, "\n".join(h for _, h in lines)


def _text_message(plain: str, html_text: str | None = None, markup: InlineKeyboardMarkup | None = None) -> OutgoingMessage:
    html_text = esc(plain) if html_text is None else html_text
    common: dict[str, Any] = {"link_preview_options": LinkPreviewOptions(is_disabled=True)}
    if markup is not None:
        common["reply_markup"] = markup
    return OutgoingMessage("send_message", {"text": html_text, "parse_mode": ParseMode.HTML, **common},
                           plain={"text": plain, **common})


def _is_url(image: str | None) -> bool:
    return bool(image) and str(image).startswith(("https://", "http://"))


def _photo_message(image: str, plain: str, html_caption: str, markup: InlineKeyboardMarkup | None,
                   fallback: OutgoingMessage | None) -> OutgoingMessage:
    extra: dict[str, Any] = {"reply_markup": markup} if markup is not None else {}
    return OutgoingMessage("send_photo", {"photo": image, "caption": html_caption, "parse_mode": ParseMode.HTML, **extra},
                           plain={"photo": image, "caption": plain, **extra}, fallback=fallback)


def render_card(card: ProductCard, position: int | None = None, extra_rows: list[list[Button]] | None = None) -> OutgoingMessage:
    """One product card: a photo with caption when it has an image URL, otherwise a text message."""
    markup = keyboard([list(card.buttons), *(extra_rows or [])])
    lines = card_lines(card, position)
    plain, html_text = fit_lines(lines, MAX_TEXT)
    text = _text_message(plain, html_text, markup)
    if _is_url(card.image):
        cap_plain, cap_html = fit_lines(lines, MAX_CAPTION)
        return _photo_message(str(card.image), cap_plain, cap_html, markup, fallback=text)
    return text


def render_text(text: str, rows: list[list[Button]] | None = None, *, bold_first_line: bool = False) -> list[OutgoingMessage]:
    """Plain text split under the limit, escaped; the keyboard goes on the last piece."""
    chunks = split_text(text)
    out = []
    for i, chunk in enumerate(chunks):
        html_text = esc(chunk)
        if bold_first_line and i == 0:
            first, sep, rest = chunk.partition("\n")
            html_text = f"<b>{esc(first)}</b>{sep}{esc(rest)}"
        markup = keyboard(rows) if rows and i == len(chunks) - 1 else None
        out.append(_text_message(chunk, html_text, markup))
    return out


def render_export(reply: Reply) -> list[OutgoingMessage]:
    """An export: the JSON document as a file, with the reply text as its caption."""
    data = reply.data or {}
    document = str(data["json"]).encode("utf-8")
    name = str(data.get("filename") or "export.json")
    text = reply.text.strip()
    if tg_len(text) <= MAX_CAPTION:
        doc = OutgoingMessage("send_document", {"document": document, "filename": name, "caption": esc(text),
                                                "parse_mode": ParseMode.HTML},
                              plain={"document": document, "filename": name, "caption": text})
        return [doc]
    return [*render_text(text), OutgoingMessage("send_document", {"document": document, "filename": name},
                                                plain={"document": document, "filename": name})]


def render_results(reply: Reply, intro: str) -> list[OutgoingMessage]:
    """A short intro message and one card per product; reply buttons (e.g. Show more) on the last card."""
    start = int((reply.data or {}).get("start", 1))
    out = render_text(intro)
    last = len(reply.products) - 1
    for i, card in enumerate(reply.products):
        extra = button_rows(reply.buttons) if i == last else None
        out.append(render_card(card, start + i, extra))
    return out


def render_numbered(reply: Reply) -> list[OutgoingMessage]:
    """The degraded form: the numbered text list, with numbered Details buttons."""
    start = int((reply.data or {}).get("start", 1))
    numbers = [Button(str(start + i), f"d:{card.id}") for i, card in enumerate(reply.products)]
    rows = [numbers[i:i + 8] for i in range(0, len(numbers), 8)] + button_rows(reply.buttons)
    return render_text(reply.text, rows)


def render_product_text(reply: Reply) -> list[OutgoingMessage]:
    """A text about products (details, answers, comparisons); a photo first when there is one product with an image."""
    buttons = reply.buttons
    if not buttons and len(reply.products) == 1:
        buttons = reply.products[0].buttons
    rows = button_rows(buttons)
    single = reply.products[0] if len(reply.products) == 1 else None
    bold = single is not None and reply.text.startswith(single.title)
    texts = render_text(reply.text, rows, bold_first_line=bold)
    image = reply.image or (single.image if single else None)
    if single is None or not _is_url(image) or not texts:
        return texts
    first = texts[0]
    if len(texts) == 1 and tg_len(first.text) <= MAX_CAPTION:
        return [_photo_message(str(image), first.text, first.kwargs["text"], first.kwargs.get("reply_markup"), fallback=first)]
    title = truncate(single.title, MAX_CAPTION)
    # the text follows anyway, so a photo Telegram can't fetch is simply skipped
    return [_photo_message(str(image), title, f"<b>{esc(title)}</b>", None, fallback=None), *texts]


def intro_of(reply: Reply, intro: str) -> str:
    """The intro with whatever the core put before it in the text (e.g. a "your message was cut" notice)."""
    at = reply.text.find(intro) if intro else -1
    return reply.text[:at] + intro if at > 0 else intro


def render_reply(reply: Reply) -> list[OutgoingMessage]:
    """Every Bot API call needed to show one reply, in order."""
    data = reply.data or {}
    if data.get("json") is not None:
        return render_export(reply)
    if reply.products:
        intro = data.get("intro")
        if intro is not None and len(reply.products) <= MAX_CARDS:
            return render_results(reply, intro_of(reply, str(intro)))
        if intro is not None:
            return render_numbered(reply)
        return render_product_text(reply)
    if _is_url(reply.image):
        texts = render_text(reply.text, button_rows(reply.buttons))
        if len(texts) == 1 and tg_len(texts[0].text) <= MAX_CAPTION:
            t = texts[0]
            return [_photo_message(str(reply.image), t.text, t.kwargs["text"], t.kwargs.get("reply_markup"), fallback=t)]
        return texts
    return render_text(reply.text, button_rows(reply.buttons))

"""Runs YAML conversation scripts through the real core and checks each turn's expectations.

Format (a list of conversations per file):

    - name: search then cheaper
      turns:
        - say: waterproof hiking boots under 150      # or press: "card:2:d" / "button:Show more" / "d:SKU"
          user: alice                                  # optional, default "u1"
          intent: search                               # or a list of accepted intents
          products: {min: 1, max: 5, all: {type: hiking boots, max_price: 150, attr: {waterproof: true}}}
          contains: ["waterproof"]                     # case-insensitive substrings of the reply text
          not_contains: ["€1.00"]
          cheaper_than_previous: true
        - restart: true                                # rebuild the core on the same memory database

Product conditions: type, category, brand, not_brand, color, not_color, not_only_color, size, min_price, max_price,
in_stock, attr (a value, or a list of allowed ones), under `all` (every product) or `first` (the first one); ids (exact
order), first_id, include_ids, exclude_ids, count/min/max.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from bot.types import IncomingMessage, Reply

CONVERSATION_DIR = Path(__file__).parent / "conversations"
# Money as any of the five languages writes it (Babel's CLDR formats and the English one): "€1,299.00",
# "1.299,00 €" (de, es), "1 299,00 €" (fr, narrow no-break space), "¥12,999.00" / "CN¥12,999.00" (zh), "5.00 CHF",
# "CHF5.00". A sign after the number is joined by a no-break space or nothing, as Babel writes it, so "size 42 €"
# typed words are no amount; digits are grouped by ",", "." or a no-break space, never by a plain space.
_SIGN = r"(?:CN¥|JP¥|US\$|A\$|C\$|R\$|[€$£¥₹₩₽₺])"
_CODE = r"(?:EUR|USD|GBP|CHF|CNY|JPY|INR)"
_NUM = r"\d{1,3}(?:[.,\u202f\xa0]\d{3})+(?:[.,]\d{1,2})?|\d+(?:[.,]\d{1,2})?"
MONEY = re.compile(
    rf"{_SIGN}[\s\xa0\u202f]?({_NUM})"
    rf"|({_NUM})[\xa0\u202f]?{_SIGN}"
    rf"|({_NUM})[\s\xa0\u202f]?(?:{_CODE}|euros?|dollars?)\b"
    rf"|\b{_CODE}[\xa0\u202f]?({_NUM})",
    re.I,
)


def load_conversations() -> list[dict[str, Any]]:
    """Every conversation of every YAML file, with its file name."""
    out = []
    for path in sorted(CONVERSATION_DIR.glob("*.yaml")):
        for conv in yaml.safe_load(path.read_text(encoding="utf-8")) or []:
            conv["file"] = path.name
            out.append(conv)
    return out


def money_amounts(text: str) -> list[float]:
    """Every money amount written in `text`."""
    return [amount_value(next(g for g in m.groups() if g)) for m in MONEY.finditer(text)]


def amount_value(raw: str) -> float:
    """A written amount's value in any of the formats: a last "," or "." before one or two digits is the decimal
    mark; every other ",", "." or no-break space groups digits ("1.299,00" and "1,299.00" are both 1299.0)."""
    raw = raw.replace("\xa0", "").replace("\u202f", "")
    decimals = re.search(r"[.,](\d{1,2})$", raw)
    whole, cents = (raw[:decimals.start()], decimals.group(1)) if decimals else (raw, "0")
    return float(re.sub(r"[.,]", "", whole) + "." + cents)


@dataclass
class ConversationContext:
    """What a running conversation has seen so far."""

    user_numbers: set[float] = field(default_factory=set)
    last: list[Reply] = field(default_factory=list)
    last_products: list[Any] = field(default_factory=list)


def user_numbers(text: str) -> set[float]:
    """Numbers the user typed (budgets, limits), which a reply may echo."""
    return {float(n.replace(",", ".")) for n in re.findall(r"\d+(?:[.,]\d{1,2})?", text)}


def ungrounded_amounts(replies: list[Reply], kb, ctx: ConversationContext) -> list[str]:
    """Money amounts in replies that are neither a catalog price of a product shown or named in that
    reply, nor part of stored FAQ text quoted in it, nor a number the user typed."""
    problems = []
    products = kb.store.all_products()
    faqs = list(kb.store.get_faqs().values())
    for reply in replies:
        allowed = {p.price for p in kb.store.get_products([c.id for c in reply.products]).values() if p.price is not None}
        allowed |= {p.price for p in products if p.price is not None and p.title in reply.text}
        for faq in faqs:
            if faq.answer in reply.text:
                allowed |= set(money_amounts(faq.answer))
        allowed |= ctx.user_numbers
        for amount in money_amounts(reply.text):
            if not any(abs(amount - a) < 0.005 for a in allowed):
                problems.append(f"{amount} in {reply.text[:120]!r}")
        for card in reply.products:
            record = kb.store.get_product(card.id)
            if record is None or card.price != record.price or card.title != record.title or card.in_stock != record.in_stock:
                problems.append(f"card {card.id} differs from its record")
    return problems


def resolve_press(spec: str, ctx: ConversationContext) -> str:
    """A button press spec → the action payload."""
    if spec.startswith("card:"):
        _, index, kind = spec.split(":")
        cards = [c for r in ctx.last for c in r.products]
        return f"{kind}:{cards[int(index) - 1].id}"
    if spec.startswith("button#"):  # the Nth button of the last reply, counted from 1
        buttons = [b for reply in ctx.last for b in reply.buttons]
        return buttons[int(spec[len("button#"):]) - 1].action
    if spec.startswith("button:"):
        label = spec.split(":", 1)[1]
        for reply in ctx.last:
            for b in list(reply.buttons) + [b for c in reply.products for b in c.buttons]:
                if b.label == label:
                    return b.action
        raise AssertionError(f"no button labelled {label!r} in the last reply")
    return spec


def check_products(spec: dict[str, Any], products: list[Any], ctx: ConversationContext, where: str) -> None:
    """Assert the product expectations of one turn."""
    ids = [p.id for p in products]
    if "count" in spec:
        assert len(products) == spec["count"], f"{where}: expected {spec['count']} products, got {ids}"
    if "min" in spec:
        assert len(products) >= spec["min"], f"{where}: expected at least {spec['min']} products, got {ids}"
    if "max" in spec:
        assert len(products) <= spec["max"], f"{where}: expected at most {spec['max']} products, got {ids}"
    if "ids" in spec:
        assert ids == spec["ids"], f"{where}: expected {spec['ids']}, got {ids}"
    if "first_id" in spec:
        assert ids and ids[0] == spec["first_id"], f"{where}: expected {spec['first_id']} first, got {ids}"
    for pid in spec.get("include_ids", []):
        assert pid in ids, f"{where}: expected {pid} in {ids}"
    for pid in spec.get("exclude_ids", []):
        assert pid not in ids, f"{where}: {pid} should not be in {ids}"
    check_conditions(spec.get("all", {}), products, where)
    if "first" in spec:  # conditions on the first product alone
        assert products, f"{where}: no products"
        check_conditions(spec["first"], products[:1], where)


def check_conditions(cond: dict[str, Any], products: list[Any], where: str) -> None:
    """Assert that every product meets the conditions (type, category, brand, colour, price, ...)."""
    for p in products:
        label = f"{where}: {p.id} {p.title}"
        if "type" in cond:
            allowed = cond["type"] if isinstance(cond["type"], list) else [cond["type"]]
            assert p.type in allowed, f"{label}: type {p.type} not in {allowed}"
        if "category" in cond:
            assert p.category == cond["category"], f"{label}: category {p.category}"
        if "brand" in cond:
            assert p.brand == cond["brand"], f"{label}: brand {p.brand}"
        if "not_brand" in cond:
            assert p.brand != cond["not_brand"], f"{label}: brand {p.brand} should be excluded"
        if "color" in cond:
            assert cond["color"] in p.colors, f"{label}: colours {p.colors}"
        if "not_color" in cond:
            assert cond["not_color"] not in p.colors, f"{label}: colours {p.colors} should leave out {cond['not_color']}"
        if "not_only_color" in cond:
            assert set(p.colors) - {cond["not_only_color"]} or not p.colors, f"{label}: only {p.colors}"
        if "size" in cond:  # that size, or one of a list
            allowed = [str(x) for x in cond["size"]] if isinstance(cond["size"], list) else [str(cond["size"])]
            assert set(allowed) & set(p.sizes), f"{label}: sizes {p.sizes}, expected one of {allowed}"
        if "max_price" in cond:
            assert p.price is not None and p.price <= cond["max_price"], f"{label}: price {p.price}"
        if "min_price" in cond:
            assert p.price is not None and p.price >= cond["min_price"], f"{label}: price {p.price}"
        if "in_stock" in cond:
            assert p.in_stock is cond["in_stock"], f"{label}: in_stock {p.in_stock}"
        for key, value in cond.get("attr", {}).items():
            if isinstance(value, list):  # any of these
                assert p.attributes.get(key) in value, f"{label}: {key}={p.attributes.get(key)}"
            else:
                assert p.attributes.get(key) == value, f"{label}: {key}={p.attributes.get(key)}"


def check_turn(turn: dict[str, Any], replies: list[Reply], kb, ctx: ConversationContext, where: str) -> None:
    """Assert one turn's expectations against its replies."""
    text = "\n".join(r.text for r in replies)
    low = text.lower()
    assert replies and all(r.text.strip() for r in replies), f"{where}: empty reply"
    if "intent" in turn:
        wanted = turn["intent"] if isinstance(turn["intent"], list) else [turn["intent"]]
        assert replies[0].intent in wanted, f"{where}: intent {replies[0].intent}, expected {wanted}; reply: {text[:200]}"
    for part in turn.get("contains", []):
        assert str(part).lower() in low, f"{where}: {part!r} not in reply: {text[:400]}"
    for part in turn.get("not_contains", []):
        assert str(part).lower() not in low, f"{where}: {part!r} should not be in reply: {text[:400]}"
    if "matches" in turn:
        assert re.search(turn["matches"], text, re.I | re.S), f"{where}: /{turn['matches']}/ not in {text[:400]}"
    records = kb.store.get_products([c.id for r in replies for c in r.products])
    products = [records[c.id] for r in replies for c in r.products if c.id in records]
    if "products" in turn:
        check_products(turn["products"], products, ctx, where)
    if turn.get("cheaper_than_previous"):
        floor = min(p.price for p in ctx.last_products if p.price is not None)
        assert products, f"{where}: no products"
        assert all(p.price <= floor for p in products), f"{where}: not cheaper than {floor}: {[p.price for p in products]}"
    if turn.get("pricier_than_previous"):
        ceiling = max(p.price for p in ctx.last_products if p.price is not None)
        assert products and all(p.price >= ceiling for p in products), f"{where}: not pricier than {ceiling}"
    if "faq_id" in turn:
        got = [(r.data or {}).get("faq_id") for r in replies]
        assert turn["faq_id"] in got, f"{where}: faq {got}, expected {turn['faq_id']}"
        faq = kb.store.get_faqs([turn["faq_id"]])[turn["faq_id"]]
        assert faq.answer in text, f"{where}: the stored answer is not quoted verbatim"
    if turn.get("export_complete"):
        data = next((r.data or {}).get("export") for r in replies if (r.data or {}).get("export"))
        assert data and all(table in data for table in ("conversations", "preferences", "interactions", "events"))
    if products:
        ctx.last_products = products


def message(user: str, text: str = "", action: str | None = None) -> IncomingMessage:
    """A test-platform message."""
    return IncomingMessage(platform="test", user_id=user, chat_id=user, text=text, action=action)

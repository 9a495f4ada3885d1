"""Optional command reading by a capable configured model: intent and slots, constrained to a JSON schema.

The classifier and the catalog's slots always run first; this runs only for turns the classifier is
unsure of (SHOPGUIDE_LLM_COMMANDS). The intent must be one the classifier knows, every slot value is
checked against the catalog's vocabulary (and prices against the user's own numbers), and only empty
slots are filled, so a wrong or invented value is dropped rather than trusted.
"""

from __future__ import annotations

import json
import logging
import re
from typing import Any

from bot.nlu import Understanding
from bot.slots import PriceRange, Vocabulary
from models.worker import ModelWorker

log = logging.getLogger(__name__)

SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "category": {"type": "string"},
        "type": {"type": "string"},
        "colors": {"type": "array", "items": {"type": "string"}},
        "brand": {"type": "string"},
        "max_price": {"type": "number"},
        "min_price": {"type": "number"},
        "size": {"type": "string"},
    },
}
PROMPT = ("Read the customer's message of a shop's chat as a command: JSON with the key intent (one of: {intents}) "
          "and the shopping filters category, type, colors, brand, max_price, min_price and size. Leave out keys "
          "the message does not mention.")


async def read_command(worker: ModelWorker, u: Understanding, vocab: Vocabulary, intents: list[str], *,
                       timeout: float) -> Understanding:
    """The model's command for an unsure turn: its intent if the classifier knows it, and empty slots the catalog backs."""
    schema = {**SCHEMA, "properties": {**SCHEMA["properties"], "intent": {"type": "string", "enum": list(intents)}}}
    messages = [{"role": "system", "content": PROMPT.format(intents=", ".join(intents))},
                {"role": "user", "content": u.text[:500]}]
    raw = await worker.complete(messages, max_tokens=128, timeout=timeout, json_schema=schema)
    if not raw:
        return u
    try:
        data = json.loads(raw)
    except json.JSONDecodeError:
        log.debug("extraction returned no JSON: %r", raw[:200])
        return u
    if not isinstance(data, dict):
        return u
    if isinstance(data.get("intent"), str) and data["intent"] in intents and data["intent"] != u.intent:
        u.runner_up, u.intent, u.confidence = u.intent, data["intent"], 1.0  # the configured model settled it
    low = {k.lower(): k for k in vocab.types}
    if not u.types and isinstance(data.get("type"), str) and data["type"].lower() in low:
        u.types = [low[data["type"].lower()]]
    cats = {c.lower(): c for c in vocab.categories}
    if not (u.types or u.categories) and isinstance(data.get("category"), str) and data["category"].lower() in cats:
        u.categories = [cats[data["category"].lower()]]
    if not u.colors and isinstance(data.get("colors"), list):
        u.colors = [c.lower() for c in data["colors"] if isinstance(c, str) and c.lower() in vocab.colors]
    brands = {b.lower(): b for b in vocab.brands}
    if not u.brands and isinstance(data.get("brand"), str) and data["brand"].lower() in brands:
        u.brands = [brands[data["brand"].lower()]]
    typed = {float(n) for n in re.findall(r"\d+(?:\.\d+)?", u.text)}
    if u.price is None:
        low_p, high_p = data.get("min_price"), data.get("max_price")
        low_p = float(low_p) if isinstance(low_p, (int, float)) and float(low_p) in typed else None
        high_p = float(high_p) if isinstance(high_p, (int, float)) and float(high_p) in typed else None
        if low_p is not None or high_p is not None:
            u.price = PriceRange(low_p, high_p, "")
    if not u.size and isinstance(data.get("size"), str) and data["size"].upper() in {s.upper() for s in vocab.sizes}:
        u.size = data["size"].upper()
    return u

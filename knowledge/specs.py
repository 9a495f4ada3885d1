"""Readable text for structured spec snippets such as `item_weight:  { unit:pounds, value:5 }`.

Catalog exports often carry attributes as a key followed by loose JSON (unquoted keys, values
with units, lists of alternatives). Shown to a shopper or keyword-indexed as they are, the
braces and the words `value`, `unit` and `normalized_value` drown what the snippet says.
`readable_spec` turns such a snippet into "item weight: 5 pounds"; any other text is left alone.
(Its vector stays that of the raw text: embedding the readable form measured no better.)
"""

from __future__ import annotations

import re
from typing import Any

_HEAD = re.compile(r"^\s*([A-Za-z][\w .-]{0,60}?)\s*:\s*(?=[{\[])")
_SKIP = frozenset({"normalized_value", "language_tag", "marketplace_id"})
_BOOL = {"true": "yes", "false": "no"}


class _Unparsable(ValueError):
    pass


def readable_spec(text: str) -> str | None:
    """`key: {...}; {...}` as "key: value unit, ..."; None when `text` has no such shape."""
    m = _HEAD.match(text or "")
    if not m:
        return None
    parser = _Parser(text, m.end())
    try:
        values = [parser.value()]
        while parser.skip(";"):
            values.append(parser.value())
        if not parser.at_end():
            return None
    except _Unparsable:
        return None
    rendered = [r for r in (_render(v) for v in values) if r]
    if not rendered:
        return None
    return f"{_words(m.group(1))}: {', '.join(dict.fromkeys(rendered))}"


def _words(key: str) -> str:
    return re.sub(r"[_\s]+", " ", key).strip()


def _render(value: Any) -> str:
    if isinstance(value, list):
        return ", ".join(r for r in (_render(v) for v in value) if r)
    if not isinstance(value, dict):
        return _scalar(value)
    parts = [f"{_words(k)} {_render(v)}" if not isinstance(v, dict) or "value" in v else f"{_words(k)}: {_render(v)}"
             for k, v in value.items() if k not in _SKIP | {"value", "unit"} and _render(v)]
    if "value" in value:
        main = _render(value["value"])
        unit = value.get("unit")
        if isinstance(unit, str) and unit and main:
            main = f"{main} {_words(unit)}"
        parts.append(main)
    return ", ".join(p for p in parts if p)


def _scalar(value: Any) -> str:
    text = str(value).strip()
    if text in _BOOL:
        return _BOOL[text]
    if re.fullmatch(r"-?\d+\.0*", text):  # "4." and "4.0" -> "4"
        return text.split(".")[0]
    return text.replace("_", " ") if re.fullmatch(r"\w+", text) else text  # bare words: vitamin_a


class _Parser:
    """A recursive-descent reader of loose JSON: unquoted keys and bare words allowed."""

    def __init__(self, text: str, pos: int) -> None:
        self.text = text
        self.pos = pos

    def _space(self) -> None:
        while self.pos < len(self.text) and self.text[self.pos].isspace():
            self.pos += 1

    def skip(self, ch: str) -> bool:
        self._space()
        if self.text.startswith(ch, self.pos):
            self.pos += len(ch)
            return True
        return False

    def at_end(self) -> bool:
        self._space()
        return self.pos >= len(self.text)

    def value(self) -> Any:
        self._space()
        if self.skip("{"):
            out: dict[str, Any] = {}
            if self.skip("}"):
                return out
            while True:
                key = self._bare(":")
                if not self.skip(":"):
                    raise _Unparsable("expected ':'")
                out[key] = self.value()
                if self.skip("}"):
                    return out
                if not self.skip(","):
                    raise _Unparsable("expected ',' or '}'")
        if self.skip("["):
            items: list[Any] = []
            if self.skip("]"):
                return items
            while True:
                items.append(self.value())
                if self.skip("]"):
                    return items
                if not self.skip(","):
                    raise _Unparsable("expected ',' or ']'")
        if self.skip('"'):
            end = self.pos
            while (end := self.text.find('"', end)) > 0 and self.text[end - 1] == "|":  # |" is an escaped quote
                end += 1
            if end < 0:
                raise _Unparsable("unterminated string")
            s = self.text[self.pos:end].replace('|"', '"')
            self.pos = end + 1
            return s
        return self._bare(",}];")

    def _bare(self, stops: str) -> str:
        self._space()
        start = self.pos
        while self.pos < len(self.text) and self.text[self.pos] not in stops + "{[":
            self.pos += 1
        word = self.text[start:self.pos].strip()
        if not word:
            raise _Unparsable("expected a value")
        return word


_WEIGHT_UNITS = {"g": 1.0, "gram": 1.0, "grams": 1.0, "kg": 1000.0, "kilogram": 1000.0, "kilograms": 1000.0,
                 "lb": 453.59237, "lbs": 453.59237, "pound": 453.59237, "pounds": 453.59237,
                 "oz": 28.349523125, "ounce": 28.349523125, "ounces": 28.349523125}
_WEIGHT_KEY = re.compile(r"(?:item_)?weight(?:_(g|kg|lbs?|oz))?")
_WEIGHT_VALUE = re.compile(r"\s*(\d+(?:[.,]\d+)?)\s*([a-z]+)?\s*")


def weight_grams(attributes: dict[str, Any]) -> float | None:
    """The weight in grams from `weight_g`, `weight_kg`, `weight_lb`, `weight_oz`, or a `weight` such as "1.2 kg"."""
    for key, value in attributes.items():
        m = _WEIGHT_KEY.fullmatch(key)
        if not m or isinstance(value, bool):
            continue
        unit = m.group(1)
        if isinstance(value, (int, float)):
            if unit:  # a bare number under "weight" has no unit to compare by
                return float(value) * _WEIGHT_UNITS[unit]
        elif isinstance(value, str):
            v = _WEIGHT_VALUE.fullmatch(value.lower())
            if v and (v.group(2) or unit) in _WEIGHT_UNITS:
                return float(v.group(1).replace(",", ".")) * _WEIGHT_UNITS[v.group(2) or unit]
    return None


# A temperature rating: the comfort temperature first, then a plain rating, then the limit
# ("comfort_temp_c", "temp_rating_f", "limit_temperature_c"); lower is warmer.
_TEMP_KEY = re.compile(r"(comfort_|limit_|lower_limit_)?temp(?:erature)?(?:_rating)?_(c|f)")
_TEMP_ORDER = {"comfort_": 0, None: 1, "limit_": 2, "lower_limit_": 2}


def temperature_ratings(attributes: dict[str, Any]) -> dict[str, float]:
    """The record's temperature ratings in °C by kind ("comfort", "rating", "limit"), best known first."""
    found: list[tuple[int, str, float]] = []
    for key, value in attributes.items():
        m = _TEMP_KEY.fullmatch(key.lower())
        if not m or isinstance(value, bool) or not isinstance(value, (int, float)):
            continue
        celsius = float(value) if m.group(2) == "c" else (float(value) - 32) * 5 / 9
        kind = (m.group(1) or "rating_").rstrip("_").replace("lower_limit", "limit")
        found.append((_TEMP_ORDER[m.group(1)], kind, round(celsius, 1)))
    return {kind: c for _, kind, c in sorted(found)}


def warmth_celsius(attributes: dict[str, Any]) -> float | None:
    """The temperature a product is rated to, in °C, for sorting by warmth (lower is warmer)."""
    ratings = temperature_ratings(attributes)
    return next(iter(ratings.values()), None)


ATTR = "attr:"  # a sort by record keys, largest or smallest first: "attr:capacity_ml,volume_l:desc"


def attribute_sort(sort: str) -> tuple[list[str], bool] | None:
    """(record keys, descending) of an attribute sort, else None."""
    if not sort.startswith(ATTR):
        return None
    keys, _, direction = sort[len(ATTR):].rpartition(":")
    return keys.split(","), direction == "desc"


def attribute_value(attributes: dict[str, Any], keys: list[str]) -> float | None:
    """The first of `keys` the record has as a number."""
    for key in keys:
        value = attributes.get(key)
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return float(value)
    return None

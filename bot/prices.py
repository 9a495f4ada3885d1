"""Price constraints in any direction: "under 150", "nothing above 100", "at least 50", "around 80",
"between 50 and 80", "€50-80", "100 or less", "my budget is 60 quid".

One generic reader: amounts (with any currency of `knowledge.currency`, "2k", "1,299.50"), a small
table of the words that set a bound before or after an amount, and a negation that turns a bound
around ("no more than", "nothing above", "I don't want to spend over"). No phrasing has its own pattern.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from knowledge.currency import PATTERN as CURRENCY, currency_code

UPPER, LOWER, AROUND = "upper", "lower", "around"
# Words before an amount, by the bound they set.
BEFORE: dict[str, tuple[str, ...]] = {
    UPPER: ("under", "below", "beneath", "less than", "lower than", "cheaper than", "max", "maximum", "up to",
            "at most", "at the most", "within", "budget", "budget's", "budget’s", "spend", "afford", "<", "<=", "≤"),
    LOWER: ("over", "above", "more than", "higher than", "pricier than", "dearer than", "more expensive than",
            "at least", "min", "minimum", "from", "starting at", "starting from", "upwards of", "north of",
            ">", ">=", "≥"),
    AROUND: ("around", "about", "approx", "approx.", "approximately", "roughly", "circa", "close to", "~"),
}
# Words after an amount, by the bound they set.
AFTER: dict[str, tuple[str, ...]] = {
    UPPER: ("or less", "or under", "or below", "or cheaper", "and under", "and below", "max", "maximum", "tops",
            "at most", "at the most"),
    LOWER: ("or more", "or over", "or above", "and up", "and over", "and above", "plus", "+", "at least",
            "minimum", "upwards"),
    AROUND: ("or so", "ish", "-ish", "give or take"),
}
FLIP = {UPPER: LOWER, LOWER: UPPER, AROUND: AROUND}
# A bound word that needs a currency or a price word beside it: "from 42" is a size as often as a price.
WEAK = frozenset({"from"})
PRICE_WORDS = r"\b(?:price[sd]?|pricing|costs?|costing|budget|spend(?:ing)?|pay(?:ing)?|cheap|expensive)\b"
# Negations that reach over a few words ("I don't want to spend more than"), and those that touch the bound word.
_VERBAL_NEGATION = (r"(?:\w+n['’]t|(?:do|does|did|ca|wo|would|should|could|is|are)nt|cannot"
                    r"|(?:do|does|did|will|would|can|could|should) not|not\s+\w+ing)")
_NEGATION = r"(?:no|not|nothing|none|never)"
_SCOPE_BREAK = r"(?:and|or|but|with|for|in|on|because|if|then)"
# Fillers between a bound word and its amount: "budget is 60", "a budget of 60", "at 40".
_FILLER = r"(?:\s*(?:\b(?:of|is|was|be|would be|at|just|only|a|an|total|in total)\b|[:=]))*"

_NUMBER = (r"\d{1,3}(?:,\d{3})+(?:\.\d{1,2})?|\d{1,3}(?:\.\d{3})+(?:,\d{1,2})?"  # 1,299.50 / 1.299,50
           r"|\d{1,2}(?:,\d{2})+,\d{3}(?:\.\d{1,2})?"  # 1,00,000 (Indian grouping)
           r"|\d+(?:[.,]\d{1,2})?")
_AMOUNT = re.compile(rf"(?:(?P<pre>{CURRENCY})\s*|(?<![\w.,]))(?P<num>{_NUMBER})(?![.,]?\d)(?P<k>k)?"
                     rf"(?:\s*(?P<post>{CURRENCY}))?(?!(?!ish\b)[^\W\d_])")
# a unit after a number that makes it a measure, not an amount of money
_UNIT_AFTER = re.compile(
    r"[\s-]*(?:l|ltrs?|litres?|liters?|ml|kg|kilos?|g|grams?|cm|mm|m|metres?|meters?|km|miles?|mi|ft|feet|°c?|°f|degrees?|"
    r"lm|lumens?|mah|w|watts?|h|hrs?|hours?|mins?|minutes?|days?|nights?|weeks?|months?|years?|yrs?|y/o|people|"
    r"persons?|p|man|men|inch(?:es)?|oz|lbs?|%|percent|pairs?|pcs|pieces)(?![^\W\d_])")
_SIZE_BEFORE = re.compile(r"\b(?:sizes?|sz|eu|uk|us)\s*(?:between|from)?\s*$")
_RANGE_JOIN = re.compile(r"\s*(?:-|–|—|to|till|until|and)\s*")
_CLAUSE_END = re.compile(r"(?<!approx)[.;!?](?:\s|$)")


def _phrases(words: tuple[str, ...]) -> str:
    """An alternation of `words`, longest first, each a whole word where it starts or ends with a letter."""
    parts = []
    for w in sorted(words, key=len, reverse=True):
        start = r"(?<![^\W\d_])" if w[0].isalpha() else ""
        end = r"(?![^\W\d_])" if w[-1].isalpha() else ""
        parts.append(start + re.escape(w) + end)
    return "|".join(parts)


def _compile_before(kind: str) -> re.Pattern[str]:
    """A bound word of `kind` ending the text before an amount (fillers allowed in between)."""
    return re.compile(rf"(?P<word>{_phrases(BEFORE[kind])}){_FILLER}\s*$")


def _compile_after(kind: str) -> re.Pattern[str]:
    """A bound word of `kind` right after an amount."""
    return re.compile(rf"\s*(?:{_phrases(AFTER[kind])})")


_BEFORE_RE = {kind: _compile_before(kind) for kind in BEFORE}
_AFTER_RE = {kind: _compile_after(kind) for kind in AFTER}
_NEGATED = re.compile(rf"(?:\b{_VERBAL_NEGATION}(?:\s+(?!{_SCOPE_BREAK}\b)[\w'’]+){{0,4}}|\b{_NEGATION})\s*$")


@dataclass
class PriceRange:
    """A price constraint from the user's words."""

    min: float | None = None
    max: float | None = None
    text: str = ""
    bare: bool = False  # an amount with a currency but no "under"/"around"/...
    target: float | None = None  # the amount of "around 80"
    currency: str | None = None  # the currency the words named ("60 quid": GBP), if any

    def as_dict(self) -> dict[str, float | None]:
        """Plain form."""
        return {"min_price": self.min, "max_price": self.max}


@dataclass
class _Amount:
    """One amount in the text: where it is, its value and the currency written beside it."""

    start: int
    end: int
    value: float
    currency: str | None


def read_number(text: str) -> float:
    """A written number as a float: "99,50" is 99.5, "1,299.50" 1299.5, "1.299" 1299, "1,00,000" 100000."""
    if "," in text and "." in text:
        decimal = "," if text.rfind(",") > text.rfind(".") else "."
        return float(text.replace("." if decimal == "," else ",", "").replace(",", "."))
    for sep in ",.":
        groups = text.split(sep)
        if len(groups) > 2 or (len(groups) == 2 and len(groups[1]) == 3):
            return float(text.replace(sep, ""))  # grouping: "2,000", "1.299", "1,00,000"
    return float(text.replace(",", "."))


def _amounts(low: str) -> list[_Amount]:
    """The amounts in lower-case text that are no measures ("2 kg", "30 litres") and no negative numbers."""
    out = []
    for m in _AMOUNT.finditer(low):
        if _UNIT_AFTER.match(low, m.end()) and not m.group("post"):
            continue
        start = m.start("num") if not m.group("pre") else m.start()
        if not m.group("pre") and start > 0 and low[start - 1] in "-−" and not low[start - 2:start - 1].isdigit():
            continue  # "-10": a temperature, not a price
        value = read_number(m.group("num")) * (1000 if m.group("k") else 1)
        out.append(_Amount(m.start(), m.end(), value, currency_code(m.group("post") or m.group("pre"))))
    return out


def _clause_start(low: str, at: int) -> int:
    """Where the sentence holding position `at` starts."""
    ends = [m.end() for m in _CLAUSE_END.finditer(low, 0, at)]
    return ends[-1] if ends else 0


def _bound_before(low: str, amount: _Amount, clause: int) -> tuple[str, int] | None:
    """The bound a word before `amount` sets, negation included, with where the phrase starts."""
    before = low[clause:amount.start]
    for kind, pattern in _BEFORE_RE.items():
        m = pattern.search(before)
        if not m:
            continue
        if m.group("word") in WEAK and amount.currency is None and not re.search(PRICE_WORDS, low):
            return None
        start = clause + m.start()
        negated = _NEGATED.search(before[:m.start()]) if kind != AROUND else None
        if negated:
            return FLIP[kind], clause + negated.start()
        return kind, start
    return None


def _bound_after(low: str, amount: _Amount) -> tuple[str, int] | None:
    """The bound a word after `amount` sets ("100 or less", "50+"), with where the phrase ends."""
    for kind, pattern in _AFTER_RE.items():
        m = pattern.match(low, amount.end)
        if m:
            return kind, m.end()
    return None


def _price(kind: str, value: float, text: str, currency: str | None, bare: bool = False) -> PriceRange:
    """The range one bound and amount allow."""
    if kind == AROUND:
        return PriceRange(round(value * 0.8, 2), round(value * 1.2, 2), text, target=value, currency=currency)
    if kind == LOWER:
        return PriceRange(value, None, text, currency=currency)
    return PriceRange(None, value, text, bare=bare, currency=currency)


def _range(low: str, a: _Amount, b: _Amount) -> PriceRange | None:
    """ "between 50 and 80", "€50-80", "50 to 80 euros", "from £20 to £40": both bounds, or None."""
    join = _RANGE_JOIN.fullmatch(low, a.end, b.start)
    if not join:
        return None
    clause = _clause_start(low, a.start)
    before = low[clause:a.start]
    between = re.search(r"\bbetween\s*$", before)
    if "and" in join.group(0) and not between:
        return None  # "compare 1 and 3"
    if _SIZE_BEFORE.search(before) or a.value == b.value:
        return None
    priced = a.currency or b.currency or re.search(PRICE_WORDS, low[clause:])
    if not (between or priced):
        return None
    start = clause + (between.start() if between else re.search(r"(?:\bfrom\s*)?$", before).start())
    low_value, high_value = sorted((a.value, b.value))
    return PriceRange(low_value, high_value, low[start:b.end], currency=a.currency or b.currency)


def parse_price(text: str) -> PriceRange | None:
    """The first price constraint in `text`: a range, a bound in any direction, or an amount with a currency."""
    low = text.lower()
    amounts = _amounts(low)
    for a, b in zip(amounts, amounts[1:]):
        if found := _range(low, a, b):
            return found
    for amount in amounts:
        clause = _clause_start(low, amount.start)
        if bound := _bound_before(low, amount, clause):
            kind, start = bound
            return _price(kind, amount.value, low[start:amount.end], amount.currency)
        if bound := _bound_after(low, amount):
            kind, end = bound
            return _price(kind, amount.value, low[amount.start:end], amount.currency)
        if amount.currency:
            return _price(UPPER, amount.value, low[amount.start:amount.end], amount.currency, bare=True)
    return None

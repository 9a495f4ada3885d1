"""How a message states a lasting preference: "I wear size 42", "my budget is 100", "I hate orange"."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from bot.slots import PriceRange
from knowledge.text import LETTER_SIZE_PATTERN

if TYPE_CHECKING:
    from bot.nlu import Understanding

FORGET_PREF = re.compile(r"\b(forget|remove|clear|reset|delete|erase|ignore|drop|stop using|don'?t use) my "
                         r"(size|budget|brand|colou?r)s?\b", re.I)
_IM_A_SIZE = re.compile(rf"\bi(?:'?m| am) an? (\d{{2}}(?:[.,]5)?|{LETTER_SIZE_PATTERN})\b(?![\s-]*(?:years?|yo|y/o|kg|cm|lbs?)\b)")
_PREF_BUDGET = re.compile(r"\b(my budget is|budget of|my budget'?s|i (can|want to) spend|i can afford)\b", re.I)
_PREF_DISLIKE = re.compile(r"\b(i (don'?t|do not) like|i hate|i dislike|not a fan of|never show me|no more)\b", re.I)


def preference_kind(u: "Understanding", low: str) -> bool:
    """Which preference a message the classifier read as one states, from its slots; sets `u.pref_kind`."""
    if m := _IM_A_SIZE.search(low):  # "actually I'm a 43", "I'm an XL"
        u.size = u.size or m.group(1).upper().replace(",", ".")
        u.pref_kind = "size"
        return True
    if u.size:  # "I usually take a size 43"
        u.pref_kind = "size"
        return True
    if u.price:
        u.pref_kind = "budget"
        return True
    if _PREF_BUDGET.search(low):
        m = re.search(r"(\d{1,6}(?:[.,]\d{1,2})?)", low)
        if m:
            u.price = PriceRange(None, float(m.group(1).replace(",", ".")), m.group(0))
            u.pref_kind = "budget"
            return True
    if u.exclude_brands or (_PREF_DISLIKE.search(low) and u.brands):
        u.exclude_brands = list(dict.fromkeys(u.exclude_brands + u.brands))
        u.brands = []
        u.pref_kind = "dislike_brand"
        return True
    if _PREF_DISLIKE.search(low) and u.exclude_colors and not (u.types or u.categories or u.brands):
        u.pref_kind = "dislike_color"  # "I hate orange": not this search only, from now on
        return True
    if (u.brands or u.colors) and not (u.types or u.categories):
        u.pref_kind = "like"
        return True
    return False

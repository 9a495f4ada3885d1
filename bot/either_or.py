"""Either-or questions about one product ("is it down or synthetic?"), answered from its record."""

from __future__ import annotations

import re

from bot.i18n import tr
from knowledge.schema import Product
from knowledge.text import STOPWORDS, plural_stem, tokens

# the word before "or" and the one after it: "down or synthetic", "for men or women", "a men's or a women's"
_CHOICE = re.compile(r"\b([\w'’-]+)\s+or\s+(?:an?\s+|the\s+|for\s+)?([\w'’-]+)\b", re.I)

_NO_OPTION = {"not", "no", "nope", "else", "so", "less", "more", "never", "later", "something", "anything"}  # "or not?"


def _word(text: str) -> str:
    """An option as a record word: lower-case, possessive and plural dropped ("Women's" → "women")."""
    word = re.sub(r"['’]s$", "", text.lower())
    return plural_stem(word)


def _fields(product: Product) -> list[tuple[str, str]]:
    """The record's words by what they say, most telling first: (label, text)."""
    fields = [("material", product.material or ""), ("type", product.type or "")]
    fields += [(key.replace("_", " "), value) for key, value in product.attributes.items() if isinstance(value, str)]
    fields += [("colours", ", ".join(product.colors)), ("name", product.title)]
    return [(label, text) for label, text in fields if text]


def _holds(text: str, word: str) -> bool:
    return word in {_word(w) for w in tokens(text, drop_stopwords=False)}


def either_or_answer(product: Product, question: str, lang: str = "en") -> str | None:
    """Which of two options the record names, with the field that says so; None unless exactly one is named."""
    m = _CHOICE.search(question)
    if not m:
        return None
    options = [m.group(1), m.group(2)]
    words = [_word(o) for o in options]
    if any(w in STOPWORDS or w in _NO_OPTION or len(w) < 2 or w.isdigit() for w in words) or words[0] == words[1]:
        return None
    found = [next(((label, text) for label, text in _fields(product) if _holds(text, w)), None) for w in words]
    if sum(f is not None for f in found) != 1:
        return None
    i = 0 if found[0] else 1
    label, text = found[i]
    option = re.sub(r"['’]s$", "", options[i])
    said = option[:1].upper() + option[1:]
    if label == "name":
        return tr(lang, "{option}: it is the {title}.", option=said, title=product.title)
    if label == "material":
        return tr(lang, "{option}: {title} is made of {value}.", option=said, title=product.title, value=text)
    if label == "type":
        return tr(lang, "{option}: {title} is a {value}.", option=said, title=product.title, value=text)
    if label == "gender":
        return tr(lang, "{option}: {title} is for {value}.", option=said, title=product.title, value=text)
    if label == "colours":
        return tr(lang, "{option}: {title} comes in {value}.", option=said, title=product.title, value=text)
    return tr(lang, "{option}: {title} has {field} {value}.", option=said, title=product.title, field=label, value=text)

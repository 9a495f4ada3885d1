"""Answers straight from a product's record: price, stock, sizes, colours, weight, ratings and its attributes."""

from __future__ import annotations

import re

from bot.either_or import either_or_answer
from bot.i18n import joined, ntr, number, tr
from bot.nlu import Understanding
from bot.present import attr_value, format_price, rating_text, stock_text, temperature_phrase
from bot.variants import variant_answer
from knowledge.schema import Product
from knowledge.specs import weight_grams
from knowledge.text import plural_stem, tokens


def answer_from_record(product: Product, u: Understanding, lang: str = "en", *, as_of: str | None = None) -> str | None:
    """A direct answer when the question is about a field the record holds (in `lang`); a price or stock
    answer ends with `as_of`, the age of a fact from a feed not read lately."""
    low = u.text.lower()
    name = product.title
    t = lambda msgid, **kw: tr(lang, msgid, name=name, **kw)  # noqa: E731
    chosen = either_or_answer(product, u.text, lang)  # "is it down or synthetic?"
    if chosen:
        return chosen
    variant = variant_answer(product, u.size, u.colors, lang, as_of)  # "in XL": its own price, when prices differ
    if variant and re.search(r"\b(how much|price|cost)\b", low):
        return variant
    if u.size:
        sizes = {s.upper() for s in product.sizes}
        if not product.sizes:
            return None
        if u.size.upper() in sizes:
            return _also(t("Yes, {name} comes in size {size}. Available sizes: {sizes}.", size=u.size,
                           sizes=", ".join(product.sizes)), variant)
        return t("No, {name} doesn't come in size {size}. Available sizes: {sizes}.", size=u.size,
                 sizes=", ".join(product.sizes))
    if u.colors and product.colors:  # "is it blue or black?": each colour asked about
        have = [c for c in u.colors if c in product.colors]
        if have:
            return _also(t("Yes, {name} comes in {asked}. Colours: {colours}.", asked=joined(lang, have, "and"),
                           colours=", ".join(product.colors)), variant)
        return t("No, {name} isn't available in {asked}. Colours: {colours}.", asked=joined(lang, u.colors, "or"),
                 colours=", ".join(product.colors))
    if re.search(r"\b(what|which) sizes?\b|\bsizes? (does|do|is|are) (it|they|this)\b|\b(available|other|different|more) sizes\b", low) \
            and product.sizes:
        return ntr(lang, "{name} comes in size {sizes}.", "{name} comes in sizes {sizes}.", len(product.sizes), name=name,
                   sizes=", ".join(product.sizes))
    if re.search(r"\b(what|which) colou?rs?\b|\bcolou?rs? (does|do|is|are) (it|they|this)\b|\b(available|other|different|more) colou?rs\b",
                 low) \
            and product.colors:
        return t("{name} comes in {colours}.", colours=", ".join(product.colors))
    for flag, wanted in u.flags.items():
        if flag in product.attributes:
            value = product.attributes[flag]
            label = flag.replace("_", " ")
            if isinstance(value, bool):
                return _yes_no(name, label, value, low, lang)
            return f"{name}: {label} {value}."
    grams = weight_grams(product.attributes)  # weight_g, weight_kg, "1.2 kg", ... as grams
    weight = t("{name} weighs {weight} g.", weight=_grams(grams, lang)) if grams is not None else None
    weighing = re.search(r"\b(weigh|weighs|weight|heavy)\b", low)  # before "how much": "how much does it weigh?"
    if weighing and weight:
        return weight
    if re.search(r"\b(how warm|warm enough|temperature|rated to|comfort rating|how cold|summer|winter|seasons?|cold|freezing)\b", low):
        rated = temperature_phrase(product, lang)
        if rated:
            return t("{name} is rated to {rating}.", rating=rated)
    if re.search(r"\b(how much|price|cost)\b", low) and not weighing:
        return _also(t("{name} costs {price} ({stock}).", price=format_price(product.price, product.currency, lang),
                        stock=stock_text(product, lang)), as_of)
    if re.search(r"\b(in stock|available|availability|stock)\b", low):
        return _also(t("{name} is {stock}.", stock=stock_text(product, lang)), as_of)
    if re.search(r"\b(made of|material|fabric)\b", low) and product.material:
        return t("{name} is made of {material}.", material=product.material)
    if re.search(r"\blight\b", low) and weight:  # "is it light?", once stock and material are ruled out
        return weight
    if re.search(r"\b(rating|rated|reviews?)\b", low) and product.rating is not None and "review" not in low:
        return t("{name} is rated {rating}.", rating=rating_text(product.rating, lang))
    return attribute_answer(product, u.text, lang)


def _also(answer: str, more: str | None) -> str:
    """An answer with a sentence or note after it, when there is one."""
    return f"{answer} {more}" if more else answer




def _yes_no(name: str, label: str, value: bool, question: str, lang: str = "en") -> str:
    """A yes or no in the question's own terms: "has a hood" for "do they have a hood?", "is waterproof" else."""
    if re.search(r"\b(have|has|with|got|come with|comes with|include|includes)\b", question):
        if label.endswith("s"):
            if value:
                return tr(lang, "Yes, {name} has {feature}.", name=name, feature=label)
            return tr(lang, "No, {name} doesn't have {feature}.", name=name, feature=label)
        if value:
            return tr(lang, "Yes, {name} has a {feature}.", name=name, feature=label)
        return tr(lang, "No, {name} doesn't have a {feature}.", name=name, feature=label)
    if value:
        return tr(lang, "Yes, {name} is {feature}.", name=name, feature=label)
    return tr(lang, "No, {name} is not {feature}.", name=name, feature=label)


def _grams(grams: float, lang: str) -> str:
    """A record's weight in grams as a number: "850", "1.5" / "1,5"."""
    value = int(grams) if grams.is_integer() else round(grams, 1)
    return str(value) if lang == "en" else number(lang, value, "#,##0.#")


UNIT_WORDS = {"litre": "l", "liter": "l", "gram": "g", "kilo": "kg", "kilogram": "kg", "millimetre": "mm",
              "millimeter": "mm", "centimetre": "cm", "centimeter": "cm", "watt": "w", "volt": "v", "hour": "h", "ounce": "oz"}
UNITS = {"g", "kg", "mm", "cm", "m", "l", "ml", "w", "v", "mah", "h", "in", "oz", "lb", "lbs"}


def attribute_answer(product: Product, question: str, lang: str = "en") -> str | None:
    """The record's value for an attribute the question names ("what battery does it use?" → battery: 3x AAA)."""
    asked = {plural_stem(w) for w in tokens(question, drop_stopwords=False)}
    units = {UNIT_WORDS[w] for w in asked if w in UNIT_WORDS} if re.search(r"\bhow many\b", question, re.I) else set()
    for key, value in product.attributes.items():
        words = tokens(key.replace("_", " "), drop_stopwords=False)
        unit = words[-1] if len(words) > 1 and words[-1] in UNITS else None
        named = words[:-1] if unit else words
        if not named or not (all(plural_stem(w) in asked for w in named) or (unit and unit in units)):
            continue  # "how many litres is it?" asks for the value in litres
        if len(named) == 1 and re.search(rf"\b(?:it|they|this|that|one|these|those)\s+{re.escape(named[0])}\b", question, re.I):
            continue  # "does it fit a laptop?" uses the key as a verb: not a question about its "fit"
        shown = attr_value(value, lang) if isinstance(value, bool) else f"{value} {unit}" if unit else str(value)
        return f"{product.title}: {' '.join(named)} {shown}."
    return None

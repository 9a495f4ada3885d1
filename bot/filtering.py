"""From understood slots and stored preferences to search filters, and back to words."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import replace

from bot.context import Services, Turn
from bot.nlu import NEGATION, RECIPIENTS, Understanding
from bot.slots import COLOR_SYNONYMS
from bot.i18n import N_, joined, tr
from bot.present import format_price
from knowledge.currency import PATTERN as CURRENCY
from knowledge.filters import SearchFilters

FOOTWEAR_HINTS = ("footwear", "shoe", "boot", "sandal")
LETTER_SIZE_CATEGORIES = ("clothing", "jackets")
# "hi, ...", "ok, ...", "ok what about ...": openings that are no search words ("Great Outdoors tent" keeps its "Great")
_GREETING_LEAD = re.compile(
    r"^\s*(?:(?:hi|hello|hey|hiya|good (?:morning|afternoon|evening))(?: there)?\b[\s,!.]*"
    r"|(?:ok(?:ay)?|alright|all right|great|cool|right|so|and|well|hmm+|now)(?:[,!.]+\s*|\s+(?=(?:what|which|show|do|does|can|"
    r"could|i|i'm|how|then|maybe|any|some|let's|please)\b)))", re.I)
_DROP = re.compile(
    r"\b(should i (?:get|buy|take|choose|pick)|do i need|pls|plz|i'?m looking for|i am looking for|looking for|(?:can|could|would) you (?:recommend|suggest)|can you|could you|(?:recommend|suggest)(?: me)?|please|show me|find me|find|search for|"
    r"do you have|do you sell|(?:that )?you (?:have|sell|carry|stock)|you'?ve got|(?:would|do|can|could) you (?:recommend|suggest)|"
    r"i have|(?:which|what)(?:'s|\s+is|\s+are)?(?:\s+your)?(?:\s+(?:kinds?|sorts?|types?)\s+of)?|best[- ]?sell(?:ing|ers?)|i need|i want|i'd like|something for|anything for|something|anything|some|any|in stock|available now|cheapest|best rated|top rated|"
    r"sort by (price|rating|weight)|lightest|heaviest|under|below|less than|max|up to|at most|between|around|about|"
    r"(?:my |a |the )?budget(?: of| is)?)\b",
    re.I,
)


# "a birthday gift for my dad who likes hiking" -> "hiking"
_GIFT_FRAME = re.compile(
    r"\b(?:(?:birthday|christmas|xmas|anniversary)\s+)?(?:gifts?|presents?|stocking\s+fillers?)(?:\s+ideas?)?"
    r"|\b(?:for\s+)?(?:my|our|a|an|his|her|their)\s+(?:" + "|".join(RECIPIENTS.split()) + r")\b"
    r"|\bfor\s+(?:him|her|someone|somebody)\b"
    r"|\b(?:who|he|she|they)(?:['’]s|\s+is|\s+are|['’]re)?\s+(?:likes|loves|enjoys|into|like|love|enjoy|goes|does|"
    r"(?:really\s+)?(?:keen\s+on|passionate\s+about|obsessed\s+with|mad\s+about))\b",
    re.I,
)

_EDGE_WORDS = re.compile(r"^(?:[\W_]|\b(?:a|an|for|some|the|and|to|of)\b)+|(?:[\W_]|\b(?:a|an|for|some|the|and|to|of)\b)+$",
                         re.I)

# "I need a desk lamp" -> "desk lamp"; "what's the lightest tent you have?" -> "tent"
_LEADING_ARTICLE = re.compile(r"^(?:(?:a|an|the|some|in)\s+)+|^[\s?!.,;:]+|(?:\s+(?:my|and|for|with|to)|[\s?!.,;:])+$", re.I)


def search_query(u: Understanding) -> str:
    """The part of the message that describes products, without price phrases and filler."""
    text = _GREETING_LEAD.sub("", u.text)
    if u.price and u.price.text:
        text = text.lower().replace(u.price.text, " ")
    if u.size_text:
        text = text.lower().replace(u.size_text, " ")
    if u.size:  # a filter the reply names already: "leather loafers size 44" searches the loafers
        text = re.sub(r"\b(?:in\s+)?(?:size|sz|eu)\s*" + re.escape(u.size) + r"\b", " ", text, flags=re.I)
    for name in (*u.exclude_colors, *u.exclude_brands):  # "boots, not orange": orange is no search word
        text = re.sub(NEGATION + r"\b" + re.escape(name.lower()) + r"\b", " ", text, flags=re.I)
    for color in u.colors:  # a filter, not a search word: "not black" later must not search for black
        words = [color, *(w for w, canon in COLOR_SYNONYMS.items() if canon == color)]
        text = re.sub(r"\b(?:in\s+)?(?:" + "|".join(re.escape(w) for w in words) + r")\b", " ", text, flags=re.I)
    if u.gift:
        text = _GIFT_FRAME.sub(" ", text)
    text = _DROP.sub(" ", text)
    text = re.sub(rf"{CURRENCY}\s*\d+(?:[.,]\d+)*|\d+(?:[.,]\d+)*\s*{CURRENCY}", " ", text, flags=re.I)
    text = "".join(ch for ch in text if unicodedata.category(ch) != "So")  # emoji and other pictographs
    text = " ".join(text.split())
    return _EDGE_WORDS.sub("", text) if u.gift else _LEADING_ARTICLE.sub("", text)


def shown_query(u: Understanding, query: str, longest: int = 6) -> str:
    """What a reply quotes as the search: the query, or the kind of product it names when it is a long sentence
    ("I'm going to Norway in March, what jacket should I get?" is searched whole but quoted as "jackets").
    A message read through its gloss is quoted in the customer's own words (or by the kind it names), never by
    the gloss: "比较一下最便宜的两个日用背包" is no "比较 a moment the two 日用背包"."""
    kinds = u.types or u.categories
    if query and u.said.strip() != u.text.strip():
        return ", ".join(kinds) if kinds else u.said.strip()
    return ", ".join(kinds) if kinds and len(query.split()) > longest else query


def filters_from(u: Understanding, base: SearchFilters | None = None) -> SearchFilters:
    """Filters named in the message, layered over `base`."""
    f = base or SearchFilters()
    changes: dict = {}
    if u.price:
        changes["min_price"] = u.price.min
        changes["max_price"] = u.price.max
        changes["target_price"] = u.price.target
    if u.types:
        changes["types"] = tuple(u.types)
        changes["categories"] = ()
    elif u.categories:
        changes["categories"] = tuple(u.categories)
        changes["types"] = ()
    if u.colors:
        changes["colors"] = tuple(u.colors)
        changes["exclude_colors"] = tuple(c for c in f.exclude_colors if c not in u.colors)
    if u.exclude_colors:
        changes["exclude_colors"] = tuple(dict.fromkeys((*f.exclude_colors, *u.exclude_colors)))
        changes["colors"] = tuple(c for c in (changes.get("colors") or f.colors) if c not in u.exclude_colors)
    if u.size:
        changes["sizes"] = (u.size,)
    elif u.size_options:
        changes["sizes"] = tuple(u.size_options)
    if u.brands:
        changes["brands"] = tuple(u.brands)
        changes["exclude_brands"] = tuple(b for b in f.exclude_brands if b.lower() not in {x.lower() for x in u.brands})
    if u.exclude_brands:
        changes["exclude_brands"] = tuple(dict.fromkeys((*f.exclude_brands, *u.exclude_brands)))
        changes["brands"] = tuple(b for b in (changes.get("brands") or f.brands) if b not in u.exclude_brands)
    if u.flags:
        changes["attributes"] = {**f.attributes, **u.flags}
    if u.in_stock is not None:
        changes["in_stock"] = u.in_stock
    return replace(f, **changes)


def _is_footwear(f: SearchFilters, services: Services) -> bool:
    cats = set(f.categories) | {services.vocab.type_category.get(t, "") for t in f.types}
    return any(h in c for c in cats for h in FOOTWEAR_HINTS)


def _uses_letter_sizes(f: SearchFilters, services: Services) -> bool:
    cats = set(f.categories) | {services.vocab.type_category.get(t, "") for t in f.types}
    return any(c in LETTER_SIZE_CATEGORIES for c in cats)


def apply_preferences(turn: Turn, f: SearchFilters, u: Understanding | None, services: Services) -> tuple[SearchFilters, list[str]]:
    """Stored preferences added to the filters unless the message overrides them; with notes saying so."""
    notes: list[str] = []
    prefs = turn.prefs
    budget = prefs.get("budget")
    if budget and f.max_price is None and f.min_price is None and not (u and u.price):
        f = replace(f, max_price=float(budget.value))
        notes.append(turn.t("within your budget of {budget}", budget=turn.price(float(budget.value), services.storefront.currency)))
    disliked = prefs.get("disliked_brands")
    if disliked and disliked.value:
        asked = {b.lower() for b in f.brands}
        skip = [b for b in disliked.value if b.lower() not in asked and b not in f.exclude_brands]
        if skip:
            f = replace(f, exclude_brands=tuple((*f.exclude_brands, *skip)))
            notes.append(turn.t("leaving out {brands}, as you asked", brands=", ".join(skip)))
    disliked_colors = prefs.get("disliked_colors")
    if disliked_colors and disliked_colors.value:
        skip = [c for c in disliked_colors.value if c not in f.colors and c not in f.avoid_colors]
        if skip:
            f = replace(f, avoid_colors=tuple((*f.avoid_colors, *skip)))
            notes.append(turn.t("leaving out what only comes in {colours}, as you asked", colours=joined(turn.lang, skip, "or")))
    if not f.sizes and not (u and (u.size or u.gift)):  # the user's own sizes are not a gift's
        shoe = prefs.get("shoe_size")
        clothing = prefs.get("clothing_size")
        if shoe and _is_footwear(f, services):
            f = replace(f, sizes=(str(shoe.value),))
            notes.append(turn.t("showing size {size}, as you told me", size=shoe.value))
        elif clothing and _uses_letter_sizes(f, services):
            f = replace(f, sizes=(str(clothing.value),))
            notes.append(turn.t("showing size {size}, as you told me", size=clothing.value))
    return f, notes


def describe_filters(f: SearchFilters, currency: str | None, lang: str = "en") -> str:
    """The filters in words, in `lang`, prices in the catalog's `currency`: "up to €150.00, waterproof, in black"."""
    parts: list[str] = []
    price = lambda amount: format_price(amount, currency, lang)  # noqa: E731
    if f.target_price is not None:
        parts.append(tr(lang, "around {price}", price=price(f.target_price)))
    elif f.min_price is not None and f.max_price is not None:
        parts.append(tr(lang, "between {low} and {high}", low=price(f.min_price), high=price(f.max_price)))
    elif f.max_price is not None:
        parts.append(tr(lang, "up to {price}", price=price(f.max_price)))
    elif f.min_price is not None:
        parts.append(tr(lang, "from {price}", price=price(f.min_price)))
    for key, value in f.attributes.items():
        name = key.replace("_", " ")
        if key == "gender" and isinstance(value, (list, tuple)) and value:
            parts.append(tr(lang, "for {who}", who=value[0]))  # ("women", "unisex"): women's and unisex products
        elif isinstance(value, (list, tuple)):
            parts.append(f"{name} {joined(lang, [str(v) for v in value], 'or')}")
        elif value is True:
            parts.append(name)
        else:
            parts.append(tr(lang, "not {what}", what=name) if value is False else f"{name} {value}")
    if f.colors:
        parts.append(tr(lang, "in {colours}", colours=joined(lang, list(f.colors), "or")))
    if f.exclude_colors:
        parts.append(tr(lang, "not {what}", what=joined(lang, list(f.exclude_colors), "or")))
    if f.avoid_colors:
        parts.append(tr(lang, "not only in {colours}", colours=joined(lang, list(f.avoid_colors), "or")))
    if f.sizes:
        parts.append(tr(lang, "size {sizes}", sizes="/".join(f.sizes)))
    if f.brands:
        parts.append(tr(lang, "by {brands}", brands=joined(lang, list(f.brands), "or")))
    if f.exclude_brands:
        parts.append(tr(lang, "not {what}", what=", ".join(f.exclude_brands)))
    if f.in_stock:
        parts.append(tr(lang, "in stock"))
    return tr(lang, ", ").join(parts)


# filter name -> (button label to drop it, how a sentence names it)
FILTER_WORDS = {
    "price": (N_("Drop the price limit"), N_("the price limit")), "colors": (N_("Any colour"), N_("the colour")),
    "sizes": (N_("Any size"), N_("the size")), "brands": (N_("Any brand"), N_("the brand")),
    "exclude_brands": (N_("Include all brands"), N_("the excluded brands")),
    "exclude_colors": (N_("Include all colours"), N_("the excluded colours")),
    "avoid_colors": (N_("Any colour"), N_("your disliked colours")),
    "in_stock": (N_("Include out of stock"), N_("the in-stock filter")), "types": (N_("Any type"), N_("the product type")),
    "categories": (N_("Any category"), N_("the category")),
}


def relax_label(name: str, lang: str = "en") -> str:
    """Button label for dropping one filter."""
    if name == "attr:gender":
        return tr(lang, "Any gender")
    if name.startswith("attr:"):
        return tr(lang, "Not only {what}", what=name[5:].replace("_", " "))
    if name in FILTER_WORDS:
        return tr(lang, FILTER_WORDS[name][0])
    return tr(lang, "Drop {name}", name=name)


def filter_phrase(name: str, lang: str = "en") -> str:
    """A filter named in a sentence: "the price limit", "the waterproof filter"."""
    if name.startswith("attr:"):
        return tr(lang, "the {name} filter", name=name[5:].replace("_", " "))
    if name in FILTER_WORDS:
        return tr(lang, FILTER_WORDS[name][1])
    return tr(lang, "the {name} filter", name=name)

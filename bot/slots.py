"""Slot extraction: prices, colours, sizes, brands, categories and references to shown results.

Words come from the catalog's own vocabulary (`Vocabulary`), so a new store's brands and
categories are understood without code changes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from bot.prices import PriceRange, parse_price  # noqa: F401  (prices are slots too)
from bot.understanding.attributes import Orders, bundled_orders
from knowledge.text import LETTER_SIZE_PATTERN, LETTER_SIZES, plural_stem, stem_words  # noqa: F401  (nlu reads them here)

ORDINALS = {
    "first": 1, "1st": 1, "second": 2, "2nd": 2, "third": 3, "3rd": 3, "fourth": 4, "4th": 4,
    "fifth": 5, "5th": 5, "sixth": 6, "6th": 6, "seventh": 7, "7th": 7, "eighth": 8, "8th": 8,
    "ninth": 9, "9th": 9, "tenth": 10, "10th": 10, "last": -1,
}
_ORDINAL_RE = re.compile(
    r"\b(?:the\s+)?(" + "|".join(ORDINALS) + r")(?:\s+(?:one|item|product|option))?\b"
    r"|(?:\bnumber|\bno\.?|#|\boption|\bitem)\s*(\d{1,2})\b"
)
COLOR_SYNONYMS = {"gray": "grey", "dark blue": "navy", "khaki": "beige", "tan": "beige", "violet": "purple",
                  "lime": "green", "maroon": "red", "burgundy": "red", "cream": "white", "charcoal": "grey"}
_SIZE_RE = re.compile(r"\b(?:size|sz|eu|in a|in an|wear(?:ing)? an?|wear|comes? in|available in|have it in|fit an?)"
                      rf"(?:\s*(\d{{2}}(?:[.,]5)?)|\s+({LETTER_SIZE_PATTERN}))\b")  # "sizes" is no size S
COUNT_WORDS = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9,
               "ten": 10, "eleven": 11, "twelve": 12}
_COUNT = r"(\d{1,2}|" + "|".join(COUNT_WORDS) + r")"
# "for 2 people", "2-person", "a 3 man tent", "2p", "sleeps 4", "tent for two"
_PERSON_WORDS = ("person", "persons", "people")
_CAPACITY_RE = re.compile(rf"\b{_COUNT}[\s-]*(?:{'|'.join(_PERSON_WORDS)}|man|men|p)\b"
                          rf"|\bsleeps?\s+{_COUNT}\b|\bfor\s+{_COUNT}\s*(?:$|[?.!,])")
# Who can be in a party, as (singular, plural); "couple" and "twins" are two people each.
PEOPLE = (("adult", "adults"), ("child", "children"), ("kid", "kids"), ("friend", "friends"), ("person", "people"),
          ("guy", "guys"), ("man", "men"), ("woman", "women"), ("boy", "boys"), ("girl", "girls"), ("teen", "teens"),
          ("teenager", "teenagers"), ("toddler", "toddlers"), ("baby", "babies"), ("son", "sons"),
          ("daughter", "daughters"), ("brother", "brothers"), ("sister", "sisters"), ("mate", "mates"),
          ("buddy", "buddies"), ("wife", "wives"), ("husband", "husbands"), ("partner", "partners"),
          ("girlfriend", "girlfriends"), ("boyfriend", "boyfriends"), ("dad", "dads"), ("father", "fathers"),
          ("mum", "mums"), ("mom", "moms"), ("mother", "mothers"), ("parent", "parents"), ("grandparent", "grandparents"),
          ("grandma", "grandmas"), ("grandpa", "grandpas"), ("cousin", "cousins"), ("nephew", "nephews"),
          ("niece", "nieces"), ("colleague", "colleagues"), ("couple", "couples"), ("twin", "twins"))
_SINGULAR = {one: 2 if one == "couple" else 1 for one, _ in PEOPLE} | {"twins": 2}
_PLURAL = {many for _, many in PEOPLE} - {"twins"}
_SELF = ("me", "myself", "i")
_JOINS = ("and", "&", "+", "plus", ",")
_GROUPS = ("family", "group", "party", "household", "team")
# a whole party in one phrase: "a family of four", "the three of us", "we are 4"
_TOTAL_RE = re.compile(rf"\b(?:{'|'.join(_GROUPS)}) of {_COUNT}\b|\b{_COUNT} of us\b|\bwe(?:'re| are) {_COUNT}\b")
_WORD_RE = re.compile(r"[a-z0-9]+(?:['’-][a-z0-9]+)*|[,&+]")


def _count(word: str) -> int:
    """A head count as written: "two" or "2"."""
    return COUNT_WORDS.get(word) or int(word)


def _number_at(words: list[str], i: int) -> tuple[int, int] | None:
    """A head count starting at words[i] ("two", "2", "a couple of"), with how many words it takes."""
    if words[i].isdigit() and 0 < int(words[i]) <= 30:
        return int(words[i]), 1
    if words[i] in COUNT_WORDS:
        return COUNT_WORDS[words[i]], 1
    if words[i:i + 3] == ["a", "couple", "of"]:
        return 2, 3
    return None


def party_size(text: str) -> int | None:
    """How many people a message names ("two adults and three children": 5, "me and two friends": 3), or None.

    Counts each count word or digit before a person noun, each singular person ("my wife"), the speaker when
    coordinated ("me and ...", "... and I") and, for "with my/our ...", the speaker (and partner) too. A
    plural with no count ("my kids") makes the party unknown; one person alone is no party.
    """
    low = text.lower()
    if (m := _TOTAL_RE.search(low)) and (total := _count(next(g for g in m.groups() if g))) >= 2:
        return total
    words = _WORD_RE.findall(low)
    people, counted, speaker, first = 0, False, False, None
    i = 0
    while i < len(words):
        word, before, after = words[i], words[i - 1] if i else "", words[i + 1] if i + 1 < len(words) else ""
        if number := _number_at(words, i):
            n, j = number[0], i + number[1]
            if j + 1 < len(words) and _is_person(words[j + 1]) and not _is_person(words[j]):
                j += 1  # one word between: "two small kids"
            if j < len(words) and _is_person(words[j]):
                people += n * (2 if words[j] in ("couple", "couples") else 1)
                counted, first, i = True, i if first is None else first, j + 1
                continue
        if word in _PLURAL:
            return None  # "my kids": how many is not said
        if word in _SINGULAR and not (word == "couple" and after == "of"):
            people, first = people + _SINGULAR[word], i if first is None else first
        elif word in _SELF and not speaker and (before in _JOINS or after in _JOINS):
            people, speaker = people + 1, True
        i += 1
    if people < 2 and not counted:
        return None
    lead = words[max(0, (first or 0) - 2):first or 0]
    if not speaker and "with" in lead and lead[-1] in ("with", "my", "our"):
        people += 2 if lead[-1] == "our" else 1  # "camping with my two kids": the speaker comes too
    return people


def _is_person(word: str) -> bool:
    """Whether `word` names someone who can be in a party ("adults", "wife")."""
    return word in _SINGULAR or word in _PLURAL


_LITRES = r"\s*(?:l|ltrs?|litres?|liters?)\b"
_VOLUME_RE = re.compile(
    rf"\b(?:between\s+)?(\d{{1,3}})(?:{_LITRES})?\s*(?:-|to|and)\s*(\d{{1,3}}){_LITRES}"
    rf"|\b(under|below|less than|up to|at most|max(?:imum)?|over|above|more than|at least|min(?:imum)?|around|about)\s+(\d{{1,3}}){_LITRES}"
    rf"|\b(\d{{1,3}}){_LITRES}")
_VOLUME_SIZE = re.compile(r"^(\d{1,3}(?:\.\d)?)\s*l$")


def _volume_bounds(m: re.Match[str]) -> tuple[float, float]:
    """The litres a volume phrase allows: a range, a bound, or about the amount named."""
    if m.group(1):
        a, b = sorted((float(m.group(1)), float(m.group(2))))
        return a, b
    if m.group(3):
        n = float(m.group(4))
        if m.group(3) in ("around", "about"):
            return n * 0.85, n * 1.15
        upper = m.group(3) in ("under", "below", "less than", "up to", "at most", "max", "maximum")
        return (0.0, n) if upper else (n, float("inf"))
    n = float(m.group(5))
    return n * 0.85, n * 1.15


_CAPACITY_SIZE = re.compile(r"^(\d{1,2})[\s-]*(?:persons?|people|man|p)$")
_GENDER_NAMES = {  # "women's" matches too: the word ends before the apostrophe
    "women": ("women", "womens", "woman", "womans", "ladies", "lady", "ladys", "female", "girl", "girls"),
    "men": ("men", "mens", "man", "mans", "male", "gentlemen", "gentlemens", "guy", "guys", "boy", "boys"),
}
_GENDER_WORDS = {
    "women": re.compile(rf"\b(?:{'|'.join(_GENDER_NAMES['women'])})\b"),
    # "3 man tent" / "3-man" is a head count
    "men": re.compile(rf"(?<!\d)(?<!\d\s)(?<!\d-)\b(?:{'|'.join(_GENDER_NAMES['men'])})\b"),
}
# Words that name a gender or a head count: slots, not words to search by meaning.
SLOT_WORDS = frozenset({*_GENDER_NAMES["women"], *_GENDER_NAMES["men"], *_PERSON_WORDS, "sleep", "sleeps"})
_UNISEX = ("unisex",)
_BARE_LETTER_SIZE = re.compile(rf"(?<![\w'])({'|'.join(s.upper() for s in LETTER_SIZES if len(s) > 1)})(?![\w'])")


# "first time", "second hand", "last year": no position in a list
_NOT_A_POSITION = re.compile(r"\s*(?:-\s*)?(?:time|times|aid|hand|year|years|week|weeks|month|months|night|nights|day|"
                             r"days|season|summer|winter|trip|hike|long|longer|longest|through|for|ages)\b")
# a bare "last" is a position after these ("compare the first and last", "show me last"), else a verb
# ("how long does the battery last?")
_LAST_AFTER = re.compile(r"(?:^|\b(?:the|and|or|vs|with|compare|show|about|me|is|was|take|want))\s*$")


def parse_ordinals(text: str) -> list[int]:
    """1-based positions mentioned ("the second one", "#3", "last" is -1), in order."""
    out: list[int] = []
    low = text.lower()
    for m in _ORDINAL_RE.finditer(low):
        if m.group(1):
            bare = not m.group(0).endswith(("one", "item", "product", "option"))  # "the first one for men" is one
            if bare and _NOT_A_POSITION.match(low, m.end()):
                continue
            if m.group(1) == "last" and m.group(0) == "last" and not _LAST_AFTER.search(low[:m.start()]):
                continue
            out.append(ORDINALS[m.group(1)])
        elif m.group(2):
            out.append(int(m.group(2)))
    return out


def parse_size(text: str) -> str | None:
    """A size the user names ("size 42", "in XL", "I wear M")."""
    m = _SIZE_RE.search(text.lower())
    if m:
        return (m.group(1) or m.group(2)).upper().replace(",", ".")
    m = _BARE_LETTER_SIZE.search(text)
    if m:
        return m.group(1).upper()
    return None


@dataclass
class Vocabulary:
    """The catalog's own words, compiled for matching."""

    brands: list[str] = field(default_factory=list)
    categories: list[str] = field(default_factory=list)
    types: list[str] = field(default_factory=list)
    colors: list[str] = field(default_factory=list)
    sizes: list[str] = field(default_factory=list)
    flags: list[str] = field(default_factory=list)  # boolean attributes, e.g. "waterproof"
    type_category: dict[str, str] = field(default_factory=dict)
    genders: list[str] = field(default_factory=list)  # values of the products' "gender" attribute
    attribute_words: list[str] = field(default_factory=list)  # words of other attribute names ("battery", "lumens")
    orders: Orders = field(default_factory=bundled_orders)  # "the brightest", "holds the most": sorts by attribute

    @classmethod
    def from_catalog(cls, vocab: dict[str, list[str]], type_category: dict[str, str], flags: list[str],
                     genders: list[str] | None = None, attributes: list[str] | None = None) -> "Vocabulary":
        """Build from `CatalogStore.vocabulary()` output (`attributes`: the names of the other attributes)."""
        words = {plural_stem(w) for name in attributes or [] for w in re.findall(r"[a-z]+", name.lower()) if len(w) >= 4}
        return cls(
            brands=vocab.get("brands", []), categories=vocab.get("categories", []),
            types=vocab.get("types", []), colors=vocab.get("colors", []), sizes=vocab.get("sizes", []),
            flags=flags, type_category=type_category, genders=genders or [],
            attribute_words=sorted(words - {"gender"} - {plural_stem(f) for f in flags}),
        )

    @property
    def own_words(self) -> frozenset[str]:
        """The catalog's names of colours, brands, types and categories, lower case (kept as written by a gloss)."""
        cached = self.__dict__.get("_own_words")
        if cached is None:
            cached = frozenset(n.lower() for n in (*self.colors, *self.brands, *self.types, *self.categories))
            self.__dict__["_own_words"] = cached
        return cached

    def names_attribute(self, text: str) -> bool:
        """Whether `text` names an attribute the records carry ("how long does the battery last?")."""
        return bool(self.attribute_words) and bool(set(stem_words(text)) & set(self.attribute_words))

    def find_brands(self, text: str) -> list[str]:
        """Catalog brands named in `text`."""
        low = text.lower()
        return [b for b in self.brands if re.search(rf"(?<![\w-]){re.escape(b.lower())}(?![\w-])", low)]

    def find_colors(self, text: str) -> list[str]:
        """Catalog colours named in `text` (with common synonyms), longest first: "light grey" is not also "grey"."""
        return [color for color, _ in self.color_spans(text)]

    def color_spans(self, text: str) -> list[tuple[str, int]]:
        """Each catalog colour named in `text` with where it starts; a catalog's own colour beats a synonym."""
        low = text.lower()
        own = {c.lower() for c in self.colors}
        names = [(c.lower(), c) for c in self.colors]
        names += [(word, canon) for word, canon in COLOR_SYNONYMS.items() if canon in self.colors and word not in own]
        found: dict[str, int] = {}
        for word, canon in sorted(names, key=lambda n: -len(n[0])):
            for m in re.finditer(rf"\b{re.escape(word)}\b", low):
                found.setdefault(canon, m.start())
                low = low[:m.start()] + " " * (m.end() - m.start()) + low[m.end():]
        return sorted(found.items(), key=lambda kv: kv[1])

    def find_gender(self, text: str) -> tuple[str, ...] | None:
        """The catalog's gender values for "for women" / "men's" (with its unisex value), or None."""
        low = text.lower()
        named = [g for g, pattern in _GENDER_WORDS.items() if pattern.search(low)]
        values = {v.lower(): v for v in self.genders}
        if len(named) != 1 or named[0] not in values:
            return None  # none, both, or a gender the catalog does not record
        shared = [values[v] for v in _UNISEX if v in values]
        return (values[named[0]], *shared)

    def find_volumes(self, text: str) -> tuple[list[str], str] | None:
        """The catalog's volume sizes ("40L") that a volume phrase allows ("between 30 and 40 litres",
        "under 25 l", "a 30 litre pack": within 15%), with the phrase; None when none is named or none fits."""
        m = _VOLUME_RE.search(text.lower())
        if not m:
            return None
        low, high = _volume_bounds(m)
        fitting = [size for size in self.sizes
                   if (v := _VOLUME_SIZE.match(size.lower().strip())) and low <= float(v.group(1)) <= high]
        return (sorted(fitting, key=lambda s: float(_VOLUME_SIZE.match(s.lower().strip()).group(1))), m.group(0)) \
            if fitting else None

    def find_capacity(self, text: str) -> list[str]:
        """The catalog's "N-person" sizes for a head count the user names ("tent for 2 people", "with my two
        kids"): that count, else every larger one, smallest first (a 5- or 6-person tent sleeps four), else none."""
        m = _CAPACITY_RE.search(text.lower())
        if m:
            count = _count(next(g for g in m.groups() if g))
        elif (party := party_size(text)) is not None:
            count = party
        else:
            return []
        fitting: list[tuple[int, str]] = []
        for size in self.sizes:
            c = _CAPACITY_SIZE.match(size.lower().strip())
            if c and int(c.group(1)) >= count:
                fitting.append((int(c.group(1)), size))
        exact = [size for n, size in fitting if n == count]
        return exact or [size for _, size in sorted(fitting)]

    def find_types(self, text: str, *, widen: bool = True) -> tuple[list[str], list[str]]:
        """(types, categories) named in `text`; plurals and singulars both match.

        `widen`: add the types a named one is part of ("wall clock" also finds "kitchen wall clock")."""
        words = stem_words(text)
        joined = " " + " ".join(words) + " "
        types = []
        rest = joined
        for t in sorted(self.types, key=len, reverse=True):
            phrase = " " + " ".join(stem_words(t)) + " "
            if phrase in rest:
                types.append(t)
                rest = rest.replace(phrase, " | ")  # "kitchen wall clock" is not also "wall clock"
        # a type named inside a longer one ("wall clock" in "kitchen wall clock") includes it
        expanded = list(types)
        for t in types if widen else ():
            phrase = " " + " ".join(stem_words(t)) + " "
            for other in self.types:
                if other not in expanded and phrase in " " + " ".join(stem_words(other)) + " ":
                    expanded.append(other)
        categories = []
        for c in self.categories:
            phrase = " " + " ".join(stem_words(c)) + " "
            if phrase in joined:
                categories.append(c)
        if not expanded and not categories:
            # a head noun alone: "boots" -> every type ending in "boot"
            for t in self.types:
                head = stem_words(t)[-1] if stem_words(t) else ""
                if head and f" {head} " in joined and len(head) > 3:
                    expanded.append(t)
        return expanded, categories

    def find_flags(self, text: str, types: list[str] | None = None) -> dict[str, Any]:
        """Boolean attributes named in `text`, negated by "not"/"non-"; words of named types don't count."""
        low = text.lower()
        for t in types or []:
            low = low.replace(t.lower(), " ")
            if t.endswith("s"):
                low = low.replace(t.lower()[:-1], " ")
        out: dict[str, Any] = {}
        for flag in self.flags:
            name = flag.replace("_", " ").lower()
            if re.search(rf"\b(?:not|non-?|no)\s*{re.escape(name)}\b", low):
                out[flag] = False
            elif re.search(rf"\b{re.escape(name)}\b", low):
                out[flag] = True
        return out

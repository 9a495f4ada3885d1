"""Understanding one shopping message: the intent from the example-trained classifier, the slots from the catalog.

Correctness never depends on the language model: intents come from example utterances
(bot/understanding/), slots from the catalog's vocabulary and generic parsers.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Callable

from bot.context import ASK_PREFIX, OFFER_PREFIX
from bot.preference_words import FORGET_PREF, preference_kind
from bot.understanding import IntentClassifier, State
from bot.slots import (
    COLOR_SYNONYMS, LETTER_SIZES, SLOT_WORDS, PriceRange, Vocabulary, parse_ordinals, parse_price, parse_size, stem_words,
)
from knowledge.text import tokens

_QUESTION_START = re.compile(r"^\s*(is|are|does|do|can|will|would|could|how|what|which|has|have|should)\b", re.I)
READ_CHARS = 400  # the classifier reads a long message's start and end, where its request is
_SINGULAR = re.compile(r"\b(it|its|this|that|this one|that one)\b", re.I)  # one product, not the whole list
_PRONOUN = re.compile(r"\b(it|its|this|that|this one|that one|they|them|these|those)\b", re.I)
_PLURAL = re.compile(r"\b(they|them|these|those|each of (these|them|those)|all of (these|them|those))\b", re.I)  # the whole list
_CHEAPER = re.compile(r"\b(cheaper|less expensive|lower price|more affordable|budget option|too expensive|too pricey)\b", re.I)
_PRICIER = re.compile(r"\b(more expensive|pricier|higher end|premium|better quality|fancier)\b", re.I)
_COLD = re.compile(r"\b(winter|wintry|cold[- ](weather|nights?|conditions|temperatures|climates?)|freezing|sub-?zero|"
                   r"below (zero|freezing)|arctic|extreme cold)\b", re.I)
_COLD_WORDS = frozenset("winter wintry cold weather night nights conditions temperatures climate climates freezing "
                        "sub zero subzero below arctic extreme".split())
# "which is best for a family?", "what's the best one for backpacking?": rank the results by that need
_BEST_FOR = re.compile(r"^\s*(?:(?:which|what)(?:'s|\s+(?:one|ones|of (?:these|them|those)))?(?:\s+(?:is|are|would be|will be))?\s+)?"
                       r"(?:the\s+)?(?:best|better|good|ideal|great|suitable|right|most suitable)(?:\s+ones?)?\s+for\s+(.+?)[\s?!.]*$"
                       r"|^\s*(?:and\s+|so\s+)?what about (?:for|something for|one for|ones for)\s+(.+?)[\s?!.]*$", re.I)
_NOT_A_NEED = re.compile(r"^(?:me|myself|us|you|him|her|them|it|this|that)$", re.I)
_IN_STOCK = re.compile(r"\b(in stock|available now|only available|ships? (now|today)|available ones)\b", re.I)
# a negation closing the clause after what it negates, as Spanish and German place it ("en negro no" glossed "in black no")
_NEGATED_AFTER = re.compile(r"\s+(?:not|no)\s*(?:[.,;!?]|$)")
NEGATION = r"\b(?:not|no|without|except|exclude|excluding|don'?t (?:like|want)|do not (?:like|want)|hate|dislike|avoid|other than)\b[^.,;]*?"
_POLICY = re.compile(
    r"\b(return|returns|refund|exchange|ship|shipping|deliver|delivery|dispatch|arrive|arrives|arrival|track|tracking|payment|pay|paypal|"
    r"credit card|klarna|invoice|warranty|guarantee|repair|size guide|sizing chart|size chart|fit guide|order|orders|"
    r"cancel|account|password|login|log in|sign up|register|privacy|personal data|gdpr|cookies|newsletter|"
    r"discounts?|vouchers?|loyalty|rewards? (?:programme|program|points|card)|price match(?:ing)?|promos?|promo codes?|coupons?|promotions?|sales?|gift cards?|store hours|opening hours|contact|customs|duties|vat|tax|"
    r"physical (?:store|shop)|(?:store|shop) (?:locations?|address)|"
    r"policy|policies|my (shoe |clothing |boot )?size|what size|which size|sizing|overcharged|double[- ]charged|"
    r"(?:charged|billed)(?: me)? (?:twice|two times|too much|the wrong amount))\b", re.I)
# something the user already bought: "a refund for my jacket", "my boots are leaking", "return my tent"
_COMPLAINT = (r"\b(?:broke|broken|faulty|defective|damaged|leaks?|leaking|ripped|torn|too (?:small|big|large|tight|"
              r"loose|short|long|narrow|wide)|(?:doesn't|don't|does not|do not) fit|wrong (?:size|colou?r|item))\b")
_AFTER_SALE = re.compile(r"\b(?:refund|return|send back|exchange|repair|warranty|guarantee|cancel|track)\b.*\bmy\b"
                         r"|\bmy\b.*(?:\b(?:arrived|came)\b|" + _COMPLAINT + ")"
                         r"|\b(?:bought|ordered|purchased|received|got)\b.*" + _COMPLAINT, re.I)
_HAN_RUN = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]+")
_SKU = re.compile(r"\b([A-Z]{2,}-[A-Z0-9]{1,}-?[A-Z0-9]*\d[A-Z0-9-]*)\b", re.I)


@dataclass
class Understanding:
    """The intent of a message and its slots."""

    intent: str
    text: str  # the message in the words the slot readers know (glossed into English when written in another language)
    price: PriceRange | None = None
    colors: list[str] = field(default_factory=list)
    size: str | None = None
    brands: list[str] = field(default_factory=list)
    exclude_brands: list[str] = field(default_factory=list)
    exclude_colors: list[str] = field(default_factory=list)
    types: list[str] = field(default_factory=list)
    categories: list[str] = field(default_factory=list)
    guessed_category: bool = False  # `categories` read from another language's words by the embedder, not named
    flags: dict[str, Any] = field(default_factory=dict)
    in_stock: bool | None = None
    sort: str | None = None
    ordinals: list[int] = field(default_factory=list)
    skus: list[str] = field(default_factory=list)
    cheaper: bool = False
    pricier: bool = False
    pronoun: bool = False
    pref_kind: str | None = None
    gift: bool = False  # "a gift for my dad who likes hiking": the products are for someone else
    need: str | None = None  # "which is best for a family?": what the results should suit ("a family")
    about_list: bool = False  # "do they have good grip?": a question about every product listed
    size_options: list[str] = field(default_factory=list)  # catalog sizes that "30 to 40 litres" or "for 4 people" allows
    size_text: str = ""  # the volume words that said so, which are no search words
    cold: bool = False  # "a sleeping bag for winter": the warmest first, where the records rate warmth
    confidence: float = 1.0  # the classifier's probability of `intent`
    runner_up: str | None = None  # the next most likely intent, for a clarifying question
    goodbye: bool = False  # thanks that end the conversation
    ref_colors: list[str] = field(default_factory=list)  # colours of something already seen: "the grey one"
    named_types: list[str] = field(default_factory=list)  # the types as named, before widening to longer ones
    said: str = ""  # the message as the customer wrote it (what FAQ and product answers are matched by)
    lang: str = "en"  # the language it was written in

    def __post_init__(self) -> None:
        self.said = self.said or self.text

    def has_product_slots(self, *, sort: bool = True) -> bool:
        """True when the message names something about products (an order too, unless `sort` is False)."""
        return bool(self.colors or self.size or self.size_options or self.brands or self.types or self.categories or self.flags
                    or self.price or self.in_stock or (sort and self.sort) or self.exclude_brands
                    or self.exclude_colors)

    def content_words(self, vocab: Vocabulary) -> list[str]:
        """Words that are not slots or filler: what is left to search by meaning."""
        slot_words = {c.lower() for c in vocab.colors} | {f.lower() for f in vocab.flags}
        slot_words |= {w for b in vocab.brands for w in tokens(b, drop_stopwords=False)}
        slot_words |= set(COLOR_SYNONYMS) | set(LETTER_SIZES)
        words = [
            w for w in tokens(self.text)
            if w not in _FILLER and w not in slot_words and not re.fullmatch(r"[\d.,/]+[a-z]{0,3}", w)
        ]
        return words + _HAN_RUN.findall(self.text)  # Chinese words have no spaces and no Latin letters to tokenise


# who a gift is for, and how the message says what they like: none of it describes the products
RELATIONS = (
    "dad daddy father mum mom mommy mother parents wife husband son daughter brother sister friend friends "
    "boyfriend girlfriend partner grandpa grandma grandfather grandmother granddad grandad uncle aunt "
    "nephew niece cousin colleague coworker boss teacher godson goddaughter fiance fiancee"
)
RECIPIENTS = RELATIONS + " him her someone somebody"
# a gift, or products for someone else ("anything for my daughter? she loves hiking"): not the user's own sizes
_GIFT = re.compile(r"\b(gifts?|presents?|stocking fillers?|for (?:my|our) (?:" + "|".join(RELATIONS.split())
                   + r")|for (?:him|her))\b", re.I)
_GIFT_WORDS = frozenset(("gift gifts present presents idea ideas birthday christmas xmas anniversary stocking "
                         "filler fillers likes loves enjoys into who he she his they " + RECIPIENTS).split())
_FILLER = frozenset(
    "show me more some any one ones please thanks also instead just only cheaper less expensive pricier "
    "under below over above around about between and than max min up to euro euros eur bucks dollars usd "
    "in stock available now sort by price rating cheapest best rated top highest lowest rather how i'd "
    "lightest heaviest least heavy weight warmest warmth temperature lighter warmer anything "
    "like want need looking something options option those these them it that this what about with "
    "colour color size sizes version versions not no without except exclude excluding avoid "
    "l ltr ltrs litre litres liter liters ll ve re d most popular selling seller sellers your come comes give "
    "product products item items thing things".split()  # the rest of "I'll", "we've", "you're", "I'd"
) | SLOT_WORDS | _GIFT_WORDS  # genders and head counts are slots; a gift's recipient describes no product


def read_slots(text: str, vocab: Vocabulary) -> Understanding:
    """The slots of a message alone (a kept question, a button's text), with no intent read."""
    u = Understanding(intent="search", text=text.strip())
    _fill_slots(u, vocab)
    return u


def state_of(*, has_results: bool, has_focus: bool, pending: str | None) -> State:
    """The conversation state a message is read in."""
    asked = bool(pending and pending.startswith(ASK_PREFIX))
    offered = bool(pending and (pending.startswith(OFFER_PREFIX) or pending.startswith("confirm_")))
    return State(has_list=has_results, has_focus=has_focus, asked=asked, offered=offered)


# the requests whose products a kind narrows ("the two cheapest daypacks"), where a kind in another language is read
_KIND_INTENTS = frozenset("search refine compare recommend catalog more".split())


def understand(text: str, vocab: Vocabulary, classifier: IntentClassifier, *, has_results: bool, has_focus: bool,
               pending: str | None = None, has_search: bool = False, said: str | None = None,
               lang: str = "en", find_kinds: Callable[[str], tuple[list[str], list[str]]] | None = None) -> Understanding:
    """Read one message in its conversation: the intent from the classifier, the slots from the catalog and parsers.

    `has_search`: an earlier search, even one that found nothing, which a refinement can narrow. `said`: the
    message as written, when `text` is its gloss (the intent is read from what was said, the slots from `text`).
    `find_kinds`: the catalog types, else categories, a message in another language names (knowledge/kinds.py),
    for a shopping request whose gloss names none."""
    raw = text.strip()
    spoken = (said or text).strip()
    u = Understanding(intent="search", text=raw, said=spoken, lang=lang)
    if not raw or not any(ch.isalnum() for ch in spoken):
        u.intent = "empty"
        return u
    _fill_slots(u, vocab)
    state = state_of(has_results=has_results, has_focus=has_focus, pending=pending)
    reading = classifier.read(spoken if len(spoken) <= READ_CHARS
                              else f"{spoken[:READ_CHARS // 2]} … {spoken[-READ_CHARS // 2:]}", state)
    u.confidence, u.runner_up = reading.confidence, reading.runner_up
    if find_kinds is not None and lang != "en" and reading.intent in _KIND_INTENTS and not (u.types or u.categories):
        named, categories = find_kinds(spoken)
        if named:
            u.types, u.named_types = vocab.find_types(" ".join(named))[0] or named, named
        elif categories and reading.intent != "refine":
            u.categories = categories  # a weaker reading than a type: never what turns a refinement into a search
            u.guessed_category = True
    u.intent = _settle(u, reading.intent, reading.runner_up, vocab, state, has_search)
    if u.intent != reading.intent:
        u.confidence = 1.0  # decided by what the slots and the conversation allow, not by the classifier
    return u


def _settle(u: Understanding, intent: str, runner_up: str | None, vocab: Vocabulary, state: State,
            has_search: bool) -> str:
    """The classifier's intent checked against what the slots and the conversation make possible."""
    shown = state.has_list or state.has_focus
    if intent in _NOT_BY_NAMES and _names_only(u, vocab):
        intent = "search"  # "laptop", "Voltline": a message that only names the catalog's goods asks for them
    if intent in ("confirm", "cancel") and (not (state.offered or state.asked) or u.has_product_slots()):
        intent = runner_up if runner_up not in (None, "confirm", "cancel") else "search"
    if intent == "goodbye":
        u.goodbye = True
        return "thanks"
    if intent == "reference":
        intent = "reference" if state.asked else "details"
    if intent in ("preference", "forget") and (forgotten := FORGET_PREF.search(u.text.lower())):
        u.pref_kind = "forget:" + forgotten.group(2).rstrip("s").replace("colour", "color")
        return "preference"  # "forget my size" drops one preference, not all the customer's data
    if intent == "preference" and not preference_kind(u, u.text.lower()):
        intent = runner_up if runner_up not in (None, "preference") else "search"
    if u.skus and intent in ("search", "refine", "similar", "more"):
        return "details"  # a product code names one product: show it
    if shown and re.fullmatch(r"\s*(?:#|no\.?\s*|number\s*)?\d{1,2}\s*[.!?]?\s*", u.text):
        u.ordinals = [int(re.search(r"\d+", u.text).group(0))]  # type: ignore[union-attr]
        return "reference" if state.asked else "details"  # a bare number picks from the list
    if intent in ("refine", "more") and not (shown or has_search):
        intent = "search"  # nothing was shown that these could narrow
    if intent == "refine" and (u.types or u.categories):
        intent = "search"  # naming a new kind of product starts a new search
    if intent == "search" and (shown or has_search) and _is_refinement(u, vocab):
        intent = "refine"  # "in black" after a list narrows it
    if intent == "refine" and shown and not u.ordinals:
        _need(u, u.text)
    if u.ref_colors and not u.colors and intent in ("search", "refine"):
        u.colors = list(u.ref_colors)  # "show me the red ones": the colour wanted
    if intent == "product_question" and state.has_list and not state.has_focus and not (u.ordinals or u.skus) \
            and (_PLURAL.search(u.text.lower()) or not _SINGULAR.search(u.text.lower())):
        u.about_list = True  # "do they have a hood?", "how many lumens?": each listed one's answer
    return intent


_DEFINITE = frozenset("the that this those these its their your".split())  # determiners of something already seen
_COLOR_JOINERS = frozenset("and or light dark bright pale".split())


# intents a message cannot mean by naming products and nothing else
_NOT_BY_NAMES = frozenset("help greeting thanks goodbye faq catalog show_data export forget human order_status".split())


def _names_only(u: Understanding, vocab: Vocabulary) -> bool:
    """Whether the message is made of nothing but the catalog's names (types, categories, brands, colours) and numbers."""
    if not (u.types or u.categories or u.brands):
        return False
    named = {w for name in (*u.types, *u.categories, *u.brands, *u.colors) for w in stem_words(name)}
    return all(w in named or w.isdigit() for w in stem_words(u.text))


def _definite_before(low: str, start: int, vocab: Vocabulary) -> bool:
    """Whether a colour at `start` describes something already seen ("the grey one", "that white and red blouse")
    rather than what is wanted ("in grey", "a grey coat"): the words before it, over other colours, are definite."""
    colours = {w for c in vocab.colors for w in c.lower().split()}
    for word in reversed(re.findall(r"[a-z']+", low[:start])[-6:]):
        if word in _DEFINITE:
            return True
        if word not in colours and word not in _COLOR_JOINERS:
            return False
    return False


def _negated_after(low: str, start: int, color: str) -> bool:
    """Whether the colour named at `start` (as itself or as one word of its synonyms) is negated right after it."""
    word = re.match(r"[^\W\d_]+", low[start:])
    ends = {start + len(color)} | ({start + word.end()} if word else set())
    return any(_NEGATED_AFTER.match(low, end) for end in ends)


def _fill_slots(u: Understanding, vocab: Vocabulary) -> None:
    text = u.text
    low = text.lower()
    u.price = parse_price(text)
    for color, start in vocab.color_spans(text):
        if re.search(NEGATION + r"\b" + re.escape(color.lower()), low) or _negated_after(low, start, color):
            u.exclude_colors.append(color)
        else:
            (u.ref_colors if _definite_before(low, start, vocab) else u.colors).append(color)
    u.size = parse_size(text)
    if not u.size:
        capacities = vocab.find_capacity(text)
        volumes = None if capacities else vocab.find_volumes(text)
        if len(capacities) == 1:
            u.size = capacities[0]
        elif capacities:
            u.size_options = capacities
        elif volumes:
            u.size_options, u.size_text = volumes
    brands = vocab.find_brands(text)
    for brand in brands:
        if re.search(NEGATION + re.escape(brand.lower()), low):
            u.exclude_brands.append(brand)
        else:
            u.brands.append(brand)
    u.types, u.categories = vocab.find_types(text)
    u.named_types = vocab.find_types(text, widen=False)[0]
    if u.price and u.price.bare and not (u.types or u.categories or brands):
        u.price = None  # "the price is now 1$" names no product: not a budget
    u.flags = vocab.find_flags(text, u.types)
    gender = vocab.find_gender(text)
    if gender:
        u.flags["gender"] = gender
    if _IN_STOCK.search(low):
        u.in_stock = True
    u.sort = vocab.orders.find(text)
    u.ordinals = parse_ordinals(text)
    u.skus = [m.group(1).upper() for m in _SKU.finditer(text)]
    u.cheaper = bool(_CHEAPER.search(low))
    u.pricier = bool(_PRICIER.search(low))
    u.pronoun = bool(_PRONOUN.search(low))
    u.gift = bool(_GIFT.search(low))
    u.cold = bool(_COLD.search(low))


def _need(u: Understanding, raw: str) -> bool:
    """Take what the results should suit from "which is best for X?" into `u.need`."""
    m = _BEST_FOR.match(raw)
    need = m and (m.group(1) or m.group(2))
    if not need or _NOT_A_NEED.match(need) or _POLICY.search(need):
        return False
    u.need = need
    return True


_ASKS_FOR = re.compile(r"^\s*(?:do|does) (?:you|the shop|your shop) (?:have|sell|carry|stock)\b|^\s*(?:i'?m |i am )?looking for\b|"
                       r"^\s*(?:i (?:need|want)|any)\b", re.I)


def asks_for_products(text: str) -> bool:
    """Whether the message asks for something to buy ("do you have ...", "I'm looking for ...")."""
    return bool(_ASKS_FOR.search(text))


def about_a_purchase(text: str) -> bool:
    """Whether the message is about something the user already bought ("a refund for my jacket")."""
    return bool(_AFTER_SALE.search(text))


def mentions_policy(text: str) -> bool:
    """Whether the text names a store policy topic (returns, shipping, payment, warranty, ...)."""
    return bool(_POLICY.search(text))


def is_question(raw: str) -> bool:
    """Whether the message is put as a question ("is ...", "does ...", or ending in "?")."""
    return bool(_QUESTION_START.match(raw)) or raw.rstrip().endswith("?")


def _is_refinement(u: Understanding, vocab: Vocabulary) -> bool:
    if u.cheaper or u.pricier:
        return True
    if not (u.has_product_slots() or u.cold):
        return False
    if u.types or u.categories:
        return False  # naming a new kind of product starts a new search
    return not [w for w in u.content_words(vocab) if not (u.cold and w in _COLD_WORDS)]  # "for winter": warmest first

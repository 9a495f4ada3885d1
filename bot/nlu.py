"""Rule-based understanding of shopping messages: the intent and its slots.

Correctness never depends on the language model: intents come from patterns and the
catalog's vocabulary, and ambiguous product questions are settled by retrieval later.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from bot.preference_words import FORGET_PREF, preference_kind
from bot.slots import (
    COLOR_SYNONYMS, LETTER_SIZES, SLOT_WORDS, PriceRange, Vocabulary, parse_ordinals, parse_price, parse_size,
)
from knowledge.text import tokens

INTENTS = (
    "empty", "greeting", "help", "thanks", "human", "forget", "export", "show_data", "preference",
    "compare", "recommend", "similar", "details", "product_question", "faq", "refine", "more",
    "search", "out_of_scope", "confirm", "cancel", "buy", "catalog",
)

# the end of a conversation ("ok thanks bye", "that's all"): answered like thanks
CLOSING = r"(?:bye|bye bye|goodbye|good bye|see you(?: later| soon)?|see ya|that'?s all|that'?s it|nothing else|i'?m done|" \
          r"have a (?:nice|good|great) (?:day|evening|weekend))\b[\s,!.]*(?:for now|then|now)?[\s,!.]*(?:thanks?|thank you)?[\s!.]*$"
_GREETING = re.compile(r"^\s*(hi|hello|hey|hiya|howdy|good (morning|afternoon|evening)|greetings|yo|hallo|hola|bonjour|moin)\b[\s!.,]*(there|again|bot|shopguide)?[\s!.,]*$", re.I)
_HELP = re.compile(r"^\s*(/?help|what can you do|how does this work|what do you do|commands|menu|\?)\s*[?!.]*\s*$", re.I)
_ACK = r"(?:(?:ok(?:ay)?|great|cool|perfect|alright|all right|fine|nice|awesome|lovely|no)\b[\s,!.]*)?"
_THANKS = re.compile(rf"^\s*{_ACK}(thanks?|thank you|thx|ty|cheers|awesome)\b.*$|^\s*{_ACK}(?:thanks?\b[\s,!.]*)?(?:{CLOSING})", re.I)
_HUMAN = re.compile(r"\b(human|real person|live agent|an agent|customer service|talk to (a|some)(one|body| person)|speak (to|with) (a|some)(one|body| person)|operator|staff member|representative|(?:a|the|your) (?:manager|supervisor)|speak (?:to|with) (?:a|the) (?:human|person))\b", re.I)
_FORGET = re.compile(r"\b(forget (about )?(me|my data|everything|all about me|what you know)|"
                     r"(delete|erase|wipe|remove|clear) (all (of )?)?(my (personal )?(data|information|info|history|details)|"
                     r"everything (you know |you have |you've saved )?(about|on) me)|erase me|/forget)\b", re.I)
_EXPORT = re.compile(r"\b(export (my|all my) (data|information|history)|download (my|all my) (data|information|history)|/export|"
                     r"(give|send) me (a copy of )?my data|(a|get a) copy of (my|all my) data|data export)\b", re.I)
_SHOW_DATA = re.compile(r"\b(what (do|did) you (know|remember|store|keep|have|save) (about|on) me|"
                        r"what (personal )?(data|information|info|details) (do|did) you (have|hold|keep|store|save)( (about|on|of) me|[\s?.!]*$)|"
                        r"what have you (saved|stored|remembered)|"
                        r"show (me )?(my|the) (data|preferences|prefs|profile|saved preferences)|"
                        r"my preferences|/prefs|what are my preferences|what(?:'s| is| are) my (?:saved )?(?:sizes?|budget)|"
                        r"what (?:size|budget) (?:did|have) i (?:tell|give|set|say|save)\w*)\b", re.I)
# what the shop carries as a whole: its brands or kinds of product
_CATALOG = re.compile(r"^\s*(?:so\s+|and\s+)?(?:what|which)\s+(?:brands?|makes?|labels?|categories|kinds of products?|types of products?|products?)"
                      r"\s+(?:do|does|can)\s+(?:you|the shop|your shop)\s+(?:have|carry|sell|stock|offer)\b"
                      r"|^\s*what\s+(?:do|does|can)\s+(?:you|the shop|your shop)\s+(?:sell|carry|stock|offer)\s*\??\s*$"
                      r"|\b(?:list|show)(?: me)? (?:all )?(?:your |the )?(?:brands|categories)\b"
                      r"|\bhow many (?:products|items|brands|kinds of products?)\b", re.I)
_YES = re.compile(r"^\s*(yes|yep|yeah|confirm|sure|ok|okay|do it|go ahead|please do|y)\b"
                  r"(?:[\s,!.]*(?:please|do it|go ahead|thanks|thank you|sure))*[\s!.]*$", re.I)
_NO = re.compile(r"^\s*(no|nope|cancel|never ?mind|stop|n)\b(?:[\s,!.]*(?:thanks|thank you|need|it's fine))*[\s!.]*$", re.I)
_COMPARE = re.compile(r"\b(compare|comparison|vs\.?|versus|difference between|which is better)\b", re.I)
_SIMILAR = re.compile(r"\b(similar to|like (this|that|it|the \w+ one)|more like|something like|alternatives? to)\b", re.I)
_RECOMMEND = re.compile(r"\b(recommend|suggest|suggestion|what (would|should|do) you (suggest|recommend|pick)|for me\b|pick for me|surprise me|best for me|what should i (buy|get))", re.I)
_DETAILS = re.compile(r"\b(tell me (more )?about|more (info|information|details) (on|about)|details( (of|on|about|for))?|show me (the )?(details|more about)|describe|what about the|open)\b", re.I)
_MORE = re.compile(r"^\s*(show (me )?more|more( results| options| please)?|next( page)?|any others?|other options|see more|load more|"
                   r"(is that|are these|are those|that's) all( you have| you've got)?|anything else|what else( do you have)?)"
                   r"\s*[?!.]*\s*$", re.I)
_QUESTION_START = re.compile(r"^\s*(is|are|does|do|can|will|would|could|how|what|which|has|have|should)\b", re.I)
_PRONOUN = re.compile(r"\b(it|its|this|that|this one|that one|they|them|these|those)\b", re.I)
_PLURAL = re.compile(r"\b(they|them|these|those|each of (these|them|those)|all of (these|them|those))\b", re.I)  # the whole list
_ASK_EACH = re.compile(r"\s*(?:and\s+)?(?:are|do|did|will|would|can)\s+(?:they|these|those|all of them|both)\b", re.I)
_FIELD_ONLY = re.compile(r"\s*(?:and|what about)?\s*(?:the\s+)?(?:prices?|costs?|weights?|stock|sizes|colou?rs)\s*\??\s*$", re.I)
_ONE_OF = re.compile(r"\b(it|its|this|that)\b", re.I)  # one product, not the whole list
_CHEAPER = re.compile(r"\b(cheaper|less expensive|lower price|more affordable|budget option|too expensive|too pricey)\b", re.I)
_PRICIER = re.compile(r"\b(more expensive|pricier|higher end|premium|better quality|fancier)\b", re.I)
_SORT = [
    ("price_asc", re.compile(r"\b(cheapest|lowest price|sort by price|price low to high|sorted by price)\b", re.I)),
    ("price_desc", re.compile(r"\b(most expensive|highest price|price high to low)\b", re.I)),
    ("rating", re.compile(r"\b(best rated|top rated|highest rated|sort by rating|by rating|best reviews?|most popular|best[- ]?sell(?:ing|ers?)|best ones?)\b", re.I)),
    ("weight_asc", re.compile(r"\b(lightest|least heavy|lowest weight|sort by weight|by weight|lighter|less heavy)\b", re.I)),
    ("weight_desc", re.compile(r"\b(heaviest|highest weight)\b", re.I)),
    ("warmth", re.compile(r"\b(warmest|sort by warmth|by warmth|sort by temperature|lowest temperature rating|warmer)\b", re.I)),
]
_COLD = re.compile(r"\b(winter|wintry|cold[- ](weather|nights?|conditions|temperatures|climates?)|freezing|sub-?zero|"
                   r"below (zero|freezing)|arctic|extreme cold)\b", re.I)
_COLD_WORDS = frozenset("winter wintry cold weather night nights conditions temperatures climate climates freezing "
                        "sub zero subzero below arctic extreme".split())
# a question about a field of the record, with no product named: about the one in view
_FIELD_QUESTION = re.compile(
    r"\b(how many (are |do you have )?(left|in stock|available)|how much (is|does|for)|what('s| is) the price|"
    r"(what|which) (colou?rs?|sizes?)|how heavy|how warm|what material|what('s| is) (it|this) made of|reviews?|"
    r"what do (customers|people|others) (say|think))\b", re.I)
_THIS = r"(?:it|this|that|this one|that one|them|these|the \w+ one|the \w+|number \d+|#?\d+)"
_BUY = re.compile(r"\b(add (?:" + _THIS + r" )?to (?:my |the )?(?:cart|basket|shopping bag|order)|i'?ll (?:take|buy|have) " + _THIS
                  + r"|i(?:'d| would) like to (?:buy|order|purchase) " + _THIS + r"|i (?:want|wanna) to (?:buy|order|purchase) "
                  + _THIS + r"|^(?:please )?(?:buy|order|purchase) " + _THIS + r"|can i (?:buy|order|purchase) " + _THIS
                  + r"(?: here| from you| now)?\s*\??\s*$)", re.I)
# "which is best for a family?", "what's the best one for backpacking?": rank the results by that need
_BEST_FOR = re.compile(r"^\s*(?:(?:which|what)(?:'s|\s+(?:one|ones|of (?:these|them|those)))?(?:\s+(?:is|are|would be|will be))?\s+)?"
                       r"(?:the\s+)?(?:best|better|good|ideal|great|suitable|right|most suitable)(?:\s+ones?)?\s+for\s+(.+?)[\s?!.]*$"
                       r"|^\s*(?:and\s+|so\s+)?what about (?:for|something for|one for|ones for)\s+(.+?)[\s?!.]*$", re.I)
_NOT_A_NEED = re.compile(r"^(?:me|myself|us|you|him|her|them|it|this|that)$", re.I)
_IN_STOCK = re.compile(r"\b(in stock|available now|only available|ships? (now|today)|available ones)\b", re.I)
_ONLY_BRAND = re.compile(r"\b(only|just)\b", re.I)
NEGATION = r"\b(?:not|no|without|except|exclude|excluding|don'?t (?:like|want)|do not (?:like|want)|hate|dislike|avoid|other than)\b[^.,;]*?"
_POLICY = re.compile(
    r"\b(return|returns|refund|exchange|ship|shipping|deliver|delivery|dispatch|arrive|arrives|arrival|track|tracking|payment|pay|paypal|"
    r"credit card|klarna|invoice|warranty|guarantee|repair|size guide|sizing chart|size chart|fit guide|order|orders|"
    r"cancel|account|password|login|log in|sign up|register|privacy|personal data|gdpr|cookies|newsletter|"
    r"discounts?|vouchers?|loyalty|rewards? (?:programme|program|points|card)|price match(?:ing)?|promos?|promo codes?|coupons?|promotions?|sales?|gift cards?|store hours|opening hours|contact|customs|duties|vat|tax|"
    r"physical (?:store|shop)|(?:store|shop) (?:locations?|address)|"
    r"policy|policies|my (shoe |clothing |boot )?size|what size|which size|sizing|overcharged|double[- ]charged|"
    r"(?:charged|billed)(?: me)? (?:twice|two times|too much|the wrong amount))\b", re.I)
# "is there a warranty on boots?", "can I return boots?": a store question, whatever product it names
_POLICY_ASKED = re.compile(r"\s*(?:is there|are there|do (?:you|i) get|can i|how (?:long|do i)|what(?:'s| is) the)\b.*"
                           r"\b(?:warranty|guarantee|return|refund|exchange)\b", re.I)
_HOW_TO = re.compile(
    r"^\s*(how (do|can|should|would) (i|we|you)|how to|how long|how much does (shipping|delivery|it cost to)|"
    r"can i (return|exchange|cancel|change|pay|track|get a refund)|do you (offer|ship|deliver|accept)|"
    r"what (is|are) your|what's your|where is my|when will (my|i)|(?:what|which) size(?: \w+){0,2} (?:should|do|would) (?:i|we))\b", re.I)
_YOUR_KIND = re.compile(r"\s*what(?:'s| is| are) your\b")  # "what's your warmest jacket?" asks for products
# something the user already bought: "a refund for my jacket", "my boots are leaking", "return my tent"
_COMPLAINT = (r"\b(?:broke|broken|faulty|defective|damaged|leaks?|leaking|ripped|torn|too (?:small|big|large|tight|"
              r"loose|short|long|narrow|wide)|(?:doesn't|don't|does not|do not) fit|wrong (?:size|colou?r|item))\b")
_AFTER_SALE = re.compile(r"\b(?:refund|return|send back|exchange|repair|warranty|guarantee|cancel|track)\b.*\bmy\b"
                         r"|\bmy\b.*(?:\b(?:arrived|came)\b|" + _COMPLAINT + ")"
                         r"|\b(?:bought|ordered|purchased|received|got)\b.*" + _COMPLAINT, re.I)
_SHOPPING = re.compile(r"\b(looking for|i need|i want|show me|find( me)?|search( for)?|do you (have|sell|carry)|any|buy|shopping for|recommend(ation)?s? for|"
                       r"what(?:'s| is| would be) good for|what do you have for|gear for)\b", re.I)
_SKU = re.compile(r"\b([A-Z]{2,}-[A-Z0-9]{1,}-?[A-Z0-9]*\d[A-Z0-9-]*)\b", re.I)


@dataclass
class Understanding:
    """The intent of a message and its slots."""

    intent: str
    text: str
    price: PriceRange | None = None
    colors: list[str] = field(default_factory=list)
    size: str | None = None
    brands: list[str] = field(default_factory=list)
    exclude_brands: list[str] = field(default_factory=list)
    exclude_colors: list[str] = field(default_factory=list)
    types: list[str] = field(default_factory=list)
    categories: list[str] = field(default_factory=list)
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
        return [
            w for w in tokens(self.text)
            if w not in _FILLER and w not in slot_words and not re.fullmatch(r"[\d.,/]+[a-z]{0,3}", w)
        ]


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


def understand(text: str, vocab: Vocabulary, *, has_results: bool, has_focus: bool, pending: str | None = None,
               has_search: bool = False) -> Understanding:
    """Classify one message and extract its slots (`has_search`: an earlier search, even one that found nothing)."""
    raw = text.strip()
    u = Understanding(intent="search", text=raw)
    if not raw or not any(ch.isalnum() for ch in raw):
        u.intent = "empty"
        return u
    if pending:
        if _YES.match(raw):
            u.intent = "confirm"
            return u
        if _NO.match(raw):
            u.intent = "cancel"
            return u
    _fill_slots(u, vocab)
    low = raw.lower()
    if _FORGET.search(low):
        u.intent = "forget"
    elif _EXPORT.search(low):
        u.intent = "export"
    elif _SHOW_DATA.search(low):
        u.intent = "show_data"
    elif forgotten := FORGET_PREF.search(low):
        u.intent = "preference"
        u.pref_kind = "forget:" + forgotten.group(2).rstrip("s").replace("colour", "color")
    elif _HELP.match(raw):
        u.intent = "help"
    elif _GREETING.match(raw):
        u.intent = "greeting"
    elif _THANKS.match(raw) and len(raw.split()) <= 6:
        u.intent = "thanks"
    elif _HUMAN.search(low):
        u.intent = "human"
    elif _CATALOG.search(raw):
        u.intent = "catalog"
    elif preference_kind(u, low):
        u.intent = "preference"
    elif _BUY.search(low) and not (u.colors or u.size or u.types or u.categories):
        u.intent = "buy"  # "add it to my cart", "I'll take the second one"
    elif _COMPARE.search(low):
        u.intent = "compare"
    elif _SIMILAR.search(low) and (has_focus or has_results or u.ordinals or u.skus):
        u.intent = "similar"
    elif _RECOMMEND.search(low) and not (u.types or u.categories) and not _POLICY.search(low):
        u.intent = "recommend"
    elif _MORE.match(raw):
        u.intent = "more"
    elif has_results and re.fullmatch(r"\s*(?:#|no\.?\s*|number\s*)?(\d{1,2})\s*[.!?]?\s*", raw):
        u.intent = "details"
        u.ordinals = [int(re.search(r"\d+", raw).group(0))]  # type: ignore[union-attr]
    elif u.skus and not _QUESTION_START.match(raw):
        u.intent = "details"
    elif _DETAILS.search(low) or (u.ordinals and len(tokens(raw)) <= 4 and not is_question(raw)):
        u.intent = "details"
    elif has_results and not has_focus and _ASK_EACH.match(raw) and u.flags and not _slots_besides_flags(u):
        u.intent, u.about_list = "product_question", True  # "are they polarized?": each listed one's answer
    elif has_results and not u.ordinals and _need(u, raw):
        u.intent = "refine"
    elif _is_product_question(u, raw, has_focus, has_results, named := vocab.names_attribute(raw)):
        u.intent = "product_question"
    elif has_results and not has_focus and is_question(raw) and not u.has_product_slots() and not _POLICY.search(low) \
            and (_PLURAL.search(low) or (named and not _SHOPPING.search(low)) or _FIELD_ONLY.match(raw)):
        u.intent, u.about_list = "product_question", True  # "do they ...?", "how long does the battery last?"
    elif (_POLICY.search(low) and (not (u.types or u.categories or u.brands) or _POLICY_ASKED.match(raw))) \
            or about_a_purchase(low) or (
            _HOW_TO.search(low) and not (_YOUR_KIND.match(low) and (u.types or u.categories or u.sort) and not _POLICY.search(low))):
        u.intent = "faq"
    elif (has_results or has_search) and _is_refinement(u, vocab):  # "not black" after "nothing matches"
        u.intent = "refine"
    elif u.has_product_slots() or _SHOPPING.search(low):
        u.intent = "search"
    elif _QUESTION_START.match(raw) or raw.endswith("?"):
        u.intent = "faq"  # a general question: the FAQ matcher decides, with its confidence
    else:
        u.intent = "search"  # retrieval confidence decides whether it is out of scope
    return u


def _slots_besides_flags(u: Understanding) -> bool:
    return bool(u.colors or u.size or u.size_options or u.brands or u.types or u.categories or u.price or u.sort)


def _fill_slots(u: Understanding, vocab: Vocabulary) -> None:
    text = u.text
    low = text.lower()
    u.price = parse_price(text)
    for color in vocab.find_colors(text):
        (u.exclude_colors if re.search(NEGATION + r"\b" + re.escape(color.lower()), low) else u.colors).append(color)
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
    if u.price and u.price.bare and not (u.types or u.categories or brands):
        u.price = None  # "the price is now 1$" names no product: not a budget
    u.flags = vocab.find_flags(text, u.types)
    gender = vocab.find_gender(text)
    if gender:
        u.flags["gender"] = gender
    if _IN_STOCK.search(low):
        u.in_stock = True
    for name, pattern in _SORT:
        if pattern.search(low):
            u.sort = name
            break
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


def says_goodbye(text: str) -> bool:
    """Whether the message ends the conversation ("ok thanks, bye", "that's all")."""
    return bool(re.search(rf"(?:^|[\s,!.]){CLOSING}", text.strip(), re.I))


def mentions_policy(text: str) -> bool:
    """Whether the text names a store policy topic (returns, shipping, payment, warranty, ...)."""
    return bool(_POLICY.search(text))


def is_question(raw: str) -> bool:
    """Whether the message is put as a question ("is ...", "does ...", or ending in "?")."""
    return bool(_QUESTION_START.match(raw)) or raw.rstrip().endswith("?")


def _is_product_question(u: Understanding, raw: str, has_focus: bool, has_results: bool = False,
                         names_attribute: bool = False) -> bool:
    if not is_question(raw):
        return False
    if u.skus:
        return True
    if _POLICY.search(raw) and not (has_focus and (u.pronoun or u.ordinals)):
        return False  # "how much does shipping cost?" is about the store, even with a product in view
    if not (u.pronoun or u.ordinals):  # "how many in stock?" about the product in view
        return (has_focus or has_results) and (bool(_FIELD_QUESTION.search(raw)) or (has_focus and names_attribute)) \
            and not (u.types or u.categories or u.brands)
    return has_focus or bool(u.ordinals) or (has_results and bool(_ONE_OF.search(raw)))


def _is_refinement(u: Understanding, vocab: Vocabulary) -> bool:
    if u.cheaper or u.pricier:
        return True
    if not (u.has_product_slots() or u.cold):
        return False
    if u.types or u.categories:
        return False  # naming a new kind of product starts a new search
    return not [w for w in u.content_words(vocab) if not (u.cold and w in _COLD_WORDS)]  # "for winter": warmest first

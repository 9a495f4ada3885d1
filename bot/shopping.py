"""Handlers for finding products: search, refine, show more, and relaxing a filter."""

from __future__ import annotations

import asyncio
import logging
import re
from dataclasses import replace

from bot.context import Reroute, Services, Turn, offer
from bot.filtering import (
    apply_preferences, describe_filters, filter_phrase, filters_from, relax_label, search_query, shown_query,
)
from bot.freshness import ages
from bot.nlu import Understanding, asks_for_products, is_question
from bot.i18n import N_, number
from bot.present import numbered_list, product_card, temperature_phrase
from bot.types import Button, Reply
from bot.variants import as_asked
from knowledge.filters import SearchFilters
from knowledge.schema import Product
from knowledge.specs import attribute_sort, attribute_value, weight_grams

log = logging.getLogger(__name__)

RESULT_POOL = 30
MIN_CONFIDENCE = 0.3
# "which is the cheapest?", "the lightest one please": one product asked for, so "it" is the first after sorting
_ONE = re.compile(r"\bwhich(?: one)? is\b|\bthe (?:\w+est|best[- ]rated|most \w+)(?: one)?\b", re.I)
_MANY = re.compile(r"\b(?:ones|them|these|those|sort|sorted|show|list|all|are)\b", re.I)


def results_reply(
    services: Services, turn: Turn, products: list[Product], intro: str, *, start: int = 1, notes: list[str] | None = None
) -> Reply:
    """A result list: intro, numbered lines (the text-only form) and one card per product."""
    note = ""
    if notes:
        note = "\n(" + "; ".join(notes) + ")"
    shown = as_asked(products, turn.state.filters)  # "in XL": that variant's price and stock
    text = f"{intro}{note}\n\n{numbered_list(shown, start, turn.lang, ages(services.kb, products, turn.lang))}"
    buttons: tuple[Button, ...] = ()
    if len(turn.state.results) > turn.state.offset + len(products):
        buttons = (Button(turn.t("Show more"), "more"),)
    turn.state.shown = [p.id for p in products]
    # "it" now means the one product listed, or nothing until the user picks one of several
    turn.state.focus = products[0].id if len(products) == 1 else None
    return Reply(text=text, products=tuple(product_card(p, lang=turn.lang) for p in shown), buttons=buttons,
                 intent=turn.intent, data={"intro": intro + note, "start": start})


def quoted(state) -> str:
    """What replies quote for the last search."""
    return state.label or state.query


async def run_search(
    services: Services, turn: Turn, query: str, filters: SearchFilters, sort: str, exclude: set[str] | None = None,
    within: set[str] | None = None, label: str | None = None, meaning: str | None = None,
) -> list[Product]:
    """Search off the event loop (leaving out `exclude`; only `within`, if any of it matches); remember the ranked pool.

    `meaning`: the request as the customer wrote it, which multilingual search reads in their language."""
    result = await asyncio.to_thread(services.search.search, query, filters, top_k=RESULT_POOL, sort=sort,
                                     lang=turn.lang, meaning=meaning)
    if exclude:
        result.hits = [h for h in result.hits if h.product.id not in exclude]
    if within and any(h.product.id in within for h in result.hits):
        result.hits = [h for h in result.hits if h.product.id in within]
    if label is not None or query != turn.state.query:
        turn.state.label = query if label is None else label
    turn.state.query = query
    turn.state.filters = filters.to_dict()
    turn.state.sort = sort
    # stable: exact code matches first, then what is in stock
    hits = sorted(result.hits, key=lambda h: (not h.exact, h.product.in_stock is False))
    turn.state.results = [h.product.id for h in hits]
    turn.state.offset = 0
    turn.results = len(result.hits)
    turn.search_confidence = result.confidence
    return [h.product for h in hits]


async def handle_search(services: Services, turn: Turn, u: Understanding) -> list[Reply]:
    """A new search: slots become filters, preferences apply unless overridden."""
    if u.brands and is_question(u.text):  # "is the Acme Upland waterproof?" is about that product
        named = services.names.named(u.text, u.brands)
        if named:
            return await _about_named(services, turn, u, named)
    query = search_query(u)
    if u.sort and not u.content_words(services.vocab) and not u.has_product_slots(sort=False):
        query = ""  # "give me your cheapest product": the whole catalog, in that order
    if u.gift and not query and not u.has_product_slots():  # "a present for my wife": for what?
        return [gift_question(services, turn)]
    filters = filters_from(u)
    filters, notes = apply_preferences(turn, filters, u, services)
    before = replace(turn.state)
    sort = u.sort or ("warmth" if u.cold else "relevance")
    label = shown_query(u, query)
    meaning = u.said if u.lang != "en" and query else None  # not the gloss: "一家四口" is no "one 家 four 口"
    products = await run_search(services, turn, query, filters, sort, label=label, meaning=meaning)
    if not products and u.guessed_category and filters.categories:
        # a category guessed from another language's words must not be what leaves the customer with nothing
        filters = filters.without("categories")
        products = await run_search(services, turn, query, filters, sort, label=label, meaning=meaning)
    if _cold_but_unrated(u, sort, products):
        turn.state.sort = "relevance"  # "for winter" among products with no temperature rating: nothing to sort by
    confidence = turn.search_confidence
    if products and not u.has_product_slots() and confidence < MIN_CONFIDENCE:
        turn.state = before  # not a product search: "show more" still pages the last real one
        if u.gift:  # "a gift for my dad who likes fishing", in a shop with nothing for fishing
            return [gift_question(services, turn, missing=label)]
        return await _not_a_product_search(services, turn, u)
    services.memory.record(turn.user, "searched", None, query or u.text)
    replies = await present_results(services, turn, products, label, filters, notes, u.text)
    _focus_the_one(turn, u, products)
    return replies


def _focus_the_one(turn: Turn, u: Understanding, products: list[Product]) -> None:
    """"what's the lightest sleeping bag?" asks for one product: the first of the sorted list is then "it"."""
    if u.sort and products and _ONE.search(u.text) and not _MANY.search(u.text):
        turn.state.focus = products[0].id


def gift_question(services: Services, turn: Turn, missing: str | None = None) -> Reply:
    """A gift with nothing said about what it should be (or only what the shop has nothing for): ask what they enjoy."""
    turn.answered = False
    shop = services.storefront
    if missing:
        turn.results = 0
        return Reply(text=turn.t("Sorry, I couldn't find anything for “{missing}” in our catalog: we sell {goods}. "
                                 "What else do they enjoy? For example: {examples}.", missing=missing,
                                 goods=shop.goods_in(turn.lang), examples=shop.searches_in(turn.lang)),
                     buttons=shop.examples[:2], intent=turn.intent)
    return Reply(text=turn.t("Happy to help you find a gift! What do they enjoy, or what did you have in mind? "
                             "For example: {examples}.", examples=shop.searches_in(turn.lang)),
                 buttons=shop.examples[:2], intent=turn.intent)


async def _about_named(services: Services, turn: Turn, u: Understanding, named: list[str]) -> list[Reply]:
    """A question about a product named by brand and model: the named ones are shown, and the product question
    handler answers about the one, or asks which."""
    turn.intent = "product_question"
    records = services.kb.store.get_products(named[: services.settings.results_per_page])
    products = [records[i] for i in named if i in records]
    turn.state.shown, turn.state.offset = [p.id for p in products], 0
    turn.state.focus = products[0].id if len(products) == 1 else None
    raise Reroute("product_question")


async def _not_a_product_search(services: Services, turn: Turn, u: Understanding) -> list[Reply]:
    hit = await asyncio.to_thread(services.faq.best, u.said, services.settings.faq_threshold, u.lang)
    if hit:
        turn.intent = "faq"
        raise Reroute("faq")
    if asks_for_products(u.text):  # "do you have Patagonia?": shopping, for something we don't carry
        raise Reroute("not_in_catalog")
    turn.results = 0
    raise Reroute("out_of_scope")


_ORDER_WORDS = {"price_asc": N_("cheapest first"), "price_desc": N_("most expensive first"),
                "rating": N_("best rated first"), "weight_asc": N_("lightest first"), "weight_desc": N_("heaviest first"),
                "warmth": N_("warmest first")}


_SORTED = {"price_asc": N_("Sorted by price, lowest first:"), "price_desc": N_("Sorted by price, highest first:"),
           "rating": N_("Sorted by rating, best first:")}


def _found_lead(turn: Turn, what: str, described: str, order: str | None) -> str:
    """"Here is what I found for “tents” (up to €200.00), cheapest first:"."""
    if described and order:
        return turn.t("Here is what I found for “{what}” ({filters}), {order}:", what=what, filters=described, order=order)
    if described:
        return turn.t("Here is what I found for “{what}” ({filters}):", what=what, filters=described)
    if order:
        return turn.t("Here is what I found for “{what}”, {order}:", what=what, order=order)
    return turn.t("Here is what I found for “{what}”:", what=what)


async def present_results(
    services: Services, turn: Turn, products: list[Product], query: str, filters: SearchFilters,
    notes: list[str], user_text: str, *, lead: str | None = None,
) -> list[Reply]:
    """Show the first page of results, or explain that nothing matched and offer to relax a filter."""
    if not products:
        return [no_results(turn, query, filters, notes, examples=services.storefront.searches_in(turn.lang),
                           currency=services.storefront.currency)]
    page = products[: services.settings.results_per_page]
    what = query or turn.t("products")
    described = describe_filters(filters, services.storefront.currency, turn.lang)
    order = turn.t(_ORDER_WORDS[turn.state.sort]) if turn.state.sort in _ORDER_WORDS else None
    if turn.state.sort == "warmth":
        rated = temperature_phrase(page[0], turn.lang)
        order = (turn.t("warmest first; {title} is rated to {rating}", title=page[0].title, rating=rated) if rated
                 else turn.t("in the usual order, as I don't have temperature ratings for these"))
    template = lead or _found_lead(turn, what, described, order)
    intro = template
    if turn.lang == "en":  # the model writes (and the check reads) English only: other languages get the template
        facts = f"{len(page)} products found for: {what}. {described}".strip()
        intro = await services.writer.sentence(user_text, facts, template, topic=what if query else "")
    if intro != template:
        intro = f"{intro}\n{template}"
    return [results_reply(services, turn, page, intro, notes=notes)]


def no_results(turn: Turn, query: str, filters: SearchFilters, notes: list[str] | None = None, *,
               examples: str = "", currency: str | None = None) -> Reply:
    """Nothing matched: say so, name the filters (prices in `currency`), offer to drop each (a typed "yes" drops
    the first)."""
    turn.results = 0  # the last shown list stays, so "the second one" still means what the user saw
    described = describe_filters(filters, currency, turn.lang)
    what = turn.t("“{query}”", query=query) if query else turn.t("that")
    if not described:
        text = (turn.t("Sorry, I couldn't find anything for {what} in our catalog. Try other words, or ask me for {examples}.",
                       what=what, examples=examples) if examples else
                turn.t("Sorry, I couldn't find anything for {what} in our catalog. Try other words.", what=what))
        return Reply(text=text, intent=turn.intent)
    active = [n for n in filters.active() if n not in ("types", "categories")] or filters.active()
    buttons = tuple(Button(relax_label(n, turn.lang), f"relax:{n}") for n in active[:4])
    text = turn.t("Sorry, nothing matches {what} ({filters}).", what=what, filters=described)
    if notes:
        text += turn.t(" I applied your saved preferences: {notes}.", notes="; ".join(notes))
    if active:
        text += turn.t(" Shall I drop {filter}?", filter=filter_phrase(active[0], turn.lang))
        turn.state.pending = offer(f"relax:{active[0]}")
    return Reply(text=text, buttons=buttons, intent=turn.intent)


async def handle_refine(services: Services, turn: Turn, u: Understanding) -> list[Reply]:
    """Change the last search: cheaper, another colour, a brand, a price limit, a sort order, a need."""
    state = turn.state
    if u.need:
        return await _best_for(services, turn, u)
    base = SearchFilters.from_dict(state.filters)
    filters = filters_from(u, base)
    shown = [p for p in services.kb.store.get_products(state.shown).values() if p.price is not None]
    lead = None
    exclude: set[str] = set()
    if (u.cheaper or u.pricier) and shown and not u.price:
        # relative to what the user saw: at most the cheapest (at least the dearest), those shown left out
        anchor = min(shown, key=lambda p: p.price) if u.cheaper else max(shown, key=lambda p: p.price)
        if u.cheaper:
            filters = replace(filters, max_price=anchor.price, min_price=None, target_price=None)
        else:
            filters = replace(filters, min_price=anchor.price, max_price=None, target_price=None)
        exclude = set(state.shown)
        price = turn.price(anchor.price, anchor.currency)
        lead = (turn.t("Cheaper than {title} ({price}), the cheapest I showed:", title=anchor.title, price=price)
                if u.cheaper else
                turn.t("Pricier than {title} ({price}), the dearest I showed:", title=anchor.title, price=price))
    filters, notes = apply_preferences(turn, filters, u, services)
    sort = u.sort or ("warmth" if u.cold else None) or state.sort or "relevance"
    before = replace(state)
    products = await run_search(services, turn, state.query, filters, sort, exclude=exclude)
    if not products and exclude:  # nothing cheaper (dearer) than what was shown: the shown search stays
        turn.state = before
        return [_already_extreme(turn, quoted(before), filters, anchor, u.cheaper)]
    if not lead and _cold_but_unrated(u, sort, products):
        turn.state.sort = sort = state.sort or "relevance"  # a cold-weather word, but nothing here is rated
    elif not lead and (u.sort or sort == "warmth"):
        lead = (turn.t(_SORTED[u.sort]) if u.sort in _SORTED else None) or _weight_lead(turn, u.sort, products) \
            or _attribute_lead(turn, u.sort, products) or _warmth_lead(turn, sort, products)
    replies = await present_results(services, turn, products, quoted(state), filters, notes, u.text, lead=lead)
    _focus_the_one(turn, u, products)
    return replies


async def _best_for(services: Services, turn: Turn, u: Understanding) -> list[Reply]:
    """"which is best for a family?": the last results, ranked by the last search words and the need."""
    state = turn.state
    need = search_query(replace(u, text=u.need or "", gift=False)) or (u.need or "")
    filters, notes = apply_preferences(turn, SearchFilters.from_dict(state.filters), u, services)
    query, label = state.query, quoted(state)
    products = await run_search(services, turn, f"{query} {need}".strip(), filters, "relevance",
                                within=set(state.results), label=label)
    state.query = query  # the next need replaces this one rather than adding to it
    lead = turn.t("Of the {what} I found, these match “{need}” best:", what=label or turn.t("products"), need=u.need)
    return await present_results(services, turn, products, label, filters, notes, u.text, lead=lead)


def _cold_but_unrated(u: Understanding, sort: str, products: list[Product]) -> bool:
    """A warmth order that only a cold-weather word asked for, over products with no temperature rating."""
    return sort == "warmth" and not u.sort and bool(products) and temperature_phrase(products[0]) is None


def _attribute_lead(turn: Turn, sort: str | None, products: list[Product]) -> str | None:
    """The lead of a list sorted by a record's number ("Sorted by lumens, highest first; X has 400:")."""
    parsed = attribute_sort(sort or "")
    if parsed is None or not products:
        return None
    keys, descending = parsed
    value = attribute_value(products[0].attributes, keys)
    if value is None:
        return turn.t("I don't have that figure for these, so they are in the usual order:")
    key = next(k for k in keys if attribute_value(products[0].attributes, [k]) is not None).replace("_", " ")
    shown = f"{value:g}" if turn.lang == "en" else number(turn.lang, value, "#,##0.###")
    if descending:
        return turn.t("Sorted by {key}, highest first; {title} has {value}:", key=key, title=products[0].title, value=shown)
    return turn.t("Sorted by {key}, lowest first; {title} has {value}:", key=key, title=products[0].title, value=shown)


def _weight_lead(turn: Turn, sort: str, products: list[Product]) -> str | None:
    """The lead of a list sorted by weight, naming the first product's weight from its record."""
    if sort not in ("weight_asc", "weight_desc") or not products:
        return None
    grams = weight_grams(products[0].attributes)
    if grams is None:
        return turn.t("I don't have weights for these, so they are in the usual order:")
    if turn.lang == "en":
        shown = f"{grams / 1000:.2f} kg" if grams >= 1000 else f"{grams:.0f} g"
    else:
        shown = f"{number(turn.lang, grams / 1000, '0.00')} kg" if grams >= 1000 else f"{number(turn.lang, grams, '0')} g"
    if sort == "weight_asc":
        return turn.t("Sorted by weight, lightest first; {title} weighs {weight}:", title=products[0].title, weight=shown)
    return turn.t("Sorted by weight, heaviest first; {title} weighs {weight}:", title=products[0].title, weight=shown)


def _warmth_lead(turn: Turn, sort: str, products: list[Product]) -> str | None:
    """The lead of a list sorted by warmth, naming the first product's temperature rating from its record."""
    if sort != "warmth" or not products:
        return None
    rated = temperature_phrase(products[0], turn.lang)
    if rated is None:
        return turn.t("I don't have temperature ratings for these, so they are in the usual order:")
    return turn.t("Sorted by warmth, warmest first; {title} is rated to {rating}:", title=products[0].title, rating=rated)


def _already_extreme(turn: Turn, query: str, filters: SearchFilters, anchor: Product, cheaper: bool) -> Reply:
    """"cheaper" when the cheapest shown is the cheapest there is: say so, and offer to drop another filter."""
    turn.results = 0
    others = [n for n in filters.active() if n not in ("price", "types", "categories")]
    described = describe_filters(filters.without("price"), anchor.currency, turn.lang)
    what = turn.t("“{query}”", query=query) if query else turn.t("this search")
    what += turn.t(" ({filters})", filters=described) if described else ""
    price = turn.price(anchor.price, anchor.currency)
    text = (turn.t("{title} ({price}) is already the cheapest match for {what}.", title=anchor.title, price=price, what=what)
            if cheaper else
            turn.t("{title} ({price}) is already the dearest match for {what}.", title=anchor.title, price=price, what=what))
    if others:
        text += turn.t(" Shall I drop {filter} to look further?", filter=filter_phrase(others[0], turn.lang))
        turn.state.pending = offer(f"relax:{others[0]}")
    return Reply(text=text, buttons=tuple(Button(relax_label(n, turn.lang), f"relax:{n}") for n in others[:4]),
                 intent=turn.intent)


async def handle_more(services: Services, turn: Turn, u: Understanding | None = None) -> list[Reply]:
    """The next page of the last results, with fresh records."""
    state = turn.state
    per_page = services.settings.results_per_page
    start = state.offset + per_page
    ids = state.results[start:start + per_page]
    if not ids:
        turn.results = 0
        return [Reply(text=turn.t("That's everything I found for that search. Try different words or fewer filters."),
                      intent=turn.intent)]
    records = services.kb.store.get_products(ids)
    products = [records[i] for i in ids if i in records]
    state.offset = start
    turn.results = len(products)
    intro = turn.t("More results for “{query}”:", query=quoted(state) or turn.t("your search"))
    return [results_reply(services, turn, products, intro, start=start + 1)]


async def handle_relax(services: Services, turn: Turn, name: str) -> list[Reply]:
    """Repeat the last search without one filter."""
    state = turn.state
    filters = SearchFilters.from_dict(state.filters)
    if name not in filters.active():
        return [Reply(text=turn.t("That filter is no longer active. Tell me what you are looking for."), intent=turn.intent)]
    filters = filters.without(name)
    products = await run_search(services, turn, state.query, filters, state.sort or "relevance")
    lead = turn.t("Without that filter, here is what I found for “{query}”:", query=quoted(state) or turn.t("your search"))
    return await present_results(services, turn, products, quoted(state), filters, [], state.query, lead=lead)

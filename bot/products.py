"""Handlers about particular products: details, questions, comparisons, similar items, saving."""

from __future__ import annotations

import asyncio
import re
from dataclasses import replace

from bot.context import Reroute, Services, Turn, ask, offer
from bot.shopping import present_results, run_search
from bot.freshness import ages, as_of
from bot.filtering import apply_preferences, filters_from, search_query
from bot.nlu import Understanding, mentions_policy, read_slots
from bot.understanding.references import pick_shown, quantity
from bot.i18n import N_, number, tr
from bot.present import comparison_text, details_text, product_card, rating_text
from bot.record_answers import answer_from_record
from bot.types import Button, Reply
from knowledge.schema import Product
from knowledge.text import plural_stem, tokens


class Unresolved(Exception):
    """A reference that points at nothing; the message says why, for the user."""


def resolve_refs(services: Services, turn: Turn, u: Understanding, *, allow_focus: bool = True, limit: int = 3) -> list[Product]:
    """Products the message refers to: ordinals, SKUs, names, or "it" (the focus)."""
    state = turn.state
    ids: list[str] = []
    for n in u.ordinals:
        if not state.shown:
            raise Unresolved(turn.t("I haven't shown you any products yet. Tell me what you're looking for."))
        index = len(state.shown) - 1 if n == -1 else n - 1
        paged = state.offset and state.shown == state.results[state.offset:state.offset + len(state.shown)]
        if paged and 1 <= n <= state.offset:  # a number from an earlier page of the same results
            ids.append(state.results[n - 1])
            continue
        if state.offset and state.offset < n <= state.offset + len(state.shown):
            index = n - state.offset - 1  # the number as displayed on a later page
        if not 0 <= index < len(state.shown):
            raise Unresolved(turn.tn("I only showed {n} product: pick a number from 1 to {n}.",
                                     "I only showed {n} products: pick a number from 1 to {n}.", len(state.shown)))
        ids.append(state.shown[index])
    if u.skus:
        found = services.kb.store.products_by_code(u.skus)
        if not found and not ids:
            raise Unresolved(turn.t("I couldn't find a product with the code {code}.", code=u.skus[0]))
        ids.extend(found)
    if not ids and state.shown:  # "the blue one", "the cheaper of the two", "both"
        records = services.kb.store.get_products(state.shown)
        order = u.sort or ("price_asc" if u.cheaper else "price_desc" if u.pricier else None)
        picked = pick_shown([records[i] for i in state.shown if i in records], colors=u.ref_colors + u.colors, brands=u.brands,
                            types=u.types, sort=order, how_many=quantity(u.text))
        ids.extend(p.id for p in picked)
        limit = max(limit, len(picked))
    if not ids:
        ids.extend(_by_name(services, turn, u.text, asked=_asked_about(services, u)))
    if not ids and u.brands:  # "the Acme Upland": a product named from anywhere in the catalog
        ids.extend(services.names.named(u.text, u.brands)[:limit])
    if not ids and allow_focus and state.focus:
        ids.append(state.focus)
    ids = list(dict.fromkeys(ids))[:limit]
    records = services.kb.store.get_products(ids)
    return [records[i] for i in ids if i in records]


def _asked_about(services: Services, u: Understanding) -> set[str]:
    """The words naming what is asked ("polarized", "fuel"): a title holding them is not named by them."""
    words = {w for flag in u.flags for w in tokens(flag.replace("_", " "))}
    return words | {w for w in tokens(u.text) if plural_stem(w) in services.vocab.attribute_words}


def _by_name(services: Services, turn: Turn, text: str, asked: set[str] = frozenset()) -> list[str]:
    words = set(tokens(text)) - asked
    if not words:
        return []
    shown = services.kb.store.get_products(turn.state.shown)
    scored = []
    for pid in turn.state.shown:
        product = shown.get(pid)
        if not product:
            continue
        title_words = set(tokens(product.title)) - {"men", "women", "s"}
        overlap = len(words & title_words)
        distinctive = words & (title_words - set(tokens(product.type or "")) - set(tokens(product.category or "")))
        if distinctive and overlap >= 1:
            scored.append((len(distinctive), overlap, pid))
    scored.sort(reverse=True)
    if scored and (len(scored) == 1 or scored[0][:2] > scored[1][:2]):
        return [scored[0][2]]
    return []


def _details_reply(services: Services, turn: Turn, product: Product) -> Reply:
    turn.state.focus = product.id
    card = product_card(product, lang=turn.lang)
    return Reply(text=details_text(product, turn.lang, as_of(services.kb, product.id, turn.lang)), products=(card,), intent=turn.intent,
                 buttons=(Button(turn.t("More like this"), f"m:{product.id}"), Button(turn.t("♥ Save"), f"s:{product.id}")),
                 image=product.image)


async def handle_details(services: Services, turn: Turn, u: Understanding) -> list[Reply]:
    """Everything about one product."""
    try:
        products = resolve_refs(services, turn, u, limit=1)
    except Unresolved as exc:
        turn.answered = False
        return [Reply(text=str(exc), intent=turn.intent)]
    if not products and not turn.state.shown and (u.types or u.categories or u.brands or u.colors or u.ref_colors):
        return await which_of_kind(services, turn, u, "")
    if not products:
        turn.answered = False
        return [Reply(text=turn.t("Which product do you mean? Say “the second one”, or give me its name or SKU."),
                      intent=turn.intent)]
    services.memory.record(turn.user, "viewed", products[0].id)
    return [_details_reply(services, turn, products[0])]


async def show_product(services: Services, turn: Turn, product_id: str, kind: str = "clicked") -> list[Reply]:
    """Details for a product picked by id (a button press)."""
    product = services.kb.store.get_product(product_id)
    if product is None:
        turn.answered = False
        return [Reply(text=turn.t("Sorry, that product is no longer in our catalog. Ask me to search again."), intent=turn.intent)]
    services.memory.record(turn.user, kind, product.id)
    return [_details_reply(services, turn, product)]


async def handle_product_question(services: Services, turn: Turn, u: Understanding) -> list[Reply]:
    """A question about one product, answered from its record first, then its documents."""
    try:
        products = resolve_refs(services, turn, u, limit=1)
    except Unresolved as exc:
        turn.answered = False
        return [Reply(text=str(exc), intent=turn.intent)]
    if not products:
        products = only_shown(services, turn)
    if not products and u.about_list and len(turn.state.shown) > 1:
        return await answer_about_list(services, turn, u)
    if not products:
        return await which_of_kind(services, turn, u)
    return await answer_about(services, turn, products[0], u)


async def answer_about_list(services: Services, turn: Turn, u: Understanding) -> list[Reply]:
    """A question about every listed product ("do they have good grip?"): each one's answer from its record or documents."""
    shown = services.kb.store.get_products(turn.state.shown)
    lines, answered = [], []
    for n, pid in enumerate(turn.state.shown, start=turn.state.offset + 1):
        if pid not in shown:
            continue
        answer = answer_from_record(shown[pid], u, turn.lang)
        if not answer:
            good = await asyncio.to_thread(services.evidence.answers, pid, u.said, 1)
            answer = f"{shown[pid].title}: “{good[0].text}”" if good else None
        if answer:
            lines.append(f"{n}. {answer}")
            answered.append(shown[pid])
    if not lines:
        turn.answered = False
        turn.state.pending = offer("human")
        return [Reply(text=turn.t("I couldn't find that in the information we have on these products. "
                                  "Would you like me to ask a person?"),
                      buttons=(Button(turn.t("Talk to a person"), "human"),), intent=turn.intent)]
    return [Reply(text=turn.t("Here is what we have on that:") + "\n" + "\n".join(lines),
                  products=tuple(product_card(p, lang=turn.lang) for p in answered), intent=turn.intent)]


def only_shown(services: Services, turn: Turn) -> list[Product]:
    """The one product listed, when exactly one is: what a question naming none is about."""
    if len(turn.state.shown) != 1:
        return []
    return list(services.kb.store.get_products(turn.state.shown).values())


async def which_of_kind(services: Services, turn: Turn, u: Understanding, question: str | None = None) -> list[Reply]:
    """Nothing shown yet, but the message names a kind, brand or colour ("how much is the black coat?"):
    show the catalog's matches and ask which one, keeping the question for the answer."""
    if not turn.state.shown and (u.types or u.categories or u.brands or u.colors or u.ref_colors):
        seen = replace(u, colors=u.colors or u.ref_colors)  # "the black coat": black is what to look among
        found = await run_search(services, turn, search_query(seen), filters_from(seen), u.sort or "relevance")
        turn.state.shown = [p.id for p in found[:5]]
        if len(found) == 1 and question is None:  # the catalog has one such product: it is the one meant
            return await answer_about(services, turn, found[0], u)
    return which_one(services, turn, question or u.text)


def which_one(services: Services, turn: Turn, question: str) -> list[Reply]:
    """Ask which of the shown products a question is about, keeping the question for the answer."""
    turn.answered = False
    shown = services.kb.store.get_products(turn.state.shown)
    products = [shown[pid] for pid in turn.state.shown if pid in shown]
    if not products:
        return [Reply(text=turn.t("Which product do you mean? Tell me its name, or search for it first."), intent=turn.intent)]
    turn.state.pending = ask(question)
    first = turn.state.offset + 1
    listing = "\n".join(f"{first + i}. {p.title}" for i, p in enumerate(products))
    return [Reply(text=turn.t("Which one do you mean? Say its number, or tap it:\n{listing}", listing=listing),
                  buttons=tuple(Button(f"{first + i}. {p.title}", f"a:{p.id}") for i, p in enumerate(products)),
                  intent=turn.intent)]


async def answer_pending(services: Services, turn: Turn, u: Understanding, question: str) -> list[Reply]:
    """The kept question answered about the product the user picked by number."""
    try:
        products = resolve_refs(services, turn, u, allow_focus=False, limit=1)
    except Unresolved as exc:
        turn.state.pending = ask(question)  # still waiting for a valid pick
        turn.answered = False
        return [Reply(text=str(exc), intent=turn.intent)]
    if not products:
        return which_one(services, turn, question)
    return await answer_pending_for(services, turn, products[0].id, question)


async def answer_pending_for(services: Services, turn: Turn, product_id: str, question: str | None) -> list[Reply]:
    """A pick from "which one do you mean?": the kept question answered about it, else its details."""
    if not question:
        turn.intent = "details"
        return await show_product(services, turn, product_id)
    product = services.kb.store.get_product(product_id)
    if product is None:
        turn.answered = False
        return [Reply(text=turn.t("Sorry, that product is no longer in our catalog. Tell me what you're looking for."),
                      intent=turn.intent)]
    turn.intent = "product_question"
    u = read_slots(question, services.vocab)
    return await answer_about(services, turn, product, u)


async def answer_about(services: Services, turn: Turn, product: Product, u: Understanding) -> list[Reply]:
    """Answer a question about one product: its record first, then its documents."""
    turn.state.focus = product.id
    services.memory.record(turn.user, "asked", product.id, u.text)
    if _ASKS_REVIEWS.search(u.text):
        return [Reply(text=await _reviews_answer(services, turn, product, u.text),
                      products=(product_card(product, lang=turn.lang),), intent=turn.intent)]
    answer = answer_from_record(product, u, turn.lang, as_of=as_of(services.kb, product.id, turn.lang))
    if answer:
        return [Reply(text=answer, products=(product_card(product, lang=turn.lang),), intent=turn.intent)]
    good = await asyncio.to_thread(services.evidence.answers, product.id, u.said, 2)
    if not good:
        if mentions_policy(u.text):  # "can I return it?" is answered by the store's policy, not the product's documents
            turn.intent = "faq"
            raise Reroute("faq")
        turn.answered = False
        turn.state.pending = offer("human")
        return [Reply(
            text=turn.t("I couldn't find that in the information we have on {title}. Would you like me to ask a person?",
                        title=product.title),
            buttons=(Button(turn.t("Talk to a person"), "human"),), intent=turn.intent)]
    lines = [turn.t("Here is what we have on {title}:", title=product.title)]
    for e in good:
        label = turn.t(_SOURCES[e.source]) if e.source in _SOURCES else e.source
        lines.append(turn.t("• From {source}: “{text}”", source=label, text=e.text))
    return [Reply(text="\n".join(lines), products=(product_card(product, lang=turn.lang),), intent=turn.intent)]


_SOURCES = {"review": N_("a customer review"), "qa": N_("customer Q&A"), "spec": N_("the spec sheet"),
            "description": N_("the product description")}


_ASKS_REVIEWS = re.compile(r"\b(reviews?|reviewers?|what (?:do|did) (?:customers|people|others|buyers|users|owners) (?:say|think|write)|"
                           r"what (?:are|is) (?:people|customers|everyone) saying|customer (?:feedback|opinions?)|testimonials?)\b", re.I)


async def _reviews_answer(services: Services, turn: Turn, product: Product, question: str) -> str:
    """What customers wrote about the product, quoted as stored (the three most about the question), with its rating."""
    ranked = await asyncio.to_thread(services.evidence.rank, product.id, question, 20, include_description=False)
    reviews = [e for e in ranked if e.source == "review"][:3]
    rated = (turn.t("{title} is rated {rating}.", title=product.title, rating=rating_text(product.rating, turn.lang))
             if product.rating is not None else "")
    if not reviews:
        none = turn.t("I don't have any customer reviews of {title}.", title=product.title)
        return none + (f" {rated}" if rated else "")
    quotes = "\n".join(f"• “{e.text}”" for e in reviews)
    head = (f"{rated} " + turn.t("What customers wrote:") if rated
            else turn.t("What customers wrote about {title}:", title=product.title))
    return f"{head}\n{quotes}"


async def handle_compare(services: Services, turn: Turn, u: Understanding) -> list[Reply]:
    """A side-by-side of two or three products."""
    if (u.types or u.categories) and not (u.ordinals or u.skus or u.brands or u.pronoun or _by_name(services, turn, u.text)):
        return await _compare_kind(services, turn, u)  # a kind named, no product picked out
    shown = turn.state.shown
    if not u.ordinals and shown:
        bare = [int(n) for n in re.findall(r"\b(\d{1,2})\b", u.text)]
        u.ordinals = [n for n in bare if n >= 1]  # out of range: resolve_refs says which numbers exist
    try:
        products = resolve_refs(services, turn, u, allow_focus=False)
    except Unresolved as exc:
        turn.answered = False
        return [Reply(text=str(exc), intent=turn.intent)]
    if len(products) < 2 and shown:
        # "compare them" takes up to three shown items; otherwise fill up to a pair
        want = 3 if (u.pronoun and not products) else 2
        records = services.kb.store.get_products(shown[:3])
        chosen = {p.id for p in products}
        products += [records[i] for i in shown[:3] if i in records and i not in chosen]
        products = products[:want]
    if len(products) < 2:
        turn.answered = False
        return [Reply(text=turn.t("Tell me which products to compare, e.g. “compare the first and the third”. "
                                  "Search for something first."), intent=turn.intent)]
    return _comparison(services, turn, products[:3])


def _comparison(services: Services, turn: Turn, products: list[Product]) -> list[Reply]:
    """The side-by-side reply; the compared products become the ones shown."""
    for p in products:
        services.memory.record(turn.user, "viewed", p.id)
    turn.state.shown = [p.id for p in products]
    return [Reply(text=comparison_text(products, turn.lang, ages(services.kb, products, turn.lang)),
                  products=tuple(product_card(p, lang=turn.lang) for p in products), intent=turn.intent)]


_COMPARE_FRAME = re.compile(r"\b(compare|comparison|versus|vs\.?|(the )?difference between|which is better|both|top|two|three|2|3)\b",
                            re.I)


async def _compare_kind(services: Services, turn: Turn, u: Understanding) -> list[Reply]:
    """"compare the two cheapest backpacks": search that kind, sorted as asked, and compare the first two or three."""
    count = re.search(r"\b(three|3)\b", u.text, re.I)
    query = search_query(replace(u, text=_COMPARE_FRAME.sub(" ", u.text)))
    filters, notes = apply_preferences(turn, filters_from(u), u, services)
    products = await run_search(services, turn, query, filters, u.sort or "relevance")
    if len(products) < 2:
        return await present_results(services, turn, products, query, filters, notes, u.text)
    return _comparison(services, turn, products[:3 if count else 2])


async def handle_save(services: Services, turn: Turn, product_id: str) -> list[Reply]:
    """Remember that the user likes a product."""
    product = services.kb.store.get_product(product_id)
    if product is None:
        turn.answered = False
        return [Reply(text=turn.t("Sorry, I can't find that product any more."), intent=turn.intent)]
    services.memory.record(turn.user, "liked", product.id)
    turn.state.focus = product.id
    return [Reply(text=turn.t("Saved {title} to your favourites. I'll use it for recommendations.", title=product.title),
                  buttons=(Button(turn.t("More like this"), f"m:{product.id}"),), intent=turn.intent)]

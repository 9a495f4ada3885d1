"""Handlers for talk around shopping: greeting, help, FAQ, recommendations, preferences, data rights."""

from __future__ import annotations

import asyncio
import json

from bot.context import Reroute, Services, Turn, offer
from bot.filtering import apply_preferences, filters_from
from bot.handoff import TEXTS as handoff_texts
from bot.i18n import N_, joined
from bot.memory import Memory
from bot.nlu import Understanding, about_a_purchase
from bot.products import Unresolved, resolve_refs
from bot.shopping import results_reply
from bot.storefront import MAX_ACTION_BYTES, MAX_LABEL_CHARS
from bot.types import Button, Reply
from knowledge import order_privacy
from knowledge.faq import FaqHit
from knowledge.filters import SearchFilters

FAQ_UNSURE = 0.35
# a stored preference's key → its name in "show my data"
PREFERENCE_NAMES = {"shoe_size": N_("shoe size"), "clothing_size": N_("clothing size"), "budget": N_("budget"),
                    "liked_brands": N_("liked brands"), "disliked_brands": N_("disliked brands"),
                    "liked_colors": N_("liked colors"), "disliked_colors": N_("disliked colors")}
# what "forget my ..." names → (done, nothing stored)
_FORGOTTEN = {
    "size": (N_("Done, I've forgotten your size."), N_("I didn't have a size stored for you.")),
    "budget": (N_("Done, I've forgotten your budget."), N_("I didn't have a budget stored for you.")),
    "brand": (N_("Done, I've forgotten your brand."), N_("I didn't have a brand stored for you.")),
    "color": (N_("Done, I've forgotten your colour."), N_("I didn't have a colour stored for you.")),
}


def person_button(turn: Turn) -> Button:
    """The button that hands the conversation to a person."""
    return Button(turn.t("Talk to a person"), "human")


def greeting(services: Services, turn: Turn, u: Understanding | None = None) -> list[Reply]:
    """Hello, and what the assistant can do."""
    shop = services.storefront
    help_text = shop.capabilities_in(turn.lang)
    text = (turn.t("Hello, {name}! I'm the shop's assistant. {help}", name=turn.msg.user_name, help=help_text)
            if turn.msg.user_name else turn.t("Hello! I'm the shop's assistant. {help}", help=help_text))
    return [Reply(text=text, buttons=shop.examples, intent=turn.intent)]


def help_reply(services: Services, turn: Turn, u: Understanding | None = None) -> list[Reply]:
    """What the assistant can do."""
    return [Reply(text=services.storefront.capabilities_in(turn.lang), buttons=services.storefront.examples,
                  intent=turn.intent)]


def empty_reply(services: Services, turn: Turn, u: Understanding | None = None) -> list[Reply]:
    """A short prompt for an empty message."""
    turn.answered = False
    shop = services.storefront
    return [Reply(text=turn.t("Tell me what you're looking for, e.g. “{example}”, or ask about returns or "
                              "shipping. Type “help” to see everything I can do.", example=shop.search_example_in(turn.lang)),
                  buttons=shop.examples, intent=turn.intent)]


def thanks(services: Services, turn: Turn, u: Understanding | None = None) -> list[Reply]:
    """You're welcome, or goodbye when the message ends the conversation."""
    if u is not None and u.goodbye:
        return [Reply(text=turn.t("Thanks for stopping by, and goodbye! I'm here whenever you need something."),
                      intent=turn.intent)]
    return [Reply(text=turn.t("You're welcome! Anything else I can find for you?"), intent=turn.intent)]


def human(services: Services, turn: Turn, u: Understanding | None = None) -> list[Reply]:
    """Hand the conversation to a person (asked for, or "yes" to the offer of one)."""
    if services.handoffs is not None:
        asked = (u is not None and u.intent == "human") or (turn.msg.action == "human" and not turn.text)
        return services.handoffs.start(services, turn, "asked" if asked else "offer",
                                       None if asked else services.handoffs.last_question(services, turn))
    services.memory.record(turn.user, "handoff", None, turn.text)
    return [Reply(text=turn.t("I've asked a member of our team to take over. A person will reply here as soon as possible "
                              "(usually within one business day). Meanwhile I'm happy to keep helping."), intent=turn.intent)]


def out_of_scope(services: Services, turn: Turn, u: Understanding | None = None) -> list[Reply]:
    """Politely decline what the shop can't help with."""
    turn.intent = "out_of_scope"
    turn.answered = False
    shop = services.storefront
    return [Reply(text=shop.out_of_scope_in(turn.lang), buttons=(*shop.examples[:2], person_button(turn)),
                  intent=turn.intent)]


def catalog_overview(services: Services, turn: Turn, u: Understanding | None = None) -> list[Reply]:
    """What the shop carries: its kinds of product and brands, from the catalog."""
    vocab = services.vocab
    kinds = sorted(vocab.categories, key=str.lower)
    brands = sorted(vocab.brands, key=str.lower)
    if not kinds and not brands:
        turn.answered = False
        return [Reply(text=turn.t("Our catalog is empty at the moment, so there is nothing I can show yet."),
                      intent=turn.intent)]
    lines = []
    if kinds:
        lines.append(turn.tn("We sell {n} kind of product: {kinds}.", "We sell {n} kinds of product: {kinds}.", len(kinds),
                             kinds=", ".join(kinds)))
    if brands:
        lines.append(turn.t("Our brands ({n}): {brands}.", n=len(brands), brands=", ".join(brands)))
    lines.append(turn.t("Name one to see what we have, e.g. “{example}”.",
                        example=services.storefront.search_example_in(turn.lang)))
    buttons = tuple(Button(k[:1].upper() + k[1:], f"q:{k}") for k in kinds
                    if len(k) <= MAX_LABEL_CHARS and len(f"q:{k}".encode()) <= MAX_ACTION_BYTES)[:6]
    return [Reply(text="\n".join(lines), buttons=buttons, intent=turn.intent)]


def not_in_catalog(services: Services, turn: Turn, u: Understanding) -> list[Reply]:
    """A request for something the catalog does not have: say so, and what the shop does carry."""
    turn.intent = "search"
    turn.answered = False
    turn.results = 0
    brands = sorted(services.vocab.brands, key=str.lower)
    goods = services.storefront.goods_in(turn.lang)
    text = (turn.t("Sorry, I couldn't find that in our catalog. We sell {goods}, from brands such as {brands}. "
                   "What else can I look for?", goods=goods, brands=", ".join(brands[:6])) if brands else
            turn.t("Sorry, I couldn't find that in our catalog. We sell {goods}. What else can I look for?", goods=goods))
    return [Reply(text=text, buttons=(*services.storefront.examples[:2], person_button(turn)), intent=turn.intent)]


async def handle_faq(services: Services, turn: Turn, u: Understanding) -> list[Reply]:
    """A store question: the stored answer when sure, else say so and offer a person."""
    hits = await asyncio.to_thread(services.faq.rank, u.said, 3, u.lang)
    threshold, margin = services.settings.faq_threshold, services.settings.faq_margin
    tied = [h for h in hits[1:2] if hits[0].score - h.score < margin]  # as likely as the best: unsure
    if hits and hits[0].score >= threshold:
        services.memory.record(turn.user, "asked", None, u.text)
        if tied:
            return _tied_faqs(turn, [hits[0], *tied])
        faq = hits[0].faq
        return [Reply(text=f"{faq.answer}", intent=turn.intent, data={"faq_id": faq.id, "question": faq.question})]
    if u.has_product_slots() and not u.text.rstrip().endswith("?") and not about_a_purchase(u.text):
        turn.intent = "search"
        raise Reroute("search")
    turn.answered = False
    if tied and hits[0].score >= FAQ_UNSURE:
        return _tied_faqs(turn, [hits[0], *tied])
    if hits and hits[0].score >= FAQ_UNSURE:
        faq = hits[0].faq
        turn.state.pending = offer("human")
        return [Reply(text=turn.t("I'm not sure I understood. The closest answer I have is about “{question}”:\n{answer}\n\n"
                                  "If that doesn't answer it, I can ask a person.", question=faq.question, answer=faq.answer),
                      buttons=(person_button(turn),), intent=turn.intent,
                      data={"faq_id": faq.id, "question": faq.question, "unsure": True})]
    turn.state.pending = offer("human")
    return [Reply(text=turn.t("I'm not sure about that one, and I don't want to guess. Would you like me to ask a person?"),
                  buttons=(person_button(turn),), intent=turn.intent)]


def _tied_faqs(turn: Turn, shown: list[FaqHit]) -> list[Reply]:
    """Two entries match equally well: show both stored answers and offer a person."""
    turn.answered = False
    turn.state.pending = offer("human")
    answers = "\n\n".join(f"“{h.faq.question}”\n{h.faq.answer}" for h in shown)
    return [Reply(text=turn.t("I'm not sure which of these you mean, so here are both:\n\n{answers}\n\n"
                              "If neither answers it, I can ask a person.", answers=answers),
                  buttons=(person_button(turn),), intent=turn.intent,
                  data={"faq_id": shown[0].faq.id, "question": shown[0].faq.question, "unsure": True,
                        "faq_ids": [h.faq.id for h in shown]})]


async def handle_recommend(services: Services, turn: Turn, u: Understanding) -> list[Reply]:
    """Suggestions from the user's profile, or the best rated items for a new user."""
    filters, notes = apply_preferences(turn, filters_from(u), u, services)
    liked = turn.prefs.get("liked_brands")
    rec = await asyncio.to_thread(services.recommender.recommend, turn.user, filters, services.settings.results_per_page,
                                  liked.value if liked else None)
    return _recommendation_reply(services, turn, rec.products, rec.personalised, notes, filters, basis=rec.basis)


async def handle_bought_with(services: Services, turn: Turn, u: Understanding | None) -> list[Reply]:
    """What other customers ordered together with a given product (from the order history)."""
    try:
        refs = resolve_refs(services, turn, u, limit=1)  # type: ignore[arg-type]
    except Unresolved as exc:
        turn.answered = False
        return [Reply(text=str(exc), intent=turn.intent)]
    anchor = refs[0] if refs else None
    if anchor is None:
        turn.answered = False
        return [Reply(text=turn.t("Bought with which product? Pick one of the results, or name it."), intent=turn.intent)]
    services.memory.record(turn.user, "clicked", anchor.id)
    pairs = await asyncio.to_thread(services.recommender.bought_with, anchor.id, services.settings.results_per_page)
    if not pairs:
        turn.answered = False
        return [Reply(text=turn.t("I don't have enough orders yet to say what people buy with {title}.", title=anchor.title),
                      intent=turn.intent, data={"anchor": anchor.id})]
    turn.state.query = turn.state.label = anchor.title
    return _recommendation_reply(services, turn, [p for p, _ in pairs], True, [], SearchFilters(),
                                 anchor=anchor.title, basis="bought_with")


async def handle_similar(services: Services, turn: Turn, u: Understanding | None, product_id: str | None = None) -> list[Reply]:
    """Products like a given one."""
    if product_id is None:
        try:
            refs = resolve_refs(services, turn, u, limit=1)  # type: ignore[arg-type]
        except Unresolved as exc:
            turn.answered = False
            return [Reply(text=str(exc), intent=turn.intent)]
        anchor = refs[0] if refs else None
    else:
        anchor = services.kb.store.get_product(product_id)
    if anchor is None:
        turn.answered = False
        return [Reply(text=turn.t("Similar to which product? Pick one of the results, or name it."), intent=turn.intent)]
    services.memory.record(turn.user, "clicked", anchor.id)
    base = SearchFilters(categories=(anchor.category,)) if anchor.category else SearchFilters()
    filters, notes = apply_preferences(turn, base, u, services)
    rec = await asyncio.to_thread(services.recommender.recommend, turn.user, filters,
                                  services.settings.results_per_page, None, anchor)
    turn.state.query = turn.state.label = anchor.title
    return _recommendation_reply(services, turn, rec.products, True, notes, filters, anchor=anchor.title)


def _recommendation_reply(services, turn, products, personalised, notes, filters, anchor: str | None = None,
                          basis: str = "profile") -> list[Reply]:
    turn.results = len(products)
    if not products:
        turn.answered = False
        return [Reply(text=turn.t("I couldn't find anything to suggest with your current preferences. Tell me what you need."),
                      intent=turn.intent)]
    turn.state.results = [p.id for p in products]
    turn.state.offset = 0
    turn.state.filters = filters.to_dict()
    if anchor and basis == "bought_with":
        intro = turn.t("People who bought {title} also bought:", title=anchor)
    elif anchor:
        intro = turn.t("Similar to {title}:", title=anchor)
    elif basis == "orders":
        intro = turn.t("Based on your orders and what you've looked at, you might like:")
    elif basis == "popular":
        intro = turn.t("I don't know your taste yet, so here is what's popular this month:")
    elif personalised:
        intro = turn.t("Based on what you've looked at and liked, you might like:")
    else:
        intro = turn.t("Our best rated picks:")
    return [results_reply(services, turn, products, intro, notes=notes)]


async def handle_preference(services: Services, turn: Turn, u: Understanding) -> list[Reply]:
    """Store a stated preference, with the words it came from."""
    kind = u.pref_kind or ""
    memory = services.memory
    source = turn.t("you said: “{text}”", text=u.text[:120])
    if kind.startswith("forget:"):
        what = kind.split(":", 1)[1]
        keys = {"size": ["shoe_size", "clothing_size"], "budget": ["budget"], "brand": ["disliked_brands", "liked_brands"],
                "color": ["liked_colors", "disliked_colors"]}.get(what, [])
        removed = [k for k in keys if memory.remove_preference(turn.user, k)]
        turn.prefs = memory.preferences(turn.user)
        done, none = _FORGOTTEN.get(what, (N_("Done, I've forgotten that."), N_("I didn't have that stored for you.")))
        return [Reply(text=turn.t(done if removed else none), intent=turn.intent)]
    if kind == "size" and u.size:
        key = "shoe_size" if u.size.replace(".", "").isdigit() else "clothing_size"
        memory.set_preference(turn.user, key, u.size, source)
        text = (turn.t("Got it: size {size}. I'll show footwear in your size from now on (just name another size to override).",
                       size=u.size) if key == "shoe_size" else
                turn.t("Got it: size {size}. I'll show clothing and jackets in your size from now on (just name another size "
                       "to override).", size=u.size))
    elif kind == "budget" and u.price and u.price.max is not None:
        memory.set_preference(turn.user, "budget", u.price.max, source)
        budget = turn.price(u.price.max, services.storefront.currency)
        text = turn.t("Noted: a budget of {budget}. I'll keep suggestions within it unless you ask otherwise.", budget=budget)
    elif kind == "dislike_brand" and u.exclude_brands:
        _add_to_list(memory, turn.user, "disliked_brands", u.exclude_brands, source)
        text = turn.t("Understood, I'll leave out {brands} from now on.", brands=", ".join(u.exclude_brands))
    elif kind == "dislike_color" and u.exclude_colors:
        _add_to_list(memory, turn.user, "disliked_colors", u.exclude_colors, source)
        _remove_from_list(memory, turn.user, "liked_colors", u.exclude_colors, source)  # no longer liked
        text = turn.t("Understood, I'll leave out products that only come in {colours} from now on "
                      "(ask for a colour by name to see it anyway, or say “forget my colour”).",
                      colours=joined(turn.lang, u.exclude_colors, "or"))
    elif kind == "like":
        parts = []
        if u.brands:
            _add_to_list(memory, turn.user, "liked_brands", u.brands, source)
            parts.append(", ".join(u.brands))
        if u.colors:
            memory.set_preference(turn.user, "liked_colors", u.colors, source)
            _remove_from_list(memory, turn.user, "disliked_colors", u.colors, source)  # liked now
            parts.append(", ".join(u.colors))
        text = turn.t("Nice, I'll keep {liked} in mind for suggestions.", liked=joined(turn.lang, parts, "and"))
    else:
        turn.answered = False
        text = turn.t("I didn't catch that preference. Try “I wear size 42”, “my budget is 80” or “I don't like <brand>”.")
    turn.prefs = memory.preferences(turn.user)
    return [Reply(text=text, intent=turn.intent)]


def _add_to_list(memory: Memory, user: str, key: str, values: list[str], source: str) -> None:
    """Add values to a list preference, keeping its order and leaving out repeats."""
    current = memory.preferences(user).get(key)
    memory.set_preference(user, key, list(dict.fromkeys([*(current.value if current else []), *values])), source)


def _remove_from_list(memory: Memory, user: str, key: str, values: list[str], source: str) -> None:
    """Take values out of a list preference that holds any of them; an emptied preference is removed."""
    current = memory.preferences(user).get(key)
    if current and set(current.value) & set(values):
        left = [v for v in current.value if v not in values]
        if left:
            memory.set_preference(user, key, left, source)
        else:
            memory.remove_preference(user, key)


def show_data(services: Services, turn: Turn, u: Understanding | None = None) -> list[Reply]:
    """What is stored about the user, in words."""
    prefs = services.memory.preferences(turn.user)
    interactions = services.memory.interactions(turn.user, limit=1000)
    lines = [turn.t("Here is what I remember about you:")]
    if prefs:
        for p in prefs.values():
            value = ", ".join(map(str, p.value)) if isinstance(p.value, list) else p.value
            if p.key == "budget":
                value = turn.price(float(p.value), services.storefront.currency)
            name = turn.t(PREFERENCE_NAMES[p.key]) if p.key in PREFERENCE_NAMES else p.key.replace("_", " ")
            lines.append(f"• {name}: {value} ({p.source})")
    else:
        lines.append(turn.t("• no preferences yet"))
    saved_ids = list(dict.fromkeys(r["product_id"] for r in interactions if r["kind"] == "liked" and r["product_id"]))
    if saved_ids:
        records = services.kb.store.get_products(saved_ids)
        lines.append(turn.t("• saved products: {titles}", titles=", ".join(records[i].title for i in saved_ids if i in records)))
    lines.append(turn.tn("• {n} interaction (searches, products viewed, saved or asked about)",
                         "• {n} interactions (searches, products viewed, saved or asked about)", len(interactions)))
    lines.append(turn.t("Say “export my data” for a full copy, or “forget me” to erase everything."))
    return [Reply(text="\n".join(lines), intent=turn.intent, data={"preferences": {k: v.value for k, v in prefs.items()}})]


def export_data(services: Services, turn: Turn, u: Understanding | None = None) -> list[Reply]:
    """Everything stored about the user, as JSON."""
    data = services.memory.export(turn.user)
    rows = sum(len(v) for v in data.values() if isinstance(v, list))
    return [Reply(text=turn.tn("Here is a copy of everything I store about you ({n} records) as JSON.",
                               "Here is a copy of everything I store about you ({n} records) as JSON.", rows),
                  intent=turn.intent, data={"export": data, "filename": "shopguide-export.json",
                                            "json": json.dumps(data, ensure_ascii=False, indent=2)})]


def ask_forget(services: Services, turn: Turn, u: Understanding | None = None) -> list[Reply]:
    """Ask before erasing."""
    turn.state.pending = "confirm_forget"
    rows = services.memory.count_rows(turn.user)
    return [Reply(text=turn.tn("This erases everything I remember about you ({n} records): preferences, history and this "
                               "conversation. Are you sure?",
                               "This erases everything I remember about you ({n} records): preferences, history and this "
                               "conversation. Are you sure?", rows),
                  buttons=(Button(turn.t("Yes, erase everything"), "forget:yes"), Button(turn.t("Cancel"), "forget:no")),
                  intent="forget")]


def do_forget(services: Services, turn: Turn) -> list[Reply]:
    """Erase every row of the user."""
    deleted = services.memory.forget(turn.user)
    if (orders := getattr(services.kb.store, "orders", None)) is not None:  # the `/link` to an order customer
        deleted += order_privacy.forget_chat_user(orders, turn.user)
    note = ""
    if services.handoffs is not None and (erased := services.handoffs.store.forget_handoffs(turn.user)):
        deleted += erased
        note = turn.t(handoff_texts["erased_note"])
    turn.forgotten = True
    return [Reply(text=turn.tn("Done. I've erased everything I had about you ({n} records).",
                               "Done. I've erased everything I had about you ({n} records).", deleted) + note,
                  intent="forget")]

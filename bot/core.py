"""The dialogue core: `Assistant.handle(message) -> list[Reply]`, for every platform."""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from collections.abc import Awaitable, Callable
from dataclasses import replace

from bot import conversation as talk
from bot import orders
from bot import products as prod
from bot import shopping as shop
from bot.clarify import clarified, clarify, should_clarify
from bot.context import Reroute, Services, Turn, asked_question, offered_action
from bot.extract import read_command
from bot.freshness import stamp_cards
from bot.i18n import N_, number, tr
from bot.language import NAMES, SUPPORTED, Detected, choose
from bot.nlu import Understanding, understand
from bot.ordering import handle_buy
from bot.types import IncomingMessage, Reply
from bot.understanding.words import bundled_detector, gloss_for
from knowledge.synonyms import read_as_catalog

log = logging.getLogger(__name__)

APOLOGY = N_("Sorry, something went wrong on my side. Please try again in a moment.")
LANGUAGE_COMMAND = "/language"
Handler = Callable[[Services, Turn, Understanding], Awaitable[list[Reply]] | list[Reply]]

HANDLERS: dict[str, Handler] = {
    "empty": talk.empty_reply,
    "greeting": talk.greeting,
    "help": talk.help_reply,
    "thanks": talk.thanks,
    "human": talk.human,
    "out_of_scope": talk.out_of_scope,
    "faq": talk.handle_faq,
    "recommend": talk.handle_recommend,
    "similar": talk.handle_similar,
    "bought_with": talk.handle_bought_with,
    "preference": talk.handle_preference,
    "show_data": talk.show_data,
    "export": talk.export_data,
    "forget": talk.ask_forget,
    "search": shop.handle_search,
    "refine": shop.handle_refine,
    "more": shop.handle_more,
    "details": prod.handle_details,
    "reference": prod.handle_details,
    "product_question": prod.handle_product_question,
    "compare": prod.handle_compare,
    "buy": handle_buy,
    "catalog": talk.catalog_overview,
    "not_in_catalog": talk.not_in_catalog,
    "order_status": orders.handle_order_status,
}
MAX_REROUTES = 3


class Assistant:
    """Holds the services; handles each user's messages one at a time, users concurrently."""

    def __init__(self, services: Services) -> None:
        self.services = services
        self._locks: defaultdict[str, asyncio.Lock] = defaultdict(asyncio.Lock)

    async def handle(self, msg: IncomingMessage) -> list[Reply]:
        """Answer one message. Never raises: failures become a short apology (traceback in the log)."""
        try:
            async with self._locks[msg.user_key]:
                return await self._handle(msg)
        except Exception:
            log.exception("failed to handle a %s message", msg.platform)
            return [Reply(text=tr(msg.locale, APOLOGY), intent="error")]  # the platform's language: the turn's is lost

    async def _handle(self, msg: IncomingMessage) -> list[Reply]:
        s = self.services
        memory = s.memory
        text = (msg.text or "").replace("\x00", "")
        notices: list[str] = []
        limit = s.settings.max_message_chars
        cut = len(text) > limit
        if cut:
            text = text[:limit]
        turn = Turn(msg=msg, text=text, state=memory.load_state(msg.user_key), prefs=memory.preferences(msg.user_key),
                    notices=notices)
        pending = turn.state.pending
        turn.state.pending = None
        typed = text  # as the user wrote it (logged), where `text` gets its typing errors corrected
        detected = self._language(turn, typed)
        held: list[Reply] | None = None
        if msg.action:
            held = s.handoffs.hold(turn, pending) if s.handoffs else None  # a person holds the conversation
            replies = held if held is not None else await self._action(turn, msg.action, pending)
        elif typed.strip().lower().startswith(LANGUAGE_COMMAND):
            turn.state.pending = pending  # choosing a language answers nothing that was asked
            replies = self._choose_language(turn, typed.strip()[len(LANGUAGE_COMMAND):].strip())
        elif orders.is_link_command(text):
            replies = orders.handle_link(s, turn)
        else:
            if detected.other:  # a language outside the five: read as it comes, answered in English, said so
                names = ", ".join(NAMES[code] for code in SUPPORTED)
                notices.append(turn.t("(I understand {languages}; I'll answer in English.)", languages=names))
            u = await self._read_detected(turn, pending, typed, detected, fix_typos=not detected.other)
            turn.intent = u.intent
            held = s.handoffs.hold(turn, pending) if s.handoffs else None
            replies = held if held is not None else await self._dispatch(turn, u, pending)
        replies = stamp_cards(s.kb, replies)  # a card's price from a feed not read lately shows its age
        if s.handoffs is not None:  # staff see what the assistant answers; two unanswered questions go to staff
            replies = s.handoffs.after_turn(s, turn, replies, held is not None)
        if not turn.forgotten:
            memory.save_state(msg.user_key, turn.state)
            memory.log_event(msg.user_key, msg.platform, turn.intent, orders.mask_emails(typed), turn.results,
                             turn.answered)
        if cut:  # worded once the turn's language is known
            notices.insert(0, turn.t("(Your message was very long, so I read only the first {limit} characters.)",
                                     limit=number(turn.lang, limit)))
        if notices and replies:
            first = replies[0]
            notice = "\n".join(notices) + "\n\n"
            data = dict(first.data) if first.data else None
            if data and "intro" in data:
                data["intro"] = notice + data["intro"]
            replies[0] = replace(first, text=notice + first.text, data=data)
        return replies

    async def read(self, msg: IncomingMessage) -> Understanding:
        """How the next message would be understood in this user's conversation, with nothing handled or saved."""
        text = (msg.text or "").replace("\x00", "")[: self.services.settings.max_message_chars]
        s = self.services
        turn = Turn(msg=msg, text=text, state=s.memory.load_state(msg.user_key), prefs=s.memory.preferences(msg.user_key))
        return await self._read_detected(turn, turn.state.pending, text, self._language(turn, text))

    def _language(self, turn: Turn, text: str) -> Detected:
        """Tell the message's language and set the turn's: its own, else the conversation's, else the platform's hint."""
        detected = (self.services.language or bundled_detector()).detect(text) if text.strip() else Detected()
        turn.lang = "en" if detected.other else choose(detected, turn.state.lang, turn.msg.locale)
        if detected.lang:
            turn.state.lang = detected.lang
        return detected

    def _choose_language(self, turn: Turn, code: str) -> list[Reply]:
        """ "/language de": answer in that language from now on (until the customer writes in another)."""
        code = code.lower().replace("_", "-").split("-")[0]
        turn.intent = "language"
        if code not in SUPPORTED:
            turn.answered = False
            choices = ", ".join(f"{c} ({NAMES[c]})" for c in SUPPORTED)
            return [Reply(text=turn.t("I can answer in {languages}. Say, for example, “/language de”.", languages=choices),
                          intent="language")]
        turn.state.lang = turn.lang = code
        return [Reply(text=turn.t("From now on I'll answer in {language}.", language=NAMES[code]), intent="language")]

    async def _read(self, turn: Turn, pending: str | None, *, fix_typos: bool = True) -> Understanding:
        """Normalise the turn's text (typos, other names, another language's words) and understand it in context."""
        s = self.services
        text = said = turn.text
        if turn.lang == "en" and fix_typos:
            text, fixes = read_as_catalog(text, s.speller, s.thesaurus)
            turn.text = said = text
            if fixes:
                read = ", ".join(turn.t('"{typed}" as "{meant}"', typed=a, meant=b) for a, b in fixes)
                turn.notices.append(turn.t("(I read {corrections}.)", corrections=read))
        elif turn.lang != "en":  # the store's names for its kinds in the customer's language read as the catalog's
            # (no notice: a translation is no correction), then the general words in English for the slot readers
            if s.thesaurus is not None:
                text = s.thesaurus.read(text, keep=s.vocab.own_words)[0]
            text = gloss_for(turn.lang).render(text, s.vocab.own_words)
        u = understand(text, s.vocab, s.intents, has_results=bool(turn.state.shown), has_focus=bool(turn.state.focus),
                       pending=pending, has_search=bool(turn.state.filters), said=said, lang=turn.lang,
                       find_kinds=s.kinds.read if s.kinds is not None and s.kinds.available else None)
        unsure = u.confidence < s.settings.intent_confidence or (u.intent == "search" and not u.has_product_slots())
        if s.settings.llm_commands and unsure and s.writer.worker is not None and s.intents is not None:
            u = await read_command(s.writer.worker, u, s.vocab, s.intents.intents, timeout=s.settings.llm_timeout_s)
        return u

    async def _read_detected(self, turn: Turn, pending: str | None, typed: str, detected: Detected, *,
                             fix_typos: bool = True) -> Understanding:
        """Read the turn in its language. "calcetines", "Sandalen": one word whose language is unsure, in a
        conversation with none yet, that names nothing in English, is read again in the likeliest language, and
        that reading is kept if it names products."""
        noted = len(turn.notices)
        first = await self._read(turn, pending, fix_typos=fix_typos)
        guess = detected.guess
        if not guess or guess == turn.lang or turn.state.lang or (first.has_product_slots()
                                                                   and not self._foreign_name(typed)):
            return first
        said, lang, notes = turn.text, turn.lang, turn.notices[noted:]
        del turn.notices[noted:]  # no "I read … as …" from the English reading
        turn.text, turn.lang = typed, guess
        u = await self._read(turn, pending)
        if u.has_product_slots():
            turn.state.lang = guess
            return u
        turn.text, turn.lang = said, lang
        turn.notices[noted:] = notes
        return first

    def _foreign_name(self, text: str) -> bool:
        """Whether `text` holds a store's name for a kind that is no English word ("sofás", read in English as
        "sofas"): then the likeliest other language is tried too, and answers if it names products as well."""
        s = self.services
        if s.thesaurus is None:
            return False
        english = s.speller.english if s.speller is not None else frozenset()
        return any(not all(w in english for w in typed.lower().split()) for typed, _ in s.thesaurus.read(text)[1])

    async def _dispatch(self, turn: Turn, u: Understanding, pending: str | None, *, may_ask: bool = True) -> list[Reply]:
        s = self.services
        if u.intent == "confirm" and pending == "confirm_forget":
            return talk.do_forget(s, turn)
        action = offered_action(pending)
        if action and u.intent == "confirm":  # "yes" to "Shall I drop the colour?" or "ask a person?"
            return await self._action(turn, action, None)
        if action and u.intent == "cancel":
            turn.intent = "cancel"
            return [Reply(text=turn.t("Okay. What else can I find for you?"), intent="cancel")]
        if u.intent in ("confirm", "cancel"):
            turn.intent = "cancel"
            return [Reply(text=turn.t("Okay, I've left everything as it was."), intent="cancel")]
        question = asked_question(pending)
        if question is not None and u.intent == "reference":  # "the second one" answers "which one do you mean?"
            return await prod.answer_pending(s, turn, u, question)
        if may_ask and should_clarify(s, u):  # unsure between two readings: ask, with a button for each
            return clarify(s, turn, u)
        handler = HANDLERS.get(u.intent, shop.handle_search)
        for _ in range(MAX_REROUTES):  # the one router: a handler that finds the turn is another's says so
            try:
                result = handler(s, turn, u)
                if asyncio.iscoroutine(result):
                    result = await result
                return result  # type: ignore[return-value]
            except Reroute as to:
                handler = HANDLERS[to.handler]
        raise RuntimeError(f"a turn was rerouted more than {MAX_REROUTES} times")

    async def _action(self, turn: Turn, action: str, pending: str | None) -> list[Reply]:
        """A pressed button: compact action ids such as "d:SKU", "m:SKU", "s:SKU", "more"."""
        s = self.services
        kind, _, arg = action.partition(":")
        turn.intent = {"a": "product_question", "d": "details", "m": "similar", "s": "save", "q": "search",
                       "more": "more", "relax": "refine", "forget": "forget", "human": "human",
                       "help": "help"}.get(kind, "unknown_action")
        if kind == "d" and arg:
            return await prod.show_product(s, turn, arg)
        if kind == "a" and arg:
            return await prod.answer_pending_for(s, turn, arg, asked_question(pending))
        if kind == "m" and arg:
            return await talk.handle_similar(s, turn, None, product_id=arg)
        if kind == "s" and arg:
            return await prod.handle_save(s, turn, arg)
        if kind == "more":
            return await shop.handle_more(s, turn)
        if kind == "relax" and arg:
            return await shop.handle_relax(s, turn, arg)
        if kind == "q" and arg:  # a suggested search, as if typed
            turn.text = arg[: s.settings.max_message_chars]
            u = await self._read(turn, None, fix_typos=False)
            turn.intent = u.intent
            return await self._dispatch(turn, u, None)
        if kind == "c" and (chosen := clarified(pending, arg)):  # a choice from "Do you want to ..., or ...?"
            intent, turn.text = chosen
            u = await self._read(turn, None, fix_typos=False)
            u.intent = turn.intent = intent
            return await self._dispatch(turn, u, None, may_ask=False)
        if kind == "forget":
            if arg == "yes" and pending == "confirm_forget":
                return talk.do_forget(s, turn)
            if arg == "yes":
                return talk.ask_forget(s, turn)
            turn.intent = "cancel"
            return [Reply(text=turn.t("Okay, nothing was erased."), intent="cancel")]
        if kind == "human":
            return talk.human(s, turn)
        if kind == "help":
            return talk.help_reply(s, turn)
        turn.answered = False
        log.info("unknown or stale button action %r", action[:80])
        return [Reply(text=turn.t("Sorry, that button has expired or I don't recognise it. Tell me what you're looking for."),
                      intent="unknown_action")]

"""The dialogue core: `Assistant.handle(message) -> list[Reply]`, for every platform."""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from collections.abc import Awaitable, Callable
from dataclasses import replace

from bot import conversation as talk
from bot import products as prod
from bot import shopping as shop
from bot.clarify import clarified, clarify, should_clarify
from bot.context import Reroute, Services, Turn, asked_question, offered_action
from bot.extract import read_command
from bot.i18n import N_, number, tr
from bot.language import other_language
from bot.nlu import Understanding, understand
from bot.ordering import handle_buy
from bot.types import IncomingMessage, Reply
from knowledge.synonyms import read_as_catalog

log = logging.getLogger(__name__)

APOLOGY = N_("Sorry, something went wrong on my side. Please try again in a moment.")
# understood whatever the language ("hallo", "merci", a SKU pressed as text): no language notice
_UNIVERSAL = frozenset({"empty", "greeting", "thanks", "confirm", "cancel"})
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
        if msg.action:
            replies = await self._action(turn, msg.action, pending)
        else:
            foreign = other_language(typed)
            u = await self._read(turn, pending, foreign)
            turn.intent = u.intent
            lang = foreign if s.settings.english_only_notice and u.intent not in _UNIVERSAL else None
            if lang:
                turn.state.pending = pending  # an offer still stands for the "yes" that may follow in English
                replies = talk.other_language(s, turn, lang)
            else:
                replies = await self._dispatch(turn, u, pending)
        if not turn.forgotten:
            memory.save_state(msg.user_key, turn.state)
            memory.log_event(msg.user_key, msg.platform, turn.intent, typed, turn.results, turn.answered)
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
        return await self._read(turn, turn.state.pending, other_language(text))

    async def _read(self, turn: Turn, pending: str | None, foreign: str | None) -> Understanding:
        """Normalise the turn's text (typos, other names) and understand it in the conversation's context."""
        s = self.services
        text = turn.text
        if not foreign:
            text, fixes = read_as_catalog(text, s.speller, s.thesaurus)
            turn.text = text
            if fixes:
                read = ", ".join(turn.t('"{typed}" as "{meant}"', typed=a, meant=b) for a, b in fixes)
                turn.notices.append(turn.t("(I read {corrections}.)", corrections=read))
        u = understand(text, s.vocab, s.intents, has_results=bool(turn.state.shown), has_focus=bool(turn.state.focus),
                       pending=pending, has_search=bool(turn.state.filters))
        unsure = u.confidence < s.settings.intent_confidence or (u.intent == "search" and not u.has_product_slots())
        if s.settings.llm_commands and unsure and s.writer.worker is not None and s.intents is not None:
            u = await read_command(s.writer.worker, u, s.vocab, s.intents.intents, timeout=s.settings.llm_timeout_s)
        return u

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
        if kind == "q" and arg:
            u = understand(arg[: s.settings.max_message_chars], s.vocab, s.intents, has_results=bool(turn.state.shown),
                           has_focus=bool(turn.state.focus))
            turn.intent = u.intent
            turn.text = arg
            return await self._dispatch(turn, u, None)
        if kind == "c" and (chosen := clarified(pending, arg)):  # a choice from "Do you want to ..., or ...?"
            intent, text = chosen
            turn.text = text
            u = understand(text, s.vocab, s.intents, has_results=bool(turn.state.shown), has_focus=bool(turn.state.focus))
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

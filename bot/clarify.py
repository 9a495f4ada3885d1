"""One short question when the classifier is unsure which of two intents a message meant, with a button for each."""

from __future__ import annotations

from bot.context import Services, Turn
from bot.filtering import search_query
from bot.nlu import Understanding
from bot.types import Button, Reply

CLARIFY_PREFIX = "clarify:"  # the pending state: "clarify:INTENT|INTENT|the message"


def should_clarify(services: Services, u: Understanding) -> bool:
    """Whether the reading is too unsure to act on and its runner-up is a different thing the assistant can offer."""
    offers = services.intents.examples.offers if services.intents is not None else {}
    return (u.confidence < services.settings.intent_confidence and u.runner_up is not None
            and u.intent in offers and u.runner_up in offers and u.runner_up != u.intent)


def _choice(services: Services, turn: Turn, intent: str, u: Understanding) -> str:
    """An intent's choice in words, in the turn's language: "see rain jackets", "ask about the one shown"."""
    offer = services.intents.examples.offers[intent]  # type: ignore[union-attr]
    return turn.t(offer).replace("{what}", search_query(u) or turn.t("products"))  # the offers are catalog entries too


def clarify(services: Services, turn: Turn, u: Understanding) -> list[Reply]:
    """Ask which of the two likeliest readings was meant; a button (or a typed answer) carries on with it."""
    first, second = u.intent, u.runner_up or "search"
    a, b = _choice(services, turn, first, u), _choice(services, turn, second, u)
    turn.intent = "clarify"
    turn.answered = False
    turn.state.pending = f"{CLARIFY_PREFIX}{first}|{second}|{u.text[:400]}"
    return [Reply(text=turn.t("Do you want to {first}, or {second}?", first=a, second=b),
                  buttons=(Button(a[:1].upper() + a[1:40], f"c:{first}"), Button(b[:1].upper() + b[1:40], f"c:{second}")),
                  intent="clarify")]


def clarified(pending: str | None, chosen: str) -> tuple[str, str] | None:
    """(intent, message) that a pressed choice stands for, when the last reply asked."""
    if not pending or not pending.startswith(CLARIFY_PREFIX):
        return None
    first, second, text = pending[len(CLARIFY_PREFIX):].split("|", 2)
    return (chosen, text) if chosen in (first, second) else None

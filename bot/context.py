"""What every handler gets: the shared services and the current turn."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from bot.memory import ConversationState, Memory, Preference
from bot.slots import Vocabulary
from bot.names import CatalogNames
from bot.storefront import Storefront
from bot.types import IncomingMessage
from bot.writer import Writer

if TYPE_CHECKING:
    from bot.recommend import Recommender
    from knowledge.base import KnowledgeBase
    from knowledge.evidence import EvidenceRetriever
    from knowledge.faq import FaqMatcher
    from knowledge.search import ProductSearch
    from shopguide.settings import Settings


@dataclass
class Services:
    """Long-lived collaborators, created once per process."""

    settings: "Settings"
    kb: "KnowledgeBase"
    search: "ProductSearch"
    faq: "FaqMatcher"
    evidence: "EvidenceRetriever"
    memory: Memory
    writer: Writer
    vocab: Vocabulary
    recommender: "Recommender"
    storefront: Storefront
    names: CatalogNames


OFFER_PREFIX = "offer:"  # pending state: a yes/no offer whose "yes" presses the button `action`


def offer(action: str) -> str:
    """The pending state for a reply that asks "Shall I ...?": a typed yes runs `action`."""
    return OFFER_PREFIX + action


def offered_action(pending: str | None) -> str | None:
    """The button action a typed "yes" stands for, if the last reply made an offer."""
    return pending[len(OFFER_PREFIX):] if pending and pending.startswith(OFFER_PREFIX) else None


@dataclass
class Turn:
    """One message being handled, with the user's state and preferences loaded."""

    msg: IncomingMessage
    text: str
    state: ConversationState
    prefs: dict[str, Preference]
    intent: str = "unknown"
    results: int | None = None
    answered: bool = True
    forgotten: bool = False
    search_confidence: float = 0.0
    notices: list[str] = field(default_factory=list)

    @property
    def user(self) -> str:
        """The memory key of the user."""
        return self.msg.user_key

"""What every handler gets: the shared services and the current turn."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from bot.i18n import money, ntr, tr
from bot.memory import ConversationState, Memory, Preference
from bot.slots import Vocabulary
from bot.names import CatalogNames
from bot.storefront import Storefront
from bot.types import IncomingMessage
from bot.writer import Writer

if TYPE_CHECKING:
    from bot.language import LanguageDetector
    from bot.handoff import Handoffs
    from bot.understanding import IntentClassifier
    from bot.recommend import Recommender
    from knowledge.base import KnowledgeBase
    from knowledge.evidence import EvidenceRetriever
    from knowledge.faq import FaqMatcher
    from knowledge.kinds import KindFinder
    from knowledge.search import ProductSearch
    from knowledge.spelling import Speller
    from knowledge.synonyms import Thesaurus
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
    speller: "Speller | None" = None  # typo correction; None when off
    thesaurus: "Thesaurus | None" = None  # the catalog's names for other names; None when off
    intents: "IntentClassifier | None" = None  # intents learned from example utterances
    language: "LanguageDetector | None" = None  # tells a message's language; None: the bundled data's detector
    handoffs: "Handoffs | None" = None  # handing conversations to staff; None: requests are only recorded
    kinds: "KindFinder | None" = None  # the catalog's types named in another language; None: read by the word files only


# What a reply left waiting for the next message (`ConversationState.pending`), besides "confirm_forget":
OFFER_PREFIX = "offer:"  # a yes/no offer whose "yes" presses the button `action`
ASK_PREFIX = "ask:"  # a question waiting for the user to say which product it is about
MAX_PENDING_QUESTION = 500


def offer(action: str) -> str:
    """The pending state for a reply that asks "Shall I ...?": a typed yes runs `action`."""
    return OFFER_PREFIX + action


def offered_action(pending: str | None) -> str | None:
    """The button action a typed "yes" stands for, if the last reply made an offer."""
    return _after(OFFER_PREFIX, pending)


def ask(question: str) -> str:
    """The pending state for "which one do you mean?": the question to answer once a product is picked."""
    return ASK_PREFIX + question[:MAX_PENDING_QUESTION]


def asked_question(pending: str | None) -> str | None:
    """The question kept by "which one do you mean?", if the last reply asked it."""
    return _after(ASK_PREFIX, pending)


def _after(prefix: str, pending: str | None) -> str | None:
    return pending[len(prefix):] if pending and pending.startswith(prefix) else None


class Reroute(Exception):
    """A handler's word that another handler answers this turn (the core dispatches it; handlers never call each other)."""

    def __init__(self, handler: str) -> None:
        super().__init__(handler)
        self.handler = handler


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
    passes_handoff: bool = False  # a data-rights turn: answered straight to the customer even while staff hold it
    search_confidence: float = 0.0
    notices: list[str] = field(default_factory=list)
    lang: str = "en"  # the language this turn is answered in (the message's, else the conversation's)

    @property
    def user(self) -> str:
        """The memory key of the user."""
        return self.msg.user_key

    def t(self, msgid: str, /, **kw: object) -> str:
        """A fixed text in this turn's language (`bot.i18n.tr`)."""
        return tr(self.lang, msgid, **kw)

    def tn(self, singular: str, plural: str, n: int, /, **kw: object) -> str:
        """A counted text in this turn's language (`bot.i18n.ntr`)."""
        return ntr(self.lang, singular, plural, n, **kw)

    def price(self, amount: float | None, currency: str | None) -> str:
        """A price written as this turn's language writes prices."""
        return money(self.lang, amount, currency)

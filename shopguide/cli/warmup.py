"""Start-up warm-up: load every model and index a first customer turn needs before a bot takes updates."""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from bot.types import IncomingMessage

if TYPE_CHECKING:
    from bot.runtime import Runtime

log = logging.getLogger(__name__)

PLATFORM = "warmup"  # the throwaway conversation's platform: no real user shares its memory key
USER = "start-up"
FAQ_QUESTION = "how do I return an item?"
PRODUCT_QUESTION = "is it waterproof?"


def warm_query(runtime: Runtime) -> str:
    """A search the catalog answers: the shop's first example search, else a product's title."""
    for example in runtime.services.storefront.examples:
        if example.action.startswith("q:") and example.action[2:].strip():
            return example.action[2:]
    product = next(iter(runtime.kb.store.all_products()), None)
    return product.title if product is not None else "hello"


def _steps(runtime: Runtime, query: str) -> list[tuple[str, Callable[[], Any]]]:
    """What loads lazily, in the order a first turn would load it."""
    kb, s = runtime.kb, runtime.services
    steps: list[tuple[str, Callable[[], Any]]] = [("product embedder", lambda: kb.embedder.encode_query(query))]
    if kb.faq_embedder is not None:
        steps.append(("FAQ embedder", lambda: kb.faq_embedder.encode_query(FAQ_QUESTION)))
    if kb.document_embedder is not None:
        steps.append(("document embedder", lambda: kb.document_embedder.encode_query(PRODUCT_QUESTION)))
    steps.append(("search index", lambda: s.search.search(query, top_k=5)))
    steps.append(("FAQ index", lambda: s.faq.rank(FAQ_QUESTION)))
    steps.append(("FAQ index, other languages", s.faq.languages.warm))
    if s.kinds is not None:
        steps.append(("kinds in other languages", s.kinds.warm))
    if s.speller is not None:
        steps.append(("typo index", lambda: s.speller.correct(query)))
    return steps


async def _timed(name: str, work: Callable[[], Any] | Awaitable[Any], timings: dict[str, float]) -> None:
    """Run one step, record its seconds; a failure is logged and the step is left to the first message."""
    start = time.perf_counter()
    try:
        result = work() if callable(work) else work
        if isinstance(result, Awaitable):
            await result
    except Exception:
        log.warning("warm-up step %r failed; it will load on the first message instead", name, exc_info=True)
    timings[name] = round(time.perf_counter() - start, 3)


async def _first_turn(runtime: Runtime, query: str) -> None:
    """One search through the real assistant in a throwaway conversation, whose rows are deleted afterwards."""
    msg = IncomingMessage(platform=PLATFORM, user_id=USER, chat_id=USER, text=query)
    try:
        replies = await runtime.assistant.handle(msg)
    finally:
        runtime.memory.forget(msg.user_key)
    if not replies or replies[0].intent == "error":
        log.warning("the warm-up search %r got no answer; see the traceback above", query)


async def warm_up(runtime: Runtime) -> dict[str, float]:
    """Load the embedders, the indexes and the chat model's prompt, then answer one search; seconds per step.

    Call it after `build_runtime` and before the bot takes updates. It never raises.
    """
    start = time.perf_counter()
    timings: dict[str, float] = {}
    query = warm_query(runtime)
    for name, step in _steps(runtime, query):
        await _timed(name, step, timings)
    # the whole turn: the understanding layer, the catalog's name indexes, the chat model's static prompt
    await _timed("first search turn", _first_turn(runtime, query), timings)
    timings["total"] = round(time.perf_counter() - start, 3)
    log.info("warmed up in %.2f s (%s)", timings["total"],
             ", ".join(f"{name} {seconds:.2f} s" for name, seconds in timings.items() if name != "total"))
    return timings

"""One shared chat model behind an async queue: a llama.cpp context runs one completion at a time."""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import AsyncIterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from models.base import ChatMessage, ChatModel
from shopguide.errors import ModelError

log = logging.getLogger(__name__)

_DONE = object()


class GenerationTimeout(Exception):
    """The request's budget ran out while queued or generating."""


@dataclass
class WorkerStats:
    """Counters for benchmarks and health checks."""

    completed: int = 0
    timed_out: int = 0
    failed: int = 0
    queued: int = 0


class ModelWorker:
    """Serialises completions of one model on a single thread, with per-request deadlines."""

    def __init__(self, model: ChatModel) -> None:
        self.model = model
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="llm")
        self.stats = WorkerStats()

    async def complete(
        self, messages: Sequence[ChatMessage], *, max_tokens: int, timeout: float, **options: Any
    ) -> str | None:
        """The whole completion, or None when it failed or missed its deadline."""
        pieces: list[str] = []
        try:
            async for piece in self.stream(messages, max_tokens=max_tokens, timeout=timeout, **options):
                pieces.append(piece)
        except GenerationTimeout:
            return None
        except ModelError as exc:  # the model said what failed (a model server logs it once a minute)
            log.debug("chat model failed: %s", exc)
            return None
        except Exception:
            log.warning("chat model failed; falling back to templates", exc_info=True)
            return None
        return "".join(pieces)

    async def stream(
        self, messages: Sequence[ChatMessage], *, max_tokens: int, timeout: float, **options: Any
    ) -> AsyncIterator[str]:
        """Yield text pieces as they are generated; raises `GenerationTimeout` past the deadline."""
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue[object] = asyncio.Queue()
        cancelled = threading.Event()
        deadline = time.monotonic() + timeout

        def put(item: object) -> None:
            loop.call_soon_threadsafe(queue.put_nowait, item)

        def run() -> None:
            self.stats.queued -= 1
            try:
                if cancelled.is_set() or time.monotonic() > deadline:
                    raise GenerationTimeout("deadline passed while queued")
                for piece in self.model.generate(messages, max_tokens=max_tokens, stream=True, **options):
                    if cancelled.is_set():
                        return
                    if time.monotonic() > deadline:
                        raise GenerationTimeout("deadline passed while generating")
                    put(piece)
            except BaseException as exc:  # handed to the awaiting coroutine
                put(exc)
            finally:
                put(_DONE)

        self.stats.queued += 1
        loop.run_in_executor(self._executor, run)
        try:
            while True:
                remaining = deadline - time.monotonic()
                try:
                    item = await asyncio.wait_for(queue.get(), timeout=max(remaining, 0.0) + 0.05)
                except asyncio.TimeoutError:
                    self.stats.timed_out += 1
                    raise GenerationTimeout("deadline passed") from None
                if item is _DONE:
                    self.stats.completed += 1
                    return
                if isinstance(item, GenerationTimeout):
                    self.stats.timed_out += 1
                    raise item
                if isinstance(item, BaseException):
                    self.stats.failed += 1
                    raise item
                yield item  # type: ignore[misc]
        finally:
            # A job still queued sees the flag and returns at once; a running one stops at its next piece.
            cancelled.set()

    @property
    def queue_depth(self) -> int:
        """Requests waiting for the model."""
        return max(self.stats.queued, 0)

    def close(self) -> None:
        """Stop the worker thread after the running completion."""
        self._executor.shutdown(wait=False, cancel_futures=True)

"""Per-chat ordering of Telegram updates: one chat's updates one at a time, in order; different chats at once."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from telegram import Update
from telegram.ext import BaseUpdateProcessor

log = logging.getLogger(__name__)


def chat_key(update: object) -> int | None:
    """The chat an update belongs to, or None when it has none."""
    if isinstance(update, Update) and update.effective_chat is not None:
        return update.effective_chat.id
    return None


class PerChatUpdateProcessor(BaseUpdateProcessor):
    """Processes updates of different chats concurrently and those of one chat one at a time, in order."""

    def __init__(self, max_concurrent_updates: int = 256,
                 on_arrival: Callable[[object], Awaitable[None]] | None = None) -> None:
        super().__init__(max_concurrent_updates)
        self.on_arrival = on_arrival  # runs before waiting for the chat, e.g. to answer callback queries at once
        self._locks: dict[int, asyncio.Lock] = {}
        self._waiting: dict[int, int] = {}

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        """Run the update's handlers under its chat's lock (asyncio locks are FIFO, so order is kept)."""
        if self.on_arrival is not None:
            try:
                await self.on_arrival(update)
            except Exception:
                log.exception("early update hook failed")
        key = chat_key(update)
        if key is None:
            await coroutine
            return
        lock = self._locks.setdefault(key, asyncio.Lock())
        self._waiting[key] = self._waiting.get(key, 0) + 1
        try:
            async with lock:
                await coroutine
        finally:
            self._waiting[key] -= 1
            if not self._waiting[key]:
                del self._waiting[key]
                del self._locks[key]

    async def initialize(self) -> None:
        """Nothing to set up."""

    async def shutdown(self) -> None:
        """Nothing to release."""

"""The delivery loop every adapter runs for handoff messages: claim from the shared outbox, deliver, mark done."""

from __future__ import annotations

import asyncio
import logging
import os
import socket
from collections.abc import Awaitable, Callable

from bot.handoff import Handoffs
from bot.handoff_store import Delivery

log = logging.getLogger(__name__)

Deliver = Callable[[Delivery], Awaitable[str | None]]  # returns the platform's id of what it posted, if any


class Retry(Exception):
    """A delivery failed in a way worth trying again (rate limit, network), after `delay_s`."""

    def __init__(self, message: str, delay_s: float = 2.0) -> None:
        super().__init__(message)
        self.delay_s = delay_s


def worker_name(target: str) -> str:
    """A claim owner unique to this process and loop."""
    return f"{target}@{socket.gethostname()}:{os.getpid()}:{id(asyncio.get_running_loop()):x}"


class Outbox:
    """Delivers what waits for `target` until stopped; woken at once by writes in this process and polls for
    writes by other processes (they share the SQLite file)."""

    def __init__(self, handoffs: Handoffs, target: str, deliver: Deliver, *, poll_s: float = 0.5,
                 expire_every_s: float = 60.0, chat_id: str | None = None) -> None:
        self.handoffs, self.target, self.deliver, self.chat_id = handoffs, target, deliver, chat_id
        self.poll_s, self.expire_every_s = poll_s, expire_every_s
        self._wake = asyncio.Event()
        self._loop: asyncio.AbstractEventLoop | None = None

    def _listener(self, target: str) -> None:
        if target == self.target and self._loop is not None:
            self._loop.call_soon_threadsafe(self._wake.set)

    async def run(self, stop: asyncio.Event) -> None:
        """Deliver until `stop` is set."""
        self._loop = asyncio.get_running_loop()
        store = self.handoffs.store
        store.listeners.append(self._listener)
        worker = worker_name(self.target)
        last_expiry = 0.0
        try:
            while not stop.is_set():
                now = self._loop.time()
                if now - last_expiry >= self.expire_every_s:
                    last_expiry = now
                    try:
                        self.handoffs.expire()
                    except Exception:
                        log.exception("expiring handoffs failed")
                while not stop.is_set() and await self.step(worker):
                    pass
                self._wake.clear()
                try:
                    await asyncio.wait_for(self._wake.wait(), self.poll_s)
                except asyncio.TimeoutError:
                    pass
        finally:
            store.listeners.remove(self._listener)

    async def step(self, worker: str) -> bool:
        """Deliver one message; False when nothing was waiting."""
        store = self.handoffs.store
        item = await asyncio.to_thread(store.claim, self.target, worker, chat_id=self.chat_id)
        if item is None:
            return False
        try:
            remote = await self.deliver(item)
        except Retry as exc:
            log.warning("handoff message %d to %s will be retried: %s", item.id, self.target, exc)
            store.failed(item, str(exc), retry=True, delay_s=exc.delay_s)
            return True
        except Exception as exc:
            log.exception("delivering handoff message %d to %s failed", item.id, self.target)
            store.failed(item, f"{type(exc).__name__}: {exc}", retry=False)
            return True
        if not store.done(item, worker, remote):
            log.warning("handoff message %d was delivered after its claim lapsed", item.id)
        return True

"""Telegram behind several workers: each update claimed in the database before its turn and completed after its
replies were sent, one chat's turns ordered across processes, and updates of a dead worker handled again."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from telegram import Update
from telegram.ext import Application

from adapters.telegram.ordering import PerChatUpdateProcessor, chat_key
from adapters.telegram.convert import UPDATE_KEY_PREFIX, update_key
from bot.claims import Abandoned, Claims, keep_claims

log = logging.getLogger(__name__)


class ClaimingUpdateProcessor(PerChatUpdateProcessor):
    """Per-chat order within and across processes by the chat's lease in the database, granted in update_id
    order; an update another worker handled or is handling is skipped."""

    def __init__(self, claims: Claims, max_concurrent_updates: int = 256,
                 on_arrival: Callable[[object], Awaitable[None]] | None = None, *, user_timeout_s: float = 30.0) -> None:
        super().__init__(max_concurrent_updates, on_arrival=on_arrival)
        self.claims = claims
        self.user_timeout_s = user_timeout_s

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        """Claim, run the handlers under the chat's leases, complete; a cancelled turn is left to expire."""
        if not isinstance(update, Update):
            return await super().do_process_update(update, coroutine)
        key, user = keys(update)
        if key not in self.claims.held and not claim(self.claims, update):  # not queued through ClaimingQueue
            coroutine.close()  # type: ignore[attr-defined]
            return
        if self.on_arrival is not None:
            try:
                await self.on_arrival(update)
            except Exception:
                log.exception("early update hook failed")
        try:
            # the chat's lease in the database orders its turns, in this process too: the parent's in-process
            # lock would make a recovered earlier update wait behind a later one waiting for it
            if user is None:
                await coroutine
                self.claims.complete(key)
            else:
                async with self.claims.user_turn(user, update.update_id, timeout_s=self.user_timeout_s):
                    await coroutine
                    self.claims.complete(key)  # before the chat's lease goes: the smallest window for a repeat
        except BaseException:
            self.claims.release(key)  # not completed: after its lease a worker handles it again
            raise


class ClaimingQueue(asyncio.Queue):
    """The Application's update queue, claiming each update as it is queued: the webhook answers Telegram only
    after the claim (with the update) is in the database, so a worker killed with updates still queued loses
    none of them; an update another worker handled or handles is not queued at all."""

    def __init__(self, claims: Claims) -> None:
        super().__init__()
        self.claims = claims

    def put_nowait(self, item: Any) -> None:
        """Queue `item` if it is no update, or an update this worker has just claimed."""
        if isinstance(item, Update) and not claim(self.claims, item):
            return
        super().put_nowait(item)


def keys(update: Update) -> tuple[str, str | None]:
    """The update's claim key and the chat's user key (None for an update without a chat)."""
    chat = chat_key(update)
    return update_key(_bot_id(update), update.update_id), f"telegram:chat:{chat}" if chat is not None else None


def claim(claims: Claims, update: Update) -> bool:
    """Claim the update (with its payload, for another worker should this one die); False when it is to be skipped."""
    key, user = keys(update)
    outcome = claims.claim(key, user_key=user, seq=update.update_id, payload=update.to_json())
    if outcome != "claimed":
        log.info("skipping update %s: %s", update.update_id, "already handled" if outcome == "done"
                 else "another worker is handling it")
    return outcome == "claimed"


def _bot_id(update: Update) -> int | None:
    try:
        return update.get_bot().id
    except RuntimeError:  # an update built without a bot
        return None


async def recover_abandoned(app: Application, claims: Claims, stop: asyncio.Event, interval_s: float | None = None) -> None:
    """Until `stop`: renew this worker's leases, and queue again the updates whose worker died mid-turn."""
    async def again(left: Abandoned) -> None:
        await app.update_queue.put(Update.de_json(json.loads(left.payload), app.bot))

    await keep_claims(claims, stop, again, interval_s, prefix=UPDATE_KEY_PREFIX)

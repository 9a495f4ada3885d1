"""Handoff messages for Telegram customers (staff replies, hand-backs), delivered within Telegram's limits; a
split message that fails half-way resumes at the failed part."""

from __future__ import annotations

import logging

from telegram import Bot
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter

from adapters.outbox import Outbox, Retry
from adapters.telegram import PLATFORM
from adapters.telegram.bot import TelegramBot, retry_seconds
from adapters.telegram.render import render_text
from bot.handoff import Handoffs
from bot.handoff_store import Delivery, customer_target, desk_target

log = logging.getLogger(__name__)

BLOCKED_NOTE = "The customer has blocked the bot or left the chat, so nothing more can reach them; handoff closed."


def telegram_outbox(handoffs: Handoffs, behaviour: TelegramBot, bot: Bot) -> Outbox:
    """The delivery loop for Telegram customers: split and escaped by the renderer, 429s waited out by `deliver`."""

    async def deliver(item: Delivery) -> str | None:
        chat = item.handoff.chat_id
        if not chat or item.handoff.status == "erased":
            return None  # the customer erased their data meanwhile: nothing to deliver to
        last = None
        try:
            for i, out in enumerate(render_text(item.text)):  # split under 4096 characters, HTML-escaped
                if i < item.parts_done:
                    continue  # delivered by an earlier attempt that failed at a later part: never twice
                sent = await behaviour.deliver(bot, int(chat), out)
                last = str(sent.message_id) if sent is not None else last
                handoffs.store.part_done(item, i + 1)
        except Forbidden:
            log.info("handoff %d: the customer blocked the bot; closing it", item.handoff.id)
            handoffs.store.close(item.handoff, PLATFORM, "blocked", None)
            if item.handoff.desk:
                handoffs.store.add(item.handoff.id, "system", BLOCKED_NOTE, target=desk_target(item.handoff.desk))
            return None
        except RetryAfter as exc:  # still limited after the bot's own attempts
            raise Retry(str(exc), retry_seconds(exc)) from None
        except BadRequest:  # a NetworkError in PTB's hierarchy, but never better on a retry
            raise
        except NetworkError as exc:
            raise Retry(f"{type(exc).__name__}: {exc}") from None
        return last

    return Outbox(handoffs, customer_target(PLATFORM), deliver)

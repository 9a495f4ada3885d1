"""The staff side of handoffs in Slack: one thread per handed-over conversation in the handoff channel, staff
replies relayed to the customer, Take / Close / mode buttons and `!close`, `!bot on|off|assist` in the thread."""

from __future__ import annotations

import json
import logging
import re
from typing import TYPE_CHECKING, Any

from slack_sdk.errors import SlackApiError

from adapters.outbox import Outbox, Retry
from adapters.slack import convert
from adapters.slack.render import cut, escape, render_reply
from bot.handoff import Handoffs
from bot.handoff_store import Delivery, Handoff, customer_target, desk_target
from adapters.slack.handoff_assist import NOT_STAFF, DraftDesk, draft_blocks
from adapters.slack.handoff_faq import FaqDesk
from bot.types import Reply

if TYPE_CHECKING:
    from adapters.slack.app import SlackBot

log = logging.getLogger(__name__)

ERASED = "This conversation was deleted at the customer's request; nothing was sent."
CLOSED = "This handoff is closed, so nothing was sent. The customer is talking to the assistant again."
COMMAND = re.compile(r"^!(close|bot\s+(on|off|assist))$", re.I)
MODE_OF = {"on": "bot", "off": "person", "assist": "assist"}
MODE_NAMES = {"person": "staff answer", "assist": "assisted (drafts to approve)", "bot": "the assistant answers"}
MODE_BUTTONS = (("handoff_person", "Staff answer", "person"), ("handoff_assist", "Assist: drafts to approve", "assist"),
                ("handoff_bot", "Let the assistant answer", "bot"))
FAQ_ORIGINS = frozenset({"unanswered", "offer"})  # handoffs that began with a store question left unanswered
ORIGINS = {"asked": "asked for a person", "offer": "accepted the offer of a person",
           "unanswered": "was not answered twice in a row"}
MAX_TEXT = 39000
PERMANENT = {"channel_not_found", "not_in_channel", "is_archived", "invalid_auth", "account_inactive",
             "msg_too_long", "no_text", "invalid_blocks", "message_not_found", "cant_delete_message"}


def root_blocks(handoff: Handoff) -> tuple[str, list[dict[str, Any]]]:
    """The thread's first message: who, why, the last turns, products in view (record prices), buttons."""
    who = escape(handoff.user_name or "A customer")
    headline = f"{who} {ORIGINS.get(handoff.origin, 'asked for a person')} (handoff #{handoff.id})"
    fields = [f"*Who*\n{who}", f"*Platform*\n{handoff.platform}", f"*Language*\n{handoff.lang or 'unknown'}"]
    blocks: list[dict[str, Any]] = [
        {"type": "section", "text": {"type": "mrkdwn", "text": cut(f"*{headline}*", 3000)},
         "fields": [{"type": "mrkdwn", "text": f} for f in fields]},
        {"type": "section", "text": {"type": "mrkdwn", "text": cut("*Why*\n> " + escape(handoff.reason or "(no words)")
                                                                   .replace("\n", "\n> "), 3000)}},
    ]
    turns = handoff.context.get("turns") or []
    if turns:
        lines = [f"• {escape((t.get('text') or '')[:300])}" + ("" if t.get("answered") else " _(not answered)_")
                 for t in turns if t.get("text")]
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": cut("*Last turns*\n" + "\n".join(lines), 3000)}})
    products = handoff.context.get("products") or []
    if products:
        lines = [f"• {escape(p['title'])} — {escape(p['price'] or 'no price')} (`{escape(p['id'])}`)" for p in products]
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": cut("*In view*\n" + "\n".join(lines), 3000)}})
    value = str(handoff.id)

    def button(action_id: str, label: str, **extra: Any) -> dict[str, Any]:
        return {"type": "button", "action_id": action_id, "text": {"type": "plain_text", "text": label},
                "value": value, **extra}

    elements: list[dict[str, Any]] = []
    if handoff.status == "open":
        if handoff.taken_by is None:
            elements.append(button("handoff_take", "Take", style="primary"))
        elements.append(button("handoff_close", "Close"))
        elements += [button(a, label) for a, label, mode in MODE_BUTTONS if mode != handoff.mode]
    if handoff.origin in FAQ_ORIGINS and handoff.status != "erased":
        elements.append(button("handoff_faq", "Save as FAQ"))
    if elements:
        blocks.append({"type": "actions", "block_id": f"handoff-{handoff.id}", "elements": elements})
    blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": state_line(handoff)}]})
    return headline, blocks


def state_line(handoff: Handoff) -> str:
    """Who holds the conversation and in which mode, as the root message shows it."""
    if handoff.status != "open":
        by = f" by <@{handoff.closed_by}>" if handoff.closed_by and handoff.closed_by[:1] in "UW" else ""
        return f"*Closed* ({escape(handoff.close_reason or 'closed')}{by}): the assistant answers the customer again."
    holder = f"Held by <@{handoff.taken_by}>" if handoff.taken_by else "*Waiting for staff*"
    return (f"{holder} · mode: *{MODE_NAMES.get(handoff.mode, handoff.mode)}*. Reply in this thread to answer the "
            "customer; `!close` hands back, `!bot on` / `!bot off` / `!bot assist` switch who answers.")


def thread_text(item: Delivery) -> str:
    """A transcript message as posted in the staff thread."""
    text = escape(item.text)
    if item.role == "customer":
        return cut(f"*{escape(item.author or 'Customer')} (customer):* {text}", MAX_TEXT)
    if item.role == "assistant":
        return cut(f"_Assistant:_ {text}", MAX_TEXT)
    if item.kind == "mode":
        return f"<@{item.author}> switched this conversation to *{item.text}* mode."
    if item.kind == "faq":
        return f"<@{item.author}> saved an answer of this conversation as FAQ entry `{escape(item.text)}`."
    if item.kind == "closed":
        who = f"<@{item.author}>" if item.author and item.author[:1] in "UW" else escape(item.author or "")
        return f"Handed back to the assistant ({escape(item.text)}{', by ' + who if who else ''})."
    return cut(f"_{text}_", MAX_TEXT)


class HandoffDesk:
    """Listens to the handoff channel and delivers the outbox to it (and to Slack customers)."""

    def __init__(self, bot: "SlackBot", handoffs: Handoffs) -> None:
        self.bot, self.handoffs = bot, handoffs
        self.store = handoffs.store
        self.channel = str(bot.runtime.settings.slack_handoff_channel)
        self.staff = bot.runtime.settings.staff_users()
        self._names: dict[str, str | None] = {}
        self.assist, self.faq = DraftDesk(self), FaqDesk(self)

    # ----- Slack in --------------------------------------------------------------------------------
    def register(self, app) -> None:
        """Add the listeners (before the app's catch-all event listener)."""
        async def in_thread(event: dict) -> bool:
            return (event.get("type") == "message" and event.get("channel") == self.channel
                    and bool(event.get("thread_ts")) and event.get("thread_ts") != event.get("ts")
                    and event.get("subtype") in convert.HUMAN_SUBTYPES and not event.get("bot_id")
                    and bool(event.get("user")))

        @app.event("message", matchers=[in_thread])
        async def on_thread_reply(body: dict, event: dict) -> None:
            self.bot.spawn("handoff-reply", self.on_reply(body, event), _nothing)

        @app.action(re.compile(r"^handoff_(take|close|bot|person|assist)$"))
        async def on_button(ack, body: dict, action: dict, respond) -> None:
            await ack()
            self.bot.spawn(action["action_id"], self.on_button(body, action, respond), _nothing)

        self.assist.register(app)
        self.faq.register(app)

    async def on_reply(self, body: dict, event: dict) -> None:
        """A message in a handoff thread: a command, a reply for the customer, or refused."""
        key = convert.event_key(body)
        if key and not self.bot.runtime.memory.first_sighting(key):
            log.info("handoff event %s already handled; skipping the retry", body.get("event_id"))
            return
        channel, thread, user = event["channel"], event["thread_ts"], str(event["user"])
        handoff = self.store.by_thread(channel, thread)
        if handoff is None:
            return  # a thread that is not a handoff
        if handoff.status == "erased":
            return await self.ephemeral(user, thread, ERASED)
        if user not in self.staff:
            log.info("refused a handoff reply from %s", user)
            return await self.ephemeral(user, thread, NOT_STAFF)
        if handoff.status != "open":
            return await self.ephemeral(user, thread, CLOSED)
        text = convert.clean_text(event.get("text"))
        command = COMMAND.match(text.strip())
        if command:  # never relayed
            return await self.command(handoff, user, command)
        files = [str(f.get("name") or f.get("title") or "file") for f in event.get("files") or []]
        name = await self.staff_name(user)
        relayed = self.handoffs.staff_reply(handoff, user, name, text, dedup=f"slack:{channel}:{event['ts']}",
                                            attachments=files, remote_id=event["ts"])
        if not relayed:
            log.info("staff message %s was relayed before; not again", event["ts"])

    async def command(self, handoff: Handoff, user: str, command: re.Match) -> None:
        if command.group(1).lower() == "close":
            self.handoffs.close(handoff, user, await self.staff_name(user))
            return
        self.store.set_mode(handoff, MODE_OF[command.group(2).lower()], user)

    async def on_button(self, body: dict, action: dict, respond) -> None:
        user = str((body.get("user") or {}).get("id"))
        handoff = self.store.get(int(action.get("value") or 0)) if str(action.get("value") or "").isdigit() else None
        if user not in self.staff:
            await respond(text=NOT_STAFF, response_type="ephemeral", replace_original=False)
            return
        if handoff is None or handoff.status != "open":
            await respond(text=ERASED if handoff and handoff.status == "erased" else CLOSED,
                          response_type="ephemeral", replace_original=False)
            return
        kind = action["action_id"].removeprefix("handoff_")
        if kind == "close":
            self.handoffs.close(handoff, user, await self.staff_name(user))
        elif kind == "take":
            self.store.take(handoff, user)
        else:
            self.store.set_mode(handoff, kind, user)

    async def ephemeral(self, user: str, thread: str, text: str) -> None:
        await self.bot.client.chat_postEphemeral(channel=self.channel, user=user, thread_ts=thread, text=text)

    async def staff_name(self, user: str) -> str | None:
        """The staff member's display name (users.info, cached), None when Slack doesn't say."""
        if user not in self._names:
            try:
                info = await self.bot.client.users_info(user=user)
                member = info.get("user") or {}
                profile = member.get("profile") or {}
                self._names[user] = (profile.get("display_name") or profile.get("real_name") or member.get("real_name")
                                     or member.get("name") or None)
            except SlackApiError as exc:
                log.info("users.info failed for a staff member: %s", exc.response.get("error"))
                return None
        return self._names[user]

    # ----- Slack out -------------------------------------------------------------------------------------
    def outboxes(self) -> list[Outbox]:
        """The delivery loops: staff threads, and Slack customers' DMs."""
        return [Outbox(self.handoffs, str(desk_target("slack")), self.to_desk),
                Outbox(self.handoffs, customer_target(convert.PLATFORM), self.to_customer)]

    async def to_desk(self, item: Delivery) -> str | None:
        client, handoff = self.bot.client, item.handoff
        try:
            if item.kind == "delete":
                data = json.loads(item.text)
                for ts in data["ts"]:
                    try:
                        await client.chat_delete(channel=data["channel"], ts=ts)
                    except SlackApiError as exc:  # a staff member's own message needs their token: left as is
                        log.info("chat.delete refused (%s)", exc.response.get("error"))
                return None
            if handoff.status == "erased":
                return None
            if item.kind == "open":
                text, blocks = root_blocks(handoff)
                resp = await client.chat_postMessage(channel=self.channel, text=text, blocks=blocks)
                self.store.set_thread(handoff.id, str(resp["channel"] or self.channel), str(resp["ts"]))
                return str(resp["ts"])
            if item.kind in ("mode", "closed") and handoff.thread_ts:
                await self.update_root(handoff)  # the channel shows who holds it without opening the thread
            channel = handoff.channel or self.channel
            if item.kind == "draft":
                text, blocks = draft_blocks(item)
                resp = await client.chat_postMessage(channel=channel, thread_ts=handoff.thread_ts, text=text,
                                                     blocks=blocks)
            else:
                resp = await client.chat_postMessage(channel=channel, thread_ts=handoff.thread_ts, text=thread_text(item))
            return str(resp["ts"])
        except SlackApiError as exc:
            error = str(exc.response.get("error"))
            if error in PERMANENT:
                raise
            raise Retry(error) from None

    async def update_root(self, handoff: Handoff) -> None:
        """Rewrite the thread's first message with the handoff's current state (chat.update); a root that is
        gone is left as is, a rate limit or network failure retries the whole delivery."""
        text, blocks = root_blocks(handoff)
        try:
            await self.bot.client.chat_update(channel=handoff.channel or self.channel, ts=str(handoff.thread_ts),
                                              text=text, blocks=blocks)
        except SlackApiError as exc:
            if str(exc.response.get("error")) not in PERMANENT:
                raise
            log.info("the root message of handoff %d could not be updated (%s)", handoff.id, exc.response.get("error"))

    async def to_customer(self, item: Delivery) -> str | None:
        """A staff reply or hand-back for a customer who talks to the shop in a Slack DM."""
        if not item.handoff.chat_id or item.handoff.status == "erased":
            return None
        last = None
        for message in render_reply(Reply(text=item.text)):
            resp = await self.bot.client.chat_postMessage(channel=item.handoff.chat_id, **message)
            last = str(resp["ts"])
        return last


async def _nothing() -> None:
    return None

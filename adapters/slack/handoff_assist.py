"""Assisted mode in a Slack handoff thread: the assistant's draft answers with Send / Edit / Discard, and the
edit modal; nothing reaches the customer until a staff member approves."""

from __future__ import annotations

import logging
import re
from typing import TYPE_CHECKING, Any

from adapters.slack.render import cut, escape
from bot.handoff_store import Delivery

if TYPE_CHECKING:
    from adapters.slack.handoff import HandoffDesk

log = logging.getLogger(__name__)

NOT_STAFF = "Only staff listed in SHOPGUIDE_SLACK_STAFF can answer customers here; your message was not sent."
EDIT_VIEW = "handoff_draft_edit"
GONE = "This draft was already sent or discarded; nothing more was sent."
MAX_DRAFT = 2900  # a section block's text is at most 3,000 characters
MAX_EDIT = 3000  # a plain_text_input's initial value


def draft_blocks(item: Delivery) -> tuple[str, list[dict[str, Any]]]:
    """A draft as posted in the thread: the assistant's answer and its three buttons (value: the draft's id)."""
    value = str(item.id)
    text = f"_Draft answer (not sent yet):_\n{escape(item.text)}"
    return cut(text, 39000), [
        {"type": "section", "text": {"type": "mrkdwn", "text": cut(text, MAX_DRAFT)}},
        {"type": "actions", "block_id": f"draft-{item.id}", "elements": [
            {"type": "button", "action_id": "draft_send", "text": {"type": "plain_text", "text": "Send"},
             "value": value, "style": "primary"},
            {"type": "button", "action_id": "draft_edit", "text": {"type": "plain_text", "text": "Edit"}, "value": value},
            {"type": "button", "action_id": "draft_discard", "text": {"type": "plain_text", "text": "Discard"},
             "value": value}]},
    ]


def decided_blocks(text: str, note: str) -> list[dict[str, Any]]:
    """A decided draft: its words kept for the record, the buttons replaced by who did what."""
    return [{"type": "section", "text": {"type": "mrkdwn", "text": cut(f"_Draft answer:_\n{escape(text)}", MAX_DRAFT)}},
            {"type": "context", "elements": [{"type": "mrkdwn", "text": note}]}]


def edit_view(draft_id: int, text: str) -> dict[str, Any]:
    """The modal that opens on Edit, prefilled with the draft."""
    return {"type": "modal", "callback_id": EDIT_VIEW, "private_metadata": str(draft_id),
            "title": {"type": "plain_text", "text": "Edit the answer"},
            "submit": {"type": "plain_text", "text": "Send"}, "close": {"type": "plain_text", "text": "Cancel"},
            "blocks": [{"type": "input", "block_id": "answer", "label": {"type": "plain_text", "text": "Answer"},
                        "element": {"type": "plain_text_input", "action_id": "value", "multiline": True,
                                    "initial_value": text[:MAX_EDIT]}}]}


class DraftDesk:
    """The buttons under drafts and the edit modal, for the staff listed in SHOPGUIDE_SLACK_STAFF."""

    def __init__(self, desk: "HandoffDesk") -> None:
        self.desk = desk

    def register(self, app) -> None:
        @app.action(re.compile(r"^draft_(send|edit|discard)$"))
        async def on_draft(ack, body: dict, action: dict, respond) -> None:
            await ack()
            self.desk.bot.spawn(action["action_id"], self.on_button(body, action, respond), _nothing)

        @app.view(EDIT_VIEW)
        async def on_edit(ack, body: dict, view: dict) -> None:
            text = str(((view.get("state") or {}).get("values") or {}).get("answer", {}).get("value", {})
                       .get("value") or "")
            if not text.strip():
                await ack(response_action="errors", errors={"answer": "The answer is empty."})
                return
            await ack()
            self.desk.bot.spawn("draft edit", self.send(body, view, text), _nothing)

    async def on_button(self, body: dict, action: dict, respond) -> None:
        user = str((body.get("user") or {}).get("id"))
        if user not in self.desk.staff:
            await respond(text=NOT_STAFF, response_type="ephemeral", replace_original=False)
            return
        draft_id = int(action["value"]) if str(action.get("value") or "").isdigit() else 0
        kind = action["action_id"].removeprefix("draft_")
        store = self.desk.store
        if kind == "edit":
            found = store.draft(draft_id)
            if found is None or found[0].status != "open":
                await respond(text=GONE, response_type="ephemeral", replace_original=False)
                return
            await self.desk.bot.client.views_open(trigger_id=body["trigger_id"], view=edit_view(draft_id, found[1]))
            return
        if kind == "send":
            found = store.draft(draft_id)
            sent = found is not None and found[0].status == "open" and self.desk.handoffs.send_draft(
                draft_id, user, await self.desk.staff_name(user))
            if not sent:
                await respond(text=GONE, response_type="ephemeral", replace_original=False)
                return
            note = f"Sent to the customer by <@{user}>."
            text = found[1]  # type: ignore[index]
        else:
            decided = store.decide_draft(draft_id, user, send=False)
            if decided is None:
                await respond(text=GONE, response_type="ephemeral", replace_original=False)
                return
            note, text = f"Discarded by <@{user}>; nothing was sent.", decided[1]
        await self.mark(body, text, note)

    async def send(self, body: dict, view: dict, text: str) -> None:
        """The edit modal was submitted: send the edited words (marked as from the person), once."""
        user = str((body.get("user") or {}).get("id"))
        if user not in self.desk.staff:
            log.info("refused a draft edit from %s", user)
            return
        meta = str(view.get("private_metadata") or "")
        draft_id = int(meta) if meta.isdigit() else 0
        found = self.desk.store.draft(draft_id)
        if found is None or found[0].status != "open":
            return
        handoff = found[0]
        if self.desk.handoffs.send_draft(draft_id, user, await self.desk.staff_name(user), edited=text):
            await self.desk.bot.client.chat_postMessage(
                channel=handoff.channel or self.desk.channel, thread_ts=handoff.thread_ts,
                text=cut(f"<@{user}> edited the draft and sent:\n{escape(text)}", 39000))

    async def mark(self, body: dict, text: str, note: str) -> None:
        """Replace the draft's buttons with what was done (the draft message is the one the button was on)."""
        container = body.get("container") or {}
        channel = container.get("channel_id") or (body.get("channel") or {}).get("id")
        ts = container.get("message_ts") or (body.get("message") or {}).get("ts")
        if channel and ts:
            await self.desk.bot.client.chat_update(channel=channel, ts=ts, text=note,
                                                   blocks=decided_blocks(text, note))


async def _nothing() -> None:
    return None

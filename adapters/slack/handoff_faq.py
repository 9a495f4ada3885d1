"""Save as FAQ under a Slack handoff that began with an unanswered store question: a modal with the customer's
question and the staff answer, editable, stored through the normal FAQ ingestion with no link to the customer."""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Any

from adapters.slack.handoff_assist import NOT_STAFF
from bot.handoff_store import desk_target
from knowledge.ingest import store_faq
from shopguide.errors import ShopguideError

if TYPE_CHECKING:
    from adapters.slack.handoff import HandoffDesk

log = logging.getLogger(__name__)

FAQ_VIEW = "handoff_faq_save"
NOT_A_QUESTION = "This handoff did not begin with a store question, so there is nothing to save as FAQ."
GONE = "This conversation was deleted at the customer's request; nothing can be saved from it."
MAX_FIELD = 3000


def faq_view(handoff_id: int, question: str, answer: str) -> dict[str, Any]:
    """The modal: the question (the customer's words) and the answer (what staff wrote), both editable, so no
    personal detail need be saved."""
    def field(block_id: str, label: str, value: str, hint: str) -> dict[str, Any]:
        element: dict[str, Any] = {"type": "plain_text_input", "action_id": "value", "multiline": True}
        if value.strip():
            element["initial_value"] = value[:MAX_FIELD]
        return {"type": "input", "block_id": block_id, "label": {"type": "plain_text", "text": label},
                "hint": {"type": "plain_text", "text": hint}, "element": element}

    return {"type": "modal", "callback_id": FAQ_VIEW, "private_metadata": str(handoff_id),
            "title": {"type": "plain_text", "text": "Save as FAQ"},
            "submit": {"type": "plain_text", "text": "Save"}, "close": {"type": "plain_text", "text": "Cancel"},
            "blocks": [field("question", "Question", question, "As any customer would ask it: remove names, order "
                             "numbers and other personal details."),
                       field("answer", "Answer", answer, "Shown to customers word for word.")]}


def submitted(view: dict[str, Any], block_id: str) -> str:
    """A field's submitted text."""
    values = (view.get("state") or {}).get("values") or {}
    return str((values.get(block_id) or {}).get("value", {}).get("value") or "").strip()


class FaqDesk:
    """The Save as FAQ button and its modal, for the staff listed in SHOPGUIDE_SLACK_STAFF."""

    def __init__(self, desk: "HandoffDesk") -> None:
        self.desk = desk

    def register(self, app) -> None:
        @app.action("handoff_faq")
        async def on_faq(ack, body: dict, action: dict, respond) -> None:
            await ack()
            self.desk.bot.spawn("handoff_faq", self.open(body, action, respond), _nothing)

        @app.view(FAQ_VIEW)
        async def on_save(ack, body: dict, view: dict) -> None:
            errors = {b: "Please fill this in." for b in ("question", "answer") if not submitted(view, b)}
            if errors:
                await ack(response_action="errors", errors=errors)
                return
            await ack()
            self.desk.bot.spawn("handoff_faq save", self.save(body, view), _nothing)

    async def open(self, body: dict, action: dict, respond) -> None:
        user = str((body.get("user") or {}).get("id"))
        value = str(action.get("value") or "")
        handoff = self.desk.store.get(int(value)) if value.isdigit() else None
        refusal = (NOT_STAFF if user not in self.desk.staff else GONE if handoff is None or handoff.status == "erased"
                   else NOT_A_QUESTION if handoff.origin not in ("unanswered", "offer") else None)
        if refusal or handoff is None:
            await respond(text=refusal, response_type="ephemeral", replace_original=False)
            return
        answer = "\n\n".join(self.desk.store.staff_said(handoff.id))
        await self.desk.bot.client.views_open(trigger_id=body["trigger_id"],
                                              view=faq_view(handoff.id, handoff.reason or "", answer))

    async def save(self, body: dict, view: dict) -> None:
        """Store the entry (the FAQ matcher sees it at once: it reloads when the FAQ set changes)."""
        user = str((body.get("user") or {}).get("id"))
        meta = str(view.get("private_metadata") or "")
        handoff = self.desk.store.get(int(meta)) if meta.isdigit() else None
        if user not in self.desk.staff or handoff is None or handoff.status == "erased":
            log.info("refused a FAQ save from %s", user)
            return
        question, answer = submitted(view, "question"), submitted(view, "answer")
        runtime = self.desk.bot.runtime
        try:
            faq_id, report = await asyncio.to_thread(store_faq, runtime.kb, question, answer, handoff.lang)
        except ShopguideError as exc:
            log.warning("saving a FAQ entry failed: %s", exc)
            await self.desk.bot.client.chat_postEphemeral(channel=self.desk.channel, user=user,
                                                          thread_ts=handoff.thread_ts, text=f"Not saved: {exc}")
            return
        log.info("staff saved FAQ entry %s (%s)", faq_id, report.summary())
        runtime.memory.audit(f"slack:{user}", "faq_saved", faq_id)
        self.desk.store.add(handoff.id, "system", faq_id, kind="faq", author=user, target=desk_target(handoff.desk))


async def _nothing() -> None:
    return None

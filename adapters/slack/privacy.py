"""Staff privacy requests in Slack: `/shop export PLATFORM USER` (the export as a file) and
`/shop forget PLATFORM USER` (erasure after a confirm button, audited)."""

from __future__ import annotations

import json
import logging
from typing import TYPE_CHECKING

from adapters.slack import render
from adapters.slack.staff_output import StaffOutput
from bot.privacy import customer_key, erase_customer, export_customer, no_data

if TYPE_CHECKING:
    from bot.runtime import Runtime

log = logging.getLogger(__name__)

SUBCOMMANDS = ("export", "forget")
ACTIONS = ("staff_forget", "staff_forget_cancel")
HELP = ("• `/shop export PLATFORM USER` — everything held about a customer, as a JSON file "
        "(e.g. `/shop export telegram 12345`); `/shop forget PLATFORM USER` erases it, after a confirm button")
USAGE = "Whose data? `/shop {sub} PLATFORM USER`, e.g. `/shop {sub} telegram 12345`."


class PrivacyTools:
    """Export and erasure of one customer's data for staff (the caller has checked they are staff)."""

    def __init__(self, runtime: "Runtime") -> None:
        self.memory = runtime.memory
        self.settings = runtime.settings
        self.orders = getattr(getattr(runtime.kb, "store", None), "orders", None)  # `/link`s live with the orders

    def private_channel(self, channel: str | None) -> bool:
        """A customer's data is posted only to a staff channel or a direct message."""
        return bool(channel) and (channel in self.settings.staff_ids() or str(channel).startswith("D"))

    async def run(self, sub: str, args: str, actor: str, channel: str | None) -> StaffOutput:
        """Answer `/shop export ...` or `/shop forget ...`."""
        words = args.split()
        if len(words) != 2:
            return _text(USAGE.format(sub=sub))
        key = customer_key(*words)
        if sub == "export":
            return self.export(key, actor, channel)
        return self.ask_forget(key)

    def export(self, key: str, actor: str, channel: str | None) -> StaffOutput:
        """The in-chat export of a customer, uploaded as a JSON file, with an audit entry (no content)."""
        data = export_customer(self.memory, key, self.orders)
        if data is None:
            return _text(no_data(key).capitalize() + ".")
        if not self.private_channel(channel):
            return _text("A customer's data is only posted in a staff channel or in a direct message with me. "
                         "Run the command there.")
        self.memory.audit(actor, "export_customer", key)
        rows = sum(len(v) for v in data.values() if isinstance(v, list))
        name = "shopguide-export-" + key.replace(":", "-") + ".json"
        text = f"Everything held about {key} ({rows} records) is in the file {name}."
        return StaffOutput(render.plain_messages(text), chart=json.dumps(data, ensure_ascii=False, indent=2).encode(),
                           chart_name=name, chart_title=f"Data export of {key}", notes={"user": key, "rows": rows})

    def ask_forget(self, key: str) -> StaffOutput:
        """How much would go, with Erase and Cancel buttons; nothing is erased yet."""
        rows = self.memory.count_rows(key)
        if rows == 0:
            return _text(no_data(key).capitalize() + ".")
        erase = render.button("Erase everything", "staff_forget", key, "danger")
        erase["confirm"] = {"title": {"type": "plain_text", "text": "Erase this customer?"},
                            "text": {"type": "plain_text", "text": f"{rows} records of {key} go for good."},
                            "confirm": {"type": "plain_text", "text": "Erase"},
                            "deny": {"type": "plain_text", "text": "Keep"}, "style": "danger"}
        text = (f"This erases everything held about {key} ({rows} records: preferences, history, conversation). "
                "It cannot be undone.")
        blocks = [render.section(render.escape(text)),
                  render.actions([erase, render.button("Cancel", "staff_forget_cancel", key)], block_id="forget")]
        return StaffOutput([{"text": render.escape(text), "blocks": blocks}], notes={"user": key, "rows": rows})

    async def action(self, action_id: str, key: str, actor: str) -> StaffOutput:
        """A pressed Erase or Cancel button."""
        if action_id == "staff_forget_cancel":
            return _text(f"Nothing was erased for {key}.")
        deleted = erase_customer(self.memory, key, actor, self.orders)
        if not deleted:
            return _text(no_data(key).capitalize() + "; nothing was erased.")
        entry = self.memory.audit_log(key)[-1]
        log.info("a customer was erased by %s", actor)
        who = render.escape(actor.rsplit(":", 1)[-1])
        return StaffOutput([{"text": f"Erased {render.escape(key)}: {deleted} records deleted by <@{who}> "
                                     f"at {entry['created_at']}.", "blocks": None}], notes={"deleted": deleted})


def _text(text: str) -> StaffOutput:
    return StaffOutput(render.plain_messages(text))

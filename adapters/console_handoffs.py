"""`shopguide handoffs`: staff without Slack list open handoffs, answer one, or hand it back, from the terminal."""

from __future__ import annotations

import argparse
import getpass

from bot.handoff import Handoffs
from bot.handoff_store import HandoffStore
from bot.memory import Memory
from shopguide.errors import UserFacingError
from shopguide.settings import Settings

MAX_SHOWN = 5


def open_handoffs(settings) -> tuple[Memory, Handoffs]:
    """The handoffs of the configured memory database (no models are loaded)."""
    memory = Memory(settings.memory_target)
    return memory, Handoffs.build(HandoffStore(memory.db, memory.lock), settings)


def main(args: argparse.Namespace, settings: Settings) -> int:
    """List, reply to or close handoffs; a running bot delivers what is written here."""
    memory, handoffs = open_handoffs(settings)
    store = handoffs.store
    try:
        handoffs.expire()
        action = args.handoff_action or "list"
        if action == "list":
            shown = store.list_open()
            if not shown:
                print("No open handoffs.")
            for h in shown:
                print(f"#{h.id}  {h.user_name or 'a customer'} on {h.platform}  since {h.created_at}  "
                      f"mode: {h.mode}  desk: {h.desk or 'none'}")
                print(f"    why: {(h.reason or '').splitlines()[0][:200] if h.reason else '(no words)'}")
                for p in h.context.get("products") or []:
                    print(f"    in view: {p['title']} — {p['price'] or 'no price'} ({p['id']})")
                for m in store.transcript(h.id)[-MAX_SHOWN:]:
                    if m["kind"] in ("text", "mode"):
                        print(f"    {m['role']}: {(m['text'] or '')[:200]}")
            return 0
        handoff = store.get(args.id)
        if handoff is None or handoff.status != "open":
            raise UserFacingError(f"there is no open handoff #{args.id} (see `shopguide handoffs list`)")
        staff = f"console:{getpass.getuser()}"
        if action == "reply":
            handoffs.staff_reply(handoff, staff, args.name, args.text, dedup=None)  # type: ignore[arg-type]
            print(f"Queued for the customer of #{handoff.id}; the running {handoff.platform} bot delivers it.")
        else:
            handoffs.close(handoff, staff, args.name)
            print(f"Handoff #{handoff.id} is closed; the customer is told the assistant answers again.")
        return 0
    finally:
        memory.close()

"""The console adapter: an interactive chat in the terminal with rich rendering, or one turn as JSON; while staff
hold the conversation (a handoff) it says so, and their replies (`shopguide handoffs reply`) appear in the session."""

from __future__ import annotations

import asyncio
import json
import sys
from typing import Any

from rich.console import Console, Group
from rich.markup import escape
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from adapters.outbox import Outbox, worker_name
from bot.handoff_store import customer_target
from bot.i18n import tr
from bot.present import card_stock_text, format_price
from bot.types import IncomingMessage, ProductCard, Reply

PLATFORM = "console"
HELD = "(handoff #{id}: {who} holds this conversation ({mode} mode); their replies appear here)"


def make_message(text: str, user: str, action: str | None = None) -> IncomingMessage:
    """A console turn as the core's message type."""
    return IncomingMessage(platform=PLATFORM, user_id=user, chat_id=user, text=text, action=action)


def replies_to_json(replies: list[Reply]) -> dict[str, Any]:
    """The `--json` document: `{"replies": [...]}`."""
    return {"replies": [r.to_dict() for r in replies]}


def _stock_label(card: ProductCard) -> Text:
    style = {True: "green", False: "red"}.get(card.in_stock, "dim")  # type: ignore[arg-type]
    return Text(card_stock_text(card), style=style)


def render_card(position: int, card: ProductCard) -> Panel:
    """One product card: title, price, stock and key attributes."""
    table = Table.grid(padding=(0, 1))
    table.add_column(style="bold")
    table.add_column()
    table.add_row(tr(card.lang, "Price"), Text(format_price(card.price, card.currency, card.lang), style="bold cyan"))
    table.add_row(tr(card.lang, "Stock"), _stock_label(card))
    for key, value in card.attributes.items():
        table.add_row(key.capitalize(), escape(str(value)))
    table.add_row("SKU", Text(card.id, style="dim"))
    return Panel(table, title=f"[bold]{position}. {escape(card.title)}[/bold]", title_align="left", border_style="blue")


def render_reply(reply: Reply, start: int = 1) -> Group:
    """A reply as rich renderables; cards when there are products, text otherwise."""
    parts: list[Any] = []
    intro = (reply.data or {}).get("intro") if reply.products else None
    parts.append(Text(intro if intro else reply.text))
    start = int((reply.data or {}).get("start", start))
    for i, card in enumerate(reply.products, start=start):
        parts.append(render_card(i, card))
    if reply.buttons:
        labels = "   ".join(f"[{b.label}]" for b in reply.buttons)
        parts.append(Text(labels, style="dim"))
    return Group(*parts)


async def chat_once(assistant, text: str, user: str) -> list[Reply]:
    """One turn through the core."""
    return await assistant.handle(make_message(text, user))


def _handoffs(assistant):
    services = getattr(assistant, "services", None)
    return getattr(services, "handoffs", None)


def handoff_state(assistant, user: str) -> dict[str, Any] | None:
    """The user's open handoff as the console shows it (id, mode, who holds it), None when there is none."""
    handoffs = _handoffs(assistant)
    handoff = handoffs.store.active(make_message("", user).user_key) if handoffs is not None else None
    if handoff is None:
        return None
    return {"id": handoff.id, "mode": handoff.mode, "held_by": handoff.taken_by, "desk": handoff.desk}


def handoff_line(state: dict[str, Any] | None) -> str | None:
    """A line saying a person holds the conversation (not while the assistant answers in bot mode)."""
    if state is None or state["mode"] == "bot":
        return None
    who = state["held_by"] or "a person from the shop (not taken yet)"
    return HELD.format(id=state["id"], who=who, mode=state["mode"])


def relay(assistant, user: str, show) -> Outbox | None:
    """The delivery loop of this console user's handoff messages (staff replies, hand-backs): `show(text)`."""
    handoffs = _handoffs(assistant)
    if handoffs is None:
        return None

    async def deliver(item) -> None:
        show(item.text)

    return Outbox(handoffs, customer_target(PLATFORM), deliver, chat_id=user)


async def _once(assistant, text: str, user: str) -> tuple[list[str], list[Reply]]:
    """What staff sent since the last turn, then the turn's replies."""
    relayed: list[str] = []
    outbox = relay(assistant, user, relayed.append)
    if outbox is not None:
        worker = worker_name(outbox.target)
        while await outbox.step(worker):
            pass
    return relayed, await chat_once(assistant, text, user)


def run_once(assistant, text: str, user: str, as_json: bool, out=None) -> int:
    """Answer one message and print it (rich, or one JSON object), after what staff sent meanwhile."""
    relayed, replies = asyncio.run(_once(assistant, text, user))
    state = handoff_state(assistant, user)
    if as_json:
        doc = {**replies_to_json(replies), "staff": relayed, "handoff": state}
        (out or sys.stdout).write(json.dumps(doc, ensure_ascii=False) + "\n")
    else:
        console = Console(file=out) if out else Console()
        for text_ in relayed:
            console.print(Panel(escape(text_), border_style="magenta"))
        for reply in replies:
            console.print(render_reply(reply))
        if line := handoff_line(state):
            console.print(Text(line, style="dim"))
    return 0


def run_interactive(assistant, user: str) -> int:
    """A chat loop until EOF, "quit" or Ctrl-C."""
    console = Console()
    console.print(Panel("Shop assistant — type a message, “help” for ideas, “quit” to leave.", border_style="green"))

    async def loop() -> None:
        stop = asyncio.Event()
        outbox = relay(assistant, user, lambda text: console.print(Panel(escape(text), border_style="magenta")))
        task = asyncio.create_task(outbox.run(stop)) if outbox is not None else None
        try:
            await chat(stop)
        finally:
            stop.set()
            if task is not None:
                await task

    async def chat(stop: asyncio.Event) -> None:
        last: list[Reply] = await assistant.handle(make_message("hello", user))
        for reply in last:
            console.print(render_reply(reply))
        while True:
            try:
                text = await asyncio.to_thread(console.input, "[bold green]you>[/bold green] ")
            except (EOFError, KeyboardInterrupt):
                console.print()
                return
            if text.strip().lower() in ("quit", "exit", ":q"):
                return
            replies = await assistant.handle(make_message(text, user))
            for reply in replies:
                console.print(render_reply(reply))
            if line := handoff_line(handoff_state(assistant, user)):
                console.print(Text(line, style="dim"))
            last = replies

    try:
        asyncio.run(loop())
    except KeyboardInterrupt:
        pass
    return 0

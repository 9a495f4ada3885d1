"""What a staff `/shop` command answers (`StaffOutput`) and the helpers that build one from text."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from adapters.slack import render


@dataclass
class StaffOutput:
    """What a staff command answers: messages, an optional chart file, and details for logs and tests."""

    messages: list[dict[str, Any]]
    chart: bytes | None = None
    chart_name: str = "chart.png"
    chart_title: str = ""
    notes: dict[str, Any] = field(default_factory=dict)


def mrkdwn_message(text: str) -> dict[str, Any]:
    """One message of already-escaped mrkdwn (split if long)."""
    pieces = render.split_text(text) or [" "]
    return {"text": text[: render.MAX_FALLBACK_CHARS], "blocks": [render.section(p) for p in pieces[: render.MAX_BLOCKS]]}


def mrkdwn_output(text: str) -> StaffOutput:
    """One message of already-escaped mrkdwn."""
    return StaffOutput([mrkdwn_message(text)])


def text_output(text: str) -> StaffOutput:
    """Plain text, escaped and split into messages."""
    return StaffOutput(render.plain_messages(text))

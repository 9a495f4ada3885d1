"""Slack payloads to the core's message type, and `/shop` command text to its parts. Pure functions."""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass, field
from typing import Any

from bot.types import IncomingMessage
from knowledge.filters import SearchFilters

PLATFORM = "slack"
MAX_TEXT_CHARS = 40000  # Slack's own message limit; the core cuts longer input with a notice
# Message subtypes that still carry a person's words; every other subtype (edits, joins, bots) is ignored.
HUMAN_SUBTYPES = {None, "thread_broadcast", "file_share"}

EVENT_KEY_PREFIX = "slack:event:"  # the delivery claims of Events API deliveries (the claims table is shared)
_MENTION = re.compile(r"<@[UW][A-Z0-9]+(?:\|[^>]*)?>")
_CHANNEL = re.compile(r"<#[CGD][A-Z0-9]+(?:\|([^>]*))?>")
_SPECIAL = re.compile(r"<!(?:subteam\^[A-Z0-9]+|here|channel|everyone)(?:\|([^>]*))?>")
_LINK = re.compile(r"<((?:https?|mailto):[^>|]+)(?:\|([^>]*))?>")
_SPACES = re.compile(r"[ \t\u00a0]+")


def unescape(text: str) -> str:
    """Undo Slack's escaping of `&`, `<` and `>`."""
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def clean_text(text: str | None) -> str:
    """A message's words: mentions removed, links and channels as text, entities unescaped."""
    text = text or ""
    text = _MENTION.sub(" ", text)
    text = _CHANNEL.sub(lambda m: f"#{m.group(1)}" if m.group(1) else " ", text)
    text = _SPECIAL.sub(lambda m: m.group(1) or " ", text)
    text = _LINK.sub(lambda m: m.group(2) or m.group(1), text)
    text = unescape(text)
    lines = [_SPACES.sub(" ", line).strip() for line in text.replace("\r", "").split("\n")]
    return "\n".join(line for line in lines if line)[:MAX_TEXT_CHARS]


def thread_ts(event: dict[str, Any]) -> str | None:
    """The thread a reply to this message belongs in: its thread, or a new one under it."""
    return event.get("thread_ts") or event.get("ts")


def event_key(body: dict[str, Any]) -> str | None:
    """The de-duplication key of an Events API delivery (retries share the event_id)."""
    event_id = body.get("event_id")
    return f"{EVENT_KEY_PREFIX}{event_id}" if event_id else None


def answered_in_thread(messages: list[dict[str, Any]], bot_id: str | None, after_ts: object) -> bool:
    """Whether a thread (conversations.replies' messages) holds a message of bot `bot_id` posted after `after_ts`:
    the reply to the message at `after_ts` was sent (one user's turns run in order, so no later turn of theirs
    has answered yet)."""
    try:
        after = float(after_ts)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return False
    for message in messages:
        try:
            later = float(message.get("ts")) > after
        except (TypeError, ValueError):
            continue
        if later and bot_id and message.get("bot_id") == bot_id:
            return True
    return False


def is_direct_message(event: dict[str, Any]) -> bool:
    """True for a person's message in a DM with the bot."""
    return (event.get("type") == "message" and event.get("channel_type") == "im"
            and event.get("subtype") in HUMAN_SUBTYPES and not event.get("bot_id") and bool(event.get("user")))


def from_event(event: dict[str, Any]) -> IncomingMessage | None:
    """A DM or an app_mention as the core's message; None for anything that is not a person talking."""
    if event.get("type") not in ("message", "app_mention"):
        return None
    if event.get("bot_id") or event.get("subtype") not in HUMAN_SUBTYPES:
        return None
    user, channel = event.get("user"), event.get("channel")
    if not user or not channel:
        return None
    return IncomingMessage(platform=PLATFORM, user_id=str(user), chat_id=str(channel),
                           text=clean_text(event.get("text")), locale=user_locale(event))


def user_locale(payload: dict[str, Any]) -> str | None:
    """The user's Slack locale ("de-DE") where the payload carries one, else None; a hint, never looked up.

    Slack adds a `locale` only to payloads of apps that opted in (`include_locale`): on the event or body itself,
    on its `user` object, or on a `user_profile`. Nothing here calls the Web API.
    """
    user = payload.get("user")
    for source in (payload, user if isinstance(user, dict) else {}, payload.get("user_profile") or {}):
        value = source.get("locale") if isinstance(source, dict) else None
        if isinstance(value, str) and value.strip() and len(value) <= 35:
            return value.strip()
    return None


def action_string(action: dict[str, Any]) -> str | None:
    """The core's compact action for a pressed button, e.g. `details` + `SKU1` → `d:SKU1`."""
    action_id = str(action.get("action_id") or "")
    value = str(action.get("value") or "")
    if not value:
        return None
    prefix = {"details": "d", "more_like_this": "m", "save": "s"}.get(action_id)
    if prefix:
        return f"{prefix}:{value}"
    if re.fullmatch(r"act_\d+", action_id):
        return value
    return None


def from_action(body: dict[str, Any]) -> IncomingMessage | None:
    """A pressed product or reply button as the core's message; None for buttons that are not the core's."""
    acts = body.get("actions") or []
    user = (body.get("user") or {}).get("id")
    channel = action_channel(body)
    if not acts or not user or not channel:
        return None
    action = action_string(acts[0])
    if action is None:
        return None
    return IncomingMessage(platform=PLATFORM, user_id=str(user), chat_id=str(channel), action=action,
                           user_name=(body.get("user") or {}).get("username"), locale=user_locale(body))


def action_channel(body: dict[str, Any]) -> str | None:
    """The channel of the message whose button was pressed."""
    return (body.get("channel") or {}).get("id") or (body.get("container") or {}).get("channel_id")


def action_thread(body: dict[str, Any]) -> str | None:
    """The thread the answer to a pressed button belongs in."""
    message = body.get("message") or {}
    container = body.get("container") or {}
    return message.get("thread_ts") or container.get("thread_ts") or message.get("ts") or container.get("message_ts")


# ----- the /shop command --------------------------------------------------------------------


def parse_command(text: str | None) -> tuple[str, str]:
    """`/shop` text as (subcommand, the rest); an empty command is `help`."""
    words = clean_text(text).split(None, 1)
    if not words:
        return "help", ""
    return words[0].lower(), words[1].strip() if len(words) > 1 else ""


@dataclass
class SearchRequest:
    """A staff search: the words, the filters and any filter terms that could not be read."""

    query: str
    filters: SearchFilters = field(default_factory=SearchFilters)
    problems: list[str] = field(default_factory=list)


_FILTER_KEYS = {
    "min": "min_price", "max": "max_price", "brand": "brands", "color": "colors", "colour": "colors",
    "size": "sizes", "category": "categories", "type": "types", "attr": "attributes",
}
FILTER_HELP = ("Filters: `min:50` `max:120` `brand:Ridgeline` `color:red` `size:M` `category:footwear` "
               "`type:\"hiking boots\"` `instock` `attr:waterproof=true` (repeat a filter for several values).")


def _scalar(value: str) -> Any:
    low = value.lower()
    if low in ("true", "yes"):
        return True
    if low in ("false", "no"):
        return False
    try:
        return float(value) if "." in value else int(value)
    except ValueError:
        return value


def parse_search(text: str) -> SearchRequest:
    """`/shop search` arguments: free words plus `key:value` filters."""
    try:
        tokens = shlex.split(text)
    except ValueError:  # an unbalanced quote: fall back to plain words
        tokens = text.split()
    words: list[str] = []
    lists: dict[str, list[str]] = {}
    values: dict[str, Any] = {}
    problems: list[str] = []
    for token in tokens:
        key, sep, value = token.partition(":")
        name = _FILTER_KEYS.get(key.lower()) if sep else None
        if token.lower() in ("instock", "in-stock", "in_stock"):
            values["in_stock"] = True
        elif name in ("min_price", "max_price"):
            try:
                values[name] = float(value)
            except ValueError:
                problems.append(f"{key}: needs a number, got {value!r}")
        elif name == "attributes":
            akey, eq, aval = value.partition("=")
            if not eq or not akey.strip():
                problems.append(f"attr: takes KEY=VALUE, got {value!r}")
            else:
                values.setdefault("attributes", {})[akey.strip()] = _scalar(aval.strip())
        elif name and value.strip():
            lists.setdefault(name, []).append(value.strip())
        else:
            words.append(token)
    filters = SearchFilters(**{k: tuple(v) for k, v in lists.items()}, **values)
    return SearchRequest(query=" ".join(words), filters=filters, problems=problems)

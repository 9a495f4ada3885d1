"""Pure translation of Telegram Updates into the core's `IncomingMessage`, and their classification."""

from __future__ import annotations

import re
from dataclasses import dataclass

from telegram import Message, Update

from adapters.telegram import PLATFORM
from bot.types import IncomingMessage

MAX_CALLBACK_BYTES = 64

# Commands shown in the menu (setMyCommands) and understood by the bot, with their descriptions.
COMMANDS: dict[str, str] = {
    "start": "What I can do",
    "help": "How to use the shop assistant",
    "search": "Search products, e.g. /search rain jacket",
    "prefs": "Show what I remember about you",
    "forget": "Erase everything I remember about you",
    "export": "Get your data as a JSON file",
    "human": "Ask for a person",
    "language": "Choose the reply language, e.g. /language de",
}

# What each command becomes for the core: (text, action); "{args}" is replaced by the command's text.
_COMMAND_MAP: dict[str, tuple[str, str | None]] = {
    "start": ("hello", None),
    "help": ("", "help"),
    "search": ("{args}", None),
    "prefs": ("show my preferences", None),
    "forget": ("forget me", None),
    "export": ("export my data", None),
    "human": ("", "human"),
    "language": ("/language {args}", None),
    "link": ("/link {args}", None),  # link this chat to one's orders: /link ORDER-NUMBER EMAIL
}

# Message content the bot can't read: attribute name on `Message` -> a word for the log.
_MEDIA = ("sticker", "voice", "audio", "photo", "video", "video_note", "animation", "document", "location",
          "venue", "contact", "poll", "dice", "game", "story", "paid_media", "checklist")

GROUP_TYPES = ("group", "supergroup")


@dataclass(frozen=True)
class BotIdentity:
    """Who the bot is, to recognise mentions of it and replies to it in groups."""

    id: int | None
    username: str | None


def classify_update(update: Update) -> str:
    """One word for what an update is: text, command, callback, unsupported, edited, channel_post, service or other."""
    if update.callback_query is not None:
        return "callback"
    if update.edited_message is not None or update.edited_channel_post is not None:
        return "edited"
    if update.channel_post is not None:
        return "channel_post"
    message = update.message
    if message is None:
        return "other"
    if message.text is not None:
        entities = message.entities or ()
        if entities and entities[0].type == "bot_command" and entities[0].offset == 0:
            return "command"
        return "text"
    if media_kind(message):
        return "unsupported"
    return "service"


def media_kind(message: Message) -> str | None:
    """The kind of non-text content a message carries (sticker, voice, photo, ...), if any."""
    for name in _MEDIA:
        value = getattr(message, name, None)
        if value:
            return name
    return None


def is_private(message: Message) -> bool:
    """True in a one-to-one chat with the bot."""
    return message.chat.type == "private"


def mentions_bot(message: Message, bot: BotIdentity) -> bool:
    """True when the message @-mentions the bot (by username or a text mention of its user)."""
    text = message.text or message.caption or ""
    entities = message.entities or message.caption_entities or ()
    for entity in entities:
        if entity.type == "mention" and bot.username:
            mention = message.parse_entity(entity) if message.text else message.parse_caption_entity(entity)
            if mention.lower() == f"@{bot.username.lower()}":
                return True
        if entity.type == "text_mention" and entity.user is not None and bot.id is not None and entity.user.id == bot.id:
            return True
    if bot.username and not entities:  # entities are always sent by Telegram; be lenient with hand-made updates
        return re.search(rf"(?<!\w)@{re.escape(bot.username)}\b", text, re.I) is not None
    return False


def replies_to_bot(message: Message, bot: BotIdentity) -> bool:
    """True when the message is a reply to one of the bot's own messages."""
    original = message.reply_to_message
    if original is None or original.from_user is None:
        return False
    if bot.id is not None:
        return original.from_user.id == bot.id
    return bool(bot.username) and (original.from_user.username or "").lower() == (bot.username or "").lower()


def is_addressed(message: Message, bot: BotIdentity) -> bool:
    """Private chats always; groups only when the bot is mentioned or replied to."""
    if is_private(message):
        return True
    if message.chat.type not in GROUP_TYPES:
        return False
    return mentions_bot(message, bot) or replies_to_bot(message, bot)


def strip_mention(text: str, username: str | None) -> str:
    """The text without "@botname", tidied."""
    if username:
        text = re.sub(rf"(?<!\w)@{re.escape(username)}\b[,:]?", " ", text, flags=re.I)
    return re.sub(r"[ \t]{2,}", " ", text).strip()


def _message(update: Update, message: Message, text: str = "", action: str | None = None) -> IncomingMessage | None:
    user = update.effective_user or message.from_user
    if user is None:
        return None
    return IncomingMessage(platform=PLATFORM, user_id=str(user.id), chat_id=str(message.chat.id), text=text,
                           action=action, locale=user.language_code, user_name=user.first_name or None)


def update_to_message(update: Update, bot: BotIdentity | None = None) -> IncomingMessage | None:
    """A text message or button press as the core's message; None when it isn't for the bot or can't be read."""
    if update.callback_query is not None:
        return callback_to_message(update)
    message = update.message
    if message is None or message.text is None:
        return None
    bot = bot or BotIdentity(None, None)
    if not is_addressed(message, bot):
        return None
    text = message.text if is_private(message) else strip_mention(message.text, bot.username)
    return _message(update, message, text=text)


def parse_command(text: str) -> tuple[str, str, str | None]:
    """`"/Search@shop_bot red boots"` -> `("search", "red boots", "shop_bot")`."""
    head, _, rest = text.strip().partition(" ")
    name, _, target = head.lstrip("/").partition("@")
    return name.lower(), rest.strip(), (target or None)


def command_to_message(update: Update, bot: BotIdentity | None = None) -> IncomingMessage | None:
    """A bot command (/start, /search TEXT, ...) as the core's message; None for unknown commands."""
    message = update.message
    if message is None or message.text is None:
        return None
    name, args, _ = parse_command(message.text)
    mapped = _COMMAND_MAP.get(name)
    if mapped is None:
        return None
    text, action = mapped
    return _message(update, message, text=text.replace("{args}", args), action=action)


def valid_callback_data(data: str | None) -> str | None:
    """The button's action id, or None when it is missing, oversized or contains control characters."""
    if not data or len(data.encode("utf-8")) > MAX_CALLBACK_BYTES:
        return None
    if any(ord(ch) < 32 for ch in data):
        return None
    return data


def callback_to_message(update: Update) -> IncomingMessage | None:
    """A pressed inline button as an action; None when it carries no usable data or chat."""
    query = update.callback_query
    if query is None or query.message is None:
        return None
    action = valid_callback_data(query.data)
    if action is None:
        return None
    chat = query.message.chat
    user = query.from_user
    return IncomingMessage(platform=PLATFORM, user_id=str(user.id), chat_id=str(chat.id), text="", action=action,
                           locale=user.language_code, user_name=user.first_name or None)


UPDATE_KEY_PREFIX = "telegram:update:"  # the delivery claims of updates (the claims table is shared with Slack's)


def update_key(bot_id: int | None, update_id: int) -> str:
    """The de-duplication key of an update, stable across restarts."""
    return f"{UPDATE_KEY_PREFIX}{bot_id if bot_id is not None else 'unknown'}:{update_id}"

"""The python-telegram-bot `Application` wiring: handlers, per-chat ordering, delivery with retries, serving."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import warnings
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Protocol
from urllib.parse import urlparse

from telegram import BotCommand, Bot, CallbackQuery, Message, Update
from telegram.constants import ChatAction
from telegram.error import BadRequest, Forbidden, RetryAfter, TelegramError
from telegram.ext import (
    Application,
    ApplicationBuilder,
    ApplicationHandlerStop,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    TypeHandler,
    filters,
)

from adapters.telegram.convert import (
    COMMANDS,
    BotIdentity,
    callback_to_message,
    classify_update,
    command_to_message,
    is_addressed,
    is_private,
    parse_command,
    update_key,
    update_to_message,
)
from adapters.telegram.ordering import PerChatUpdateProcessor, chat_key
from adapters.telegram.render import OutgoingMessage, render_reply, render_text
from bot.i18n import N_, tr
from bot.types import IncomingMessage, Reply

log = logging.getLogger(__name__)

# The adapter's own texts, in the language Telegram says the user's app is set to (the core's replies follow the
# conversation's language; these are sent where there is no conversation turn).
APOLOGY = N_("Sorry, something went wrong on my side. Please try again in a moment.")
TEXT_ONLY = N_("Sorry, I can only read text messages. Tell me what you're looking for, e.g. “rain jacket under 100”.")
UNKNOWN_COMMAND = N_("I don't know that command. Try /help to see what I can do.")
STALE_BUTTON = N_("Sorry, that button is no longer valid.")


def _hint(update: object) -> str | None:
    """The language code of the user's Telegram app, if the update names a user."""
    user = update.effective_user if isinstance(update, Update) else None
    return user.language_code if user is not None else None
ALLOWED_UPDATES = ["message", "edited_message", "channel_post", "edited_channel_post", "callback_query"]


class AssistantLike(Protocol):
    """Anything with the core's `handle` (the real `Assistant`, or a test wrapper)."""

    async def handle(self, msg: IncomingMessage) -> list[Reply]: ...


class SeenUpdates(Protocol):
    """Persistent de-duplication (the core's `Memory`)."""

    def first_sighting(self, key: str) -> bool: ...


def retry_seconds(exc: RetryAfter) -> float:
    """The wait Telegram asked for, in seconds."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        value = exc.retry_after
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


def is_parse_error(exc: BadRequest) -> bool:
    """True when Telegram rejected the message's markup."""
    return "can't parse entities" in exc.message.lower() or "can't find end" in exc.message.lower()


class TelegramBot:
    """The bot's behaviour: turns updates into core turns and core replies into Bot API calls."""

    def __init__(self, assistant: AssistantLike, seen: SeenUpdates | None = None, *, typing_interval: float = 4.0,
                 max_attempts: int = 5) -> None:
        self.assistant = assistant
        self.seen = seen
        self.typing_interval = typing_interval
        self.max_attempts = max_attempts
        self._answered: set[str] = set()  # callback queries answered on arrival, before their chat was free

    # ----- wiring ----------------------------------------------------------------------------
    def install(self, app: Application) -> None:
        """Register every handler and the error handler on `app`."""
        new = filters.UpdateType.MESSAGE
        app.add_handler(TypeHandler(Update, self.skip_seen), group=-1)
        app.add_handler(CommandHandler(list(COMMANDS), self.on_command, filters=new))
        app.add_handler(MessageHandler(new & filters.TEXT & ~filters.COMMAND, self.on_text))
        app.add_handler(MessageHandler(new & filters.COMMAND, self.on_unknown_command))
        app.add_handler(CallbackQueryHandler(self.on_callback))
        app.add_handler(MessageHandler(filters.ALL, self.on_other))
        app.add_error_handler(self.on_error)

    @staticmethod
    def identity(bot: Bot) -> BotIdentity:
        """The bot's id and username (known after `getMe`)."""
        try:
            return BotIdentity(bot.id, bot.username)
        except RuntimeError:  # not initialised yet
            return BotIdentity(None, None)

    # ----- handlers --------------------------------------------------------------------------
    async def skip_seen(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Stop an update whose id was handled before, even by an earlier run of the bot."""
        if self.seen is None:
            return
        key = update_key(self.identity(context.bot).id, update.update_id)
        if not self.seen.first_sighting(key):
            log.info("skipping update %s: already handled", update.update_id)
            if update.callback_query is not None:
                self._answered.discard(update.callback_query.id)
            raise ApplicationHandlerStop

    async def on_arrival(self, update: object) -> None:
        """Answer a callback query as soon as it arrives, so the button stops spinning even while the chat is busy."""
        if isinstance(update, Update) and update.callback_query is not None:
            query = update.callback_query
            await self.answer_query(query, None if callback_to_message(update) is not None
                                    else tr(_hint(update), STALE_BUTTON))
            self._answered.add(query.id)

    async def on_command(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """/start /help /search /prefs /forget /export /human."""
        msg = command_to_message(update, self.identity(context.bot))
        if msg is not None and update.effective_chat is not None:
            await self.respond(context.bot, update.effective_chat.id, msg)

    async def on_text(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Plain text: private chats always, groups when the bot is mentioned or replied to."""
        msg = update_to_message(update, self.identity(context.bot))
        if msg is None:
            log.debug("ignoring a group message not addressed to the bot")
            return
        await self.respond(context.bot, int(msg.chat_id), msg)

    async def on_unknown_command(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """A command the bot doesn't have: say so in private chats or when it was addressed to this bot."""
        message = update.message
        if message is None or message.text is None:
            return
        name, _, target = parse_command(message.text)
        me = self.identity(context.bot)
        if is_private(message) or (target and me.username and target.lower() == me.username.lower()):
            log.info("unknown command /%s", name[:32])
            await self.send_replies(context.bot, message.chat.id, [Reply(text=tr(_hint(update), UNKNOWN_COMMAND))])

    async def on_callback(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """A pressed inline button: always answered, then handled by the core as an action."""
        query = update.callback_query
        assert query is not None
        msg = callback_to_message(update)
        if query.id in self._answered:
            self._answered.discard(query.id)
        else:
            await self.answer_query(query, None if msg is not None else tr(_hint(update), STALE_BUTTON))
        if msg is None:
            log.info("callback query without usable data or chat")
            return
        await self.respond(context.bot, int(msg.chat_id), msg)

    async def on_other(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Stickers, voice and other media get a polite note; edits, channel posts and service messages are ignored."""
        kind = classify_update(update)
        message = update.message
        if kind == "unsupported" and message is not None and is_addressed(message, self.identity(context.bot)):
            log.info("unsupported message content in a %s chat", message.chat.type)
            await self.send_replies(context.bot, message.chat.id, [Reply(text=tr(_hint(update), TEXT_ONLY))])
            return
        log.debug("ignoring a %s update", kind)

    async def on_error(self, update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Log the traceback and tell the user, briefly, that something went wrong."""
        log.error("handling a Telegram update failed", exc_info=context.error)
        chat = chat_key(update)
        if chat is None:
            return
        try:
            await self.deliver(context.bot, chat, render_text(tr(_hint(update), APOLOGY))[0])
        except TelegramError as exc:
            log.warning("could not send the apology: %s", type(exc).__name__)

    # ----- talking to the core and to Telegram -----------------------------------------------
    async def respond(self, bot: Bot, chat_id: int, msg: IncomingMessage) -> None:
        """One turn: typing while the core works, then the replies in order."""
        async with self.typing(bot, chat_id):
            replies = await self.assistant.handle(msg)
        await self.send_replies(bot, chat_id, replies)

    async def send_replies(self, bot: Bot, chat_id: int, replies: list[Reply]) -> None:
        """Send every message of every reply, one after another."""
        for reply in replies:
            for out in render_reply(reply):
                try:
                    await self.deliver(bot, chat_id, out)
                except Forbidden:
                    log.info("the bot can't write to a chat (blocked or removed); dropping the reply")
                    return
                except TelegramError as exc:
                    log.warning("a %s call failed and was skipped: %s: %s", out.method, type(exc).__name__, exc)

    async def deliver(self, bot: Bot, chat_id: int, out: OutgoingMessage) -> Message | None:
        """Make one call; on 429 wait and resend the same message, on rejected HTML resend it as plain text."""
        kwargs = out.kwargs
        attempt = 0
        while True:
            attempt += 1
            try:
                return await getattr(bot, out.method)(chat_id=chat_id, **kwargs)
            except RetryAfter as exc:
                if attempt >= self.max_attempts:
                    raise
                delay = retry_seconds(exc)
                log.warning("flood control: waiting %.1f s before resending (attempt %d)", delay, attempt)
                await asyncio.sleep(delay)
            except BadRequest as exc:
                if is_parse_error(exc) and out.plain is not None and kwargs is not out.plain:
                    log.warning("Telegram rejected the HTML of a message (%s); resending it as plain text", exc.message)
                    kwargs = out.plain
                    continue
                if out.method == "send_photo" and out.fallback is not None:
                    log.warning("Telegram could not send a photo (%s); sending text instead", exc.message)
                    return await self.deliver(bot, chat_id, out.fallback)
                raise

    async def answer_query(self, query: CallbackQuery, text: str | None = None) -> None:
        """answerCallbackQuery, retried after a 429, never raising."""
        for attempt in range(1, self.max_attempts + 1):
            try:
                await query.answer(text=text)
                return
            except RetryAfter as exc:
                if attempt == self.max_attempts:
                    break
                await asyncio.sleep(retry_seconds(exc))
            except TelegramError as exc:
                log.warning("answerCallbackQuery failed: %s", type(exc).__name__)
                return

    @contextlib.asynccontextmanager
    async def typing(self, bot: Bot, chat_id: int) -> AsyncIterator[None]:
        """Show "typing…" now and every few seconds until the block ends."""
        await self._chat_action(bot, chat_id)

        async def repeat() -> None:
            while True:
                await asyncio.sleep(self.typing_interval)
                await self._chat_action(bot, chat_id)

        task = asyncio.create_task(repeat())
        try:
            yield
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    @staticmethod
    async def _chat_action(bot: Bot, chat_id: int) -> None:
        try:
            await bot.send_chat_action(chat_id=chat_id, action=ChatAction.TYPING)
        except TelegramError as exc:  # cosmetic: never worth failing a turn
            log.debug("sendChatAction failed: %s", type(exc).__name__)


@dataclass(frozen=True)
class WebhookConfig:
    """Webhook mode: Telegram POSTs updates to `url`; the local server listens on `listen:port`."""

    url: str
    listen: str
    port: int
    secret_token: str

    @property
    def url_path(self) -> str:
        """The path of the public URL, served locally too."""
        return urlparse(self.url).path.lstrip("/")


def file_url_for(base_url: str) -> str:
    """The file download base matching a Bot API base URL (".../bot" -> ".../file/bot")."""
    if base_url.endswith("/bot"):
        return base_url[: -len("/bot")] + "/file/bot"
    return base_url.rstrip("/") + "/file/bot"


def build_application(behaviour: TelegramBot, token: str, base_url: str = "https://api.telegram.org/bot", *,
                      base_file_url: str | None = None, max_concurrent_updates: int = 256, claims: Any = None,
                      user_timeout_s: float = 30.0) -> Application:
    """A PTB Application talking to `base_url`, with per-chat ordering and every handler installed; with `claims`
    (bot.claims.Claims) each update is claimed in the database first, so several workers may share the bot."""
    processor: PerChatUpdateProcessor
    builder = ApplicationBuilder()
    if claims is not None:
        from adapters.telegram.claimed import ClaimingQueue, ClaimingUpdateProcessor

        behaviour.seen = None  # the claim replaces the first-sighting check
        processor = ClaimingUpdateProcessor(claims, max_concurrent_updates, on_arrival=behaviour.on_arrival,
                                            user_timeout_s=user_timeout_s)
        builder = builder.update_queue(ClaimingQueue(claims))
    else:
        processor = PerChatUpdateProcessor(max_concurrent_updates, on_arrival=behaviour.on_arrival)
    app = (
        builder
        .token(token)
        .base_url(base_url)
        .base_file_url(base_file_url or file_url_for(base_url))
        .concurrent_updates(processor)
        .build()
    )
    behaviour.install(app)
    return app


async def register_commands(bot: Bot) -> None:
    """setMyCommands: the command menu users see."""
    try:
        await bot.set_my_commands([BotCommand(name, text) for name, text in COMMANDS.items()])
    except TelegramError as exc:
        log.warning("setMyCommands failed: %s", type(exc).__name__)


async def serve(app: Application, stop: asyncio.Event, *, webhook: WebhookConfig | None = None,
                poll_timeout: float = 10.0, poll_interval: float = 0.0) -> None:
    """Run until `stop` is set: getMe, setMyCommands, then long polling (default) or the webhook server."""
    async with app:  # initialize() calls getMe: an invalid token raises InvalidToken here
        await register_commands(app.bot)
        if webhook is not None:
            await app.updater.start_webhook(listen=webhook.listen, port=webhook.port, url_path=webhook.url_path,
                                            webhook_url=webhook.url, secret_token=webhook.secret_token,
                                            allowed_updates=ALLOWED_UPDATES)
        else:
            await app.updater.start_polling(poll_interval=poll_interval, timeout=timedelta(seconds=poll_timeout),
                                            allowed_updates=ALLOWED_UPDATES)
        await app.start()
        log.info("Telegram bot @%s running (%s)", app.bot.username, "webhook" if webhook else "long polling")
        try:
            await stop.wait()
        finally:
            if app.updater.running:
                await app.updater.stop()
            if app.running:
                await app.stop()
            log.info("Telegram bot stopped")

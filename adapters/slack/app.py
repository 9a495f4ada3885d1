"""The slack-bolt app: DMs and mentions go to the core, `/shop` to the staff tools.

Every request is acknowledged at once; the work runs in a background task that posts (or
updates) the message when it is ready. Retried events are answered once.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
from collections.abc import Awaitable, Callable, Coroutine
from typing import TYPE_CHECKING, Any

from aiohttp import web
from slack_bolt.async_app import AsyncApp
from slack_bolt.request.internals import parse_body
from slack_sdk.http_retry.builtin_async_handlers import AsyncRateLimitErrorRetryHandler
from slack_sdk.signature import SignatureVerifier
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack import convert, privacy
from adapters.slack.handoff import HandoffDesk
from adapters.slack.render import render_reply
from adapters.slack.staff import REFUSAL, StaffOutput, StaffTools
from bot.claims import Abandoned, Claims, keep_claims
from bot.i18n import N_, tr
from bot.types import IncomingMessage, Reply

if TYPE_CHECKING:
    from bot.runtime import Runtime
    from shopguide.settings import Settings

log = logging.getLogger(__name__)

APOLOGY = N_("Sorry, something went wrong on my side. Please try again in a moment.")  # in the user's locale, if known
EVENTS_PATH = "/slack/events"
MAX_RESPONSES = 5  # a response_url takes five messages
CORE_ACTIONS = re.compile(r"^(details|more_like_this|save|act_\d+)$")


def make_client(settings: "Settings") -> AsyncWebClient:
    """The Web API client: the configured base URL, and 429s retried after `Retry-After`."""
    token = settings.slack_bot_token.get_secret_value() if settings.slack_bot_token else None
    base_url = settings.slack_api_url if settings.slack_api_url.endswith("/") else settings.slack_api_url + "/"
    client = AsyncWebClient(token=token, base_url=base_url)
    client.retry_handlers.append(AsyncRateLimitErrorRetryHandler(max_retry_count=3))
    return client


class SlackBot:
    """The bolt app and the background work it starts."""

    def __init__(self, runtime: "Runtime", client: AsyncWebClient | None = None) -> None:
        settings = runtime.settings
        self.runtime = runtime
        self.client = client or make_client(settings)
        self.staff = StaffTools(runtime)
        self.privacy = privacy.PrivacyTools(runtime)
        self.signing_secret = settings.slack_signing_secret.get_secret_value() if settings.slack_signing_secret else ""
        # the HTTP answer (Slack's ack) only after the listener ran: an event is claimed in the database before
        # Slack hears it arrived, so a worker killed in between is retried by Slack instead of losing the event
        # (listeners only claim and start the turn in the background, well within Slack's 3 seconds)
        self.app = AsyncApp(client=self.client, signing_secret=self.signing_secret, name="shopguide",
                            logger=logging.getLogger("slack_bolt"), process_before_response=True)
        self._tasks: set[asyncio.Task] = set()
        self.claims = Claims.on(runtime.memory, lease_s=settings.claim_lease_s)  # several workers may share the database
        self.user_timeout_s = settings.user_lease_timeout_s
        self._bot_id: str | None = None  # this app's bot id (auth.test), read when first needed
        handoffs = runtime.services.handoffs
        self.desk = HandoffDesk(self, handoffs) if handoffs is not None and settings.slack_handoff_channel else None
        self._register()

    # ----- background work ----------------------------------------------------------------
    def spawn(self, what: str, work: Coroutine[Any, Any, None], apologize: Callable[[], Awaitable[Any]]) -> None:
        """Run `work` after the ack; a failure is logged with its traceback and the user gets an apology."""
        async def guarded() -> None:
            try:
                await work
            except Exception:
                log.exception("Slack %s failed", what)
                try:
                    await apologize()
                except Exception:
                    log.warning("could not send the apology for a failed %s", what, exc_info=True)

        task = asyncio.get_running_loop().create_task(guarded(), name=f"slack-{what}")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def drain(self, timeout: float = 30.0) -> None:
        """Wait for running background work (at shutdown)."""
        if self._tasks:
            await asyncio.wait(set(self._tasks), timeout=timeout)

    # ----- listeners ------------------------------------------------------------------------
    def _register(self) -> None:
        app = self.app

        async def is_dm(event: dict) -> bool:
            return convert.is_direct_message(event)

        @app.event("app_mention")
        async def on_mention(body: dict, event: dict) -> None:
            self._start_event(body, event)

        @app.event("message", matchers=[is_dm])
        async def on_dm(body: dict, event: dict) -> None:
            self._start_event(body, event)

        if self.desk is not None:  # staff replies in handoff threads, before the catch-all below
            self.desk.register(app)

        @app.event(re.compile(".*"))
        async def on_other_event(event: dict) -> None:
            log.debug("ignoring a %s event", event.get("type"))

        @app.command("/shop")
        async def on_shop(ack, command: dict, respond) -> None:
            if not self.staff.allowed(command.get("user_id"), command.get("channel_id")):
                log.info("refused /shop for %s in %s", command.get("user_id"), command.get("channel_id"))
                await ack(text=REFUSAL)
                return
            await ack()
            self.spawn("command", self._shop(command, respond),
                       lambda: respond(text=tr(None, APOLOGY), response_type="ephemeral"))

        @app.action(CORE_ACTIONS)
        async def on_core_action(ack, body: dict) -> None:
            await ack()
            msg = convert.from_action(body)
            if msg is None:
                return
            channel, thread = convert.action_channel(body), convert.action_thread(body)
            self.spawn("button", self.converse(msg, channel, thread),  # type: ignore[arg-type]
                       lambda: self.client.chat_postMessage(channel=channel, thread_ts=thread, text=tr(msg.locale, APOLOGY)))

        @app.action(re.compile(r"^staff_(approve|regenerate|forget|forget_cancel)$"))
        async def on_staff_action(ack, body: dict, action: dict, respond) -> None:
            await ack()
            user, channel = (body.get("user") or {}).get("id"), convert.action_channel(body)
            if not self.staff.allowed(user, channel):
                log.info("refused %s for %s", action.get("action_id"), user)
                await respond(text=REFUSAL, response_type="ephemeral", replace_original=False)
                return
            self.spawn(action["action_id"], self._staff_action(action, str(user), respond),
                       lambda: respond(text=tr(None, APOLOGY), response_type="ephemeral", replace_original=False))

    def _start_event(self, body: dict, event: dict) -> None:
        """Claim the event (skipped when another worker handled or handles it), then its turn in the background."""
        key = convert.event_key(body)
        msg = convert.from_event(event)
        if msg is None:
            if key:
                self.claims.seen_once(key)
            return
        seq = _seq(event.get("ts"))
        if key and (outcome := self.claims.claim(key, user_key=msg.user_key, seq=seq, payload=json.dumps(body))) != "claimed":
            log.info("event %s %s; skipping the retry", body.get("event_id"),
                     "already handled" if outcome == "done" else "is being handled by another worker")
            return
        channel, thread = event["channel"], convert.thread_ts(event)
        self.spawn(event.get("type", "event"), self._claimed_turn(key, msg, seq, channel, thread),
                   lambda: self.client.chat_postMessage(channel=channel, thread_ts=thread, text=tr(msg.locale, APOLOGY)))

    async def _claimed_turn(self, key: str | None, msg: IncomingMessage, seq: float | None, channel: str,
                            thread: str | None) -> None:
        """The user's turn under their lease (in order across workers); the claim completes once the replies
        were posted (or the apology for a failed turn), and is left to expire when the worker stops mid-turn."""
        try:
            async with self.claims.user_turn(msg.user_key, seq, timeout_s=self.user_timeout_s):
                await self.converse(msg, channel, thread)
                if key:
                    self.claims.complete(key)  # before the user's lease goes
        except asyncio.CancelledError:
            if key:
                self.claims.release(key)
            raise
        finally:
            if key and key in self.claims.held:
                self.claims.complete(key)

    async def recover(self, stop: asyncio.Event) -> None:
        """Until `stop`: renew this worker's leases and handle again the events whose worker died mid-turn."""
        async def again(left: Abandoned) -> None:
            body = json.loads(left.payload)
            event = body.get("event") or {}
            if await self._already_answered(event):  # the dead worker posted the reply but did not record it
                if self.claims.claim(left.key) == "claimed":
                    self.claims.complete(left.key)
                    log.info("event %s was answered before its worker died; not answering again", body.get("event_id"))
                return
            self._start_event(body, event)

        await keep_claims(self.claims, stop, again, prefix=convert.EVENT_KEY_PREFIX)

    async def _already_answered(self, event: dict) -> bool:
        """Whether this app already replied in the event's thread after it (read back with conversations.replies,
        under the history scopes the message events need); False when that cannot be read: then the event is
        answered again, as before (at least once rather than never)."""
        channel, thread = event.get("channel"), convert.thread_ts(event)
        if not channel or not thread:
            return False
        try:
            if self._bot_id is None:
                self._bot_id = (await self.client.auth_test()).get("bot_id")
            page = await self.client.conversations_replies(channel=channel, ts=thread, oldest=event.get("ts"), limit=50)
        except Exception as exc:  # a missing scope, the API unreachable: answer again rather than lose it
            log.info("could not read back the thread of an abandoned event (%s); answering it again", exc)
            return False
        return convert.answered_in_thread(page.get("messages") or [], self._bot_id, event.get("ts"))

    # ----- the work ---------------------------------------------------------------------------
    async def converse(self, msg: IncomingMessage, channel: str, thread: str | None) -> None:
        """One turn through the core, its replies posted in the thread of the message that asked."""
        replies = await self.runtime.assistant.handle(msg)
        for reply in replies:
            await self.post_reply(reply, channel, thread)

    async def post_reply(self, reply: Reply, channel: str, thread: str | None) -> None:
        """Post one core reply (split to Slack's limits); an export is uploaded as a file."""
        for message in render_reply(reply):
            await self.client.chat_postMessage(channel=channel, thread_ts=thread, **message)
        data = reply.data or {}
        if isinstance(data.get("json"), str) and data.get("filename"):
            await self.client.files_upload_v2(channel=channel, thread_ts=thread, content=data["json"],
                                              filename=str(data["filename"]), title=str(data["filename"]))

    async def _shop(self, command: dict, respond) -> None:
        channel, actor = command.get("channel_id"), f"slack:{command.get('user_id')}"
        sub, rest = convert.parse_command(command.get("text"))
        if sub in privacy.SUBCOMMANDS:
            out = await self.privacy.run(sub, rest, actor, channel)
        else:
            out = await self.staff.run(command.get("text") or "", actor)
        shared = channel in self.runtime.settings.staff_ids()  # answers stay private outside staff channels
        await self._respond(respond, out, response_type="in_channel" if shared else "ephemeral")
        if out.chart is not None and channel:
            try:
                await self.client.files_upload_v2(channel=channel, file=out.chart, filename=out.chart_name,
                                                  title=out.chart_title, initial_comment=out.chart_title)
            except Exception:
                log.warning("could not upload %s to %s", out.chart_name, channel, exc_info=True)
                await respond(text="I couldn't upload the file to this channel (is the app a member?).",
                              response_type="ephemeral")

    async def _staff_action(self, action: dict, user: str, respond) -> None:
        if action["action_id"] in privacy.ACTIONS:
            out = await self.privacy.action(action["action_id"], str(action.get("value") or ""), f"slack:{user}")
        elif action["action_id"] == "staff_approve":
            out = await self.staff.approve(str(action.get("value") or ""), f"slack:{user}")
        else:
            out = await self.staff.regenerate(str(action.get("value") or ""))
        await self._respond(respond, out, replace_original=True)

    @staticmethod
    async def _respond(respond, out: StaffOutput, **kwargs: Any) -> None:
        for i, message in enumerate(out.messages[:MAX_RESPONSES]):
            await respond(text=message["text"], blocks=message.get("blocks") or None,
                          **(kwargs if i == 0 else {k: v for k, v in kwargs.items() if k != "replace_original"}))

    # ----- HTTP ---------------------------------------------------------------------------------
    def web_app(self, path: str = EVENTS_PATH) -> web.Application:
        """The aiohttp app serving events, commands and interactivity at `path`."""
        application = self.app.web_app(path=path)
        application.middlewares.append(_malformed_guard(SignatureVerifier(self.signing_secret)))
        return application


def _malformed_guard(verifier: SignatureVerifier):
    """An aiohttp middleware: unreadable bodies get 401 when unsigned, 400 otherwise (never a 500)."""
    @web.middleware
    async def guard(request: web.Request, handler):
        if request.method == "POST":
            raw: str | None = None
            try:
                raw = await request.text()
                ok = isinstance(parse_body(raw, request.headers.get("content-type")), dict)
            except ValueError:  # JSON errors and undecodable bytes
                ok = False
            if not ok:
                valid = raw is not None and verifier.is_valid(
                    raw, request.headers.get("x-slack-request-timestamp", "0"), request.headers.get("x-slack-signature", ""))
                log.info("rejected a malformed Slack request (%s)", "signed" if valid else "unsigned")
                return web.json_response({"error": "malformed request"}, status=400 if valid else 401)
        return await handler(request)

    return guard


def create_bot(runtime: "Runtime", client: AsyncWebClient | None = None) -> SlackBot:
    """The Slack app for a runtime (tests pass a client pointed at a fake Web API)."""
    return SlackBot(runtime, client)


def _seq(ts: object) -> float | None:
    """A Slack message's `ts` as a number (it orders one channel's messages)."""
    try:
        return float(ts)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None

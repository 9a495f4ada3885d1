"""A fake Telegram Bot API server for tests and `shopguide bench telegram`: aiohttp on 127.0.0.1, random port.

It speaks the real protocol (`POST /bot<token>/<method>` with form, JSON or multipart bodies; answers
`{"ok": true, "result": ...}` or `{"ok": false, "error_code", "description", "parameters"}`), records every
call, serves queued updates to `getUpdates` long polling with Telegram's offset semantics, validates HTML
markup and length limits like Telegram does, and can inject errors (429 with retry_after, 400, ...).
"""

from __future__ import annotations

import asyncio
import html
import json
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

TOKEN = "123456:TEST-token_for_the_fake_server_0123456789"
BOT_ID = 123456
BOT_USERNAME = "shop_bot"
SEND_METHODS = ("sendmessage", "sendphoto", "senddocument")
_JSON_FIELDS = ("reply_markup", "allowed_updates", "commands", "link_preview_options", "reply_parameters",
                "entities", "caption_entities", "scope")
_INT_FIELDS = ("chat_id", "offset", "limit", "message_id", "max_connections")
_TAG = re.compile(r"<(/?)([a-zA-Z][a-zA-Z0-9-]*)(\s[^<>]*)?>")
_ENTITY = re.compile(r"&(lt|gt|amp|quot|#\d+|#x[0-9a-fA-F]+);")
_ALLOWED_TAGS = {"b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "a", "code", "pre", "tg-spoiler",
                 "span", "blockquote", "tg-emoji"}


class ApiError(Exception):
    """An error answer of the Bot API."""

    def __init__(self, code: int, description: str, retry_after: int | None = None) -> None:
        super().__init__(description)
        self.code, self.description, self.retry_after = code, description, retry_after


def tg_len(text: str) -> int:
    """Length in UTF-16 code units, as Telegram counts."""
    return len(text.encode("utf-16-le")) // 2


def parse_html(text: str) -> str:
    """The plain text of a Telegram-HTML string; raises ApiError(400) like Telegram on bad markup."""
    out: list[str] = []
    stack: list[str] = []
    i = 0
    while i < len(text):
        ch = text[i]
        if ch == "<":
            m = _TAG.match(text, i)
            name = m.group(2).lower() if m else text[i + 1:i + 10]
            if not m or name not in _ALLOWED_TAGS:
                raise ApiError(400, f'Bad Request: can\'t parse entities: Unsupported start tag "{name}" at byte offset {i}')
            if m.group(1):
                if not stack or stack[-1] != name:
                    raise ApiError(400, f'Bad Request: can\'t parse entities: Unexpected end tag at byte offset {i}')
                stack.pop()
            else:
                stack.append(name)
            i = m.end()
            continue
        if ch == "&":
            m = _ENTITY.match(text, i)
            if not m:
                raise ApiError(400, f"Bad Request: can't parse entities: Character '&' is reserved at byte offset {i}")
            out.append(html.unescape(m.group(0)))
            i = m.end()
            continue
        if ch == ">":
            raise ApiError(400, f"Bad Request: can't parse entities: Character '>' is reserved at byte offset {i}")
        out.append(ch)
        i += 1
    if stack:
        raise ApiError(400, f'Bad Request: can\'t parse entities: Can\'t find end tag corresponding to start tag "{stack[-1]}"')
    return "".join(out)


@dataclass
class Call:
    """One request the bot made."""

    method: str  # as spelled by the client, e.g. "sendMessage"
    params: dict[str, Any]
    status: int = 200
    result: Any = None
    error: str | None = None
    at: float = field(default_factory=time.monotonic)
    files: dict[str, tuple[str, bytes]] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        """True when the call succeeded."""
        return self.status == 200

    @property
    def name(self) -> str:
        """The method name, lower case."""
        return self.method.lower()

    @property
    def text(self) -> str:
        """What the user sees: the parsed message text or caption (empty for other calls)."""
        if isinstance(self.result, dict):
            return self.result.get("text") or self.result.get("caption") or ""
        return ""

    @property
    def buttons(self) -> list[dict[str, Any]]:
        """The inline keyboard buttons, flattened."""
        markup = self.params.get("reply_markup") or {}
        return [b for row in markup.get("inline_keyboard", []) for b in row]


@dataclass
class Failure:
    """An injected error for the next matching call(s)."""

    method: str
    code: int
    description: str
    retry_after: int | None
    remaining: int
    match: Callable[[dict[str, Any]], bool] | None


class FakeBotApi:
    """The fake server. `await start()`, point PTB at `base_url`, push updates, inspect `calls`."""

    def __init__(self, token: str = TOKEN, bot_id: int = BOT_ID, username: str = BOT_USERNAME,
                 max_poll_wait: float = 1.0) -> None:
        self.token, self.bot_id, self.username = token, bot_id, username
        self.max_poll_wait = max_poll_wait
        self.calls: list[Call] = []
        self.updates: list[dict[str, Any]] = []
        self.confirmed = 0  # updates with a lower id were confirmed by a getUpdates offset
        self.webhook_url = ""
        self.failures: list[Failure] = []
        self._next_update_id = 1
        self._message_ids: dict[int, int] = {}
        self._changed = asyncio.Event()
        self._closing = False
        self._runner: web.AppRunner | None = None
        self.port = 0

    # ----- lifecycle -------------------------------------------------------------------------
    async def start(self) -> "FakeBotApi":
        """Listen on 127.0.0.1 with a random port."""
        app = web.Application()
        app.router.add_route("*", "/bot{token}/{method}", self._handle)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=2.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        return self

    async def close(self) -> None:
        """Stop serving."""
        self._closing = True
        if self._runner is not None:
            await self._runner.cleanup()

    @property
    def base_url(self) -> str:
        """What PTB's `base_url` takes."""
        return f"http://127.0.0.1:{self.port}/bot"

    # ----- test controls ---------------------------------------------------------------------
    def push(self, update: dict[str, Any]) -> dict[str, Any]:
        """Queue an update for getUpdates (assigning the next update_id unless it has one)."""
        if "update_id" not in update:
            update = {"update_id": self._next_update_id, **update}
        self._next_update_id = max(self._next_update_id, update["update_id"] + 1)
        self.updates.append(update)
        self.updates.sort(key=lambda u: u["update_id"])
        self._changed.set()
        return update

    def unconfirm(self) -> None:
        """Forget every offset confirmation, so all updates are delivered again (a crash before confirming)."""
        self.confirmed = 0
        self._changed.set()

    def fail_next(self, method: str, code: int = 429, description: str | None = None, *, retry_after: int | None = None,
                  times: int = 1, match: Callable[[dict[str, Any]], bool] | None = None) -> None:
        """Answer the next `times` calls of `method` (matching `match`) with an error."""
        if description is None:
            description = f"Too Many Requests: retry after {retry_after}" if code == 429 else "Bad Request"
        self.failures.append(Failure(method.lower(), code, description, retry_after, times, match))

    def calls_of(self, method: str, chat_id: int | None = None, *, ok: bool | None = True) -> list[Call]:
        """Recorded calls of one method (successful ones by default), optionally for one chat."""
        return [c for c in self.calls if c.name == method.lower()
                and (chat_id is None or c.params.get("chat_id") == chat_id)
                and (ok is None or c.ok == ok)]

    def sent(self, chat_id: int | None = None) -> list[Call]:
        """Messages that reached the chat: successful sendMessage/sendPhoto/sendDocument, in order."""
        return [c for c in self.calls if c.name in SEND_METHODS and c.ok
                and (chat_id is None or c.params.get("chat_id") == chat_id)]

    async def wait_for(self, predicate: Callable[[], Any], timeout: float = 20.0) -> Any:
        """Wait until `predicate()` is truthy (checked after every call), and return its value."""
        deadline = time.monotonic() + timeout
        while True:
            value = predicate()
            if value:
                return value
            left = deadline - time.monotonic()
            if left <= 0:
                names = [f"{c.method}:{c.status}" for c in self.calls[-12:]]
                raise AssertionError(f"timed out waiting; last calls: {names}")
            self._changed.clear()
            try:
                await asyncio.wait_for(self._changed.wait(), min(left, 0.2))
            except asyncio.TimeoutError:
                pass

    # ----- update builders -------------------------------------------------------------------
    def chat(self, chat_id: int, chat_type: str = "private") -> dict[str, Any]:
        """A chat object."""
        if chat_type == "private":
            return {"id": chat_id, "type": "private", "first_name": "Alice"}
        return {"id": chat_id, "type": chat_type, "title": "Hiking friends"}

    @staticmethod
    def user(user_id: int, first_name: str = "Alice") -> dict[str, Any]:
        """A human user."""
        return {"id": user_id, "is_bot": False, "first_name": first_name, "language_code": "en"}

    def bot_user(self) -> dict[str, Any]:
        """The bot as a user."""
        return {"id": self.bot_id, "is_bot": True, "first_name": "Shop", "username": self.username}

    def message(self, text: str | None, chat_id: int = 42, user_id: int | None = None, *, chat_type: str = "private",
                reply_to: dict[str, Any] | None = None, first_name: str = "Alice", **content: Any) -> dict[str, Any]:
        """A Message dict with a real date, command and mention entities like Telegram's."""
        msg: dict[str, Any] = {"message_id": self._new_message_id(chat_id), "date": int(time.time()),
                               "chat": self.chat(chat_id, chat_type), "from": self.user(user_id or chat_id, first_name),
                               **content}
        if text is not None:
            msg["text"] = text
            entities = []
            m = re.match(r"/[A-Za-z0-9_]+(@[A-Za-z0-9_]+)?", text)
            if m:
                entities.append({"type": "bot_command", "offset": 0, "length": tg_len(m.group(0))})
            for m in re.finditer(r"(?<!\w)@[A-Za-z0-9_]{3,}", text):
                entities.append({"type": "mention", "offset": tg_len(text[:m.start()]), "length": tg_len(m.group(0))})
            if entities:
                msg["entities"] = entities
        if reply_to is not None:
            msg["reply_to_message"] = reply_to
        return msg

    def text_update(self, text: str, chat_id: int = 42, user_id: int | None = None, **kw: Any) -> dict[str, Any]:
        """Queue a message update."""
        return self.push({"message": self.message(text, chat_id, user_id, **kw)})

    def callback_update(self, data: str | None, chat_id: int = 42, user_id: int | None = None, *,
                        message: dict[str, Any] | None = None, query_id: str | None = None) -> dict[str, Any]:
        """Queue a button press on `message` (by default a bot message in the chat)."""
        if message is None:
            message = {"message_id": self._new_message_id(chat_id), "date": int(time.time()),
                       "chat": self.chat(chat_id, "private" if chat_id > 0 else "supergroup"),
                       "from": self.bot_user(), "text": "..."}
        query: dict[str, Any] = {"id": query_id or f"cbq-{len(self.updates) + 1}", "chat_instance": f"ci-{chat_id}",
                                 "from": self.user(user_id or chat_id), "message": message}
        if data is not None:
            query["data"] = data
        else:
            query["game_short_name"] = "none"
        return self.push({"callback_query": query})

    def _new_message_id(self, chat_id: int) -> int:
        self._message_ids[chat_id] = self._message_ids.get(chat_id, 1000) + 1
        return self._message_ids[chat_id]

    # ----- the HTTP side ---------------------------------------------------------------------
    async def _handle(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        params, files = await self._read(request)
        call = Call(method, params, files=files)
        try:
            if request.match_info["token"] != self.token:
                raise ApiError(401, "Unauthorized")
            self._inject(call.name, params)
            call.result = await self._dispatch(call.name, params, files)
        except ApiError as exc:
            call.status, call.error = exc.code, exc.description
            body: dict[str, Any] = {"ok": False, "error_code": exc.code, "description": exc.description}
            if exc.retry_after is not None:
                body["parameters"] = {"retry_after": exc.retry_after}
            self._record(call)
            return web.json_response(body, status=exc.code)
        self._record(call)
        return web.json_response({"ok": True, "result": call.result})

    def _record(self, call: Call) -> None:
        if call.name != "getupdates" or call.result or not call.ok:
            self.calls.append(call)  # empty long polls are not interesting
        self._changed.set()

    @staticmethod
    async def _read(request: web.Request) -> tuple[dict[str, Any], dict[str, tuple[str, bytes]]]:
        params: dict[str, Any] = dict(request.query)
        files: dict[str, tuple[str, bytes]] = {}
        ctype = request.content_type
        if ctype == "application/json":
            body = await request.read()
            params.update(json.loads(body) if body else {})
        elif ctype in ("application/x-www-form-urlencoded", "multipart/form-data"):
            form = await request.post()
            for key, value in form.items():
                if isinstance(value, web.FileField):
                    files[key] = (value.filename, value.file.read())
                else:
                    params[key] = value
        for key in _JSON_FIELDS:
            if isinstance(params.get(key), str):
                params[key] = json.loads(params[key])
        for key in _INT_FIELDS:
            if isinstance(params.get(key), str) and re.fullmatch(r"-?\d+", params[key]):
                params[key] = int(params[key])
        return params, files

    def _inject(self, method: str, params: dict[str, Any]) -> None:
        for failure in self.failures:
            if failure.method == method and failure.remaining > 0 and (failure.match is None or failure.match(params)):
                failure.remaining -= 1
                raise ApiError(failure.code, failure.description, failure.retry_after)

    async def _dispatch(self, method: str, params: dict[str, Any], files: dict[str, tuple[str, bytes]]) -> Any:
        if method == "getme":
            return {**self.bot_user(), "can_join_groups": True, "can_read_all_group_messages": False,
                    "supports_inline_queries": False}
        if method == "getupdates":
            return await self._get_updates(params)
        if method in ("sendmessage", "sendphoto", "senddocument", "editmessagetext"):
            return self._message_result(method, params, files)
        if method == "setwebhook":
            self.webhook_url = str(params.get("url", ""))
            return True
        if method == "deletewebhook":
            self.webhook_url = ""
            return True
        if method == "getwebhookinfo":
            return {"url": self.webhook_url, "has_custom_certificate": False, "pending_update_count": 0}
        if method in ("answercallbackquery", "sendchataction", "setmycommands", "deletemycommands",
                      "editmessagereplymarkup", "close", "logout"):
            return True
        raise ApiError(404, "Not Found: method not found")

    async def _get_updates(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        if self.webhook_url:
            raise ApiError(409, "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first")
        offset = int(params.get("offset") or 0)
        if offset > 0:
            self.confirmed = max(self.confirmed, offset)
        limit = int(params.get("limit") or 100)
        wait = min(float(params.get("timeout") or 0), self.max_poll_wait)
        deadline = time.monotonic() + wait
        while True:
            pending = [u for u in self.updates if u["update_id"] >= self.confirmed][:limit]
            if pending or self._closing or time.monotonic() >= deadline:
                return pending
            await asyncio.sleep(0.01)

    def _message_result(self, method: str, params: dict[str, Any], files: dict[str, tuple[str, bytes]]) -> dict[str, Any]:
        chat_id = params.get("chat_id")
        if not isinstance(chat_id, int):
            raise ApiError(400, "Bad Request: chat not found")
        html_mode = str(params.get("parse_mode") or "").upper() == "HTML"
        for button in (b for row in (params.get("reply_markup") or {}).get("inline_keyboard", []) for b in row):
            data = button.get("callback_data")
            if data is not None and not 1 <= len(data.encode("utf-8")) <= 64:
                raise ApiError(400, "Bad Request: BUTTON_DATA_INVALID")
        result: dict[str, Any] = {"message_id": self._new_message_id(chat_id), "date": int(time.time()),
                                  "chat": self.chat(chat_id, "private" if chat_id > 0 else "supergroup"),
                                  "from": self.bot_user()}
        if method in ("sendmessage", "editmessagetext"):
            text = str(params.get("text") or "")
            plain = parse_html(text) if html_mode else text
            if not plain.strip():
                raise ApiError(400, "Bad Request: message text is empty")
            if tg_len(plain) > 4096:
                raise ApiError(400, "Bad Request: message is too long")
            result["text"] = plain
        else:
            caption = str(params.get("caption") or "")
            plain = parse_html(caption) if html_mode else caption
            if tg_len(plain) > 1024:
                raise ApiError(400, "Bad Request: message caption is too long")
            if plain:
                result["caption"] = plain
            if method == "sendphoto":
                result["photo"] = [{"file_id": "photo-1", "file_unique_id": "p1", "width": 640, "height": 480}]
            else:
                name, content = files.get("document", (params.get("document", "file"), b""))
                result["document"] = {"file_id": "doc-1", "file_unique_id": "d1", "file_name": name,
                                      "mime_type": "application/json", "file_size": len(content)}
        if params.get("reply_markup"):
            result["reply_markup"] = params["reply_markup"]
        return result

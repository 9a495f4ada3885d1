"""A fake Slack Web API for tests (aiohttp on 127.0.0.1), plus signed-request helpers.

Serves `/api/<method>` (JSON, form and query parameters), file uploads at `/upload/<id>`,
`response_url` posts at `/response/<n>` and a Socket Mode websocket at `/ws`. Every call is recorded; `rate_limit` makes a method
answer HTTP 429 with `Retry-After` a given number of times.
"""

from __future__ import annotations

import asyncio
import hashlib
import itertools
import json
import time
import urllib.parse
from dataclasses import dataclass, field
from typing import Any, Callable

from aiohttp import WSMsgType, web
from slack_sdk.signature import SignatureVerifier

BOT_TOKEN = "xoxb-test-token"
APP_TOKEN = "xapp-test-token"
SIGNING_SECRET = "test-signing-secret"
BOT_USER = "UBOT"


@dataclass
class Call:
    """One request the fake received."""

    method: str  # API method, "upload" or "response"
    params: dict[str, Any]
    path: str
    token: str | None = None
    status: int = 200
    at: float = field(default_factory=time.monotonic)
    raw: bytes = b""


class FakeSlack:
    """The Web API endpoints the app calls, recorded."""

    def __init__(self) -> None:
        self.calls: list[Call] = []
        self.failures: dict[str, list[tuple[int, dict[str, Any], dict[str, str]]]] = {}
        self._ts = itertools.count(1)
        self._files = itertools.count(1)
        self._runner: web.AppRunner | None = None
        self.port = 0
        self.sockets: list[web.WebSocketResponse] = []
        self.socket_acks: list[dict[str, Any]] = []
        self.users: dict[str, str] = {"U111": "Anna"}  # users.info display names

    # ----- lifecycle --------------------------------------------------------------------------
    async def start(self) -> "FakeSlack":
        app = web.Application(client_max_size=20 * 1024 * 1024)
        app.router.add_route("*", "/api/{method}", self._api)
        app.router.add_post("/upload/{file_id}", self._upload)
        app.router.add_post("/response/{n}", self._response)
        app.router.add_get("/ws", self._websocket)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        return self

    async def stop(self) -> None:
        for ws in self.sockets:
            await ws.close()
        if self._runner is not None:
            await self._runner.cleanup()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/api/"

    def response_url(self, n: int) -> str:
        return f"http://127.0.0.1:{self.port}/response/{n}"

    # ----- test controls ----------------------------------------------------------------------
    def rate_limit(self, method: str, times: int = 1, retry_after: int = 1) -> None:
        """Answer `method` with 429 + Retry-After the next `times` calls."""
        self.failures.setdefault(method, []).extend(
            [(429, {"ok": False, "error": "ratelimited"}, {"Retry-After": str(retry_after)})] * times)

    def to(self, method: str, predicate: Callable[[Call], bool] | None = None) -> list[Call]:
        """Successful calls of `method` (optionally filtered)."""
        return [c for c in self.calls if c.method == method and c.status == 200 and (predicate is None or predicate(c))]

    async def wait_for(self, method: str, count: int = 1, predicate: Callable[[Call], bool] | None = None,
                       timeout: float = 30.0) -> list[Call]:
        """Poll until `count` matching successful calls arrived; fail with what did arrive."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = self.to(method, predicate)
            if len(found) >= count:
                return found
            await asyncio.sleep(0.05)
        seen = [(c.method, c.status, str(c.params)[:200]) for c in self.calls]
        raise AssertionError(f"timed out waiting for {count}× {method}; calls so far: {seen}")

    # ----- handlers ---------------------------------------------------------------------------
    async def _params(self, request: web.Request) -> dict[str, Any]:
        params: dict[str, Any] = dict(request.query)
        if request.content_type == "application/json":
            body = await request.json()
            if isinstance(body, dict):
                params.update(body)
        elif request.content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
            form = await request.post()
            for key, value in form.items():
                params[key] = value.file.read() if hasattr(value, "file") else value
        for key in ("blocks", "files"):
            if isinstance(params.get(key), str):
                try:
                    params[key] = json.loads(params[key])
                except ValueError:
                    pass
        return params

    async def _api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        params = await self._params(request)
        auth = request.headers.get("Authorization", "")
        token = auth[7:] if auth.startswith("Bearer ") else params.get("token")
        pending = self.failures.get(method)
        if pending:
            status, body, headers = pending.pop(0)
            self.calls.append(Call(method, params, request.path, token, status))
            return web.json_response(body, status=status, headers=headers)
        self.calls.append(Call(method, params, request.path, token))
        if method == "apps.connections.open" and token == APP_TOKEN:
            return web.json_response({"ok": True, "url": f"ws://127.0.0.1:{self.port}/ws"})
        if token != BOT_TOKEN:
            return web.json_response({"ok": False, "error": "invalid_auth"})
        return web.json_response(self._answer(method, params))

    def _answer(self, method: str, params: dict[str, Any]) -> dict[str, Any]:
        if method == "auth.test":
            return {"ok": True, "url": "https://shop.slack.com/", "team": "shop", "user": "shopbot",
                    "team_id": "T111", "user_id": BOT_USER, "bot_id": "BBOT"}
        if method in ("chat.postMessage", "chat.update"):
            ts = params.get("ts") or f"1700001000.{next(self._ts):06d}"
            return {"ok": True, "channel": params.get("channel"), "ts": ts,
                    "message": {"text": params.get("text"), "ts": ts, "bot_id": "BBOT"}}
        if method == "conversations.replies":  # the thread's messages this fake posted (the parent is not kept)
            posted = [{"text": c.params.get("text"), "ts": f"1700001000.{i:06d}", "bot_id": "BBOT"}
                      for i, c in enumerate(self.to("chat.postMessage"), start=1)
                      if c.params.get("channel") == params.get("channel") and c.params.get("thread_ts") == params.get("ts")]
            return {"ok": True, "messages": posted, "has_more": False}
        if method == "users.info":
            user = str(params.get("user"))
            if user not in self.users:
                return {"ok": False, "error": "user_not_found"}
            return {"ok": True, "user": {"id": user, "name": self.users[user].lower(),
                                         "profile": {"display_name": self.users[user]}}}
        if method == "files.getUploadURLExternal":
            file_id = f"F{next(self._files):04d}"
            return {"ok": True, "file_id": file_id, "upload_url": f"http://127.0.0.1:{self.port}/upload/{file_id}"}
        if method == "files.completeUploadExternal":
            files = params.get("files") or []
            return {"ok": True, "files": [{"id": f.get("id"), "title": f.get("title")} for f in files]}
        return {"ok": True}

    async def _upload(self, request: web.Request) -> web.Response:
        raw = await request.read()
        self.calls.append(Call("upload", {"file_id": request.match_info["file_id"]}, request.path, raw=raw))
        return web.Response(text=f"OK - {len(raw)}")

    async def _response(self, request: web.Request) -> web.Response:
        params = await self._params(request)
        self.calls.append(Call("response", params, request.path))
        return web.Response(text="ok")

    async def _websocket(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        self.sockets.append(ws)
        await ws.send_json({"type": "hello", "num_connections": 1, "connection_info": {"app_id": "A111"}})
        async for message in ws:
            if message.type == WSMsgType.TEXT:
                self.socket_acks.append(json.loads(message.data))
        return ws

    async def send_envelope(self, envelope: dict[str, Any], timeout: float = 10.0) -> None:
        """Deliver a Socket Mode envelope once the app has connected."""
        deadline = time.monotonic() + timeout
        while not [ws for ws in self.sockets if not ws.closed]:
            if time.monotonic() > deadline:
                raise AssertionError("the app never opened a Socket Mode connection")
            await asyncio.sleep(0.05)
        await [ws for ws in self.sockets if not ws.closed][-1].send_json(envelope)

    def uploaded(self, file_id: str) -> bytes:
        """The bytes uploaded for a file id."""
        return next(c.raw for c in self.calls if c.method == "upload" and c.params["file_id"] == file_id)


# ----- inbound requests, signed as Slack signs them --------------------------------------------


def sign(body: str, timestamp: int | None = None, secret: str = SIGNING_SECRET) -> dict[str, str]:
    """The X-Slack-Signature and X-Slack-Request-Timestamp headers for `body`."""
    ts = str(int(time.time()) if timestamp is None else timestamp)
    signature = SignatureVerifier(secret).generate_signature(timestamp=ts, body=body)
    return {"X-Slack-Request-Timestamp": ts, "X-Slack-Signature": signature}


def event_body(event: dict[str, Any], event_id: str | None = None) -> str:
    """An Events API envelope as JSON text."""
    event_id = event_id or "Ev" + hashlib.sha1(json.dumps(event, sort_keys=True).encode()).hexdigest()[:10].upper()
    return json.dumps({"token": "x", "team_id": "T111", "api_app_id": "A111", "type": "event_callback",
                       "event_id": event_id, "event_time": int(time.time()), "event": event,
                       "authorizations": [{"team_id": "T111", "user_id": BOT_USER, "is_bot": True}]})


def dm_event(text: str, user: str = "U222", ts: str = "1700000000.000100", channel: str = "D222") -> dict[str, Any]:
    """A message in a DM with the bot."""
    return {"type": "message", "channel_type": "im", "text": text, "user": user, "ts": ts, "channel": channel,
            "event_ts": ts}


def mention_event(text: str, user: str = "U222", ts: str = "1700000000.000200", channel: str = "C999",
                  thread_ts: str | None = None) -> dict[str, Any]:
    """An app_mention in a channel."""
    event = {"type": "app_mention", "text": f"<@{BOT_USER}> {text}", "user": user, "ts": ts, "channel": channel,
             "event_ts": ts}
    if thread_ts:
        event["thread_ts"] = thread_ts
    return event


def command_body(text: str, response_url: str, user: str = "U111", channel: str = "C111") -> str:
    """A `/shop` slash command, form-encoded."""
    return urllib.parse.urlencode({
        "token": "x", "team_id": "T111", "team_domain": "shop", "channel_id": channel, "channel_name": "staff",
        "user_id": user, "user_name": "ana", "command": "/shop", "text": text, "api_app_id": "A111",
        "response_url": response_url, "trigger_id": "111.222.abc"})


def action_body(action_id: str, value: str, response_url: str, user: str = "U111", channel: str = "C111",
                message_ts: str = "1700000000.000300", thread_ts: str | None = None) -> str:
    """A block_actions payload, form-encoded as `payload=<json>`."""
    message: dict[str, Any] = {"type": "message", "ts": message_ts, "text": "..."}
    if thread_ts:
        message["thread_ts"] = thread_ts
    payload = {"type": "block_actions", "user": {"id": user, "username": "ana", "team_id": "T111"},
               "api_app_id": "A111", "trigger_id": "111.222.abc", "team": {"id": "T111", "domain": "shop"},
               "channel": {"id": channel, "name": "staff"},
               "container": {"type": "message", "message_ts": message_ts, "channel_id": channel},
               "message": message, "response_url": response_url,
               "actions": [{"action_id": action_id, "block_id": "b1", "type": "button", "value": value,
                            "action_ts": str(time.time())}]}
    return urllib.parse.urlencode({"payload": json.dumps(payload)})


def view_body(callback_id: str, values: dict[str, str], private_metadata: str = "", user: str = "U111") -> str:
    """A view_submission payload (a modal's Submit), form-encoded; `values` maps each input block's id to its text."""
    state = {block: {"value": {"type": "plain_text_input", "value": text}} for block, text in values.items()}
    payload = {"type": "view_submission", "user": {"id": user, "username": "ana", "team_id": "T111"},
               "api_app_id": "A111", "team": {"id": "T111", "domain": "shop"}, "trigger_id": "111.222.abc",
               "view": {"id": "V111", "type": "modal", "callback_id": callback_id, "private_metadata": private_metadata,
                        "state": {"values": state}, "app_id": "A111", "team_id": "T111"}}
    return urllib.parse.urlencode({"payload": json.dumps(payload)})


def block_text(blocks: list[dict[str, Any]]) -> str:
    """Every text of a message's blocks: sections, their fields and context lines."""
    out = []
    for b in blocks:
        if isinstance(b.get("text"), dict):
            out.append(b["text"]["text"])
        out += [f["text"] for f in b.get("fields", [])]
        out += [e.get("text", "") for e in b.get("elements", []) if b["type"] == "context"]
    return "\n".join(out)

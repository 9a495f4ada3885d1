"""The Slack side of `shopguide bench workers`: a minimal Slack Web API on 127.0.0.1 recording `chat.postMessage`
by channel and reading threads back (`conversations.replies`; every other method answers ok), and the Events API deliveries the simulated Slack users send, signed
with the workers' signing secret as Slack signs them."""

from __future__ import annotations

import asyncio
import json
import time
import urllib.parse
from collections import defaultdict
from typing import Any

from aiohttp import web
from slack_sdk.signature import SignatureVerifier

BOT_TOKEN = "xoxb-bench-token"
SIGNING_SECRET = "bench-slack-signing-secret"
BOT_USER = "UBENCHBOT"
EVENTS_PATH = "slack/events"


class RecordingSlackApi:
    """Answers `POST /api/<method>`; the texts posted with chat.postMessage are kept per channel with their time."""

    def __init__(self) -> None:
        self.replies: dict[str, list[tuple[str, float]]] = defaultdict(list)
        self.arrived: dict[str, asyncio.Event] = defaultdict(asyncio.Event)
        self.threads: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)  # (channel, thread_ts) -> posts
        self._runner: web.AppRunner | None = None
        self.base_url = ""

    async def start(self) -> "RecordingSlackApi":
        app = web.Application()
        app.router.add_route("*", "/api/{method}", self._api)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.base_url = f"http://127.0.0.1:{port}/api/"
        return self

    async def close(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    async def _api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        raw = await request.text()
        if request.content_type == "application/json":
            params: dict[str, Any] = json.loads(raw or "{}")
        else:
            params = {k: v[-1] for k, v in urllib.parse.parse_qs(raw).items()}
        params |= dict(request.query)  # GET methods (conversations.replies) send their parameters in the query
        if method == "chat.postMessage":
            channel, ts = str(params.get("channel")), f"{time.time():.6f}"
            self.replies[channel].append((str(params.get("text") or ""), time.monotonic()))
            self.threads[(channel, str(params.get("thread_ts")))].append({"ts": ts, "bot_id": "BBENCH",
                                                                           "text": params.get("text")})
            self.arrived[channel].set()
            return web.json_response({"ok": True, "channel": channel, "ts": ts, "message": {"text": params.get("text")}})
        if method == "conversations.replies":
            thread = self.threads.get((str(params.get("channel")), str(params.get("ts"))), [])
            return web.json_response({"ok": True, "messages": thread, "has_more": False})
        if method == "auth.test":
            return web.json_response({"ok": True, "user_id": BOT_USER, "bot_id": "BBENCH", "team_id": "TBENCH",
                                      "user": "shopguide", "team": "bench", "url": "https://bench.slack.com/"})
        return web.json_response({"ok": True})


def dm_delivery(user: int, text: str, seq: int, event_id: str) -> str:
    """An Events API envelope of a direct message from simulated user `user`, as JSON text."""
    ts = f"{1_700_000_000 + seq}.{user:06d}"
    event = {"type": "message", "channel_type": "im", "text": text, "user": f"U{user:07d}", "ts": ts,
             "channel": dm_channel(user), "event_ts": ts}
    return json.dumps({"token": "x", "team_id": "TBENCH", "api_app_id": "ABENCH", "type": "event_callback",
                       "event_id": event_id, "event_time": int(time.time()), "event": event,
                       "authorizations": [{"team_id": "TBENCH", "user_id": BOT_USER, "is_bot": True}]})


def dm_channel(user: int) -> str:
    """The DM channel of simulated user `user`."""
    return f"D{user:07d}"


def signed_headers(body: str, retry: int = 0) -> dict[str, str]:
    """The headers Slack sends with a delivery (a retry says which, and why)."""
    ts = str(int(time.time()))
    headers = {"Content-Type": "application/json", "X-Slack-Request-Timestamp": ts,
               "X-Slack-Signature": SignatureVerifier(SIGNING_SECRET).generate_signature(timestamp=ts, body=body)}
    if retry:
        headers |= {"X-Slack-Retry-Num": str(retry), "X-Slack-Retry-Reason": "http_timeout"}
    return headers

"""`shopguide bench workers`: several worker processes on one memory database (SQLite, or PostgreSQL with
SHOPGUIDE_DATABASE_URL) behind a local round-robin proxy, the fake Bot API as Telegram and a fake Web API as Slack,
simulated Telegram and Slack users sending messages one after another, 10% of updates delivered twice (to another
worker; on Slack as a signed retry), one worker killed mid-run and restarted: lost, duplicate and out-of-order replies
counted per platform, throughput and latency printed against the same load on one worker. The workers' assistant
echoes after a fixed pause, so the figures are those of delivery (claims, leases, PTB, bolt, HTTP), not of dialogue."""

from __future__ import annotations

import asyncio
import itertools
import os
import random
import signal
import socket
import subprocess
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

import aiohttp

from shopguide.bench.fake_telegram import FakeBotApi

WORKERS, USERS, SLACK_USERS, MESSAGES = 4, 200, 50, 5
REDELIVERED = 0.10


class RecordingBotApi(FakeBotApi):
    """The fake Bot API, indexing sent texts by chat as they arrive (the users wait on them)."""

    def __init__(self) -> None:
        super().__init__()
        self.replies: dict[int, list[tuple[str, float]]] = defaultdict(list)
        self.arrived: dict[int, asyncio.Event] = defaultdict(asyncio.Event)
        self.sent_wall: dict[str, float] = {}  # reply text -> when it first arrived

    def _record(self, call) -> None:
        super()._record(call)
        if call.name == "sendmessage" and call.ok:
            chat = call.params.get("chat_id")
            self.replies[chat].append((call.text, call.at))
            self.sent_wall.setdefault(call.text, time.time())  # beside the claims' done_at (epoch seconds)
            self.arrived[chat].set()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _percentile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))], 3)


async def _load(work_dir: Path, workers: int, users: int, messages: int, *, kill: bool, lease_s: float,
                turn_s: float, seed: int = 26, database_url: str | None = None, slack_users: int = 0) -> dict[str, Any]:
    from bot.memory import Memory
    from shopguide.bench import fake_slack
    from shopguide.bench.worker_proc import PATH, SECRET

    rng = random.Random(seed)
    schema = f"bench_workers_{workers}w"  # on PostgreSQL: a schema of the bench's own, emptied first
    if database_url:
        from shopguide.storage import drop_schema

        db: Path | str = database_url
        drop_schema(database_url, schema)
    else:
        db = work_dir / f"memory-{workers}w.db"
        for suffix in ("", "-wal", "-shm"):
            Path(f"{db}{suffix}").unlink(missing_ok=True)
    Memory(db, schema=schema).close()  # migrated once, before the workers open it
    api = await RecordingBotApi().start()
    slack_api = await fake_slack.RecordingSlackApi().start()
    ports = [_free_port() for _ in range(workers)]
    slack_ports = [_free_port() for _ in range(workers)]
    env = {**os.environ, "NO_PROXY": "127.0.0.1,localhost", "no_proxy": "127.0.0.1,localhost"}
    root = Path(__file__).resolve().parents[2]
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(root), env.get("PYTHONPATH", "")]))

    def spawn(i: int) -> subprocess.Popen:
        return subprocess.Popen([sys.executable, "-m", "shopguide.bench.worker_proc", "--db", str(db), "--api", api.base_url,
                                 "--port", str(ports[i]), "--lease", str(lease_s), "--turn", str(turn_s),
                                 "--schema", schema, "--slack-port", str(slack_ports[i]),
                                 "--slack-api", slack_api.base_url], env=env)

    procs = {i: spawn(i) for i in range(workers)}
    session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=5))
    headers = {"X-Telegram-Bot-Api-Secret-Token": SECRET}
    alive: set[int] = set()

    async def ready(i: int) -> None:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if procs[i].poll() is not None:
                raise RuntimeError(f"worker {i} exited with {procs[i].returncode}")
            try:
                async with session.get(f"http://127.0.0.1:{ports[i]}/{PATH}"), \
                        session.get(f"http://127.0.0.1:{slack_ports[i]}/{fake_slack.EVENTS_PATH}"):
                    alive.add(i)
                    return
            except (aiohttp.ClientError, asyncio.TimeoutError):
                await asyncio.sleep(0.2)
        raise RuntimeError(f"worker {i} did not start")

    await asyncio.gather(*(ready(i) for i in procs))
    turn = itertools.count()
    counts: Counter = Counter()

    async def post(update: dict[str, Any] | str, avoid: int | None = None, retry: int = 0) -> int | None:
        """The proxy: the next live worker; a refused or failed post goes to the next (Telegram and Slack retry).
        An update (a dict) goes to Telegram's webhook, a Slack delivery (JSON text) to the Events API."""
        for _ in range(200):
            live = sorted(alive - {avoid}) or sorted(alive)
            if live:
                i = live[next(turn) % len(live)]
                if isinstance(update, str):
                    request = dict(url=f"http://127.0.0.1:{slack_ports[i]}/{fake_slack.EVENTS_PATH}", data=update,
                                   headers=fake_slack.signed_headers(update, retry))
                else:
                    request = dict(url=f"http://127.0.0.1:{ports[i]}/{PATH}", json=update, headers=headers)
                try:
                    async with session.post(**request) as r:
                        if r.status == 200:
                            counts["posts"] += 1
                            return i
                except (aiohttp.ClientError, asyncio.TimeoutError):
                    counts["failed_posts"] += 1
            await asyncio.sleep(0.05)
        counts["undeliverable"] += 1
        return None

    update_ids = itertools.count(1)
    update_texts: dict[int, str] = {}  # Telegram update id -> the reply it is answered with
    latencies: dict[str, list[float]] = {"telegram": [], "slack": []}
    sent = 0
    total = (users + slack_users) * messages
    killed = asyncio.Event()
    kill_at: list[float] = []
    background: list[asyncio.Task] = []

    async def kill_and_restart() -> None:
        victim = 0
        kill_at.append(time.monotonic())
        procs[victim].kill()  # mid-run, mid-turn for some chats: no goodbye
        alive.discard(victim)
        counts["killed"] += 1
        await asyncio.sleep(2.0)
        procs[victim] = spawn(victim)
        await ready(victim)

    async def redeliver(update: dict[str, Any] | str, first: int | None) -> None:
        await asyncio.sleep(0.05)
        counts["redelivered"] += 1
        await post(update, avoid=first, retry=1)

    async def user(u: int, slack: bool = False) -> None:
        nonlocal sent
        chat: int | str = fake_slack.dm_channel(u) if slack else 100_000 + u
        inbox = slack_api if slack else api
        await asyncio.sleep(rng.uniform(0, 1.0))  # users arrive over the first second
        for m in range(messages):
            text = f"{u}:{m}"
            if slack:
                update: dict[str, Any] | str = fake_slack.dm_delivery(u, text, m, f"Ev{u:06d}x{m}")
            else:
                update = {"update_id": next(update_ids), "message": api.message(text, chat_id=chat)}
                update_texts[update["update_id"]] = f"echo {text}"
            started = time.monotonic()
            first = await post(update)
            if rng.random() < REDELIVERED:
                background.append(asyncio.create_task(redeliver(update, first)))
            sent += 1
            if kill and not killed.is_set() and sent >= total // 3:
                killed.set()
                background.append(asyncio.create_task(kill_and_restart()))
            deadline = started + lease_s * 4 + 15
            while True:  # the user reads the reply before writing again
                got = next((at for t, at in inbox.replies[chat] if t == f"echo {text}"), None)
                if got is not None:
                    latencies["slack" if slack else "telegram"].append(got - started)
                    break
                left = deadline - time.monotonic()
                if left <= 0:
                    counts["waited_in_vain"] += 1
                    break
                inbox.arrived[chat].clear()
                try:
                    await asyncio.wait_for(inbox.arrived[chat].wait(), min(left, 0.5))
                except asyncio.TimeoutError:
                    pass

    began = time.monotonic()
    await asyncio.gather(*(user(u) for u in range(users)), *(user(u, slack=True) for u in range(slack_users)))
    elapsed = time.monotonic() - began
    await asyncio.gather(*background)
    await asyncio.sleep(lease_s + 1.0)  # late duplicates would arrive now
    for p in procs.values():
        p.send_signal(signal.SIGTERM)
    for p in procs.values():
        try:
            p.wait(timeout=20)
        except subprocess.TimeoutExpired:
            p.kill()
    await session.close()
    await api.close()
    await slack_api.close()

    platforms = {"telegram": _tally({u: api.replies[100_000 + u] for u in range(users)}, messages, kill_at),
                 "slack": _tally({u: slack_api.replies[fake_slack.dm_channel(u)] for u in range(slack_users)},
                                 messages, kill_at)}
    platforms["telegram"]["sent_to_done_ms"] = _sent_to_done(db, schema, update_texts, api.sent_wall)
    for name, figures in platforms.items():
        figures["latency_s"] = {"p50": _percentile(latencies[name], 0.5), "p95": _percentile(latencies[name], 0.95),
                                "max": _percentile(latencies[name], 1.0)}
    every = latencies["telegram"] + latencies["slack"]
    return {"workers": workers, "users": users, "slack_users": slack_users, "messages": total,
            **{k: platforms["telegram"][k] + platforms["slack"][k] for k in ("lost", "duplicates", "out_of_order")},
            "repeated_first_sent_vs_kill_s": sorted(platforms["telegram"].pop("repeated_first_sent_vs_kill_s")
                                                    + platforms["slack"].pop("repeated_first_sent_vs_kill_s")),
            "by_platform": platforms,
            "redelivered": counts["redelivered"], "killed": counts["killed"],
            "failed_posts": counts["failed_posts"], "elapsed_s": round(elapsed, 2),
            "throughput_per_s": round(total / elapsed, 1) if elapsed else None,
            "latency_s": {"p50": _percentile(every, 0.5), "p95": _percentile(every, 0.95),
                          "max": _percentile(every, 1.0)}}


def _sent_to_done(db: Path | str, schema: str, update_texts: dict[int, str],
                  sent_wall: dict[str, float]) -> dict[str, float | None]:
    """How long after its reply reached the Bot API each Telegram update's claim was completed: a worker killed
    within that window leaves a claim another worker handles again, so the reply is repeated (p50, p95, max)."""
    from adapters.telegram.convert import update_key
    from bot.memory import Memory
    from shopguide.bench.fake_telegram import BOT_ID

    keys = {update_key(BOT_ID, uid): text for uid, text in update_texts.items()}
    memory = Memory(db, schema=schema)
    try:
        rows = memory.db.execute("SELECT key, done_at FROM delivery_claims WHERE done_at IS NOT NULL").fetchall()
    finally:
        memory.close()
    lags = [(done - sent_wall[keys[key]]) * 1000 for key, done in rows
            if key in keys and keys[key] in sent_wall]
    return {"p50": _percentile(lags, 0.5), "p95": _percentile(lags, 0.95), "max": _percentile(lags, 1.0)}


def _tally(replies: dict[int, list[tuple[str, float]]], messages: int, kill_at: list[float]) -> dict[str, Any]:
    """Lost, duplicate and out-of-order replies of each user's chat (`replies[u]`: user u's message m is answered
    "echo u:m")."""
    lost = duplicates = out_of_order = 0
    lost_messages: list[str] = []  # "user:message" of each reply that never came
    repeated_after_kill: list[float] = []  # when a repeated reply was first sent, relative to the kill
    for u, sent in replies.items():
        texts = [t for t, _ in sent]
        seen = Counter(texts)
        missing = [f"{u}:{m}" for m in range(messages) if seen[f"echo {u}:{m}"] == 0]
        lost += len(missing)
        lost_messages += missing
        duplicates += sum(n - 1 for n in seen.values() if n > 1)
        for t, n in seen.items():
            if n > 1 and kill_at:
                first = min(at for text, at in sent if text == t)
                repeated_after_kill.append(round(first - kill_at[0], 3))
        highest = -1
        for t in dict.fromkeys(texts):  # first arrivals, in order
            m = int(t.rsplit(":", 1)[1])
            out_of_order += m < highest
            highest = max(highest, m)
    return {"lost": lost, "duplicates": duplicates, "out_of_order": out_of_order, "lost_messages": lost_messages,
            "repeated_first_sent_vs_kill_s": repeated_after_kill}


def run_load(work_dir: Path, workers: int, users: int = USERS, messages: int = MESSAGES, *, kill: bool = True,
             lease_s: float = 5.0, turn_s: float = 0.05, database_url: str | None = None,
             slack_users: int = SLACK_USERS) -> dict[str, Any]:
    """One load run (see the module's docstring); with `database_url`, claims live on that PostgreSQL server."""
    work_dir.mkdir(parents=True, exist_ok=True)
    return asyncio.run(_load(work_dir, workers, users, messages, kill=kill, lease_s=lease_s, turn_s=turn_s,
                             database_url=database_url, slack_users=slack_users))


def run_workers(ctx) -> dict[str, Any]:
    """The section: the load on 1 worker, then on 4 with redeliveries and a killed worker."""
    users = USERS if ctx.users == 20 else ctx.users  # `--users N` sets the simulated Telegram users here
    work = Path(ctx.bench_dir) / "workers"
    url = ctx.settings.database_url.get_secret_value() if ctx.settings.database_url else None
    slack_users = max(1, round(users * SLACK_USERS / USERS))
    one = run_load(work, 1, users, kill=False, database_url=url, slack_users=slack_users)
    many = run_load(work, WORKERS, users, kill=True, database_url=url, slack_users=slack_users)
    return {"users": users, "slack_users": slack_users, "messages_per_user": MESSAGES,
            "storage": "PostgreSQL" if url else "SQLite",
            "one_worker": one, "several_workers": many}

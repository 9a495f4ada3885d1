"""The telegram section: `shopguide telegram` against the fake Bot API, search turns timed end to end.

The bench process serves the fake Bot API on 127.0.0.1 and spawns the real `shopguide telegram` on a
copy of the demo store. As soon as the bot starts polling, it sends searches one at a time, each from
a new customer, and times each from the moment the update is queued to the first message the bot
sends that holds a price.
"""

from __future__ import annotations

import asyncio
import logging
import re
import shutil
import signal
import time
from pathlib import Path
from typing import Any

from shopguide.bench.common import BenchContext, load_average, summarise
from shopguide.bench.process import child_env, shopguide_command
from shopguide.bench.stores import ensure_demo_store

log = logging.getLogger(__name__)

# Searches a customer of the demo shop might send, none naming a price (so the intro holds none).
SEARCHES = ("waterproof hiking boots", "rain jacket", "daypack", "sleeping bag for cold nights", "tent for 2 people",
            "merino socks", "trail running shoes", "polarized sunglasses", "backpacking stove", "down jacket",
            "warm fleece jacket", "headlamp")
PRICE = re.compile(r"[€$£¥₹]\s?\d|\d[.,]\d\d(?!\d)")  # "€147.99", "147.99 CHF"
READY_TIMEOUT_S = 600  # spawn to polling: the models load first
TURN_TIMEOUT_S = 60
QUIET_S = 0.4  # a turn is over when its chat got no message for this long
FIRST_CHAT = 7001


def has_price(text: str) -> bool:
    """True when a message shows a price."""
    return bool(PRICE.search(text or ""))


def copy_store(src: Path, dst: Path) -> Path:
    """The store's catalog and vectors without its memory and logs (the bot de-duplicates updates by id)."""
    shutil.copytree(src, dst, ignore=shutil.ignore_patterns("memory.db*", "logs", "bench"))
    return dst


def run_telegram(ctx: BenchContext) -> dict[str, Any]:
    """Spawn the bot, send searches right after it starts polling, and time each to its first price."""
    searches = [SEARCHES[i % len(SEARCHES)] for i in range(max(ctx.scale.telegram_searches, 1))]
    tmp = ctx.temp_dir("telegram-")
    try:
        store = copy_store(ensure_demo_store(ctx), tmp / "store")
        result = asyncio.run(_bench(store, searches))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    result["connecting_sentence"] = ctx.settings.llm_connecting_sentence
    return result


async def _bench(store: Path, searches: list[str]) -> dict[str, Any]:
    from shopguide.bench.fake_telegram import FakeBotApi

    fake = await FakeBotApi().start()
    env = child_env(store)
    env.update(SHOPGUIDE_TELEGRAM_TOKEN=fake.token, SHOPGUIDE_TELEGRAM_API_URL=fake.base_url,
               NO_PROXY="127.0.0.1,localhost", no_proxy="127.0.0.1,localhost")
    load_before = load_average()
    err_file = store / "stderr.txt"
    spawned = time.monotonic()
    with err_file.open("wb") as err:  # a file, not a pipe: a chatty child never blocks on a full pipe
        proc = await asyncio.create_subprocess_exec(*shopguide_command(), "telegram", env=env,
                                                    stdout=asyncio.subprocess.DEVNULL, stderr=err)
    try:
        ready = await _wait_ready(fake, proc, err_file)
        turns = [await _search(fake, text, FIRST_CHAT + i) for i, text in enumerate(searches)]
    finally:
        await _stop(proc)
        await fake.close()
    stderr = _tail(err_file)
    firsts = [t["first_price_s"] for t in turns if t["first_price_s"] is not None]
    logged = _read_log(store)
    return {
        "command": "shopguide telegram (against the fake Bot API on 127.0.0.1)",
        "searches": len(turns), "answered": len(firsts),
        "ready_s": round(ready - spawned, 3),
        "first_price_s": summarise(firsts), "turn_s": summarise([t["last_message_s"] for t in turns if t["last_message_s"] is not None]),
        "first_s": turns[0]["first_price_s"] if turns else None,
        "turns": turns, "warmup": _warmup_line(logged),
        "llm_loads": logged.count("loaded chat model"), "embedder_loads": logged.count("loaded embedding model"),
        "exit_code": proc.returncode, "stderr": stderr if proc.returncode not in (0, -signal.SIGTERM) else [],
        "load_before": load_before, "load_after": load_average(),
    }


def _tail(path: Path, lines: int = 3) -> list[str]:
    """The last lines of a file (empty when there is none)."""
    return path.read_text(encoding="utf-8", errors="replace").strip().splitlines()[-lines:] if path.is_file() else []


async def _wait_ready(fake, proc, err_file: Path) -> float:
    """When the bot began polling (its deleteWebhook, sent right before the first getUpdates)."""
    deadline = time.monotonic() + READY_TIMEOUT_S
    while True:
        calls = fake.calls_of("deleteWebhook")
        if calls:
            return calls[0].at
        if proc.returncode is not None:
            raise RuntimeError(f"shopguide telegram exited with code {proc.returncode}: {' | '.join(_tail(err_file))}")
        if time.monotonic() > deadline:
            raise RuntimeError(f"shopguide telegram did not start polling within {READY_TIMEOUT_S} s")
        await asyncio.sleep(0.02)


async def _search(fake, text: str, chat_id: int) -> dict[str, Any]:
    """Queue one search and wait until the chat's messages stop coming; times from the queueing."""
    pushed = time.monotonic()
    fake.text_update(text, chat_id)
    try:
        priced = await fake.wait_for(lambda: [c for c in fake.sent(chat_id) if has_price(c.text)], TURN_TIMEOUT_S)
    except AssertionError:  # no price within the timeout: counted as unanswered, the other searches go on
        log.warning("bench telegram: no message with a price for %r within %d s", text, TURN_TIMEOUT_S)
        priced = []
    while fake.sent(chat_id):  # the rest of the turn's messages, so that turns never overlap
        last = fake.sent(chat_id)[-1].at
        wait = last + QUIET_S - time.monotonic()
        if wait <= 0:
            break
        await asyncio.sleep(wait)
    sent = fake.sent(chat_id)
    return {"text": text, "messages": len(sent),
            "first_message_s": round(sent[0].at - pushed, 4) if sent else None,
            "first_price_s": round(priced[0].at - pushed, 4) if priced else None,
            "last_message_s": round(sent[-1].at - pushed, 4) if sent else None}


async def _stop(proc) -> None:
    """SIGTERM (the bot stops polling and exits), SIGKILL after 30 s."""
    if proc.returncode is None:
        proc.send_signal(signal.SIGTERM)
    try:
        await asyncio.wait_for(proc.wait(), 30)
    except asyncio.TimeoutError:
        proc.kill()
        await proc.wait()


def _read_log(store: Path) -> str:
    path = store / "logs" / "shopguide.log"
    return path.read_text(encoding="utf-8", errors="replace") if path.is_file() else ""


def _warmup_line(logged: str) -> str | None:
    """What the bot's warm-up logged: its total and each step."""
    found = re.findall(r"warmed up in .*", logged)
    return found[-1] if found else None


def rows(r: dict[str, Any]) -> list[tuple[str, str]]:
    """The readable lines of the section."""
    from shopguide.bench.common import dist_text as _dist, ms_text as _ms

    return [("searches answered", f"{r['answered']} of {r['searches']}, each from a new chat"),
            ("spawn to polling (models loaded and warmed)", _ms(r["ready_s"])),
            ("search: update queued → first message with a price", _dist(r["first_price_s"])),
            ("  the first search after start", _ms(r["first_s"])),
            ("search: update queued → last message of the turn", _dist(r["turn_s"])),
            ("warm-up", r["warmup"] or "-"),
            ("chat model / embedder loads", f"{r['llm_loads']} / {r['embedder_loads']}")]

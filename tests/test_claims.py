"""Claim-then-complete across worker processes on one SQLite file or PostgreSQL database: every update answered exactly once and each
user's in order, through redeliveries and a worker killed mid-turn; claims pruned after 48 hours."""

from __future__ import annotations

import asyncio
import json
import os
import random
import subprocess
import sys
import threading
import time
from collections import Counter, defaultdict
from datetime import datetime, timedelta, timezone
from pathlib import Path

from bot.claims import Claims
from bot.memory import Memory

ROOT = Path(__file__).resolve().parents[1]


class Clock:
    def __init__(self) -> None:
        self.t = 1_000_000.0

    def __call__(self) -> float:
        return self.t


def test_claim_complete_redelivery_and_takeover(memory_target):
    memory = Memory(memory_target)
    clock = Clock()
    a = Claims.on(memory, worker="a", lease_s=10, clock=clock)
    b = Claims.on(memory, worker="b", lease_s=10, clock=clock)
    assert a.claim("k1", user_key="u", seq=1, payload='{"x": 1}') == "claimed"
    assert b.claim("k1") == "busy"  # a redelivery while a works on it
    assert b.abandoned() == []
    clock.t += 11  # a died: its lease ran out
    left = b.abandoned()
    assert [(x.key, x.payload) for x in left] == [("k1", '{"x": 1}')]
    assert b.claim("k1") == "claimed"  # taken over, with its payload kept
    b.complete("k1")
    assert a.claim("k1") == "done" and b.claim("k1") == "done"
    assert memory.db.execute("SELECT payload FROM delivery_claims WHERE key = 'k1'").fetchone()[0] is None


def test_each_platform_takes_over_only_its_own_deliveries(memory_target):
    """Telegram and Slack workers share the claims table: a Telegram worker must never be handed a dead Slack
    worker's event (it cannot read it; the Slack recoverer once marked a Telegram update handled unread)."""
    from adapters.slack.convert import EVENT_KEY_PREFIX, event_key
    from adapters.telegram.convert import UPDATE_KEY_PREFIX, update_key

    memory = Memory(memory_target)
    clock = Clock()
    dead = Claims.on(memory, worker="dead", lease_s=1, clock=clock)
    tg, slack = update_key(7, 41), event_key({"event_id": "Ev1"})
    dead.claim(tg, payload='{"update_id": 41}')
    dead.claim(slack, payload='{"event_id": "Ev1"}')
    clock.t += 2
    live = Claims.on(memory, worker="live", lease_s=1, clock=clock)
    assert [x.key for x in live.abandoned(UPDATE_KEY_PREFIX)] == [tg]
    assert [x.key for x in live.abandoned(EVENT_KEY_PREFIX)] == [slack]
    assert sorted(x.key for x in live.abandoned()) == sorted([tg, slack])


def test_a_poison_update_is_given_up_after_three_attempts(memory_target):
    memory = Memory(memory_target)
    clock = Clock()
    claims = Claims.on(memory, worker="a", lease_s=1, clock=clock)
    claims.claim("k", payload="{}")
    for name in ("b", "c"):  # each worker that takes it over dies in its turn too
        clock.t += 2
        claims = Claims.on(memory, worker=name, lease_s=1, clock=clock)
        assert [x.key for x in claims.abandoned()] == ["k"]
        assert claims.claim("k") == "claimed"
    clock.t += 2
    assert claims.abandoned() == []
    assert claims.claim("k") == "done"


def test_seen_updates_become_completed_claims_and_are_pruned_after_48_hours(tmp_path):
    path = tmp_path / "m.db"
    import sqlite_utils

    from bot.memory import MIGRATIONS
    from shopguide.migrations import migrate, open_database

    old = open_database(path)
    migrate(old, MIGRATIONS[:4])  # a database from before claims, with a handled update
    old.execute("INSERT INTO seen_updates (key, created_at) VALUES ('telegram:update:1:5', '2026-01-01T00:00:00+00:00')")
    old.conn.close()
    now = datetime(2026, 1, 2, 12, tzinfo=timezone.utc)
    memory = Memory(path, clock=lambda: now)
    assert not memory.first_sighting("telegram:update:1:5")  # still known after the migration
    assert memory.first_sighting("telegram:update:1:6")
    from bot.privacy import run_purge
    from shopguide.settings import Settings

    memory.clock = lambda: now + timedelta(hours=49)
    report = run_purge(memory, Settings(data_dir=tmp_path))
    assert report.removed.get("delivery claims") == 2
    assert memory.first_sighting("telegram:update:1:5")  # forgotten: Telegram may reuse ids after a week
    assert isinstance(sqlite_utils.Database(memory.db.conn)["delivery_claims"].count, int)


def test_one_users_turns_wait_for_an_earlier_open_claim(memory_target):
    memory = Memory(memory_target)
    a = Claims.on(memory, worker="a")
    b = Claims.on(memory, worker="b")
    order: list[int] = []

    async def run() -> None:
        assert b.claim("k2", user_key="u", seq=2, payload="{}") == "claimed"  # the later message arrived first
        assert a.claim("k1", user_key="u", seq=1, payload="{}") == "claimed"

        async def turn(claims: Claims, key: str, seq: int, delay: float) -> None:
            await asyncio.sleep(delay)
            async with claims.user_turn("u", seq, timeout_s=5) as held:
                assert held
                order.append(seq)
                await asyncio.sleep(0.05)
            claims.complete(key)

        await asyncio.gather(turn(b, "k2", 2, 0), turn(a, "k1", 1, 0.1))

    asyncio.run(run())
    assert order == [1, 2]


def test_leases_are_renewed_while_turns_fill_the_default_executor(memory_target):
    """Renewal runs on the claims' own thread: turns' work queued in the loop's default executor cannot delay it
    past the lease (another worker would then take this worker's updates over and answer them twice)."""
    memory = Memory(memory_target)
    clock = Clock()
    claims = Claims.on(memory, worker="a", lease_s=10, clock=clock)
    assert claims.claim("k1") == "claimed"

    async def run() -> None:
        loop = asyncio.get_running_loop()
        gate = threading.Event()
        busy = [loop.run_in_executor(None, gate.wait, 10) for _ in range(64)]  # every default thread, and a queue
        clock.t += 8
        await asyncio.wait_for(claims.call(claims.renew), 5)
        gate.set()
        await asyncio.gather(*busy)

    asyncio.run(run())
    assert memory.db.execute("SELECT lease_until FROM delivery_claims WHERE key = 'k1'").fetchone()[0] == clock.t + 10
    memory.close()


def test_threads_claim_each_key_once(memory_target):
    path = memory_target
    Memory(path).close()
    won: list[str] = []

    def worker(name: str) -> None:
        memory = Memory(path)  # a connection of its own, as another process has
        claims = Claims.on(memory, worker=name)
        for i in range(60):
            if claims.claim(f"k{i}") == "claimed":
                won.append(f"k{i}")
                claims.complete(f"k{i}")
        memory.close()

    threads = [threading.Thread(target=worker, args=(f"w{n}",)) for n in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(won) == sorted(f"k{i}" for i in range(60))


def test_worker_processes_answer_exactly_once_in_order_through_redeliveries_and_a_kill(tmp_path, memory_target):
    """Three worker processes, 8 users x 4 messages; 25% of the updates delivered twice to two workers; worker 2
    is killed in the middle of a turn and its lease (1 s) runs out: every update answered once, each user in order."""
    rng = random.Random(26)
    users, per_user, spacing = 8, 4, 0.25
    deliveries = []
    for u in range(users):
        for m in range(per_user):
            seq = 1000 * m + u  # Telegram numbers updates across chats
            at = m * spacing + u * 0.02
            first = rng.randrange(3)
            deliveries.append({"key": f"t:{seq}", "user": f"u{u}", "seq": seq, "at": at, "worker": first})
            if rng.random() < 0.25:
                deliveries.append({"key": f"t:{seq}", "user": f"u{u}", "seq": seq, "at": at + 0.05,
                                   "worker": (first + 1) % 3})
    victim = min((d for d in deliveries if d["worker"] == 2 and d["at"] > spacing), key=lambda d: d["at"])
    for d in deliveries:  # after the kill the proxy sends worker 2's share to the live ones
        if d["worker"] == 2 and d["at"] > victim["at"]:
            d["worker"] = rng.randrange(2)
    plan = tmp_path / "plan.json"
    plan.write_text(json.dumps({"deliveries": deliveries, "turn_s": 0.1}))
    db, out = memory_target, tmp_path / "out.txt"
    Memory(db).close()
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    procs = [subprocess.Popen([sys.executable, str(ROOT / "tests" / "claims_worker.py"), str(db), str(plan), str(i),
                               str(out), victim["key"] if i == 2 else "", "1.0", str(per_user * spacing + 4.0)], env=env)
             for i in range(3)]
    deadline = time.monotonic() + 90  # all three started (imports on a loaded machine take seconds), then one start
    while not all(Path(f"{out}.ready.{i}").exists() for i in range(3)) and time.monotonic() < deadline:
        assert all(p.poll() is None for p in procs), "a worker exited before it was ready"
        time.sleep(0.05)
    Path(f"{plan}.start.tmp").write_text(str(time.time() + 0.3))
    Path(f"{plan}.start.tmp").rename(f"{plan}.start")
    codes = [p.wait(timeout=120) for p in procs]
    assert codes == [0, 0, 9]  # the third was killed mid-turn
    lines = [line.split() for line in out.read_text().splitlines()]
    answered = Counter(key for _, _, key, _ in lines)
    expected = {d["key"] for d in deliveries}
    assert set(answered) == expected, f"lost: {expected - set(answered)}"
    assert [k for k, n in answered.items() if n > 1] == []
    per_user: dict[str, list[int]] = defaultdict(list)
    for user, seq, _, _ in lines:
        per_user[user].append(int(seq))
    assert all(seqs == sorted(seqs) for seqs in per_user.values()), per_user
    survivor = [w for u, s, k, w in lines if k == victim["key"]]
    assert survivor and not survivor[0].endswith(str(procs[2].pid)) and f":{procs[2].pid}:" not in survivor[0]

"""A worker process for tests/test_claims.py: handles its share of simulated deliveries through `bot.claims`
on a shared SQLite file, "replies" by appending a line to a shared file, and may die mid-turn."""

from __future__ import annotations

import asyncio
import json
import os
import sys
import time

from bot.claims import Claims
from bot.memory import Memory


async def handle(claims: Claims, item: dict, out: str, die_on: str | None, turn_s: float) -> None:
    """Claim, hold the user's lease, "answer" (append to `out`), complete."""
    outcome = claims.claim(item["key"], user_key=item["user"], seq=item["seq"], payload=json.dumps(item))
    if outcome != "claimed":
        return
    async with claims.user_turn(item["user"], item["seq"], timeout_s=20):
        await asyncio.sleep(turn_s)
        if item["key"] == die_on:
            os._exit(9)  # killed mid-turn: claimed, no reply sent, never completed
        with open(out, "a") as f:
            f.write(f"{item['user']} {item['seq']} {item['key']} {claims.worker}\n")
    claims.complete(item["key"])


async def main(db: str, plan: str, index: int, out: str, die_on: str | None, lease_s: float, run_s: float) -> None:
    memory = Memory(db)
    claims = Claims.on(memory, lease_s=lease_s)
    # ready: the test sets the common start once every worker is here, so that a worker slow to start (imports on
    # a loaded machine) does not receive its deliveries late, out of the order the plan sends them in
    with open(f"{out}.ready.{index}", "w"):
        pass
    go = f"{plan}.start"
    while not os.path.exists(go):
        await asyncio.sleep(0.05)
    start = float(open(go).read())
    until = start + run_s
    items = sorted((i for i in json.load(open(plan))["deliveries"] if i["worker"] == index), key=lambda i: i["at"])
    turn_s = json.load(open(plan))["turn_s"]
    tasks = []

    async def sweep() -> None:
        while True:
            for left in claims.abandoned():
                tasks.append(asyncio.create_task(handle(claims, json.loads(left.payload), out, None, turn_s)))
            await asyncio.sleep(0.2)

    sweeper = asyncio.create_task(sweep())
    alive = asyncio.create_task(claims.keep_alive())
    for item in items:
        delay = start + item["at"] - time.time()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(handle(claims, item, out, die_on, turn_s)))
    while time.time() < until:
        await asyncio.sleep(0.1)
    sweeper.cancel()
    await asyncio.gather(*tasks)
    alive.cancel()
    memory.close()


if __name__ == "__main__":
    db, plan, index, out, die_on, lease_s, run_s = sys.argv[1:8]
    asyncio.run(main(db, plan, int(index), out, die_on or None, float(lease_s), float(run_s)))

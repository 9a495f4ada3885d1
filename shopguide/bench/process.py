"""The memory and startup sections: each figure comes from a fresh child process.

Run as `python -m shopguide.bench.process --data-dir DIR --mode startup|store`, this module is
the memory child: it starts shopguide as a user would, answers, and prints its peak RSS as JSON.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from shopguide.bench.common import BenchContext, load_average, summarise
from shopguide.bench.stores import ensure_catalog_store, ensure_demo_store

log = logging.getLogger(__name__)

CHILD_TIMEOUT_S = 900
FIRST_SEARCH = "waterproof hiking boots"


def shopguide_command() -> list[str]:
    """How to run the `shopguide` CLI of this very environment."""
    script = Path(sys.executable).with_name("shopguide")
    if script.is_file():
        return [str(script)]
    return [sys.executable, "-m", "shopguide.cli"]


def child_env(data_dir: Path) -> dict[str, str]:
    """The environment of a child: ours, pointed at `data_dir`, logging model loads."""
    env = dict(os.environ)
    env["SHOPGUIDE_DATA_DIR"] = str(data_dir)
    env["SHOPGUIDE_LOG_LEVEL"] = "INFO"
    env.setdefault("HF_HUB_OFFLINE", "1")
    env.setdefault("ANONYMIZED_TELEMETRY", "False")
    return env


# ----- memory --------------------------------------------------------------------------------
def measure_child(data_dir: Path, mode: str, searches: int) -> dict[str, Any]:
    """Run the memory child on `data_dir` and return what it printed."""
    cmd = [sys.executable, "-m", "shopguide.bench.process", "--data-dir", str(data_dir), "--mode", mode,
           "--searches", str(searches)]
    done = subprocess.run(cmd, env=child_env(data_dir), capture_output=True, text=True, timeout=CHILD_TIMEOUT_S)
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    if done.returncode != 0 or not lines:
        tail = (done.stderr or "").strip().splitlines()[-3:]
        raise RuntimeError(f"memory child ({mode}) failed with exit code {done.returncode}: {' | '.join(tail)}")
    return json.loads(lines[-1])


def run_memory(ctx: BenchContext) -> dict[str, Any]:
    """Peak RSS of a started, answering process: on the demo store, and with the large catalog loaded."""
    out: dict[str, Any] = {"load_before": load_average()}
    out["startup"] = measure_child(ensure_demo_store(ctx), "startup", 0)
    catalog = ctx.large
    if catalog is None or not catalog.available():
        out["store"] = {"skipped": f"catalog {catalog.products if catalog else '?'} not found (see --eval-dir)"}
    else:
        path = ensure_catalog_store(ctx, catalog)
        out["store"] = measure_child(path, "store", max(ctx.scale.search_queries // 10, 5))
        out["store"]["catalog"] = catalog.name
    out["load_after"] = load_average()
    return out


def peak_rss_kib() -> int:
    """This process's peak RSS in KiB: VmHWM of its own address space.

    Not ru_maxrss: Linux carries that over from the parent across fork and exec, so a child of a
    big process would report the parent's size.
    """
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    import resource

    return int(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)


def child_main(argv: list[str] | None = None) -> int:
    """The memory child: start up, answer, search, then print peak and current RSS as one JSON line."""
    p = argparse.ArgumentParser(prog="shopguide.bench.process")
    p.add_argument("--data-dir", required=True)
    p.add_argument("--mode", choices=["startup", "store"], default="startup")
    p.add_argument("--searches", type=int, default=0)
    args = p.parse_args(argv)
    started = time.perf_counter()
    import psutil

    from adapters.console import make_message
    from shopguide.cli.app import build_runtime, prepare_environment
    from shopguide.settings import load_settings

    prepare_environment()
    settings = load_settings(data_dir=Path(args.data_dir))
    with tempfile.TemporaryDirectory(prefix="bench-mem-") as tmp:
        rt = build_runtime(settings, memory_path=Path(tmp) / "memory.db")
        try:
            async def talk() -> int:
                replies = 0
                for text in ("hello", FIRST_SEARCH):
                    replies += len(await rt.assistant.handle(make_message(text, "bench-memory")))
                return replies

            replies = asyncio.run(talk())
            products = rt.kb.store.count("product")
            titles = [row[0] for row in rt.kb.store.db.execute(
                "SELECT title FROM products ORDER BY random() LIMIT ?", [args.searches]).fetchall()]
            for title in titles:
                rt.services.search.search(title, top_k=10)
        finally:
            rt.close()
    peak_kib = peak_rss_kib()
    print(json.dumps({
        "mode": args.mode, "products": products, "replies": replies, "searches": len(titles),
        "peak_rss_mb": round(peak_kib / 1024, 1), "peak_rss_bytes": peak_kib * 1024,
        "rss_mb": round(psutil.Process().memory_info().rss / 2**20, 1),
        "seconds": round(time.perf_counter() - started, 2),
    }))
    return 0


# ----- startup -------------------------------------------------------------------------------
def spawn_once(data_dir: Path, text: str) -> dict[str, Any]:
    """Time `shopguide console --once TEXT --json` from spawn to its reply, and count model loads."""
    log_file = data_dir / "logs" / "shopguide.log"
    offset = log_file.stat().st_size if log_file.is_file() else 0
    cmd = shopguide_command() + ["console", "--once", text, "--json"]
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, env=child_env(data_dir), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    first = proc.stdout.readline() if proc.stdout else ""
    reply_s = time.perf_counter() - start
    rest, err = proc.communicate(timeout=CHILD_TIMEOUT_S)
    exit_s = time.perf_counter() - start
    try:
        replies = json.loads(first).get("replies", [])
    except ValueError:
        replies = []
    logged = ""
    if log_file.is_file():
        with log_file.open(encoding="utf-8", errors="replace") as fh:
            if fh.seek(0, os.SEEK_END) >= offset:
                fh.seek(offset)
            else:  # rotated meanwhile
                fh.seek(0)
            logged = fh.read()
    return {
        "text": text, "exit_code": proc.returncode, "replies": len(replies),
        "intent": replies[0].get("intent") if replies else None,
        "first_reply_s": round(reply_s, 3), "exit_s": round(exit_s, 3),
        "llm_loads": logged.count("loaded chat model"), "embedder_loads": logged.count("loaded embedding model"),
        "stderr": (err or "").strip().splitlines()[-1:] if proc.returncode else [],
    }


def run_startup(ctx: BenchContext) -> dict[str, Any]:
    """Seconds from process start to the first reply, on a ready demo store: to "hello", and to a first search."""
    if shutil.which(shopguide_command()[0]) is None and not Path(shopguide_command()[0]).is_file():
        raise RuntimeError("cannot find the shopguide command to spawn")
    path = ensure_demo_store(ctx)
    load_before = load_average()
    hello: list[dict[str, Any]] = []
    search: list[dict[str, Any]] = []
    for _ in range(max(ctx.scale.startup_runs, 1)):  # alternated, so a change of load weighs on both alike
        hello.append(spawn_once(path, "hello"))
        search.append(spawn_once(path, FIRST_SEARCH))
    times = [r["first_reply_s"] for r in hello]
    ok = all(r["exit_code"] == 0 and r["replies"] > 0 for r in hello + search)
    return {
        "command": "shopguide console --once hello --json", "runs": hello,
        "first_reply_s": summarise(times, 3), "median_s": summarise(times, 3)["p50"],
        "search_command": f"shopguide console --once {FIRST_SEARCH!r} --json", "search_text": FIRST_SEARCH,
        "first_search": search, "first_search_s": summarise([r["first_reply_s"] for r in search], 3),
        "llm_loads": max(r["llm_loads"] for r in hello + search), "ok": ok,
        "load_before": load_before, "load_after": load_average(),
    }


if __name__ == "__main__":
    sys.exit(child_main())

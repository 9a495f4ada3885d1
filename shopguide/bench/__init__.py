"""`shopguide bench`: latency, throughput and memory of what users feel, with issue 7's and 21's targets.

Sections: turn, llm, concurrency, search, ingest, memory, startup, telegram, privacy, languages, recommend, workers, and
`scale` (about an hour, run by hand only: never part of "all"). A readable table by default, one JSON object with
`--json`. Progress bars only on a terminal.
"""

from __future__ import annotations

import argparse
import importlib
import json
import logging
import os
import platform
import sys
import time
from collections.abc import Callable, Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from shopguide.bench.common import BenchContext, dist_text as _dist, load_average, ms_text as _ms
from shopguide.errors import UserFacingError

log = logging.getLogger(__name__)

SECTIONS = ("turn", "llm", "concurrency", "search", "ingest", "memory", "startup", "telegram", "privacy", "languages", "recommend",
            "workers", "scale")
BY_HAND = ("scale",)  # run only when named
GB = 1_500_000_000  # "1.5 GB" of the target, in bytes (stricter than 1.5 GiB)


_RUNNERS = {
    "turn": ("shopguide.bench.dialogue", "run_turn"),
    "concurrency": ("shopguide.bench.dialogue", "run_concurrency"),
    "llm": ("shopguide.bench.llm", "run_llm"),
    "search": ("shopguide.bench.stores", "run_search"),
    "ingest": ("shopguide.bench.stores", "run_ingest"),
    "memory": ("shopguide.bench.process", "run_memory"),
    "startup": ("shopguide.bench.process", "run_startup"),
    "telegram": ("shopguide.bench.telegram", "run_telegram"),
    "privacy": ("shopguide.bench.privacy", "run_privacy"),
    "languages": ("shopguide.bench.languages", "run_languages"),
    "recommend": ("shopguide.bench.recommend", "run_recommend"),
    "workers": ("shopguide.bench.workers", "run_workers"),
    "scale": ("shopguide.bench.scale", "run_scale"),
}


def _runner(name: str) -> Callable[[BenchContext], dict[str, Any]]:
    """The section's function, imported only when the section runs."""
    module, function = _RUNNERS[name]
    return getattr(importlib.import_module(module), function)


def select_sections(names: Sequence[str] | None) -> list[str]:
    """The sections to run, in the canonical order; all of them when none are named."""
    wanted = [n.lower() for n in names or []]
    unknown = [n for n in wanted if n not in SECTIONS]
    if unknown:
        raise UserFacingError(f"unknown bench section(s): {', '.join(unknown)}; choose from {', '.join(SECTIONS)}")
    return [s for s in SECTIONS if s in wanted] if wanted else [s for s in SECTIONS if s not in BY_HAND]


def _versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    out = {}
    for pkg in ("llama-cpp-python", "sentence-transformers", "chromadb", "torch"):
        try:
            out[pkg] = version(pkg)
        except PackageNotFoundError:
            out[pkg] = "absent"
    return out


def _revision() -> str:
    import subprocess

    try:
        here = Path(__file__).resolve().parent.parent
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=here, capture_output=True, text=True,
                              timeout=10).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=here,
                               capture_output=True, text=True, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return f"{head}{'+changes' if dirty else ''}" if head else "unknown"


def environment(ctx: BenchContext) -> dict[str, Any]:
    """What the figures were measured on."""
    import psutil

    s = ctx.settings
    return {
        "started_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "cpus": os.cpu_count(), "memory_gb": round(psutil.virtual_memory().total / 2**30, 1),
        "python": platform.python_version(), "revision": _revision(), "versions": _versions(), "load_average": load_average(),
        "store": ctx.store, "users": ctx.users, "bench_dir": str(ctx.bench_dir),
        "settings": {"llm_model_path": str(s.llm_model_path or "default (SmolLM2-135M-Instruct)"),
                     "llm_enabled": s.llm_enabled, "llm_connecting_sentence": s.llm_connecting_sentence,
                     "llm_n_ctx": s.llm_n_ctx, "llm_n_threads": s.llm_n_threads,
                     "llm_max_tokens": s.llm_max_tokens, "llm_timeout_s": s.llm_timeout_s,
                     "embedding_batch_size": s.embedding_batch_size, "embedding_threads": s.embedding_threads},
    }


def run_sections(ctx: BenchContext, names: Sequence[str]) -> dict[str, Any]:
    """Run the named sections; a failing section reports its error and the others still run."""
    from shopguide.bench.process import peak_rss_kib

    result: dict[str, Any] = {"environment": environment(ctx), "sections": list(names)}
    for name in names:
        start = time.perf_counter()
        try:
            result[name] = _runner(name)(ctx)
        except Exception as exc:
            log.exception("bench section %s failed", name)
            result[name] = {"error": f"{type(exc).__name__}: {exc}"}
        result[name]["section_s"] = round(time.perf_counter() - start, 2)
        # ingest and search run in this process: its peak so far bounds what they needed
        result[name]["process_peak_rss_mb"] = round(peak_rss_kib() / 1024, 1)
    result["llm_loads_in_bench"] = ctx.llm_loads
    result["targets"] = targets(result, ctx)
    return result


def _get(data: dict[str, Any], *path: str) -> Any:
    for key in path:
        if not isinstance(data, dict) or key not in data:
            return None
        data = data[key]
    return data


def targets(result: dict[str, Any], ctx: BenchContext) -> list[dict[str, Any]]:
    """Issue 7's targets (and issue 3's speed floors) against what was measured here."""
    out: list[dict[str, Any]] = []

    def add(name: str, goal: str, value: Any, met: bool | None, note: str = "") -> None:
        out.append({"target": name, "goal": goal, "value": value, "met": met, **({"note": note} if note else {})})

    if "turn" in result and "error" not in result["turn"]:
        p50, p95 = _get(result, "turn", "search_s", "p50"), _get(result, "turn", "search_s", "p95")
        add("search turn p50", "<= 0.6 s", p50, p50 is not None and p50 <= 0.6)
        add("search turn p95", "<= 1.5 s", p95, p95 is not None and p95 <= 1.5)
        worst = _get(result, "turn", "worst_intent_p95_s")
        add("every intent p95", "<= 2.5 s", worst, worst is not None and worst <= 2.5)
    if "llm" in result and "error" not in result["llm"]:
        ratio = result["llm"].get("ratio")
        add("generation vs raw llama.cpp", ">= 0.9x", ratio, ratio is not None and ratio >= 0.9)
    if "concurrency" in result and "error" not in result["concurrency"]:
        c = result["concurrency"]
        clean = c["errors"] == 0 and c["lost"] == 0 and c["misrouted"] == 0
        met = clean and c["latency_s"]["p95"] <= 4.0 and c["users"] >= 20
        add(f"{c['users']} concurrent users", "20 users, 0 errors/lost/misrouted, p95 <= 4 s",
            {"p95": c["latency_s"]["p95"], "errors": c["errors"], "lost": c["lost"], "misrouted": c["misrouted"]},
            met, "" if c["users"] >= 20 else "fewer than 20 users were simulated")
    store = _get(result, "memory", "store", "peak_rss_bytes")
    if store is not None:
        products = _get(result, "memory", "store", "products")
        add(f"peak RSS with {products:,} products", "<= 1.5 GB", _get(result, "memory", "store", "peak_rss_mb"),
            store <= GB, "value in MiB")
    if "startup" in result and "error" not in result["startup"]:
        s = result["startup"]
        once = all(r["llm_loads"] <= 1 for r in s["runs"] + s["first_search"])
        add("startup to first reply", "<= 10 s, model loaded at most once", s["median_s"],
            s["median_s"] <= 10 and once and s["ok"])
        if s.get("first_search_s"):
            first = s["first_search_s"]["p50"]
            add("startup to first search reply", "<= 10 s", first, first <= 10 and s["ok"])
    if "telegram" in result and "error" not in result["telegram"]:
        t = result["telegram"]
        p50, p95 = t["first_price_s"]["p50"], t["first_price_s"]["p95"]
        answered = t["answered"] == t["searches"]
        add("search turn through Telegram p50", "<= 0.15 s", p50, answered and p50 <= 0.15,
            "" if answered else f"{t['searches'] - t['answered']} searches got no price")
        add("search turn through Telegram p95", "<= 0.4 s", p95, answered and p95 <= 0.4)
    if "search" in result and "error" not in result["search"]:
        s = result["search"]
        big = s["products"] >= 50_000
        add(f"search p95 at {s['products']:,} products", "<= 50 ms", round(s["latency_s"]["p95"] * 1000, 1),
            s["latency_s"]["p95"] <= 0.05 if big else None, "" if big else "run with --store homedepot for the target")
    if "ingest" in result and "error" not in result["ingest"]:
        i = result["ingest"]
        add("ingest vs raw encoding", ">= 0.8x", i["ratio"], i["ratio"] is not None and i["ratio"] >= 0.8)
        add(f"all {i['rows']:,} products ingest", "all", i["stored_products"], i["all_ingested"])
    if "recommend" in result and "error" not in result["recommend"]:
        r = result["recommend"]
        add(f"train recommendations on {r['lines']:,} order lines", "<= 60 s", r["train_s"], r["train_s"] <= 60)
        p95 = round(r["recommend_s"]["p95"] * 1000, 1)
        add("one recommendation p95", "<= 30 ms", p95, p95 <= 30)
    for row in _get(result, "scale", "sizes") or []:
        p95 = round(row["search"]["latency_s"]["p95"] * 1000, 1)
        add(f"search p95 at {row['search']['products']:,} products (embedded)", "<= 100 ms", p95, p95 <= 100)
    if "workers" in result and "error" not in result["workers"]:
        w = result["workers"]["several_workers"]
        add(f"{w['workers']} workers, a redelivery in 10%, one killed", "0 lost, 0 duplicates, 0 out of order",
            {k: w[k] for k in ("lost", "duplicates", "out_of_order")},
            w["lost"] == 0 and w["duplicates"] == 0 and w["out_of_order"] == 0)
    return out


# ----- output ------------------------------------------------------------------------------
def rows(name: str, r: dict[str, Any]) -> list[tuple[str, str]]:
    """The readable lines of one section."""
    if "error" in r:
        return [("error", r["error"])]
    if name == "turn":
        out = [("overall", _dist(r["overall_s"])), ("turns / users / errors", f"{r['turns']} / {r['users']} / {r['errors']}")]
        out += [(f"  {intent}", _dist(d)) for intent, d in r["by_intent"].items()]
        llm = r["llm"]
        out.append(("llm sentences used / rejected / fallback", f"{llm['generated']} / {llm['rejected']} / {llm['fallbacks']}"))
        return out
    if name == "llm":
        a, b = r["ours"], r["raw"]
        return [("model", f"{r['model']} · {r['threads']} threads · {r['max_tokens']} max tokens · {a['calls']} calls each"),
                ("generation tokens/s ours vs raw", f"{a['decode_tokens_per_s']} vs {b['decode_tokens_per_s']} → ratio {r['ratio']}"),
                ("end-to-end tokens/s ours vs raw", f"{a['tokens_per_s']} vs {b['tokens_per_s']} → ratio {r['end_to_end_ratio']}"),
                ("time to first token ours", _dist(a["ttft_s"])), ("time to first token raw", _dist(b["ttft_s"]))]
    if name == "concurrency":
        return [("users × turns", f"{r['users']} × {r['turns_per_user']} = {r['turns']} (answered {r['answered']})"),
                ("throughput", f"{r['throughput_turns_per_s']} turns/s over {r['wall_s']} s"),
                ("latency", _dist(r["latency_s"])),
                ("errors / lost / misrouted / unmatched", f"{r['errors']} / {r['lost']} / {r['misrouted']} / {r['unmatched']}")]
    if name == "search":
        return [("store", f"{r['store']} ({r['products']:,} products), {r['queries']} distinct queries"),
                ("query latency (cold embedding)", _dist(r["latency_s"])),
                ("  without embedding", _dist(r["without_embedding_s"])), ("  embedding only", _dist(r["embedding_only_s"])),
                ("first query (loads index)", _ms(r["first_query_s"])),
                ("typo correction: index, then a query", f"{_ms(sp['index_s'])}, {_dist(sp['per_query_s'])} "
                 f"({sp['queries_changed']} queries changed)" if (sp := r.get("spelling")) else "off"),
                ("peak RSS of the bench process", f"{r.get('process_peak_rss_mb', 0):,} MiB")]
    if name == "ingest":
        return [("store", f"{r['store']}: {r['ingested']:,} products, {r['chunks']:,} chunks, {r['rejected']} rejected"),
                ("ingest", f"{r['ingest_s']} s → {r['items_per_s']:,} products/s ({r['chunks_per_s']:,} chunks/s)"),
                ("raw sentence-transformers", f"{r['raw_encode_s']} s → {r['raw_chunks_per_s']} chunks/s"),
                ("ratio (raw time / ingest time)", str(r["ratio"])),
                ("peak RSS of the bench process", f"{r.get('process_peak_rss_mb', 0):,} MiB")]
    if name == "memory":
        out = [("after start-up (demo)", f"peak {r['startup']['peak_rss_mb']:,} MiB")]
        st = r["store"]
        out.append(("with the large store", st.get("skipped") or f"peak {st['peak_rss_mb']:,} MiB ({st['products']:,} products)"))
        return out
    if name == "startup":
        out = [("first reply (hello)", _dist(r["first_reply_s"])), ("chat model loads per process", str(r["llm_loads"]))]
        if r.get("first_search_s"):
            loads = max(fs["embedder_loads"] for fs in r["first_search"])
            out.append((f"first reply to “{r['search_text']}”", f"{_dist(r['first_search_s'])} (embedder loads: {loads})"))
        return out
    if name == "telegram":
        from shopguide.bench.telegram import rows as telegram_rows

        return telegram_rows(r)
    if name == "languages":
        return [("store", f"{r['store']} ({r['products']:,} products); auto builds the vectors: {r['auto_builds']}"),
                ("multilingual-e5 vectors", f"{r['e5_s']} s ({r['e5_ms_per_product']} ms a product)"),
                ("MiniLM on the same texts", f"{r['minilm_ms_per_product']} ms a product (≈{r['minilm_estimate_s']} s), "
                                              f"e5 costs ×{r['ratio']}"),
                ("a search in another language", _dist(r["search_other_language_s"]))]
    if name == "privacy":
        from shopguide.bench.privacy import rows as privacy_rows

        return privacy_rows(r)
    if name == "scale":
        from shopguide.bench.scale import rows as scale_rows

        return scale_rows(r)
    if name == "recommend":
        from shopguide.bench.recommend import rows as recommend_rows

        return recommend_rows(r)
    return [(k, str(v)) for k, v in r.items()]


def print_table(result: dict[str, Any], out=None) -> None:
    """The human-readable report."""
    from rich.console import Console
    from rich.table import Table

    stream = out or sys.stdout
    console = Console(file=stream, width=None if stream.isatty() else 120)
    env = result["environment"]
    console.print(f"shopguide bench · {env['cpus']} cores · load {env['load_average']} · store {env['store']}")
    for name in result["sections"]:
        table = Table(title=f"{name} ({result[name].get('section_s', 0)} s)", title_justify="left", show_header=False)
        table.add_column("metric", style="bold")
        table.add_column("value")
        for label, value in rows(name, result[name]):
            table.add_row(label, value)
        console.print(table)
    if result["targets"]:
        table = Table(title="targets", title_justify="left")
        for col in ("target", "goal", "measured", "met"):
            table.add_column(col)
        for t in result["targets"]:
            met = {True: "[green]yes[/green]", False: "[red]no[/red]", None: "n/a"}[t["met"]]
            table.add_row(t["target"], t["goal"], json.dumps(t["value"]), met)
        console.print(table)


def main(args: argparse.Namespace) -> int:
    """`shopguide bench [SECTIONS...] [--store demo|homedepot] [--users N] [--eval-dir DIR] [--json]`."""
    from shopguide.cli.startup import start

    from shopguide.cli.app import prepare_environment

    prepare_environment()
    settings = start(args, stderr_level="WARNING")
    names = select_sections(getattr(args, "sections", None))
    if getattr(args, "config", None):
        os.environ["SHOPGUIDE_CONFIG"] = str(args.config)  # the spawned processes read the same settings
    if args.users < 1:
        raise UserFacingError("--users must be at least 1")
    ctx = BenchContext(settings, store=args.store, users=args.users, eval_dir=Path(args.eval_dir),
                       lang=getattr(args, "lang", "en"))
    if "scale" in names:
        from shopguide.bench.scale import DEFAULT_SIZES, parse_sizes

        ctx.scale_sizes = parse_sizes(getattr(args, "sizes", None) or DEFAULT_SIZES)
    try:
        result = run_sections(ctx, names)
    finally:
        ctx.close()
    if args.json:
        print(json.dumps(result, ensure_ascii=False))
    else:
        print_table(result)
    return 1 if any("error" in result[n] for n in names) else 0

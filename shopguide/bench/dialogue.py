"""The turn and concurrency sections: whole turns through one `Assistant`, replies included."""

from __future__ import annotations

import asyncio
import logging
import tempfile
import time
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from bot.types import IncomingMessage, Reply
from shopguide.bench.common import BenchContext, load_average, summarise, tick
from shopguide.bench.stores import ensure_demo_store

log = logging.getLogger(__name__)

PLATFORM = "bench"

# One conversation per simulated user, run interleaved: search, refine, details, product
# questions, FAQ, compare, recommend, similar and small talk, on the demo store.
SCRIPT: tuple[tuple[str, ...], ...] = (
    ("hello", "waterproof hiking boots under 150", "cheaper", "the second one", "is it waterproof?",
     "compare 1 and 2", "show more", "what is your return policy?", "recommend something for me", "thanks"),
    ("I'm looking for a daypack", "in black", "only in stock", "tell me about the first one",
     "does it have a rain cover?", "compare the first and the second", "how long does delivery take?",
     "something similar to SG-DP-1004", "what would you suggest for me"),
    ("rain jacket for women", "under 200", "details of 1", "is it waterproof?", "which sizes does it come in?",
     "compare 1 and 3", "do you ship to norway?", "down jacket", "more expensive", "suggest something"),
    ("sleeping bag for freezing nights", "synthetic", "the third one", "will it keep me warm at 0 °C?",
     "how much does shipping cost?", "can I pay with paypal?", "tent for 2 people", "freestanding",
     "compare 1 and 2", "recommend me something"),
    ("I wear size 42", "trail running shoes", "cheaper", "tell me about SG-RS-1003", "is SG-RS-1003 waterproof?",
     "merino socks", "in navy", "what is your warranty?", "compare SG-SO-1001 and SG-SO-1006"),
    ("sunglasses", "polarized", "number 2", "are the lenses polarized?", "backpacking stove",
     "which fuel does it use?", "how do I return an item?", "what should I buy", "thanks!"),
)
WARMUP = ("hello", "warm fleece jacket")


def interleave(script: Sequence[Sequence[str]], limit: int | None = None) -> list[tuple[int, str]]:
    """(user index, text) pairs, round-robin over the users' conversations."""
    out: list[tuple[int, str]] = []
    for step in range(max(len(c) for c in script)):
        for user, convo in enumerate(script):
            if step < len(convo):
                out.append((user, convo[step]))
    return out[:limit] if limit else out


def message(user: str, text: str) -> IncomingMessage:
    """A bench user's text turn."""
    return IncomingMessage(platform=PLATFORM, user_id=user, chat_id=user, text=text)


def build_demo_runtime(ctx: BenchContext, memory_dir: Path, memory=None):
    """A runtime on the bench demo store with the shared models and a fresh memory (`memory`, else
    `memory_dir`/memory.db)."""
    from shopguide.cli.app import build_runtime

    kb = ctx.open_kb(ensure_demo_store(ctx))
    use_llm = ctx.settings.chat_model_needed  # no model is loaded when no feature uses it
    rt = build_runtime(ctx.settings, kb=kb, worker=ctx.get_worker() if use_llm else None, load_llm=use_llm,
                       memory_path=memory_dir / "memory.db", memory=memory)
    rt.owned.add("kb")
    return rt


def intent_of(replies: list[Reply]) -> str:
    """The intent the core settled on (of its first reply)."""
    return (replies[0].intent or "unknown") if replies else "none"


async def _timed(assistant, msg: IncomingMessage) -> tuple[float, list[Reply]]:
    start = time.perf_counter()
    replies = await assistant.handle(msg)
    return time.perf_counter() - start, replies


def script_for(lang: str) -> tuple[tuple[str, ...], ...]:
    """The turn set of a language: English's above, the others' from bench_turns.yaml."""
    if lang == "en":
        return SCRIPT
    import yaml

    data = yaml.safe_load((Path(__file__).parent / "bench_turns.yaml").read_text(encoding="utf-8")) or {}
    if lang not in data:
        raise ValueError(f"no bench turn set for language {lang!r} (have: en, {', '.join(sorted(data))})")
    return tuple(tuple(str(t) for t in convo) for convo in data[lang])


def run_turn(ctx: BenchContext) -> dict[str, Any]:
    """Whole-turn latency over the fixed mixed script of the context's language, per intent and overall."""
    turns = interleave(script_for(ctx.lang), ctx.scale.turn_limit)
    with tempfile.TemporaryDirectory(prefix="bench-turn-") as tmp, ctx.memory(Path(tmp)) as memory:
        rt = build_demo_runtime(ctx, Path(tmp), memory)
        try:
            out = asyncio.run(_turn_script(ctx, rt, turns))
        finally:
            rt.close()
    return {**out, "records": "postgresql" if ctx.database_url() else "sqlite",
            "vectors": "chroma server" if ctx.settings.chroma_url else "embedded"}


async def _turn_script(ctx: BenchContext, rt, turns: list[tuple[int, str]]) -> dict[str, Any]:
    warm_start = time.perf_counter()
    for text in WARMUP:  # loads the embedder and primes the model's prompt cache: reported, not counted
        await rt.assistant.handle(message("warmup", text))
    rt.services.faq.languages.warm()  # as the runners' warm-up does: the FAQ in every language, before customers
    warmup_s = time.perf_counter() - warm_start
    writer = rt.services.writer
    before = (writer.generated, writer.rejected, writer.fallbacks)
    by_intent: dict[str, list[float]] = defaultdict(list)
    overall: list[float] = []
    errors = 0
    samples = []
    progress = ctx.progress("Turns")
    load_before = load_average()
    for i, (user, text) in enumerate(turns, start=1):
        seconds, replies = await _timed(rt.assistant, message(f"user{user}", text))
        intent = intent_of(replies)
        errors += intent in ("error", "none")
        by_intent[intent].append(seconds)
        overall.append(seconds)
        samples.append({"user": user, "text": text, "intent": intent, "seconds": round(seconds, 4)})
        tick(progress, i, len(turns))
    search_like = by_intent.get("search", [])
    return {
        "turns": len(turns), "users": len({u for u, _ in turns}), "errors": errors,
        "warmup_s": round(warmup_s, 3), "overall_s": summarise(overall),
        "by_intent": {k: summarise(v) for k, v in sorted(by_intent.items())},
        "search_s": summarise(search_like),
        "worst_intent_p95_s": max((summarise(v)["p95"] for v in by_intent.values()), default=0.0),
        "llm": {"generated": writer.generated - before[0], "rejected": writer.rejected - before[1],
                "fallbacks": writer.fallbacks - before[2]},
        "load_before": load_before, "load_after": load_average(), "samples": samples,
    }


# ----- concurrency ---------------------------------------------------------------------------
def user_script(product) -> list[str]:
    """A 5-turn conversation about one product; every reply must name it."""
    return [
        f"tell me about {product.id}",
        f"show me {product.title}",
        f"how much is {product.id}?",
        f"something similar to {product.id}",
        f"is {product.id} in stock?",
    ]


def pick_products(kb, n: int) -> list:
    """`n` products with distinct titles, spread over the catalog's types."""
    products = sorted(kb.store.all_products(), key=lambda p: p.id)
    by_type: dict[str, list] = defaultdict(list)
    for p in products:
        by_type[p.type or p.category or ""].append(p)
    picked: list = []
    seen_titles: set[str] = set()
    while len(picked) < n and any(by_type.values()):
        for group in by_type.values():
            while group and group[0].title in seen_titles:
                group.pop(0)
            if group and len(picked) < n:
                p = group.pop(0)
                picked.append(p)
                seen_titles.add(p.title)
    base = len(picked)
    while base and len(picked) < n:  # more users than products: products repeat, one per user
        picked.append(picked[len(picked) % base])
    return picked


def mentions(replies: list[Reply], product) -> bool:
    """True when a reply shows the product as a card or names it in its text."""
    for reply in replies:
        if any(card.id == product.id for card in reply.products):
            return True
        text = reply.text + " " + str((reply.data or {}).get("intro", ""))
        if product.id in text or product.title in text:
            return True
    return False


def run_concurrency(ctx: BenchContext) -> dict[str, Any]:
    """N users, each a 5-turn conversation, against one core at once; checks every reply's recipient."""
    with tempfile.TemporaryDirectory(prefix="bench-conc-") as tmp, ctx.memory(Path(tmp)) as memory:
        rt = build_demo_runtime(ctx, Path(tmp), memory)
        try:
            products = pick_products(rt.kb, ctx.users)
            return asyncio.run(_concurrent(ctx, rt, products))
        finally:
            rt.close()


async def _concurrent(ctx: BenchContext, rt, products: list) -> dict[str, Any]:
    for text in WARMUP:
        await rt.assistant.handle(message("warmup", text))
    writer = rt.services.writer
    before = (writer.generated, writer.rejected, writer.fallbacks)
    turns_each = ctx.scale.turns_per_user
    total = len(products) * turns_each
    progress = ctx.progress(f"{len(products)} users")
    done = 0
    ids = {p.id for p in products}

    async def converse(index: int, product) -> list[dict[str, Any]]:
        nonlocal done
        user = f"user{index}"
        out = []
        for text in user_script(product)[:turns_each]:
            seconds, replies = await _timed(rt.assistant, message(user, text))
            others = [pid for pid in ids - {product.id} if any(
                any(c.id == pid for c in r.products) or pid in r.text for r in replies)]
            out.append({"user": user, "text": text, "seconds": seconds, "intent": intent_of(replies),
                        "replies": len(replies), "own": mentions(replies, product), "others": others})
            done += 1
            tick(progress, done, total)
        return out

    load_before = load_average()
    start = time.perf_counter()
    results = await asyncio.gather(*(converse(i, p) for i, p in enumerate(products)), return_exceptions=True)
    wall = time.perf_counter() - start
    records = [r for group in results if isinstance(group, list) for r in group]
    crashed = sum(isinstance(group, BaseException) for group in results)
    latencies = [r["seconds"] for r in records]
    errors = sum(r["intent"] == "error" for r in records) + crashed
    lost = total - sum(1 for r in records if r["replies"] > 0)
    misrouted = [r for r in records if not r["own"] and r["others"]]
    unmatched = [r for r in records if not r["own"] and not r["others"] and r["replies"] > 0]
    return {
        "users": len(products), "turns_per_user": turns_each, "turns": total, "answered": total - lost,
        "wall_s": round(wall, 3), "throughput_turns_per_s": round(total / wall, 3) if wall else 0.0,
        "latency_s": summarise(latencies), "errors": errors, "lost": lost, "misrouted": len(misrouted),
        "unmatched": len(unmatched),
        "unmatched_examples": [{k: r[k] for k in ("user", "text", "intent")} for r in unmatched[:5]],
        "llm": {"generated": writer.generated - before[0], "rejected": writer.rejected - before[1],
                "fallbacks": writer.fallbacks - before[2]},
        "load_before": load_before, "load_after": load_average(),
    }

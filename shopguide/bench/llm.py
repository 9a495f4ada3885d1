"""The llm section: tokens/s through our ChatModel and queue against raw llama-cpp-python, same run."""

from __future__ import annotations

import asyncio
import logging
import tempfile
import time
from pathlib import Path
from typing import Any

from shopguide.bench.common import BenchContext, load_average, summarise, tick

log = logging.getLogger(__name__)

# (customer text, facts) as the search reply hands them to the writer
PROMPTS = (
    ("waterproof hiking boots under 150", "5 products found for: waterproof hiking boots. up to €150.00, waterproof"),
    ("I'm looking for a daypack in black", "3 products found for: daypack. in black"),
    ("rain jacket for women", "5 products found for: rain jacket. for women"),
    ("sleeping bag for freezing nights", "4 products found for: sleeping bag freezing nights."),
    ("trail running shoes", "5 products found for: trail running shoes. size 42"),
    ("merino socks in navy", "2 products found for: merino socks. in navy"),
    ("a tent for 2 people", "5 products found for: tent 2 people. freestanding"),
    ("polarized sunglasses", "3 products found for: sunglasses. polarized"),
)
NO_DEADLINE = 600.0


class Tally:
    """Token counts and timings of one path (ours or raw)."""

    def __init__(self) -> None:
        self.tokens = 0
        self.seconds = 0.0
        self.decode_tokens = 0
        self.decode_seconds = 0.0
        self.ttft: list[float] = []
        self.calls = 0

    def add(self, start: float, first: float | None, end: float, tokens: int) -> None:
        """Record one completion."""
        self.calls += 1
        self.tokens += tokens
        self.seconds += end - start
        if first is not None:
            self.ttft.append(first - start)
            if tokens > 1:
                self.decode_tokens += tokens - 1
                self.decode_seconds += end - first

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready figures."""
        return {
            "calls": self.calls, "tokens": self.tokens, "seconds": round(self.seconds, 3),
            "tokens_per_s": round(self.tokens / self.seconds, 2) if self.seconds else 0.0,
            "decode_tokens_per_s": round(self.decode_tokens / self.decode_seconds, 2) if self.decode_seconds else 0.0,
            "ttft_s": summarise(self.ttft),
        }


async def ours(worker, messages, max_tokens: int, tally: Tally) -> None:
    """One completion through `ModelWorker.stream` (queue, worker thread, our ChatModel)."""
    start = time.perf_counter()
    first = None
    tokens = 0
    async for _piece in worker.stream(messages, max_tokens=max_tokens, timeout=NO_DEADLINE):
        if first is None:
            first = time.perf_counter()
        tokens += 1
    tally.add(start, first, time.perf_counter(), tokens)


def raw(llm, messages, max_tokens: int, temperature: float, tally: Tally) -> None:
    """The same completion straight from `llama_cpp.Llama.create_chat_completion`."""
    start = time.perf_counter()
    first = None
    tokens = 0
    for chunk in llm.create_chat_completion(messages=list(messages), max_tokens=max_tokens,
                                            temperature=temperature, stream=True):
        if chunk["choices"][0].get("delta", {}).get("content"):
            if first is None:
                first = time.perf_counter()
            tokens += 1
    tally.add(start, first, time.perf_counter(), tokens)


def build_prompts(ctx: BenchContext, n: int) -> list:
    """The writer's real prompts (system prompt, example, facts) for `n` searches."""
    from shopguide.bench.dialogue import build_demo_runtime

    with tempfile.TemporaryDirectory(prefix="bench-llm-") as tmp:
        rt = build_demo_runtime(ctx, Path(tmp))
        try:
            return [rt.services.writer.messages(text, facts) for text, facts in PROMPTS[:n]]
        finally:
            rt.close()


def run_llm(ctx: BenchContext) -> dict[str, Any]:
    """Generation tokens/s and time to first token, ours against raw, interleaved in one run."""
    worker = ctx.get_worker()
    model = worker.model
    llm = getattr(model, "_llm", None)
    if llm is None:
        raise RuntimeError(f"the chat model {type(model).__name__} exposes no llama_cpp.Llama to compare with")
    scale = ctx.scale
    prompts = build_prompts(ctx, scale.llm_prompts)
    return asyncio.run(_compare(ctx, worker, llm, prompts, scale.llm_tokens, scale.llm_rounds))


async def _compare(ctx: BenchContext, worker, llm, prompts: list, max_tokens: int, rounds: int) -> dict[str, Any]:
    temperature = worker.model.temperature
    warm = Tally()
    await ours(worker, prompts[0], max_tokens, warm)  # first evaluation of the shared prefix, not counted
    raw(llm, prompts[0], max_tokens, temperature, warm)
    mine, theirs = Tally(), Tally()
    progress = ctx.progress("LLM")
    total = rounds * len(prompts) * 2
    done = 0
    load_before = load_average()
    for r in range(rounds):
        # each call follows a different prompt with the same static prefix, in both paths alike
        order = ("ours", "raw") if r % 2 == 0 else ("raw", "ours")
        for path in order:
            for messages in prompts:
                if path == "ours":
                    await ours(worker, messages, max_tokens, mine)
                else:
                    raw(llm, messages, max_tokens, temperature, theirs)
                done += 1
                tick(progress, done, total)
    a, b = mine.to_dict(), theirs.to_dict()
    return {
        "model": getattr(worker.model, "name", type(worker.model).__name__),
        "n_ctx": getattr(worker.model, "n_ctx", None), "threads": ctx.settings.llm_n_threads,
        "temperature": temperature, "max_tokens": max_tokens, "prompts": len(prompts), "rounds": rounds,
        "ours": a, "raw": b,
        # generation speed: tokens after the first over the time after the first (output lengths vary)
        "ratio": round(a["decode_tokens_per_s"] / b["decode_tokens_per_s"], 3) if b["decode_tokens_per_s"] else None,
        "end_to_end_ratio": round(a["tokens_per_s"] / b["tokens_per_s"], 3) if b["tokens_per_s"] else None,
        "ttft_overhead_s": round(a["ttft_s"]["p50"] - b["ttft_s"]["p50"], 4),
        "load_before": load_before, "load_after": load_average(),
    }

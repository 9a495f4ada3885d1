"""`shopguide eval languages`: shopping questions in each language, asked through the whole assistant, scored
by whether the products shown are of a right kind, within the budget and of the colour asked for.

Each line of a query file is `{"id", "text", "types": [acceptable catalog types], "max_price"?, "color"?}`
(tests/fixtures/search_dev/, written for the demo catalog). Every question is asked in a fresh
conversation; the score reads the products of the first reply from the records.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

from bot.types import IncomingMessage


def _say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def read_queries(path: Path) -> list[dict[str, Any]]:
    """The labelled questions of one file; a bad line names its number."""
    items = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
            assert isinstance(item.get("text"), str) and isinstance(item.get("types"), list)
        except (ValueError, AssertionError):
            raise SystemExit(f"{path}:{n}: expected {{\"id\", \"text\", \"types\": [...]}}") from None
        items.append(item)
    return items


async def _ask(runtime, items: list[dict[str, Any]], tag: str) -> dict[str, Any]:
    """Ask every question in a fresh conversation; score the first reply's products."""
    store = runtime.kb.store
    hit1 = hit5 = precise = within = priced = coloured = colour_asked = 0
    intents: Counter[str] = Counter()
    times = []
    for n, item in enumerate(items):
        msg = IncomingMessage("eval", f"{tag}-{n}", f"{tag}-{n}", item["text"])
        t0 = time.perf_counter()
        replies = await runtime.assistant.handle(msg)
        times.append(time.perf_counter() - t0)
        first = replies[0] if replies else None
        intents[first.intent if first else "none"] += 1
        shown = [store.get_product(p.id) for p in (first.products if first else ())][:5]
        shown = [p for p in shown if p is not None]
        good = [p for p in shown if (p.type or "") in set(item["types"])]
        hit1 += bool(shown and shown[0] in good)
        hit5 += bool(good)
        precise += len(good) / len(shown) if shown else 0
        if item.get("max_price") is not None:
            priced += 1
            within += bool(shown) and all(p.price is not None and p.price <= item["max_price"] for p in shown)
        if item.get("color"):
            colour_asked += 1
            coloured += bool(shown) and all(item["color"].lower() in {c.lower() for c in p.colors} for p in shown)
    n = len(items) or 1
    times.sort()
    return {"queries": len(items), "hit@1": round(hit1 / n, 4), "hit@5": round(hit5 / n, 4),
            "precision@5": round(precise / n, 4),
            "budget_kept": round(within / priced, 4) if priced else None,
            "colour_kept": round(coloured / colour_asked, 4) if colour_asked else None,
            "turn_p50_s": round(times[len(times) // 2], 3) if times else None,
            "turn_p95_s": round(times[int(len(times) * 0.95)], 3) if times else None,
            "intents": dict(intents.most_common())}


def main(args: argparse.Namespace) -> int:
    """Build a throwaway demo store, ask each file's questions, print the scores per file."""
    from shopguide.cli.app import build_runtime, demo_dir, open_knowledge, prepare_environment
    from shopguide.cli.startup import start
    from knowledge.ingest import ingest_records, parse_file

    settings = start(args, stderr_level="WARNING")
    prepare_environment()
    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="shopguide-eval-") as tmp:
        settings = settings.model_copy(update={
            "data_dir": Path(tmp), "llm_enabled": False, "llm_commands": False,
            "multilingual_vectors": args.vectors, "spelling_correction": True})
        kb = open_knowledge(settings)
        for kind in ("product", "faq"):
            records, _, _ = parse_file(kind, Path(args.products) if kind == "product" and args.products
                                       else demo_dir() / f"{kind}s.jsonl")
            _say(ingest_records(kb, kind, records).summary())
        synonyms = args.synonyms or (None if args.products else str(demo_dir() / "synonyms.txt"))
        if synonyms and synonyms != "none":
            from knowledge.synonyms import ingest_synonyms

            _say(ingest_synonyms(kb.store, Path(synonyms)).summary())
        runtime = build_runtime(settings, kb=kb, load_llm=False, memory_path=Path(tmp) / "memory.db")
        try:
            for path in map(Path, args.queries):
                items = read_queries(path)[: args.limit] if args.limit else read_queries(path)
                results[path.stem] = asyncio.run(_ask(runtime, items, path.stem))
                _say(f"{path.stem}: {results[path.stem]}")
        finally:
            runtime.close()
            kb.close()
    if args.json:
        print(json.dumps({"vectors": args.vectors, "files": results}))
    else:
        print(f"multilingual vectors: {args.vectors}")
        print(f"{'file':<8} {'n':>4} {'hit@1':>7} {'hit@5':>7} {'P@5':>7} {'budget':>7} {'colour':>7} {'p50 s':>7}")
        for name, r in results.items():
            print(f"{name:<8} {r['queries']:>4} {r['hit@1']:>7.3f} {r['hit@5']:>7.3f} {r['precision@5']:>7.3f} "
                  f"{r['budget_kept'] if r['budget_kept'] is not None else '-':>7} "
                  f"{r['colour_kept'] if r['colour_kept'] is not None else '-':>7} {r['turn_p50_s']:>7}")
    return 0

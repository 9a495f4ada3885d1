"""`shopguide eval understand`: replay labelled shopping dialogues and score intents and slots."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
import time
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

from bot.context import asked_question
from bot.types import IncomingMessage

SLOTS = ("type", "brand", "color")
SLOT_LABELS = frozenset({"REQUEST:GET", "INFORM:GET", "INFORM:REFINE"})
# The assistant's intents in the names the evaluation uses: "more" is the next page of the same search, a refinement
# of nothing; "recommend" asks for products like a search does.
EVAL_NAMES = {"more": "refine", "recommend": "search"}


def _say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def read_utterances(path: Path) -> list[dict[str, Any]]:
    """The labelled lines: `{"id", "text", "context", "intents", "label"?, "slots"?}`; a bad line names its number."""
    items = []
    with path.open(encoding="utf-8") as fh:
        for n, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                item = json.loads(line)
                assert isinstance(item.get("id"), str) and isinstance(item.get("text"), str)
                assert isinstance(item.get("intents"), list)
            except (ValueError, AssertionError) as exc:
                raise SystemExit(f"{path}:{n}: not an utterance line ({exc or 'id, text and intents are required'})")
            items.append(item)
    return items


def gold_slots(item: dict[str, Any]) -> set[tuple[str, str]]:
    """The (slot, value) pairs a line's customer words name, lower-cased."""
    slots = item.get("slots") or {}
    pairs = set()
    for key in SLOTS:
        value = slots.get(key)
        for v in value if isinstance(value, list) else [value] if value else []:
            pairs.add((key, str(v).lower()))
    return pairs


def predicted_slots(u) -> dict[str, list[str]]:
    """The catalog values an understanding names, by slot."""
    return {"type": sorted(set(u.named_types)), "brand": sorted(set(u.brands)),
            "color": sorted(set(u.colors))}


def eval_intent(u, pending: str | None) -> str:
    """The understanding's intent in the evaluation's names; an answer to "which one?" is a reference."""
    if asked_question(pending) is not None and u.intent in ("details", "reference") and (u.ordinals or u.skus):
        return "reference"
    return EVAL_NAMES.get(u.intent, u.intent)


def score(items: list[dict[str, Any]], predictions: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """Intent accuracy, its confusion table, and slot precision/recall/F1 on the search and refine lines."""
    right = 0
    confusion: dict[str, Counter] = defaultdict(Counter)
    tp = fp = fn = 0
    for item in items:
        p = predictions[item["id"]]
        right += p["intent"] in item["intents"]
        confusion[item.get("label") or "/".join(item["intents"])][p["intent"]] += 1
        if item.get("label") in SLOT_LABELS:
            gold = gold_slots(item)
            got = {(k, v.lower()) for k, vs in p["slots"].items() for v in vs}
            tp += len(gold & got)
            fp += len(got - gold)
            fn += len(gold - got)
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"intent_accuracy": round(right / len(items), 4) if items else 0.0, "slot_precision": round(precision, 4),
            "slot_recall": round(recall, 4), "slot_f1": round(f1, 4),
            "confusion": {k: dict(v.most_common()) for k, v in sorted(confusion.items())}, "utterances": len(items)}


async def _replay(assistant, items: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Each line read in a fresh conversation after its context's customer turns have been handled."""
    out: dict[str, dict[str, Any]] = {}
    timings = []
    for n, item in enumerate(items):
        user = f"eval-{n}"
        for turn in item.get("context") or []:
            if turn.startswith("User:"):
                await assistant.handle(IncomingMessage("eval", user, user, turn[5:].strip()))
        msg = IncomingMessage("eval", user, user, item["text"])
        pending = assistant.services.memory.load_state(msg.user_key).pending
        t0 = time.perf_counter()
        u = await assistant.read(msg)
        timings.append(time.perf_counter() - t0)
        out[item["id"]] = {"id": item["id"], "intent": eval_intent(u, pending),
                           "confidence": round(float(u.confidence), 4), "slots": predicted_slots(u)}
        if (n + 1) % 200 == 0:
            _say(f"understood {n + 1}/{len(items)}")
    timings.sort()
    if timings:
        _say(f"reading a message: p50 {timings[len(timings) // 2] * 1000:.1f} ms, "
             f"p95 {timings[int(len(timings) * 0.95)] * 1000:.1f} ms")
    return out


def main(args: argparse.Namespace) -> int:
    """Build a throwaway store from --products, replay every line, print the metrics."""
    from shopguide.cli.app import build_runtime, open_knowledge, prepare_environment
    from shopguide.cli.startup import start
    from knowledge.ingest import ingest_records, parse_file

    settings = start(args, stderr_level="WARNING")
    items = read_utterances(Path(args.utterances))
    if args.limit:
        items = items[: args.limit]
    prepare_environment()
    with tempfile.TemporaryDirectory(prefix="shopguide-eval-") as tmp:
        settings = settings.model_copy(update={"data_dir": Path(tmp), "llm_enabled": False, "llm_commands": False})
        kb = open_knowledge(settings)
        records, problems, _ = parse_file("product", Path(args.products))
        for p in problems[:10]:
            _say(f"rejected {p}")
        _say(ingest_records(kb, "product", records).summary())
        runtime = build_runtime(settings, kb=kb, load_llm=False, memory_path=Path(tmp) / "memory.db")
        try:
            predictions = asyncio.run(_replay(runtime.assistant, items))
        finally:
            runtime.close()
            kb.close()
    metrics = score(items, predictions)
    if args.run_out:
        with open(args.run_out, "w", encoding="utf-8") as fh:
            for item in items:
                fh.write(json.dumps(predictions[item["id"]], ensure_ascii=False) + "\n")
    if args.json:
        print(json.dumps(metrics))
    else:
        print(f"intent accuracy: {metrics['intent_accuracy']:.4f} on {metrics['utterances']} utterances")
        print(f"slots (type, brand, colour): P {metrics['slot_precision']:.4f}  R {metrics['slot_recall']:.4f}  "
              f"F1 {metrics['slot_f1']:.4f}")
        for label, row in metrics["confusion"].items():
            print(f"  {label:>22}: " + ", ".join(f"{k} {v}" for k, v in row.items()))
    return 0

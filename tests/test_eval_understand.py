"""`shopguide eval understand`: the scoring by hand, and the real command on a tiny set written for the project."""

from __future__ import annotations

import json
from pathlib import Path

from shopguide.cli.evalunderstand import score
from tests.test_ingest_cli import run_cli

LINES = [
    {"id": "a_0", "text": "do you have any blue mugs?", "context": [], "intents": ["search"], "label": "REQUEST:GET",
     "slots": {"type": "mug", "color": ["blue"]}},
    {"id": "a_1", "text": "I'll take them both", "context": ["User: do you have any blue mugs?", "Assistant: Two."],
     "intents": ["buy"], "label": "REQUEST:ADD_TO_CART", "slots": {}},
    {"id": "b_0", "text": "how much is the red teapot?", "context": [], "intents": ["product_question", "details"],
     "label": "ASK:GET", "slots": {}},
]


def test_scores_are_computed_as_defined():
    predictions = {
        "a_0": {"intent": "search", "slots": {"type": ["mug"], "brand": ["Acme"], "color": ["blue"]}},
        "a_1": {"intent": "search", "slots": {"type": [], "brand": [], "color": []}},
        "b_0": {"intent": "details", "slots": {"type": ["teapot"], "brand": [], "color": []}},
    }
    metrics = score(LINES, predictions)
    assert metrics["intent_accuracy"] == round(2 / 3, 4)
    # slots count on the search line only: 2 right (mug, blue), 1 wrong (Acme), none missed
    assert (metrics["slot_precision"], metrics["slot_recall"], metrics["slot_f1"]) == (0.6667, 1.0, 0.8)
    assert metrics["confusion"]["REQUEST:ADD_TO_CART"] == {"search": 1}


def test_the_command_replays_context_and_prints_json_and_a_run_file(tmp_path: Path):
    products = [{"id": f"K-{i}", "title": f"Acme {c} {t}", "brand": "Acme", "type": t, "colors": [c], "price": 10 + i}
                for i, (c, t) in enumerate([("blue", "mug"), ("blue", "mug"), ("red", "teapot"), ("green", "teapot")])]
    (tmp_path / "p.jsonl").write_text("".join(json.dumps(p) + "\n" for p in products), encoding="utf-8")
    (tmp_path / "u.jsonl").write_text("".join(json.dumps(x) + "\n" for x in LINES), encoding="utf-8")
    done = run_cli(tmp_path, "eval", "understand", "--utterances", "u.jsonl", "--products", "p.jsonl",
                   "--run-out", "run.jsonl", "--json")
    assert done.returncode == 0, done.stderr
    metrics = json.loads(done.stdout)
    assert metrics["utterances"] == 3 and metrics["intent_accuracy"] >= 2 / 3
    assert metrics["slot_recall"] == 1.0  # the mug and blue of the search line, as the catalog names them
    run = [json.loads(line) for line in (tmp_path / "run.jsonl").read_text().splitlines()]
    assert [r["id"] for r in run] == ["a_0", "a_1", "b_0"]
    assert run[0]["intent"] == "search" and run[0]["slots"]["type"] == ["mug"] and run[0]["slots"]["color"] == ["blue"]
    assert run[1]["intent"] == "buy" and all(0 <= r["confidence"] <= 1 for r in run)
    (tmp_path / "u.jsonl").write_text('{"id": "x", "text": "hello"}\n', encoding="utf-8")
    bad = run_cli(tmp_path, "eval", "understand", "--utterances", "u.jsonl", "--products", "p.jsonl")
    assert bad.returncode != 0 and "u.jsonl:1:" in bad.stderr and "Traceback" not in bad.stderr

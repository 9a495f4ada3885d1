"""End to end through the console command: real embedder, Chroma, SQLite and GGUF model."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SHOPGUIDE = ROOT / ".venv" / "bin" / "shopguide"
CATALOG = {json.loads(line)["id"]: json.loads(line) for line in (ROOT / "shopguide/demo/products.jsonl").open()}
FAQS = {json.loads(line)["id"]: json.loads(line) for line in (ROOT / "shopguide/demo/faqs.jsonl").open()}


def _once(text: str, data_dir: Path, user: str = "e2e") -> dict:
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "SHOPGUIDE_DATA_DIR": str(data_dir)}
    out = subprocess.run([str(SHOPGUIDE), "console", "--once", text, "--user", user, "--json"],
                         capture_output=True, text=True, timeout=600, env=env, cwd=data_dir.parent)
    assert out.returncode == 0, out.stderr[-2000:]
    return json.loads(out.stdout)  # exactly one JSON object on stdout; logs went to stderr


@pytest.mark.e2e
def test_console_once_json_is_grounded_and_stateful(tmp_path):
    data_dir = tmp_path / "data"
    first = _once("waterproof hiking boots under 150", data_dir)
    products = [p for r in first["replies"] for p in r["products"]]
    assert products, first
    for p in products:
        record = CATALOG[p["id"]]
        assert p["price"] == record["price"] <= 150
        assert p["title"] == record["title"] and p["currency"] == record["currency"]
        assert p["in_stock"] == (record["stock"] > 0)
        assert record["type"] == "hiking boots" and record["attributes"]["waterproof"] is True
    for reply in first["replies"]:
        assert set(reply) >= {"text", "products", "buttons"}
        assert all(set(b) == {"label", "action"} for b in reply["buttons"])

    second = _once("the second one", data_dir)  # same user: the conversation continues across processes
    assert [p["id"] for p in second["replies"][0]["products"]] == [products[1]["id"]]
    assert f"€{CATALOG[products[1]['id']]['price']:.2f}" in second["replies"][0]["text"]

    policy = _once("what is your return policy?", data_dir)
    assert FAQS["returns-policy"]["answer"] in policy["replies"][0]["text"]

    hello = _once("hello", data_dir, user="someone-else")
    assert "find products" in hello["replies"][0]["text"] and not hello["replies"][0]["products"]

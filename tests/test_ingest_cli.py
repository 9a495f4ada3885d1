"""The real `shopguide ingest` command in a subprocess: exit codes, summary, per-row messages, --json."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

FIXTURES = Path(__file__).parent / "fixtures" / "ingest"
REPORT_KEYS = {"kind", "file", "rows", "added", "updated", "unchanged", "removed", "rejected", "skipped", "embedded_chunks",
               "problems", "notes"}


def shopguide(tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    return run_cli(tmp_path, "ingest", *args)


def run_cli(tmp_path: Path, *args: str, **settings: str) -> subprocess.CompletedProcess:
    script = Path(sys.executable).with_name("shopguide")
    command = [str(script)] if script.exists() else [sys.executable, "-m", "shopguide.cli"]
    env = {k: v for k, v in os.environ.items() if not k.startswith("SHOPGUIDE_")}
    env.update(SHOPGUIDE_DATA_DIR=str(tmp_path / "data"), HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1")
    env.update({"SHOPGUIDE_" + k.upper(): v for k, v in settings.items()})
    return subprocess.run([*command, *args], cwd=tmp_path, env=env, capture_output=True, text=True,
                          timeout=300)


def test_ingest_cli_exit_codes_summary_messages_and_json(tmp_path):
    good = FIXTURES / "products_good.csv"
    ok = shopguide(tmp_path, "products", str(good))
    assert ok.returncode == 0, ok.stderr
    assert ok.stdout.strip() == f"products from {good}: 3 added, 0 updated, 0 unchanged, 0 removed, 0 rejected"
    assert "rejected" not in ok.stderr

    # the same three products (unchanged, so nothing is embedded) plus two bad rows
    bad = tmp_path / "mixed.jsonl"
    bad.write_text((FIXTURES / "products_good.jsonl").read_text(encoding="utf-8")
                   + '{"id": "SG-103", "title": "Tent", "price": "abc"}\n{"title": "no id"}\n', encoding="utf-8")
    mixed = shopguide(tmp_path, "products", str(bad), "--json")
    assert mixed.returncode == 1, mixed.stderr
    report = json.loads(mixed.stdout)
    assert set(report) == REPORT_KEYS
    assert {k: report[k] for k in ("kind", "file", "rows", "added", "unchanged", "rejected", "embedded_chunks")} == {
        "kind": "product", "file": str(bad), "rows": 5, "added": 0, "unchanged": 3, "rejected": 2, "embedded_chunks": 0}
    assert report["problems"] == [
        {"file": str(bad), "line": 5, "reason": "price is not a number: 'abc'"},
        {"file": str(bad), "line": 6, "reason": "missing id"},
    ]
    assert f"rejected {bad}:5: price is not a number: 'abc'" in mixed.stderr
    assert f"rejected {bad}:6: missing id" in mixed.stderr

    missing = shopguide(tmp_path, "products", str(tmp_path / "nope.csv"))
    assert missing.returncode == 2
    assert "no such file" in missing.stderr and missing.stdout == ""


def test_search_and_faq_give_clear_results_for_punctuation_and_huge_queries(tmp_path):
    assert shopguide(tmp_path, "products", str(FIXTURES / "products_good.jsonl")).returncode == 0
    bare = run_cli(tmp_path, "search", "?!...", "--json")
    assert bare.returncode == 0 and "Traceback" not in bare.stderr
    assert "no words" in bare.stderr
    assert {r["id"] for r in json.loads(bare.stdout)["results"]} == {"SG-100", "SG-101", "SG-102"}
    huge = run_cli(tmp_path, "search", "rain jacket " * 1000, "--json")  # 12,000 characters
    assert huge.returncode == 0 and "Traceback" not in huge.stderr
    assert json.loads(huge.stdout)["results"][0]["id"] == "SG-101"
    faq = run_cli(tmp_path, "faq", "???", "--json")
    assert faq.returncode == 0 and json.loads(faq.stdout) == {"query": "???", "answered": False, "best": None, "ranked": []}
    # a reader that stops early (`| head -c 10`) is no error of ours
    script = Path(sys.executable).with_name("shopguide")
    piped = subprocess.run(f"'{script}' search '{'jacket ' * 15000}' --json | head -c 10", shell=True, cwd=tmp_path,
                           env={**os.environ, "SHOPGUIDE_DATA_DIR": str(tmp_path / "data"), "HF_HUB_OFFLINE": "1"},
                           capture_output=True, text=True, timeout=300)
    assert piped.stdout == '{"query": ' and "Traceback" not in piped.stderr and "unexpected" not in piped.stderr


def test_search_batch_and_arguments_report_bad_input_without_tracebacks(tmp_path):
    assert shopguide(tmp_path, "products", str(FIXTURES / "products_good.jsonl")).returncode == 0
    batch = tmp_path / "q.jsonl"
    batch.write_text('{"id": "q1", "text": "rain jacket"}\nnot json\n{"id": "q3", "query": "rain jacket"}\n'
                     '{"id": "q4"}\n', encoding="utf-8")
    out = run_cli(tmp_path, "search", "--batch", str(batch), "--json")
    assert out.returncode == 1 and "Traceback" not in out.stderr
    lines = [json.loads(line) for line in out.stdout.splitlines()]
    assert [(r["id"], r["query"], r["results"][0]["id"]) for r in lines] == [("q1", "rain jacket", "SG-101"),
                                                                             ("q3", "rain jacket", "SG-101")]
    assert f"{batch}:2: invalid JSON" in out.stderr and f'{batch}:4: no "text" string' in out.stderr
    shoes = run_cli(tmp_path, "search", "shoe", "--attr", "WaterProof=yes", "--json")  # keys match as stored
    found = {r["id"] for r in json.loads(shoes.stdout)["results"]}
    assert "SG-100" in found and found <= {"SG-100", "SG-101"}  # the waterproof ones only
    by_ean = run_cli(tmp_path, "search", "0012345678905", "--json")  # an EAN attribute is a code too
    first = json.loads(by_ean.stdout)["results"][0]
    assert (first["id"], first["exact"]) == ("SG-100", True)
    missing = run_cli(tmp_path, "search", "--batch", "nope.jsonl")
    assert missing.returncode == 1 and "nope.jsonl: cannot read" in missing.stderr and "Traceback" not in missing.stderr
    for args, message in ((["--max-price", "nan"], "--max-price: must be a finite amount"),
                          (["--top-k", "-1"], "--top-k: must be at least 1"), (["--top-k", "0"], "must be at least 1")):
        bad = run_cli(tmp_path, "search", "jacket", *args)
        assert bad.returncode == 2 and message in bad.stderr and "Traceback" not in bad.stderr


def test_eval_reads_numeric_ids_and_names_the_line_of_a_bad_label(tmp_path):
    (tmp_path / "p.jsonl").write_text('{"id": 7, "title": "Blue rain jacket"}\n{"id": 8, "title": "Wool socks"}\n',
                                      encoding="utf-8")
    (tmp_path / "q.jsonl").write_text('{"id": 1, "text": "rain jacket"}\n', encoding="utf-8")
    (tmp_path / "qrels.txt").write_text("1 0 7 1.0\n", encoding="utf-8")
    args = ["eval", "search", "--products", "p.jsonl", "--queries", "q.jsonl", "--qrels", "qrels.txt", "--json"]
    ok = run_cli(tmp_path, *args)
    assert ok.returncode == 0, ok.stderr
    metrics = json.loads(ok.stdout)
    assert {k: metrics[k] for k in ("queries", "ndcg@10", "mrr@10", "recall@100")} == {
        "queries": 1, "ndcg@10": 1.0, "mrr@10": 1.0, "recall@100": 1.0}
    assert metrics["records"] == "sqlite" and metrics["search_ms_p50"] >= 0  # where the records were, and the speed
    (tmp_path / "qrels.txt").write_text("1 0 7 1\n1 0 8 0.5\n", encoding="utf-8")
    bad = run_cli(tmp_path, *args)
    assert bad.returncode == 1 and "qrels.txt:2: expected `QUERY_ID 0 DOC_ID GRADE` with a whole-number grade" in bad.stderr
    assert "Traceback" not in bad.stderr and "embedding" not in bad.stderr  # labels are checked before the ingest
    (tmp_path / "faqs.jsonl").write_text('{"id": 1, "question": "How do I return an item?", "answer": "Use the form."}\n'
                                         '{"id": 2, "question": "Do you ship abroad?", "answer": "Only in the EU."}\n',
                                         encoding="utf-8")
    (tmp_path / "u.jsonl").write_text('{"id": "u1", "text": "I want to send my order back", "faq_id": 1}\n',
                                      encoding="utf-8")
    faq = run_cli(tmp_path, "eval", "faq", "--faqs", "faqs.jsonl", "--utterances", "u.jsonl", "--json")
    assert faq.returncode == 0 and json.loads(faq.stdout)["accuracy@1"] == 1.0
    (tmp_path / "u.jsonl").write_text('{"id": "u1", "text": "I want to send my order back"}\n', encoding="utf-8")
    unlabelled = run_cli(tmp_path, "eval", "faq", "--faqs", "faqs.jsonl", "--utterances", "u.jsonl", "--json")
    assert unlabelled.returncode == 1 and "u.jsonl:1: missing 'faq_id'" in unlabelled.stderr


def test_eval_reads_utterances_with_the_assistants_typo_correction(tmp_path):
    """A misspelt utterance is scored exactly as its corrected form, unless correction is switched off."""
    (tmp_path / "faqs.jsonl").write_text('{"id": 1, "question": "How do I return an item?", "answer": "Use the form."}\n'
                                         '{"id": 2, "question": "Do you ship abroad?", "answer": "Only in the EU."}\n',
                                         encoding="utf-8")
    (tmp_path / "u.jsonl").write_text('{"id": "typed", "text": "how can I retrun an item", "faq_id": 1}\n'
                                      '{"id": "right", "text": "how can I return an item", "faq_id": 1}\n',
                                      encoding="utf-8")

    def scores(run_file: str, **settings: str) -> dict[str, list[str]]:
        done = run_cli(tmp_path, "eval", "faq", "--faqs", "faqs.jsonl", "--utterances", "u.jsonl",
                       "--run-out", run_file, "--json", **settings)
        assert done.returncode == 0, done.stderr
        out: dict[str, list[str]] = {}
        for line in (tmp_path / run_file).read_text().splitlines():
            query, _, doc, _, score, _ = line.split()
            out.setdefault(query, []).append(f"{doc}:{score}")
        return out

    corrected = scores("on.run")
    assert corrected["typed"] == corrected["right"]
    as_typed = scores("off.run", spelling_correction="false")
    assert as_typed["right"] == corrected["right"] and as_typed["typed"] != as_typed["right"]


def test_ingest_synonyms_cli_keeps_the_good_groups_and_names_the_broken_line(tmp_path):
    own = tmp_path / "synonyms.txt"
    own.write_text("socks, Socken, calcetines\nbroken\n", encoding="utf-8")
    got = shopguide(tmp_path, "synonyms", str(own))
    assert got.returncode == 1  # a line was rejected
    assert got.stdout.strip() == f"synonyms from {own}: 1 added, 0 updated, 0 unchanged, 0 removed, 1 rejected"
    assert f"{own}:2" in got.stderr
    again = shopguide(tmp_path, "synonyms", str(own))
    assert "0 added" in again.stdout and "1 unchanged" in again.stdout
    missing = shopguide(tmp_path, "synonyms", str(tmp_path / "nope.txt"))
    assert missing.returncode == 2 and "cannot read synonyms file" in missing.stderr

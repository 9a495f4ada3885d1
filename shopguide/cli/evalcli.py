"""`shopguide eval`: build a throwaway store from labelled data, run it, print the metrics."""

from __future__ import annotations

import argparse
from collections import Counter
import json
import logging
import os
import secrets
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Callable

from knowledge.base import KnowledgeBase
from knowledge.evaluate import accuracy_at_1, read_labelled, read_qrels, summarise, write_run
from knowledge.ingest import ingest_records, parse_file
from knowledge.text import normalise
from shopguide.storage import drop_schema

log = logging.getLogger(__name__)
WARM_CHUNK = 2000
Fix = Callable[[str], str]  # what the assistant does to a message before retrieval: typo correction


def _say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def _progress(label: str):
    from shopguide.cli.startup import progress_bar

    bar = progress_bar(label)
    if bar is not None:
        return bar
    last = {"t": 0.0}

    def update(done: int, total: int) -> None:
        now = time.monotonic()
        if done >= total or now - last["t"] > 30:
            last["t"] = now
            _say(f"{label}: {done}/{total}")

    return update


def _load(kb: KnowledgeBase, kind: str, path: str) -> None:
    records, problems, _ = parse_file(kind, Path(path))
    for p in problems[:10]:
        _say(f"rejected {p}")
    start = time.monotonic()
    report = ingest_records(kb, kind, records, progress=_progress(f"embedding {kind}s"))
    _say(f"{report.summary()} in {time.monotonic() - start:.1f}s")


def _warm(kb: KnowledgeBase, texts: list[str], kind: str = "product") -> None:
    warm = getattr(kb.embedder_for(kind), "warm", None)
    if warm:
        warm([normalise(t) for t in texts])


def main(args: argparse.Namespace) -> int:
    """Run one evaluation and print its metrics."""
    from shopguide.cli.app import open_embedders, prepare_environment
    from shopguide.cli.startup import start

    settings = start(args, stderr_level="WARNING")
    prepare_environment()
    embedders = open_embedders(settings)
    # with SHOPGUIDE_DATABASE_URL the throwaway records go to a schema of their own on that server, dropped after
    records = settings.database_url.get_secret_value() if settings.database_url else None
    schema = f"eval_{os.getpid()}_{secrets.token_hex(3)}"
    with tempfile.TemporaryDirectory(prefix="shopguide-eval-") as tmp:
        kb = KnowledgeBase(Path(tmp), *embedders, records=records, records_schema=schema)
        try:
            runner = {"search": eval_search, "faq": eval_faq, "product-qa": eval_product_qa}[args.eval_kind]
            metrics, runs = runner(kb, args, _reader(settings, kb))
            metrics["records"] = "postgresql" if records else "sqlite"
        finally:
            kb.close()
            if records:
                drop_schema(records, schema)
    if args.run_out:
        write_run(Path(args.run_out), runs, f"shopguide-{args.eval_kind}")
    if args.json:
        print(json.dumps(metrics))
    else:
        for key, value in metrics.items():
            print(f"{key:>12}: {value}")
    return 0


def _as_typed(text: str) -> str:
    return text


def _reader(settings, kb: KnowledgeBase) -> Fix:
    """How the assistant reads a message: typing errors corrected, then other names read as the catalog's."""
    from shopguide.cli.app import open_speller, open_store_thesaurus

    from knowledge.synonyms import read_as_catalog

    speller, thesaurus = open_speller(settings, kb), open_store_thesaurus(settings, kb)
    if speller is None and thesaurus is None:
        return _as_typed
    return lambda text: read_as_catalog(text, speller, thesaurus)[0]


def _fixed(items: list[dict[str, Any]], fix: Fix) -> list[dict[str, Any]]:
    """The labelled items with their text read as the assistant reads it (once, after the store is loaded)."""
    return [{**item, "text": fix(item["text"])} for item in items]


def eval_search(kb: KnowledgeBase, args: argparse.Namespace, fix: Fix = _as_typed) -> tuple[dict[str, Any], dict]:
    """Product search over a labelled catalog."""
    from knowledge.search import ProductSearch

    qrels = read_qrels(Path(args.qrels))  # labels first: a bad label file fails before the long ingest
    queries = [q for q in read_labelled(Path(args.queries), ("id", "text")) if q["id"] in qrels]
    _load(kb, "product", args.products)
    queries = _fixed(queries[: args.limit] if args.limit else queries, fix)
    engine = ProductSearch(kb)
    runs: dict[str, list[tuple[str, float]]] = {}
    timings: list[float] = []
    for start in range(0, len(queries), WARM_CHUNK):
        chunk = queries[start:start + WARM_CHUNK]
        _warm(kb, [q["text"] for q in chunk])
        for q in chunk:
            t0 = time.perf_counter()
            result = engine.search(q["text"], top_k=100, mode=args.mode)
            timings.append(time.perf_counter() - t0)
            runs[q["id"]] = [(h.product.id, h.score) for h in result.hits]
    judged = {q["id"]: qrels[q["id"]] for q in queries}
    metrics = summarise({k: [d for d, _ in v] for k, v in runs.items()}, judged)
    metrics["mode"] = args.mode
    if timings:  # each search with its query already embedded (warmed): the store's part of a search
        ordered = sorted(timings)
        metrics["search_ms_p50"] = round(1000 * ordered[len(ordered) // 2], 1)
        metrics["search_ms_p95"] = round(1000 * ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))], 1)
    return metrics, runs


def eval_faq(kb: KnowledgeBase, args: argparse.Namespace, fix: Fix = _as_typed) -> tuple[dict[str, Any], dict]:
    """FAQ matching of labelled utterances."""
    from knowledge.faq import FaqMatcher

    from bot.understanding.words import bundled_detector

    utterances = read_labelled(Path(args.utterances), ("id", "text", "faq_id"))
    _load(kb, "faq", args.faqs)
    utterances = utterances[: args.limit] if args.limit else utterances
    fixed = getattr(args, "lang", None) or None
    langs = {u["id"]: fixed or bundled_detector().detect(u["text"]).lang or "en" for u in utterances}  # as the chat tells it
    utterances = [u if langs[u["id"]] != "en" else {**u, "text": fix(u["text"])} for u in utterances]
    matcher = FaqMatcher(kb)
    total = kb.store.count("faq")
    runs: dict[str, list[tuple[str, float]]] = {}
    pairs = []
    for start in range(0, len(utterances), WARM_CHUNK):
        chunk = utterances[start:start + WARM_CHUNK]
        _warm(kb, [u["text"] for u in chunk], "faq")
        for u in chunk:
            ranked = matcher.rank(u["text"], top_k=total, lang=langs[u["id"]])
            runs[u["id"]] = [(h.faq.id, h.score) for h in ranked]
            pairs.append((u["faq_id"], ranked[0].faq.id if ranked else None))
    qrels = {u["id"]: {u["faq_id"]: 1} for u in utterances}
    metrics = summarise({k: [d for d, _ in v] for k, v in runs.items()}, qrels)
    metrics["accuracy@1"] = accuracy_at_1(pairs)
    metrics["languages"] = dict(sorted(Counter(langs.values()).items()))
    return metrics, runs


def eval_product_qa(kb: KnowledgeBase, args: argparse.Namespace, fix: Fix = _as_typed) -> tuple[dict[str, Any], dict]:
    """Evidence ranking within each question's product."""
    from knowledge.evidence import EvidenceRetriever

    qrels = read_qrels(Path(args.qrels))
    questions = [q for q in read_labelled(Path(args.questions), ("id", "product_id", "text")) if q["id"] in qrels]
    _load(kb, "product", args.products)
    _load(kb, "document", args.documents)
    retriever = EvidenceRetriever(kb)
    questions = _fixed(questions, fix)
    _warm(kb, [q["text"] for q in questions])
    runs: dict[str, list[tuple[str, float]]] = {}
    for q in questions:
        ranked = retriever.rank(q["product_id"], q["text"], top_k=100, include_description=False)
        runs[q["id"]] = [(e.id, e.score) for e in ranked]
    judged = {q["id"]: qrels[q["id"]] for q in questions}
    metrics = summarise({k: [d for d, _ in v] for k, v in runs.items()}, judged, p1_grade=2)
    return metrics, runs

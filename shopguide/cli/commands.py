"""Implementations of the core subcommands: console, ingest, search, faq and config."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path
from typing import Any

from shopguide.errors import UserFacingError
from shopguide.cli.startup import progress_bar, start  # noqa: F401 (used here and by name elsewhere)
from shopguide.settings import load_settings

log = logging.getLogger(__name__)


def console(args: argparse.Namespace) -> int:
    """`shopguide console`."""
    from adapters.console import run_interactive, run_once
    from shopguide.cli.app import build_runtime, load_demo_store, open_knowledge

    settings = start(args, stderr_level="WARNING")
    if args.json and not args.once:
        raise UserFacingError("--json needs --once TEXT")
    if settings.llm_enabled and not args.no_llm and not settings.llm_url:
        from models.resolve import resolve_gguf

        resolve_gguf(settings.llm_model_path)  # a bad model file stops start-up before any other work
    kb = open_knowledge(settings)
    if kb.store.count("product") == 0:
        for report in load_demo_store(kb, progress_bar("Loading the demo store")):
            print(report.summary(), file=sys.stderr)
    runtime = build_runtime(settings, load_llm=False if args.no_llm else None, kb=kb)
    runtime.owned.add("kb")
    try:
        if args.once is not None:
            return run_once(runtime.assistant, args.once, args.user, args.json)
        return run_interactive(runtime.assistant, args.user)
    finally:
        runtime.close()


def _retrain_recommendations(kb, settings) -> None:
    """Train the order-history model into the cache now, so the assistant's next start loads it at once."""
    import time

    from knowledge.recommend_orders import orders_from_store

    started = time.perf_counter()
    try:
        model = orders_from_store(kb.store, settings.cache_dir)
    except Exception:
        log.warning("recommendations could not be retrained after the order ingest", exc_info=True)
        print("shopguide: warning: recommendations could not be retrained (see the log)", file=sys.stderr)
        return
    if model is not None:
        print(f"recommendations ready: {model.report.lines} order lines, {model.report.customers} customers "
              f"({time.perf_counter() - started:.1f}s)", file=sys.stderr)


def ingest(args: argparse.Namespace) -> int:
    """`shopguide ingest KIND FILE`: exit 0 if every row went in, 1 if rows were rejected, 2 if the file is unusable."""
    from knowledge.feeds import is_url
    from knowledge.ingest import ingest_file
    from shopguide.cli.app import load_demo_store, open_knowledge
    from shopguide.errors import IngestError

    if args.kind != "demo" and not args.file:
        print(f"shopguide: error: ingest {args.kind} needs a FILE", file=sys.stderr)
        return 2
    settings = start(args, stderr_level="WARNING")
    kb = open_knowledge(settings)
    try:
        if args.kind == "demo":
            reports = load_demo_store(kb, progress_bar("Embedding"))
        elif args.kind in ("orders", "synonyms"):  # files with readers of their own, into the store's records
            from knowledge.order_ingest import ingest_orders
            from knowledge.synonyms import ingest_synonyms

            try:
                reports = [{"orders": ingest_orders, "synonyms": ingest_synonyms}[args.kind](kb.store, Path(args.file))]
            except IngestError as exc:
                print(f"shopguide: error: {exc}", file=sys.stderr)
                return 2
            if args.kind == "orders":
                _retrain_recommendations(kb, settings)
        elif args.kind == "products" and is_url(args.file):
            from shopguide.cli.synccli import fetch_one

            reports = fetch_one(kb, settings, args)
            if reports is None:
                return 1
        else:
            kind = {"products": "product", "faqs": "faq", "documents": "document"}[args.kind]
            try:
                reports = [ingest_file(kb, kind, Path(args.file), fmt=args.format, strict=args.strict,
                                       prune=args.prune, progress=progress_bar(f"Embedding {args.kind}"),
                                       currency=settings.currency and settings.currency.upper())]
            except IngestError as exc:
                print(f"shopguide: error: {exc}", file=sys.stderr)
                if args.json:
                    print(json.dumps({"kind": kind, "file": args.file, "error": str(exc)}, ensure_ascii=False))
                return 2
        if args.kind in ("demo", "products"):  # the multilingual vectors follow the catalog (only what changed)
            from knowledge import multilingual

            synced = multilingual.sync(kb, kb.document_embedder, settings.multilingual_vectors,
                                       progress_bar("Multilingual vectors"))
            if synced.embedded or synced.removed:
                print(f"multilingual vectors: {synced.embedded} embedded, {synced.removed} removed "
                      f"in {synced.seconds:.1f}s", file=sys.stderr)
    finally:
        kb.close()
    code = 0
    for report in reports:
        for problem in report.problems:
            print(f"rejected {problem}", file=sys.stderr)
        for note in report.notes:
            print(note, file=sys.stderr)
        if args.json:
            print(json.dumps(report.to_dict(), ensure_ascii=False))
        else:
            print(report.summary())
        code = max(code, report.exit_code)
    return code


def _filters(args: argparse.Namespace):
    from knowledge.filters import SearchFilters
    from knowledge.schema import _scalar_attr, attribute_key

    attributes = {}
    for item in args.attr or []:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise UserFacingError(f"--attr takes KEY=VALUE, got {item!r}")
        attributes[attribute_key(key)] = _scalar_attr(value.strip())  # stored keys are normalised the same way
    return SearchFilters(
        min_price=args.min_price, max_price=args.max_price, categories=tuple(args.category or ()),
        brands=tuple(args.brand or ()), colors=tuple(args.color or ()), sizes=tuple(args.size or ()),
        in_stock=True if args.in_stock else None, attributes=attributes,
    )


def hit_json(hit) -> dict[str, Any]:
    """One search hit in the documented `--json` shape."""
    p = hit.product
    return {"id": p.id, "title": p.title, "price": p.price, "currency": p.currency, "in_stock": p.in_stock,
            "score": round(hit.score, 6), "exact": hit.exact}


def search(args: argparse.Namespace) -> int:
    """`shopguide search`."""
    from knowledge.search import ProductSearch
    from shopguide.cli.app import open_knowledge

    settings = start(args, stderr_level="WARNING")
    kb = open_knowledge(settings)
    engine = ProductSearch(kb)
    filters = _filters(args)
    if args.batch:
        return _search_batch(engine, filters, args)
    if args.text is None:
        raise UserFacingError("search needs TEXT or --batch FILE")
    result = engine.search(args.text, filters, top_k=args.top_k, mode=args.mode)
    from knowledge.text import tokens

    if not tokens(args.text, drop_stopwords=False):
        print("the query has no words: listing products by rating", file=sys.stderr)
    if args.json:
        print(json.dumps({"query": args.text, "confidence": result.confidence, "filters": filters.to_dict(),
                          "results": [hit_json(h) for h in result.hits]}, ensure_ascii=False))
        return 0
    from bot.present import format_price, stock_text

    if not result.hits:
        print("no results")
    for i, h in enumerate(result.hits, start=1):
        p = h.product
        print(f"{i:2d}. {p.title} [{p.id}] {format_price(p.price, p.currency)} · {stock_text(p)}  (score {h.score:.4f})")
    print(f"confidence {result.confidence:.2f}", file=sys.stderr)
    return 0


def _search_batch(engine, filters, args: argparse.Namespace) -> int:
    """`search --batch`: one JSON line per query line; a bad line is reported on stderr and skipped (exit 1)."""
    from knowledge.evaluate import jsonl_lines

    bad = 0
    for number, row, reason in jsonl_lines(Path(args.batch)):
        text = row.get("text", row.get("query")) if isinstance(row, dict) else None
        if reason is None and not isinstance(text, str):
            reason = "no \"text\" string"
        if reason:
            print(f"{args.batch}:{number}: {reason}; skipped", file=sys.stderr)
            bad += 1
            continue
        result = engine.search(text, filters, top_k=args.top_k, mode=args.mode)
        print(json.dumps({"id": row.get("id"), "query": text, "confidence": result.confidence,
                          "results": [{"id": h.product.id, "score": round(h.score, 6)} for h in result.hits]},
                         ensure_ascii=False))
    return 1 if bad else 0


def faq(args: argparse.Namespace) -> int:
    """`shopguide faq TEXT`."""
    from knowledge.faq import FaqMatcher
    from shopguide.cli.app import open_knowledge

    settings = start(args, stderr_level="WARNING")
    kb = open_knowledge(settings)
    ranked = FaqMatcher(kb).rank(args.text, top_k=5)
    best = ranked[0] if ranked and ranked[0].score >= settings.faq_threshold else None
    if args.json:
        print(json.dumps({
            "query": args.text, "answered": best is not None,
            "best": {"id": best.faq.id, "question": best.faq.question, "answer": best.faq.answer, "confidence": best.score} if best else None,
            "ranked": [{"id": h.faq.id, "confidence": h.score} for h in ranked],
        }, ensure_ascii=False))
        return 0
    if best:
        print(f"{best.faq.question}\n{best.faq.answer}\n(confidence {best.score:.2f})")
    else:
        top = f" (closest: {ranked[0].faq.id}, confidence {ranked[0].score:.2f})" if ranked else ""
        print(f"no confident answer{top}")
    return 0


def config(args: argparse.Namespace) -> int:
    """`shopguide config`."""
    settings = load_settings(getattr(args, "config", None))
    data = settings.masked()
    if args.json:
        print(json.dumps(data, indent=2, default=str))
    else:
        width = max(len(k) for k in data)
        for key, value in data.items():
            print(f"{key.ljust(width)}  {value if value is not None else ''}")
    return 0

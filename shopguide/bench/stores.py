"""Bench stores (demo and the large catalog, cached across runs) and the search and ingest sections."""

from __future__ import annotations

import hashlib
import json
import logging
import shutil
from pathlib import Path
from typing import Any

from shopguide.bench.common import BenchContext, Catalog, Stopwatch, load_average, summarise, tick

log = logging.getLogger(__name__)

READY_KEY = "bench_catalog_digest"
WARMUP_QUERIES = ("bench warm-up query one", "bench warm-up query two")


def close_kb(kb) -> None:
    """Close the SQLite store and the Chroma client of a knowledge base."""
    kb.close()
    close = getattr(getattr(kb.vectors, "client", None), "close", None)
    if callable(close):
        try:
            close()
        except Exception:  # an older Chroma without close(): the process exit releases it
            log.debug("could not close the Chroma client", exc_info=True)


def catalog_digest(path: Path) -> str:
    """Content hash of a catalog file, the key of its cached store."""
    h = hashlib.sha256(b"bench-store-v1\0")
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def ensure_demo_store(ctx: BenchContext) -> Path:
    """The demo store under `<bench_dir>/demo`, built once and reused while the demo files are unchanged."""
    from shopguide.cli.app import load_demo_store

    path = ctx.bench_dir / "demo"
    kb = ctx.open_kb(path)
    try:
        load_demo_store(kb, ctx.progress("Building the demo store"))
    finally:
        kb.close()
    return path


def catalog_ready(ctx: BenchContext, catalog: Catalog) -> bool:
    """True when the cached store of `catalog` holds exactly the current file."""
    path = ctx.bench_dir / catalog.name
    if ctx.database_url() is None and not (path / "catalog.db").is_file():
        return False
    kb = ctx.open_kb(path)
    try:
        return kb.store.get_meta(READY_KEY) == catalog_digest(catalog.products) and kb.store.count("product") > 0
    finally:
        kb.close()


def ensure_catalog_store(ctx: BenchContext, catalog: Catalog) -> Path:
    """The cached store of a catalog under `<bench_dir>/<name>`; (re)ingested only when the file changed."""
    from knowledge.ingest import ingest_file

    if not catalog.available():
        raise FileNotFoundError(f"catalog {catalog.products} not found (see --eval-dir)")
    path = ctx.bench_dir / catalog.name
    digest = catalog_digest(catalog.products)
    kb = ctx.open_kb(path)
    try:
        if kb.store.get_meta(READY_KEY) == digest and kb.store.count("product") > 0:
            return path
        log.info("building the bench store %s from %s", path, catalog.products)
        ingest_file(kb, "product", catalog.products, prune=True,
                    progress=ctx.progress(f"Building the {catalog.name} store"))
        kb.store.set_meta(READY_KEY, digest)
    finally:
        kb.close()
    return path


# ----- queries -------------------------------------------------------------------------------
def demo_queries(kb, limit: int) -> list[str]:
    """Distinct shopper-like queries made from the store's own products."""
    out: list[str] = []
    for p in kb.store.all_products():
        kind = p.type or p.category or ""
        out.append(p.title)
        if p.brand and kind:
            out.append(f"{p.brand} {kind}")
        for color in p.colors[:2]:
            if kind:
                out.append(f"{color} {kind}")
        if p.material and kind:
            out.append(f"{kind} in {p.material}")
    return distinct(out, limit)


def file_queries(path: Path, limit: int) -> list[str]:
    """Distinct query texts from an {id, text} JSONL file."""
    texts: list[str] = []
    with path.open(encoding="utf-8") as fh:
        for line in fh:
            line = line.strip()
            if line:
                texts.append(str(json.loads(line).get("text", "")))
            if len(texts) >= limit * 3:
                break
    return distinct(texts, limit)


def distinct(texts: list[str], limit: int) -> list[str]:
    """Texts whose normalised forms are all different (so each misses the query-embedding cache)."""
    from knowledge.text import normalise

    seen: set[str] = {normalise(q) for q in WARMUP_QUERIES}
    out: list[str] = []
    for text in texts:
        key = normalise(text)
        if key and key not in seen:
            seen.add(key)
            out.append(text)
        if len(out) >= limit:
            break
    return out


def clear_query_cache(embedder) -> None:
    """Forget cached query embeddings so that every timed query embeds afresh."""
    queries = getattr(embedder, "queries", None)
    if queries is not None:
        queries.clear()


def cold_searches(engine, embedder, queries: list[str], progress=None) -> tuple[float, list[float], int]:
    """Two warm-up searches (the first loads the embedder, the vocabulary and the vector index: its seconds are
    returned, not counted), then each query timed with the query-embedding cache cold; (first, times, with hits)."""
    with Stopwatch() as first:
        engine.search(WARMUP_QUERIES[0], top_k=10)
    engine.search(WARMUP_QUERIES[1], top_k=10)
    clear_query_cache(embedder)
    times: list[float] = []
    hits = 0
    for i, query in enumerate(queries, start=1):
        with Stopwatch() as sw:
            result = engine.search(query, top_k=10)
        times.append(sw.seconds)
        hits += bool(result.hits)
        tick(progress, i, len(queries))
    return first.seconds, times, hits


# ----- sections ------------------------------------------------------------------------------
def run_search(ctx: BenchContext) -> dict[str, Any]:
    """Query latency with the query embedding included and its cache cold, on the chosen store."""
    from knowledge.search import ProductSearch

    n = ctx.scale.search_queries
    if ctx.store == "demo":
        name, path, queries_file = "demo", ensure_demo_store(ctx), None
    else:
        catalog = ctx.large
        name, path, queries_file = catalog.name, ensure_catalog_store(ctx, catalog), catalog.queries
    kb = ctx.open_kb(path)
    try:
        engine = ProductSearch(kb)
        queries = file_queries(queries_file, n) if queries_file and queries_file.is_file() else demo_queries(kb, n)
        embedder = kb.embedder
        load_before = load_average()
        first_s, cold, hits = cold_searches(engine, embedder, queries, ctx.progress(f"Searching {name}"))
        warm = []
        for query in queries:  # embeddings now cached: the search alone
            with Stopwatch() as sw:
                engine.search(query, top_k=10)
            warm.append(sw.seconds)
        embed = []
        for query in queries:  # the embedding alone, uncached
            with Stopwatch() as sw:
                embedder.encode([query])
            embed.append(sw.seconds)
        spelling = _spelling(ctx, kb, queries)
        return {
            "store": name, "products": kb.store.count("product"), "queries": len(queries),
            "queries_with_hits": hits, "first_query_s": round(first_s, 4),
            "latency_s": summarise(cold), "without_embedding_s": summarise(warm), "embedding_only_s": summarise(embed),
            "load_before": load_before, "load_after": load_average(), "spelling": spelling,
        }
    finally:
        kb.close()


def _spelling(ctx: BenchContext, kb, queries: list[str]) -> dict[str, Any] | None:
    """What the dialogue's typo correction costs on this store: its index, built once, then each query."""
    from shopguide.cli.app import open_speller

    speller = open_speller(ctx.settings, kb)
    if speller is None:
        return None
    with Stopwatch() as build:
        speller.correct("warmup")
    times, changed = [], 0
    for query in queries:
        with Stopwatch() as sw:
            changed += bool(speller.correct(query)[1])
        times.append(sw.seconds)
    return {"index_s": round(build.seconds, 3), "per_query_s": summarise(times, digits=7), "queries_changed": changed}


def run_ingest(ctx: BenchContext) -> dict[str, Any]:
    """Ingest throughput into a fresh store against raw sentence-transformers encoding of the same texts.

    The catalog goes in slices, each ingested and then raw-encoded straight away, so that a change
    of machine load during the run weighs on both sides of the ratio alike.
    """
    from knowledge.ingest import ingest_records, parse_file
    from shopguide.cli.app import demo_dir

    if ctx.store == "demo":
        name, file, target, cache = "demo", demo_dir() / "products.jsonl", None, False
    else:
        catalog = ctx.large
        if not catalog.available():
            raise FileNotFoundError(f"catalog {catalog.products} not found (see --eval-dir)")
        name, file = catalog.name, catalog.products
        # ingest is idempotent, so a measured run must start empty: build the missing cache, else a temp store
        cache = not catalog_ready(ctx, catalog)
        target = ctx.bench_dir / catalog.name if cache else None
    if target is None:
        target = ctx.temp_dir(f"ingest-{name}-")
    elif target.exists():
        shutil.rmtree(target)
    embedder = ctx.get_embedder()
    embedder.encode(["warm up the embedder before timing"])
    kb = ctx.open_kb(target)
    ours_s = raw_s = 0.0
    items = chunks = 0
    try:
        load_before = load_average()
        with Stopwatch() as parse:
            records, problems, rows = parse_file("product", file)
        ours_s += parse.seconds
        bar = ctx.progress(f"Ingesting {name}")
        step = max(1, -(-len(records) // max(ctx.scale.ingest_slices, 1)))
        for offset in range(0, len(records), step):
            part = records[offset:offset + step]
            with Stopwatch() as sw:
                report = ingest_records(kb, "product", part, progress=_shifted(bar, offset, len(records)))
            ours_s += sw.seconds
            items += report.added + report.updated
            texts = _chunk_texts(kb, {r.id for r in part})
            chunks += len(texts)
            if ctx.scale.ingest_raw and texts:
                with Stopwatch() as raw:  # sentence-transformers as a user would call it, defaults included
                    embedder.model.encode(texts, show_progress_bar=False, convert_to_numpy=True)
                raw_s += raw.seconds
        stored = kb.store.count("product")
        vectors = kb.vectors.count("product")
        if cache:
            kb.store.set_meta(READY_KEY, catalog_digest(file))
    finally:
        close_kb(kb)
        if not cache:
            shutil.rmtree(target, ignore_errors=True)
    return {
        "store": name, "file": str(file), "rows": rows, "rejected": len(problems),
        "ingested": items, "stored_products": stored, "vectors": vectors, "chunks": chunks,
        "all_ingested": stored == rows and not problems, "slices": -(-len(records) // step) if records else 0,
        "ingest_s": round(ours_s, 3),
        "items_per_s": round(items / ours_s, 2) if ours_s else 0.0,
        "chunks_per_s": round(chunks / ours_s, 2) if ours_s else 0.0,
        "raw_encode_s": round(raw_s, 3) if raw_s else None,
        "raw_chunks_per_s": round(chunks / raw_s, 2) if raw_s else None,
        "ratio": round(raw_s / ours_s, 3) if raw_s and ours_s else None,
        "raw_batch_size": 32, "ingest_batch_size": embedder.batch_size, "kept_as_cache": cache,
        "load_before": load_before, "load_after": load_average(),
    }


def _shifted(bar, offset: int, total: int):
    """A per-slice progress callback drawing on the whole run's bar."""
    if bar is None:
        return None
    return lambda done, _slice_total: bar(offset + done, total)


def _chunk_texts(kb, item_ids: set[str]) -> list[str]:
    """The texts that were embedded for these products (their committed chunks)."""
    with kb.store.lock:
        rows = kb.store.db.execute("SELECT item_id, text FROM chunks WHERE kind = 'product'").fetchall()
    return [text for item_id, text in rows if item_id in item_ids]

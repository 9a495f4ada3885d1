"""`shopguide bench scale`: where one machine ends. Catalogs of 55k, 250k and 1M products grown from homedepot's
titles (a generated variant reuses its base product's vectors, so embedding costs what 55k cost once), each built
and searched in its own child process, printing ingest time, search p50/p95, peak RSS and disk per size."""

from __future__ import annotations

import argparse
import dataclasses
import json
import logging
import re
import resource
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from shopguide.bench.common import BenchContext, Catalog, load_average, records_schema, summarise
from shopguide.bench.stores import catalog_digest, close_kb, cold_searches, ensure_catalog_store, file_queries
from shopguide.errors import UserFacingError

log = logging.getLogger(__name__)

DEFAULT_SIZES = "55k,250k,1m"
SEARCH_QUERIES = 300
SLICE = 50_000  # products per ingest call: bounded memory, one transaction each
CHILD_TIMEOUT_S = 4 * 3600
READY_KEY = "bench_scale"  # meta: "<base digest>:<size>" once a grown store is complete
FIGURES_KEY = "bench_scale_build"  # meta: the build's figures, shown again when the store is reused


def parse_sizes(text: str) -> list[int]:
    """"55k,250k,1m" -> [55000, 250000, 1000000]; plain numbers too."""
    sizes = []
    for part in (text or "").split(","):
        m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([km]?)\s*", part.lower())
        if not m:
            raise UserFacingError(f"--sizes: {part.strip()!r} is not a size such as 55k, 250k or 1m")
        sizes.append(int(float(m.group(1)) * {"": 1, "k": 1_000, "m": 1_000_000}[m.group(2)]))
    if not sizes or min(sizes) < 1:
        raise UserFacingError("--sizes needs at least one size above 0")
    return sizes


def grown(base: Sequence[Any], size: int) -> Iterator[list[Any]]:
    """`size` products in slices: the base catalog (or its first `size`), then numbered copies of each base product
    (`<id>~v<k>`, identical text, so identical passages) until there are `size`."""
    out: list[Any] = []
    for i in range(size):
        record, k = base[i % len(base)], i // len(base)
        out.append(record if k == 0 else dataclasses.replace(record, id=f"{record.id}~v{k}"))
        if len(out) == SLICE:
            yield out
            out = []
    if out:
        yield out


class ReusedVectors:
    """An embedder that answers from the base store's vectors, passage text by passage text; a text it does not hold
    is embedded by the real model and counted (it should not happen: variants repeat their base's passages)."""

    def __init__(self, real: Any, table: dict[str, np.ndarray]) -> None:
        self.real = real
        self.table = table
        self.misses = 0

    def __getattr__(self, name: str) -> Any:  # dimension, path, count_tokens, encode_query…: the real model's
        return getattr(self.real, name)

    def encode(self, texts: Sequence[str], *, batch_size: int | None = None) -> np.ndarray:
        """The stored vector of each text, embedding only the ones not stored."""
        missing = [t for t in dict.fromkeys(texts) if t not in self.table]
        if missing:
            self.misses += len(missing)
            for text, vector in zip(missing, self.real.encode(missing, batch_size=batch_size)):
                self.table[text] = vector
        return np.stack([self.table[t] for t in texts]) if texts else np.zeros((0, self.dimension), np.float32)


def vector_table(kb) -> dict[str, np.ndarray]:
    """Passage text -> stored vector, for every committed product chunk of a store."""
    ids = sorted(kb.store.chunk_ids("product"))
    chunks = kb.store.chunk_texts(ids)
    table: dict[str, np.ndarray] = {}
    for start in range(0, len(ids), 5_000):  # Chroma answers a bounded number of ids per call
        for chunk, vector in kb.vectors.get_vectors("product", ids[start:start + 5_000]).items():
            table[chunks[chunk]["text"]] = np.asarray(vector, dtype=np.float32)
    return table


def disk_bytes(path: Path) -> int:
    """Bytes of every file under `path`."""
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())


def cpu_seconds() -> float:
    """User + system CPU time of this process so far (all its threads)."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


# ----- children --------------------------------------------------------------------------------
def build(ctx: BenchContext, base_dir: Path, target: Path, catalog: Catalog, size: int) -> dict[str, Any]:
    """Grow the store at `target` to `size` products from the base store's records and vectors."""
    from knowledge.ingest import ingest_records, parse_file

    digest = f"{catalog_digest(catalog.products)}:{size}"
    kb = ctx.open_kb(target)
    try:
        if kb.store.get_meta(READY_KEY) == digest:
            return {**json.loads(kb.store.get_meta(FIGURES_KEY) or "{}"), "reused": True}
    finally:
        close_kb(kb)
    clear(ctx, target)
    base_kb = ctx.embedded().open_kb(base_dir)  # the base is always the embedded store: only its vectors are read
    try:
        table = vector_table(base_kb)
    finally:
        close_kb(base_kb)
    records, problems, _rows = parse_file("product", catalog.products)
    embedder = ReusedVectors(ctx.get_embedder(), table)
    kb = ctx.open_kb(target, embedder)
    wall0, cpu0, added = time.perf_counter(), cpu_seconds(), 0
    progress = ctx.progress(f"Building {size:,} products")
    try:
        for part in grown(records, size):
            report = ingest_records(kb, "product", part)
            added += report.added + report.updated
            if progress:
                progress(added, size)
        figures = {
            "products": kb.store.count("product"), "vectors": kb.vectors.count("product"),
            "ingest_s": round(time.perf_counter() - wall0, 1), "ingest_cpu_s": round(cpu_seconds() - cpu0, 1),
            "embedded_afresh": embedder.misses, "base_passages": len(table), "rejected_rows": len(problems),
        }
        figures.update(settle(ctx, target))
        kb.store.set_meta(FIGURES_KEY, json.dumps(figures))
        kb.store.set_meta(READY_KEY, digest)
    finally:
        close_kb(kb)
    return {**figures, "reused": False}


def settle(ctx: BenchContext, target: Path) -> dict[str, Any]:
    """On the database server, `VACUUM (ANALYZE)` the grown store's tables, as autovacuum does some minutes after a
    bulk load: the searches measured at once would otherwise read index entries the visibility map does not yet
    cover (10 ms of p95 at 250k products) and plan with statistics of a smaller table."""
    if not ctx.database_url():
        return {}
    from shopguide.storage import connected

    started = time.perf_counter()
    with connected(ctx.database_url(), records_schema(target)) as db:
        db.vacuum(db.table_names())
    return {"vacuum_s": round(time.perf_counter() - started, 1)}


def search(ctx: BenchContext, target: Path, catalog: Catalog, queries: int) -> dict[str, Any]:
    """Search latency (query embedding included, its cache cold) on the store at `target`, and what serving costs."""
    from knowledge.search import ProductSearch
    from shopguide.bench.process import peak_rss_kib

    kb = ctx.open_kb(target)
    try:
        texts = file_queries(catalog.queries, queries) if catalog.queries else []
        first_s, times, hits = cold_searches(ProductSearch(kb), kb.embedder, texts)
        products = kb.store.count("product")
    finally:
        close_kb(kb)
    return {"products": products, "queries": len(times), "queries_with_hits": hits,
            "first_query_s": round(first_s, 2), "latency_s": summarise(times),
            "peak_rss_mb": round(peak_rss_kib() / 1024, 1), "disk_mb": round(disk_bytes(target) / 2**20, 1),
            **server_disk(ctx, target)}


def clear(ctx: BenchContext, target: Path) -> None:
    """Empty the grown store at `target` before it is built again: its directory, and on the servers its schema and
    the Chroma server's collections (a Chroma server holds one store: give each size a server of its own)."""
    if target.exists():
        shutil.rmtree(target)
    if ctx.database_url():
        from shopguide.storage import drop_schema

        drop_schema(ctx.database_url(), records_schema(target))
    if ctx.settings.chroma_url:
        from knowledge.vectors import COLLECTIONS

        kb = ctx.open_kb(target)
        try:
            for kind in COLLECTIONS:
                kb.vectors.drop(kind)
        finally:
            close_kb(kb)


def server_disk(ctx: BenchContext, target: Path) -> dict[str, Any]:
    """The records' size on the database server (its schema's tables and indexes), when they are there; the Chroma
    server's disk is the size of its --path, which the client cannot see."""
    if not ctx.database_url():
        return {}
    from shopguide.storage import connected

    with connected(ctx.database_url()) as db:
        size = db.execute("SELECT coalesce(sum(pg_total_relation_size(c.oid)), 0) FROM pg_class c "
                          "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = ? AND c.relkind = 'r'",
                          [records_schema(target)]).fetchone()[0]
    return {"server_records_mb": round(int(size) / 2**20, 1)}


def child(argv: list[str] | None = None) -> int:
    """`python -m shopguide.bench.scale --mode build|search ...`: one step in a fresh process, one JSON line out."""
    p = argparse.ArgumentParser(prog="shopguide.bench.scale")
    p.add_argument("--mode", choices=["build", "search"], required=True)
    p.add_argument("--bench-dir", required=True)
    p.add_argument("--catalog", nargs=3, metavar=("NAME", "PRODUCTS", "QUERIES"), required=True)
    p.add_argument("--size", type=int, required=True)
    p.add_argument("--queries", type=int, default=SEARCH_QUERIES)
    args = p.parse_args(argv)
    from shopguide.cli.app import prepare_environment
    from shopguide.settings import load_settings

    prepare_environment()
    logging.basicConfig(level=logging.WARNING)
    name, products, queries = args.catalog
    catalog = Catalog(name, Path(products), Path(queries) if queries else None)
    ctx = BenchContext(load_settings(), bench_dir=Path(args.bench_dir), large=catalog, show_progress=sys.stderr.isatty())
    target = store_dir(ctx, args.size)
    if args.mode == "build":
        out = build(ctx, ctx.bench_dir / catalog.name, target, catalog, args.size)
    else:
        out = search(ctx, target, catalog, args.queries)
    print(json.dumps(out))
    return 0


def store_dir(ctx: BenchContext, size: int) -> Path:
    """Where the grown store of `size` products is kept between runs (on the servers: beside the embedded one)."""
    return ctx.bench_dir / f"scale-{ctx.large.name}-{size}{'' if ctx.on_servers() == 'embedded' else '-servers'}"


def _run_child(ctx: BenchContext, mode: str, size: int, queries: int) -> dict[str, Any]:
    from shopguide.bench.process import child_env

    catalog = ctx.large
    cmd = [sys.executable, "-m", "shopguide.bench.scale", "--mode", mode, "--bench-dir", str(ctx.bench_dir),
           "--catalog", catalog.name, str(catalog.products), str(catalog.queries or ""), "--size", str(size),
           "--queries", str(queries)]
    done = subprocess.run(cmd, env=child_env(ctx.settings.data_dir), stdout=subprocess.PIPE, stderr=None, text=True,
                          timeout=CHILD_TIMEOUT_S)
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    if done.returncode != 0 or not lines:
        raise RuntimeError(f"the scale {mode} child for {size:,} products failed with exit code {done.returncode}")
    return json.loads(lines[-1])


# ----- section ---------------------------------------------------------------------------------
def run_scale(ctx: BenchContext) -> dict[str, Any]:
    """Build (or reuse) each size's store and search it, every step in a fresh child process."""
    catalog = ctx.large
    if catalog is None or not catalog.available():
        raise FileNotFoundError(f"catalog {catalog.products if catalog else '?'} not found (see --eval-dir)")
    t0 = time.perf_counter()
    ensure_catalog_store(ctx.embedded(), catalog)  # the base: embedded once, cached (also for a run on the servers)
    base_s = time.perf_counter() - t0
    out: dict[str, Any] = {"catalog": catalog.name, "stores": ctx.on_servers(), "base_store_s": round(base_s, 1),
                           "load_before": load_average(), "sizes": []}
    queries = min(ctx.scale.search_queries, SEARCH_QUERIES)
    for size in ctx.scale_sizes:
        built = _run_child(ctx, "build", size, queries)
        searched = _run_child(ctx, "search", size, queries)
        row = {"size": size, "build": built, "search": searched,
               "p95_within_100ms": searched["latency_s"]["p95"] <= 0.1}
        out["sizes"].append(row)
        log.info("scale %s: %s", size, json.dumps(row))
    out["load_after"] = load_average()
    return out


def rows(result: dict[str, Any]) -> list[tuple[str, str]]:
    """Report lines for the table printer."""
    lines = [("stores", result.get("stores", "embedded")), ("base store (embedded once)", f"{result['base_store_s']} s")]
    for row in result["sizes"]:
        b, s = row["build"], row["search"]
        lines.append((f"{row['size']:,} products",
                      f"ingest {b['ingest_s']} s ({b['ingest_cpu_s']} s CPU{', reused' if b.get('reused') else ''}) · "
                      f"search p50 {s['latency_s']['p50'] * 1000:.0f} ms / p95 {s['latency_s']['p95'] * 1000:.0f} ms · "
                      f"RSS {s['peak_rss_mb']:,.0f} MiB · disk {s['disk_mb']:,.0f} MiB"
                      + (f" · on the database server {s['server_records_mb']:,.0f} MiB" if "server_records_mb" in s else "")))
    return lines


if __name__ == "__main__":
    sys.exit(child())

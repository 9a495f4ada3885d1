"""Hybrid product search: FTS5 keyword ranking and vector ranking, fused by weighted RRF.

An exact SKU or model-number match always ranks first. Every hit carries the canonical
record from SQLite; vector hits whose hash disagrees with the committed record are ignored.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from typing import Any

from knowledge.base import KnowledgeBase
from knowledge.filters import SearchFilters, filters_sql, filters_where, passing
from knowledge.schema import Product
from knowledge.store import row_to_product
from knowledge.text import normalise, tokens

log = logging.getLogger(__name__)

MODES = ("hybrid", "keyword", "vector")
SORTS = ("relevance", "price_asc", "price_desc", "rating")
MAX_QUERY_CHARS = 512


@dataclass(frozen=True)
class ProductHit:
    """A ranked product with the evidence of its rank."""

    product: Product
    score: float
    keyword_rank: int | None = None
    vector_rank: int | None = None
    similarity: float | None = None
    exact: bool = False


@dataclass
class SearchResult:
    """Ranked hits with a confidence in [0, 1] for the top one."""

    query: str
    hits: list[ProductHit]
    confidence: float
    mode: str = "hybrid"
    filters: SearchFilters = field(default_factory=SearchFilters)
    total: int = 0

    def ids(self) -> list[str]:
        """Product ids, best first."""
        return [h.product.id for h in self.hits]


@dataclass(frozen=True)
class SearchTuning:
    """Weights of the hybrid ranker (measured with `shopguide eval search`)."""

    rrf_k: float = 60.0
    keyword_weight: float = 1.0
    vector_weight: float = 1.0
    title_weight: float = 3.0
    meta_weight: float = 1.5
    body_weight: float = 1.0
    candidates: int = 200


def fts_query(text: str) -> str:
    """An FTS5 MATCH expression: any of the query's words, each quoted."""
    words = tokens(text)
    seen: list[str] = []
    for word in words:
        for part in re.split(r"[./]", word):
            if part and part not in seen:
                seen.append(part)
    return " OR ".join(f'"{w}"' for w in seen[:32])


class ProductSearch:
    """Searches products of one knowledge base."""

    def __init__(self, kb: KnowledgeBase, tuning: SearchTuning | None = None) -> None:
        self.kb = kb
        self.tuning = tuning or SearchTuning()

    def search(
        self,
        query: str,
        filters: SearchFilters | None = None,
        *,
        top_k: int = 10,
        offset: int = 0,
        mode: str = "hybrid",
        sort: str = "relevance",
    ) -> SearchResult:
        """Rank products for `query` within `filters`."""
        if mode not in MODES:
            raise ValueError(f"unknown search mode {mode!r}")
        filters = filters or SearchFilters()
        query = (query or "").strip()[:MAX_QUERY_CHARS]
        want = offset + top_k
        exact = self._exact(query, filters)
        has_words = bool(tokens(query, drop_stopwords=False))
        if not has_words:
            hits = self._browse(filters, want + len(exact))
            confidence = 0.5 if hits else 0.0
            fused = exact + [h for h in hits if h.product.id not in {e.product.id for e in exact}]
            return self._finish(query, fused, confidence, mode, filters, offset, top_k, sort)
        n = max(self.tuning.candidates, want)
        keyword = self._keyword(query, filters, n) if mode in ("hybrid", "keyword") else []
        vector = self._vector(query, filters, n) if mode in ("hybrid", "vector") else []
        fused = self._fuse(keyword, vector)
        exact_ids = {e.product.id for e in exact}
        ranked = exact + [h for h in fused if h.product.id not in exact_ids]
        confidence = self._confidence(query, ranked, exact)
        return self._finish(query, ranked, confidence, mode, filters, offset, top_k, sort)

    def _finish(self, query, ranked, confidence, mode, filters, offset, top_k, sort) -> SearchResult:
        if sort != "relevance" and ranked:
            pool = ranked[: max(20, offset + top_k)]
            key = {
                "price_asc": lambda h: (h.product.price is None, h.product.price or 0.0),
                "price_desc": lambda h: (h.product.price is None, -(h.product.price or 0.0)),
                "rating": lambda h: (h.product.rating is None, -(h.product.rating or 0.0)),
            }[sort]
            ranked = sorted(pool, key=key)
        return SearchResult(query, ranked[offset:offset + top_k], confidence, mode, filters, total=len(ranked))

    # ----- the rankers ---------------------------------------------------------------------
    def _exact(self, query: str, filters: SearchFilters) -> list[ProductHit]:
        candidates = {w.strip(",.;:!?()[]\"'") for w in query.split()}
        candidates |= {query}
        ids = self.kb.store.products_by_code(c for c in candidates if len(c) >= 3)
        if not ids:
            return []
        products = self.kb.store.get_products(ids)
        allowed = self._passing(list(products), filters)
        return [ProductHit(products[i], 1.0, exact=True) for i in ids if i in allowed]

    def _passing(self, ids: list[str], filters: SearchFilters) -> set[str]:
        return passing(self.kb.store, ids, filters)

    def _browse(self, filters: SearchFilters, n: int) -> list[ProductHit]:
        cond, params = filters_sql(filters)
        with self.kb.store.lock:
            rows = list(self.kb.store.db.query(
                f"SELECT p.* FROM products p WHERE {cond} ORDER BY p.rating IS NULL, p.rating DESC, p.id LIMIT ?",
                [*params, n],
            ))
        return [ProductHit(row_to_product(r), 1.0 / (i + 1)) for i, r in enumerate(rows)]

    def _keyword(self, query: str, filters: SearchFilters, n: int) -> list[ProductHit]:
        match = fts_query(query)
        if not match:
            return []
        t = self.tuning
        cond, params = filters_sql(filters)
        sql = (
            f"SELECT p.*, bm25(products_fts, 0.0, {t.title_weight}, {t.meta_weight}, {t.body_weight}) AS _score "
            f"FROM products_fts JOIN products p ON p.id = products_fts.id "
            f"WHERE products_fts MATCH ? AND {cond} ORDER BY _score LIMIT ?"
        )
        with self.kb.store.lock:
            rows = list(self.kb.store.db.query(sql, [match, *params, n]))
        return [ProductHit(row_to_product(r), -float(r["_score"]), keyword_rank=i + 1) for i, r in enumerate(rows)]

    def _vector(self, query: str, filters: SearchFilters, n: int) -> list[ProductHit]:
        vector = self.kb.embedder.encode_query(normalise(query))
        hits = self.kb.vectors.query("product", vector, n * 2, where=filters_where(filters))
        if not hits:
            return []
        committed = self.kb.store.chunk_texts([h.id for h in hits])
        best: dict[str, float] = {}
        for hit in hits:
            row = committed.get(hit.id)
            if row is None or row["hash"] != hit.metadata.get("hash"):
                continue  # not committed yet, or left over from an interrupted ingest
            item = row["item_id"]
            if item not in best:
                best[item] = hit.similarity
        order = list(best)[:n]
        products = self.kb.store.get_products(order)
        allowed = self._passing(order, filters) if not filters.is_empty() else set(order)
        out = []
        for item in order:
            if item in products and item in allowed:
                out.append(ProductHit(products[item], best[item], vector_rank=len(out) + 1, similarity=best[item]))
        return out

    def _fuse(self, keyword: list[ProductHit], vector: list[ProductHit]) -> list[ProductHit]:
        t = self.tuning
        scores: dict[str, float] = {}
        info: dict[str, dict[str, Any]] = {}
        for hit in keyword:
            pid = hit.product.id
            scores[pid] = scores.get(pid, 0.0) + t.keyword_weight / (t.rrf_k + hit.keyword_rank)
            info.setdefault(pid, {"product": hit.product})["keyword_rank"] = hit.keyword_rank
        for hit in vector:
            pid = hit.product.id
            scores[pid] = scores.get(pid, 0.0) + t.vector_weight / (t.rrf_k + hit.vector_rank)
            entry = info.setdefault(pid, {"product": hit.product})
            entry["vector_rank"] = hit.vector_rank
            entry["similarity"] = hit.similarity
        ranked = sorted(scores, key=lambda pid: -scores[pid])
        return [ProductHit(score=scores[pid], **info[pid]) for pid in ranked]

    def _confidence(self, query: str, ranked: list[ProductHit], exact: list[ProductHit]) -> float:
        if exact:
            return 1.0
        if not ranked:
            return 0.0
        top = ranked[0]
        words = set(tokens(query))
        text = set(tokens(" ".join(filter(None, (
            top.product.title, top.product.brand, top.product.category, top.product.type,
            " ".join(top.product.colors), top.product.description or "")))))
        coverage = len(words & text) / len(words) if words else 0.0
        similarity = top.similarity if top.similarity is not None else 0.0
        sim_part = min(1.0, max(0.0, (similarity - 0.2) / 0.5))
        return round(0.5 * sim_part + 0.5 * coverage, 3)

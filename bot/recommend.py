"""Personal recommendations: a profile from the user's interactions and preferences.

The profile is a centroid of the embeddings of products the user engaged with, weighted by
kind and decayed by age; it is blended with "people who liked X also liked Y" counts across
users, and filtered and boosted by stated preferences. Cold start falls back to the best
rated items in the category asked about.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timezone

import numpy as np

from bot.memory import Memory
from knowledge.base import KnowledgeBase
from knowledge.filters import SearchFilters, filters_sql, filters_where, passing
from knowledge.schema import Product
from knowledge.store import chunk_id, row_to_product

KIND_WEIGHTS = {"liked": 3.0, "wants": 3.0, "clicked": 2.0, "viewed": 1.0, "asked": 1.0}
HALF_LIFE_DAYS = 14.0
CO_WEIGHT = 1.0
RRF_K = 10.0
LIKED_BRAND_BOOST = 0.02
OUT_OF_STOCK_PENALTY = 0.02


@dataclass(frozen=True)
class Recommendation:
    """Recommended products and whether the profile (or cold start) produced them."""

    products: list[Product]
    personalised: bool


class Recommender:
    """Builds a user's profile on demand and ranks products with it."""

    def __init__(self, kb: KnowledgeBase, memory: Memory) -> None:
        self.kb = kb
        self.memory = memory

    def profile(self, user_key: str) -> tuple[np.ndarray | None, dict[str, float]]:
        """The user's taste vector and the weight of each product they engaged with."""
        weights: dict[str, float] = {}
        now = datetime.now(timezone.utc)
        for row in self.memory.interactions(user_key, limit=200):
            pid = row["product_id"]
            if not pid or row["kind"] not in KIND_WEIGHTS:
                continue
            age_days = max(0.0, (now - datetime.fromisoformat(row["created_at"])).total_seconds() / 86400)
            decay = math.pow(0.5, age_days / HALF_LIFE_DAYS)
            weights[pid] = weights.get(pid, 0.0) + KIND_WEIGHTS[row["kind"]] * decay
        if not weights:
            return None, {}
        vectors = self.kb.committed_vectors("product", [chunk_id("product", pid, 0) for pid in weights])
        total = np.zeros(0, dtype=np.float32)
        for pid, weight in weights.items():
            vec = vectors.get(chunk_id("product", pid, 0))
            if vec is None:
                continue
            total = vec * weight if total.size == 0 else total + vec * weight
        if total.size == 0:
            return None, weights
        norm = float(np.linalg.norm(total))
        return (total / norm if norm else None), weights

    def recommend(
        self, user_key: str, filters: SearchFilters, n: int, liked_brands: list[str] | None = None,
        anchor: Product | None = None,
    ) -> Recommendation:
        """Top `n` products for the user within `filters`; `anchor` asks for items similar to it."""
        centroid, weights = self.profile(user_key)
        seen = set(weights)
        if anchor is not None:
            vec = self.kb.committed_vectors("product", [chunk_id("product", anchor.id, 0)]).get(chunk_id("product", anchor.id, 0))
            if vec is not None:
                centroid = vec if centroid is None else _normalise(vec * 0.7 + centroid * 0.3)
            seen = {anchor.id}
        if centroid is None:
            return Recommendation(self._cold_start(filters, n), personalised=False)
        hits = self.kb.vectors.query("product", centroid, n * 6 + len(seen) * 2, where=filters_where(filters))
        scores: dict[str, float] = {}
        for hit in hits:
            pid = hit.metadata.get("item_id") or hit.id.split(":")[1]
            if pid not in scores:
                scores[pid] = hit.similarity
        engaged = [anchor.id] if anchor is not None else [p for p, _ in sorted(weights.items(), key=lambda kv: -kv[1])[:20]]
        co = self.memory.co_interacted(engaged, exclude_user=user_key)
        # Reciprocal-rank fusion of taste similarity and "people who liked X also liked Y".
        fused = {pid: 1.0 / (RRF_K + rank) for rank, pid in enumerate(scores, start=1)}
        for rank, (pid, _) in enumerate(co.most_common(), start=1):
            fused[pid] = fused.get(pid, 0.0) + CO_WEIGHT / (RRF_K + rank)
        scores = fused
        products = self.kb.store.get_products(list(scores))
        allowed = passing(self.kb.store, list(products), filters)
        liked = {b.lower() for b in (liked_brands or [])}
        ranked = []
        for pid, score in scores.items():
            p = products.get(pid)
            if p is None or pid not in allowed or pid in seen:
                continue
            if p.in_stock is False:
                score -= OUT_OF_STOCK_PENALTY
            if p.brand and p.brand.lower() in liked:
                score += LIKED_BRAND_BOOST
            ranked.append((score, pid))
        ranked.sort(reverse=True)
        return Recommendation([products[pid] for _, pid in ranked[:n]], personalised=True)

    def _cold_start(self, filters: SearchFilters, n: int) -> list[Product]:
        cond, params = filters_sql(filters)
        with self.kb.store.lock:
            rows = list(self.kb.store.db.query(
                f"SELECT p.* FROM products p WHERE {cond} AND (p.stock IS NULL OR p.stock > 0) "
                "ORDER BY p.rating IS NULL, p.rating DESC, p.id LIMIT ?", [*params, n]))
        return [row_to_product(r) for r in rows]


def _normalise(vec: np.ndarray) -> np.ndarray:
    norm = float(np.linalg.norm(vec))
    return vec / norm if norm else vec

"""Personal recommendations: a profile from the user's interactions and preferences.

The profile is a centroid of the embeddings of products the user engaged with, weighted by
kind and decayed by age; it is blended with "people who liked X also liked Y" counts across
users, with what the order history predicts for the customer (knowledge/recommend_orders.py,
seeded with the same in-chat interest), and filtered and boosted by stated preferences. Cold
start is what sold most this month when there is an order history, else the best rated items.
Out-of-stock and removed products are never suggested from the order history.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone

import numpy as np

from bot.memory import Memory
from knowledge.base import KnowledgeBase
from knowledge.filters import SearchFilters, best_rated_in_stock, filters_where, passing
from knowledge.recommend_orders import OrderRecommender
from knowledge.schema import Product
from knowledge.store import chunk_id

KIND_WEIGHTS = {"liked": 3.0, "wants": 3.0, "clicked": 2.0, "viewed": 1.0, "asked": 1.0}
HALF_LIFE_DAYS = 14.0
CO_WEIGHT = 1.0
RRF_K = 10.0
LIKED_BRAND_BOOST = 0.02
OUT_OF_STOCK_PENALTY = 0.02
ORDER_WEIGHT = 1.5  # the order history's list in the fusion, against 1.0 for taste and in-chat co-occurrence


@dataclass(frozen=True)
class Recommendation:
    """Recommended products and whether the profile (or cold start) produced them."""

    products: list[Product]
    personalised: bool
    basis: str = "profile"  # profile | orders (the customer's order history) | popular (this month) | rated


class Recommender:
    """Builds a user's profile on demand and ranks products with it."""

    def __init__(self, kb: KnowledgeBase, memory: Memory, orders: OrderRecommender | None = None,
                 customer_of: Callable[[str], str | None] | None = None) -> None:
        self.kb = kb
        self.memory = memory
        self.orders = orders
        self.customer_of = customer_of  # chat user → their customer key in the order history (`/link`)

    def use_orders(self, model: OrderRecommender | None) -> None:
        """Swap in a (re)trained order-history model; None stops using one."""
        self.orders = model

    def bought_with(self, product_id: str, n: int) -> list[tuple[Product, int]]:
        """Products most often ordered together with `product_id`, with the number of such orders."""
        if self.orders is None:
            return []
        return self._available(self.orders.bought_with(product_id, n * 4), SearchFilters(), n, count=True)

    def popular(self, filters: SearchFilters, n: int) -> list[Product]:
        """What sold most in the last 30 days of orders (empty without an order history)."""
        if self.orders is None:
            return []
        return [p for p, _ in self._available(self.orders.popular(n * 4 + 20), filters, n)]

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
        customer = self.customer_of(user_key) if self.customer_of else None
        ordered: list[str] = []
        if self.orders is not None and anchor is None and ((customer and self.orders.knows(customer)) or weights):
            ordered = [s.product_id for s in self.orders.recommend(customer, n * 4 + 20, seeds=weights, exclude=seen)]
        if anchor is not None:
            vec = self.kb.committed_vectors("product", [chunk_id("product", anchor.id, 0)]).get(chunk_id("product", anchor.id, 0))
            if vec is not None:
                centroid = vec if centroid is None else _normalise(vec * 0.7 + centroid * 0.3)
            seen = {anchor.id}
        if centroid is None and ordered:
            products = [p for p, _ in self._available([_Scored(pid) for pid in ordered], filters, n)]
            if products:
                return Recommendation(products, personalised=True, basis="orders")
        if centroid is None:
            popular = self.popular(filters, n)
            if popular:
                return Recommendation(popular, personalised=False, basis="popular")
            return Recommendation(self._cold_start(filters, n), personalised=False, basis="rated")
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
        for rank, pid in enumerate(ordered, start=1):
            fused[pid] = fused.get(pid, 0.0) + ORDER_WEIGHT / (RRF_K + rank)
        scores = fused
        from_orders = set(ordered)
        products = self.kb.store.get_products(list(scores))
        allowed = passing(self.kb.store, list(products), filters)
        liked = {b.lower() for b in (liked_brands or [])}
        ranked = []
        for pid, score in scores.items():
            p = products.get(pid)
            if p is None or pid not in allowed or pid in seen or (pid in from_orders and p.in_stock is False):
                continue
            if p.in_stock is False:
                score -= OUT_OF_STOCK_PENALTY
            if p.brand and p.brand.lower() in liked:
                score += LIKED_BRAND_BOOST
            ranked.append((score, pid))
        ranked.sort(reverse=True)
        return Recommendation([products[pid] for _, pid in ranked[:n]], personalised=True,
                              basis="orders" if ordered else "profile")

    def _available(self, scored, filters: SearchFilters, n: int, count: bool = False) -> list[tuple[Product, int]]:
        """The stored, in-stock products of `scored` that pass `filters`, best first, at most `n`."""
        ids = [s.product_id for s in scored]
        products = self.kb.store.get_products(ids)
        allowed = passing(self.kb.store, list(products), filters)
        out = []
        for s in scored:
            p = products.get(s.product_id)
            if p is None or s.product_id not in allowed or p.in_stock is False:
                continue
            out.append((p, int(s.score) if count else 0))
            if len(out) >= n:
                break
        return out

    def _cold_start(self, filters: SearchFilters, n: int) -> list[Product]:
        return best_rated_in_stock(self.kb.store, filters, n)


@dataclass(frozen=True)
class _Scored:
    product_id: str
    score: float = 0.0


def _normalise(vec: np.ndarray) -> np.ndarray:
    norm = float(np.linalg.norm(vec))
    return vec / norm if norm else vec

"""Recommendations learned from order history: training, the three uses, and the cached model.

The model ranks, for one customer, the products they bought before, the products bought with
those (co-purchases over baskets and over customers), what similar customers bought, and what is
popular lately. A small gradient-boosted ranker (scikit-learn) weighs these features; it learns
from the history itself, by holding back every customer's latest order and asking which of the
candidates it held. No per-customer tuning: the only settings are the module constants.
"""

from __future__ import annotations

import hashlib
import logging
import pickle
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from knowledge.order_history import FEATURES, History, Lines
from knowledge.order_lines import OrderLine

log = logging.getLogger(__name__)

MODEL_VERSION = 1
TRAIN_CUSTOMERS = 3000  # customers sampled for the ranker's training (their latest order held back)
RANKER = {"max_iter": 300, "learning_rate": 0.05, "max_leaf_nodes": 31, "min_samples_leaf": 50}
SEED = 7
NEGATIVES = 0.3  # share of the non-ordered candidates kept for training the ranker
HOLDOUTS = 2  # rounds of holding back the latest orders to learn from


@dataclass(frozen=True)
class Scored:
    """A recommended product id and its score (a probability for the ranker, a count for co-purchases)."""

    product_id: str
    score: float


@dataclass
class TrainReport:
    """How training went: sizes and seconds."""

    lines: int = 0
    customers: int = 0
    products: int = 0
    seconds: float = 0.0
    ranker_rows: int = 0
    notes: list[str] = field(default_factory=list)


class OrderRecommender:
    """A trained order-history model; `train` builds one, `load_or_train` caches it by content."""

    def __init__(self, history: History, customers: list[str], items: list[str], ranker, report: TrainReport) -> None:
        self.history = history
        self.customers = customers
        self.items = items
        self.customer_index = {c: i for i, c in enumerate(customers)}
        self.item_index = {p: i for i, p in enumerate(items)}
        self.ranker = ranker
        self.report = report

    # ---- training ---------------------------------------------------------------------------

    @classmethod
    def train(cls, lines: Iterable[OrderLine | tuple], *, ranker: bool = True) -> OrderRecommender:
        """Train from `(customer_key, product_id, timestamp, quantity)` tuples (any iterable)."""
        start = time.perf_counter()
        data = Lines.from_tuples(lines)
        report = TrainReport(lines=len(data.cust), customers=len(data.customers), products=len(data.items))
        history = History(data)
        model = None
        if ranker and len(data.cust):
            model, report.ranker_rows = _fit_ranker(data)
            if model is None:
                report.notes.append("too little repeat history to learn a ranker; the fixed blend ranks")
        report.seconds = time.perf_counter() - start
        return cls(history, data.customers, data.items, model, report)

    # ---- the three uses ---------------------------------------------------------------------

    def knows(self, customer: str) -> bool:
        """Whether the customer has order history in the model."""
        return customer in self.customer_index

    def recommend(self, customer: str | None, n: int = 10, *, seeds: dict[str, float] | None = None,
                  exclude: Iterable[str] = (), allowed: Callable[[str], bool] | None = None) -> list[Scored]:
        """The `n` products the customer is likeliest to order next; `seeds` adds in-chat interest.

        A customer without history and without seeds gets `popular` (the caller says so).
        """
        user = self.customer_index.get(customer) if customer is not None else None
        seed_idx = {self.item_index[p]: w for p, w in (seeds or {}).items() if p in self.item_index and w > 0}
        if user is None and not seed_idx:
            return self.popular(n, exclude=exclude, allowed=allowed)
        cand, feats = self.history.features(user, seed_idx)
        # the ranker learned from customers with orders; in-chat interest alone ranks by co-purchase
        scores = self._score(feats) if user is not None else seed_score(feats)
        return self._pick(cand, scores, n, set(exclude), allowed, fill=True)

    def bought_with(self, product_id: str, n: int = 10, *, exclude: Iterable[str] = (),
                    allowed: Callable[[str], bool] | None = None) -> list[Scored]:
        """Products most often in the same order as `product_id`, with the number of such orders."""
        i = self.item_index.get(product_id)
        if i is None:
            return []
        row = self.history.co_counts[i]
        return self._pick(row.indices, row.data.astype(np.float64), n, {product_id, *exclude}, allowed, fill=False)

    def popular(self, n: int = 10, *, days: int = 30, exclude: Iterable[str] = (),
                allowed: Callable[[str], bool] | None = None) -> list[Scored]:
        """The most ordered products of the last `days` (14, 30 or 90) before the latest order."""
        counts = self.history.popularity.get(days, self.history.popularity[30])
        order = np.argsort(-counts, kind="stable")
        return self._pick(order, counts[order] + 0.0, n, set(exclude), allowed, fill=False, positive=True)

    def top_sellers(self, since: float, n: int = 10) -> list[Scored]:
        """The products in the most orders placed at or after `since` (epoch seconds), with those counts."""
        h = self.history
        counts = np.asarray(h.basket_items[h.basket_ts >= since].sum(axis=0)).ravel()
        order = np.argsort(-counts, kind="stable")
        return self._pick(order, counts[order], n, set(), None, fill=False, positive=True)

    @property
    def latest(self) -> float:
        """Epoch seconds of the latest order line."""
        return self.history.now

    # ---- internals --------------------------------------------------------------------------

    def _score(self, feats: np.ndarray) -> np.ndarray:
        if self.ranker is not None:
            with _one_thread():  # OpenMP threads cost more than they save on ~400 rows, and spin on busy machines
                return self.ranker.predict_proba(feats)[:, 1]
        return blend_score(feats)

    def _pick(self, cand, scores, n, exclude: set[str], allowed, *, fill: bool, positive: bool = False) -> list[Scored]:
        order = np.argsort(-np.asarray(scores), kind="stable")
        out: list[Scored] = []
        taken: set[str] = set()
        for k in order:
            if positive and scores[k] <= 0:
                break
            pid = self.items[int(cand[k])]
            if pid in exclude or (allowed is not None and not allowed(pid)):
                continue
            out.append(Scored(pid, float(scores[k])))
            taken.add(pid)
            if len(out) >= n:
                return out
        if fill:
            for extra in self.popular(n, exclude=exclude | taken, allowed=allowed):
                out.append(Scored(extra.product_id, 0.0))
                if len(out) >= n:
                    break
        return out


def _one_thread():
    global _THREADS
    if _THREADS is None:
        from threadpoolctl import ThreadpoolController

        _THREADS = ThreadpoolController()
    return _THREADS.limit(limits=1, user_api="openmp")


_THREADS = None


def seed_score(feats: np.ndarray) -> np.ndarray:
    """Products bought with the ones the visitor showed interest in, then recent popularity."""
    col = {name: feats[:, i] for i, name in enumerate(FEATURES)}
    return col["co_basket"] + 0.1 * col["pop30"]


def blend_score(feats: np.ndarray) -> np.ndarray:
    """The fixed blend (no learning): log of own repeat buys, then co-purchases, then recent popularity."""
    col = {name: feats[:, i] for i, name in enumerate(FEATURES)}
    return np.log1p(col["baskets"]) + 0.5 * col["pop30"] + 0.3 * col["co_basket"]


def _fit_ranker(data: Lines):
    """A gradient-boosted classifier of "in the next order", learned by holding back latest orders.

    Round one holds back every repeat customer's latest order and computes the features from the
    rest; each further round (HOLDOUTS in all) does the same on what the previous round kept.
    """
    from sklearn.ensemble import HistGradientBoostingClassifier

    rng = np.random.default_rng(SEED)
    xs, ys = [], []
    for _ in range(HOLDOUTS):
        basket, b_cust, b_ts = data.baskets()
        per_customer = np.bincount(b_cust, minlength=len(data.customers))
        latest = np.full(len(data.customers), -np.inf)
        np.maximum.at(latest, b_cust, b_ts)
        held_line = ((per_customer[b_cust] >= 2) & (b_ts == latest[b_cust]))[basket]
        if not held_line.any():
            break
        kept = data.subset(~held_line)
        history = History(kept)
        targets: dict[int, set[int]] = {}
        for c, i in zip(data.cust[held_line].tolist(), data.item[held_line].tolist()):
            targets.setdefault(c, set()).add(i)
        users = np.array(sorted(targets))
        if len(users) > TRAIN_CUSTOMERS:
            users = rng.choice(users, TRAIN_CUSTOMERS, replace=False)
        for u in users.tolist():
            cand, feats = history.features(u)
            hit = np.isin(cand, list(targets[u]))
            keep = hit | (rng.random(len(hit)) < NEGATIVES)  # fewer negatives: the order of scores stays
            xs.append(feats[keep])
            ys.append(hit[keep])
        data = kept
    if not xs:
        return None, 0
    x, y = np.concatenate(xs), np.concatenate(ys)
    if y.sum() < 20 or (~y).sum() < 20:
        return None, len(y)
    model = HistGradientBoostingClassifier(random_state=SEED, **RANKER)
    model.fit(x, y)
    return model, len(y)


def content_hash(lines: Iterable[OrderLine | tuple]) -> tuple[str, list[tuple]]:
    """A hash of the order lines (and the model version), with the lines as a list for training."""
    digest = hashlib.sha256(f"v{MODEL_VERSION}".encode())
    kept = []
    for line in lines:
        kept.append(tuple(line))
        c, p, t, q = line
        digest.update(f"{c}\x1f{p}\x1f{t.isoformat() if hasattr(t, 'isoformat') else t}\x1f{q}\x1e".encode())
    return digest.hexdigest()[:20], kept


def load_or_train(lines: Iterable[OrderLine | tuple], cache_dir: Path) -> OrderRecommender:
    """The model for these lines: from `cache_dir/recs/HASH.pkl` when trained before, else trained and saved."""
    key, kept = content_hash(lines)
    path = Path(cache_dir) / "recs" / f"{key}.pkl"
    if path.exists():
        try:
            with path.open("rb") as fh:
                model = pickle.load(fh)
            if isinstance(model, OrderRecommender):
                return model
        except Exception:  # a truncated or stale cache file: retrain below
            log.warning("recommendation model cache %s unreadable; retraining", path, exc_info=True)
    model = OrderRecommender.train(kept)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    with tmp.open("wb") as fh:
        pickle.dump(model, fh, protocol=pickle.HIGHEST_PROTOCOL)
    tmp.replace(path)
    log.info("trained the recommendation model on %d order lines in %.1fs", model.report.lines, model.report.seconds)
    return model


def orders_from_store(store, cache_dir: Path) -> OrderRecommender | None:
    """The model for the store's order lines (`store.order_lines()`), or None when it has no orders."""
    read = getattr(store, "order_lines", None)
    if read is None:
        return None
    lines = list(read())
    return load_or_train(lines, cache_dir) if lines else None

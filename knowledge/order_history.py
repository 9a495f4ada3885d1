"""Order history as sparse matrices, and the per-customer features the recommender ranks with."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timezone

import numpy as np
import scipy.sparse as sp

from knowledge.order_lines import OrderLine, parse_timestamp

DAY = 86400.0
POP_WINDOWS = (14, 30, 90)  # days before the latest order
NEIGHBOUR_ITEMS = 200  # co-purchase neighbours kept per product
NEIGHBOUR_USERS = 300  # similar customers averaged for one customer
CANDIDATES = 150  # products taken from each source (co-purchase, similar customers, popularity)
FEATURES = ("baskets", "share", "days_since", "log_qty", "n_baskets", "days_idle", "pop14", "pop30",
            "pop90", "pop_all", "trend", "repeat_rate", "co_basket", "co_customer", "co_recent", "similar_customers",
            "tenure")
RECENT_HALF_LIFE = 60.0  # days: how fast a past purchase stops counting for "bought with recent buys"


@dataclass
class Lines:
    """Order lines as parallel arrays (customer index, product index, epoch seconds, quantity)."""

    customers: list[str]
    items: list[str]
    cust: np.ndarray
    item: np.ndarray
    ts: np.ndarray
    qty: np.ndarray

    @classmethod
    def from_tuples(cls, lines: Iterable[OrderLine | tuple]) -> Lines:
        cust_index: dict[str, int] = {}
        item_index: dict[str, int] = {}
        cust, item, ts, qty = [], [], [], []
        for customer, product_id, when, quantity in lines:
            seconds = _epoch(when)
            if seconds is None:  # a line without a usable time cannot be placed in an order
                continue
            cust.append(cust_index.setdefault(str(customer), len(cust_index)))
            item.append(item_index.setdefault(str(product_id), len(item_index)))
            ts.append(seconds)
            qty.append(float(quantity))
        return cls(list(cust_index), list(item_index), np.asarray(cust, dtype=np.int64),
                   np.asarray(item, dtype=np.int64), np.asarray(ts, dtype=np.float64),
                   np.asarray(qty, dtype=np.float64))

    def subset(self, mask: np.ndarray) -> Lines:
        """The lines where `mask` holds, with the same customer and product indexes."""
        return Lines(self.customers, self.items, self.cust[mask], self.item[mask], self.ts[mask], self.qty[mask])

    def baskets(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Basket index of every line, and each basket's customer and time (a basket: one customer, one time)."""
        key = np.stack([self.cust, self.ts.astype(np.int64)], axis=1)
        uniq, basket = np.unique(key, axis=0, return_inverse=True)
        return basket.ravel(), uniq[:, 0], uniq[:, 1].astype(np.float64)


class History:
    """What the order lines say: who bought what how often and when, co-purchases, popularity."""

    def __init__(self, lines: Lines) -> None:
        n_users, n_items = len(lines.customers), len(lines.items)
        self.n_users, self.n_items = n_users, n_items
        self.now = float(lines.ts.max()) if lines.ts.size else 0.0
        basket, b_cust, b_ts = lines.baskets()
        n_b = len(b_cust)
        bxi = sp.csr_matrix((np.ones(len(basket), dtype=np.float32), (basket, lines.item)), shape=(n_b, n_items))
        bxi.data[:] = 1.0
        owner = sp.csr_matrix((np.ones(n_b, dtype=np.float32), (b_cust, np.arange(n_b))), shape=(n_users, n_b))
        self.counts = (owner @ bxi).tocsr()  # baskets of the customer holding the product
        self.qty = sp.csr_matrix((lines.qty.astype(np.float32), (lines.cust, lines.item)), shape=(n_users, n_items))
        self.n_baskets = np.asarray(owner.sum(axis=1)).ravel()
        last_user = np.zeros(n_users)
        np.maximum.at(last_user, b_cust, b_ts)
        first_user = np.full(n_users, self.now)
        np.minimum.at(first_user, b_cust, b_ts)
        self.days_idle = (self.now - last_user) / DAY
        self.tenure = (self.now - first_user) / DAY
        # days since the customer last bought the product, plus one (a stored zero would read as "never")
        order = np.lexsort((lines.ts, lines.item, lines.cust))
        c, i, t = lines.cust[order], lines.item[order], lines.ts[order]
        end = np.r_[(c[1:] != c[:-1]) | (i[1:] != i[:-1]), True] if len(c) else np.zeros(0, dtype=bool)
        self.last_days = sp.csr_matrix(((self.now - t[end]) / DAY + 1.0, (c[end], i[end])), shape=(n_users, n_items))
        self.popularity = {d: np.asarray(bxi[b_ts >= self.now - d * DAY].sum(axis=0)).ravel() for d in POP_WINDOWS}
        self.popularity[0] = np.asarray(bxi.sum(axis=0)).ravel()
        buyers = np.asarray((self.counts > 0).sum(axis=0)).ravel()
        repeaters = np.asarray((self.counts > 1).sum(axis=0)).ravel()
        self.repeat_rate = (repeaters + 1.0) / (buyers + 5.0)
        self.basket_items, self.basket_ts = bxi, b_ts  # for sales over any period
        self.co_counts = _no_diagonal(bxi.T @ bxi)  # baskets holding both products
        # transposed once: a column of neighbours per product, so scoring is a row-major product
        self.sim_basket = _top_per_row(_cosine(self.co_counts, self.popularity[0]), NEIGHBOUR_ITEMS).T.tocsr()
        bought = (self.counts > 0).astype(np.float32)
        self.sim_customer = _top_per_row(_cosine(_no_diagonal(bought.T @ bought), buyers), NEIGHBOUR_ITEMS).T.tocsr()
        norms = np.sqrt(np.asarray(self.counts.multiply(self.counts).sum(axis=1)).ravel())
        self.user_vectors = sp.diags(1.0 / np.maximum(norms, 1e-9)) @ self.counts

    def profile(self, user: int | None, seeds: dict[int, float] | None = None) -> sp.csr_matrix:
        """The customer's basket counts as a 1×items row, plus `seeds` (product index → weight)."""
        row = self.counts[user] if user is not None else sp.csr_matrix((1, self.n_items), dtype=np.float32)
        if seeds:
            extra = sp.csr_matrix((list(seeds.values()), ([0] * len(seeds), list(seeds))), shape=(1, self.n_items))
            row = row + extra
        return row.tocsr()

    def features(self, user: int | None, seeds: dict[int, float] | None = None,
                 candidates: int | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Candidate product indexes for one customer and their feature rows (columns: FEATURES)."""
        prof = self.profile(user, seeds)
        own = prof.indices
        bought = np.zeros(self.n_items, dtype=np.float32)
        bought[own] = 1.0
        n_own = max(1, len(own))
        co_b = self.sim_basket @ bought / n_own
        co_c = self.sim_customer @ bought / n_own
        recent = np.zeros(self.n_items, dtype=np.float32)
        if user is not None:
            row = self.last_days[user]
            recent[row.indices] = np.power(0.5, (row.data - 1.0) / RECENT_HALF_LIFE)
        if seeds:
            recent[list(seeds)] = np.maximum(recent[list(seeds)], 1.0)
        co_r = self.sim_basket @ recent / max(1e-9, float(recent.sum()))
        similar = np.zeros(self.n_items, dtype=np.float32)
        if prof.nnz:
            vec = prof.multiply(1.0 / np.sqrt(prof.multiply(prof).sum()))
            sims = np.asarray((self.user_vectors @ vec.T).todense()).ravel()
            if user is not None:
                sims[user] = -1.0
            k = min(NEIGHBOUR_USERS, len(sims) - 1)
            if k > 0:
                near = np.argpartition(-sims, k)[:k]
                similar = np.asarray(self.user_vectors[near].T @ sims[near]).ravel() / k
        pool = [own]
        candidates = candidates or CANDIDATES
        for score in (co_b, co_c, co_r, similar, self.popularity[30].astype(np.float64)):
            k = min(candidates, self.n_items - 1)
            pool.append(np.argpartition(-score, k)[:k] if k > 0 else np.arange(self.n_items))
        cand = np.unique(np.concatenate(pool))
        counts = np.asarray(prof[:, cand].todense()).ravel()
        if user is not None:
            last = np.asarray(self.last_days[user][:, cand].todense()).ravel()
            qty = np.asarray(self.qty[user][:, cand].todense()).ravel()
            n_b, idle, tenure = self.n_baskets[user], self.days_idle[user], self.tenure[user]
        else:
            last, qty, n_b, idle, tenure = np.zeros(len(cand)), np.zeros(len(cand)), 0.0, -1.0, -1.0
        days_since = np.where(last > 0, last - 1.0, 9999.0)
        top = {d: max(1.0, float(p.max())) for d, p in self.popularity.items()}
        cols = [counts, counts / max(1.0, n_b), days_since, np.log1p(np.maximum(qty, 0)),
                np.full(len(cand), n_b), np.full(len(cand), idle),
                self.popularity[14][cand] / top[14], self.popularity[30][cand] / top[30],
                self.popularity[90][cand] / top[90], self.popularity[0][cand] / top[0],
                (self.popularity[14][cand] + 1.0) / (self.popularity[90][cand] + 6.0),
                self.repeat_rate[cand], co_b[cand], co_c[cand], co_r[cand], similar[cand], np.full(len(cand), tenure)]
        return cand, np.column_stack(cols).astype(np.float32)


def _epoch(when) -> float | None:
    """Epoch seconds of a datetime or ISO-8601 text (naive means UTC) or a number of seconds; None if none."""
    if isinstance(when, str):
        try:
            when = parse_timestamp(when)
        except ValueError:
            return None
    if isinstance(when, datetime):
        return (when if when.tzinfo else when.replace(tzinfo=timezone.utc)).timestamp()
    return float(when) if isinstance(when, (int, float)) else None


def _no_diagonal(m: sp.spmatrix) -> sp.csr_matrix:
    m = sp.csr_matrix(m)
    m.setdiag(0)
    m.eliminate_zeros()
    return m


def _cosine(co: sp.csr_matrix, counts: np.ndarray) -> sp.csr_matrix:
    inv = sp.diags(1.0 / np.sqrt(np.maximum(counts, 1.0)))
    return (inv @ co @ inv).tocsr()


def _top_per_row(m: sp.csr_matrix, k: int) -> sp.csr_matrix:
    """Keep the `k` largest entries of every row."""
    m = m.tocsr()
    rows, cols, vals = [], [], []
    for r in range(m.shape[0]):
        start, end = m.indptr[r], m.indptr[r + 1]
        if end - start > k:
            keep = np.argpartition(-m.data[start:end], k)[:k] + start
        else:
            keep = np.arange(start, end)
        rows.append(np.full(len(keep), r))
        cols.append(m.indices[keep])
        vals.append(m.data[keep])
    if not rows:
        return m
    return sp.csr_matrix((np.concatenate(vals).astype(np.float32), (np.concatenate(rows), np.concatenate(cols))),
                         shape=m.shape)

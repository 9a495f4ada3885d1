"""Which FTS5 expression the keyword side of product search runs: the rows BM25 scores kept within a budget by
letting only the query's rarer terms pick them (read from the index's document frequencies).

FTS5 scores every row that matches before its LIMIT applies, so a keyword query costs about the number of
rows holding any of its terms. In a catalog of a million products a word in 3% of them is 30,000 rows to
score, and a row holding only that word is rarely the one sought (its IDF is low, as scikit-learn's `max_df`
assumes). Beyond the budget, the rows holding the rarer terms are the candidates, still scored with every
term; up to it nothing changes, so small catalogs (and queries of rare words) search exactly as before.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from knowledge import pg_text
from knowledge.store import CatalogStore

CACHE_TERMS = 50_000  # document frequencies kept per catalog generation (then the cache starts again)


@dataclass(frozen=True)
class KeywordPlan:
    """`match` is the expression to run; `first`, when set, runs before it and is enough when it finds `n` rows."""

    match: str
    first: str | None = None

    def run(self, query: Callable[..., dict[str, float]], filters: Any, n: int) -> dict[str, float]:
        """The best `n` rows (id -> score, best first) of `query(expression, filters, n)` by this plan."""
        if self.first:
            found = query(self.first, filters, n)
            if len(found) >= n:
                return found
        return query(self.match, filters, n) if self.match else {}


def quoted(terms: list[str]) -> list[str]:
    """FTS5 strings for index terms."""
    return [f'"{t}"' for t in terms]


def plan(terms: list[str], frequency: Callable[[list[str]], dict[str, int]] | None, budget: int) -> KeywordPlan:
    """The keyword query for `terms` (distinct index terms, see `fts_terms`): all ORed, as ever, when their
    document frequencies sum to at most `budget` (or `frequency` is None: a catalog too small to exceed it).

    Else only the rows holding one of the rarest terms (whose frequencies sum to at most `budget`) are scored,
    with every term as before: `(every) NOT ((common) NOT (rare))` leaves out the rows of common terms alone,
    and FTS5 counts no instance of a phrase under NOT, so BM25 gives each row kept the score the plain OR
    gives it. When even the rarest term alone is over the budget, every term is required first (AND), and its
    rows are enough if they fill the page of candidates; only otherwise are the rarest term's rows scored.
    """
    everything = " OR ".join(quoted(terms))
    if frequency is None or not budget or not terms:
        return KeywordPlan(everything)
    counts = frequency(terms)
    present = [t for t in terms if counts.get(t, 0) > 0]  # a term no row holds costs nothing and finds nothing
    if len(present) < 2 or sum(counts[t] for t in present) <= budget:
        return KeywordPlan(everything)
    rarest = sorted(present, key=lambda t: (counts[t], terms.index(t)))
    kept: list[str] = []
    total = 0
    for term in rarest:
        if total + counts[term] > budget:
            break
        kept.append(term)
        total += counts[term]
    rare = [t for t in terms if t in kept] or rarest[:1]  # in the query's order
    common = " OR ".join(quoted([t for t in terms if t not in rare]))
    restricted = f"({everything}) NOT (({common}) NOT ({' OR '.join(quoted(rare))}))"
    return KeywordPlan(restricted, first=None if kept else " AND ".join(quoted(rarest)))


class TermFrequencies:
    """Document frequencies of query terms in a kind's FTS5 index, counted with the index's own tokenizer
    (so "brackets" counts the rows of its stem), cached until the catalog changes."""

    def __init__(self, store: CatalogStore, kind: str = "product") -> None:
        self.store = store
        self.table = {"product": "products_fts"}[kind]
        self.kind = kind
        self._generation: int | None = None
        self._rows = 0
        self._counts: dict[str, int] = {}
        self._lock = threading.Lock()

    def rows(self) -> int:
        """Rows in the catalog (read once per catalog change)."""
        self._refresh()
        return self._rows

    def __call__(self, terms: list[str]) -> dict[str, int]:
        """term -> how many rows of the index hold it."""
        self._refresh()
        with self._lock:
            missing = [t for t in terms if t not in self._counts]
        found = {}
        if missing and self.store.pg:  # the stems' postings (knowledge/pg_text.py), cached there with the IDFs
            with self.store.lock:
                found = pg_text.term_frequencies(self.store, self.kind, missing)
        for term in [] if self.store.pg else missing:
            with self.store.lock:
                found[term] = self.store.db.execute(
                    f"SELECT count(*) FROM {self.table} WHERE {self.table} MATCH ?", [f'"{term}"']).fetchone()[0]
        with self._lock:
            if len(self._counts) + len(found) > CACHE_TERMS:
                self._counts.clear()
            self._counts.update(found)
            return {t: self._counts.get(t, found.get(t, 0)) for t in terms}

    def plan(self, terms: list[str], budget: int) -> KeywordPlan:
        """The keyword query for `terms` within `budget` rows (0: no budget); no frequency is read where the
        catalog is too small for `terms` to hold more rows than that. PostgreSQL's keyword search
        (knowledge/pg_text.py) reads the same expressions."""
        small = not budget or self.rows() * len(terms) <= budget
        return plan(terms, None if small else self, budget)

    def search(self, terms: list[str], budget: int, query: Callable[..., dict[str, float]],
               filters: Any, n: int) -> dict[str, float]:
        """The best `n` rows `query(expression, filters, n)` finds for `terms` by their plan (see `plan`)."""
        return self.plan(terms, budget).run(query, filters, n)

    def _refresh(self) -> None:
        generation = self.store.generation(self.kind)
        with self._lock:
            if self._generation == generation:
                return
        rows = self.store.count(self.kind)
        with self._lock:
            self._generation, self._rows, self._counts = generation, rows, {}

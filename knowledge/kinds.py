"""Product kinds named in another language: the catalog's type names found by e5 in a message's words and its nearest products.

A catalog is usually written in one language ("walking shoes"), its customers write in theirs ("Wanderschuhe",
"登山鞋"). The word files gloss general words (colours, sizes, units); a store's own kinds cannot be listed in
files, so they are read here: every short span of the message (one to three words, or two to four Chinese
characters) is compared with each type name in e5's shared space, and the types of the products nearest to the
whole message vote. Where the catalog has multilingual product vectors, each type also has a prototype, the
mean of its products' vectors, which knows more of a kind than its name does (a German compound may lie
nearer the products than the English name); a span's score is then the mean of its name and prototype
similarities. A type is taken only when it leads clearly; when none does but every type near the lead is of
one category (several kinds of shoe, all in one footwear category), that category is taken;
otherwise the search reads the message by meaning, as before. Tuned on tests/fixtures/search_dev (our own
queries for the demo catalog): of 160 non-English questions, 63 get a type and 3 of those are not among the
question's acceptable kinds (names alone: 58 and 3), and 45 more a category, 5 of them not an acceptable
kind's (docs/benchmarks.md, "Languages").
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from knowledge import multilingual

log = logging.getLogger(__name__)
SPAN_WORDS = 3  # the longest run of words compared with a type name
HAN_SPANS = (2, 4)  # Chinese spans, in characters: single characters say too little
VOTES = 5  # nearest products whose types vote
VOTE_WEIGHT = 0.1  # a type's share of the votes, added to its best span similarity
ACCEPT = 0.94  # e5's cosines crowd together (unrelated words score about 0.8): a kind must score this much
MARGIN = 0.04  # and lead the next type by this much
# with prototypes (the mean of a type's multilingual product vectors), scored half name, half prototype
PROTOTYPE_WEIGHT = 0.5
PROTOTYPE_VOTE_WEIGHT = 0.15
PROTOTYPE_ACCEPT = 0.95
PROTOTYPE_MARGIN = 0.06
CATEGORY_ACCEPT = 0.92  # a category (with prototypes only): the lead scores this much
CATEGORY_WINDOW = 0.03  # and every type within this much of it is of that one category
MAX_SPANS = 64  # a long message's first spans are enough to name a kind
_WORD = re.compile(r"[^\W\d_]+(?:[-'’][^\W\d_]+)*")
_HAN = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]+")


def spans(text: str) -> list[str]:
    """The short runs of a message that may name a kind: word n-grams, and character n-grams of Chinese runs."""
    out: list[str] = []
    for run in _HAN.findall(text):
        if len(run) < HAN_SPANS[0]:
            out.append(run)
        for n in range(HAN_SPANS[0], HAN_SPANS[1] + 1):
            out += [run[i:i + n] for i in range(len(run) - n + 1)]
    words = _WORD.findall(_HAN.sub(" ", text))
    for n in range(1, SPAN_WORDS + 1):
        out += [" ".join(words[i:i + n]) for i in range(len(words) - n + 1)]
    return list(dict.fromkeys(out))[:MAX_SPANS]


class KindFinder:
    """Reads which of the catalog's types a message in another language names, with the multilingual embedder."""

    def __init__(self, kb: Any, types: Sequence[str], type_category: Mapping[str, str] | None = None) -> None:
        self._kb = kb
        self.types = sorted(set(types))
        self._category = dict(type_category or {})
        self._vectors: np.ndarray | None = None
        self._prototypes: np.ndarray | None = None  # one row a type; empty when there are no product vectors
        self._lock = threading.Lock()

    @property
    def available(self) -> bool:
        """Whether there is an e5 model (with its query encoder) and a catalog with types to read."""
        return bool(self.types) and hasattr(self._kb.document_embedder, "encode_queries")

    def warm(self) -> None:
        """Embed the type names now rather than on the first message in another language."""
        if self.available:
            self._type_vectors()
            self._type_prototypes()

    def _type_vectors(self) -> np.ndarray:
        with self._lock:
            if self._vectors is None:
                self._vectors = np.asarray(self._kb.document_embedder.encode_queries(self.types), dtype=np.float32)
            return self._vectors

    def _type_prototypes(self) -> np.ndarray:
        """Each type's mean multilingual product vector, unit length (no rows without product vectors, or when a
        type has none: the names alone are scored then)."""
        with self._lock:
            if self._prototypes is None:
                self._prototypes = self._read_prototypes()
            return self._prototypes

    def _read_prototypes(self) -> np.ndarray:
        empty = np.zeros((0, 0), dtype=np.float32)
        if not multilingual.available(self._kb):
            return empty
        try:
            products = self._kb.store.all_products()
            vectors = self._kb.vectors.get_vectors(multilingual.KIND, [p.id for p in products])
        except Exception:  # the names alone still read kinds
            log.exception("the types' product vectors could not be read")
            return empty
        rows = []
        for kind in self.types:
            own = [vectors[p.id] for p in products if p.type == kind and p.id in vectors]
            if not own:
                return empty
            mean = np.mean(own, axis=0)
            rows.append(mean / (np.linalg.norm(mean) or 1.0))
        return np.asarray(rows, dtype=np.float32)

    def find(self, text: str) -> list[str]:
        """The one catalog type `text` names, if one leads clearly; else nothing."""
        return self.read(text)[0]

    def read(self, text: str) -> tuple[list[str], list[str]]:
        """(types, categories) `text` names: the one type that leads clearly, else the one category of every type
        near the lead (with product vectors only), else neither."""
        if not self.available or not text.strip():
            return [], []
        pieces = spans(text)
        if not pieces:
            return [], []
        embedder = self._kb.document_embedder
        types, prototypes = self._type_vectors(), self._type_prototypes()
        queries = np.asarray(embedder.encode_queries(pieces), dtype=np.float32)
        scores = (queries @ types.T).max(axis=0)
        accept, margin, vote_weight = ACCEPT, MARGIN, VOTE_WEIGHT
        if len(prototypes):
            near = (queries @ prototypes.T).max(axis=0)
            scores = (1 - PROTOTYPE_WEIGHT) * scores + PROTOTYPE_WEIGHT * near
            accept, margin, vote_weight = PROTOTYPE_ACCEPT, PROTOTYPE_MARGIN, PROTOTYPE_VOTE_WEIGHT
        scores = scores + vote_weight * self._votes(text)
        order = np.argsort(scores)[::-1]
        best = float(scores[order[0]])
        runner_up = float(scores[order[1]]) if len(order) > 1 else 0.0
        if best >= accept and best - runner_up >= margin:
            return [self.types[int(order[0])]], []
        if len(prototypes) and best >= CATEGORY_ACCEPT:
            near_types = [self.types[int(i)] for i in order if scores[i] >= best - CATEGORY_WINDOW]
            categories = {self._category.get(t) for t in near_types}
            if len(categories) == 1 and None not in categories:
                return [], [categories.pop()]  # type: ignore[list-item]
        return [], []

    def _votes(self, text: str) -> np.ndarray:
        """Each type's share of the products nearest to the whole message (zeros without multilingual vectors)."""
        share = np.zeros(len(self.types), dtype=np.float32)
        if not multilingual.available(self._kb):
            return share
        try:
            hits = multilingual.nearest(self._kb, text, VOTES)
        except Exception:  # the search goes on without the votes
            log.exception("nearest products for a kind failed")
            return share
        products = self._kb.store.get_products([h.id for h in hits])
        index = {t: i for i, t in enumerate(self.types)}
        for hit in hits:
            p = products.get(hit.id)
            if p is not None and p.type in index:
                share[index[p.type]] += 1 / VOTES
        return share

"""Product kinds named in another language: the catalog's type names found by e5 in a message's words and its nearest products.

A catalog is usually written in one language ("walking shoes"), its customers write in theirs ("Wanderschuhe",
"登山鞋"). The word files gloss general words (colours, sizes, units); a store's own kinds cannot be listed in
files, so they are read here: every short span of the message (one to three words, or two to four Chinese
characters) is compared with each type name in e5's shared space, and the types of the products nearest to the
whole message vote. A type is taken only when it leads clearly; otherwise the search reads the message by
meaning, as before. Tuned on tests/fixtures/search_dev (our own queries for the demo catalog): of 160 non-English
questions, 54 get a type and 3 of those are not among the question's acceptable kinds (docs/benchmarks.md).
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Sequence
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

    def __init__(self, kb: Any, types: Sequence[str]) -> None:
        self._kb = kb
        self.types = sorted(set(types))
        self._vectors: np.ndarray | None = None
        self._lock = threading.Lock()

    @property
    def available(self) -> bool:
        """Whether there is an e5 model (with its query encoder) and a catalog with types to read."""
        return bool(self.types) and hasattr(self._kb.document_embedder, "encode_queries")

    def warm(self) -> None:
        """Embed the type names now rather than on the first message in another language."""
        if self.available:
            self._type_vectors()

    def _type_vectors(self) -> np.ndarray:
        with self._lock:
            if self._vectors is None:
                self._vectors = np.asarray(self._kb.document_embedder.encode_queries(self.types), dtype=np.float32)
            return self._vectors

    def find(self, text: str) -> list[str]:
        """The one catalog type `text` names, if one leads clearly; else nothing."""
        if not self.available or not text.strip():
            return []
        pieces = spans(text)
        if not pieces:
            return []
        embedder = self._kb.document_embedder
        types = self._type_vectors()
        scores = (np.asarray(embedder.encode_queries(pieces), dtype=np.float32) @ types.T).max(axis=0)
        scores = scores + VOTE_WEIGHT * self._votes(text)
        order = np.argsort(scores)[::-1]
        best = float(scores[order[0]])
        runner_up = float(scores[order[1]]) if len(order) > 1 else 0.0
        if best < ACCEPT or best - runner_up < MARGIN:
            return []
        return [self.types[int(order[0])]]

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

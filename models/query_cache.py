"""A small thread-safe LRU of query vectors, shared by the embedders."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence

import numpy as np


class QueryCache:
    """Read-only query vectors by text, the least recently used dropped beyond `size`."""

    def __init__(self, size: int = 4096) -> None:
        self.size = size
        self._items: OrderedDict[str, np.ndarray] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, text: str, encode_one: Callable[[str], np.ndarray]) -> np.ndarray:
        """The cached vector of `text`, else `encode_one(text)`, kept."""
        with self._lock:
            hit = self._items.get(text)
            if hit is not None:
                self._items.move_to_end(text)
                return hit
        vector = encode_one(text)
        self._put([text], [vector])
        return vector

    def warm(self, texts: Sequence[str], encode_many: Callable[[list[str]], np.ndarray]) -> None:
        """Encode in one batch those of `texts` not cached yet, so that `get` finds them."""
        with self._lock:
            fresh = [t for t in dict.fromkeys(texts) if t not in self._items][: self.size]
        if fresh:
            self._put(fresh, encode_many(fresh))

    def _put(self, texts: Sequence[str], vectors) -> None:
        with self._lock:
            for text, vector in zip(texts, vectors):
                vector.setflags(write=False)
                self._items[text] = vector
            while len(self._items) > self.size:
                self._items.popitem(last=False)

    def clear(self) -> None:
        """Forget every cached vector."""
        with self._lock:
            self._items.clear()

    def __contains__(self, text: str) -> bool:
        with self._lock:
            return text in self._items

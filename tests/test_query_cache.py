"""The query-vector cache both embedders share: encode once, keep the most recently used."""

from __future__ import annotations

import numpy as np

from models.query_cache import QueryCache


def test_the_cache_encodes_once_keeps_the_recently_used_and_warms_in_one_batch():
    calls: list[list[str]] = []

    def many(texts):
        calls.append(list(texts))
        return np.stack([np.full(2, float(len(t)), dtype=np.float32) for t in texts])

    cache = QueryCache(size=2)
    first = cache.get("a", lambda t: many([t])[0])
    assert cache.get("a", lambda t: many([t])[0]) is first and calls == [["a"]]
    assert not first.flags.writeable  # shared between callers: nobody may change it
    cache.get("bb", lambda t: many([t])[0])
    cache.get("a", lambda t: many([t])[0])  # "a" used again: "bb" is now the oldest
    cache.get("ccc", lambda t: many([t])[0])
    assert "a" in cache and "ccc" in cache and "bb" not in cache
    cache.warm(["a", "dd", "dd", "eee"], many)
    assert calls[-1] == ["dd", "eee"]  # only the missing ones, once each, in one batch
    assert "dd" in cache and "eee" in cache and len([t for t in ("a", "ccc", "dd", "eee") if t in cache]) == 2
    cache.clear()
    assert "eee" not in cache

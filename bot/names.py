"""Products a message names from anywhere in the catalog ("is the Acme Upland waterproof?").

A product is named when the message names its brand and holds one of its title's rare words (a
model name such as "Upland" that at most `RARE_TITLES` titles of that brand and few titles in
all share; "waterproof" is no model name however few of a brand's titles hold it). Without a
brand nothing is named, so "a packable jacket" stays a search even if few titles say "packable".
Among products named equally, the one whose title shares the most other words with the message
wins ("the Acme Kite boots" is the Kite boot, not the Kite backpack).
"""

from __future__ import annotations

import threading
from collections import defaultdict
from dataclasses import dataclass

from knowledge.text import plural_stem, tokens


RARE_TITLES = 3  # a word in more of a brand's titles than this names a kind of product, not one
COMMON_TITLES = 10  # ... and a word in more titles than this (or 0.1% of them) is a plain word
MIN_WORD = 3


@dataclass
class _Index:
    generation: int
    by_word: dict[str, list[tuple[str, str]]]  # rare title word -> [(product id, brand lower)]
    words: dict[str, set[str]]  # product id -> its title words, singular


class CatalogNames:
    """Finds the products a message names by their rare title words; rebuilt when the catalog changes."""

    def __init__(self, store) -> None:
        self.store = store
        self._index: _Index | None = None
        self._lock = threading.Lock()

    def named(self, text: str, brands: list[str]) -> list[str]:
        """Ids of the products of `brands` that `text` names best (several when equally well); [] for none."""
        wanted = {b.lower() for b in brands}
        if not wanted:
            return []
        words = set(tokens(text, drop_stopwords=False))
        index = self._load()
        rare: dict[str, int] = defaultdict(int)
        for word in words:
            for product_id, brand in index.by_word.get(word, ()):
                if brand in wanted:
                    rare[product_id] += 1
        if not rare:
            return []
        said = {plural_stem(w) for w in words}
        scores = {pid: (n, len(index.words[pid] & said)) for pid, n in rare.items()}
        best = max(scores.values())
        return [pid for pid, score in scores.items() if score == best]

    def _load(self) -> _Index:
        generation = self.store.generation("product")
        with self._lock:
            if self._index is None or self._index.generation != generation:
                rows = self.store.product_names()
                titles = [(pid, set(tokens(title or "", drop_stopwords=False)), (brand or "").lower())
                          for pid, title, brand in rows]
                counts: dict[tuple[str, str], int] = defaultdict(int)  # (brand, word) -> titles
                overall: dict[str, int] = defaultdict(int)
                for _, words, brand in titles:
                    for word in words:
                        counts[brand, word] += 1
                        overall[word] += 1
                common = max(COMMON_TITLES, len(titles) // 1000)
                by_word: dict[str, list[tuple[str, str]]] = defaultdict(list)
                for pid, words, brand in titles:
                    brand_words = set(tokens(brand, drop_stopwords=False))
                    for word in words - brand_words:
                        if (counts[brand, word] <= RARE_TITLES and overall[word] <= common
                                and len(word) >= MIN_WORD and word.isalpha()):
                            by_word[word].append((pid, brand))
                self._index = _Index(generation, dict(by_word),
                                     {pid: {plural_stem(w) for w in words} for pid, words, _ in titles})
            return self._index

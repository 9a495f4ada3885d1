"""Sentence embeddings on sentence-transformers, loaded lazily and fully offline."""

from __future__ import annotations

import json
import logging
import os
import threading
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from models.query_cache import QueryCache
from models.resolve import resolve_embedder
from shopguide.errors import NotConfigured

log = logging.getLogger(__name__)


class SentenceEmbedder:
    """Embeds texts with a local sentence-transformers model; query embeddings are cached."""

    similarity_floor = 0.25  # below this cosine a passage does not answer (measured for all-MiniLM-L6-v2)

    def __init__(
        self,
        model_dir: Path | None = None,
        *,
        batch_size: int = 64,
        threads: int | None = None,
        cache_size: int = 4096,
        setting: str = "SHOPGUIDE_EMBEDDING_MODEL",
    ) -> None:
        self.setting = setting
        self.path = resolve_embedder(model_dir, setting)
        self.batch_size = batch_size
        self._threads = threads
        self._model = None
        self._load_lock = threading.Lock()
        self.queries = QueryCache(cache_size)
        self._one_lock = threading.Lock()
        self._file_dimension: int | None = None

    @property
    def model(self):
        """The loaded SentenceTransformer, loaded on first use."""
        if self._model is None:
            with self._load_lock:
                if self._model is None:
                    self._model = self._load()
        return self._model

    def _load(self):
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        import torch
        from sentence_transformers import SentenceTransformer

        if self._threads:
            torch.set_num_threads(self._threads)
        try:
            model = SentenceTransformer(str(self.path), device="cpu", local_files_only=True)
        except Exception as exc:
            log.debug("sentence-transformers failed to load %s", self.path, exc_info=True)
            raise NotConfigured(
                f"embedding model {self.path} could not be loaded (setting {self.setting}): "
                f"{type(exc).__name__}"
            ) from None
        model.eval()
        log.info("loaded embedding model %s (dim=%d)", self.path.name, _dimension(model))
        return model

    @property
    def dimension(self) -> int:
        """Length of each embedding vector (read from the model's files when it is not loaded yet)."""
        if self._model is None:
            if self._file_dimension is None:
                self._file_dimension = dimension_from_files(self.path) or 0
            if self._file_dimension:
                return self._file_dimension
        return _dimension(self.model)

    @property
    def max_tokens(self) -> int:
        """Longest input, in model tokens, that the model reads; the rest would be cut."""
        return int(self.model.max_seq_length)

    def count_tokens(self, text: str) -> int:
        """Number of word-piece tokens of `text`, special tokens excluded."""
        return len(self.model.tokenizer(text, add_special_tokens=False, truncation=False)["input_ids"])

    def encode(self, texts: Sequence[str], *, batch_size: int | None = None) -> np.ndarray:
        """Embed many texts into L2-normalised float32 rows."""
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        vectors = self.model.encode(
            list(texts),
            batch_size=batch_size or self.batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        return np.asarray(vectors, dtype=np.float32)

    def encode_query(self, text: str) -> np.ndarray:
        """Embed one query, reusing the vector of a recently seen identical query."""
        return self.queries.get(text, self._encode_one)

    def _encode_one(self, text: str) -> np.ndarray:
        """One short text on one torch thread: splitting a single query over threads gains nothing and,
        when another process holds the other core, waits on it (7-14 ms becomes hundreds)."""
        import torch

        _ = self.model  # load first: loading applies the configured thread count
        with self._one_lock:
            before = torch.get_num_threads()
            torch.set_num_threads(1)
            try:
                return self.encode([text])[0]
            finally:
                torch.set_num_threads(before)

    def warm(self, texts: Sequence[str]) -> None:
        """Batch-embed queries ahead of time so that `encode_query` finds them cached."""
        self.queries.warm(texts, self.encode)


def dimension_from_files(path: Path) -> int | None:
    """A sentence-transformers model's output length from its module configs, without loading it (None: unknown)."""
    try:
        modules = json.loads((path / "modules.json").read_text(encoding="utf-8"))
        dimension = None
        for module in sorted(modules, key=lambda m: m.get("idx", 0)):
            kind = str(module.get("type", "")).rsplit(".", 1)[-1]
            if kind not in ("Pooling", "Dense"):
                continue
            config = json.loads((path / module.get("path", "") / "config.json").read_text(encoding="utf-8"))
            if kind == "Pooling":
                modes = sum(1 for k, v in config.items() if k.startswith("pooling_mode_") and v is True)
                dimension = int(config["word_embedding_dimension"]) * max(1, modes)
            else:
                dimension = int(config["out_features"])
        return dimension
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None


def _dimension(model) -> int:
    """Embedding size, across sentence-transformers versions."""
    getter = getattr(model, "get_embedding_dimension", None) or model.get_sentence_embedding_dimension
    return int(getter())

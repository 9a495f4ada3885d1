"""Embeddings in a Chroma persistent store, one collection per kind, with our own vectors."""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

log = logging.getLogger(__name__)

COLLECTIONS = {"product": "products", "faq": "faqs", "document": "documents", "product_ml": "products_ml"}
_BATCH = 4000


@dataclass(frozen=True)
class VectorHit:
    """One nearest chunk: its id, cosine similarity and metadata."""

    id: str
    similarity: float
    metadata: dict[str, Any]


class VectorIndex:
    """Chroma collections keyed by kind, with cosine distance and telemetry off."""

    def __init__(self, path: Path | str | None, *, client: Any = None) -> None:
        """The embedded store under `path`, or `client` (a Chroma server's, see knowledge/vector_server.py)."""
        os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
        if client is None:
            import chromadb
            from chromadb.config import Settings as ChromaSettings

            Path(str(path)).mkdir(parents=True, exist_ok=True)
            client = chromadb.PersistentClient(
                path=str(path), settings=ChromaSettings(anonymized_telemetry=False, allow_reset=True)
            )
        self.client = client
        self._collections: dict[str, Any] = {}

    def _call(self, kind: str, fn: Callable[[Any], Any]) -> Any:
        """`fn(collection)`, once more with a fresh handle if another process dropped the collection."""
        try:
            return fn(self.collection(kind))
        except Exception as exc:
            if type(exc).__name__ != "NotFoundError":
                raise
            self._collections.pop(kind, None)
            return fn(self.collection(kind))

    def collection(self, kind: str):
        """The Chroma collection of `kind`, created on first use."""
        if kind not in self._collections:
            self._collections[kind] = self.client.get_or_create_collection(
                name=COLLECTIONS[kind],
                embedding_function=None,
                configuration={"hnsw": {"space": "cosine", "ef_construction": 128, "ef_search": 96}},
            )
        return self._collections[kind]

    def upsert(
        self, kind: str, ids: Sequence[str], vectors: np.ndarray, metadatas: Sequence[dict[str, Any]]
    ) -> None:
        """Insert or replace vectors."""
        for start in range(0, len(ids), _BATCH):
            end = start + _BATCH
            self._call(kind, lambda col: col.upsert(
                ids=list(ids[start:end]),
                embeddings=vectors[start:end],
                metadatas=[_clean(m) for m in metadatas[start:end]],
            ))

    def delete(self, kind: str, ids: Iterable[str]) -> None:
        """Remove vectors by id; unknown ids are ignored."""
        ids = list(ids)
        for start in range(0, len(ids), _BATCH):
            self._call(kind, lambda col: col.delete(ids=ids[start:start + _BATCH]))

    def dimension(self, kind: str) -> int | None:
        """Length of the stored vectors of `kind`, or None when there are none."""
        got = self._call(kind, lambda col: col.get(limit=1, include=["embeddings"]))
        return len(got["embeddings"][0]) if len(got["ids"]) else None

    def drop(self, kind: str) -> None:
        """Delete every vector of `kind` (the collection is made anew on next use, of any dimension)."""
        self._collections.pop(kind, None)
        try:
            self.client.delete_collection(COLLECTIONS[kind])
        except Exception:  # chromadb raises its own NotFoundError (a ValueError in older releases)
            log.debug("no %s collection to drop", kind)

    def ids(self, kind: str) -> set[str]:
        """All stored ids of `kind`."""
        return {vid for vid, _, _ in self._scan(kind, [])}

    def hashes(self, kind: str) -> dict[str, str | None]:
        """Every stored id of `kind` with the content hash in its metadata."""
        return {vid: (meta or {}).get("hash") for vid, _, meta in self._scan(kind, ["metadatas"])}

    def _scan(self, kind: str, include: list[str]) -> Iterator[tuple[str, Any, Any]]:
        """(id, embedding, metadata) of every stored vector of `kind`, read in pages."""
        offset = 0
        while True:  # one unpaged get of a large collection exceeds SQLite's variable limit
            got = self._call(kind, lambda col: col.get(include=include, limit=_BATCH, offset=offset))
            yield from _rows(got, include)
            if len(got["ids"]) < _BATCH:
                return
            offset += len(got["ids"])

    def count(self, kind: str) -> int:
        """Number of stored vectors of `kind`."""
        return self._call(kind, lambda col: col.count())

    def query(
        self, kind: str, vector: np.ndarray, n: int, where: dict[str, Any] | None = None, *, metadata: bool = True
    ) -> list[VectorHit]:
        """The `n` nearest chunks to `vector`, best first, optionally filtered; `metadata=False` is faster."""
        if n <= 0:
            return []
        result = self._call(kind, lambda col: col.query(  # asking for more than it holds returns what there is
            query_embeddings=[np.asarray(vector, dtype=np.float32)],
            n_results=n,
            where=where or None,
            include=["metadatas", "distances"] if metadata else ["distances"],
        ))
        ids = result["ids"][0]
        distances = result["distances"][0]
        metas = result["metadatas"][0] if metadata else [None] * len(ids)
        return [VectorHit(i, 1.0 - float(d), m or {}) for i, d, m in zip(ids, distances, metas)]

    def get_vectors(self, kind: str, ids: Sequence[str]) -> dict[str, np.ndarray]:
        """Stored vectors by id."""
        return {vid: vector for vid, (vector, _) in self.get_with_metadata(kind, ids, metadata=False).items()}

    def get_with_metadata(
        self, kind: str, ids: Sequence[str], *, metadata: bool = True
    ) -> dict[str, tuple[np.ndarray, dict[str, Any]]]:
        """Stored vectors and their metadata by id, fetched in batches."""
        include = ["embeddings", "metadatas"] if metadata else ["embeddings"]
        ids = list(ids)
        out: dict[str, tuple[np.ndarray, dict[str, Any]]] = {}
        for start in range(0, len(ids), _BATCH):
            got = self._call(kind, lambda col: col.get(ids=ids[start:start + _BATCH], include=include))
            for vid, vector, meta in _rows(got, include):
                out[vid] = (np.asarray(vector, dtype=np.float32), meta or {})
        return out


def _rows(got: dict[str, Any], include: list[str]) -> Iterator[tuple[str, Any, Any]]:
    """(id, embedding, metadata) triples of a Chroma get result; None for what was not included."""
    n = len(got["ids"])
    vectors = got["embeddings"] if "embeddings" in include else [None] * n
    metas = got["metadatas"] if "metadatas" in include else [None] * n
    return zip(got["ids"], vectors, metas)


def _clean(meta: dict[str, Any]) -> dict[str, Any]:
    """Chroma metadata takes only non-null str, int, float and bool values."""
    return {k: v for k, v in meta.items() if isinstance(v, (str, int, float, bool)) and v is not None}

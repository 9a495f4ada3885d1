"""The knowledge base: the record store (SQLite or PostgreSQL), the Chroma vector index and the embedder, together."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from knowledge.store import CatalogStore
from knowledge.vectors import VectorIndex
from models.base import Embedder

log = logging.getLogger(__name__)


class KnowledgeBase:
    """Opened once per process and shared; cheap to query from many coroutines."""

    def __init__(self, data_dir: Path | str, embedder: Embedder, faq_embedder: Embedder | None = None,
                 document_embedder: Embedder | None = None, *, vectors: VectorIndex | None = None,
                 records: Path | str | None = None, records_schema: str = "catalog") -> None:
        """`records`: a postgresql:// URL holding the records (in `records_schema`) instead of data_dir/catalog.db."""
        self.data_dir = Path(data_dir)
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.store = CatalogStore(records or self.data_dir / "catalog.db", records_schema)
        self.vectors = vectors if vectors is not None else VectorIndex(self.data_dir / "chroma")  # or a server's
        self.embedder = embedder
        self.faq_embedder = faq_embedder
        self.document_embedder = document_embedder

    def embedder_for(self, kind: str) -> Embedder:
        """The model that embeds items of `kind`: FAQs and documents may have their own, else the embedder."""
        own = {"faq": self.faq_embedder, "document": self.document_embedder}.get(kind)
        return own if own is not None else self.embedder

    def committed_vectors(self, kind: str, chunk_ids: Sequence[str]) -> dict[str, np.ndarray]:
        """Stored vectors by chunk id, leaving out any whose hash disagrees with the committed chunk."""
        chunks = self.store.chunk_texts(list(chunk_ids))
        return {cid: vector for cid, (vector, meta) in self.vectors.get_with_metadata(kind, list(chunks)).items()
                if meta.get("hash") == chunks[cid]["hash"]}  # else left stale by an interrupted ingest

    def close(self) -> None:
        """Release the database connection."""
        self.store.close()

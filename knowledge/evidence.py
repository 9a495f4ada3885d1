"""Evidence for a question about one product: its documents and description passages, ranked."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from knowledge.base import KnowledgeBase
from knowledge.search import fts_query
from knowledge.text import normalise


@dataclass(frozen=True)
class Evidence:
    """A passage about the product: where it comes from and how well it answers."""

    id: str
    source: str
    text: str
    score: float


@dataclass(frozen=True)
class EvidenceTuning:
    """Weights of the evidence ranker (measured with `shopguide eval product-qa`)."""

    rrf_k: float = 60.0
    keyword_weight: float = 1.0
    vector_weight: float = 1.0


class EvidenceRetriever:
    """Ranks one product's passages for a question."""

    def __init__(self, kb: KnowledgeBase, tuning: EvidenceTuning | None = None) -> None:
        self.kb = kb
        self.tuning = tuning or EvidenceTuning()

    def rank(self, product_id: str, question: str, top_k: int = 5, *, include_description: bool = True) -> list[Evidence]:
        """The product's passages best first; document ids for documents, `description` otherwise."""
        question = (question or "").strip()[:1000]
        store = self.kb.store
        with store.lock:
            doc_rows = store.db.execute(
                "SELECT c.id, c.item_id, c.text, d.source FROM chunks c JOIN documents d ON d.id = c.item_id "
                "WHERE c.kind = 'document' AND d.product_id = ?", [product_id]).fetchall()
            desc_rows = store.db.execute(
                "SELECT id, item_id, text FROM chunks WHERE kind = 'product' AND item_id = ?", [product_id]
            ).fetchall() if include_description else []
        passages = [(r[0], r[1], r[2], r[3] or "document") for r in doc_rows]
        passages += [(r[0], f"{r[1]}#description-{i}", r[2], "description") for i, r in enumerate(desc_rows)]
        if not passages or not question:
            return []
        # Vector ranks from stored vectors: no re-encoding of the product's passages.
        qvec = self.kb.embedder.encode_query(normalise(question))
        vectors = {}
        for kind in ("document", "product"):
            ids = [p[0] for p in passages if p[0].startswith(kind[0] + ":")]
            vectors.update(self.kb.vectors.get_vectors(kind, ids))
        sims = {p[0]: float(np.dot(vectors[p[0]], qvec)) for p in passages if p[0] in vectors}
        by_vector = sorted(sims, key=lambda cid: -sims[cid])
        by_keyword = self._keyword_order(product_id, question, passages)
        t = self.tuning
        fused: dict[str, float] = {}
        for rank, cid in enumerate(by_vector, start=1):
            fused[cid] = fused.get(cid, 0.0) + t.vector_weight / (t.rrf_k + rank)
        for rank, cid in enumerate(by_keyword, start=1):
            fused[cid] = fused.get(cid, 0.0) + t.keyword_weight / (t.rrf_k + rank)
        best_per_item: dict[str, Evidence] = {}
        for cid in sorted(fused, key=lambda c: -fused[c]):
            chunk = next(p for p in passages if p[0] == cid)
            item = chunk[1]
            if item not in best_per_item:
                best_per_item[item] = Evidence(item, chunk[3], chunk[2], round(sims.get(cid, 0.0), 4))
        return list(best_per_item.values())[:top_k]

    def _keyword_order(self, product_id: str, question: str, passages) -> list[str]:
        match = fts_query(question)
        if not match:
            return []
        with self.kb.store.lock:
            rows = self.kb.store.db.execute(
                "SELECT id FROM documents_fts WHERE documents_fts MATCH ? AND product_id = ? "
                "ORDER BY bm25(documents_fts)", [match, product_id]).fetchall()
        doc_order = [r[0] for r in rows]
        first_chunk = {}
        for p in passages:
            first_chunk.setdefault(p[1], p[0])
        return [first_chunk[d] for d in doc_order if d in first_chunk]

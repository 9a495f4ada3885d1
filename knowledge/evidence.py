"""Evidence for a question about one product: its documents and description passages, ranked."""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass

import numpy as np

from knowledge.base import KnowledgeBase
from knowledge.passages import qa_answer, title_head
from knowledge.search import fts_query
from knowledge.specs import readable_spec
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
    """Weights of the evidence ranker (measured with `shopguide eval product-qa`, docs/benchmarks.md).

    A passage's rank score is its cosine similarity to the question, after the product's passages
    are centred (`centre` times their mean subtracted, when there are at least `centre_min`
    of them, so what they all share about the product counts less than what sets one apart),
    plus `keyword_weight` times its BM25 score over the best BM25 score among the product's passages,
    in units of the spread (standard deviation) of the cosines: models differ in how far apart
    their cosines lie, and the keyword share then means the same for each.
    """

    keyword_weight: float = 1.0
    centre: float = 0.5
    centre_min: int = 5


class EvidenceRetriever:
    """Ranks one product's passages for a question."""

    def __init__(self, kb: KnowledgeBase, tuning: EvidenceTuning | None = None, cache_size: int = 2048) -> None:
        self.kb = kb
        self.tuning = tuning or EvidenceTuning()
        self._described: OrderedDict[str, np.ndarray] = OrderedDict()  # description passages in the documents' model
        self._cache_size = cache_size

    @property
    def floor(self) -> float:
        """The similarity below which a passage does not answer, for the documents' model."""
        return float(getattr(self.kb.embedder_for("document"), "similarity_floor", 0.25))

    def rank(self, product_id: str, question: str, top_k: int = 5, *, include_description: bool = True) -> list[Evidence]:
        """The product's passages best first (ids: document ids, or `<product id>#description-<n>`), scored by cosine."""
        question = (question or "").strip()[:1000]
        passages = self._passages(product_id, include_description)
        if not passages or not question or not any(ch.isalnum() for ch in question):
            return []
        embedder = self.kb.embedder_for("document")
        qvec = embedder.encode_query(normalise(question))
        stored = self._vectors(passages, embedder)
        passages = [p for p in passages if p[0] in stored]
        if not passages:
            return []
        matrix = np.stack([stored[p[0]] for p in passages])
        sims = matrix @ qvec
        t = self.tuning
        if t.centre and len(passages) >= t.centre_min:
            centred = matrix - t.centre * matrix.mean(axis=0)
            centred /= np.maximum(np.linalg.norm(centred, axis=1, keepdims=True), 1e-9)
            dense = centred @ qvec
        else:
            dense = sims
        keyword = self._keyword_scores(product_id, question)
        top_keyword = max(keyword.values(), default=0.0) or 1.0
        unit = t.keyword_weight * float(dense.std())
        fused = [float(d) + unit * keyword.get(p[1], 0.0) / top_keyword for p, d in zip(passages, dense)]
        best: dict[str, Evidence] = {}
        for i in sorted(range(len(passages)), key=lambda i: -fused[i]):
            cid, item, text, source, _ = passages[i]
            if item not in best:
                best[item] = Evidence(item, source, text, round(float(sims[i]), 4))
        return list(best.values())[:top_k]

    def _vectors(self, passages: list[tuple[str, str, str, str, str]], embedder) -> dict[str, np.ndarray]:
        """Vectors of the passages in the documents' model: stored ones (no re-encoding), and description
        passages embedded here, once, when products are embedded by another model."""
        stored: dict[str, np.ndarray] = {}
        hashes = {p[0]: p[4] for p in passages}
        same = self.kb.embedder_for("product") is embedder
        for kind in ("document", "product") if same else ("document",):
            ids = [p[0] for p in passages if p[0].startswith(kind[0] + ":")]
            for cid, (vector, meta) in self.kb.vectors.get_with_metadata(kind, ids).items():
                if meta.get("hash") == hashes[cid]:  # else left stale by an interrupted ingest
                    stored[cid] = vector
        if not same:
            described = [p for p in passages if p[0].startswith("p:")]
            key = lambda p: f"{p[0]} {p[4]}"  # noqa: E731  (chunk id and hash: a changed text is embedded anew)
            fresh = [p for p in described if key(p) not in self._described]
            if fresh:
                for p, vector in zip(fresh, embedder.encode([p[2] for p in fresh])):
                    self._described[key(p)] = vector
                while len(self._described) > self._cache_size:
                    self._described.popitem(last=False)
            stored.update({p[0]: self._described[key(p)] for p in described if key(p) in self._described})
        return stored

    def _passages(self, product_id: str, include_description: bool) -> list[tuple[str, str, str, str, str]]:
        """(chunk id, evidence id, text, source, hash) of the product's documents and description passages."""
        store = self.kb.store
        with store.lock:
            doc_rows = store.db.execute(
                "SELECT c.id, c.item_id, c.text, d.source, d.text, c.hash FROM chunks c JOIN documents d ON d.id = c.item_id "
                "WHERE c.kind = 'document' AND d.product_id = ?", [product_id]).fetchall()
            desc_rows = store.db.execute(
                "SELECT c.id, c.item_id, c.text, p.title, c.hash FROM chunks c JOIN products p ON p.id = c.item_id "
                "WHERE c.kind = 'product' AND c.item_id = ? ORDER BY c.seq", [product_id]
            ).fetchall() if include_description else []
        # a question-and-answer document is embedded by its answer but shown whole; a structured
        # spec ("weight:  { unit:pounds, value:5 }") is shown readable ("weight: 5 pounds")
        passages = [(r[0], r[1], r[4] if qa_answer(r[4]) else readable_spec(r[4]) or r[2], r[3] or "document", r[5])
                    for r in doc_rows]
        described = [r for r in desc_rows if r[2] != title_head(r[3])]  # the title alone is no evidence
        passages += [(r[0], f"{r[1]}#description-{i}", r[2], "description", r[4]) for i, r in enumerate(described)]
        return passages

    def _keyword_scores(self, product_id: str, question: str) -> dict[str, float]:
        """BM25 scores (higher is better) of the product's documents that share a term with the question."""
        match = fts_query(question)
        if not match:
            return {}
        with self.kb.store.lock:
            rows = self.kb.store.db.execute(
                "SELECT id, bm25(documents_fts) FROM documents_fts WHERE documents_fts MATCH ? AND product_id = ?",
                [match, product_id]).fetchall()
        return {r[0]: -float(r[1]) for r in rows}


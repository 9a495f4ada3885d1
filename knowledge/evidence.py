"""Evidence for a question about one product: its documents and description passages, ranked."""

from __future__ import annotations

import hashlib
import logging
import sqlite3
from collections import OrderedDict
from dataclasses import dataclass

import numpy as np

from knowledge.base import KnowledgeBase
from knowledge.catalog_schema import document_keyword_text
from knowledge.passages import description_passages, qa_answer
from knowledge import pg_text
from knowledge.search import fts_query
from knowledge.specs import readable_spec
from knowledge.text import keyword_terms, normalise

log = logging.getLogger(__name__)
# words that ask rather than say what about: no passage needs them to be about the question
QUESTION_WORDS = frozenset("how what when where which who why whose would could should might must may shall "
                           "much many often long about also just really".split())
_DESCRIBED = "desc:"  # vector key prefix of a description passage (embedded on demand, never stored)


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
        return self._ranked(product_id, question, top_k, include_description)[0]

    def answers(self, product_id: str, question: str, top_k: int = 2) -> list[Evidence]:
        """The passages that answer `question`: the best above the model's floor, none when no passage
        of the product shares a content word with the question (then nothing stored is about it).
        The product's own name is no such word: every passage that names it would share it."""
        ranked, passages = self._ranked(product_id, question, top_k, True)
        ranked = [e for e in ranked if e.score >= self.floor]
        product = self.kb.store.get_product(product_id) if ranked else None
        named = set(keyword_terms(f"{product.title} {product.brand or ''}")) if product else set()
        terms = [t for t in keyword_terms(question) if t not in QUESTION_WORDS and t not in named]
        if not ranked or not terms:
            return ranked
        return ranked if _local_bm25(fts_query(" ".join(terms)), passages) else []

    def _ranked(self, product_id: str, question: str, top_k: int,
                include_description: bool) -> tuple[list[Evidence], list[tuple[str, str, str, str, str]]]:
        """The best `top_k` passages as evidence, and all the product's passages they were ranked among."""
        question = (question or "").strip()[:1000]
        passages = self._passages(product_id, include_description)
        if not passages or not question or not any(ch.isalnum() for ch in question):
            return [], passages
        embedder = self.kb.embedder_for("document")
        qvec = embedder.encode_query(normalise(question))
        stored = self._vectors(passages, embedder)
        mismatched = sum(v.shape[-1] != qvec.shape[-1] for v in stored.values())
        if mismatched:  # stored by another model and not yet re-embedded: left out, never mixed
            log.warning("%d evidence vectors of product %s are not of the documents' model; left out",
                        mismatched, product_id)
        usable = [p for p in passages if p[0] in stored and stored[p[0]].shape[-1] == qvec.shape[-1]]
        if not usable:
            return [], passages
        matrix = np.stack([stored[p[0]] for p in usable])
        sims = matrix @ qvec
        t = self.tuning
        if t.centre and len(usable) >= t.centre_min:
            centred = matrix - t.centre * matrix.mean(axis=0)
            centred /= np.maximum(np.linalg.norm(centred, axis=1, keepdims=True), 1e-9)
            dense = centred @ qvec
        else:
            dense = sims
        keyword = self._keyword_scores(product_id, question, usable)
        unit = t.keyword_weight * float(dense.std())
        fused = [float(d) + unit * keyword.get(p[1], 0.0) for p, d in zip(usable, dense)]
        best: dict[str, Evidence] = {}
        for i in sorted(range(len(usable)), key=lambda i: -fused[i]):
            cid, item, text, source, _ = usable[i]
            if item not in best:
                best[item] = Evidence(item, source, text, round(float(sims[i]), 4))
        return list(best.values())[:top_k], passages

    def _vectors(self, passages: list[tuple[str, str, str, str, str]], embedder) -> dict[str, np.ndarray]:
        """Vectors of the passages in the documents' model: documents' stored ones (no re-encoding), and
        description passages embedded here, once per text, as they are not stored at ingest."""
        stored: dict[str, np.ndarray] = {}
        hashes = {p[0]: p[4] for p in passages}
        ids = [p[0] for p in passages if not p[0].startswith(_DESCRIBED)]
        for cid, (vector, meta) in self.kb.vectors.get_with_metadata("document", ids).items():
            if meta.get("hash") == hashes[cid]:  # else left stale by an interrupted ingest
                stored[cid] = vector
        described = [p for p in passages if p[0].startswith(_DESCRIBED)]
        key = lambda p: f"{p[0]} {p[4]}"  # noqa: E731  (passage and hash: a changed text is embedded anew)
        fresh = [p for p in described if key(p) not in self._described]
        if fresh:
            for p, vector in zip(fresh, embedder.encode([p[2] for p in fresh])):
                self._described[key(p)] = vector
            while len(self._described) > self._cache_size:
                self._described.popitem(last=False)
        for p in described:
            if key(p) in self._described:
                self._described.move_to_end(key(p))
                stored[p[0]] = self._described[key(p)]
        return stored

    def _passages(self, product_id: str, include_description: bool) -> list[tuple[str, str, str, str, str]]:
        """(vector key, evidence id, text, source, hash) of the product's documents and description passages."""
        store = self.kb.store
        with store.lock:
            doc_rows = store.db.execute(
                "SELECT c.id, c.item_id, c.text, d.source, d.text, c.hash FROM chunks c JOIN documents d ON d.id = c.item_id "
                "WHERE c.kind = 'document' AND d.product_id = ?", [product_id]).fetchall()
            row = store.db.execute("SELECT description FROM products WHERE id = ?", [product_id]).fetchone() \
                if include_description else None
        # a question-and-answer document is embedded by its answer but shown whole; a structured
        # spec ("weight:  { unit:pounds, value:5 }") is shown readable ("weight: 5 pounds")
        passages = [(r[0], r[1], r[4] if qa_answer(r[4]) else readable_spec(r[4]) or r[2], r[3] or "document", r[5])
                    for r in doc_rows]
        for i, text in enumerate(description_passages(row[0] or "") if row else []):
            digest = hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]
            passages.append((f"{_DESCRIBED}{product_id}:{i}", f"{product_id}#description-{i}", text, "description", digest))
        return passages

    def _keyword_scores(self, product_id: str, question: str,
                        passages: list[tuple[str, str, str, str, str]]) -> dict[str, float]:
        """Each passage's keyword share: BM25 over the best BM25 among the product's passages, from 0 to 1.

        Documents are scored by the keyword index (term rarity over all documents); description
        passages, which that index does not hold, by BM25 over the product's own passages.
        """
        match = fts_query(question)
        if not match:
            return {}
        with self.kb.store.lock:
            if self.kb.store.pg:  # tsvector columns, ranked by the same BM25 (higher is better already)
                scores = dict(pg_text.bm25(self.kb.store, "document", match, where="p.product_id = ?",
                                           params=[product_id]))
            else:
                rows = self.kb.store.db.execute(
                    "SELECT id, bm25(documents_fts) FROM documents_fts WHERE documents_fts MATCH ? AND product_id = ?",
                    [match, product_id]).fetchall()
                scores = {r[0]: -float(r[1]) for r in rows}
        top = max(scores.values(), default=0.0) or 1.0
        shares = {item: score / top for item, score in scores.items()}
        if any(p[0].startswith(_DESCRIBED) for p in passages):
            local = _local_bm25(match, passages)
            top = max(local.values(), default=0.0) or 1.0
            shares.update({p[1]: local[p[1]] / top for p in passages if p[0].startswith(_DESCRIBED) and p[1] in local})
        return shares


def _local_bm25(match: str, passages: list[tuple[str, str, str, str, str]]) -> dict[str, float]:
    """BM25 (higher is better) of the passages matching an FTS5 expression, within these passages alone.
    A scratch computation in an in-memory SQLite FTS5 table, on either backend: nothing is stored."""
    db = sqlite3.connect(":memory:")
    try:
        db.execute("CREATE VIRTUAL TABLE t USING fts5(id UNINDEXED, text, tokenize='porter unicode61')")
        db.executemany("INSERT INTO t (id, text) VALUES (?, ?)",
                       [(p[1], document_keyword_text(p[2])) for p in passages])
        return {r[0]: -float(r[1]) for r in db.execute("SELECT id, bm25(t) FROM t WHERE t MATCH ?", [match])}
    except sqlite3.Error:
        log.warning("keyword scoring of evidence failed for %r", match, exc_info=True)
        return {}
    finally:
        db.close()

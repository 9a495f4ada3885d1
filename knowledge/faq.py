"""FAQ matching: the best entry with a confidence, or nothing when unsure."""

from __future__ import annotations

from dataclasses import dataclass

from knowledge.base import KnowledgeBase
from knowledge.schema import Faq
from knowledge.search import fts_query
from knowledge.text import normalise


@dataclass(frozen=True)
class FaqHit:
    """A FAQ entry and how sure the match is, in [0, 1]."""

    faq: Faq
    score: float


@dataclass(frozen=True)
class FaqTuning:
    """Weights of the FAQ scorer (measured with `shopguide eval faq`)."""

    question_weight: float = 0.5
    answer_weight: float = 0.5
    keyword_weight: float = 0.0
    rrf_k: float = 60.0


class FaqMatcher:
    """Ranks FAQ entries for an utterance by embedding similarity to the question and the answer."""

    def __init__(self, kb: KnowledgeBase, tuning: FaqTuning | None = None) -> None:
        self.kb = kb
        self.tuning = tuning or FaqTuning()

    def rank(self, text: str, top_k: int = 5) -> list[FaqHit]:
        """FAQ entries best first, scored in [0, 1]."""
        text = (text or "").strip()[:1000]
        if not text or not any(ch.isalnum() for ch in text):
            return []
        total = self.kb.vectors.count("faq")
        if total == 0:
            return []
        vector = self.kb.embedder.encode_query(normalise(text))
        hits = self.kb.vectors.query("faq", vector, total)
        committed = self.kb.store.chunk_texts([h.id for h in hits])
        per_faq: dict[str, dict[str, float]] = {}
        for hit in hits:
            row = committed.get(hit.id)
            if row is None or row["hash"] != hit.metadata.get("hash"):
                continue
            slot = "q" if row["seq"] == 0 else "a"
            scores = per_faq.setdefault(row["item_id"], {})
            scores[slot] = max(scores.get(slot, -1.0), hit.similarity)
        t = self.tuning
        scored = {
            fid: t.question_weight * s.get("q", 0.0) + t.answer_weight * s.get("a", s.get("q", 0.0))
            for fid, s in per_faq.items()
        }
        if t.keyword_weight:
            scored = self._with_keywords(text, scored)
        best = sorted(scored, key=lambda fid: -scored[fid])[:top_k]
        faqs = self.kb.store.get_faqs(best)
        return [FaqHit(faqs[f], round(max(0.0, min(1.0, scored[f])), 4)) for f in best if f in faqs]

    def _with_keywords(self, text: str, scored: dict[str, float]) -> dict[str, float]:
        match = fts_query(text)
        if not match:
            return scored
        with self.kb.store.lock:
            rows = self.kb.store.db.execute(
                "SELECT id FROM faqs_fts WHERE faqs_fts MATCH ? ORDER BY bm25(faqs_fts) LIMIT 50", [match]
            ).fetchall()
        bonus = {r[0]: self.tuning.keyword_weight / (self.tuning.rrf_k + i + 1) for i, r in enumerate(rows)}
        return {fid: s + bonus.get(fid, 0.0) for fid, s in scored.items()}

    def best(self, text: str, threshold: float) -> FaqHit | None:
        """The best entry if its confidence reaches `threshold`, else None."""
        ranked = self.rank(text, top_k=1)
        if ranked and ranked[0].score >= threshold:
            return ranked[0]
        return None

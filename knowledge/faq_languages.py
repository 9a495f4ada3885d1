"""FAQ matching across languages: multilingual-e5 vectors of every entry, one entry per translated family,
in the customer's language where the store wrote one."""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass

import numpy as np

from knowledge.base import KnowledgeBase
from knowledge.schema import Faq

log = logging.getLogger(__name__)

# e5's cosines crowd together: on the FAQ dev sets (tests/fixtures/faq_dev, docs/benchmarks.md "Languages") the
# best entry scores 0.82-0.86 whether right or wrong, and a shopping request 0.78-0.83. Scores map
# (similarity - LOW) / SPAN onto [0, 1], so that the FAQ threshold (0.55) passes about three questions in four.
LOW, SPAN = 0.78, 0.1
HUB_PENALTY = 0.0  # measured 0, 0.5 and 1 on the dev sets: the penalty only cost accuracy
SAME_LANGUAGE = 0.01  # among a family's members as good as one another, the customer's language first


@dataclass
class _Index:
    generation: int
    faqs: list[Faq]
    question: np.ndarray  # (n, dim) "query: question" vectors (question to question is symmetric)
    whole: np.ndarray  # (n, dim) "passage: question answer" vectors
    hubs: np.ndarray  # (n,) how much more than average an entry resembles the others
    worded: dict[tuple[str, str], Faq]  # (family, language) -> the entry written in it


class MultilingualFaq:
    """Ranks FAQ entries of any language for a question in any language."""

    def __init__(self, kb: KnowledgeBase) -> None:
        self.kb = kb
        self._index: _Index | None = None
        self._lock = threading.Lock()

    def rank(self, text: str, lang: str, top_k: int) -> list[tuple[Faq, float]]:
        """(entry, score in [0, 1]) best first, one per family, each in `lang` when the family has it."""
        index = self._load()
        if not index.faqs:
            return []
        query = self.kb.document_embedder.encode_query(text)
        # the mean of question-to-question and question-to-entry: 0.72 accuracy@1 on the dev sets, where either
        # alone gave 0.63-0.69 and their maximum 0.67-0.70
        sims = (index.question @ query + index.whole @ query) / 2 - HUB_PENALTY * index.hubs
        best: dict[str, tuple[float, Faq]] = {}
        for faq, sim in zip(index.faqs, sims):
            sim = float(sim) + (SAME_LANGUAGE if (faq.lang or "en") == lang else 0.0)
            family = faq.family
            if family not in best or sim > best[family][0]:
                best[family] = (sim, faq)
        for family, (sim, faq) in list(best.items()):  # the family's score, the customer's language's wording
            best[family] = (sim, index.worded.get((family, lang), faq))
        ranked = sorted(best.values(), key=lambda sf: -sf[0])[:top_k]
        return [(faq, round(max(0.0, min(1.0, (sim - LOW) / SPAN)), 4)) for sim, faq in ranked]

    def warm(self) -> None:
        """Embed the entries now (at start-up) rather than at the first question in another language."""
        self._load()

    def _load(self) -> _Index:
        generation = self.kb.store.generation("faq")
        with self._lock:
            if self._index is not None and self._index.generation == generation:
                return self._index
            faqs = list(self.kb.store.get_faqs().values())
            model = self.kb.document_embedder
            if not faqs or model is None:
                self._index = _Index(generation, [], np.zeros((0, 1)), np.zeros((0, 1)), np.zeros(0), {})
                return self._index
            question = np.asarray(model.encode_queries([f.question for f in faqs]), dtype=np.float32)
            whole = np.asarray(model.encode([f"{f.question} {f.answer}" for f in faqs]), dtype=np.float32)
            worded = {(f.family, f.lang or "en"): f for f in faqs}
            self._index = _Index(generation, faqs, question, whole, _hubs(question, whole, faqs), worded)
            log.info("multilingual FAQ index: %d entries", len(faqs))
            return self._index


def _hubs(question: np.ndarray, whole: np.ndarray, faqs: list[Faq]) -> np.ndarray:
    """Each entry's mean similarity to the entries of other families, less the average of that."""
    n = len(faqs)
    if n < 3:
        return np.zeros(n, dtype=np.float32)
    sims = np.maximum(question @ question.T, whole @ whole.T)
    families = np.array([f.family for f in faqs])
    other = families[:, None] != families[None, :]
    counts = np.maximum(other.sum(axis=1), 1)
    mean = (sims * other).sum(axis=1) / counts
    return (mean - mean.mean()).astype(np.float32)

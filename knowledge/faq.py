"""FAQ matching: the best entry with a confidence, or nothing when unsure."""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass

import numpy as np

from knowledge.base import KnowledgeBase
from knowledge.faq_languages import MultilingualFaq
from knowledge.passages import faq_name
from knowledge.schema import Faq
from knowledge import pg_text
from knowledge.search import fts_query
from knowledge.text import normalise, plural_stem, tokens

log = logging.getLogger(__name__)

SLOTS = ("question", "answer", "name", "reply")


@dataclass(frozen=True)
class FaqHit:
    """A FAQ entry and how sure the match is, in [0, 1]."""

    faq: Faq
    score: float


@dataclass(frozen=True)
class FaqTuning:
    """Weights of the FAQ scorer (measured with `shopguide eval faq`, docs/benchmarks.md).

    An utterance's score for an entry is its best cosine similarity to one of the entry's
    vectors (question alone, question with answer, the id's words, answer alone), each less `hub_penalty`
    times how much more than average that vector resembles the other entries' vectors of the
    same kind: generic entries otherwise attract every vague utterance. An entry also gains
    `unique_term_bonus` when the utterance uses a word (of `unique_term_min_len` letters or more)
    that no other entry's question or answer has, such as a payment provider named in one answer:
    sentence vectors blur such names. With fewer than `unique_term_min_entries` entries, a word
    found in one of them says little, and no entry gains.
    """

    hub_penalty: float = 0.5
    use_answer: bool = True
    use_name: bool = True
    use_reply: bool = True
    keyword_weight: float = 0.0
    rrf_k: float = 60.0
    unique_term_bonus: float = 0.04
    unique_term_min_len: int = 4
    unique_term_min_entries: int = 5


@dataclass
class _Index:
    generation: int
    faq_ids: list[str]
    vectors: dict[str, np.ndarray]  # slot -> (n_faqs, dim), zero rows where an entry lacks the slot
    present: dict[str, np.ndarray]  # slot -> bool mask
    hubs: dict[str, np.ndarray]  # slot -> per-entry penalty
    dim: int
    unique_terms: dict[str, str]  # a word found in one entry only -> that entry's id


class FaqMatcher:
    """Ranks FAQ entries for an utterance by embedding similarity to their question, answer and name."""

    def __init__(self, kb: KnowledgeBase, tuning: FaqTuning | None = None) -> None:
        self.kb = kb
        self.tuning = tuning or FaqTuning()
        self._index: _Index | None = None
        self._lock = threading.Lock()
        self._warned = False
        self.languages = MultilingualFaq(kb)

    def rank(self, text: str, top_k: int = 5, lang: str | None = None) -> list[FaqHit]:
        """FAQ entries best first, scored in [0, 1]; `lang`, the question's language, when it may not be English.

        English questions are matched by the FAQ model among the English entries (or those without a
        language); other languages, or a FAQ with no English entries, by the multilingual model across
        all entries, one entry per translated family, in the question's language where there is one."""
        text = (text or "").strip()[:1000]
        if not text or not any(ch.isalnum() for ch in text):
            return []
        index = self._load()
        if (lang not in (None, "en") or not index.faq_ids) and self.kb.document_embedder is not None:
            return [FaqHit(faq, score) for faq, score in self.languages.rank(text, lang or "en", top_k)]
        if not index.faq_ids:
            return []
        query = self.kb.embedder_for("faq").encode_query(normalise(text))
        if index.dim != query.shape[0]:
            if index.dim and not self._warned:
                self._warned = True
                log.warning("the stored FAQ vectors come from another embedding model (dimension %d, not %d): "
                            "ingest the FAQs again to match them", index.dim, query.shape[0])
            return []
        t = self.tuning
        best = np.full(len(index.faq_ids), -np.inf, dtype=np.float32)
        for slot in SLOTS:
            if not {"answer": t.use_answer, "name": t.use_name, "reply": t.use_reply}.get(slot, True):
                continue
            sims = index.vectors[slot] @ query - t.hub_penalty * index.hubs[slot]
            best = np.maximum(best, np.where(index.present[slot], sims, -np.inf))
        scored = {fid: float(s) for fid, s in zip(index.faq_ids, best) if np.isfinite(s)}
        if t.unique_term_bonus:
            for fid in {index.unique_terms.get(w) for w in _terms(text, t.unique_term_min_len)} - {None}:
                if fid in scored:
                    scored[fid] += t.unique_term_bonus
        if t.keyword_weight:
            scored = self._with_keywords(text, scored)
        top = sorted(scored, key=lambda fid: -scored[fid])[:top_k]
        faqs = self.kb.store.get_faqs(top)
        return [FaqHit(faqs[f], round(max(0.0, min(1.0, scored[f])), 4)) for f in top if f in faqs]

    def best(self, text: str, threshold: float, lang: str | None = None) -> FaqHit | None:
        """The best entry if its confidence reaches `threshold`, else None."""
        ranked = self.rank(text, top_k=1, lang=lang)
        if ranked and ranked[0].score >= threshold:
            return ranked[0]
        return None

    def _load(self) -> _Index:
        """All committed FAQ vectors by slot, reloaded whenever the FAQ set changes."""
        generation = self.kb.store.generation("faq")
        with self._lock:
            if self._index is not None and self._index.generation == generation:
                return self._index
            faqs = {fid: f for fid, f in self.kb.store.get_faqs().items() if f.lang in (None, "en")}
            with self.kb.store.lock:
                rows = self.kb.store.db.execute(
                    "SELECT id, item_id, seq, text, hash FROM chunks WHERE kind = 'faq'").fetchall()
            stored = self.kb.vectors.get_with_metadata("faq", [r[0] for r in rows])
            ids = sorted(faqs)
            pos = {fid: i for i, fid in enumerate(ids)}
            dim = next((v.shape[0] for v, _ in stored.values()), 0)
            vectors = {s: np.zeros((len(ids), dim), dtype=np.float32) for s in SLOTS}
            present = {s: np.zeros(len(ids), dtype=bool) for s in SLOTS}
            for chunk, item, seq, text, digest in rows:
                got = stored.get(chunk)
                if got is None or got[1].get("hash") != digest or item not in pos:
                    continue  # not committed yet, or left over from an interrupted ingest
                slot = _slot(faqs[item], seq, text)
                i = pos[item]
                if present[slot][i]:  # a long answer in several chunks: their mean direction
                    vectors[slot][i] = _normalised(vectors[slot][i] + got[0])
                else:
                    vectors[slot][i] = got[0]
                    present[slot][i] = True
            hubs = {s: _hub(vectors[s], present[s]) for s in SLOTS}
            owners: dict[str, set[str]] = {}
            for fid in ids:
                f = faqs[fid]
                for w in _terms(f"{f.question} {f.answer}", self.tuning.unique_term_min_len):
                    owners.setdefault(w, set()).add(fid)
            enough = len(ids) >= self.tuning.unique_term_min_entries
            unique = {w: next(iter(o)) for w, o in owners.items() if len(o) == 1} if enough else {}
            self._index = _Index(generation, ids, vectors, present, hubs, dim, unique)
            return self._index

    def _with_keywords(self, text: str, scored: dict[str, float]) -> dict[str, float]:
        match = fts_query(text)
        if not match:
            return scored
        with self.kb.store.lock:
            if self.kb.store.pg:  # tsvector columns, ranked by the same BM25
                rows = pg_text.bm25(self.kb.store, "faq", match, limit=50)
            else:
                rows = self.kb.store.db.execute(
                    "SELECT id FROM faqs_fts WHERE faqs_fts MATCH ? ORDER BY bm25(faqs_fts) LIMIT 50", [match]
                ).fetchall()
        bonus = {r[0]: self.tuning.keyword_weight / (self.tuning.rrf_k + i + 1) for i, r in enumerate(rows)}
        return {fid: s + bonus.get(fid, 0.0) for fid, s in scored.items()}


def _slot(faq: Faq, seq: int, text: str) -> str:
    """Which of `faq_passages` a stored chunk is."""
    question, answer = faq.question.strip(), faq.answer.strip()
    if seq == 0:
        return "question"
    if text == faq_name(faq):
        return "name"
    if text == answer and text != question:  # before the prefix test: an answer may begin with its question
        return "reply"
    return "answer" if text == question or text.startswith(question + " ") else "reply"


def _terms(text: str, min_len: int) -> set[str]:
    """Singular forms of the text's non-stopword words of at least `min_len` letters."""
    return {plural_stem(w) for w in tokens(text) if len(w) >= min_len and w.isalpha()}


def _normalised(v: np.ndarray) -> np.ndarray:
    norm = float(np.linalg.norm(v))
    return v / norm if norm else v


def _hub(vectors: np.ndarray, present: np.ndarray) -> np.ndarray:
    """Each entry's mean similarity to the other entries, less the average of that over entries."""
    n = int(present.sum())
    out = np.zeros(len(vectors), dtype=np.float32)
    if n < 3:
        return out
    sims = vectors[present] @ vectors[present].T
    mean = (sims.sum(axis=1) - np.diag(sims)) / (n - 1)
    out[present] = mean - mean.mean()
    return out

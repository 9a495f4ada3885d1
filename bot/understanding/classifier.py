"""The intent classifier: a logistic head over sentence vectors and the conversation's state, learned from examples."""

from __future__ import annotations

import hashlib
import logging
import os
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from bot.understanding.examples import STATES, Examples

log = logging.getLogger(__name__)

Embed = Callable[[Sequence[str]], np.ndarray]  # texts -> L2-normalised rows
# The state a customer writes in, as features: what is in view and what the assistant just asked.
_STATE_FEATURES = {  # list, focus, asked, offered
    "start": [(0, 0, 0, 0)],
    "list": [(1, 0, 0, 0)],
    "focus": [(1, 1, 0, 0), (0, 1, 0, 0)],
    "asked": [(1, 0, 1, 0), (1, 1, 1, 0)],
    "offered": [(0, 0, 0, 1), (1, 0, 0, 1), (1, 1, 0, 1)],
}
STATE_WEIGHT = 1.0  # context features against unit-length sentence vectors
C = 8.0  # inverse regularisation of the logistic head
WORD_WEIGHT = 0.7  # word features against the sentence vector
TOKENS = r"(?u)\b\w+\b|[\u3400-\u9fff]"  # words, and each Chinese character as one
OTHER_STATE_WEIGHT = 0.3  # an example's weight in the states its intent is seldom meant in
FOLDS = 5  # held-out folds that calibrate the probabilities
_FITTED: dict[str, tuple[object, float]] = {}  # trained heads by examples digest and model, within this process


@dataclass(frozen=True)
class State:
    """What the customer sees when writing: a list, one product in view, a pending "which one?" or yes/no question."""

    has_list: bool = False
    has_focus: bool = False
    asked: bool = False
    offered: bool = False

    def features(self) -> np.ndarray:
        """The state as the classifier's context features."""
        return np.array([self.has_list, self.has_focus, self.asked, self.offered], dtype=np.float32) * STATE_WEIGHT


@dataclass(frozen=True)
class Reading:
    """An intent with its probability, and the runner-up for a clarifying question."""

    intent: str
    confidence: float
    runner_up: str | None = None
    runner_up_confidence: float = 0.0

    @property
    def margin(self) -> float:
        """How far the best intent is ahead of the next one."""
        return self.confidence - self.runner_up_confidence


class IntentClassifier:
    """Learns intents from example utterances at start-up (vectors cached by content hash) and reads messages."""

    def __init__(self, examples: Examples, embed: Embed, *, embed_one: Callable[[str], np.ndarray] | None = None,
                 cache_dir: Path | None = None, model_name: str = "") -> None:
        self.examples = examples
        self._embed = embed
        self._embed_one = embed_one or (lambda text: np.asarray(embed([text]), dtype=np.float32)[0])
        self._cache_dir = cache_dir
        self._model_name = model_name
        self._model = None
        self._lock = threading.Lock()
        self.intents: list[str] = []
        self.temperature = 1.0
        self._words = None  # the examples' word and word-pair weights (TF-IDF)

    def _example_vectors(self, texts: list[str]) -> np.ndarray:
        """The examples' vectors, from the cache when the examples and model are unchanged."""
        path = self._cache_path("intent-examples", ".npy", weights=False)
        if path is not None and path.is_file():
            try:
                cached = np.load(path)
                if cached.shape[0] == len(texts):
                    return cached
            except (OSError, ValueError):
                log.info("example vectors cache %s unreadable; embedding again", path.name)
        vectors = np.asarray(self._embed(texts), dtype=np.float32)
        if path is not None:
            try:
                partial = path.with_suffix(f".{os.getpid()}.part.npy")
                np.save(partial, vectors)
                os.replace(partial, path)
            except OSError as exc:
                log.warning("example vectors not cached in %s: %s", path.parent, exc)
        return vectors

    def fit(self) -> "IntentClassifier":
        """Train the head on every example in every state its intent can be meant in (or load it from the cache)."""
        key = f"{self.examples.digest}\x00{self._model_name}"
        if self._model_name and key in _FITTED:  # several runtimes in one process (tests, benchmarks) share it
            self._model, self.temperature, self._words = _FITTED[key]
            self.intents = list(self._model.classes_)
            return self
        head = self._cache_path("intent-head", ".joblib", weights=True)
        if head is not None and head.is_file():
            import joblib

            try:
                self._model, self.temperature, self._words = joblib.load(head)
            except Exception:  # a cache from another library version: train again
                log.info("intent classifier cache %s unreadable; training again", head.name)
                self._model = None
        if self._model is None:
            self._train()
            if head is not None:
                import joblib

                try:
                    partial = head.with_suffix(f".{os.getpid()}.part")
                    joblib.dump((self._model, self.temperature, self._words), partial)
                    os.replace(partial, head)  # whole or absent: another process may be reading it
                except OSError as exc:  # a read-only cache costs only the next start's training
                    log.warning("intent classifier not cached in %s: %s", head.parent, exc)
        self.intents = list(self._model.classes_)  # type: ignore[union-attr]
        if self._model_name:
            _FITTED[key] = (self._model, self.temperature, self._words)
        return self

    def _rows(self) -> tuple[object, list[str], np.ndarray, np.ndarray]:
        """Training rows: each example in each state, weighted by how usual the state is for its intent."""
        pairs = self.examples.pairs()
        if not pairs:
            raise ValueError("no example utterances to learn intents from")
        vectors = self._example_vectors([t for t, _ in pairs])
        from sklearn.feature_extraction.text import TfidfVectorizer

        self._words = TfidfVectorizer(token_pattern=TOKENS, ngram_range=(1, 2), sublinear_tf=True, lowercase=True)
        self._words.fit([t for t, _ in pairs])
        rows, labels, weights, groups, texts = [], [], [], [], []
        for n, (vec, (_, intent)) in enumerate(zip(vectors, pairs)):
            usual = self.examples.states.get(intent, STATES)
            for state in STATES:
                weight = 1.0 if state in usual else 0.0 if intent in self.examples.strict else OTHER_STATE_WEIGHT
                for feats in _STATE_FEATURES[state] if weight else ():
                    rows.append(np.concatenate([vec, np.asarray(feats, dtype=np.float32) * STATE_WEIGHT]))
                    labels.append(intent)
                    weights.append(weight / len(_STATE_FEATURES[state]))
                    groups.append(n)
                    texts.append(pairs[n][0])
        return self._features(np.vstack(rows), texts), labels, np.asarray(weights), np.asarray(groups)

    def _features(self, dense: np.ndarray, texts: list[str]):
        """Sentence vectors and state, beside the message's words and word pairs (as Rasa's pipelines pair them)."""
        from scipy.sparse import csr_matrix, hstack

        return hstack([csr_matrix(dense), self._words.transform(texts) * WORD_WEIGHT]).tocsr()  # type: ignore[union-attr]

    def _train(self) -> None:
        """Fit the head, and a temperature that calibrates its probabilities on held-out examples."""
        from sklearn.linear_model import LogisticRegression
        from sklearn.model_selection import GroupKFold

        x, labels, weights, groups = self._rows()
        y = np.asarray(labels)
        column = {c: i for i, c in enumerate(sorted(set(labels)))}  # a fold may lack an intent: fixed columns
        held_logits, held_y, held_w = [], [], []
        for train, test in GroupKFold(n_splits=FOLDS).split(x, y, groups):
            fold = LogisticRegression(C=C, max_iter=3000).fit(x[train], y[train], sample_weight=weights[train])
            logits = np.full((len(test), len(column)), -1e9)
            logits[:, [column[c] for c in fold.classes_]] = fold.decision_function(x[test])
            held_logits.append(logits)
            held_y += [column[c] for c in y[test]]
            held_w.append(weights[test])
        self.temperature = _best_temperature(np.vstack(held_logits), np.asarray(held_y), np.concatenate(held_w))
        self._model = LogisticRegression(C=C, max_iter=3000).fit(x, y, sample_weight=weights)
        log.info("intent classifier: %d examples of %d intents, temperature %.2f",
                 len(set(groups)), len(set(labels)), self.temperature)

    def _cache_path(self, stem: str, suffix: str, *, weights: bool) -> Path | None:
        """Where a derived file lives: by the examples and model, and for the head also by its weights."""
        if self._cache_dir is None:
            return None
        tuning = f"\x00{C}\x00{OTHER_STATE_WEIGHT}\x00{WORD_WEIGHT}" if weights else ""
        key = hashlib.sha256(f"{self.examples.digest}\x00{self._model_name}{tuning}".encode())
        try:
            self._cache_dir.mkdir(parents=True, exist_ok=True)
        except OSError:
            return None
        return self._cache_dir / f"{stem}-{key.hexdigest()[:16]}{suffix}"

    def probabilities(self, text: str, vector: np.ndarray, state: State) -> dict[str, float]:
        """P(intent | message, state) for every intent, calibrated."""
        if self._model is None:
            with self._lock:
                if self._model is None:
                    self.fit()
        x = self._features(np.concatenate([vector.astype(np.float32), state.features()])[None, :], [text])
        probs = _softmax(self._model.decision_function(x)[0] / self.temperature)  # type: ignore[union-attr]
        return dict(zip(self.intents, (float(p) for p in probs)))

    def read(self, text: str, state: State) -> Reading:
        """The most likely intent of `text` in `state`, and the runner-up."""
        probs = self.probabilities(text, self._embed_one(text), state)
        ranked = sorted(probs.items(), key=lambda kv: -kv[1])
        best, p = ranked[0]
        second = ranked[1] if len(ranked) > 1 else (None, 0.0)
        return Reading(str(best), p, str(second[0]) if second[0] else None, second[1])


def _softmax(z: np.ndarray) -> np.ndarray:
    z = z - z.max()
    e = np.exp(z)
    return e / e.sum()


def _best_temperature(logits: np.ndarray, y: np.ndarray, weights: np.ndarray) -> float:
    """The temperature that minimises the held-out negative log-likelihood (a grid: it is one number)."""
    best, best_nll = 1.0, float("inf")
    for t in np.exp(np.linspace(np.log(0.1), np.log(3.0), 40)):
        z = logits / t
        z = z - z.max(axis=1, keepdims=True)
        logp = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
        nll = float(-(logp[np.arange(len(y)), y] * weights).sum() / weights.sum())
        if nll < best_nll:
            best, best_nll = float(t), nll
    return best

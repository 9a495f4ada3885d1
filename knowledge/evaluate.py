"""Retrieval metrics and evaluation runs on labelled data (formats of the shared eval README)."""

from __future__ import annotations

import json
import math
from collections import defaultdict
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any


def read_jsonl(path: Path) -> Iterator[dict[str, Any]]:
    """Objects of a JSONL file, skipping blank lines."""
    with Path(path).open(encoding="utf-8") as fh:
        for line in fh:
            if line.strip():
                yield json.loads(line)


def read_qrels(path: Path) -> dict[str, dict[str, int]]:
    """TREC qrels: query id → {doc id: grade}."""
    qrels: dict[str, dict[str, int]] = defaultdict(dict)
    with Path(path).open(encoding="utf-8") as fh:
        for line in fh:
            parts = line.split()
            if len(parts) >= 4:
                qrels[parts[0]][parts[2]] = int(parts[3])
    return dict(qrels)


def ndcg_at(ranked: list[str], grades: dict[str, int], k: int = 10) -> float | None:
    """nDCG@k with gain 2^grade - 1 and log2 discount; None when no judged doc is positive."""
    ideal = sorted((g for g in grades.values() if g > 0), reverse=True)[:k]
    if not ideal:
        return None
    dcg = sum((2 ** grades.get(doc, 0) - 1) / math.log2(i + 2) for i, doc in enumerate(ranked[:k]))
    idcg = sum((2 ** g - 1) / math.log2(i + 2) for i, g in enumerate(ideal))
    return dcg / idcg


def mrr_at(ranked: list[str], grades: dict[str, int], k: int = 10) -> float:
    """Reciprocal rank of the first doc with grade >= 1 within the top k."""
    for i, doc in enumerate(ranked[:k]):
        if grades.get(doc, 0) >= 1:
            return 1.0 / (i + 1)
    return 0.0


def recall_at(ranked: list[str], grades: dict[str, int], k: int = 100) -> float | None:
    """Share of docs with grade >= 1 found in the top k; None when there are none."""
    relevant = {d for d, g in grades.items() if g >= 1}
    if not relevant:
        return None
    return len(relevant & set(ranked[:k])) / len(relevant)


def precision_at_1(ranked: list[str], grades: dict[str, int], grade: int = 2) -> float:
    """1 when the top doc has at least `grade`, else 0."""
    return 1.0 if ranked and grades.get(ranked[0], 0) >= grade else 0.0


def summarise(runs: dict[str, list[str]], qrels: dict[str, dict[str, int]], *, p1_grade: int | None = None) -> dict[str, Any]:
    """Mean metrics over queries with a positive grade; P@1 only over those with a doc of `p1_grade` or more."""
    # P@1 skips queries that could never score, as the shared baselines do; `p@1_queries` says how many counted.
    ndcgs, mrrs, recalls, p1s = [], [], [], []
    for qid, grades in qrels.items():
        ranked = runs.get(qid, [])
        n = ndcg_at(ranked, grades)
        if n is None:
            continue
        ndcgs.append(n)
        mrrs.append(mrr_at(ranked, grades))
        r = recall_at(ranked, grades)
        if r is not None:
            recalls.append(r)
        if p1_grade is not None and max(grades.values()) >= p1_grade:
            p1s.append(precision_at_1(ranked, grades, p1_grade))
    out: dict[str, Any] = {
        "queries": len(ndcgs),
        "ndcg@10": _mean(ndcgs),
        "mrr@10": _mean(mrrs),
        "recall@100": _mean(recalls),
    }
    if p1_grade is not None:
        out["p@1"] = _mean(p1s)
        out["p@1_queries"] = len(p1s)
    return out


def _mean(values: list[float]) -> float:
    return round(sum(values) / len(values), 4) if values else 0.0


def write_run(path: Path, runs: dict[str, list[tuple[str, float]]], tag: str) -> None:
    """A TREC run file: `QUERY_ID Q0 DOC_ID RANK SCORE TAG`, top 100 per query."""
    with Path(path).open("w", encoding="utf-8") as fh:
        for qid, ranked in runs.items():
            for rank, (doc, score) in enumerate(ranked[:100], start=1):
                fh.write(f"{qid} Q0 {doc} {rank} {score:.6f} {tag}\n")


def accuracy_at_1(predictions: Iterable[tuple[str, str | None]]) -> float:
    """Share of (gold, predicted) pairs that agree."""
    pairs = list(predictions)
    return _mean([1.0 if gold == pred else 0.0 for gold, pred in pairs])

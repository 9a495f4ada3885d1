"""Retrieval metrics and evaluation runs on labelled data (formats of the shared eval README)."""

from __future__ import annotations

import json
import math
from collections import defaultdict
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from shopguide.errors import UserFacingError


def read_qrels(path: Path) -> dict[str, dict[str, int]]:
    """TREC qrels: query id → {doc id: grade}; a malformed line raises `UserFacingError` naming it."""
    qrels: dict[str, dict[str, int]] = defaultdict(dict)
    with open_labelled(path) as fh:
        for number, line in enumerate(fh, start=1):
            parts = line.split()
            if not parts:
                continue
            try:
                if len(parts) < 4:
                    raise ValueError
                grade = float(parts[3])
                if not grade.is_integer():
                    raise ValueError
            except ValueError:
                raise UserFacingError(f"{path}:{number}: expected `QUERY_ID 0 DOC_ID GRADE` with a whole-number "
                                      f"grade, got {line.strip()[:80]!r}") from None
            qrels[parts[0]][parts[2]] = int(grade)
    return dict(qrels)


def read_labelled(path: Path, fields: tuple[str, ...]) -> list[dict[str, Any]]:
    """Objects of a labelled JSONL file with every one of `fields`; ids become strings, as in qrels files.

    A line that is not a JSON object or lacks a field raises `UserFacingError` naming file and line.
    """
    out: list[dict[str, Any]] = []
    for number, item, error in jsonl_lines(path):
        if error:
            raise UserFacingError(f"{path}:{number}: {error}")
        missing = [f for f in fields if not isinstance(item, dict) or item.get(f) is None]
        if missing:
            raise UserFacingError(f"{path}:{number}: missing {', '.join(repr(f) for f in missing)}")
        for key in fields:
            if key == "id" or key.endswith("_id"):
                item[key] = str(item[key])
        out.append(item)
    return out


def jsonl_lines(path: Path) -> Iterator[tuple[int, Any, str | None]]:
    """(line number, parsed value, None) per non-blank line, or (line number, None, why) if it is not JSON."""
    with open_labelled(path) as fh:
        for number, line in enumerate(fh, start=1):
            if not line.strip():
                continue
            try:
                yield number, json.loads(line), None
            except json.JSONDecodeError as exc:
                yield number, None, f"invalid JSON ({exc.msg})"


def open_labelled(path: Path):
    """A labelled file for reading (a BOM is skipped); a missing or unreadable one raises `UserFacingError`."""
    try:
        return Path(path).open(encoding="utf-8-sig")
    except OSError as exc:
        raise UserFacingError(f"{path}: cannot read ({exc.strerror or exc})") from None


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

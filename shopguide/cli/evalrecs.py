"""`shopguide eval recommend`: train on order lines, recommend for held-out customers, print the metrics."""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from pathlib import Path

from knowledge.evaluate import read_labelled, read_qrels, write_run
from knowledge.order_lines import LinesReport, read_order_csv
from knowledge.recommend_orders import OrderRecommender

TOP = 100


def ndcg_binary(ranked: list[str], relevant: set[str], k: int = 10) -> float:
    """nDCG@k with gain 1 for a relevant product, log2 discount."""
    dcg = sum(1.0 / math.log2(rank + 2) for rank, pid in enumerate(ranked[:k]) if pid in relevant)
    ideal = sum(1.0 / math.log2(rank + 2) for rank in range(min(k, len(relevant))))
    return dcg / ideal if ideal else 0.0


def metrics(runs: dict[str, list[str]], qrels: dict[str, dict[str, int]]) -> dict[str, float | int]:
    """nDCG@10, HR@10 and Recall@20 averaged over the customers with a relevant product."""
    nd, hr, rc = [], [], []
    for user, ranked in runs.items():
        relevant = {pid for pid, grade in qrels.get(user, {}).items() if grade >= 1}
        if not relevant:
            continue
        nd.append(ndcg_binary(ranked, relevant))
        hr.append(1.0 if relevant & set(ranked[:10]) else 0.0)
        rc.append(len(relevant & set(ranked[:20])) / len(relevant))
    n = len(nd)
    mean = lambda xs: round(sum(xs) / n, 4) if n else 0.0  # noqa: E731
    return {"ndcg@10": mean(nd), "hr@10": mean(hr), "recall@20": mean(rc), "users": n}


def main(args: argparse.Namespace) -> int:
    """Train on `--interactions`, rank the top 100 for each of `--users`, score against `--qrels`."""
    products = {p["id"] for p in read_labelled(Path(args.products), ("id",))}
    users = [u["id"] for u in read_labelled(Path(args.users), ("id",))]
    qrels = read_qrels(Path(args.qrels))
    report = LinesReport()
    lines = list(read_order_csv(Path(args.interactions), known_products=products, report=report))
    for problem in report.problems[:10]:
        print(f"rejected {problem}", file=sys.stderr)
    if len(report.problems) > 10:
        print(f"... and {len(report.problems) - 10} more rejected lines", file=sys.stderr)
    model = OrderRecommender.train(lines, ranker=not args.no_ranker)
    start = time.perf_counter()
    scored = {u: model.recommend(u, TOP) for u in users}
    seconds = time.perf_counter() - start
    runs = {u: [s.product_id for s in recs] for u, recs in scored.items()}
    out = {**metrics(runs, qrels), "lines": report.read, "rejected": len(report.problems),
           "model": "blend" if model.ranker is None else "ranker",
           "train_s": round(model.report.seconds, 1), "ms_per_user": round(1000 * seconds / max(1, len(users)), 2)}
    if args.run_out:
        write_run(Path(args.run_out), {u: [(s.product_id, s.score) for s in recs] for u, recs in scored.items()},
                  f"shopguide-{out['model']}")
    if args.json:
        print(json.dumps(out))
    else:
        print(f"recommend ({out['model']}): nDCG@10 {out['ndcg@10']:.4f}  HR@10 {out['hr@10']:.4f}  "
              f"Recall@20 {out['recall@20']:.4f}  over {out['users']} customers; trained on {out['lines']} lines "
              f"({out['rejected']} rejected) in {out['train_s']}s; {out['ms_per_user']} ms a customer")
    return 0

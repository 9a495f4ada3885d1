"""`shopguide bench recommend`: training time and recommendation latency on the retail order history."""

from __future__ import annotations

import random
import time
from typing import Any

from shopguide.bench.common import BenchContext, load_average, summarise
from shopguide.errors import UserFacingError

CUSTOMERS = 500  # customers asked for recommendations (a fixed sample)
PRODUCTS = 200  # products asked "bought with"


def run_recommend(ctx: BenchContext) -> dict[str, Any]:
    """Train on `EVAL_DIR/retail/train.csv`, then time recommendations, co-purchases and popularity."""
    from pathlib import Path

    from knowledge.order_lines import LinesReport, read_order_csv
    from knowledge.recommend_orders import OrderRecommender

    path = Path(ctx.eval_dir) / "retail" / "train.csv"
    if not path.exists():
        raise UserFacingError(f"no order history at {path} (see --eval-dir)")
    report = LinesReport()
    start = time.perf_counter()
    lines = list(read_order_csv(path, report=report))
    read_s = time.perf_counter() - start
    wall, cpu = time.perf_counter(), time.process_time()
    model = OrderRecommender.train(lines)
    train_s, train_cpu_s = time.perf_counter() - wall, time.process_time() - cpu
    rng = random.Random(0)
    customers = rng.sample(model.customers, min(CUSTOMERS, len(model.customers)))
    products = rng.sample(model.items, min(PRODUCTS, len(model.items)))
    model.recommend(customers[0], 10)  # first call loads the thread controller
    recommend = _time(lambda c: model.recommend(c, 10), customers)
    bought_with = _time(lambda p: model.bought_with(p, 10), products)
    popular = _time(lambda _: model.recommend(None, 10), range(100))
    return {"lines": report.read, "customers": len(model.customers), "products": len(model.items),
            "read_s": round(read_s, 2), "train_s": round(train_s, 2), "train_cpu_s": round(train_cpu_s, 2),
            "ranker_rows": model.report.ranker_rows, "recommend_s": recommend, "bought_with_s": bought_with,
            "cold_start_s": popular, "load_average": load_average()}


def _time(call, args) -> dict[str, float | int]:
    times = []
    for a in args:
        t = time.perf_counter()
        call(a)
        times.append(time.perf_counter() - t)
    return summarise(times, digits=5)


def rows(r: dict[str, Any]) -> list[tuple[str, str]]:
    """The readable lines of the section."""
    def ms(d: dict[str, Any]) -> str:
        return f"p50 {d['p50'] * 1000:.1f} ms · p95 {d['p95'] * 1000:.1f} ms · max {d['max'] * 1000:.1f} ms (n={d['n']})"

    return [("order history", f"{r['lines']:,} lines, {r['customers']:,} customers, {r['products']:,} products "
                              f"(read in {r['read_s']} s)"),
            ("training", f"{r['train_s']} s wall, {r['train_cpu_s']} s CPU ({r['ranker_rows']:,} ranker rows)"),
            ("recommend for a customer (top 10)", ms(r["recommend_s"])),
            ("bought with a product (top 10)", ms(r["bought_with_s"])),
            ("cold start (popular this month)", ms(r["cold_start_s"])),
            ("load average during the run", " / ".join(str(x) for x in r["load_average"]))]

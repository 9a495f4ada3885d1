"""The order-history recommender: reading order lines, training, the three uses, the cache, the eval command."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

import pytest

from shopguide.cli.evalrecs import metrics, ndcg_binary
from knowledge.order_lines import LinesReport, OrderLine, read_order_csv
from knowledge.recommend_orders import OrderRecommender, content_hash, load_or_train
from shopguide.cli import main as cli_main

START = datetime(2024, 1, 1, 9, 0)


def shop_lines(customers: int = 60, orders: int = 4) -> list[OrderLine]:
    """A small shop: everyone rebuys their own staple, and A is always bought with B."""
    lines = []
    for c in range(customers):
        for o in range(orders):
            when = START + timedelta(days=7 * o + c % 5)
            lines.append(OrderLine(f"c{c}", f"staple{c % 6}", when, 1))
            if (c + o) % 2 == 0:
                lines += [OrderLine(f"c{c}", "A", when, 2), OrderLine(f"c{c}", "B", when, 1)]
            else:
                lines.append(OrderLine(f"c{c}", f"extra{(c * o) % 9}", when, 1))
    return lines


@pytest.fixture(scope="module")
def model() -> OrderRecommender:
    return OrderRecommender.train(shop_lines())


def test_bought_with_counts_orders_holding_both(model):
    top = model.bought_with("A", 3)
    assert top[0].product_id == "B"
    expected = sum(1 for c in range(60) for o in range(4) if (c + o) % 2 == 0)
    assert int(top[0].score) == expected
    assert model.bought_with("no-such-product") == []
    assert all(s.product_id != "B" for s in model.bought_with("A", 3, allowed=lambda pid: pid != "B"))


def test_known_customer_gets_their_repeat_buy_first_and_never_an_excluded_one(model):
    recs = model.recommend("c7", 5)
    assert len(recs) == 5 and recs[0].product_id == "staple1"
    recs = model.recommend("c7", 5, allowed=lambda pid: pid != "staple1")
    assert "staple1" not in [s.product_id for s in recs] and len(recs) == 5


def test_unknown_customer_gets_the_recent_popular_products(model):
    cold = model.recommend("stranger", 3)
    assert [s.product_id for s in cold] == [s.product_id for s in model.popular(3)]
    assert cold[0].product_id in {"A", "B"}
    seeded = model.recommend("stranger", 3, seeds={"A": 1.0}, exclude={"A"})  # in-chat interest alone personalises
    assert seeded[0].product_id == "B"


def test_the_ranker_learns_from_held_back_orders(model):
    assert model.ranker is not None and model.report.ranker_rows > 0


def test_a_shop_without_repeat_customers_still_trains_with_the_fixed_blend():
    lines = [OrderLine(f"c{i}", f"p{i % 3}", START + timedelta(hours=i), 1) for i in range(10)]
    m = OrderRecommender.train(lines)
    assert m.ranker is None and m.recommend("c1", 2)
    assert OrderRecommender.train([]).recommend("anyone", 3) == []


def test_top_sellers_count_orders_in_the_period(model):
    latest = model.latest
    recent = model.top_sellers(latest - 3 * 86400, 2)
    assert recent and all(s.score > 0 for s in recent)
    assert model.top_sellers(latest + 1) == []


def test_csv_reader_reports_bad_lines_and_keeps_the_rest(tmp_path):
    path = tmp_path / "orders.csv"
    path.write_text("user_id,product_id,timestamp,quantity\n"
                    "u1,p1,2024-01-01T10:00:00,2\n"
                    "u1,p9,2024-01-01T10:00:00,1\n"
                    "u2,p1,yesterday,1\n"
                    "u2,p2,2024-01-02T10:00:00+02:00,lots\n"
                    "u2,,2024-01-02T10:00:00,1\n"
                    "u2,p2,2024-01-02T10:00:00+02:00,3\n", encoding="utf-8")
    report = LinesReport()
    lines = list(read_order_csv(path, known_products={"p1", "p2"}, report=report))
    assert [(l.customer, l.product_id, l.quantity) for l in lines] == [("u1", "p1", 2.0), ("u2", "p2", 3.0)]
    assert lines[1].timestamp == datetime(2024, 1, 2, 8, 0)  # converted to UTC
    assert [p.split(": ", 1)[0] for p in report.problems] == [f"{path}:{n}" for n in (3, 4, 5, 6)]
    assert "unknown product 'p9'" in report.problems[0] and "not ISO-8601" in report.problems[1]
    assert report.summary() == "2 order lines read, 4 rejected"


def test_model_is_cached_by_content_and_retrained_when_orders_change(tmp_path):
    lines = shop_lines(20, 3)
    first = load_or_train(lines, tmp_path)
    files = list((tmp_path / "recs").glob("*.pkl"))
    assert len(files) == 1
    again = load_or_train(iter(lines), tmp_path)
    assert again.report.seconds == first.report.seconds  # loaded, not retrained
    changed = lines + [OrderLine("c0", "A", START + timedelta(days=90), 1)]
    assert content_hash(changed)[0] != content_hash(lines)[0]
    load_or_train(changed, tmp_path)
    assert len(list((tmp_path / "recs").glob("*.pkl"))) == 2
    files[0].write_bytes(b"not a pickle")
    assert load_or_train(lines, tmp_path).recommend("c1", 3)  # a broken cache file is retrained


def test_metrics_binary_ndcg_hit_rate_and_recall():
    assert ndcg_binary(["a", "b"], {"a"}) == 1.0
    assert ndcg_binary(["x", "a"], {"a", "b"}) == pytest.approx((1 / 1.5849625) / (1 + 1 / 1.5849625), rel=1e-4)
    m = metrics({"u1": ["a", "x"], "u2": ["y"], "u3": ["z"]}, {"u1": {"a": 1, "b": 1}, "u2": {"q": 1}})
    assert m == {"ndcg@10": round(1 / (1 + 1 / 1.5849625) / 2, 4), "hr@10": 0.5, "recall@20": 0.25, "users": 2}


def test_eval_recommend_command_prints_metrics_and_writes_a_run(tmp_path, capsys):
    lines = shop_lines(30, 4)
    train = tmp_path / "train.csv"
    rows = ["user_id,product_id,timestamp,quantity"] + [f"{l.customer},{l.product_id},{l.timestamp.isoformat()},{l.quantity}"
                                                        for l in lines] + ["c1,ghost,2024-01-01T00:00:00,1"]
    train.write_text("\n".join(rows) + "\n", encoding="utf-8")
    products = tmp_path / "products.jsonl"
    ids = sorted({l.product_id for l in lines})
    products.write_text("\n".join(json.dumps({"id": p, "title": p}) for p in ids) + "\n", encoding="utf-8")
    users = tmp_path / "users.jsonl"
    users.write_text('{"id": "c3"}\n{"id": "c4"}\n', encoding="utf-8")
    qrels = tmp_path / "qrels.txt"
    qrels.write_text("c3 0 staple3 1\nc4 0 A 1\n", encoding="utf-8")
    run = tmp_path / "run.txt"
    code = cli_main(["eval", "recommend", "--products", str(products), "--interactions", str(train), "--users", str(users),
                     "--qrels", str(qrels), "--run-out", str(run), "--json"])
    out = capsys.readouterr()
    assert code == 0
    result = json.loads(out.out)
    assert result["users"] == 2 and result["rejected"] == 1 and result["hr@10"] == 1.0
    assert "unknown product 'ghost'" in out.err
    first = run.read_text().splitlines()[0].split()
    assert first[0] in {"c3", "c4"} and first[1] == "Q0" and first[3] == "1" and len(first) == 6


def test_store_shaped_lines_with_text_times_train_and_lines_without_a_time_are_skipped():
    rows = [(f"user:{c}", f"p{(c + o) % 4}", f"2024-02-0{o + 1}T10:00:00", 1) for c in range(8) for o in range(3)]
    rows.append(("user:x", "p1", None, 1))
    rows.append(("user:y", "p2", "not a time", 1))
    m = OrderRecommender.train(rows)
    assert m.report.lines == 24 and not m.knows("user:x") and m.recommend("user:1", 2)

"""`shopguide bench` on tiny stores: every section yields well-formed figures (speed is never asserted)."""

from __future__ import annotations

import io
import json
import math
import shutil
from dataclasses import replace
from pathlib import Path

import pytest

from shopguide.bench import SECTIONS, print_table, run_sections, select_sections, targets
from shopguide.bench.common import BenchContext, Catalog, Scale, percentile, summarise
from shopguide.bench.dialogue import SCRIPT, interleave
from shopguide.errors import UserFacingError
from shopguide.settings import Settings

DEMO_PRODUCTS = Path(__file__).resolve().parent.parent / "shopguide" / "demo" / "products.jsonl"
TINY = Scale(turn_limit=14, turns_per_user=3, llm_prompts=2, llm_rounds=1, llm_tokens=8, search_queries=8,
             startup_runs=1, telegram_searches=3)


@pytest.fixture(scope="module")
def bench_ctx(tmp_path_factory, embedder, faq_embedder, document_embedder, chat_worker, demo_store_dir) -> BenchContext:
    """A bench context on a copy of the demo store, a 20-product catalog and the session's models."""
    root = tmp_path_factory.mktemp("bench")
    settings = Settings(data_dir=root / "data", _env_file=None)
    shutil.copytree(demo_store_dir, root / "data" / "bench" / "demo")
    subset = root / "subset.jsonl"
    subset.write_text("".join(DEMO_PRODUCTS.read_text(encoding="utf-8").splitlines(keepends=True)[:20]), encoding="utf-8")
    queries = root / "queries.jsonl"
    queries.write_text("".join(json.dumps({"id": f"q{i}", "text": t}) + "\n" for i, t in enumerate(
        ["hiking boots", "daypack", "warm jacket", "tent", "merino socks", "stove", "sunglasses", "sleeping bag"])))
    return BenchContext(settings, users=2, scale=TINY, large=Catalog("subset", subset, queries), embedder=embedder,
                        faq_embedder=faq_embedder, document_embedder=document_embedder, worker=chat_worker, show_progress=False)


def finite_numbers(data, path="") -> list[str]:
    """Paths of numbers in `data` that are negative, NaN or infinite (differences excepted)."""
    bad = []
    if isinstance(data, dict):
        for key, value in data.items():
            if not key.endswith("_overhead_s"):  # ours minus raw: may be below zero
                bad += finite_numbers(value, f"{path}.{key}")
    elif isinstance(data, list):
        for i, value in enumerate(data):
            bad += finite_numbers(value, f"{path}[{i}]")
    elif isinstance(data, (int, float)) and not isinstance(data, bool):
        if not math.isfinite(data) or data < 0:
            bad.append(path)
    return bad


def check_dist(d: dict) -> None:
    assert set(d) == {"n", "mean", "p50", "p95", "max"}
    assert d["n"] > 0 and 0 <= d["p50"] <= d["p95"] <= d["max"]


def test_statistics_and_section_selection():
    assert percentile([1, 2, 3, 4], 50) == 2.5 and percentile([5], 95) == 5 and percentile([], 50) == 0.0
    assert summarise([0.1, 0.3, 0.2])["p50"] == 0.2
    assert select_sections([]) == [s for s in SECTIONS if s != "scale"]  # scale runs only when named
    assert select_sections(["scale"]) == ["scale"]
    assert select_sections(["llm", "turn"]) == ["turn", "llm"]
    with pytest.raises(UserFacingError):
        select_sections(["nope"])
    full = interleave(SCRIPT)
    assert len(full) >= 50 and len({u for u, _ in full}) >= 5


def test_turn_llm_and_concurrency(bench_ctx):
    result = run_sections(bench_ctx, ["turn", "llm", "concurrency"])
    assert not finite_numbers({k: v for k, v in result.items() if k in ("turn", "llm", "concurrency")})
    turn = result["turn"]
    assert "error" not in turn, turn
    assert turn["turns"] == TINY.turn_limit and turn["errors"] == 0 and len(turn["samples"]) == TINY.turn_limit
    check_dist(turn["overall_s"])
    assert sum(d["n"] for d in turn["by_intent"].values()) == TINY.turn_limit
    assert "search" in turn["by_intent"]
    llm = result["llm"]
    assert "error" not in llm, llm
    assert llm["ours"]["calls"] == llm["raw"]["calls"] == TINY.llm_prompts * TINY.llm_rounds
    assert llm["ours"]["tokens"] > 0 and llm["raw"]["tokens"] > 0 and llm["ratio"] > 0
    check_dist(llm["ours"]["ttft_s"])
    c = result["concurrency"]
    assert "error" not in c, c
    assert c["users"] == 2 and c["turns"] == 2 * TINY.turns_per_user == c["answered"]
    assert c["errors"] == 0 and c["lost"] == 0 and c["misrouted"] == 0
    assert c["throughput_turns_per_s"] > 0
    check_dist(c["latency_s"])
    names = {t["target"] for t in result["targets"]}
    assert {"search turn p50", "every intent p95", "generation vs raw llama.cpp"} <= names
    out = io.StringIO()
    print_table(result, out)
    assert "targets" in out.getvalue() and "concurrency" in out.getvalue()
    json.dumps(result)


def test_search_and_ingest_with_cache(bench_ctx):
    ctx = replace(bench_ctx, store="subset")
    first = run_sections(ctx, ["ingest", "search"])
    ing, search = first["ingest"], first["search"]
    assert "error" not in ing and "error" not in search, (ing, search)
    assert ing["rows"] == 20 and ing["stored_products"] == 20 and ing["all_ingested"] and ing["kept_as_cache"]
    assert ing["chunks"] >= 20 and ing["ratio"] > 0
    assert search["products"] == 20 and search["queries"] == 8
    assert 50 < ing["process_peak_rss_mb"] <= search["process_peak_rss_mb"] < 24 * 1024  # a peak never falls
    for key in ("latency_s", "without_embedding_s", "embedding_only_s"):
        check_dist(search[key])
    spelling = search["spelling"]
    check_dist(spelling["per_query_s"])
    assert spelling["index_s"] > 0 and 0 <= spelling["queries_changed"] <= search["queries"]
    again = run_sections(ctx, ["ingest"])["ingest"]
    assert again["ingested"] == 20 and not again["kept_as_cache"]  # measured on a fresh temp store
    demo = run_sections(bench_ctx, ["search"])["search"]
    assert demo["store"] == "demo" and demo["queries"] == TINY.search_queries
    assert not finite_numbers([ing, search, again, demo])
    assert not list((ctx.bench_dir / "tmp").glob("ingest-*"))  # temp stores are removed


def test_scale_grows_the_catalog_from_the_base_vectors(bench_ctx):
    from shopguide.bench.scale import parse_sizes

    assert parse_sizes("55k, 250k,1m") == [55_000, 250_000, 1_000_000] and parse_sizes("30") == [30]
    with pytest.raises(UserFacingError):
        parse_sizes("lots")
    ctx = replace(bench_ctx, store="subset", scale_sizes=[20, 45])
    result = run_sections(ctx, ["scale"])
    scale = result["scale"]
    assert "error" not in scale, scale
    small, big = scale["sizes"]
    assert small["build"]["products"] == 20 and big["build"]["products"] == 45
    assert big["build"]["embedded_afresh"] == 0  # every variant reused its base product's vectors
    assert big["search"]["products"] == 45 and big["search"]["queries"] == TINY.search_queries
    check_dist(big["search"]["latency_s"])
    assert big["search"]["peak_rss_mb"] > 50 and big["search"]["disk_mb"] > 0
    assert not finite_numbers(scale)
    again = run_sections(ctx, ["scale"])["scale"]["sizes"][1]["build"]
    assert again["reused"] and again["products"] == 45  # a complete store is kept between runs
    checked = [t for t in targets(result, ctx) if t["target"].startswith("search p95 at 45")]
    assert checked and checked[0]["met"] in (True, False)
    out = io.StringIO()
    print_table(result, out)
    assert "45 products" in out.getvalue()


def test_scale_on_the_database_server(bench_ctx, pg_url, monkeypatch):
    """`bench scale` with SHOPGUIDE_DATABASE_URL: the grown store's records on the server (the base stays the
    embedded store it reads vectors from), and the records' size on the server reported."""
    from pydantic import SecretStr

    monkeypatch.setenv("SHOPGUIDE_DATABASE_URL", pg_url)  # the build and search children read it
    settings = bench_ctx.settings.model_copy(update={"database_url": SecretStr(pg_url)})
    ctx = replace(bench_ctx, settings=settings, store="subset", scale_sizes=[45])
    embedded = ctx.bench_dir / "scale-subset-45"  # an embedded store of that size, whether or not built before
    embedded.mkdir(parents=True, exist_ok=True)
    (embedded / "mine").write_text("kept")
    scale = run_sections(ctx, ["scale"])["scale"]
    assert "error" not in scale, scale
    assert scale["stores"] == "PostgreSQL"
    (row,) = scale["sizes"]
    assert row["build"]["products"] == 45 and row["build"]["embedded_afresh"] == 0
    assert row["search"]["products"] == 45 and row["search"]["server_records_mb"] > 0
    assert row["build"]["vacuum_s"] >= 0  # the grown tables vacuumed and analysed before the searches
    assert (embedded / "mine").read_text() == "kept"  # the servers' build leaves the embedded store alone
    assert not (ctx.bench_dir / "scale-subset-45-servers" / "catalog.db").exists()  # no SQLite file for the records


def test_memory_and_startup(bench_ctx, tmp_path):
    # one memory child (the large-store child is the same code on another store): keeps the test short
    ctx = replace(bench_ctx, store="subset", large=Catalog("absent", tmp_path / "absent.jsonl"))
    result = run_sections(ctx, ["memory", "startup"])
    mem, start = result["memory"], result["startup"]
    assert "error" not in mem and "error" not in start, (mem, start)
    assert mem["startup"]["peak_rss_mb"] > 0 and mem["startup"]["replies"] >= 2
    assert mem["startup"]["products"] == 178 and mem["startup"]["peak_rss_bytes"] > 0
    assert "not found" in mem["store"]["skipped"]
    assert start["ok"] and start["llm_loads"] <= 1 and len(start["runs"]) == len(start["first_search"]) == 1
    assert start["runs"][0]["intent"] == "greeting" and start["first_search"][0]["intent"] == "search"
    check_dist(start["first_reply_s"])
    check_dist(start["first_search_s"])
    assert not finite_numbers([mem, start])
    checked = {t["target"]: t for t in targets(result, ctx)}
    assert checked["startup to first reply"]["met"] in (True, False)
    assert checked["startup to first search reply"]["met"] in (True, False)


def test_telegram_section_runs_the_bot_and_prints_its_figures(bench_ctx):
    result = run_sections(bench_ctx, ["telegram"])
    tg = result["telegram"]
    assert "error" not in tg, tg
    assert tg["searches"] == tg["answered"] == TINY.telegram_searches and len(tg["turns"]) == 3
    for turn in tg["turns"]:
        assert turn["messages"] >= 2  # an intro, then cards with prices
        assert 0 < turn["first_message_s"] <= turn["first_price_s"] <= turn["last_message_s"]
    check_dist(tg["first_price_s"])
    check_dist(tg["turn_s"])
    assert tg["ready_s"] > 0 and tg["exit_code"] == 0, tg["stderr"]
    assert tg["warmup"] and tg["warmup"].startswith("warmed up in")
    assert tg["llm_loads"] == 0  # the connecting sentence is off by default, so the model is never loaded
    assert not finite_numbers(tg)
    checked = {t["target"]: t for t in result["targets"]}
    assert checked["search turn through Telegram p50"]["met"] in (True, False)
    out = io.StringIO()
    print_table(result, out)
    assert "first message with a price" in out.getvalue() and "search turn through Telegram p95" in out.getvalue()
    json.dumps(result)


def test_turn_through_the_database_server(bench_ctx, pg_url):
    """With SHOPGUIDE_DATABASE_URL the turn section's store and memory are on the server: the store in a schema of
    its own, kept for the next run, the memory in a throwaway schema, dropped after."""
    import psycopg

    from pydantic import SecretStr

    settings = bench_ctx.settings.model_copy(update={"database_url": SecretStr(pg_url)})
    ctx = replace(bench_ctx, settings=settings, scale=replace(TINY, turn_limit=6))
    turn = run_sections(ctx, ["turn"])["turn"]
    assert "error" not in turn, turn
    assert turn["records"] == "postgresql" and turn["errors"] == 0 and turn["turns"] == 6
    with psycopg.connect(pg_url) as conn:
        schemas = {r[0] for r in conn.execute("SELECT nspname FROM pg_namespace")}
        products = conn.execute('SELECT count(*) FROM "bench_demo".products').fetchone()[0]
    assert "bench_demo" in schemas and not any(s.startswith("bench_memory_") for s in schemas)
    assert products == sum(1 for line in DEMO_PRODUCTS.read_text(encoding="utf-8").splitlines() if line.strip())

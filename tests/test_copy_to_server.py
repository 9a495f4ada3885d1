"""`shopguide database upload`: a single-machine store's memory.db and catalog.db copied onto a real PostgreSQL
(tests/servers.py); the server then answers as the SQLite files did (preferences, handoffs, claims, events, the
same keyword hits with the same BM25 scores), refuses a non-empty target unless --replace, and a bad URL is one
clear line naming SHOPGUIDE_DATABASE_URL with nothing written."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import psycopg
import pytest

from bot.claims import Claims
from bot.handoff_store import HandoffStore
from bot.memory import Memory
from knowledge.base import KnowledgeBase
from knowledge.ingest import ingest_file
from knowledge.order_ingest import ingest_orders
from knowledge.search import ProductSearch, fts_query
from shopguide.cli import main

FIXTURES = Path(__file__).parent / "fixtures"
USER = "telegram:42"


@pytest.fixture(scope="module")
def built_store(tmp_path_factory, embedder, faq_embedder, document_embedder) -> Path:
    """A data directory as one machine leaves it: a small catalog (products, orders) and memory rows of each kind."""
    data = tmp_path_factory.mktemp("single-machine") / "data"
    kb = KnowledgeBase(data, embedder, faq_embedder, document_embedder)
    ingest_file(kb, "product", FIXTURES / "ingest" / "products_good.jsonl")
    ingest_file(kb, "product", FIXTURES / "shop" / "shopify_products.csv", currency="EUR")
    ingest_file(kb, "faq", FIXTURES / "ingest" / "faqs.csv")
    ingest_file(kb, "document", FIXTURES / "ingest" / "documents.jsonl")
    ingest_orders(kb.store, FIXTURES / "orders" / "shopify_orders.csv")
    kb.close()
    memory = Memory(data / "memory.db")
    memory.set_preference(USER, "budget", {"max": 120}, "under 120 please")
    memory.log_event(USER, "telegram", "search", "a rain jacket", 3, True)
    memory.record(USER, "view", "p1")
    HandoffStore(memory.db, memory.lock).open(user_key=USER, platform="telegram", chat_id="42", user_name="Ann",
                                              lang="en", origin="command", reason="where is my parcel", context={},
                                              desk="slack", mode="person")
    claims = Claims.on(memory, worker="w1")
    assert claims.claim("telegram:update:7", user_key=USER, seq=7) == "claimed"
    claims.complete("telegram:update:7")
    memory.close()
    return data


@pytest.fixture
def data_dir(built_store, tmp_path) -> Path:
    path = tmp_path / "data"
    shutil.copytree(built_store, path)
    return path


def upload(monkeypatch, capsys, data_dir: Path, url: str, *extra: str) -> tuple[int, str, str]:
    monkeypatch.setenv("SHOPGUIDE_DATA_DIR", str(data_dir))
    monkeypatch.setenv("SHOPGUIDE_DATABASE_URL", url)
    code = main(["database", "upload", *extra])
    out, err = capsys.readouterr()
    return code, out, err


def test_the_server_answers_as_the_sqlite_files_did(monkeypatch, capsys, data_dir, pg_url, embedder, faq_embedder,
                                                    document_embedder):
    code, out, err = upload(monkeypatch, capsys, data_dir, pg_url, "--json")
    assert code == 0, err
    printed = json.loads(out)
    report = {s["store"]: s for s in printed["stores"]}
    assert report["memory"]["copied"]["preferences"] == 1 and report["memory"]["copied"]["handoffs"] == 1
    assert report["memory"]["copied"]["delivery_claims"] == 1 and report["memory"]["copied"]["events"] == 1
    assert report["catalog"]["copied"]["products"] >= 5 and report["catalog"]["copied"]["orders"] == 2
    assert report["catalog"]["copied"]["faqs"] > 0 and report["catalog"]["copied"]["documents"] > 0
    assert report["catalog"]["derived"]["keyword_postings"] > 0 and "products_fts" in report["catalog"]["left"]
    assert "vectors upload" in printed["vectors"]

    on_file, on_server = Memory(data_dir / "memory.db"), Memory(pg_url)
    try:
        assert on_server.preferences(USER) == on_file.preferences(USER)
        assert on_server.recent_events(USER) == on_file.recent_events(USER)
        handoff = HandoffStore(on_server.db, on_server.lock).active(USER)
        assert handoff == HandoffStore(on_file.db, on_file.lock).active(USER)
        assert HandoffStore(on_server.db, on_server.lock).transcript(handoff.id) == \
            HandoffStore(on_file.db, on_file.lock).transcript(handoff.id)
        assert Claims.on(on_server, worker="w2").claim("telegram:update:7") == "done"  # handled once, also there
        on_server.log_event(USER, "telegram", "search", "boots", 1, True)  # new ids continue after the copied ones
        assert [e["text"] for e in on_server.recent_events(USER)] == ["a rain jacket", "boots"]
    finally:
        on_file.close()
        on_server.close()

    stores = [KnowledgeBase(data_dir, embedder, faq_embedder, document_embedder, records=records)
              for records in (None, pg_url)]
    try:
        sqlite, pg = (ProductSearch(kb) for kb in stores)
        titles = [p.title for p in stores[0].store.all_products()]
        for query in [*titles, "jacket waterproof"]:
            want, got = sqlite._keyword(fts_query(query), _no_filter(), 50), pg._keyword(fts_query(query), _no_filter(), 50)
            assert set(got) == set(want), query
            for pid, score in want.items():
                assert got[pid] == pytest.approx(score, rel=1e-9, abs=1e-9), (query, pid)
            assert pg.search(query, top_k=5).ids() == sqlite.search(query, top_k=5).ids(), query
        assert stores[1].store.orders.find("1043", "jane.doe@example.com") == stores[0].store.orders.find(
            "1043", "jane.doe@example.com")
        with stores[1].store.lock:  # the postings were filled in bulk: their triggers are on again for later writes
            assert {r[0] for r in stores[1].store.db.execute(
                "SELECT tgenabled FROM pg_trigger WHERE tgname LIKE '%_postings'").fetchall()} == {"O"}
            analysed = {r[0] for r in stores[1].store.db.execute(  # vacuumed and analysed once copied
                "SELECT relname FROM pg_stat_user_tables WHERE schemaname = current_schema() "
                "AND last_analyze IS NOT NULL AND last_vacuum IS NOT NULL").fetchall()}
            assert {"products", "keyword_postings", "faqs"} <= analysed
    finally:
        for kb in stores:
            kb.close()


def _no_filter():
    from knowledge.filters import SearchFilters

    return SearchFilters()


def test_a_server_holding_rows_is_refused_unless_replace(monkeypatch, capsys, data_dir, pg_url):
    assert upload(monkeypatch, capsys, data_dir, pg_url)[0] == 0
    memory = Memory(data_dir / "memory.db")
    memory.set_preference(USER, "color", "green", "in green")
    memory.close()

    code, out, err = upload(monkeypatch, capsys, data_dir, pg_url)
    assert code == 1 and "already holds rows" in err and "preferences (1)" in err and "--replace" in err
    server = Memory(pg_url)
    try:
        assert set(server.preferences(USER)) == {"budget"}  # nothing of the refused copy went in
    finally:
        server.close()

    code, out, err = upload(monkeypatch, capsys, data_dir, pg_url, "--replace")
    assert code == 0, err
    assert "after emptying" in out
    server = Memory(pg_url)
    try:
        assert set(server.preferences(USER)) == {"budget", "color"}
        assert server.db.execute("SELECT count(*) FROM handoffs").fetchone()[0] == 1  # replaced, not doubled
    finally:
        server.close()


def test_a_bad_url_is_one_line_naming_the_setting_and_writes_nothing(monkeypatch, capsys, data_dir, pg_url):
    wrong = pg_url.replace("postgres@", "postgres:wrong@").rsplit("/", 1)[0] + "/no_such_database"
    code, out, err = upload(monkeypatch, capsys, data_dir, wrong)
    assert code == 1 and out == ""
    line, = err.strip().splitlines()
    assert "SHOPGUIDE_DATABASE_URL" in line and "no_such_database" in line and "wrong" not in line

    code, out, err = upload(monkeypatch, capsys, data_dir, "postgresql://postgres:secret@127.0.0.1:1/shop")  # no server
    assert code == 1 and len(err.strip().splitlines()) == 1 and "SHOPGUIDE_DATABASE_URL" in err and "secret" not in err

    monkeypatch.delenv("SHOPGUIDE_DATABASE_URL")
    assert main(["database", "upload"]) == 1
    assert "SHOPGUIDE_DATABASE_URL" in capsys.readouterr().err


def test_a_failed_copy_leaves_the_store_empty_on_the_server(monkeypatch, capsys, data_dir, pg_url):
    """A row the server cannot take (text with a NUL byte) stops that store's copy: none of its rows stay."""
    memory = Memory(data_dir / "memory.db")
    memory.log_event("telegram:9", "telegram", "search", "bad\x00text", 0, False)
    memory.close()
    code, out, err = upload(monkeypatch, capsys, data_dir, pg_url)
    assert code == 1 and "nothing of it was written" in err and "SHOPGUIDE_DATABASE_URL" in err
    with psycopg.connect(pg_url) as conn:
        assert conn.execute("SELECT count(*) FROM memory.preferences").fetchone()[0] == 0
        assert conn.execute("SELECT count(*) FROM catalog.products").fetchone()[0] == 0

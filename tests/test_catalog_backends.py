"""The catalog, FAQ, documents and orders on both backends: SQLite (catalog.db, FTS5) and PostgreSQL (schema `catalog`,
tsvector + the same BM25), against a real server (tests/servers.py): ingest idempotency, search with filters, FAQ
answers, document evidence, orders, and no catalog.db written with SHOPGUIDE_DATABASE_URL."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from knowledge import pg_text
from knowledge.base import KnowledgeBase
from knowledge.catalog_profile import catalog_profile, catalog_words
from knowledge.evidence import EvidenceRetriever
from knowledge.faq import FaqMatcher
from knowledge.filters import SearchFilters, best_rated_in_stock, passing
from knowledge.ingest import ingest_file
from knowledge.order_ingest import ingest_orders
from knowledge.search import ProductSearch, fts_query
from knowledge.store import KINDS, CatalogStore

FIXTURES = Path(__file__).parent / "fixtures"


def copy_records(source: CatalogStore, target: CatalogStore) -> None:
    """Every record, its hash and chunk texts, and the meta rows, from one store into another (the vectors stay
    the source's: their chunk ids and hashes are the same)."""
    for kind in KINDS:
        hashes = source.hashes(kind)
        ids = sorted(hashes)
        records = source.get_records(kind, ids)
        with source.lock:
            rows = source.db.execute("SELECT item_id, text FROM chunks WHERE kind = ? ORDER BY item_id, seq",
                                     [kind]).fetchall()
        chunks: dict[str, list[str]] = {}
        for item, text in rows:
            chunks.setdefault(item, []).append(text)
        target.write_items(kind, [(records[i], hashes[i], chunks.get(i, [])) for i in ids])
    with source.lock:
        meta = source.db.execute("SELECT key, value FROM meta").fetchall()
    for key, value in meta:
        target.set_meta(key, value)


@pytest.fixture
def pg_demo(demo_store_dir, demo_kb, embedder, faq_embedder, document_embedder, pg_url, tmp_path):
    """The demo store with its records on PostgreSQL (copied from the SQLite one) and a copy of its vectors."""
    path = tmp_path / "store"
    shutil.copytree(demo_store_dir, path)
    (path / "catalog.db").unlink()
    kb = KnowledgeBase(path, embedder, faq_embedder, document_embedder, records=pg_url)
    copy_records(demo_kb.store, kb.store)
    yield kb
    kb.close()
    assert not (path / "catalog.db").exists()


@pytest.fixture(params=["sqlite", "postgresql"])
def records(request) -> str | None:
    """Where a test's catalog records live: catalog.db under the data directory, then a fresh PostgreSQL database."""
    return None if request.param == "sqlite" else request.getfixturevalue("pg_url")


@pytest.fixture
def kb(tmp_path, embedder, faq_embedder, document_embedder, records):
    base = KnowledgeBase(tmp_path / "kb", embedder, faq_embedder, document_embedder, records=records)
    yield base
    base.close()
    assert (tmp_path / "kb" / "catalog.db").exists() == (records is None)


def test_ingest_is_idempotent_and_updates_the_keyword_index(kb, tmp_path):
    first = ingest_file(kb, "product", FIXTURES / "ingest" / "products_good.jsonl")
    again = ingest_file(kb, "product", FIXTURES / "ingest" / "products_good.jsonl")
    assert (again.added, again.updated, again.unchanged, again.embedded_chunks) == (0, 0, first.added, 0)
    rows = [json.loads(line) for line in (FIXTURES / "ingest" / "products_good.jsonl").read_text().splitlines()
            if line.strip()]
    rows[1]["description"] = "Now with pit zips."
    path = tmp_path / "p.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows[1:]), encoding="utf-8")
    changed = ingest_file(kb, "product", path, prune=True)
    assert (changed.added, changed.updated, changed.unchanged, changed.removed) == (0, 1, len(rows) - 2, 1)
    search = ProductSearch(kb)
    assert search.search("pit zips", mode="keyword").ids()[0] == rows[1]["id"]
    assert search.search(rows[0]["title"], mode="keyword").ids()[:1] != [rows[0]["id"]]  # pruned: gone from the index
    assert kb.store.keyword_known("product", "zip") and not kb.store.keyword_known("product", "zzzqx")
    words = ["zip", "zips", "zzzqx", "pit", "the", "pit-zips", "zip"]  # one probe for all on PostgreSQL
    assert kb.store.keywords_known("product", words) == {w for w in words if kb.store.keyword_known("product", w)}
    assert "zip" in kb.store.keywords_known("product", words)
    assert kb.store.count("product") == len(rows) - 1
    if kb.store.pg:  # the postings the triggers keep are exactly the vectors' stems and counts, after update and prune
        assert _postings(kb.store) == _postings_from_vectors(kb.store) and _postings(kb.store)


def _postings(store: CatalogStore) -> list[tuple]:
    return sorted(store.db.execute("SELECT tbl, stem, id, len, n0, n1, n2 FROM keyword_postings").fetchall())


def _postings_from_vectors(store: CatalogStore) -> list[tuple]:
    counts = ", ".join(f"cardinality(array_positions(u.weights, '{w}'))" for w in "ABC")
    return sorted(store.db.execute(
        " UNION ALL ".join(f"SELECT '{t}', u.lexeme, r.id, r.keyword_len, {counts} FROM {t} r, unnest(r.keywords) u"
                           for t in ("products", "faqs", "documents"))).fetchall())


def test_keyword_scores_are_the_same_on_both_backends(tmp_path, embedder, faq_embedder, document_embedder, pg_url):
    """BM25 from the postings (PostgreSQL) equals FTS5's bm25() (SQLite) on the same records, with and without a
    filter, and a multi-stem phrase still goes through the vectors."""
    stores = [KnowledgeBase(tmp_path / name, embedder, faq_embedder, document_embedder, records=records)
              for name, records in (("sqlite", None), ("pg", pg_url))]
    try:
        for kb in stores:
            ingest_file(kb, "product", FIXTURES / "ingest" / "products_good.jsonl")
        sqlite, pg = (ProductSearch(kb) for kb in stores)
        titles = [p.title for p in stores[0].store.all_products()]
        scored = 0
        for query in [*titles, "jacket waterproof", "zip"]:
            for filters in (SearchFilters(), SearchFilters(max_price=100.0)):
                want, got = sqlite._keyword(fts_query(query), filters, 50), pg._keyword(fts_query(query), filters, 50)
                assert set(got) == set(want), (query, filters)
                for pid, score in want.items():
                    assert got[pid] == pytest.approx(score, rel=1e-9, abs=1e-9), (query, pid)
                scored += len(want)
        assert scored > len(titles)
        phrase = '"' + " ".join(titles[0].split()[:2]) + '"'  # a phrase of two stems: matched through the vectors
        with stores[1].store.lock:
            hits = pg_text.bm25(stores[1].store, "product", phrase)
        assert hits and {i for i, _ in hits} == set(sqlite._keyword(phrase, SearchFilters(), 50))
    finally:
        for kb in stores:
            kb.close()


def test_faqs_documents_and_orders(kb):
    ingest_file(kb, "product", FIXTURES / "shop" / "shopify_products.csv", currency="EUR")
    report = ingest_orders(kb.store, FIXTURES / "orders" / "shopify_orders.csv")
    assert (report.added, report.rejected) == (2, 1)
    again = ingest_orders(kb.store, FIXTURES / "orders" / "shopify_orders.csv")
    assert (again.added, again.updated, again.unchanged) == (0, 0, 2)
    order = kb.store.orders.find("1043", "  jane.doe@EXAMPLE.com ")
    assert order is not None and order.number == "#1043" and order.total == 106.45
    assert [(line.product_id, line.quantity) for line in order.lines] == [("linen-shirt", 1), ("desk-lamp", 2)]
    assert kb.store.orders.find("#1043", "bob@example.com") is None
    assert kb.store.orders.link("telegram:7", "1043", "jane.doe@example.com") is not None
    assert kb.store.orders.linked_customer("telegram:7") == order.customer_key
    assert {p for _, p, _, _ in kb.store.order_lines()} == {"linen-shirt", "desk-lamp"}


# ----- the same answers on both backends (the demo store) --------------------------------------------------------
def _filters(kb: KnowledgeBase) -> list[SearchFilters]:
    """Filters over the demo catalog's own values (read from it, so no catalog word is written here)."""
    products = kb.store.all_products()
    coloured = next(p for p in products if p.colors)
    prices = sorted(p.price for p in products if p.price is not None)
    flagged = next((p, k) for p in products for k, v in p.attributes.items() if v is True)
    texted = next((p, k) for p in products for k, v in p.attributes.items() if isinstance(v, str) and k != "gender")
    return [
        SearchFilters(),
        SearchFilters(max_price=prices[len(prices) // 2]),
        SearchFilters(min_price=prices[len(prices) // 3], max_price=prices[-3]),
        SearchFilters(colors=(coloured.colors[0].upper(),)),
        SearchFilters(exclude_colors=(coloured.colors[0],)),
        SearchFilters(avoid_colors=(coloured.colors[0],)),
        SearchFilters(categories=(coloured.category,), in_stock=True),
        SearchFilters(attributes={flagged[1]: True}),
        SearchFilters(attributes={texted[1]: str(texted[0].attributes[texted[1]]).upper()}),
        SearchFilters(attributes={texted[1]: [str(texted[0].attributes[texted[1]]), "none such"]}),
    ]


def _queries(kb: KnowledgeBase) -> list[str]:
    products = kb.store.all_products()
    return [products[i].title for i in range(0, len(products), max(1, len(products) // 12))] + [
        f"{products[3].category} {products[5].colors[0] if products[5].colors else ''} under 100"]


def test_keyword_scores_are_fts5_bm25_on_postgresql(demo_kb, pg_demo):
    sqlite, pg = ProductSearch(demo_kb), ProductSearch(pg_demo)
    for query in _queries(demo_kb):
        for filters in _filters(demo_kb)[:4]:
            match = fts_query(query)
            want, got = sqlite._keyword(match, filters, 200), pg._keyword(match, filters, 200)
            assert set(got) == set(want), (query, filters)
            for pid, score in want.items():
                assert got[pid] == pytest.approx(score, rel=1e-9, abs=1e-9), (query, pid)


def test_search_with_filters_is_the_same_on_both(demo_kb, pg_demo):
    sqlite, pg = ProductSearch(demo_kb), ProductSearch(pg_demo)
    for filters in _filters(demo_kb):
        for query in _queries(demo_kb)[:6]:
            want, got = sqlite.search(query, filters, top_k=10), pg.search(query, filters, top_k=10)
            assert got.ids() == want.ids(), (query, filters)
            assert got.total == want.total
        assert pg.search("", filters, top_k=20).ids() == sqlite.search("", filters, top_k=20).ids()
        ids = [p.id for p in demo_kb.store.all_products()]
        assert passing(pg_demo.store, ids, filters) == passing(demo_kb.store, ids, filters)
        assert best_rated_in_stock(pg_demo.store, filters, 5) == best_rated_in_stock(demo_kb.store, filters, 5)


def test_catalog_words_faq_and_evidence_are_the_same_on_both(demo_kb, pg_demo):
    def words(store: CatalogStore) -> dict:  # the order of DISTINCT rows is each database's own
        return {k: sorted(v) if isinstance(v, list) else v for k, v in vars(catalog_words(store)).items()}

    assert words(pg_demo.store) == words(demo_kb.store)
    assert catalog_profile(pg_demo.store) == catalog_profile(demo_kb.store)
    assert pg_demo.store.vocabulary() == demo_kb.store.vocabulary()
    sqlite_faq, pg_faq = FaqMatcher(demo_kb), FaqMatcher(pg_demo)
    for faq in list(demo_kb.store.get_faqs().values())[:8]:
        question = faq.question.lower().rstrip("?") + " please"
        assert [(h.faq.id, round(h.score, 9)) for h in pg_faq.rank(question)] == \
               [(h.faq.id, round(h.score, 9)) for h in sqlite_faq.rank(question)]
    sqlite_ev, pg_ev = EvidenceRetriever(demo_kb), EvidenceRetriever(pg_demo)
    with demo_kb.store.lock:
        documented = [r[0] for r in demo_kb.store.db.execute(
            "SELECT product_id FROM documents GROUP BY product_id ORDER BY count(*) DESC LIMIT 4").fetchall()]
    assert documented
    for pid in documented:
        for doc in demo_kb.store.documents_for(pid)[:2]:
            question = " ".join(doc.text.split()[:8])
            want = [(e.id, round(e.score, 9)) for e in sqlite_ev.rank(pid, question)]
            assert [(e.id, round(e.score, 9)) for e in pg_ev.rank(pid, question)] == want
            assert want


def test_open_knowledge_with_a_database_url_writes_no_catalog_file(pg_url, tmp_path, embedder):
    from shopguide.cli.app import open_knowledge
    from shopguide.settings import Settings

    settings = Settings(data_dir=tmp_path / "data", database_url=pg_url, _env_file=None)
    kb = open_knowledge(settings)
    try:
        kb.embedder = embedder
        ingest_file(kb, "product", FIXTURES / "ingest" / "products_good.jsonl")
        assert kb.store.pg and kb.store.count("product") > 0
    finally:
        kb.close()
    assert not list((tmp_path / "data").glob("*.db*"))
    again = CatalogStore(pg_url)  # another worker sees the same records
    try:
        assert again.count("product") > 0
    finally:
        again.close()


def test_the_stores_thesaurus_is_kept_with_its_records(kb, tmp_path):
    """`ingest synonyms`: the store's groups live beside its records on either backend; a re-ingest changes nothing."""
    from knowledge.synonyms import ingest_synonyms, open_thesaurus, store_groups

    ingest_file(kb, "product", FIXTURES / "ingest" / "products_good.jsonl")
    own = tmp_path / "synonyms.txt"
    own.write_text("rain jacket, Regenjacke, veste de pluie, 雨衣\nbroken\n", encoding="utf-8")
    first = ingest_synonyms(kb.store, own)
    again = ingest_synonyms(kb.store, own)
    assert (first.added, first.rejected, again.added, again.unchanged) == (1, 1, 0, 1)
    assert store_groups(kb.store) == [("rain jacket", "regenjacke", "veste de pluie", "雨衣")]
    assert open_thesaurus(kb.store).read("eine Regenjacke", keep=frozenset())[0] == "eine Rain jacket"

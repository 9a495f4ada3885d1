"""The keyword query's budget of rows to score (knowledge/keyword_plan.py) on a small real SQLite FTS5 store:
beyond the budget the rarer terms pick the rows, scored as before; AND first when even the rarest is common."""

from __future__ import annotations

import pytest

from knowledge.keyword_plan import KeywordPlan, TermFrequencies, plan
from knowledge.schema import Product
from knowledge.store import CatalogStore


@pytest.fixture
def store(tmp_path):
    """40 products: "pipe" in 30, "inch" in 20, "brass" in 6, "valve" in 2, "fitting" in 8; "hose" in none."""
    titles = [f"Pipe {i}" + (" inch" if i < 20 else "") + (" brass" if i < 5 else "") for i in range(30)]
    titles += [f"Fitting {i}" for i in range(8)] + ["Brass Check Valve", "Valve"]
    st = CatalogStore(tmp_path / "c.db")
    st.write_items("product", [(Product(id=f"P{i}", title=t), f"h{i}", [t]) for i, t in enumerate(titles)])
    yield st
    st.close()


def rows(st: CatalogStore, expression: str) -> set[str]:
    return {r[0] for r in st.db.execute("SELECT id FROM products_fts WHERE products_fts MATCH ?", [expression])}


def bm25(st: CatalogStore, expression: str) -> dict[str, float]:
    return dict(st.db.execute("SELECT id, bm25(products_fts) FROM products_fts WHERE products_fts MATCH ?",
                              [expression]).fetchall())


def test_frequencies_are_the_index_rows_holding_each_term_with_its_own_stemming(store):
    counts = TermFrequencies(store)(["pipes", "inch", "brass", "valve", "hose"])
    assert counts == {"pipes": 30, "inch": 20, "brass": 6, "valve": 2, "hose": 0}


def test_within_the_budget_every_term_is_ored_as_before(store):
    frequencies = TermFrequencies(store)
    terms = ["brass", "pipe", "inch"]
    assert plan(terms, frequencies, 56) == KeywordPlan('"brass" OR "pipe" OR "inch"')  # 6 + 30 + 20 rows
    assert plan(terms, None, 10) == KeywordPlan('"brass" OR "pipe" OR "inch"')  # no frequencies: nothing read
    assert plan(terms, frequencies, 0) == KeywordPlan('"brass" OR "pipe" OR "inch"')  # budget 0: off
    assert plan(["pipe", "hose"], frequencies, 10) == KeywordPlan('"pipe" OR "hose"')  # one term held: itself


def test_beyond_the_budget_the_rarer_terms_pick_the_rows_and_every_term_scores_them_as_before(store):
    got = plan(["pipe", "brass", "inch", "valve"], TermFrequencies(store), 30)
    everything = '"pipe" OR "brass" OR "inch" OR "valve"'
    assert got == KeywordPlan(f'({everything}) NOT (("pipe") NOT ("brass" OR "inch" OR "valve"))')  # 6+20+2 rows
    scored, before = bm25(store, got.match), bm25(store, everything)
    assert set(scored) == rows(store, '"brass" OR "inch" OR "valve"')  # not "Pipe 25": none of the rarer terms
    assert scored == pytest.approx({pid: before[pid] for pid in scored})  # each kept row's plain-OR score


def test_a_term_no_row_holds_neither_counts_nor_stops_the_others(store):
    got = plan(["hose", "pipe", "valve"], TermFrequencies(store), 10)
    assert got == KeywordPlan('("hose" OR "pipe" OR "valve") NOT (("hose" OR "pipe") NOT ("valve"))')


def test_when_even_the_rarest_term_is_over_the_budget_all_are_required_first(store):
    got = plan(["pipe", "inch"], TermFrequencies(store), 10)
    assert got == KeywordPlan('("pipe" OR "inch") NOT (("pipe") NOT ("inch"))', first='"inch" AND "pipe"')
    queried: list[str] = []

    def query(expression: str, filters, limit: int) -> dict[str, float]:
        queried.append(expression)
        return {pid: 1.0 for pid in sorted(rows(store, expression))[:limit]}

    assert len(got.run(query, None, 20)) == 20 and queried == ['"inch" AND "pipe"']  # enough: nothing else runs
    queried.clear()
    assert len(got.run(query, None, 25)) == 20 and queried == ['"inch" AND "pipe"', got.match]
    thin = plan(["brass", "fitting"], TermFrequencies(store), 4)
    queried.clear()
    assert len(thin.run(query, None, 50)) == 6 and queried == ['"brass" AND "fitting"', thin.match]


def test_a_catalog_too_small_to_exceed_the_budget_reads_no_frequency(store, monkeypatch):
    frequencies = TermFrequencies(store)
    monkeypatch.setattr(TermFrequencies, "__call__", lambda *a: pytest.fail("read a frequency"))
    assert frequencies.plan(["pipe", "inch"], 80) == KeywordPlan('"pipe" OR "inch"')  # 40 rows x 2 terms


def bm25(st: CatalogStore, expression: str) -> dict[str, float]:
    return dict(st.db.execute("SELECT id, bm25(products_fts) FROM products_fts WHERE products_fts MATCH ?",
                              [expression]).fetchall())


def test_frequencies_are_read_again_after_the_catalog_changes(store):
    frequencies = TermFrequencies(store)
    assert frequencies(["valve"]) == {"valve": 2}
    store.write_items("product", [(Product(id="V2", title="Gate Valve"), "v2", ["Gate Valve"])])
    assert frequencies(["valve"]) == {"valve": 3} and frequencies.rows() == 41


def test_postgresql_reads_the_same_frequencies_and_scores_every_plan_as_fts5(store, pg_url):
    """The plan on PostgreSQL (knowledge/pg_text.py): the same frequencies from the postings, and each expression the
    plan writes (the plain OR, the rarer terms picking the rows, every term required) finds the rows FTS5 finds, each
    with FTS5's BM25."""
    from knowledge import pg_text

    pg = CatalogStore(pg_url)
    try:
        pg.write_items("product", [(p, f"h{i}", [p.title]) for i, p in enumerate(store.all_products())])
        terms = ["pipes", "inch", "brass", "valve", "hose"]
        assert TermFrequencies(pg)(terms) == TermFrequencies(store)(terms)
        assert TermFrequencies(pg).plan(["pipe", "brass", "inch", "valve"], 30) == \
            TermFrequencies(store).plan(["pipe", "brass", "inch", "valve"], 30)
        restricted = plan(["pipe", "brass", "inch", "valve"], TermFrequencies(pg), 30)
        required = plan(["pipe", "inch"], TermFrequencies(pg), 10)
        assert restricted.first is None and required.first == '"inch" AND "pipe"'
        for expression in ('"pipe" OR "brass" OR "inch"', restricted.match, required.first, required.match,
                           '("pipes" OR "pipe" OR "valve") NOT (("pipes" OR "pipe") NOT ("valve"))'):
            want = {pid: -score for pid, score in store.db.execute(
                "SELECT id, bm25(products_fts, 0.0, 1.0, 2.0, 1.0) FROM products_fts WHERE products_fts MATCH ?",
                [expression]).fetchall()}
            with pg.lock:
                got = dict(pg_text.bm25(pg, "product", expression, (1.0, 2.0, 1.0)))
            assert set(got) == set(want) and want, expression
            assert got == pytest.approx(want, rel=1e-9, abs=1e-9), expression
        with pg.lock:  # with a limit, the best rows first
            best = pg_text.bm25(pg, "product", restricted.match, limit=3)
        assert len(best) == 3 and [s for _, s in best] == sorted((s for _, s in best), reverse=True)
    finally:
        pg.close()

"""Retrieval quality pieces: metrics, keyword normalisation, query repair, fusion features, and the
eval commands on a tiny fixture whose metrics are worked out by hand."""

from __future__ import annotations

import argparse
from dataclasses import replace
import json
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest

from knowledge.base import KnowledgeBase
from shopguide.cli.evalcli import eval_faq, eval_product_qa, eval_search
from knowledge.evaluate import (accuracy_at_1, mrr_at, ndcg_at, precision_at_1, read_qrels, recall_at, summarise,
                                write_run)
from knowledge.faq import FaqMatcher
from knowledge.ingest import ingest_records
from knowledge.evidence import EvidenceRetriever
from knowledge.passages import document_passages, faq_name, product_passages, qa_answer
from knowledge.schema import Document, Faq, Product
from knowledge.search import ProductSearch, coverage, _wanted, fts_query
from knowledge.store import CatalogStore, rebuild_keyword_index
from models.resolve import default_embedder_path
from knowledge.text import Vocabulary, edit_distance, keyword_terms, keyword_text, plural_stem

FIXTURES = Path(__file__).parent / "fixtures" / "eval"
LOG3 = math.log2(3)


# ----- metrics ---------------------------------------------------------------------------------
def test_ndcg_uses_exponential_gain_log_discount_and_judged_ideal():
    grades = {"a": 3, "b": 1, "c": 0, "d": 2}
    # ranked b, x, a: DCG = 1/1 + 0 + 7/log2(4) = 4.5; ideal a, d, b = 7 + 3/log2(3) + 1/2
    assert ndcg_at(["b", "x", "a"], grades) == pytest.approx(4.5 / (7 + 3 / LOG3 + 0.5))
    assert ndcg_at(["a", "d", "b"], grades) == pytest.approx(1.0)
    assert ndcg_at(["a"], {"a": 0, "b": 0}) is None  # no positive grade: the query is skipped


def test_ndcg_cuts_at_ten():
    ranked = [f"x{i}" for i in range(10)] + ["a"]
    assert ndcg_at(ranked, {"a": 2}) == 0.0


def test_mrr_recall_and_p1_count_grades_as_the_readme_says():
    grades = {"a": 0, "b": 1, "c": 2}
    assert mrr_at(["a", "x", "b"], grades) == pytest.approx(1 / 3)
    assert mrr_at(["a"] + [f"x{i}" for i in range(9)] + ["b"], grades) == 0.0
    assert recall_at(["c", "a"], grades) == pytest.approx(0.5)
    assert precision_at_1(["b", "c"], grades) == 0.0 and precision_at_1(["c"], grades) == 1.0
    assert accuracy_at_1([("a", "a"), ("b", None), ("c", "c"), ("d", "e")]) == 0.5


def test_summarise_counts_p1_only_where_a_fully_answering_doc_exists():
    qrels = {"q1": {"a": 2, "b": 0}, "q2": {"c": 1, "d": 0}, "q3": {"e": 0}}
    runs = {"q1": ["a", "b"], "q2": ["d", "c"], "q3": ["e"]}
    m = summarise(runs, qrels, p1_grade=2)
    assert m["queries"] == 2  # q3 has no positive grade
    assert m["ndcg@10"] == round((1 + 1 / LOG3) / 2, 4)
    assert m["mrr@10"] == 0.75
    assert m["p@1"] == 1.0 and m["p@1_queries"] == 1  # q2 has no grade-2 doc, so it cannot count


def test_run_file_is_trec_format(tmp_path):
    path = tmp_path / "run.txt"
    write_run(path, {"q1": [("a", 0.9), ("b", 0.5)]}, "tag")
    assert path.read_text().splitlines() == ["q1 Q0 a 1 0.900000 tag", "q1 Q0 b 2 0.500000 tag"]
    qrels = read_qrels(FIXTURES / "qrels.txt")
    assert qrels["q1"] == {"P1": 2, "GHOST1": 3}


# ----- keyword normalisation and query repair --------------------------------------------------
@pytest.mark.parametrize("a,b", [
    ("16 GB", "16gb"), ("3/4 in. pipe", '3/4" pipe'), ("3/4 inch pipe", "3/4in pipe"), ("2x4 stud", "2 x 4 stud"),
    ("12,000 BTU", "12000 btu"), ("6 ft. hose", "6' hose"), ("1-1/4 in. PVC", "1 1/4 inch pvc"), ("25w bulb", "25 watts bulb"),
])
def test_keyword_text_spells_sizes_and_units_one_way(a, b):
    assert keyword_terms(a) == keyword_terms(b)


def test_keyword_text_keeps_fractions_whole_and_leaves_prepositions_alone():
    assert keyword_terms("3/4 in. copper") == ["3f4", "inch", "copper"]
    assert "3" not in keyword_terms("3/4 in. copper")
    assert keyword_text("Faucet in Chrome") == "faucet in chrome"
    assert keyword_terms("x") == ["x"] and keyword_terms("the") == ["the"]  # never empty when there are words


def test_plural_stem():
    assert [plural_stem(w) for w in ("batteries", "boxes", "boots", "glass", "bus", "gps")] == [
        "battery", "box", "boot", "glass", "bus", "gps"]


def test_edit_distance_counts_transpositions_once():
    assert edit_distance("hatchet", "hagchet") == 1
    assert edit_distance("form", "from") == 1
    assert edit_distance("electrical", "elerical") == 2
    assert edit_distance("abc", "abcdefgh", limit=2) == 3


def test_vocabulary_repairs_typos_and_compounds():
    vocab = Vocabulary(["Fiskars Hatchet 14 in.", "Wall Oven Stainless", "Electrical Outlet", "Sanding Sponge",
                        "Sanding Block", "Nutrisystem Shake"])
    assert vocab.correct("hagchet") == "hatchet"
    assert vocab.correct("elerical") == "electrical"  # two edits allowed for long words
    assert vocab.correct("sxnding") == "sanding"
    assert vocab.correct("zzzz") is None and vocab.correct("abc") is None
    assert vocab.split("walloven") == ("wall", "oven")
    assert "nutrisystem" in vocab


def test_vocabulary_correction_options_and_ties():
    vocab = Vocabulary(["Camp Lamp", "Damp Cloth", "Electrical Outlet", "Lightweight Tent"])
    assert vocab.correct("xamp") in ("camp", "damp", "lamp") and vocab.correct("xamp") == "camp"  # ties: alphabetical
    assert vocab.correct("xamp", same_initial=True) is None  # no catalog word starts with "x"
    assert vocab.correct("lamo", same_initial=True) == "lamp"
    assert vocab.correct("elerical", long_word=9) is None  # 8 letters, two edits: too short for two
    assert vocab.correct("lightweht", long_word=9) == "lightweight"  # 9 letters, two edits


def test_coverage_counts_words_and_adjacent_pairs_in_the_name_fields():
    p = Product(id="x", title="Portable External Hard Drive 1TB", brand="Seagate")
    wanted = _wanted(keyword_terms("seagate portable hard drives"), {})
    words, pairs = coverage(wanted, p)
    assert words == 1.0
    assert pairs == pytest.approx(1 / 3)  # of "seagate portable", "portable hard", "hard drive(s)": the last
    repaired = _wanted(["hagchet"], {"hagchet": ["hatchet"]})
    assert coverage(repaired, Product(id="y", title="Hatchet"))[0] == 1.0


def test_fts_query_quotes_terms_and_adds_repairs():
    assert fts_query('16 GB "usb" stick', ["stik"]) == '"16" OR "gb" OR "usb" OR "stick" OR "stik"'
    assert fts_query("!!!") == ""


# ----- what gets embedded ----------------------------------------------------------------------
def test_product_passages_put_the_title_alone_first():
    words = lambda t: len(t.split())  # noqa: E731
    p = Product(id="1", title="Trail Shoe", description="Grippy sole. Light mesh upper.")
    assert product_passages(p, max_tokens=50, count_tokens=words) == [
        "Trail Shoe.", "Trail Shoe. Grippy sole. Light mesh upper."]
    assert product_passages(Product(id="2", title="Cap"), max_tokens=50, count_tokens=words) == ["Cap."]


@pytest.mark.parametrize("text,answer", [
    ("yes, it fits a 5-gallon bucket Question: will it fit my bucket?", "yes, it fits a 5-gallon bucket"),
    ("Q: Is it dishwasher safe? A: Yes, top rack.", "Yes, top rack."),
    ("Question: Does it fold? Answer: It folds flat.", "It folds flat."),
    ("Great kettle, boils fast.", None),
    ("Question: what about rain?", None),
])
def test_qa_answer_finds_the_answer_of_both_common_shapes(text, answer):
    assert qa_answer(text) == answer


def test_a_question_and_answer_document_embeds_its_answer_but_is_shown_whole(tmp_path, embedder):
    words = lambda t: len(t.split())  # noqa: E731
    qa = Document(id="d1", product_id="K", source="cqa", text="yes, it boils a litre in 3 minutes Question: is it fast?")
    assert document_passages(qa, max_tokens=50, count_tokens=words) == ["yes, it boils a litre in 3 minutes"]
    kb = KnowledgeBase(tmp_path / "kb", embedder)
    try:
        ingest_records(kb, "product", [Product(id="K", title="Kettle")])
        ingest_records(kb, "document", [qa, Document(id="d2", product_id="K", source="review", text="Looks nice in red.")])
        ranked = EvidenceRetriever(kb).rank("K", "how quickly does it boil water?", top_k=2)
        assert [e.id for e in ranked] == ["d1", "d2"] and ranked[0].text == qa.text
    finally:
        kb.close()


@pytest.mark.parametrize("faq_id,name", [("get_invoice", "get invoice"), ("shipping-times", "shipping times"),
                                         ("faq-017", None), ("42", None), ("FAQ_12_x", None)])
def test_faq_name_uses_descriptive_ids_only(faq_id, name):
    assert faq_name(Faq(faq_id, "Question?", "Answer.")) == name


def test_keyword_index_rebuild_uses_keyword_text(tmp_path):
    store = CatalogStore(tmp_path / "c.db")
    store.write_items("product", [(Product(id="P", title='Pipe 3/4" x 10 ft.'), "h", ["Pipe."])])
    store.db.execute("UPDATE products_fts SET title = 'stale'")
    rebuild_keyword_index(store.db)
    assert store.db.execute("SELECT title FROM products_fts").fetchone()[0] == keyword_text('Pipe 3/4" x 10 ft.')
    assert store.keyword_known("product", "pipes") and not store.keyword_known("product", "hose")
    before = store.generation("product")
    store.delete_items("product", ["P"])
    assert store.generation("product") == before + 1
    store.close()


# ----- the ranker on a real store --------------------------------------------------------------
def test_a_code_shared_by_many_products_is_not_an_exact_match(tmp_path, embedder):
    kb = KnowledgeBase(tmp_path / "kb", embedder)
    try:
        items = [Product(id=f"NFL-{i}", title=f"San Francisco 49ers {kind}")
                 for i, kind in enumerate(["Cap", "Mug", "Scarf", "Flag", "Towel"])]
        items.append(Product(id="ZX-9000", title="Blender ZX9000 Pro"))
        ingest_records(kb, "product", items)
        engine = ProductSearch(kb)
        shared = engine.search("49ers mug", top_k=3)
        assert not any(h.exact for h in shared.hits) and shared.hits[0].product.id == "NFL-1"
        code = engine.search("zx9000", top_k=3)
        assert code.hits[0].exact and code.hits[0].product.id == "ZX-9000" and code.confidence == 1.0
        typo = engine.search("blendr", top_k=1)  # repaired against the catalog's own words
        assert typo.hits[0].product.id == "ZX-9000"
    finally:
        kb.close()


# ----- the eval commands on the hand-made fixture ----------------------------------------------
def _args(**kw) -> argparse.Namespace:
    base = {"limit": None, "mode": "hybrid", "run_out": None, "json": True}
    base.update(kw)
    return argparse.Namespace(**base)


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_eval_search_on_fixture_matches_hand_computed_metrics(tmp_path, embedder, backend, request):
    records = request.getfixturevalue("pg_url") if backend == "postgresql" else None
    kb = KnowledgeBase(tmp_path / "kb", embedder, records=records)
    try:
        metrics, runs = eval_search(kb, _args(products=str(FIXTURES / "products.jsonl"),
                                              queries=str(FIXTURES / "queries.jsonl"), qrels=str(FIXTURES / "qrels.txt")))
    finally:
        kb.close()
    assert [runs[q][0][0] for q in ("q1", "q2", "q3", "q4")] == ["P1", "P2", "P4", "P5"]
    # q1: P1 (2) first, GHOST1 (3) never found: 3 / (7 + 3/log2 3); MRR 1; recall 1/2
    # q2, q3: the one judged positive first: 1, 1, 1.  q4: only a grade-0 product is found: 0, 0, 0.
    # q5: no positive grade, skipped.
    assert metrics["queries"] == 4
    assert metrics["ndcg@10"] == round((3 / (7 + 3 / LOG3) + 1 + 1 + 0) / 4, 4)
    assert metrics["mrr@10"] == 0.75
    assert metrics["recall@100"] == 0.625


def test_eval_faq_on_fixture_matches_hand_computed_metrics(tmp_path, embedder):
    kb = KnowledgeBase(tmp_path / "kb", embedder)
    try:
        metrics, runs = eval_faq(kb, _args(faqs=str(FIXTURES / "faqs.jsonl"), utterances=str(FIXTURES / "utterances.jsonl")))
        matcher = FaqMatcher(kb)
        hit = matcher.best("how long does delivery take?", threshold=0.55)
        assert hit is not None and hit.faq.id == "delivery-time" and 0.55 <= hit.score <= 1.0
        assert matcher.best("what is the capital of peru", threshold=0.55) is None
        assert all(0.0 <= h.score <= 1.0 for h in matcher.rank("banana", top_k=5))
    finally:
        kb.close()
    assert [runs[u][0][0] for u in ("u1", "u2", "u3")] == ["delivery-time", "returns", "delivery-time"]
    # u3 is labelled "returns", which ranks second of two: accuracy 2/3, MRR (1 + 1 + 1/2) / 3,
    # nDCG (1 + 1 + 1/log2 3) / 3
    assert metrics["accuracy@1"] == round(2 / 3, 4)
    assert metrics["mrr@10"] == round(2.5 / 3, 4)
    assert metrics["ndcg@10"] == round((2 + 1 / LOG3) / 3, 4)
    assert metrics["recall@100"] == 1.0


def test_eval_product_qa_on_fixture_matches_hand_computed_metrics(tmp_path, embedder):
    kb = KnowledgeBase(tmp_path / "kb", embedder)
    try:
        metrics, runs = eval_product_qa(kb, _args(
            products=str(FIXTURES / "qa_products.jsonl"), documents=str(FIXTURES / "qa_documents.jsonl"),
            questions=str(FIXTURES / "qa_questions.jsonl"), qrels=str(FIXTURES / "qa_qrels.txt")))
    finally:
        kb.close()
    assert [d for d, _ in runs["k1"]] == ["a1", "a2"]
    assert [d for d, _ in runs["k2"]] == ["b2", "b1"]
    assert runs["k3"][0][0] == "c1"
    # k1: a1 (2) first: nDCG 1, MRR 1, P@1 1.  k2: b2 (0) before b1 (2): nDCG 1/log2 3, MRR 1/2, P@1 0.
    # k3: c1 (1) first: nDCG 1, MRR 1, no grade-2 doc so no P@1.  k4: no positive, skipped.
    assert metrics["queries"] == 3
    assert metrics["ndcg@10"] == round((2 + 1 / LOG3) / 3, 4)
    assert metrics["mrr@10"] == round(2.5 / 3, 4)
    assert metrics["p@1"] == 0.5 and metrics["p@1_queries"] == 2


def test_shopguide_eval_cli_prints_json_and_writes_a_run_file(tmp_path):
    script = Path(sys.executable).with_name("shopguide")
    command = [str(script)] if script.exists() else [sys.executable, "-m", "shopguide.cli"]
    env = {k: v for k, v in os.environ.items() if not k.startswith("SHOPGUIDE_")}
    # documents on the embedding model, as in the in-process test above (whose hand-computed ranking this
    # repeats); the setting also shows that the documents' model is configurable from the environment
    env.update(SHOPGUIDE_DATA_DIR=str(tmp_path / "data"), HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1",
               SHOPGUIDE_DOCUMENT_EMBEDDING_MODEL=str(default_embedder_path()))
    run_file = tmp_path / "run.txt"
    done = subprocess.run([*command, "eval", "product-qa", "--products", str(FIXTURES / "qa_products.jsonl"),
                           "--documents", str(FIXTURES / "qa_documents.jsonl"),
                           "--questions", str(FIXTURES / "qa_questions.jsonl"), "--qrels", str(FIXTURES / "qa_qrels.txt"),
                           "--run-out", str(run_file), "--json"],
                          cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    metrics = json.loads(done.stdout)
    assert metrics["p@1"] == 0.5 and metrics["ndcg@10"] == round((2 + 1 / LOG3) / 3, 4)
    lines = run_file.read_text().splitlines()
    assert lines[0].split()[:4] == ["k1", "Q0", "a1", "1"] and len(lines) == 8
    assert not (tmp_path / "data" / "catalog.db").exists()  # a throwaway store, never the user's


def test_vector_hashes_are_read_in_pages(tmp_path, embedder, monkeypatch):
    import knowledge.vectors as vectors

    kb = KnowledgeBase(tmp_path / "kb", embedder)
    try:
        ingest_records(kb, "product", [Product(id=f"P{i}", title=f"Item {i}") for i in range(5)])
        monkeypatch.setattr(vectors, "_BATCH", 2)  # 5 vectors: pages of 2, 2 and 1
        got = kb.vectors.hashes("product")
        assert set(got) == {f"p:P{i}:0" for i in range(5)}
        assert got == {r[0]: r[1] for r in kb.store.db.execute("SELECT id, hash FROM chunks WHERE kind = 'product'")}
    finally:
        kb.close()


def test_very_common_words_leave_the_keyword_query_but_not_the_ranking(tmp_path, embedder):
    kb = KnowledgeBase(tmp_path / "kb", embedder)
    try:
        items = [Product(id=f"P{i}", title=f"Pipe {i} inch") for i in range(30)]
        items.append(Product(id="V", title="Brass Check Valve 1 inch"))
        ingest_records(kb, "product", items)
        engine = ProductSearch(kb, replace(ProductSearch(kb).tuning, common_min=10))
        assert engine._common_terms(["check", "valve", "inch"]) == {"inch"}
        assert engine._common_terms(["inch"]) == set()  # never every term
        assert engine.search("check valve 1 inch", top_k=1).hits[0].product.id == "V"
    finally:
        kb.close()


def test_evidence_ignores_a_vector_left_stale_by_an_interrupted_ingest(tmp_path, embedder):
    kb = KnowledgeBase(tmp_path / "kb", embedder)
    try:
        ingest_records(kb, "product", [Product(id="K", title="Kettle")])
        ingest_records(kb, "document", [Document(id="d1", product_id="K", source="review", text="Boils fast."),
                                        Document(id="d2", product_id="K", source="review", text="Red lid.")])
        retriever = EvidenceRetriever(kb)
        assert {e.id for e in retriever.rank("K", "does it boil fast?", top_k=5)} == {"d1", "d2"}
        vector = kb.vectors.get_vectors("document", ["d:d1:0"])["d:d1:0"]
        kb.vectors.upsert("document", ["d:d1:0"], vector[None, :], [{"item_id": "d1", "hash": "stale"}])
        assert [e.id for e in retriever.rank("K", "does it boil fast?", top_k=5)] == ["d2"]
    finally:
        kb.close()


def test_committed_vectors_leave_out_stale_and_unknown_chunks(tmp_path, embedder):
    kb = KnowledgeBase(tmp_path / "kb", embedder)
    try:
        ingest_records(kb, "product", [Product(id="K", title="Kettle"), Product(id="M", title="Mug")])
        got = kb.committed_vectors("product", ["p:K:0", "p:M:0", "p:gone:0"])
        assert set(got) == {"p:K:0", "p:M:0"}
        kb.vectors.upsert("product", ["p:M:0"], got["p:M:0"][None, :], [{"item_id": "M", "hash": "stale"}])
        assert set(kb.committed_vectors("product", ["p:K:0", "p:M:0"])) == {"p:K:0"}
    finally:
        kb.close()

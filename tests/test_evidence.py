"""Evidence for a question about one product: description sentences as passages, their keyword
shares, the rule that nothing answers when no passage shares a word with the question, and
vectors of another model left out."""

from __future__ import annotations

import logging

import numpy as np
import pytest

from knowledge.base import KnowledgeBase
from knowledge.evidence import EvidenceRetriever
from knowledge.ingest import ingest_records
from knowledge.passages import description_passages
from knowledge.schema import Document, Product

BOOT = Product(
    id="B1", title="Ascent GTX Hiking Boot",
    description="The Ascent hiking boot pairs a synthetic leather upper with a grippy rubber outsole. "
                "A waterproof, breathable membrane keeps your feet dry through puddles and slush. "
                "It suits day hikes and multi-day treks with a moderate pack. "
                "A rubber toe cap protects against scuffs and stubbed toes.")
DOCS = [
    Document("q-wet", "B1", "Q: Is it waterproof? A: Yes, I've walked through ankle-deep puddles with dry feet.", "qa"),
    Document("r-ship", "B1", "Arrived two days after I ordered it, well packed.", "review"),
    Document("r-colour", "B1", "The grey is darker than in the photos.", "review"),
]


@pytest.mark.parametrize("text, expected", [
    ("", []),
    ("One two three.", ["One two three."]),
    ("Great. Fits well and keeps the rain out of the hood.",  # a short sentence joins the next
     ["Great. Fits well and keeps the rain out of the hood."]),
    ("It has a stiff nylon shank for rocky ground. It weighs 790 g a pair in size 42.",
     ["It has a stiff nylon shank for rocky ground.", "It weighs 790 g a pair in size 42."]),
    ("Features:\n- waterproof shell\n- two zipped pockets\nMachine wash cold.",  # lines and bullets
     ["Features: waterproof shell; two zipped pockets; Machine wash cold."]),
    ("Weight 300 g • Packs into its own pocket • Two-way zip on the front. Made from recycled nylon.",
     ["Weight 300 g; Packs into its own pocket", "Two-way zip on the front. Made from recycled nylon."]),
    ("- first point here\n- second", ["first point here; second"]),
    ("-5 C comfort rating for cold nights.", ["-5 C comfort rating for cold nights."]),  # not a bullet
])
def test_a_description_splits_into_sentence_passages(text, expected):
    assert description_passages(text) == expected


def test_a_long_sentence_is_split_at_word_boundaries_and_nothing_is_lost():
    words = [f"w{i}" for i in range(150)]
    passages = description_passages(" ".join(words))
    assert [len(p.split()) for p in passages] == [60, 60, 30]
    assert " ".join(passages).split() == words


def test_the_sentence_that_answers_is_the_evidence(tmp_path, embedder):
    kb = KnowledgeBase(tmp_path / "kb", embedder)
    try:
        ingest_records(kb, "product", [BOOT])
        ingest_records(kb, "document", DOCS)
        evidence = EvidenceRetriever(kb)
        top = evidence.rank("B1", "does it have a toe cap?")[0]
        assert top.id == "B1#description-3" and top.source == "description"
        assert top.text == "A rubber toe cap protects against scuffs and stubbed toes."
        passages = evidence._passages("B1", True)
        shares = evidence._keyword_scores("B1", "does it have a toe cap?", passages)
        assert shares["B1#description-3"] == pytest.approx(1.0)  # description passages get keyword shares too
        assert "B1#description-0" not in shares and "r-ship" not in shares
        assert evidence.rank("B1", "does it have a toe cap?", include_description=False)[0].id in {d.id for d in DOCS}
    finally:
        kb.close()


def test_nothing_answers_when_no_passage_shares_a_word_with_the_question(tmp_path, embedder, document_embedder):
    kb = KnowledgeBase(tmp_path / "kb", embedder, None, document_embedder)
    try:
        ingest_records(kb, "product", [BOOT])
        ingest_records(kb, "document", DOCS)
        evidence = EvidenceRetriever(kb)
        assert evidence.floor == document_embedder.similarity_floor
        dry = evidence.answers("B1", "will it keep my feet dry?")
        assert dry and "feet dry" in dry[0].text
        question = "is it comfortable?"
        assert evidence.rank("B1", question)[0].score >= evidence.floor  # similar enough, but about something else
        assert evidence.answers("B1", question) == []
        assert evidence.answers("B1", "how heavy is the sole unit?") == []
        # the product's own name is in its description, but says nothing about what is asked
        assert evidence.answers("B1", "is the Ascent hiking boot comfortable?") == []
        assert evidence.answers("B1", "will the Ascent keep my feet dry?")
        assert evidence.answers("B1", "???") == [] and evidence.answers("NO-SUCH", "is it waterproof?") == []
    finally:
        kb.close()


def test_vectors_of_another_length_are_left_out_not_mixed(tmp_path, embedder, caplog):
    kb = KnowledgeBase(tmp_path / "kb", embedder)
    try:
        ingest_records(kb, "product", [BOOT])
        ingest_records(kb, "document", DOCS)
        evidence = EvidenceRetriever(kb)
        real = evidence._vectors

        def with_a_stale_one(passages, model):
            stored = real(passages, model)
            stored[next(p[0] for p in passages if p[1] == "r-ship")] = np.ones(768, dtype=np.float32) / np.sqrt(768)
            return stored

        evidence._vectors = with_a_stale_one
        with caplog.at_level(logging.WARNING, logger="knowledge.evidence"):
            ranked = evidence.rank("B1", "was it well packed?", top_k=10)
        assert ranked and "r-ship" not in {e.id for e in ranked}
        assert "not of the documents' model" in caplog.text
    finally:
        kb.close()

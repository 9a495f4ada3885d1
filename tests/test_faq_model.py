"""The FAQ matcher's own embedding model: unpacked from its packages, used for FAQs only, and
re-embedded (never mixed) when it changes."""

from __future__ import annotations

import hashlib
import logging
import zipfile
from pathlib import Path

import numpy as np
import pytest

from knowledge.base import KnowledgeBase
from knowledge.faq import FaqMatcher, FaqTuning
from knowledge.ingest import embeddings_current, ingest_records, refresh_embeddings
from knowledge.passages import faq_passages
from knowledge.schema import Faq, Product
from models import resolve
from shopguide.cli.app import build_runtime, load_demo_store
from shopguide.errors import NotConfigured
from shopguide.settings import Settings

FAQS = [
    Faq("returns", "Can I return an item?", "Unused items can be returned within 30 days for a full refund."),
    Faq("shipping", "How long does delivery take?", "Standard delivery takes 3 to 5 business days."),
    Faq("warranty", "Is there a warranty?", "All products carry a 2-year manufacturer's warranty."),
    Faq("gift-cards", "Do you sell gift cards?", "Yes, digital gift cards from 10 to 500 dollars."),
]


def split_archive(tmp_path: Path, members: dict[str, bytes], parts: int = 3) -> list[Path]:
    """A zip archive of `members` cut into `parts` files, the way the model packages ship it."""
    archive = tmp_path / "whole.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    data = archive.read_bytes()
    size = -(-len(data) // parts)
    out = []
    for i in range(parts):
        part = tmp_path / f"model.zip.{i + 1:03d}"
        part.write_bytes(data[i * size:(i + 1) * size])
        out.append(part)
    return out


def test_parts_are_joined_unpacked_once_and_reused(tmp_path, monkeypatch):
    members = {"all-mpnet-base-v2/modules.json": b"[]", "all-mpnet-base-v2/config.json": b"{}",
               "all-mpnet-base-v2/desktop.ini": b"x", "elsewhere/evil.txt": b"x"}
    parts = split_archive(tmp_path, members)
    monkeypatch.setattr(resolve, "mpnet_part_files", lambda: parts)
    monkeypatch.setattr(resolve, "MPNET_SHA256", hashlib.sha256((tmp_path / "whole.zip").read_bytes()).hexdigest())
    (tmp_path / "models" / ".unpack-killed").mkdir(parents=True)  # left by a process killed while unpacking
    target = resolve.default_faq_embedder_path(tmp_path / "models")
    assert target == tmp_path / "models" / "all-mpnet-base-v2"
    assert sorted(p.name for p in target.iterdir()) == [".complete", "config.json", "modules.json"]
    assert not (tmp_path / "models" / "elsewhere").exists()
    (target / "modules.json").write_bytes(b"[1]")  # a second call must not unpack again
    assert resolve.default_faq_embedder_path(tmp_path / "models") == target
    assert (target / "modules.json").read_bytes() == b"[1]"
    assert sorted(p.name for p in (tmp_path / "models").iterdir()) == [".lock", "all-mpnet-base-v2"]  # no temporary left


def test_an_archive_other_than_the_expected_one_is_refused(tmp_path, monkeypatch):
    parts = split_archive(tmp_path, {"all-mpnet-base-v2/modules.json": b"[]"})
    monkeypatch.setattr(resolve, "mpnet_part_files", lambda: parts)
    with pytest.raises(NotConfigured, match="expected archive.*SHOPGUIDE_FAQ_EMBEDDING_MODEL"):
        resolve.default_faq_embedder_path(tmp_path / "models")
    assert not (tmp_path / "models" / "all-mpnet-base-v2").exists()


def test_a_damaged_archive_names_the_setting(tmp_path, monkeypatch):
    parts = split_archive(tmp_path, {"all-mpnet-base-v2/modules.json": b"[]"})
    parts[1].write_bytes(b"\0" * 10)
    monkeypatch.setattr(resolve, "mpnet_part_files", lambda: parts)
    joined = b"".join(p.read_bytes() for p in parts)
    monkeypatch.setattr(resolve, "MPNET_SHA256", hashlib.sha256(joined).hexdigest())  # damaged, yet as expected
    with pytest.raises(NotConfigured, match="SHOPGUIDE_FAQ_EMBEDDING_MODEL"):
        resolve.default_faq_embedder_path(tmp_path / "models")
    assert not (tmp_path / "models" / "all-mpnet-base-v2").exists()


def test_without_the_packages_faqs_use_the_embedding_model(monkeypatch):
    monkeypatch.setattr(resolve, "mpnet_part_files", lambda: None)
    assert resolve.resolve_faq_embedder(None) is None
    with pytest.raises(NotConfigured, match="SHOPGUIDE_FAQ_EMBEDDING_MODEL"):
        resolve.resolve_faq_embedder(Path("/nonexistent/model"))


def test_faq_passages_end_with_the_answer_alone():
    words = lambda t: len(t.split())  # noqa: E731
    f = Faq("gift_cards", "Do you sell gift cards?", "Yes, digital gift cards from 10 to 500 dollars.")
    assert faq_passages(f, max_tokens=100, count_tokens=words) == [
        "Do you sell gift cards?", "Do you sell gift cards? Yes, digital gift cards from 10 to 500 dollars.",
        "gift cards", "Yes, digital gift cards from 10 to 500 dollars."]


def test_faqs_get_their_own_model_and_products_keep_theirs(tmp_path, embedder, faq_embedder):
    kb = KnowledgeBase(tmp_path / "kb", embedder, faq_embedder)
    try:
        ingest_records(kb, "product", [Product(id="P1", title="Trail Runner shoe")])
        ingest_records(kb, "faq", [*FAQS, Faq("heading", "Exchanges", "Exchanges are free within 30 days.")])
        dims = {kind: next(iter(kb.vectors.get_vectors(kind, sorted(kb.vectors.ids(kind))).values())).shape[0]
                for kind in ("product", "faq")}
        assert dims == {"product": embedder.dimension, "faq": faq_embedder.dimension} and dims["faq"] == 768
        matcher = FaqMatcher(kb)
        assert matcher.rank("can I send my order back and get my money?", top_k=1)[0].faq.id == "returns"
        assert matcher.rank("when will my parcel arrive", top_k=1)[0].faq.id == "shipping"
        slots = matcher._load().present
        assert all(slots["question"]) and all(slots["answer"]) and all(slots["reply"])
    finally:
        kb.close()


def test_changing_the_faq_model_reembeds_instead_of_mixing(tmp_path, embedder, faq_embedder, caplog):
    path = tmp_path / "kb"
    kb = KnowledgeBase(path, embedder, faq_embedder)
    ingest_records(kb, "faq", FAQS)
    kb.close()
    kb = KnowledgeBase(path, embedder)  # the FAQ model removed: FAQs fall back to the embedding model
    try:
        assert not embeddings_current(kb, "faq")
        with caplog.at_level(logging.WARNING, logger="knowledge.faq"):
            assert FaqMatcher(kb).rank("can I return it?") == []  # 768-d vectors, 384-d query: not compared
        assert "ingest the FAQs again" in caplog.text
        report = ingest_records(kb, "faq", FAQS[:3])  # one entry left out of the file
        assert report.updated == 3 and any("re-embedded from the store" in n for n in report.notes)
        assert embeddings_current(kb, "faq")
        stored = kb.vectors.get_vectors("faq", sorted(kb.vectors.ids("faq")))
        assert {v.shape[0] for v in stored.values()} == {embedder.dimension}
        assert {cid.split(":")[1] for cid in stored} == {f.id for f in FAQS}  # the left-out entry too
        hit = FaqMatcher(kb).rank("can I return it?", top_k=1)[0]
        assert hit.faq.id == "returns" and 0 < hit.score <= 1
        assert FaqMatcher(kb).rank("do you have gift vouchers", top_k=1)[0].faq.id == "gift-cards"
        assert ingest_records(kb, "faq", FAQS).embedded_chunks == 0  # and nothing is due any more
    finally:
        kb.close()


@pytest.mark.parametrize("record", ["kept", "missing", "wrong"])
def test_the_assistant_reembeds_stored_faqs_of_another_model_at_start(tmp_path, embedder, faq_embedder, record):
    path = tmp_path / "kb"
    kb = KnowledgeBase(path, embedder)
    ingest_records(kb, "faq", FAQS)
    if record != "kept":  # a store written before the model was recorded, or with a wrong record
        kb.store.set_meta("embedder:faq", None if record == "missing" else "models/all-mpnet-base-v2 passages:3")
    kb.close()
    kb = KnowledgeBase(path, embedder, faq_embedder)
    try:
        assert FaqMatcher(kb).rank("can I return it?") == []  # 384-d vectors, 768-d query
        runtime = build_runtime(Settings(data_dir=tmp_path / "data", _env_file=None), kb=kb, load_llm=False,
                                memory_path=tmp_path / "memory.db")
        try:
            assert embeddings_current(kb, "faq") and refresh_embeddings(kb, "faq") is None
            assert runtime.services.faq.rank("can I return it?", top_k=1)[0].faq.id == "returns"
            stored = kb.vectors.get_vectors("faq", sorted(kb.vectors.ids("faq")))
            assert {v.shape[0] for v in stored.values()} == {768}
        finally:
            runtime.close()
    finally:
        kb.close()


def test_the_demo_store_is_reloaded_when_its_faq_model_changed(tmp_path, embedder, faq_embedder):
    path = tmp_path / "kb"
    kb = KnowledgeBase(path, embedder)
    assert load_demo_store(kb) and load_demo_store(kb) == []  # same files, same models: nothing to do
    kb.close()
    kb = KnowledgeBase(path, embedder, faq_embedder)
    try:
        reports = load_demo_store(kb)
        faq_report = next(r for r in reports if r.kind == "faq")
        product_report = next(r for r in reports if r.kind == "product")
        assert faq_report.embedded_chunks > 0 and product_report.embedded_chunks == 0
        vectors = kb.vectors.get_vectors("faq", sorted(kb.vectors.ids("faq")))
        assert vectors and all(v.shape[0] == 768 for v in vectors.values())
        hit = FaqMatcher(kb).best("how long until my package shows up?", 0.55)
        assert hit is not None and hit.faq.id == "shipping-times" and np.isfinite(hit.score)
    finally:
        kb.close()


def test_a_collection_dropped_by_another_process_is_found_again(tmp_path):
    from knowledge.vectors import VectorIndex

    first, second = VectorIndex(tmp_path / "chroma"), VectorIndex(tmp_path / "chroma")
    first.upsert("faq", ["a"], np.ones((1, 3), dtype=np.float32), [{"hash": "h"}])
    assert second.count("faq") == 1
    first.drop("faq")  # e.g. an ingest under a new model in another process
    first.upsert("faq", ["b"], np.ones((1, 5), dtype=np.float32), [{"hash": "h"}])
    assert second.count("faq") == 1 and second.dimension("faq") == 5
    assert [h.id for h in second.query("faq", np.ones(5, dtype=np.float32), 3)] == ["b"]


def test_the_model_check_at_start_reads_the_dimension_without_loading_the_model(tmp_path, embedder, faq_embedder):
    from models.embedder import SentenceEmbedder, _dimension, dimension_from_files

    assert dimension_from_files(embedder.path) == _dimension(embedder.model) == 384
    assert dimension_from_files(faq_embedder.path) == _dimension(faq_embedder.model) == 768
    odd = tmp_path / "odd"  # mean and CLS pooling side by side, then a projection
    (odd / "1_Pooling").mkdir(parents=True)
    (odd / "2_Dense").mkdir()
    modules = ['{"idx": 0, "path": "", "type": "sentence_transformers.models.Transformer"}',
               '{"idx": 1, "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"}']
    (odd / "modules.json").write_text(f"[{','.join(modules)}]")
    (odd / "1_Pooling" / "config.json").write_text(
        '{"word_embedding_dimension": 256, "pooling_mode_mean_tokens": true, "pooling_mode_cls_token": true}')
    assert dimension_from_files(odd) == 512
    modules.append('{"idx": 2, "path": "2_Dense", "type": "sentence_transformers.models.Dense"}')
    (odd / "modules.json").write_text(f"[{','.join(modules)}]")
    assert dimension_from_files(odd) is None  # a module without its config: unknown
    (odd / "2_Dense" / "config.json").write_text('{"in_features": 512, "out_features": 128}')
    assert dimension_from_files(odd) == 128
    (odd / "modules.json").write_text("not json")
    assert dimension_from_files(odd) is None  # unknown: the model is loaded to tell
    path = tmp_path / "kb"
    kb = KnowledgeBase(path, embedder, faq_embedder)
    ingest_records(kb, "faq", FAQS)
    kb.close()
    fresh = SentenceEmbedder(faq_embedder.path, setting="SHOPGUIDE_FAQ_EMBEDDING_MODEL")
    kb = KnowledgeBase(path, embedder, fresh)
    try:
        assert embeddings_current(kb, "faq") and fresh._model is None  # checked, and nothing loaded
    finally:
        kb.close()


# ----- a word only one entry has --------------------------------------------------------------

def test_a_provider_named_in_one_answer_picks_that_entry(demo_kb):
    # "paypal" appears only in the payment-methods answer; the sentence vectors alone put the
    # invoice entry first (0.566 against 0.546), within reach of a tie
    plain = FaqMatcher(demo_kb, FaqTuning(unique_term_bonus=0.0)).rank("can I pay with paypal?", top_k=2)
    assert plain[0].faq.id == "payment-invoice"
    ranked = FaqMatcher(demo_kb).rank("can I pay with paypal?", top_k=2)
    assert ranked[0].faq.id == "payment-methods"
    assert ranked[0].score - ranked[1].score > 0.01  # clear of the tie margin: one answer, not two
    assert "PayPal" in ranked[0].faq.answer


def _faqs(n: int) -> list[Faq]:
    topics = [("Which cards do you take?", "Visa and Mastercard."), ("How long is delivery?", "Two to four days."),
              ("Can I return an item?", "Within 30 days."), ("Do you sell gift cards?", "Yes, from 10 to 200 euros."),
              ("Where is my order?", "Follow the link in your confirmation email."),
              ("Do you ship abroad?", "We ship within the EU.")]
    return [Faq(id=f"faq-{i}", question=q, answer=a) for i, (q, a) in enumerate(topics[:n])]


@pytest.mark.parametrize("n, gains", [(6, True), (4, False)])
def test_the_unique_word_bonus_goes_to_the_one_entry_with_the_word(tmp_path, embedder, n, gains):
    kb = KnowledgeBase(tmp_path / "kb", embedder)
    try:
        ingest_records(kb, "faq", _faqs(n))
        plain = {h.faq.id: h.score for h in FaqMatcher(kb, FaqTuning(unique_term_bonus=0.0)).rank("mastercard please", top_k=n)}
        boosted = {h.faq.id: h.score for h in FaqMatcher(kb, FaqTuning(unique_term_bonus=0.04)).rank("mastercard please", top_k=n)}
    finally:
        kb.close()
    assert boosted["faq-0"] == pytest.approx(plain["faq-0"] + (0.04 if gains else 0.0), abs=2e-4)
    assert all(boosted[f] == plain[f] for f in plain if f != "faq-0")

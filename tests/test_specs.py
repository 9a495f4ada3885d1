"""Readable forms of structured spec snippets (knowledge/specs.py)."""

from __future__ import annotations

import pytest

from knowledge.schema import Document
from knowledge.specs import readable_spec, weight_grams


@pytest.mark.parametrize("raw, readable", [
    ('color:  { value:"white" }', "color: white"),
    ("item_weight:  { unit:pounds, normalized_value:{ unit:pounds, value:5 }, value:5 }", "item weight: 5 pounds"),
    ("item_package_weight:  { unit:kilograms, normalized_value:{ unit:pounds, value:0.4 }, value:0.18 }",
     "item package weight: 0.18 kilograms"),
    ("item_dimensions:  { width:{ unit:inches, normalized_value:{ unit:inches, value:4. }, value:4. }, "
     "length:{ unit:inches, value:8.5 } }", "item dimensions: width 4 inches, length 8.5 inches"),
    ('hardware_platform:  { value:"tablet" }; { value:"mp3 player" }', "hardware platform: tablet, mp3 player"),
    ("batteries_required:  { value:false }", "batteries required: no"),
    ('size:  { value:"9|" x 16.3|" x 13|"" }', 'size: 9" x 16.3" x 13"'),
    ("nutrition:  { minerals:[ { unit:percent, nutrient:vitamin_a, value:0. } ] }",
     "nutrition: minerals nutrient vitamin a, 0 percent"),
])
def test_spec_snippets_become_readable(raw, readable):
    assert readable_spec(raw) == readable


@pytest.mark.parametrize("text", [
    "Works great: {it fits} my older model",  # prose, not a key followed by a structure
    "the door latch is only available in black.",
    'color:  { value:"white" ',  # unterminated
    'specification_met:  { value:"" }',  # nothing to say
    "",
])
def test_other_text_is_left_alone(text):
    assert readable_spec(text) is None


def test_evidence_shows_a_spec_readable_and_its_keywords_match(tmp_path, embedder):
    from knowledge.base import KnowledgeBase
    from knowledge.evidence import EvidenceRetriever
    from knowledge.ingest import ingest_records
    from knowledge.schema import Product

    kb = KnowledgeBase(tmp_path / "kb", embedder)
    try:
        ingest_records(kb, "product", [Product(id="p1", title="Travel Kettle")])
        ingest_records(kb, "document", [
            Document(id="d1", product_id="p1", source="attribute", text="voltage:  { unit:volts, value:120. }"),
            Document(id="d2", product_id="p1", source="review", text="Boils a cup in two minutes."),
        ])
        top = EvidenceRetriever(kb).rank("p1", "what voltage does it use?", top_k=2)
        assert (top[0].id, top[0].text) == ("d1", "voltage: 120 volts")
        # the keyword index holds the readable form: "unit" and "value" are not words of the spec
        db = kb.store.db
        assert [r[0] for r in db.execute("SELECT id FROM documents_fts WHERE documents_fts MATCH 'volts'")] == ["d1"]
        assert db.execute("SELECT count(*) FROM documents_fts WHERE documents_fts MATCH 'unit'").fetchone()[0] == 0
    finally:
        kb.close()


@pytest.mark.parametrize("attributes,grams", [
    ({"weight_g": 230}, 230.0), ({"weight_kg": 1.2}, 1200.0), ({"weight": "1,2 kg"}, 1200.0),
    ({"item_weight": "5 pounds"}, 5 * 453.59237), ({"weight_lb": "2"}, 2 * 453.59237), ({"weight_oz": 16}, 16 * 28.349523125),
    ({"weight": 5}, None), ({"weight": True}, None), ({"weight": "heavy"}, None), ({"colour": "red"}, None),
])
def test_weight_in_grams_from_the_usual_attribute_shapes(attributes, grams):
    got = weight_grams(attributes)
    assert got == (pytest.approx(grams) if grams is not None else None)

"""The understanding layer: example files, the classifier's states and confidence, orders, references, bad input."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.nlu import understand
from bot.slots import Vocabulary
from bot.understanding import IntentClassifier, State, load_examples
from bot.understanding.attributes import load_orders
from bot.understanding.examples import read_examples_file
from bot.understanding.references import pick_shown, quantity
from knowledge.schema import Product

VOCAB = Vocabulary(brands=["Acme"], types=["water bottle", "desk lamp"], colors=["blue", "purple", "white"],
                   type_category={"water bottle": "kitchen", "desk lamp": "lighting"})


def test_a_broken_store_file_is_reported_by_file_and_line_and_the_bundled_examples_still_load(tmp_path: Path):
    bad = tmp_path / "mine.yaml"
    bad.write_text("search:\n  - find me a lamp\nno_such_intent:\n  - hello\nbuy: not a list\nrefine:\n  - ''\n")
    examples = load_examples(bad)
    problems = "\n".join(examples.problems)
    assert f"{bad}:3: unknown intent 'no_such_intent'" in problems
    assert f"{bad}:5:" in problems and f"{bad}:7:" in problems
    assert "find me a lamp" in examples.utterances["search"]  # the good lines of the store's file count
    assert len(examples.utterances["buy"]) > 10  # the bundled ones are untouched
    broken = tmp_path / "broken.yaml"
    broken.write_text("search: [unclosed\n")
    assert any(p.startswith(f"{broken}:") and "not valid YAML" in p for p in read_examples_file(broken, {"search"}, {}))


def test_a_store_example_changes_the_digest_so_the_cached_head_is_retrained(tmp_path: Path):
    extra = tmp_path / "mine.yaml"
    extra.write_text("buy:\n  - ring it up for me\n")
    assert load_examples(extra).digest != load_examples().digest


def test_the_state_decides_what_the_same_words_mean(intents):
    assert intents.read("the blue one", State(has_list=True, asked=True)).intent == "reference"
    assert intents.read("the blue one", State(has_list=True)).intent in ("details", "refine")
    assert intents.read("yes please", State(offered=True)).intent == "confirm"


def test_every_reading_has_a_probability_and_a_runner_up(intents):
    reading = intents.read("add both to my basket", State(has_list=True))
    assert reading.intent == "buy" and 0.5 < reading.confidence <= 1.0
    assert reading.runner_up and reading.runner_up != "buy" and reading.margin > 0
    assert 0.05 < intents.temperature < 5


def test_an_intent_with_no_examples_is_never_predicted(document_embedder, tmp_path: Path):
    examples = load_examples()
    examples.utterances.pop("compare")
    classifier = IntentClassifier(examples, document_embedder.encode_queries, embed_one=document_embedder.encode_query,
                                  cache_dir=tmp_path).fit()
    assert "compare" not in classifier.intents
    assert classifier.read("compare the first and the second", State(has_list=True)).intent != "compare"


@pytest.mark.parametrize("text", ["🙂🙂🙂", "12345", "Acme " * 800, "SG-WB-1002", "你好 hello bonjour ciao", "?!"])
def test_bad_input_is_read_without_a_crash(intents, text):
    u = understand(text, VOCAB, intents, has_results=True, has_focus=False)
    assert u.intent and 0 <= u.confidence <= 1


def test_a_code_alone_shows_that_product(intents):
    assert understand("SG-WB-1002", VOCAB, intents, has_results=False, has_focus=False).intent == "details"


@pytest.mark.parametrize("text, sort", [
    ("which one holds the most?", "attr:capacity_ml,volume_l,reservoir_l:desc"),
    ("the brightest please", "attr:lumens:desc"), ("which is the most waterproof?", "attr:hydrostatic_head_mm:desc"),
    ("best rated first", "rating"), ("the cheapest", "price_asc"), ("and the heaviest?", "weight_desc"),
    ("show me lamps", None),
])
def test_order_words_come_from_the_attributes_file(text, sort):
    assert Vocabulary().orders.find(text) == sort


def test_a_store_adds_its_own_order_words(tmp_path: Path):
    mine = tmp_path / "attributes.yaml"
    mine.write_text("- keys: [wattage]\n  most: [most powerful, loudest]\n")
    assert load_orders(mine).find("which is the loudest?") == "attr:wattage:desc"


def _bottle(pid: str, price: float, colors: tuple[str, ...], ml: int) -> Product:
    return Product(id=pid, title=f"Acme {pid} water bottle", brand="Acme", type="water bottle", price=price,
                   colors=colors, attributes={"capacity_ml": ml})


SHOWN = [_bottle("A", 20, ("blue",), 500), _bottle("B", 15, ("purple", "white"), 1000), _bottle("C", 30, ("white",), 750)]


def test_references_by_colour_order_and_quantity():
    assert [p.id for p in pick_shown(SHOWN, colors=["purple"])] == ["B"]
    assert [p.id for p in pick_shown(SHOWN, sort="price_asc")] == ["B"]  # "the cheaper one"
    assert [p.id for p in pick_shown(SHOWN, sort="attr:capacity_ml:desc")] == ["B"]  # "the one that holds the most"
    assert [p.id for p in pick_shown(SHOWN, how_many=quantity("add both to my basket"))] == ["A", "B"]
    assert len(pick_shown(SHOWN, how_many=quantity("all of them please"))) == 3
    assert pick_shown(SHOWN, types=["water bottle"]) == []  # names nothing that tells them apart
    assert quantity("the second one") is None


def test_a_colour_of_something_seen_is_a_reference_not_a_wanted_colour(intents):
    vocab = Vocabulary(types=["coat"], colors=["grey", "light grey", "green", "violet", "purple"])
    u = understand("anything like the light grey coat but in green?", vocab, intents, has_results=True, has_focus=False)
    assert u.colors == ["green"] and u.ref_colors == ["light grey"]
    assert vocab.find_colors("a violet coat") == ["violet"]  # the catalog's own colour, not the synonym "purple"


def test_a_missing_store_file_stops_start_up_naming_its_setting(tmp_path: Path, demo_kb):
    from shopguide.cli.app import build_vocabulary, open_intent_classifier
    from shopguide.errors import NotConfigured
    from shopguide.settings import Settings

    settings = Settings(data_dir=tmp_path, examples_file=tmp_path / "nope.yaml", _env_file=None)
    with pytest.raises(NotConfigured, match="SHOPGUIDE_EXAMPLES_FILE"):
        open_intent_classifier(settings, demo_kb)
    with pytest.raises(NotConfigured, match="SHOPGUIDE_ATTRIBUTES_FILE"):
        build_vocabulary(demo_kb, tmp_path / "nope.yaml")


@pytest.mark.parametrize("text, wanted, excluded", [
    ("in white no", [], ["white"]),  # a negation closing the clause after the colour ("en blanco no", glossed)
    ("not in blue", [], ["blue"]), ("blue or white?", ["blue", "white"], []),
    ("is it white or not", ["white"], []), ("white, no logo", ["white"], []),
])
def test_a_colour_is_excluded_by_a_negation_before_it_or_closing_its_clause(intents, text, wanted, excluded):
    u = understand(text, VOCAB, intents, has_results=True, has_focus=False)
    assert (u.colors, u.exclude_colors) == (wanted, excluded)

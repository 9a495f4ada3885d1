"""Unit tests of the dialogue logic: slots, intents, grounding, the writer and the model queue."""

from __future__ import annotations

import ast
import asyncio
import json
import threading
import time
from pathlib import Path

import pytest

from bot.grounding import GroundingCheck, first_sentence
from bot.filtering import search_query, shown_query
from bot.nlu import Understanding, understand
from bot.slots import Vocabulary, parse_ordinals, parse_price, parse_size
from bot.writer import Writer
from knowledge.filters import SearchFilters, filters_sql
from knowledge.specs import temperature_ratings, warmth_celsius
from knowledge.text import word_stem
from models.worker import ModelWorker

ROOT = Path(__file__).resolve().parent.parent
VOCAB = Vocabulary(
    brands=["Ridgeline", "Stonepine", "Trailwisp"], categories=["footwear", "jackets", "tents"],
    types=["hiking boots", "running shoes", "trail running shoes", "rain jacket", "beanie"],
    colors=["black", "blue", "navy", "grey", "red"], sizes=["42", "M", "XL"], flags=["waterproof", "insulated"],
    type_category={"hiking boots": "footwear", "running shoes": "footwear", "rain jacket": "jackets"},
)


@pytest.mark.parametrize("text, low, high", [
    ("boots under 150", None, 150), ("below €80", None, 80), ("less than 60 euros", None, 60),
    ("max 90", None, 90), ("between 50 and 80", 50, 80), ("from €20 to €40", 20, 40), ("over 200", 200, None),
    ("around 100", 80, 120), ("hiking boots 80 bucks", None, 80), ("at most 99.50", None, 99.5),
    ("I don't want to spend more than 160 euros", None, 160), ("not more than 70", None, 70),
    ("can't pay over 90 euros", None, 90), ("more than 50 euros", 50, None),
])
def test_price_forms(text, low, high):
    price = parse_price(text)
    assert price is not None and price.min == low and price.max == high


def test_a_negated_colour_is_left_out_not_asked_for(intents):
    u = understand("hiking boots, not red please", VOCAB, intents, has_results=False, has_focus=False)
    assert (u.colors, u.exclude_colors, u.types) == ([], ["red"], ["hiking boots"])
    u = understand("no red", VOCAB, intents, has_results=True, has_focus=False)
    assert (u.intent, u.exclude_colors) == ("refine", ["red"])
    assert understand("in red", VOCAB, intents, has_results=True, has_focus=False).colors == ["red"]


def test_numbers_that_are_not_prices():
    assert parse_price("size 42 boots") is None
    assert parse_price("a 2-person tent") is None
    assert parse_price("from 42") is None
    assert parse_price("backpacks between 30 and 40 litres") is None  # a volume
    assert parse_price("a sleeping bag under 1000 g") is None
    assert parse_price("a headlamp over 300 lumens") is None
    assert parse_price("boots under 150 in black").max == 150  # "in" is no unit


@pytest.mark.parametrize("text, sizes", [
    ("backpacks between 30 and 40 litres", ["30L", "35L", "40L"]), ("a 30-40l pack", ["30L", "35L", "40L"]),
    ("under 20 l", ["16L", "20L"]), ("at least 45 liters", ["55L"]), ("a 30 litre daypack", ["30L"]),
    ("around 38 litres", ["35L", "40L"]), ("a 100 litre duffel", None), ("size 42", None), ("30 euros", None),
])
def test_a_volume_becomes_the_catalogs_litre_sizes(text, sizes):
    vocab = Vocabulary(sizes=["16L", "20L", "30L", "35L", "40L", "55L", "42", "M"])
    found = vocab.find_volumes(text)
    assert (found[0] if found else None) == sizes


def test_sizes_and_ordinals():
    assert parse_size("I wear size 42") == "42"
    assert parse_size("does it come in XL?") == "XL"
    assert parse_size("a 2 person tent") is None
    assert parse_size("which sizes are available?") is None  # "sizes" is no size S
    assert parse_size("what sizes does it come in?") is None
    assert parse_size("size s please") == "S"
    assert parse_ordinals("compare the first and the third") == [1, 3]
    assert parse_ordinals("the last one") == [-1]
    assert parse_ordinals("number 4 please") == [4]


@pytest.mark.parametrize("text, positions", [
    ("compare the first and last", [1, -1]), ("last please", [-1]), ("show me the last", [-1]), ("last", [-1]),
    ("is the last one waterproof?", [-1]),
    ("how long does the battery last?", []), ("will it last?", []), ("does it last long?", []),  # the verb
    ("I'm hiking for the first time", []), ("second hand boots", []), ("I bought boots last year", []),
])
def test_ordinal_words_that_name_no_position(text, positions):
    assert parse_ordinals(text) == positions


@pytest.mark.parametrize("text, sizes", [
    ("a tent for 2 people", ["2-person"]), ("2-person tent", ["2-person"]), ("three man tent", ["3-person"]),
    ("a tent for two?", ["2-person"]), ("a tent that sleeps 3", ["3-person"]), ("2p tent", ["2-person"]),
    ("tent for 4 people", ["5-person", "6-person"]),  # none that size: every one that fits, smallest first
    ("a tent for six", ["6-person"]), ("a tent for 8 people", []),  # none fits: no filter
    ("hiking boots for men", []), ("running shoes for women", []), ("a stove for 2 days", []),
    # who is coming, counted: the speaker too
    ("camping with my two kids, what tent?", ["3-person"]), ("with our 2 children", ["5-person", "6-person"]),
    ("a tent for me and my wife", ["2-person"]), ("my partner and I need a tent", ["2-person"]),
    ("a family of six", ["6-person"]), ("the three of us", ["3-person"]), ("a tent for my kids", []),
    ("a 2 person tent for the three of us", ["2-person"]),  # a size said outright comes first
])
def test_a_head_count_becomes_the_catalogs_person_sizes(text, sizes):
    vocab = Vocabulary(sizes=["42", "M", "1-person", "2-person", "3-person", "6-person", "5-person"])
    assert vocab.find_capacity(text) == sizes


def test_a_head_count_with_several_fitting_sizes_allows_them_all(intents):
    vocab = Vocabulary(types=["family tent"], sizes=["2-person", "5-person", "6-person"])
    u = understand("the cheapest tent that sleeps 4", vocab, intents, has_results=False, has_focus=False)
    assert (u.size, u.size_options) == (None, ["5-person", "6-person"])
    u = understand("a tent for 2 people", vocab, intents, has_results=False, has_focus=False)
    assert (u.size, u.size_options) == ("2-person", [])


@pytest.mark.parametrize("text, values", [
    ("running shoes for women", ("women", "unisex")), ("women's fleece", ("women", "unisex")),
    ("a rain jacket for men", ("men", "unisex")), ("mens jacket", ("men", "unisex")),
    ("boots for a man", ("men", "unisex")), ("female hiking boots", ("women", "unisex")),
    ("a 3 man tent", None), ("3-man tent", None),  # a head count, not a gender
    ("shoes for men and women", None), ("a human-powered lamp", None), ("hiking boots", None),
])
def test_a_named_gender_keeps_the_catalogs_value_and_unisex(text, values):
    assert Vocabulary(genders=["men", "women", "unisex"]).find_gender(text) == values


def test_a_gender_the_catalog_does_not_record_filters_nothing():
    assert Vocabulary(genders=["unisex"]).find_gender("shoes for women") is None
    assert Vocabulary().find_gender("shoes for women") is None


def test_catalog_vocabulary_matching():
    assert VOCAB.find_types("show me beanies")[0] == ["beanie"]
    types, _ = VOCAB.find_types("running shoes")
    assert set(types) == {"running shoes", "trail running shoes"}
    assert VOCAB.find_colors("a gray or dark blue jacket") == ["grey", "navy"]
    assert VOCAB.find_flags("not waterproof please") == {"waterproof": False}
    assert VOCAB.find_brands("only ridgeline") == ["Ridgeline"]


def test_attribute_names_become_question_words():
    vocab = Vocabulary.from_catalog({}, {}, ["waterproof"], ["men"], ["battery", "lumens", "ip_rating", "weight_g",
                                                                      "gender", "waterproof"])
    assert vocab.attribute_words == ["battery", "lumen", "rating", "weight"]  # no short, gender or flag words
    assert vocab.names_attribute("how long does the battery last?") and vocab.names_attribute("how many lumens?")
    assert not vocab.names_attribute("is it waterproof?") and not vocab.names_attribute("what about for women?")
    assert not Vocabulary().names_attribute("how long does the battery last?")


@pytest.mark.parametrize("text, state, intent", [
    ("hello", {}, "greeting"), ("help", {}, "help"), ("thanks a lot", {}, "thanks"),
    ("waterproof hiking boots under 150", {}, "search"), ("cheaper", {"has_results": True}, "refine"),
    ("in black", {"has_results": True}, "refine"), ("only Ridgeline", {"has_results": True}, "refine"),
    ("show more", {"has_results": True}, "more"), ("the second one", {"has_results": True}, "details"),
    ("is it waterproof?", {"has_focus": True}, "product_question"),
    ("does the first one come in XL?", {"has_results": True}, "product_question"),
    ("compare 1 and 2", {"has_results": True}, "compare"), ("what is your return policy?", {}, "faq"),
    ("what would you suggest for me", {}, "recommend"), ("something similar to the first one", {"has_results": True}, "similar"),
    ("I wear size 42", {}, "preference"), ("my budget is 80", {}, "preference"),
    ("I don't like Ridgeline", {}, "preference"), ("forget me", {}, "forget"), ("export my data", {}, "export"),
    ("what do you know about me", {}, "show_data"), ("I want to talk to a human", {}, "human"),
    ("what do you remember about me?", {}, "show_data"), ("what data do you have on me", {}, "show_data"),
    ("what have you saved", {}, "show_data"), ("how can I delete my account?", {}, "faq"),
    ("please erase everything you know about me", {}, "forget"), ("forget about me", {}, "forget"),
    ("send me a copy of my data", {}, "export"), ("download all my data", {}, "export"),
    ("delete my size", {}, "preference"),
    ("what information do you have about the first one?", {"has_results": True}, "product_question"),
    ("how many in stock?", {"has_results": True}, "product_question"),
    ("what colours does it come in?", {"has_focus": True}, "product_question"),
    ("what colours?", {"has_focus": True}, "product_question"),
    ("how much is shipping?", {"has_results": True}, "faq"),
    ("I hate red", {}, "preference"), ("I don't like red hiking boots", {}, "search"),
    ("something lighter", {"has_results": True}, "refine"), ("anything warmer?", {"has_results": True}, "refine"),
    ("", {}, "empty"), ("🙂🙂", {}, "empty"), ("rain jacket", {"has_results": True}, "search"),
])
def test_intents(intents, text, state, intent):
    u = understand(text, VOCAB, intents, has_results=state.get("has_results", False), has_focus=state.get("has_focus", False))
    assert u.intent == intent, (text, u.intent)


def test_a_new_product_type_is_a_new_search_not_a_refinement(intents):
    u = understand("blue rain jacket", VOCAB, intents, has_results=True, has_focus=False)
    assert u.intent == "search" and u.types == ["rain jacket"] and u.colors == ["blue"]


def test_yes_confirms_only_when_something_is_pending(intents):
    assert understand("yes", VOCAB, intents, has_results=False, has_focus=False, pending="confirm_forget").intent == "confirm"
    assert understand("yes", VOCAB, intents, has_results=False, has_focus=False).intent != "confirm"


def test_grounding_check_rejects_invented_numbers_prices_and_names():
    check = GroundingCheck(["Ridgeline Aurora Men's Waterproof Hiking Boot", "Ridgeline"])
    facts = "5 products found for: waterproof hiking boots."
    assert check.accept("Here are some waterproof hiking boots for wet trails.", facts, "waterproof hiking boots")
    assert not check.accept("These boots cost only 20 euros!", facts)
    assert not check.accept("Get 50% off waterproof boots today.", facts)
    assert not check.accept("The Ridgeline boots are the best.", facts)
    assert not check.accept("I'm sorry, as an AI I cannot help.", facts)
    assert not check.accept("Here are waterproof hiking boots, but I'll add a note to the end.", facts, "hiking boots")
    assert not check.accept("Here are some lovely tents.", facts, "waterproof hiking boots")
    assert check.accept("Here are 5 waterproof hiking boots.", facts, "hiking boots")


def test_first_sentence():
    assert first_sentence('"Here you go. More text"') == "Here you go."
    assert first_sentence("line one\nline two") == "line one"


class FakeChatModel:
    """A scripted chat model that also detects two completions running at once."""

    def __init__(self, text="Here are some waterproof hiking boots for you.", delay=0.0, fail=False):
        self.text, self.delay, self.fail = text, delay, fail
        self.active = 0
        self.overlaps = 0
        self.calls = 0
        self.lock = threading.Lock()

    def generate(self, messages, *, max_tokens, stream=False):
        def pieces():
            with self.lock:
                self.active += 1
                self.calls += 1
                if self.active > 1:
                    self.overlaps += 1
            try:
                if self.fail:
                    raise RuntimeError("model crashed")
                for word in self.text.split(" "):
                    time.sleep(self.delay)
                    yield word + " "
            finally:
                with self.lock:
                    self.active -= 1
        return pieces() if stream else "".join(pieces())


def _writer(model, timeout=2.0):
    return Writer(ModelWorker(model), GroundingCheck(["Ridgeline"]), max_tokens=32, timeout=timeout)


async def test_writer_uses_checked_model_text():
    writer = _writer(FakeChatModel())
    out = await writer.sentence("boots", "products found for: waterproof hiking boots", "TEMPLATE", topic="hiking boots")
    assert out == "Here are some waterproof hiking boots for you."


async def test_writer_falls_back_on_invented_facts_failure_and_timeout():
    bad = _writer(FakeChatModel("Ridgeline boots cost 10 euros."))
    assert await bad.sentence("boots", "products found for: boots", "TEMPLATE") == "TEMPLATE"
    broken = _writer(FakeChatModel(fail=True))
    assert await broken.sentence("boots", "products found for: boots", "TEMPLATE") == "TEMPLATE"
    slow = _writer(FakeChatModel(delay=0.3), timeout=0.2)
    assert await slow.sentence("boots", "products found for: boots", "TEMPLATE") == "TEMPLATE"


async def test_writer_rejects_words_echoed_from_its_worked_example():
    echo = "Here is a tent that should keep your feet warm on the slopes."
    facts = "products found for: tent. Backpacking tents in silicone-coated nylon."
    writer = _writer(FakeChatModel(echo))
    assert await writer.sentence("a tent for 2 people", facts, "TEMPLATE", topic="tent") == "TEMPLATE"
    assert [p async for p in writer.stream("a tent for 2 people", facts, "TEMPLATE", topic="tent")] == ["TEMPLATE"]
    # the same words are fine when the customer or the facts use them
    warm = _writer(FakeChatModel("Here are warm gloves for the slopes."))
    assert await warm.sentence("warm gloves for the slopes", "products found for: gloves", "TEMPLATE",
                               topic="gloves") == "Here are warm gloves for the slopes."


@pytest.mark.parametrize("generated", [
    "Here's a product that's perfect for your camping needs.",  # sentences the embedded 135M model wrote
    "Here's a product for camping that's made with a special blend of ingredients.",
    "Here's a short list of the top 5 camping stoves found in the FACTS.",
    "Here's a new favorite product: 5 amazing camping stoves.",
])
async def test_writer_rejects_claims_that_neither_the_facts_nor_the_customer_make(generated):
    facts = "5 products found for: camping stove."
    writer = _writer(FakeChatModel(generated))
    assert await writer.sentence("camping stove", facts, "TEMPLATE", topic="camping stove") == "TEMPLATE"
    plain = _writer(FakeChatModel("Here are some great camping stoves for you."))  # presents, claims nothing
    assert await plain.sentence("camping stove", facts, "TEMPLATE", topic="camping stove") == \
        "Here are some great camping stoves for you."


async def test_streaming_releases_only_checked_sentences():
    writer = _writer(FakeChatModel("Here are great hiking boots. Ridgeline costs 5 euros."))
    pieces = [p async for p in writer.stream("boots", "products found for: hiking boots", "TEMPLATE", topic="hiking boots")]
    assert pieces == ["Here are great hiking boots."]


async def test_queue_never_runs_two_completions_at_once():
    model = FakeChatModel(delay=0.01)
    worker = ModelWorker(model)
    results = await asyncio.gather(*[worker.complete([{"role": "user", "content": str(i)}], max_tokens=8, timeout=10)
                                     for i in range(8)])
    assert all(r and r.startswith("Here are") for r in results)
    assert model.calls == 8 and model.overlaps == 0


async def test_a_request_that_times_out_in_the_queue_never_runs():
    model = FakeChatModel(delay=0.05)
    worker = ModelWorker(model)
    slow = asyncio.create_task(worker.complete([{"role": "user", "content": "a"}], max_tokens=8, timeout=5))
    await asyncio.sleep(0.01)
    late = await worker.complete([{"role": "user", "content": "b"}], max_tokens=8, timeout=0.05)
    assert late is None
    assert (await slow) is not None
    await asyncio.sleep(0.1)
    assert model.calls == 1


def test_the_core_imports_no_chat_sdk():
    """bot/ must stay platform-agnostic: no Telegram or Slack library anywhere in it."""
    forbidden = ("telegram", "slack_bolt", "slack_sdk", "adapters")
    for path in (ROOT / "bot").rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            for name in names:
                assert not name.split(".")[0] in forbidden, f"{path.name} imports {name}"


def test_prompt_budget_truncates_facts_to_fit_the_context():
    facts = "fact " * 2000
    roomy = Writer(None, GroundingCheck([]), max_tokens=32, timeout=1, context_tokens=2048)
    tight = Writer(None, GroundingCheck([]), max_tokens=32, timeout=1, context_tokens=400)
    roomy_len = len(roomy.messages("q", facts)[-1]["content"])
    tight_len = len(tight.messages("q", facts)[-1]["content"])
    assert tight_len < roomy_len <= 600 + 200 + 100
    total_chars = sum(len(m["content"]) for m in tight.messages("q" * 5000, facts))
    assert total_chars / 3 + 32 <= 400 + 60  # prompt plus answer fit the context at 3 chars/token


def test_secrets_are_redacted_from_log_lines(caplog):
    import logging

    from shopguide.logs import RedactSecrets

    redactor = RedactSecrets(["xoxb-very-secret-token-value"])
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "calling %s with %s", (
        "https://api.telegram.org/bot123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw/getMe", "xoxb-very-secret-token-value"), None)
    redactor.filter(record)
    text = record.getMessage()
    assert "AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw" not in text and "very-secret" not in text and "***" in text


async def test_schema_extraction_fills_only_slots_the_catalog_and_user_back(intents):
    from bot.extract import read_command

    class JsonModel(FakeChatModel):
        def generate(self, messages, *, max_tokens, stream=False, json_schema=None):
            assert json_schema is not None
            self.text = ('{"type": "rain jacket", "colors": ["navy", "chartreuse"], "brand": "Madeup", '
                         '"max_price": 120, "min_price": 999}')
            return super().generate(messages, max_tokens=max_tokens, stream=stream)

    u = understand("something for stormy weather up to 120 please", VOCAB, intents, has_results=False, has_focus=False)
    u.price = None
    out = await read_command(ModelWorker(JsonModel()), u, VOCAB, ["search", "faq"], timeout=2)
    assert out.types == ["rain jacket"] and out.colors == ["navy"] and out.brands == []
    assert out.price is not None and out.price.max == 120 and out.price.min is None  # 999 was never typed


@pytest.mark.parametrize("mode", ["keyword", "vector", "hybrid"])
def test_an_attribute_filter_with_several_allowed_values(demo_kb, mode):
    from knowledge.filters import SearchFilters
    from knowledge.search import ProductSearch

    search = ProductSearch(demo_kb)
    allowed = ("women", "unisex")
    f = SearchFilters(types=("running shoes", "trail running shoes"), attributes={"gender": allowed})
    hits = search.search("running shoes", f, top_k=20, mode=mode).hits
    assert len(hits) >= 3 and all(h.product.attributes.get("gender") in allowed for h in hits)
    # the same filter after a round trip through the stored conversation state (a list, not a tuple)
    again = SearchFilters.from_dict(json.loads(json.dumps(f.to_dict())))
    assert [h.product.id for h in search.search("running shoes", again, top_k=20, mode=mode).hits] == [h.product.id for h in hits]
    everyone = search.search("running shoes", SearchFilters(types=f.types), top_k=20, mode=mode).hits
    assert any(h.product.attributes.get("gender") == "men" for h in everyone)  # the filter does remove some


@pytest.mark.parametrize("a, b, same", [
    ("camping", "camp", True), ("hiking", "hike", True), ("climber", "climb", True), ("sleeping", "sleep", True),
    ("gloves", "glove", True), ("weather", "weatherproof", False), ("bed", "bedding", False),
])
def test_a_light_stem_joins_forms_of_one_word_for_search_confidence(a, b, same):
    assert (word_stem(a) == word_stem(b)) is same


@pytest.mark.parametrize("text, query", [
    ("I need a gift for my dad who likes hiking", "hiking"),
    ("birthday present for my son, he loves camping", "camping"),
    ("a gift for someone who is into trail running", "trail running"),
    ("a gift for my sister: a warm jacket", "warm jacket"),
    ("a present for my wife", ""),
    ("hiking boots", "hiking boots"),
])
def test_a_gift_is_searched_by_what_the_person_enjoys(intents, text, query):
    u = understand(text, Vocabulary(), intents, has_results=False, has_focus=False)
    assert u.gift is (text != "hiking boots") and search_query(u) == query


@pytest.mark.parametrize("text, query", [
    ("I need a rain jacket under 100 euros", "rain jacket"),
    ("the lightest tent", "tent"),
    ("show me some warm gloves", "warm gloves"),
    ("a-frame tent", "a-frame tent"), ("what tents do you have?", "tents"),
    ("which kinds of stoves do you sell?", "stoves"),
])
def test_the_search_words_drop_a_leading_article(intents, text, query):
    assert search_query(understand(text, Vocabulary(), intents, has_results=False, has_focus=False)) == query


def test_temperature_ratings_are_read_from_the_record_in_celsius_comfort_first():
    assert temperature_ratings({"limit_temp_c": -15, "comfort_temp_c": -10, "weight_g": 970}) == \
        {"comfort": -10.0, "limit": -15.0}
    assert temperature_ratings({"temp_rating_f": 14}) == {"rating": -10.0}
    assert temperature_ratings({"comfort_temp_c": True, "temp_c": "cold"}) == {}
    assert warmth_celsius({"limit_temp_c": -4, "comfort_temp_c": 2}) == 2.0 and warmth_celsius({}) is None


def test_an_avoided_colour_leaves_out_only_products_offered_in_nothing_else():
    import sqlite3
    db = sqlite3.connect(":memory:")
    db.execute("CREATE TABLE products (id TEXT, colors TEXT)")
    db.executemany("INSERT INTO products VALUES (?, ?)", [
        ("only-orange", '["orange"]'), ("orange-teal", '["Orange", "teal"]'), ("none", None), ("empty", "[]"),
        ("orange-red", '["orange", "red"]'),
    ])
    cond, params = filters_sql(SearchFilters(avoid_colors=("orange", "red")))
    kept = {r[0] for r in db.execute(f"SELECT p.id FROM products p WHERE {cond}", params)}
    assert kept == {"orange-teal", "none", "empty"}



def _bag():
    from knowledge.schema import Product
    return Product(id="B1", title="Emberlite Kite +5°C Down Sleeping Bag", type="down sleeping bag",
                   material="down 700 fill", colors=("navy", "red"), attributes={"shape": "mummy", "weight_g": 720})


@pytest.mark.parametrize("question, answer", [
    ("is it down or synthetic?", "Down: Emberlite Kite +5°C Down Sleeping Bag is made of down 700 fill."),
    ("synthetic or down?", "Down: Emberlite Kite +5°C Down Sleeping Bag is made of down 700 fill."),
    ("is it mummy or rectangular?", "Mummy: Emberlite Kite +5°C Down Sleeping Bag has shape mummy."),
    ("is it red or green?", "Red: Emberlite Kite +5°C Down Sleeping Bag comes in navy, red."),
    ("is it a bag or a quilt?", "Bag: Emberlite Kite +5°C Down Sleeping Bag is a down sleeping bag."),
    ("Kite or Sierra?", "Kite: it is the Emberlite Kite +5°C Down Sleeping Bag."),
    ("is it navy or red?", None),  # both: the colour answer says which colours it comes in
    ("is it wool or cotton?", None), ("is it waterproof or not?", None), ("is it 5 or 10 degrees?", None),
    ("is it down?", None),  # no choice asked
])
def test_either_or_questions_name_the_option_the_record_holds(question, answer):
    from bot.either_or import either_or_answer
    assert either_or_answer(_bag(), question) == answer


def test_either_or_reads_possessives_and_gender():
    from bot.either_or import either_or_answer
    from knowledge.schema import Product
    boot = Product(id="H1", title="Stonepine Gale Men's Leather Hiking Boot", material="nubuck leather",
                   attributes={"gender": "men"})
    assert either_or_answer(boot, "is it men's or women's?") == "Men: Stonepine Gale Men's Leather Hiking Boot is for men."
    assert either_or_answer(boot, "for women or for men?") == "Men: Stonepine Gale Men's Leather Hiking Boot is for men."


def test_a_glossed_message_is_quoted_in_the_customers_words():
    """The reply quotes what the customer wrote (or the kind it names), never the gloss the slots were read from."""
    glossed = Understanding(intent="search", text="比较 a moment the two 日用背包", said="比较一下最便宜的两个日用背包")
    assert shown_query(glossed, "比较 a moment the two 日用背包") == "比较一下最便宜的两个日用背包"
    glossed.types = ["daypack"]
    assert shown_query(glossed, "比较 a moment the two 日用背包") == "daypack"
    plain = Understanding(intent="search", text="rain jackets", said="rain jackets")
    assert shown_query(plain, "rain jackets") == "rain jackets"

"""Typo correction towards the catalog's words, on the real demo store and the embedding model's word list."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from knowledge.spelling import Speller, default_word_list, read_word_list
from knowledge.text import edit_distance
from knowledge.ingest import ingest_file
from shopguide.cli.app import build_runtime, open_speller
from shopguide.errors import NotConfigured
from shopguide.settings import Settings


@pytest.mark.parametrize("a, b, d", [
    ("hikng", "hiking", 1), ("backpak", "backpack", 1), ("hikign", "hiking", 1),  # missing letter; swapped pair
    ("jakcet", "jacket", 1), ("jackit", "jacket", 1), ("tent", "tent", 0), ("wife", "wide", 1),
    ("sleping", "sleeping", 1), ("compair", "compare", 2),
])
def test_edit_distance(a, b, d):
    assert edit_distance(a, b, 2) == d  # the distance typo correction uses


def test_edit_distance_stops_past_its_limit():
    assert edit_distance("waterproof", "headlamp", 1) == 2
    assert edit_distance("a", "abcd", 2) == 3


@pytest.fixture(scope="module")
def english() -> frozenset[str]:
    path = default_word_list()
    assert path is not None, "pyspellchecker is a dependency"
    return read_word_list(path)


@pytest.fixture
def speller(demo_kb, english) -> Speller:
    return Speller(demo_kb.store, english)


@pytest.mark.parametrize("typed, expected, fixes", [
    ("hikng boots", "hiking boots", [("hikng", "hiking")]),
    ("a waterprof jaket", "a waterproof jacket", [("waterprof", "waterproof"), ("jaket", "jacket")]),
    ("Ridgline boots", "Ridgeline boots", [("Ridgline", "Ridgeline")]),
    ("a sleping bag and a headlam", "a sleeping bag and a headlamp", [("sleping", "sleeping"), ("headlam", "headlamp")]),
    ("how much is shiping?", "how much is shipping?", [("shiping", "shipping")]),
    ("hikng hikng", "hiking hiking", [("hikng", "hiking")]),
])
def test_unknown_words_become_the_nearest_catalog_word(speller, typed, expected, fixes):
    assert speller.correct(typed) == (expected, fixes)


@pytest.mark.parametrize("text", [
    "a present for my wife",  # "wife" is one letter from "wide" but an English word
    "boots I can fasten quickly", "a sloped tent",  # words the catalog lacks are not made catalog words
    "do you have Patagonia?", "SG-HB-1001", "a 40l pack", "mail me at mueller@gmx.de", "see shop.example/tents",
    "qwzx boots",  # nothing near enough
    "hi", "tnt",  # short words are left alone
    "", "!!!", "x" * 10_000, "hikng" + "abcdefghij" * 400,  # a 4,005-letter "word" is no typing error
])
def test_known_short_and_unmatched_words_stay(speller, text):
    assert speller.correct(text) == (text, [])


def test_the_english_list_is_what_keeps_plain_words(demo_kb, english):
    """Without "wife" and "fasten" in the list, they would become the catalog's "wide" and "faster"."""
    lacking = Speller(demo_kb.store, english - {"wife", "fasten"})
    assert lacking.correct("a present for my wife, boots I can fasten") == (
        "a present for my wide, boots I can faster", [("wife", "wide"), ("fasten", "faster")])


def test_no_word_list_corrects_nothing(demo_kb):
    assert Speller(demo_kb.store, frozenset()).correct("hikng boots") == ("hikng boots", [])


def test_new_catalog_words_are_picked_up(writable_kb, english, tmp_path):
    speller = Speller(writable_kb.store, english)
    assert speller.correct("a quixotrek stove") == ("a quixotrek stove", [])
    f = tmp_path / "new.jsonl"
    f.write_text(json.dumps({"id": "NEW-1", "title": "Quixotrack Camping Stove", "price": 40}) + "\n")
    ingest_file(writable_kb, "product", f)
    assert speller.correct("a quixotrek stove") == ("a quixotrack stove", [("quixotrek", "quixotrack")])


def test_the_speller_is_configured_from_settings(demo_kb, tmp_path):
    assert open_speller(Settings(data_dir=tmp_path, spelling_correction=False, _env_file=None), demo_kb) is None
    words = tmp_path / "words.txt"
    words.write_text("Hiking\nboots\n")
    own = open_speller(Settings(data_dir=tmp_path, spelling_words=words, _env_file=None), demo_kb)
    assert own is not None and own.english == frozenset({"hiking", "boots"})
    with pytest.raises(NotConfigured, match="SHOPGUIDE_SPELLING_WORDS"):
        open_speller(Settings(data_dir=tmp_path, spelling_words=tmp_path / "missing.txt", _env_file=None), demo_kb)
    default = open_speller(Settings(data_dir=tmp_path, _env_file=None), demo_kb)
    assert default is not None and len(default.english) > 100_000
    assert {"wife", "fasten", "hiking", "the"} <= default.english and "hikng" not in default.english


def test_word_lists_in_each_format(embedder, tmp_path):
    pieces = read_word_list(Path(embedder.path) / "vocab.txt")  # a word-piece vocabulary: whole words only
    assert {"wife", "hiking"} <= pieces and not any(w.startswith(("#", "[")) for w in pieces)
    (tmp_path / "w.json").write_text('{"Tent": 3, "boot": 1, "two words": 1}')
    assert read_word_list(tmp_path / "w.json") == {"tent", "boot"}
    import gzip
    with gzip.open(tmp_path / "w.json.gz", "wt") as f:
        f.write('["stove", "40l"]')
    assert read_word_list(tmp_path / "w.json.gz") == {"stove"}


async def test_the_core_reads_the_corrected_words_and_logs_what_was_typed(settings, demo_kb, tmp_path):
    from bot.types import IncomingMessage
    rt = build_runtime(settings, kb=demo_kb, load_llm=False, memory_path=tmp_path / "memory.db")
    try:
        replies = await rt.assistant.handle(IncomingMessage(platform="console", user_id="u", chat_id="c",
                                                            text="hikng boots"))
        assert replies[0].text.startswith('(I read "hikng" as "hiking".)')
        assert replies[0].products and all("Hiking Boot" in p.title for p in replies[0].products)
        events = rt.memory.export("console:u")["events"]
        assert events[-1]["text"] == "hikng boots"
        german = await rt.assistant.handle(IncomingMessage(platform="console", user_id="u", chat_id="c",
                                                           text="ich suche Wanderschuhe für den Winter"))
        assert "Ich habe" not in german[0].text and "I read" not in german[0].text  # German words are no English typos
        assert german[0].products
    finally:
        rt.close()

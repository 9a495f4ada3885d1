"""Other names read as the catalog's own (knowledge/synonyms.py), on the real demo store's keyword index."""

from __future__ import annotations

import json

import pytest

from bot.types import IncomingMessage
from knowledge.ingest import ingest_file
from knowledge.synonyms import BUNDLED, Thesaurus, open_thesaurus, read_groups
from shopguide.cli.app import open_store_thesaurus
from shopguide.errors import NotConfigured
from shopguide.settings import Settings


@pytest.fixture
def thesaurus(demo_kb) -> Thesaurus:
    return open_thesaurus(demo_kb.store)


@pytest.mark.parametrize("typed, expected, said", [
    ("do you have a head torch?", "do you have a headlamp?", [("head torch", "headlamp")]),
    ("any rucksacks for hiking?", "any backpacks for hiking?", [("rucksacks", "backpacks")]),  # plural kept
    ("Rucksack under 100", "Backpack under 100", [("Rucksack", "Backpack")]),
    ("a head  torch and walking sticks", "a headlamp and trekking poles",
     [("head  torch", "headlamp"), ("walking sticks", "trekking poles")]),
    ("warm trousers", "warm pants", [("trousers", "pants")]),
    ("a head-torch", "a headlamp", [("head-torch", "headlamp")]),  # hyphenated or spaced alike
    ("RUCKSACK!!!", "BACKPACK!!!", [("RUCKSACK", "BACKPACK")]),  # shouted stays shouted
])
def test_names_the_catalog_lacks_become_its_own(thesaurus, typed, expected, said):
    assert thesaurus.read(typed) == (expected, said)


@pytest.mark.parametrize("text", [
    "hiking boots",  # in no group
    "a headlamp", "a backpack",  # already the catalog's word
    "a jumper",  # the catalog has no word of its group either: nothing to read it as
    "headtorchless", "torch-lit", "",  # only whole words and phrases
])
def test_other_text_stays(thesaurus, text):
    assert thesaurus.read(text) == (text, [])


def test_a_word_the_catalog_uses_is_never_changed(writable_kb, tmp_path):
    """Once the store sells a "rucksack", the word is its own and stays; the change is seen without a restart."""
    thesaurus = open_thesaurus(writable_kb.store)
    assert thesaurus.read("a rucksack")[0] == "a backpack"
    f = tmp_path / "new.jsonl"
    f.write_text(json.dumps({"id": "NEW-1", "title": "Fellwarden Classic Canvas Rucksack", "price": 60}) + "\n")
    ingest_file(writable_kb, "product", f)
    assert thesaurus.read("a rucksack") == ("a rucksack", [])


def test_groups_file_format_and_the_stores_own_groups(demo_kb, tmp_path, caplog):
    own = tmp_path / "synonyms.txt"
    own.write_text("# ours\nheadlamp, Miner's Lamp ,  \nsingle-entry line\n\nwater bottle, canteen  # a comment\n")
    with caplog.at_level("WARNING", logger="knowledge.synonyms"):
        assert read_groups(own) == [("headlamp", "miner's lamp"), ("water bottle", "canteen")]
    assert [r.getMessage() for r in caplog.records] == [
        f"{own}:3: a synonym group needs two names or more, comma-separated; line skipped"]
    bundled = read_groups(BUNDLED)
    assert ("backpack", "rucksack", "knapsack") in bundled and all(len(g) >= 2 for g in bundled)
    settings = Settings(data_dir=tmp_path, synonyms_file=own, _env_file=None)
    thesaurus = open_store_thesaurus(settings, demo_kb)
    assert thesaurus.read("a canteen and a rucksack")[0] == "a water bottle and a backpack"
    assert open_store_thesaurus(Settings(data_dir=tmp_path, synonyms=False, _env_file=None), demo_kb) is None
    with pytest.raises(NotConfigured, match="SHOPGUIDE_SYNONYMS_FILE"):
        open_store_thesaurus(Settings(data_dir=tmp_path, synonyms_file=tmp_path / "none.txt", _env_file=None), demo_kb)


async def test_the_assistant_finds_headlamps_for_a_head_torch(runtime_no_llm):
    """Before, "head torch" found tents by its vectors and was told the shop has none."""
    msg = IncomingMessage(platform="console", user_id="u", chat_id="c", text="do you have a head torch?")
    replies = await runtime_no_llm.assistant.handle(msg)
    assert replies[0].text.startswith('(I read "head torch" as "headlamp".)')
    titles = [p.title for p in replies[0].products]
    assert titles and all(t.endswith("Headlamp") for t in titles)
    events = runtime_no_llm.memory.export("console:u")["events"]
    assert events[-1]["text"] == "do you have a head torch?"  # the log keeps what was typed

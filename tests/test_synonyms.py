"""Other names read as the catalog's own (knowledge/synonyms.py), on the real demo store's keyword index."""

from __future__ import annotations

import json

import pytest

from bot.types import IncomingMessage
from knowledge.ingest import ingest_file
from knowledge.synonyms import BUNDLED, Thesaurus, ingest_synonyms, open_thesaurus, read_groups, store_groups
from shopguide.cli.app import open_store_thesaurus
from shopguide.errors import IngestError, NotConfigured
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


# A store's names for its kinds in other languages (issue 22): a small thesaurus of our own, not the demo store's.
OTHER_LANGUAGES = [
    ("socks", "calcetines", "calcetín", "Socken", "chaussette", "袜子"),
    ("hiking boots", "Wanderschuhe", "chaussures de randonnée", "登山鞋"),
    ("footwear", "Schuhe"),
    ("t-shirt", "camiseta", "T恤"),
    ("tent", "tente", "Zelt"),
]
KEEP = frozenset({"socks", "hiking boots", "footwear", "t-shirt", "tent", "red"})  # the catalog's own names


@pytest.fixture
def languages(demo_kb) -> Thesaurus:
    return Thesaurus(demo_kb.store, [tuple(p.lower() for p in g) for g in OTHER_LANGUAGES])


@pytest.mark.parametrize("typed, expected", [
    ("calcetines porfa", "socks porfa"),  # es
    ("un calcetín de lana", "un socks de lana"),  # es, singular: the catalog's name as it is
    ("CAMISETAS en azul", "T-SHIRTS en azul"),  # es plural, shouted
    ("zeig mir Socken", "zeig mir Socks"),  # de, case-insensitive, the capital kept
    ("Wanderschuhe in 42", "Hiking boots in 42"),  # de compound, whole
    ("des chaussettes chaudes", "des socks chaudes"),  # fr plural of a singular phrase
    ("chaussures de randonnée imperméables", "hiking boots imperméables"),  # fr, a phrase of several words
    ("有袜子吗？", "有 socks 吗？"),  # zh: found inside a run of characters, set apart from it
    ("我要T恤", "我要 t-shirt"),
    ("登山鞋和袜子", "hiking boots 和 socks"),
    ("une tente rouge", "une tent rouge"),  # though the index's English stemming finds "tent" in "tente"
])
def test_a_kind_named_in_another_language_is_read_as_the_catalogs(languages, typed, expected):
    read, said = languages.read(typed, keep=KEEP)
    assert " ".join(read.split()) == expected and said


@pytest.mark.parametrize("text", [
    "Wanderschuhe"[:-1] + "schuhen-Ersatz",  # no whole phrase
    "Trailschuhe",  # "Schuhe" is not read inside a German compound
    "calcetinesx", "socks", "Socks und T-Shirts",  # the catalog's own names stay
])
def test_only_whole_phrases_of_other_languages(languages, text):
    assert languages.read(text, keep=KEEP) == (text, [])


def test_the_stores_thesaurus_is_ingested_with_it(writable_kb, tmp_path, caplog):
    """`ingest synonyms FILE`: the groups become the store's (idempotent; a broken line skipped and reported), and
    the thesaurus opened on the store reads them; a new file replaces the groups."""
    own = tmp_path / "synonyms.txt"
    own.write_text("socks, Socken, calcetines\nnur ein Wort\n\nheadlamp, Stirnlampe  # de\n", encoding="utf-8")
    demo = len(store_groups(writable_kb.store))  # the demo store's own, replaced
    with caplog.at_level("WARNING", logger="knowledge.synonyms"):
        first = ingest_synonyms(writable_kb.store, own)
    assert (first.added, first.unchanged, first.removed, first.rejected, first.exit_code) == (2, 0, demo, 1, 1)
    assert [str(p) for p in first.problems] == [
        f"{own}:2: a synonym group needs two names or more, comma-separated; line skipped"]
    assert f"{own}:2:" in caplog.text
    assert store_groups(writable_kb.store) == [("socks", "socken", "calcetines"), ("headlamp", "stirnlampe")]
    again = ingest_synonyms(writable_kb.store, own)
    assert (again.added, again.unchanged, again.removed) == (0, 2, 0)
    assert open_thesaurus(writable_kb.store).read("eine Stirnlampe")[0] == "eine Headlamp"
    running = open_thesaurus(writable_kb.store)  # a running assistant's: sees the next ingest without a restart
    assert running.read("chaussettes")[0] == "chaussettes"
    own.write_text("socks, Socken, calcetines, chaussettes\n", encoding="utf-8")
    changed = ingest_synonyms(writable_kb.store, own)
    assert running.read("chaussettes")[0] == "socks" and running.read("Stirnlampe")[0] == "Stirnlampe"
    assert (changed.added, changed.unchanged, changed.removed, changed.rejected) == (1, 0, 2, 0)
    thesaurus = open_thesaurus(writable_kb.store)
    assert thesaurus.read("Stirnlampe")[0] == "Stirnlampe" and thesaurus.read("chaussettes")[0] == "socks"
    with pytest.raises(IngestError, match="cannot read synonyms file"):
        ingest_synonyms(writable_kb.store, tmp_path / "missing.txt")


def test_the_demo_store_names_each_of_its_kinds_in_four_languages(demo_kb):
    """Its synonyms.txt (shopguide/demo) is store data, read by `ingest demo`: every type has names in each."""
    from knowledge.catalog_profile import catalog_words

    groups = store_groups(demo_kb.store)
    types = set(catalog_words(demo_kb.store).type_category)
    named = {g[0]: g[1:] for g in groups}
    assert types <= set(named), types - set(named)
    han = [t for t in types if not any("\u4e00" <= ch <= "\u9fff" for p in named[t] for ch in p)]
    assert not han, f"types without a Chinese name: {han}"
    thesaurus, keep = open_thesaurus(demo_kb.store), frozenset(types)
    for typ in types:  # each type's names are read as its own catalog name
        read = {p: thesaurus.read(p, keep=keep)[0].strip().lower() for p in named[typ]}
        assert all(r.rstrip("s") == typ.rstrip("s") for r in read.values()), read


async def test_a_kind_in_the_customers_language_gets_its_products_without_a_notice(runtime_no_llm, demo_kb):
    """The demo store's names: "Socken" lists socks only (it was socks beside sandals), answered in German with no
    "(I read ...)" notice; a lone "calcetines" is read as Spanish, not as an English word corrected."""
    for user, text, lang in (("de", "zeig mir Socken", "de"), ("es", "calcetines", "es")):
        msg = IncomingMessage(platform="console", user_id=user, chat_id=user, text=text)
        replies = await runtime_no_llm.assistant.handle(msg)
        types = {demo_kb.store.get_product(p.id).type for p in replies[0].products}
        assert types == {"socks"}, (text, types)
        assert "(I read" not in replies[0].text
        assert runtime_no_llm.memory.load_state(f"console:{user}").lang == lang

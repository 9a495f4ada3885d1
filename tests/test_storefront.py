"""The shop's own wording: help texts, example buttons and the decline reply come from its catalog or settings."""

from __future__ import annotations

import json
from pathlib import Path

from bot.storefront import build_storefront
from bot.types import IncomingMessage
from knowledge.base import KnowledgeBase
from knowledge.ingest import ingest_file
from shopguide.cli.app import build_runtime
from shopguide.settings import Settings

ELECTRONICS = [
    {"id": "EL-1", "title": "Voltline 14 Ultrabook Laptop", "category": "Laptops", "type": "laptop", "brand": "Voltline",
     "price": 899.0, "stock": 4},
    {"id": "EL-2", "title": "Voltline 16 Creator Laptop", "category": "Laptops", "type": "laptop", "brand": "Voltline",
     "price": 1499.0, "stock": 2},
    {"id": "EL-3", "title": "Pixa 8 Smartphone 128 GB", "category": "Phones", "type": "smartphone", "brand": "Pixa",
     "price": 599.0, "stock": 10},
    {"id": "EL-4", "title": "Sonique Buds Wireless Earbuds", "category": "Audio", "type": "earbuds", "brand": "Sonique",
     "price": 129.0, "stock": 0},
]
FAQS = [{"id": "returns", "question": "Can I return a laptop?", "answer": "Unopened devices can be returned within 14 days."},
        {"id": "ship", "question": "Do you ship abroad?", "answer": "Only within the EU."}]


def test_storefront_is_built_from_the_largest_categories_and_types():
    shop = build_storefront(description=None, categories=[("Accessories", 30), ("Footwear", 36), ("Clothing", 34), ("Tents", 14)],
                            types=[("t-shirt", 7), ("hiking boots", 16), ("rain jacket", 7)],
                            brands=[("Ridgeline", 20), ("Trailwisp", 9)], sizes=[("M", 40), ("42", 12)],
                            median_price=146.99, faq_question="What is your return policy?")
    assert shop.goods == "footwear, clothing, accessories and more"  # four categories: the largest three and more
    assert [b.label for b in shop.examples] == ["Hiking boots", "Rain jacket", "What is your return policy?"]
    assert [b.action for b in shop.examples] == ["q:hiking boots", "q:rain jacket", "q:What is your return policy?"]
    assert "“hiking boots under 150”" in shop.capabilities
    assert "“only Ridgeline”" in shop.capabilities and "“I wear size M”" in shop.capabilities
    assert shop.out_of_scope.startswith("Sorry, I can only help with our footwear, clothing, accessories and more, and with")
    assert shop.seller == "a shop selling footwear, clothing, accessories and more"


def test_configured_description_wins_and_a_bare_catalog_still_reads_well():
    shop = build_storefront(description="  outdoor gear and apparel ", categories=[("Footwear", 3)], types=[],
                            brands=[], sizes=[], median_price=1234.0, faq_question=None)
    assert shop.goods == "outdoor gear and apparel"
    assert [b.action for b in shop.examples] == ["q:Footwear"]  # no types: categories serve as examples
    assert "“footwear under 1300”" in shop.capabilities
    assert "only" not in shop.capabilities and "I wear size" not in shop.capabilities

    bare = build_storefront(description=None, categories=[], types=[], brands=[], sizes=[], median_price=None,
                            faq_question=None)
    assert bare.goods == "products" and bare.examples == ()
    assert "“gift ideas under 100”" in bare.capabilities
    long_question = "How long does it take for a refund to reach my card after a return?"
    labelled = build_storefront(description=None, categories=[], types=[], brands=[], sizes=[], median_price=None,
                                faq_question=long_question)
    [button] = labelled.examples
    assert len(button.label) == 40 and button.label.endswith("…")
    assert button.action == "q:How long does it take for a refund to reach my card after a" and len(button.action) <= 64


def test_demo_store_help_names_its_own_products(runtime_no_llm, demo_kb):
    shop = runtime_no_llm.services.storefront
    vocab = demo_kb.store.vocabulary()
    assert shop.brand_example in vocab["brands"]
    for button in shop.examples[:2]:
        assert button.action[2:] in vocab["types"]
    assert "outdoor" not in shop.goods and "footwear" in shop.goods  # the demo's largest category


async def test_another_store_never_speaks_of_the_demo_shop(tmp_path: Path, embedder):
    products = tmp_path / "products.jsonl"
    products.write_text("".join(json.dumps(p) + "\n" for p in ELECTRONICS), encoding="utf-8")
    faqs = tmp_path / "faqs.jsonl"
    faqs.write_text("".join(json.dumps(f) + "\n" for f in FAQS), encoding="utf-8")
    kb = KnowledgeBase(tmp_path / "store", embedder)
    ingest_file(kb, "product", products)
    ingest_file(kb, "faq", faqs)
    rt = build_runtime(Settings(data_dir=tmp_path / "data", _env_file=None), kb=kb, load_llm=False,
                       memory_path=tmp_path / "memory.db")
    try:
        def msg(text: str = "", action: str | None = None) -> IncomingMessage:
            return IncomingMessage(platform="console", user_id="u1", chat_id="c1", text=text, action=action)

        [hello] = await rt.assistant.handle(msg("hello"))
        text = hello.text.lower()
        assert "laptop under 900" in text and "only voltline" in text
        assert not any(word in text for word in ("hiking", "ridgeline", "waterproof", "size"))
        # the store question is the shortest FAQ question: no topic is guessed in code
        assert [b.label for b in hello.buttons] == ["Laptop", "Earbuds", "Do you ship abroad?"]

        declined = await rt.assistant.handle(msg("asdkjh qwerty zxcv"))
        # with MiniLM for intents (this store has no e5), gibberish may read as an unsure store question
        assert declined[0].text.startswith(("Sorry, I can only help with our laptops, audio and phones, and with store",
                                            "I'm not sure about that one"))
        assert not any(word in declined[0].text.lower() for word in ("hiking", "ridgeline", "outdoor"))

        pressed = await rt.assistant.handle(msg(action=hello.buttons[0].action))  # an example button finds products
        shown = [p.id for r in pressed for p in r.products]
        assert shown and set(shown) <= {"EL-1", "EL-2"}
        answered = await rt.assistant.handle(msg(action=hello.buttons[2].action))
        assert answered[0].text == FAQS[1]["answer"]
    finally:
        rt.close()
        kb.close()


async def test_budgets_are_worded_in_the_catalogs_own_currency(tmp_path: Path, embedder):
    earbuds = [{"id": f"IN-{i}", "title": f"Sonique Bluetooth Earbuds {name}", "category": "Audio", "type": "earbuds",
                "brand": "Sonique", "price": price, "currency": "INR", "stock": 5}
               for i, (name, price) in enumerate((("Lite", 1299.0), ("Pro", 1899.0), ("Max", 4999.0)))]
    products = tmp_path / "products.jsonl"
    products.write_text("".join(json.dumps(p) + "\n" for p in earbuds), encoding="utf-8")
    kb = KnowledgeBase(tmp_path / "store", embedder)
    ingest_file(kb, "product", products)
    rt = build_runtime(Settings(data_dir=tmp_path / "data", _env_file=None), kb=kb, load_llm=False,
                       memory_path=tmp_path / "memory.db")
    try:
        assert rt.services.storefront.currency == "INR"
        replies = await rt.assistant.handle(IncomingMessage(platform="console", user_id="u1", chat_id="c1",
                                                            text="bluetooth earbuds under 2000"))
        text = "\n".join(r.text for r in replies)
        assert "(up to ₹2,000.00)" in text and "€" not in text, text
        assert {p.id for r in replies for p in r.products} == {"IN-0", "IN-1"}
    finally:
        rt.close()
        kb.close()

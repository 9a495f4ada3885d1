"""Shopify, WooCommerce and Google Merchant exports: field by field, idempotent ingest, prune, and the real core."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from bot.types import IncomingMessage
from knowledge.base import KnowledgeBase
from knowledge.ingest import ingest_file, read_file
from knowledge.shop_formats import html_to_text
from shopguide.errors import IngestError

SHOP = Path(__file__).parent / "fixtures" / "shop"


def parsed(name: str, **kw):
    out = read_file("product", SHOP / name, kw.pop("fmt", None), currency=kw.pop("currency", "EUR"))
    return out, {r.id: r for r in out.records}, {p.line: p.reason for p in out.problems}


def test_shopify_export_groups_variants_skips_drafts_and_reports_lines():
    out, by_id, problems = parsed("shopify_products.csv")
    assert set(by_id) == {"linen-shirt", "desk-lamp"}  # the draft is skipped, the bad single-variant row rejected
    assert out.skipped == {"draft": 1} and out.rows == 7
    assert problems == {8: "price is not a number: 'cheap'"}
    assert out.rejected_ids == {"tea-tin"}  # kept from --prune
    shirt = by_id["linen-shirt"]
    assert (shirt.title, shirt.brand, shirt.type, shirt.category) == ("Linen Shirt", "Harbor & Loom", "shirts",
                                                                      "shirts & tops")
    assert shirt.colors == ("sand", "white") and shirt.sizes == ("M", "XL", "S")
    # the cheapest variant (45, white S) is sold out: the cheapest in-stock one (49) is the price
    assert (shirt.price, shirt.currency, shirt.stock) == (49.0, "EUR", 6)
    a = shirt.attributes
    assert (a["regular_price"], a["price_min"], a["price_max"]) == (59.0, 45.0, 52.0)
    assert [v["sku"] for v in a["variants"]] == ["LS-SAND-M", "LS-SAND-XL", "LS-WHITE-S"]
    assert a["variants"][1].items() >= {"color": "Sand", "size": "XL", "price": 52.0, "stock": 2, "in_stock": True,
                                        "gtin": "0001112223341"}.items()
    assert a["variants"][2]["in_stock"] is False
    assert shirt.description == "Breathable linen shirt for warm days.\n- 100% linen\n- Relaxed fit"
    assert shirt.image == "https://cdn.example.com/linen-shirt.jpg"
    assert a["tags"] == ["summer", "linen"] and a["seo_title"] == "Linen Shirt | Harbor"  # unknown columns kept
    assert a["category_path"] == "Apparel & Accessories > Clothing > Shirts & Tops"
    lamp = by_id["desk-lamp"]
    assert (lamp.price, lamp.currency, lamp.stock, lamp.colors, lamp.sizes) == (34.5, "EUR", 7, (), ())
    assert lamp.description == "Adjustable LED desk lamp & USB charging port."  # the script is not text
    assert lamp.attributes["sku"] == "DL-100" and "variants" not in lamp.attributes
    assert out.lines == {"linen-shirt": 2, "desk-lamp": 6}


def test_shopify_export_needs_the_shop_currency_by_name():
    with pytest.raises(IngestError, match="SHOPGUIDE_CURRENCY"):
        read_file("product", SHOP / "shopify_products.csv", currency=None)


def test_woocommerce_export_variable_and_simple_products():
    out, by_id, problems = parsed("woocommerce_products.csv", currency="GBP")
    assert set(by_id) == {"WOO-SHIRT", "WOO-LAMP"} and out.skipped == {"draft": 1}
    assert problems == {7: "variation names an unknown parent 'id:999' (the parent row must come first)"}
    shirt = by_id["WOO-SHIRT"]
    assert (shirt.title, shirt.category, shirt.type) == ("Linen Shirt", "clothing", "shirts")
    assert shirt.colors == ("sand", "white") and shirt.sizes == ("M", "XL")
    assert (shirt.price, shirt.currency, shirt.stock) == (39.0, "GBP", 3)  # the sale price of the in-stock variant
    assert shirt.attributes["regular_price"] == 49.0
    assert [v["sku"] for v in shirt.attributes["variants"]] == ["WOO-SHIRT-SAND-M", "WOO-SHIRT-WHITE-XL"]
    assert shirt.description == "Breathable linen shirt for warm days."
    assert shirt.image == "https://shop.example/shirt.jpg"
    assert shirt.attributes["weight_kg"] == 0.25 and shirt.attributes["categories"] == ["Clothing > Shirts", "Summer"]
    lamp = by_id["WOO-LAMP"]
    assert (lamp.price, lamp.stock, lamp.category, lamp.type) == (34.5, 5, "home", "lamps")


@pytest.mark.parametrize("name", ["merchant_feed.tsv", "merchant_feed.xml"])
def test_merchant_feed_in_tsv_and_xml(name):
    out, by_id, problems = parsed(name, currency=None)  # prices carry their currency
    assert set(by_id) == {"M-SHIRT", "M-LAMP"}
    assert list(problems.values()) == ["price is not a number: 'cheap'"]
    assert list(problems) == [6 if name.endswith(".tsv") else 76]  # the row's line, or its <item>'s
    shirt = by_id["M-SHIRT"]
    assert shirt.title == "Linen Shirt"  # the variant titles' common start
    assert (shirt.price, shirt.currency, shirt.stock, shirt.in_stock) == (39.0, "USD", None, True)  # a sale price
    assert shirt.attributes["regular_price"] == 49.0 and shirt.attributes["price_min"] == 35.0
    assert shirt.colors == ("sand", "white") and shirt.sizes == ("M", "XL", "S")
    assert shirt.attributes["gender"] == "men" and shirt.attributes["condition"] == "new"
    assert shirt.attributes["google_product_category"] == "Apparel & Accessories > Clothing > Shirts & Tops"
    assert [v["in_stock"] for v in shirt.attributes["variants"]] == [True, True, False]
    assert shirt.url == "https://shop.example/p/linen-shirt?v=sand-m" and shirt.description.startswith("Breathable linen")
    lamp = by_id["M-LAMP"]
    assert (lamp.price, lamp.currency, lamp.category, lamp.type, lamp.brand) == (34.5, "USD", "home", "lamps", "Lumen Works")
    assert lamp.attributes["mpn"] == "LW-DL-100"
    assert lamp.description == "Adjustable LED desk lamp & USB charging port."


def test_a_file_of_no_known_format_names_the_columns_each_expects(tmp_path):
    other = tmp_path / "export.csv"
    other.write_text("Artikel,Bezeichnung,Preis\n1,Lampe,3\n", encoding="utf-8")
    with pytest.raises(IngestError) as err:
        read_file("product", other)
    message = str(err.value)
    for expected in ("id (or sku", "Shopify export: Handle, Title, Variant Price",
                     "WooCommerce export: Type, Name, Regular price", "Google Merchant export: id, title, price"):
        assert expected in message


def test_html_becomes_text():
    assert html_to_text("<h2>Care</h2><p>Wash&nbsp;cold.<br>Dry flat.</p><style>p{}</style>") == "Care\nWash cold.\nDry flat."
    assert html_to_text("plain") == "plain" and html_to_text("  ") is None


@pytest.fixture
def kb(tmp_path, embedder):
    base = KnowledgeBase(tmp_path / "kb", embedder)
    yield base
    base.close()


def test_ingest_is_idempotent_finds_variant_skus_and_prunes(kb):
    first = ingest_file(kb, "product", SHOP / "shopify_products.csv", currency="EUR")
    assert (first.added, first.rejected, first.skipped) == (2, 1, 1)
    assert any("skipped 1 draft products" in note for note in first.notes)
    again = ingest_file(kb, "product", SHOP / "shopify_products.csv", currency="EUR")
    assert (again.added, again.updated, again.unchanged, again.embedded_chunks) == (0, 0, 2, 0)
    assert kb.store.products_by_code(["ls-sand-xl"]) == ["linen-shirt"]  # a variant SKU finds its product
    assert kb.store.products_by_code(["0001112223341"]) == ["linen-shirt"]  # and its barcode
    merchant = ingest_file(kb, "product", SHOP / "merchant_feed.xml", prune=True)
    # the Merchant feed's bad row has a readable id, so the prune runs: the Shopify products go
    assert (merchant.added, merchant.removed) == (2, 2)
    assert {p.id for p in kb.store.all_products()} == {"M-SHIRT", "M-LAMP"}


def test_the_core_finds_a_variant_size_and_answers_a_price_from_the_record(tmp_path, embedder, faq_embedder,
                                                                             document_embedder):
    from shopguide.cli.app import build_runtime
    from shopguide.settings import Settings

    kb = KnowledgeBase(tmp_path / "kb", embedder, faq_embedder, document_embedder)
    ingest_file(kb, "product", SHOP / "shopify_products.csv", currency="EUR")
    settings = Settings(data_dir=tmp_path / "data", _env_file=None)
    rt = build_runtime(settings, kb=kb, load_llm=False, memory_path=tmp_path / "memory.db")
    try:
        def ask(text: str, user: str = "u1"):
            return asyncio.run(rt.assistant.handle(IncomingMessage("console", user, user, text=text)))

        shirt = ask("do you have a linen shirt in XL?")
        assert "Linen Shirt" in shirt[0].text, shirt[0].text
        assert "Desk Lamp" not in shirt[0].text
        price = ask("how much is the desk lamp?", "u2")
        assert "€34.50" in price[0].text, price[0].text
    finally:
        rt.close()
        kb.close()

"""Replies in five languages: complete catalogs, English fallback logged once, and each language's number, price and
list formats. Fast: no models, no store."""

from __future__ import annotations

import logging

import pytest
from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po

import bot.i18n as i18n
from bot.catalogs import POT, extract, placeholders, problems
from bot.i18n import LANGUAGES, joined, language, money, ntr, tr
from bot.present import card_stock_text, comparison_text, details_text, product_card
from knowledge.schema import Product

TRANSLATED = LANGUAGES[1:]


@pytest.fixture(scope="module")
def wanted() -> Catalog:
    return extract()


def _ids(catalog: Catalog) -> set[str]:
    return {m.id if isinstance(m.id, str) else m.id[0] for m in catalog if m.id}


def test_the_template_holds_every_message_the_code_asks_for(wanted):
    with POT.open("rb") as f:
        template = read_po(f)
    missing, stale = _ids(wanted) - _ids(template), _ids(template) - _ids(wanted)
    assert not missing and not stale, (f"run `python -m bot.catalogs` to refresh {POT.name}: "
                                       f"missing {sorted(missing)[:5]}, stale {sorted(stale)[:5]}")
    assert len(_ids(wanted)) > 200  # the extractor found the wrapped texts (a broken keyword spec finds none)


@pytest.mark.parametrize("lang", TRANSLATED)
def test_every_message_is_translated_with_the_same_placeholders(lang, wanted):
    assert problems(lang, wanted) == []


def test_the_check_catches_a_missing_translation_and_a_wrong_placeholder(tmp_path, monkeypatch, wanted):
    import bot.catalogs as catalogs
    from babel.messages.pofile import write_po

    catalog = catalogs.read("de")
    catalog.delete("Show more")
    catalog["Brand: {brand}"].string = "Marke: {marke}"
    path = tmp_path / "shopguide.po"
    with path.open("wb") as f:
        write_po(f, catalog)
    monkeypatch.setattr(catalogs, "po_path", lambda lang: path)
    found = problems("de", wanted)
    assert any("missing 'Show more'" in p for p in found)
    assert any("Brand: {brand}" in p and "placeholders" in p for p in found)


def test_placeholders_are_read_by_name():
    assert placeholders("{n} of {title} at {price:,}") == {"n", "title", "price"}


def test_a_missing_translation_falls_back_to_english_and_is_logged_once(caplog):
    caplog.set_level(logging.WARNING, logger="bot.i18n")
    text = "A text no catalog holds, for {who}"
    assert tr("de", text, who="Ana") == "A text no catalog holds, for Ana"
    assert tr("de", text, who="Bo") == "A text no catalog holds, for Bo"
    assert ntr("fr", "one {n} thing no catalog holds", "{n} things no catalog holds", 2) == "2 things no catalog holds"
    logged = [r for r in caplog.records if "no catalog holds" in r.getMessage()]
    assert len(logged) == 2  # once per language and message, not per call


def test_a_broken_translation_falls_back_to_english(monkeypatch, caplog):
    catalog = Catalog(locale="de_DE", domain="shopguide")
    catalog.add("Hello, {name}!", "Hallo, {nam}!")
    monkeypatch.setattr(i18n, "_catalog", lambda lang: catalog)
    monkeypatch.setattr(i18n, "_translations", lambda lang: _Fixed("Hallo, {nam}!"))
    assert tr("de", "Hello, {name}!", name="Ana") == "Hello, Ana!"
    assert "broken placeholders" in caplog.text


class _Fixed:
    def __init__(self, text: str) -> None:
        self.text = text

    def gettext(self, msgid: str) -> str:
        return self.text


@pytest.mark.parametrize("code, lang", [("de-AT", "de"), ("zh_Hans", "zh"), ("FR", "fr"), ("es-419", "es"), ("ja", "en"),
                                        (None, "en"), ("", "en")])
def test_language_tags_map_to_the_five(code, lang):
    assert language(code) == lang


def test_an_unknown_language_is_answered_in_english_without_a_warning(caplog):
    assert tr("ja", "Show more") == "Show more" and tr(None, "Show more") == "Show more"
    assert not caplog.records


@pytest.mark.parametrize("lang, amount, currency, written", [
    ("en", 1299, "EUR", "€1,299.00"),  # English keeps the replies' own form
    ("en", 5, "CHF", "5.00 CHF"),
    ("de", 1299, "EUR", "1.299,00\xa0€"),
    ("fr", 1299, "EUR", "1\u202f299,00\xa0€"),
    ("es", 147.99, "EUR", "147,99\xa0€"),
    ("zh", 1299, "EUR", "€1,299.00"),
    ("zh", 1299, "CNY", "¥1,299.00"),
    ("de", 2000, "JPY", "2.000\xa0¥"),
    ("de", 12.5, None, "12,50"),
    ("de", None, "EUR", "Preis auf Anfrage"),
])
def test_prices_follow_the_language(lang, amount, currency, written):
    assert money(lang, amount, currency) == written


def test_lists_follow_the_language():
    assert joined("en", ["red", "blue"], "or") == "red or blue"
    assert joined("de", ["red", "blue"], "or") == "red oder blue"
    assert joined("fr", ["a", "b", "c"]) == "a, b et c"
    assert joined("zh", ["a", "b"], "or") == "a或b"


def _boot() -> Product:
    return Product(id="SKU-1", title="Trail Boot", brand="Acme", category="footwear", type="hiking boots", price=1299.0,
                   currency="EUR", colors=("black",), sizes=("42", "43"), stock=3, rating=4.5,
                   attributes={"waterproof": True}, description="As stored.")


def test_product_texts_in_german_quote_the_record_as_stored():
    text = details_text(_boot(), "de")
    assert "Preis: 1.299,00\xa0€ · nur noch 3 Stück" in text
    assert "Marke: Acme" in text and "Bewertung: 4,5/5" in text and "Details: waterproof: ja" in text
    assert text.startswith("Trail Boot\n") and text.endswith("As stored.")  # title and description untranslated


def test_english_product_texts_are_unchanged():
    text = details_text(_boot())
    assert "Price: €1,299.00 · only 3 left" in text and "Rating: 4.5/5" in text and "waterproof: yes" in text


def test_cards_carry_their_language_to_the_renderers():
    card = product_card(_boot(), lang="fr")
    assert card.lang == "fr" and [b.label for b in card.buttons] == ["Détails", "Produits similaires", "♥ Enregistrer"]
    assert card_stock_text(card) == "plus que 3 en stock" and card.attributes["marque"] == "Acme"


def test_a_comparison_names_its_fields_in_the_language():
    other = Product(id="SKU-2", title="Road Shoe", price=80.0, currency="EUR", stock=0)
    text = comparison_text([_boot(), other], "es")
    assert "Precio: 1.299,00\xa0€ | 80,00\xa0€" in text and "Disponibilidad: solo quedan 3 | agotado" in text

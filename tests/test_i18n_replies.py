"""Replies in the turn's language through the real core on the demo store (templates, no model): fixed texts from the
catalogs, records quoted as stored, prices in the language's format and still the records' own (the money check)."""

from __future__ import annotations


import pytest

import bot.core as core_module
from bot.language import Detected
from bot.i18n import money
from bot.types import IncomingMessage, Reply
from conversation_runner import ConversationContext, money_amounts, ungrounded_amounts


def message(text: str = "", action: str | None = None, user: str = "i18n") -> IncomingMessage:
    return IncomingMessage(platform="test", user_id=user, chat_id=user, text=text, action=action)


@pytest.fixture
def speaking(monkeypatch):
    """Turns answered in a given language whatever the (English) test messages are written in."""
    def set_lang(lang: str) -> None:
        def told(self, turn, text):
            turn.lang = lang
            return Detected(lang=lang)
        monkeypatch.setattr(core_module.Assistant, "_language", told)
    return set_lang


def grounded(replies: list[Reply], kb, typed: str = "") -> None:
    ctx = ConversationContext(user_numbers={float(n) for n in typed.split() if n.isdigit()})
    assert ungrounded_amounts(replies, kb, ctx) == []


async def test_a_conversation_answered_in_german(runtime_no_llm, speaking):
    speaking("de")
    core, kb = runtime_no_llm.assistant, runtime_no_llm.services.kb
    [hello] = await core.handle(message("hello"))
    assert hello.text.startswith("Hallo! Ich bin der Assistent des Shops.") and "Ich kann Ihnen helfen:" in hello.text
    typed = "waterproof hiking boots under 150"
    [found] = await core.handle(message(typed))
    assert found.text.startswith("Das habe ich für „") and "bis 150,00\xa0€" in found.text
    assert found.products and all(card.lang == "de" for card in found.products)
    first = kb.store.get_product(found.products[0].id)
    assert money("de", first.price, first.currency) in found.text and first.title in found.text  # title as stored
    assert money_amounts(found.text) and "," in found.text.split("€")[0]
    grounded([found], kb, typed)
    [details] = await core.handle(message("details of the second one"))
    assert "Preis: " in details.text and "Artikelnummer: " in details.text
    assert [b.label for b in details.buttons] == ["Ähnliche Produkte", "♥ Merken"]
    grounded([details], kb)
    [compared] = await core.handle(message("compare 1 and 2"))
    assert "\nPreis: " in compared.text and "\nBestand: " in compared.text
    grounded([compared], kb)
    [forget] = await core.handle(message("forget me"))
    assert forget.text.startswith("Damit wird alles gelöscht") and forget.buttons[0].label == "Ja, alles löschen"
    [kept] = await core.handle(message(action="forget:no"))
    assert kept.text == "Gut, es wurde nichts gelöscht."


@pytest.mark.parametrize("lang, intro, help_start", [
    ("fr", "Voici ce que j’ai trouvé pour « ", "Bonjour ! Je suis l’assistant de la boutique."),
    ("es", "Esto es lo que encontré para «", "¡Hola! Soy el asistente de la tienda."),
    ("zh", "为“", "您好！我是本店的购物助手。"),
])
async def test_search_and_greeting_in_each_language(runtime_no_llm, speaking, lang, intro, help_start):
    speaking(lang)
    core, kb = runtime_no_llm.assistant, runtime_no_llm.services.kb
    [hello] = await core.handle(message("hi", user=lang))
    assert hello.text.startswith(help_start)
    [found] = await core.handle(message("tents under 300", user=lang))
    assert found.text.startswith(intro) and found.products
    first = kb.store.get_product(found.products[0].id)
    assert money(lang, first.price, first.currency) in found.text
    grounded([found], kb, "300")


async def test_english_stays_as_it_was(runtime_no_llm):
    core = runtime_no_llm.assistant
    [found] = await core.handle(message("tents under 300", user="en"))
    assert found.text.startswith("Here is what I found for “") and "up to €300.00" in found.text
    assert all(card.lang == "en" for card in found.products)

"""A message clearly in another language is told, in that language, that the assistant speaks
English; English messages, names and greetings are never mistaken for one."""

from __future__ import annotations

import pytest

from bot.language import NOTICES, other_language
from bot.types import IncomingMessage
from shopguide.app import build_runtime
from shopguide.settings import Settings


@pytest.mark.parametrize("text, lang", [
    ("Ich suche Wanderschuhe", "de"), ("was kostet das erste?", "de"), ("Wo ist meine Bestellung?", "de"),
    ("Haben Sie Zelte für 2 Personen?", "de"), ("je cherche des chaussures de randonnée", "fr"),
    ("combien coûte la veste?", "fr"), ("busco botas de montaña baratas", "es"), ("¿cuánto cuesta el primero?", "es"),
    ("cerco scarponi da trekking", "it"), ("ik zoek een regenjas", "nl"), ("procuro uma barraca para duas pessoas", "pt"),
])
def test_a_message_in_another_language_is_recognised(text, lang):
    assert other_language(text) == lang and lang in NOTICES


@pytest.mark.parametrize("text", [
    "", "Wanderschuhe", "hola", "hallo", "merci", "la sportiva boots", "die cast model car", "was it waterproof?",
    "is the Alpenkarr Ascent GTX waterproof?", "do you have a tent for 2 people?", "what is your return policy?",
    "show me the second one in blue", "I want to cancel my order", "con edison light bulbs", "le creuset pan",
    "hiking boots unter 100",  # mostly English: searched as usual
])
def test_english_text_and_names_are_not_another_language(text):
    assert other_language(text) is None


def _msg(text: str) -> IncomingMessage:
    return IncomingMessage(platform="test", user_id="u1", chat_id="c1", text=text)


async def test_the_notice_is_in_the_language_and_in_english_and_can_be_switched_off(demo_kb, tmp_path):
    on = build_runtime(Settings(data_dir=tmp_path / "on", _env_file=None), kb=demo_kb, load_llm=False,
                       memory_path=tmp_path / "on.db")
    off = build_runtime(Settings(data_dir=tmp_path / "off", english_only_notice=False, _env_file=None), kb=demo_kb,
                        load_llm=False, memory_path=tmp_path / "off.db")
    try:
        reply = (await on.assistant.handle(_msg("Ich suche Wanderschuhe")))[0]
        assert reply.intent == "other_language" and reply.text.startswith(NOTICES["de"])
        assert "only help in English" in reply.text and any(b.action == "human" for b in reply.buttons)
        assert not reply.products
        assert (await on.assistant.handle(_msg("hiking boots")))[0].products  # English goes on as usual
        assert (await off.assistant.handle(_msg("Ich suche Wanderschuhe")))[0].intent != "other_language"
    finally:
        on.close()
        off.close()

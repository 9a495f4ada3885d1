"""The post-check on generated text: nothing may appear that the facts do not hold."""

from __future__ import annotations

import re
from collections.abc import Iterable

from knowledge.currency import PATTERN as CURRENCY

_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
# any currency of the table, besides words that promise money off
_MONEY_WORDS = re.compile(rf"{CURRENCY}|%|\b(?:percent|discount|free|sale|off)\b", re.I)
_FORBIDDEN = re.compile(r"https?://|www\.|@|<\|?|\|>|\[|\]|\{|\}|#", re.I)
# Refusals, apologies and talk about itself are never a useful connecting sentence.
_OFF_TOPIC = re.compile(
    r"\b(sorry|apolog\w*|unable|cannot|can'?t|won'?t|unfortunately|ai|language model|assistant|as an?|"
    r"customer service|loss|i am|i'm|i'll|i will|i'd|i would|i can|my name|policy|guarantee\w*|warrant\w*|promise\w*)\b", re.I)
_CONTENT = re.compile(r"[a-z]{4,}")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s")


def first_sentence(text: str, max_chars: int = 200) -> str:
    """The first sentence of generated text, trimmed of quotes and whitespace."""
    text = text.strip().strip('"').strip()
    text = text.split("\n", 1)[0].strip()
    parts = _SENTENCE_END.split(text, maxsplit=1)
    sentence = parts[0].strip() if parts else ""
    if len(sentence) > max_chars:
        return ""
    return sentence


class GroundingCheck:
    """Rejects text with a number, price, percentage or product name absent from the facts."""

    def __init__(self, catalog_names: Iterable[str]) -> None:
        names = {n.strip().lower() for n in catalog_names if n and len(n.strip()) >= 3}
        self._names = sorted(names, key=len, reverse=True)
        self._name_re = (
            re.compile(r"(?<!\w)(" + "|".join(re.escape(n) for n in self._names) + r")(?!\w)", re.I)
            if self._names else None
        )

    def violations(self, text: str, facts: str, topic: str = "") -> list[str]:
        """Why `text` is not grounded in `facts` (or, given a `topic`, not about it); empty when it is."""
        problems: list[str] = []
        fact_numbers = set(_NUMBER.findall(facts))
        for number in _NUMBER.findall(text):
            if number not in fact_numbers:
                problems.append(f"number {number} not in facts")
        for m in _MONEY_WORDS.finditer(text):
            token = m.group(0)
            if token.lower() not in facts.lower():
                problems.append(f"money or offer word {token!r} not in facts")
        if _FORBIDDEN.search(text):
            problems.append("markup, link or template token")
        if self._name_re is not None:
            low_facts = facts.lower()
            for m in self._name_re.finditer(text):
                if m.group(0).lower() not in low_facts:
                    problems.append(f"name {m.group(0)!r} not in facts")
        if not re.search(r"[A-Za-z]{2,}", text):
            problems.append("no words")
        if _OFF_TOPIC.search(text):
            problems.append("refusal, apology or off-topic wording")
        if topic and not (set(_CONTENT.findall(text.lower())) & set(_CONTENT.findall(topic.lower()))):
            problems.append("does not mention the topic")
        return problems

    def accept(self, text: str, facts: str, topic: str = "") -> bool:
        """True when `text` passes."""
        return not self.violations(text, facts, topic)

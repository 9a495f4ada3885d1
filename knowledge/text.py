"""Text normalisation shared by indexing and querying, and sentence-aware chunking."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable

_UNITS = (
    "gb|tb|mb|kb|mah|mm|cm|km|m|in|inch|inches|ft|feet|oz|ounce|ounces|lb|lbs|kg|g|ml|l|liter|litre|"
    "w|watt|watts|v|volt|volts|a|amp|amps|gal|qt|hz|mhz|ghz|pc|pcs|pack|pk|x"
)
# "16 gb" -> "16gb", "1/2 in." -> "1/2in": numbers glued to their units so both spellings match.
_NUM_UNIT = re.compile(rf"(?<![\w.])(\d+(?:[.,/]\d+)?)\s*-?\s*({_UNITS})\b\.?", re.IGNORECASE)
_INCH_MARK = re.compile(r"(\d)\s*(?:\"|''|”|″)")
_FOOT_MARK = re.compile(r"(\d)\s*(?:'|’|′)(?!\w)")
_WORD = re.compile(r"[0-9a-z]+(?:[./][0-9a-z]+)*", re.IGNORECASE)
_SENTENCE = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9\"'(])")

UNIT_CANON = {
    "inch": "in", "inches": "in", "feet": "ft", "ounce": "oz", "ounces": "oz", "lbs": "lb",
    "liter": "l", "litre": "l", "watt": "w", "watts": "w", "volt": "v", "volts": "v",
    "amp": "a", "amps": "a", "pcs": "pc", "pk": "pack",
}

STOPWORDS = frozenset(
    "a an and are as at be but by for from has have i in into is it its me my of on or our so that the "
    "their them there these they this to was we were what which who will with you your do does can "
    "any some please show find need want looking search get".split()
)


def fold(text: str) -> str:
    """Lower-case and strip accents, keeping letters, digits and punctuation."""
    text = unicodedata.normalize("NFKD", text)
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    return text.lower()


def normalise(text: str) -> str:
    """Canonical form for keyword matching: folded, with numbers glued to their units."""
    text = fold(text)
    text = _INCH_MARK.sub(r"\1in ", text)
    text = _FOOT_MARK.sub(r"\1ft ", text)

    def glue(match: re.Match[str]) -> str:
        unit = match.group(2).lower()
        return match.group(1).replace(",", ".") + UNIT_CANON.get(unit, unit)

    return _NUM_UNIT.sub(glue, text)


def tokens(text: str, *, drop_stopwords: bool = True) -> list[str]:
    """Normalised word tokens of `text`."""
    words = _WORD.findall(normalise(text))
    if drop_stopwords:
        kept = [w for w in words if w not in STOPWORDS]
        return kept or words
    return words


def split_sentences(text: str) -> list[str]:
    """Split prose into sentences; text without sentence marks stays whole."""
    parts = [p.strip() for p in _SENTENCE.split(text.strip())]
    return [p for p in parts if p]


def chunk_text(
    text: str,
    *,
    max_tokens: int,
    count_tokens: Callable[[str], int],
    prefix: str = "",
) -> list[str]:
    """Split `text` into chunks of whole sentences whose token count, with `prefix`, fits `max_tokens`.

    A sentence longer than the window on its own is split at word boundaries, so no text
    is ever beyond the embedder's window.
    """
    text = text.strip()
    budget = max_tokens - (count_tokens(prefix) if prefix else 0)
    if budget < 8:
        budget = 8
    if not text:
        return [prefix.strip()] if prefix.strip() else []
    # Cheap path: 1 token never covers less than 1 character in word-piece vocabularies
    # of our embedders, so short text is known to fit without tokenising.
    if len(text) <= budget or count_tokens(text) <= budget:
        return [prefix + text]
    pieces: list[str] = []
    for sentence in split_sentences(text):
        if count_tokens(sentence) <= budget:
            pieces.append(sentence)
        else:
            pieces.extend(_split_words(sentence, budget, count_tokens))
    chunks: list[str] = []
    current: list[str] = []
    for piece in pieces:
        candidate = " ".join(current + [piece])
        if current and count_tokens(candidate) > budget:
            chunks.append(prefix + " ".join(current))
            current = [piece]
        else:
            current.append(piece)
    if current:
        chunks.append(prefix + " ".join(current))
    return chunks


def _split_words(sentence: str, budget: int, count_tokens: Callable[[str], int]) -> list[str]:
    words = sentence.split()
    out: list[str] = []
    current: list[str] = []
    for word in words:
        if current and count_tokens(" ".join(current + [word])) > budget:
            out.append(" ".join(current))
            current = [word]
        else:
            current.append(word)
    if current:
        out.append(" ".join(current))
    # A single "word" longer than the budget (e.g. a URL) is cut by characters.
    final: list[str] = []
    for part in out:
        while count_tokens(part) > budget and len(part) > 1:
            cut = max(1, len(part) // 2)
            final.append(part[:cut])
            part = part[cut:]
        final.append(part)
    return final

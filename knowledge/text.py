"""Text normalisation shared by indexing and querying, and sentence-aware chunking."""

from __future__ import annotations

import re
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable

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

# Clothing sizes written as letters, smallest first (lower case); a regex alternative over them.
LETTER_SIZES = ("xxs", "xs", "s", "m", "l", "xl", "xxl", "xxxl", "2xl", "3xl")
LETTER_SIZE_PATTERN = "|".join(LETTER_SIZES)

STOPWORDS = frozenset(
    "a an and are as at be but by for from has have i in into is it its me my of on or our so that the "
    "their them there these they this to was we were what which who will with you your do does can "
    "any some please show find need want looking search get".split()
)


def fold(text: str) -> str:
    """Lower-case and strip accents, keeping letters, digits and punctuation."""
    if text.isascii():
        return text.lower()
    text = unicodedata.normalize("NFKD", text)
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    return text.lower()


def normalise(text: str) -> str:
    """Canonical form of a text to embed as a query (and its cache key): folded, numbers glued to units."""
    text = fold(text)
    text = _INCH_MARK.sub(r"\1in ", text)
    text = _FOOT_MARK.sub(r"\1ft ", text)

    def glue(match: re.Match[str]) -> str:
        unit = match.group(2).lower()
        return match.group(1).replace(",", ".") + UNIT_CANON.get(unit, unit)

    return _NUM_UNIT.sub(glue, text)


# ----- the keyword index ---------------------------------------------------------------------
# Index and query text share one canonical form, so "16 gb", "16gb" and "16 GB" all become
# "16 gb"; 3/4" and "3/4 in." become "3f4 inch" (a fraction is one token, not "3" and "4");
# "2x4" becomes "2 x 4"; "12,000" becomes "12000".
KEYWORD_UNITS = {
    "in": "inch", "inch": "inch", "inches": "inch", '"': "inch", "''": "inch", "”": "inch", "″": "inch",
    "ft": "ft", "foot": "ft", "feet": "ft", "'": "ft", "’": "ft", "′": "ft",
    "gal": "gal", "gallon": "gal", "gallons": "gal", "qt": "qt", "quart": "qt", "quarts": "qt",
    "oz": "oz", "ounce": "oz", "ounces": "oz", "lb": "lb", "lbs": "lb", "pound": "lb", "pounds": "lb",
    "mm": "mm", "cm": "cm", "m": "m", "km": "km", "yd": "yd", "yard": "yd", "yards": "yd",
    "kg": "kg", "g": "g", "ml": "ml", "l": "l", "liter": "l", "litre": "l", "liters": "l", "litres": "l",
    "w": "watt", "watt": "watt", "watts": "watt", "v": "volt", "volt": "volt", "volts": "volt",
    "a": "amp", "amp": "amp", "amps": "amp", "mah": "mah", "hz": "hz", "mhz": "mhz", "ghz": "ghz",
    "gb": "gb", "tb": "tb", "mb": "mb", "kb": "kb", "btu": "btu", "psi": "psi", "gpm": "gpm", "cfm": "cfm",
    "pc": "pc", "pcs": "pc", "piece": "pc", "pieces": "pc", "pk": "pack", "pack": "pack",
    "ct": "count", "gauge": "gauge", "ga": "gauge", "lm": "lumen", "lumen": "lumen", "lumens": "lumen",
}
_KW_UNIT = "|".join(sorted((re.escape(u) for u in KEYWORD_UNITS if u.isalpha()), key=len, reverse=True))
_KW_MARKS = re.compile(r"(\d)\s*(\"|''|”|″|'|’|′)")
_KW_THOUSANDS = re.compile(r"(?<=\d),(?=\d{3}(?!\d))")
_KW_MIXED = re.compile(r"(\d)-(\d+/\d+)")
_KW_DIM = re.compile(r"(?<=\d)\s*[x×*]\s*(?=\d)")
_KW_XNUM = re.compile(r"(?<![a-z0-9])x(?=\d)")
_KW_NUM_UNIT = re.compile(rf"(?<![a-z0-9])(\d+(?:[.,]\d+)*(?:/\d+)?)\s*-?\s*({_KW_UNIT})(?![a-z0-9])\.?")
_KW_FRACTION = re.compile(r"(?<![\d/])(\d+)/(\d+)(?![\d/])")
_KW_TERM = re.compile(r"[0-9a-z]+")
_DIGIT = re.compile(r"\d")
KEYWORD_STOPWORDS = STOPWORDS | {"x"}


def keyword_text(text: str) -> str:
    """Canonical text for the keyword index: folded, units spelled one way and split from numbers."""
    t = fold(text)
    if not _DIGIT.search(t):
        return t  # every rewrite below is about numbers
    t = _KW_MARKS.sub(lambda m: f"{m.group(1)} {KEYWORD_UNITS[m.group(2)]} ", t)
    t = _KW_THOUSANDS.sub("", t)
    t = _KW_MIXED.sub(r"\1 \2", t)
    t = _KW_DIM.sub(" x ", t)
    t = _KW_XNUM.sub("x ", t)
    t = _KW_NUM_UNIT.sub(lambda m: f"{m.group(1)} {KEYWORD_UNITS[m.group(2)]} ", t)
    return _KW_FRACTION.sub(r"\1f\2", t)


def keyword_words(text: str) -> list[str]:
    """The index terms of a text, in order."""
    return _KW_TERM.findall(keyword_text(text))


def keyword_terms(text: str) -> list[str]:
    """Distinct index terms of a query, stopwords dropped unless nothing else is left."""
    words = keyword_words(text)
    kept = [w for w in words if w not in KEYWORD_STOPWORDS] or words
    return list(dict.fromkeys(kept))


def plural_stem(word: str) -> str:
    """The one singular form every reader compares words by: "batteries" -> "battery", "boxes" -> "box",
    "torches" -> "torch", "glasses" -> "glass", "sizes" -> "size"; "-ie" is spelled "-y", so "hoodie" and
    "hoodies" meet. Words in "ss", "us" and "is" keep their "s" ("dress", "status", "this")."""
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 4 and word.endswith(("sses", "xes", "zzes", "ches", "shes")):
        return word[:-2]
    if len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is")):
        word = word[:-1]
    if len(word) > 4 and word.endswith("ie"):
        word = word[:-2] + "y"
    return word


def stem_words(text: str) -> list[str]:
    """The lower-case words and numbers of `text`, each by its `plural_stem`."""
    return [plural_stem(w) for w in re.findall(r"[a-z0-9]+", text.lower())]


_WORD_ENDINGS = ("ings", "ing", "ers", "er", "ed", "es", "s")


def word_stem(word: str) -> str:
    """A light stem for telling whether two words are one ("camping" / "camp", "hiking" / "hike", "climber" / "climb")."""
    for ending in _WORD_ENDINGS:
        if word.endswith(ending) and len(word) - len(ending) >= 3:
            word = word[: -len(ending)]
            break
    return word[:-1] if len(word) > 3 and word.endswith("e") else word


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


# ----- repairing query words the catalog does not know -----------------------------------------
class Vocabulary:
    """A catalog's own words with document counts, to repair misspelt, split or glued query words."""

    def __init__(self, texts: Iterable[str], *, min_length: int = 4) -> None:
        self.counts: Counter[str] = Counter()  # word -> how many texts hold it
        self.documents = 0
        for text in texts:
            self.counts.update(set(_KW_TERM.findall(keyword_text(text))))
            self.documents += 1
        self.min_length = min_length
        self._deletes: dict[str, list[str]] = defaultdict(list)
        for word in self.counts:
            if len(word) >= min_length and word.isalpha():
                variants = _one_deletes(word)
                if len(word) >= 8:  # long words may be two edits away
                    variants |= {v for d in list(variants) for v in _one_deletes(d)}
                for variant in variants:
                    self._deletes[variant].append(word)

    def __contains__(self, word: object) -> bool:
        return word in self.counts

    def correct(self, word: str, *, long_word: int = 8, same_initial: bool = False) -> str | None:
        """The most common known word within 1 edit (2 for words of `long_word`+ letters), if any; ties go to
        the first in alphabetical order. `same_initial` keeps the first letter, where typing errors are rare."""
        if len(word) < self.min_length or not word.isalpha():
            return None
        limit = 1 if len(word) < max(8, long_word) else 2
        candidates: set[str] = set()
        for variant in _one_deletes(word):
            candidates.update(self._deletes.get(variant, ()))
        best: tuple[int, int, str] | None = None
        for candidate in candidates:
            if same_initial and candidate[0] != word[0]:
                continue
            distance = edit_distance(word, candidate, limit)
            if distance <= limit:
                key = (distance, -self.counts[candidate], candidate)
                if best is None or key < best:
                    best = key
        return best[2] if best else None

    def split(self, word: str, *, min_part: int = 3) -> tuple[str, str] | None:
        """Two known words that glued together make `word` ("walloven" -> "wall", "oven")."""
        best: tuple[int, str, str] | None = None
        for cut in range(min_part, len(word) - min_part + 1):
            left, right = word[:cut], word[cut:]
            if left in self.counts and right in self.counts:
                score = min(self.counts[left], self.counts[right])
                if best is None or score > best[0]:
                    best = (score, left, right)
        return (best[1], best[2]) if best else None


def _one_deletes(word: str) -> set[str]:
    return {word} | {word[:i] + word[i + 1:] for i in range(len(word))}


def edit_distance(a: str, b: str, limit: int = 3) -> int:
    """Damerau-Levenshtein distance (adjacent transpositions count 1), capped at `limit` + 1."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    before: list[int] = []
    previous = list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        current = [i] + [0] * len(b)
        for j in range(1, len(b) + 1):
            cost = 0 if a[i - 1] == b[j - 1] else 1
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                current[j] = min(current[j], before[j - 2] + 1)
        before, previous = previous, current
    return min(previous[len(b)], limit + 1)

"""Typing errors corrected towards the store's own words: "lether wallet" is read as "leather wallet".

A word is corrected only when it is unknown: not an English word (the list the app passes in:
pyspellchecker's 160,000-word English list, else the embedding model's word-piece vocabulary),
not a word of the catalog's titles, brands, kinds, colours or FAQ questions, nor of the
dialogue's own vocabulary, and not held by any keyword index (descriptions, documents, FAQ
answers). It becomes the closest of those catalog words: one edit away (a letter missing, added,
changed or two swapped) for words of up to eight letters, two for longer ones, with the same
first letter. Ties go to the word in more titles. Words with digits, short words and words in
other scripts are left alone, and with no English list nothing is corrected, so a plain word
("wife") is never turned into a catalog one ("wide").
"""

from __future__ import annotations

import gzip
import json
import logging
import re
import threading
from dataclasses import dataclass
from pathlib import Path

from knowledge.text import Vocabulary

log = logging.getLogger(__name__)

MIN_LEN = 4  # shorter words have too many neighbours to correct safely
MAX_LEN = 30  # longer "words" are no typing errors (and their edits would cost memory)
LONG_WORD = 9  # from this length on, two edits are allowed
# a word on its own: not part of a code ("SG-HB-1001"), a number ("40l"), an address or a file name
_WORD = re.compile(r"(?<![\w'’@./-])[a-z]+(?![\w'’-]|[.@/]\w)", re.IGNORECASE)
# the dialogue's own words, which catalogs rarely hold: "cheapr" is read as "cheaper"
DIALOGUE_WORDS = (
    "cheaper", "cheapest", "pricier", "expensive", "lighter", "lightest", "warmer", "warmest", "bigger", "smaller",
    "compare", "comparison", "recommend", "recommendation", "suggest", "similar", "different", "another",
    "available", "delivery", "shipping", "return", "refund", "exchange", "warranty", "discount", "payment",
    "order", "cancel", "account", "password", "invoice", "details", "difference", "between", "waterproof",
    "breathable", "lightweight", "budget", "present", "birthday", "beginner", "winter", "summer",
)
_PLAIN = re.compile(r"[a-z]+")


def read_word_list(path: Path) -> frozenset[str]:
    """The plain words of a word list: one a line (a word-piece `vocab.txt` too, its "##" pieces and [SPECIAL]
    tokens skipped), or a `.json` / `.json.gz` object or array of words (pyspellchecker's format); lower-cased."""
    name = path.name.lower()
    if name.endswith((".json", ".json.gz")):
        opener = gzip.open if name.endswith(".gz") else open
        with opener(path, "rt", encoding="utf-8") as f:
            entries = list(json.load(f))
    else:
        entries = path.read_text(encoding="utf-8", errors="replace").splitlines()
    return frozenset(w for w in (str(e).strip().lower() for e in entries) if _PLAIN.fullmatch(w))


def default_word_list() -> Path | None:
    """pyspellchecker's English word list, when that package is installed."""
    try:
        from importlib.resources import files
        path = files("spellchecker") / "resources" / "en.json.gz"
    except (ImportError, ModuleNotFoundError):
        return None
    return Path(str(path)) if path.is_file() else None


@dataclass
class _Index:
    generation: tuple[int, int]
    vocab: Vocabulary  # the words of titles, FAQ questions, catalog vocabulary entries and the dialogue


class Speller:
    """Corrects unknown words of a message to the catalog's words; rebuilt when the catalog changes."""

    def __init__(self, store, english: frozenset[str]) -> None:
        self.store = store
        self.english = english
        self._index: _Index | None = None
        self._lock = threading.Lock()

    def correct(self, text: str) -> tuple[str, list[tuple[str, str]]]:
        """(`text` with its typing errors corrected, [(typed word, correction)]); unchanged when none is found."""
        if not self.english or not text:
            return text, []
        index = self._load()
        fixes: dict[str, str | None] = {}
        said: list[tuple[str, str]] = []

        def swap(m: re.Match[str]) -> str:
            typed = m.group(0)
            word = typed.lower()
            if word not in fixes:
                unknown = MIN_LEN <= len(word) <= MAX_LEN and word.isascii() and not self._known(word, index)
                fixes[word] = index.vocab.correct(word, long_word=LONG_WORD, same_initial=True) if unknown else None
            fix = fixes[word]
            if fix is None:
                return typed
            fix = fix.capitalize() if typed[0].isupper() else fix
            said.append((typed, fix))
            return fix

        corrected = _WORD.sub(swap, text)
        if said:
            log.debug("corrected %d word(s)", len(said))
        return corrected, list(dict.fromkeys(said))

    def _known(self, word: str, index: _Index) -> bool:
        forms = {word, word[:-1] if word.endswith("s") else word, word[:-2] if word.endswith("es") else word}
        if any(f in self.english or f in index.vocab for f in forms):
            return True
        return any(self.store.keyword_known(kind, word) for kind in ("product", "faq", "document"))

    def _load(self) -> _Index:
        generation = (self.store.generation("product"), self.store.generation("faq"))
        with self._lock:
            if self._index is None or self._index.generation != generation:
                texts = list(self.store.product_titles())
                texts += [f.question for f in self.store.get_faqs().values()]
                for values in self.store.vocabulary().values():
                    texts += values
                self._index = _Index(generation, Vocabulary([*texts, *DIALOGUE_WORDS], min_length=MIN_LEN))
            return self._index

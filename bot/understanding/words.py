"""Per-language word files (`words/{lang}.yaml`): general shopping words glossed into the English that
the slot readers know ("höchstens" → "at most", "第二个" → "the second", "rote" → "red").

Only general language lives there (colours, sizes, units, price bounds, ordinals, quantifiers, groups);
a store's own words, its types and brands, come from its catalog. The gloss is for reading slots: the
intent is read from the message as written, and replies quote the customer's own words.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import yaml

from bot.language import SUPPORTED, LanguageDetector, words_of
from bot.understanding.examples import BUNDLED, HERE

log = logging.getLogger(__name__)

WORDS = HERE / "words"
_HAN = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")


@dataclass
class Gloss:
    """One language's gloss: phrase → English, matched longest first (whole words, except in Chinese)."""

    lang: str
    entries: dict[str, str] = field(default_factory=dict)
    _pattern: re.Pattern[str] | None = None

    @property
    def pattern(self) -> re.Pattern[str] | None:
        if self._pattern is None and self.entries:
            parts = []
            for key in sorted(self.entries, key=len, reverse=True):
                if _HAN.search(key):
                    parts.append(re.escape(key))
                else:  # a whole word: no letter or digit may touch it
                    parts.append(r"(?<![^\W_])" + re.escape(key) + r"(?![^\W_])")
            self._pattern = re.compile("|".join(parts), re.IGNORECASE)
        return self._pattern

    def render(self, text: str, keep: frozenset[str] = frozenset()) -> str:
        """`text` with every known phrase in English; words in `keep` (the catalog's own) stay as written."""
        pattern = self.pattern
        if pattern is None or not text:
            return text

        def swap(m: re.Match[str]) -> str:
            found = m.group(0)
            if found.lower() in keep:
                return found
            return f" {self.entries[found.lower()]} "

        out = pattern.sub(swap, text)
        if self.lang == "zh":  # Chinese numbers touch their words: "100欧元以下" reads "100 euros or less"
            out = re.sub(r"(?<=\d)(?=[^\W\d_])|(?<=[^\W\d_])(?=\d)", " ", out)
        return " ".join(out.split())


def read_gloss(path: Path) -> Gloss:
    """A word file; its problems are logged with the file named, and what could be read is kept."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        log.warning("word file %s cannot be read: %s", path, exc)
        return Gloss(path.stem)
    lang = str(data.get("language") or path.stem)
    entries: dict[str, str] = {}
    for key, value in (data.get("gloss") or {}).items():
        if key is None or value is None or not str(key).strip():
            log.warning("word file %s: an empty entry (%r: %r) is skipped", path, key, value)
            continue
        entries[" ".join(str(key).lower().split())] = " ".join(str(value).split())
    return Gloss(lang, entries)


@cache
def gloss_for(lang: str) -> Gloss:
    """The bundled gloss of `lang` (empty for English and for a language without a word file)."""
    path = WORDS / f"{lang}.yaml"
    return read_gloss(path) if path.is_file() else Gloss(lang)


def language_words(lang: str) -> set[str]:
    """The words a language's own data uses: its examples and its word file (for telling languages apart)."""
    texts: list[str] = []
    path = BUNDLED / f"{lang}.yaml"
    if path.is_file():
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for utterances in data.values():
            texts.extend(str(u) for u in utterances or ())
    texts.extend(gloss_for(lang).entries)
    return words_of(texts)


@cache
def bundled_detector() -> LanguageDetector:
    """The language detector over the bundled examples and word files of every supported language."""
    return LanguageDetector({lang: language_words(lang) for lang in SUPPORTED})

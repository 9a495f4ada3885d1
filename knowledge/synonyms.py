"""Other names for what the catalog sells: "settee" is read as "sofa", "rucksack" as "backpack".

A thesaurus is groups of phrases that name the same thing, one group a line, comma-separated
(`synonyms.txt` beside this module, plus the store's own file if configured). A phrase of a
message is read as another phrase of its group only when the catalog's keyword index holds none
of the message's phrase and does hold the other one (the first such in the group's order), so a
store that says "rucksack" keeps it and a word the catalog already answers is never changed. A
plural stays plural ("rucksacks" becomes "backpacks"), and "head-torch" is "head torch".
"""

from __future__ import annotations

import logging
import re
import threading
from pathlib import Path

log = logging.getLogger(__name__)

BUNDLED = Path(__file__).with_name("synonyms.txt")
_PLURAL = r"(?:e?s)?"


def _key(phrase: str) -> str:
    """A phrase as matched: lower-case, words apart ("Head-Torch" is "head torch")."""
    return " ".join(w for w in re.split(r"[\s-]+", phrase.lower()) if w)


def read_groups(path: Path) -> list[tuple[str, ...]]:
    """The groups of a thesaurus file: one a line, phrases comma-separated, `#` comments; lower-cased."""
    groups: list[tuple[str, ...]] = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        line = line.split("#", 1)[0]
        phrases = tuple(dict.fromkeys(" ".join(p.lower().split()) for p in line.split(",") if p.strip()))
        if len(phrases) >= 2:
            groups.append(phrases)
        elif phrases:
            log.warning("%s:%d: a synonym group needs two names or more, comma-separated; line skipped", path, number)
    return groups


class Thesaurus:
    """Reads a message's phrases the catalog lacks as the synonyms it has; asks the store's keyword index."""

    def __init__(self, store, groups: list[tuple[str, ...]]) -> None:
        self.store = store
        self.groups: dict[str, tuple[str, ...]] = {}
        for group in groups:
            for phrase in group:
                key = _key(phrase)
                self.groups[key] = tuple(dict.fromkeys(self.groups.get(key, ()) + group))
        alternatives = sorted(self.groups, key=len, reverse=True)  # "head torch" before "torch"
        self._pattern = re.compile(
            r"(?<![\w-])(" + "|".join(r"[\s-]+".join(map(re.escape, p.split())) for p in alternatives) + rf"){_PLURAL}(?![\w-])",
            re.IGNORECASE) if alternatives else None
        self._known: dict[str, bool] = {}
        self._generation = -1
        self._lock = threading.Lock()

    def read(self, text: str) -> tuple[str, list[tuple[str, str]]]:
        """(`text` with the catalog's names for its phrases, [(typed phrase, catalog's phrase)])."""
        if self._pattern is None or not text:
            return text, []
        self._refresh()
        said: list[tuple[str, str]] = []

        def swap(m: re.Match[str]) -> str:
            typed = m.group(0)
            phrase = _key(m.group(1))
            target = self._catalog_name(phrase)
            if target is None:
                return typed
            if len(typed) > len(m.group(1)) and not target.endswith("s"):
                target += "es" if target.endswith(("ch", "sh", "x")) else "s"
            if typed.isupper() and len(typed) > 1:
                target = target.upper()
            elif typed[:1].isupper():
                target = target[:1].upper() + target[1:]
            said.append((typed, target))
            return target

        read = self._pattern.sub(swap, text)
        return read, list(dict.fromkeys(said))

    def _catalog_name(self, phrase: str) -> str | None:
        """The group's first phrase the catalog holds, when it does not hold `phrase` itself."""
        if self._holds(phrase):
            return None
        return next((p for p in self.groups.get(phrase, ()) if _key(p) != phrase and self._holds(p)), None)

    def _refresh(self) -> None:
        """Forget what the keyword index held once the catalog has changed."""
        generation = self.store.generation("product")
        with self._lock:
            if generation != self._generation:
                self._known, self._generation = {}, generation

    def _holds(self, phrase: str) -> bool:
        with self._lock:
            if phrase not in self._known:
                self._known[phrase] = self.store.keyword_known("product", phrase)
            return self._known[phrase]


def read_as_catalog(text: str, speller, thesaurus: Thesaurus | None) -> tuple[str, list[tuple[str, str]]]:
    """A message as the catalog names things: typing errors corrected (`speller`, a `Speller` or None), then other
    names read as the catalog's; with [(typed, read)] for each change."""
    fixes: list[tuple[str, str]] = []
    if speller is not None:
        text, fixes = speller.correct(text)
    if thesaurus is not None:
        text, names = thesaurus.read(text)
        fixes = fixes + names
    return text, fixes


def open_thesaurus(store, extra: Path | None = None) -> Thesaurus:
    """The bundled thesaurus, with the groups of the store's own file `extra` added."""
    groups = read_groups(BUNDLED)
    if extra is not None:
        groups += read_groups(extra)
    return Thesaurus(store, groups)

"""Other names for what the catalog sells: "settee" is read as "sofa", "rucksack" as "backpack".

A thesaurus is groups of phrases that name the same thing, one group a line, comma-separated
(`synonyms.txt` beside this module, plus the store's own file if configured). A phrase of a
message is read as another phrase of its group only when the catalog's keyword index holds none
of the message's phrase and does hold the other one (the first such in the group's order), so a
store that says "rucksack" keeps it and a word the catalog already answers is never changed. A
plural stays plural ("rucksacks" becomes "backpacks"), and "head-torch" is "head torch".

A group may name a kind in several languages ("sofa, canapé, Sofa, 沙发"): a store that serves customers
in other languages knows its kinds' names in them. Such a store's groups are part of its data (`ingest
synonyms FILE`, or `synonyms.txt` of the demo store), kept in its meta table under `STORE_KEY`. Phrases are
matched whole and case-insensitively ("Schuhe" is not found in "Wanderschuhe"); a phrase with Chinese
characters is found inside a run of them, since Chinese has no spaces.
"""

from __future__ import annotations

import logging
import re
import threading
from pathlib import Path

from knowledge.ingest import IngestReport, RowProblem
from shopguide.errors import IngestError

log = logging.getLogger(__name__)

BUNDLED = Path(__file__).with_name("synonyms.txt")
STORE_KEY = "store_synonyms"  # the store's own groups in its meta table, one a line as in a file
_PLURAL = r"(?:e?s)?"
_HAN = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")


def _key(phrase: str) -> str:
    """A phrase as matched: lower-case, words apart ("Head-Torch" is "head torch")."""
    return " ".join(w for w in re.split(r"[\s-]+", phrase.lower()) if w)


def parse_groups(text: str, source: str) -> tuple[list[tuple[str, ...]], list[tuple[int, str]]]:
    """The groups of a thesaurus text (one a line, phrases comma-separated, `#` comments; lower-cased), and
    [(line number, why)] for each line skipped."""
    groups: list[tuple[str, ...]] = []
    skipped: list[tuple[int, str]] = []
    for number, line in enumerate(text.splitlines(), start=1):
        line = line.split("#", 1)[0]
        phrases = tuple(dict.fromkeys(" ".join(p.lower().split()) for p in line.split(",") if p.strip()))
        if len(phrases) >= 2:
            groups.append(phrases)
        elif phrases:
            why = "a synonym group needs two names or more, comma-separated; line skipped"
            log.warning("%s:%d: %s", source, number, why)
            skipped.append((number, why))
    return groups, skipped


def read_groups(path: Path) -> list[tuple[str, ...]]:
    """The groups of a thesaurus file; a broken line is logged and skipped."""
    return parse_groups(path.read_text(encoding="utf-8"), str(path))[0]


def store_groups(store) -> list[tuple[str, ...]]:
    """The store's own groups, as its last `ingest synonyms` left them (none when it has none)."""
    return parse_groups(store.get_meta(STORE_KEY) or "", STORE_KEY)[0]


class Thesaurus:
    """Reads a message's phrases the catalog lacks as the synonyms it has; asks the store's keyword index."""

    def __init__(self, store, groups: list[tuple[str, ...]], *, stored: bool = False) -> None:
        """`groups`, and with `stored` the store's own (`STORE_KEY`), read again when an ingest changes them."""
        self.store = store
        self._fixed = list(groups)
        self._stored: str | None = "" if stored else None  # the store's groups as last read
        self._known: dict[str, bool] = {}
        self._generation = -1
        self._lock = threading.Lock()
        self._build(self._fixed)

    def _build(self, groups: list[tuple[str, ...]]) -> None:
        """The phrase index and the one pattern that finds every phrase."""
        merged: dict[str, tuple[str, ...]] = {}
        for group in groups:
            for phrase in group:
                key = _key(phrase)
                merged[key] = tuple(dict.fromkeys(merged.get(key, ()) + group))
        alternatives = sorted(merged, key=len, reverse=True)  # "head torch" before "torch"
        words = [r"[\s-]+".join(map(re.escape, p.split())) for p in alternatives if not _HAN.search(p)]
        han = [r"\s*".join(map(re.escape, p.split())) for p in alternatives if _HAN.search(p)]
        parts = ([r"(?<![\w-])(" + "|".join(words) + rf"){_PLURAL}(?![\w-])"] if words else []) + \
                (["(" + "|".join(han) + ")"] if han else [])  # Chinese: found inside a run of characters
        pattern = re.compile("|".join(parts), re.IGNORECASE) if parts else None
        self.groups = merged
        self._index = (pattern, 2 if words else 1, merged)  # replaced whole: a reader sees one version

    def read(self, text: str, keep: frozenset[str] | None = None) -> tuple[str, list[tuple[str, str]]]:
        """(`text` with the catalog's names for its phrases, [(typed phrase, catalog's phrase)]).

        `keep`: for a message in another language than the catalog's, the catalog's own names (lower case), the
        only phrases left as typed. The keyword index cannot say whether it holds such a phrase: its English
        stemming finds "tent" in "tente" and "vest" in "veste"."""
        if not text:
            return text, []
        self._refresh()
        pattern, han_group, groups = self._index
        if pattern is None:
            return text, []
        said: list[tuple[str, str]] = []

        def swap(m: re.Match[str]) -> str:
            typed = m.group(0)
            han = m.lastindex == han_group and _HAN.search(typed) is not None
            phrase = _key(m.group(m.lastindex or 1))
            target = self._catalog_name(phrase, groups, keep)
            if target is None:
                return typed
            if han:  # set apart from the characters around it, or no word reader finds it
                said.append((typed, target))
                return f" {target} "
            if len(typed) > len(m.group(1)) and not target.endswith("s"):
                target += "es" if target.endswith(("ch", "sh", "x")) else "s"
            if typed.isupper() and len(typed) > 1:
                target = target.upper()
            elif typed[:1].isupper():
                target = target[:1].upper() + target[1:]
            said.append((typed, target))
            return target

        read = pattern.sub(swap, text)
        return read, list(dict.fromkeys(said))

    def _catalog_name(self, phrase: str, groups: dict[str, tuple[str, ...]],
                      keep: frozenset[str] | None = None) -> str | None:
        """The group's first phrase the catalog holds, when it does not hold `phrase` itself (with `keep`: when
        `phrase` is none of those names)."""
        if (phrase in keep or phrase.replace(" ", "-") in keep) if keep is not None else self._holds(phrase):
            return None
        return next((p for p in groups.get(phrase, ()) if _key(p) != phrase and self._holds(p)), None)

    def _refresh(self) -> None:
        """Forget what the keyword index held once the catalog has changed; read the store's groups again once an
        ingest has changed them (another process's too)."""
        generation = self.store.generation("product")
        stored = (self.store.get_meta(STORE_KEY) or "") if self._stored is not None else None
        with self._lock:
            if generation != self._generation:
                self._known, self._generation = {}, generation
            if stored is not None and stored != self._stored:
                self._stored = stored
                self._build(self._fixed + parse_groups(stored, STORE_KEY)[0])

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
    """The bundled thesaurus, with the store's own groups (the file `extra`, then its records) added."""
    groups = read_groups(BUNDLED)
    if extra is not None:
        groups += read_groups(extra)
    return Thesaurus(store, groups, stored=True)


def ingest_synonyms(store, path: Path) -> IngestReport:
    """Make the groups of the thesaurus file `path` the store's own (replacing those it held): idempotent, one
    write; a broken line is reported with its number and skipped, the others kept."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise IngestError(f"cannot read synonyms file {path}: {exc}") from exc
    groups, skipped = parse_groups(text, str(path))
    before = set(store_groups(store))
    wanted = list(dict.fromkeys(groups))
    report = IngestReport(kind="synonym", file=str(path), rows=len(wanted) + len(skipped),
                          added=sum(g not in before for g in wanted), unchanged=sum(g in before for g in wanted),
                          removed=len(before - set(wanted)), rejected=len(skipped),
                          problems=[RowProblem(str(path), number, why) for number, why in skipped])
    stored = "\n".join(", ".join(g) for g in wanted)
    if stored != (store.get_meta(STORE_KEY) or ""):
        store.set_meta(STORE_KEY, stored or None)
    return report

"""Orders by the records' attributes from a data file: "the brightest" sorts by lumens, "holds the most" by capacity."""

from __future__ import annotations

import functools
import logging
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from bot.understanding.examples import compose
from knowledge.specs import ATTR

log = logging.getLogger(__name__)

BUNDLED = Path(__file__).parent / "attributes.yaml"
# The assistant's own orders, which their handlers word and rank ("Sorted by weight, lightest first").
_NAMED = {("price", False): "price_asc", ("price", True): "price_desc", ("rating", True): "rating",
          ("weight_g", False): "weight_asc", ("weight_g", True): "weight_desc", ("warmth", True): "warmth"}


@dataclass(frozen=True)
class Orders:
    """Phrases that order products, longest first, each with its sort name."""

    phrases: tuple[tuple[str, str], ...] = ()

    def find(self, text: str) -> str | None:
        """The sort a message asks for by its words, the longest phrase winning ("best rated" over "best")."""
        low = " " + re.sub(r"[^\w\s-]", " ", text.lower()) + " "
        for phrase, sort in self.phrases:
            if re.search(rf"(?<![\w-]){re.escape(phrase)}(?![\w-])", low):
                return sort
        return None


def _sort_name(keys: list[str], descending: bool) -> str:
    named = _NAMED.get((keys[0], descending)) if len(keys) == 1 else None
    return named or f"{ATTR}{','.join(keys)}:{'desc' if descending else 'asc'}"


def read_orders(path: Path, into: dict[str, str]) -> list[str]:
    """Add a file's phrases to `into` (phrase -> sort); return its problems as "file:line: why"."""
    root, problems = compose(path)
    if root is None:
        return problems
    if not isinstance(root, yaml.SequenceNode):
        return [f"{path}:{root.start_mark.line + 1}: expected a list of entries with keys, most and least"]
    problems = []
    for node in root.value:
        entry: Any = yaml.safe_load(yaml.serialize(node))
        line = node.start_mark.line + 1
        keys = entry.get("keys") if isinstance(entry, dict) else None
        if not isinstance(keys, list) or not keys or not all(isinstance(k, str) for k in keys):
            problems.append(f"{path}:{line}: an entry needs `keys`, a list of record keys")
            continue
        for direction, descending in (("most", True), ("least", False)):
            for phrase in entry.get(direction) or []:
                if isinstance(phrase, str) and phrase.strip():
                    into[" ".join(phrase.lower().split())] = _sort_name(keys, descending)
                else:
                    problems.append(f"{path}:{line}: a phrase of {direction!r} must be a non-empty text")
    return problems


def load_orders(extra: Path | None = None) -> Orders:
    """The bundled orders, plus the store's own file (its phrases win), longest phrase first."""
    phrases: dict[str, str] = {}
    problems = read_orders(BUNDLED, phrases)
    if extra is not None:
        problems += read_orders(Path(extra), phrases)
    for p in problems:
        log.warning("attributes: %s", p)
    return Orders(tuple(sorted(phrases.items(), key=lambda kv: -len(kv[0]))))


@functools.cache
def bundled_orders() -> Orders:
    """The bundled orders, read once per process."""
    return load_orders()

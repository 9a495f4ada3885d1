"""Example utterances per intent (YAML `intent: [utterances]`) and the intents' conversation states."""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from shopguide.errors import NotConfigured

log = logging.getLogger(__name__)

HERE = Path(__file__).parent
BUNDLED = HERE / "examples"
INTENTS_FILE = HERE / "intents.yaml"
STATES = ("start", "list", "focus", "asked", "offered")


@dataclass
class Examples:
    """Utterances by intent, the states each intent can be meant in, and a digest of it all."""

    utterances: dict[str, list[str]] = field(default_factory=dict)
    states: dict[str, tuple[str, ...]] = field(default_factory=dict)
    strict: frozenset[str] = frozenset()  # intents meant only in their own states
    offers: dict[str, str] = field(default_factory=dict)  # intent -> the choice in words, for a clarifying question
    problems: list[str] = field(default_factory=list)  # "file:line: what is wrong", for the start-up log

    @property
    def digest(self) -> str:
        """A hash of everything the classifier learns from: the cache key of its trained state."""
        h = hashlib.sha256()
        for intent in sorted(self.utterances):
            h.update(f"{intent}\x00{','.join(self.states.get(intent, ()))}\x00{intent in self.strict}".encode())
            for u in self.utterances[intent]:
                h.update(u.encode() + b"\x01")
        return h.hexdigest()[:16]

    def pairs(self) -> list[tuple[str, str]]:
        """(utterance, intent) for every example."""
        return [(u, intent) for intent, us in sorted(self.utterances.items()) for u in us]


def _line_of(node: yaml.Node) -> int:
    return node.start_mark.line + 1


def read_offers(path: Path = INTENTS_FILE) -> dict[str, str]:
    """Each intent's choice in words ("see {what}"), for the clarifying question."""
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    return {str(intent): str(spec["offer"]) for intent, spec in data.items() if spec.get("offer")}


def read_states(path: Path = INTENTS_FILE) -> tuple[dict[str, tuple[str, ...]], frozenset[str]]:
    """Each intent's usual conversation states, and the intents meant only in theirs, from the intents file."""
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    states = {}
    strict = frozenset(str(intent) for intent, spec in data.items() if spec.get("only"))
    for intent, spec in data.items():
        when = tuple(spec.get("when") or STATES)
        unknown = [s for s in when if s not in STATES]
        if unknown:
            raise NotConfigured(f"{path}: intent {intent!r} names unknown states {unknown} (known: {', '.join(STATES)})")
        states[str(intent)] = when
    return states, strict


def compose(path: Path) -> tuple[yaml.Node | None, list[str]]:
    """A data file's YAML tree (with line numbers), or its problem as "file:line: why"."""
    try:
        return yaml.compose(path.read_text(encoding="utf-8")), []
    except OSError as exc:
        return None, [f"{path}: cannot be read ({exc.strerror or exc})"]
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{path}:{mark.line + 1}" if mark else str(path)
        return None, [f"{where}: not valid YAML ({getattr(exc, 'problem', None) or exc})"]


def read_examples_file(path: Path, known: set[str], into: dict[str, list[str]]) -> list[str]:
    """Add a YAML file's `intent: [utterances]` to `into`; return its problems as "file:line: why" (nothing raised)."""
    root, problems = compose(path)
    if root is None:
        return problems
    if not isinstance(root, yaml.MappingNode):
        return [f"{path}:{_line_of(root)}: expected 'intent: [utterances]' mappings at the top level"]
    problems = []
    for key, value in root.value:
        intent = str(key.value).strip()
        if intent not in known:
            problems.append(f"{path}:{_line_of(key)}: unknown intent {intent!r} (known: {', '.join(sorted(known))})")
            continue
        if not isinstance(value, yaml.SequenceNode):
            problems.append(f"{path}:{_line_of(value)}: the examples of {intent!r} must be a list of messages")
            continue
        for item in value.value:
            text = item.value if isinstance(item, yaml.ScalarNode) else None
            if not isinstance(text, str) or not text.strip():
                problems.append(f"{path}:{_line_of(item)}: an example must be a non-empty message")
                continue
            into.setdefault(intent, []).append(" ".join(text.split())[:500])
    return problems


def load_examples(extra: Path | None = None, languages: tuple[str, ...] | None = None) -> Examples:
    """The bundled examples of every language (or `languages`), plus the store's own file, deduplicated."""
    states, strict = read_states()
    utterances: dict[str, list[str]] = {}
    problems: list[str] = []
    for path in sorted(BUNDLED.glob("*.yaml")):
        if languages is None or path.stem in languages:
            problems += read_examples_file(path, set(states), utterances)
    if extra is not None:
        problems += read_examples_file(Path(extra), set(states), utterances)
    for p in problems:
        log.warning("examples: %s", p)
    deduped = {intent: list(dict.fromkeys(us)) for intent, us in utterances.items()}
    return Examples(deduped, states, strict, read_offers(), problems)

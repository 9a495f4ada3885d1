"""Kinds named in another language (knowledge/kinds.py): the spans a message is read by, and when a type is taken."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np

from knowledge.kinds import ACCEPT, KindFinder, spans


def test_spans_are_short_word_runs_and_chinese_character_runs():
    assert spans("zeig mir Stirnlampen") == ["zeig", "mir", "Stirnlampen", "zeig mir", "mir Stirnlampen",
                                            "zeig mir Stirnlampen"]
    got = spans("看看头灯")
    assert "头灯" in got and "看看头灯" in got and "头" not in got  # single characters say too little
    assert spans("chaussures d'approche 42")[:2] == ["chaussures", "d'approche"]  # numbers are no kind
    assert spans("") == [] and len(spans("wort " * 200)) <= 64


class _Embedder:
    """Unit vectors by text: each known word points at one type's direction, anything else elsewhere."""

    def __init__(self, axes: dict[str, int], dim: int = 4) -> None:
        self.axes, self.dim = axes, dim

    def encode_queries(self, texts):
        rows = []
        for text in texts:
            v = np.full(self.dim, 0.1, dtype=np.float32)
            v[self.axes.get(text, self.dim - 1)] = 1.0
            rows.append(v / np.linalg.norm(v))
        return np.array(rows)


def _finder(axes: dict[str, int]) -> KindFinder:
    kb = SimpleNamespace(document_embedder=_Embedder(axes), vectors=SimpleNamespace(count=lambda kind: 0))
    return KindFinder(kb, ["sandals", "headlamp", "socks"])


def test_a_kind_is_taken_only_when_one_type_leads_clearly():
    finder = _finder({"sandals": 0, "headlamp": 1, "socks": 2, "Sandalen": 0, "Stirnlampe": 1})
    assert finder.available
    assert finder.find("Sandalen bitte") == ["sandals"]
    assert finder.find("Stirnlampe") == ["headlamp"]
    assert finder.find("irgendwas Schönes") == []  # nothing near any type
    assert ACCEPT > 0.9


def test_without_a_multilingual_model_or_types_nothing_is_read():
    kb = SimpleNamespace(document_embedder=object(), vectors=SimpleNamespace(count=lambda kind: 0))
    assert not KindFinder(kb, ["sandals"]).available and KindFinder(kb, ["sandals"]).find("Sandalen") == []
    assert not _finder({}).__class__(SimpleNamespace(document_embedder=_Embedder({})), []).available

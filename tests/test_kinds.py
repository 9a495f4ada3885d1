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


def test_with_product_vectors_each_type_is_also_scored_by_its_products_mean_vector():
    """A span far from a type's name but near its products (the prototype) names it; the names alone do not."""
    axes = {"sandals": 0, "headlamp": 1, "socks": 2}  # "Stirnlampen" lies nearer the headlamps than their name
    embedder = _Embedder(axes)
    lamp = np.array([0.0, 1.0, 0.0, 0.5], dtype=np.float32)  # the headlamps' texts, not the word
    products = [SimpleNamespace(id="p1", type="headlamp"), SimpleNamespace(id="p2", type="headlamp"),
                SimpleNamespace(id="p3", type="sandals"), SimpleNamespace(id="p4", type="socks")]
    vectors = {"p1": lamp, "p2": lamp, "p3": np.eye(4, dtype=np.float32)[0], "p4": np.eye(4, dtype=np.float32)[2]}

    def encode_queries(texts):
        rows = [np.array([0.0, 0.9, 0.0, 0.44]) if t == "Stirnlampen" else embedder.encode_queries([t])[0] for t in texts]
        return np.array([r / np.linalg.norm(r) for r in rows], dtype=np.float32)

    kb = SimpleNamespace(
        document_embedder=SimpleNamespace(encode_queries=encode_queries, encode_query=lambda t: encode_queries([t])[0]),
        store=SimpleNamespace(all_products=lambda: products, get_products=lambda ids: {p.id: p for p in products}),
        vectors=SimpleNamespace(count=lambda kind: len(vectors), get_vectors=lambda kind, ids: vectors,
                                query=lambda kind, vector, n, metadata=False: [SimpleNamespace(id="p1")]))
    finder = KindFinder(kb, ["sandals", "headlamp", "socks"])
    finder.warm()
    assert finder.find("Stirnlampen") == ["headlamp"]
    no_products = KindFinder(SimpleNamespace(document_embedder=kb.document_embedder,
                                             vectors=SimpleNamespace(count=lambda kind: 0)), ["sandals", "headlamp", "socks"])
    assert no_products.find("Stirnlampen") == []  # 0.93 to the name alone is under the bar


def _kb_with_products(queries: dict[str, list[float]], vectors: dict[str, np.ndarray], products, nearest: str):
    def encode_queries(texts):
        rows = [np.asarray(queries.get(t, [0.0, 0.0, 0.0, 1.0]), dtype=np.float32) for t in texts]
        return np.array([r / np.linalg.norm(r) for r in rows], dtype=np.float32)

    return SimpleNamespace(
        document_embedder=SimpleNamespace(encode_queries=encode_queries, encode_query=lambda t: encode_queries([t])[0]),
        store=SimpleNamespace(all_products=lambda: products, get_products=lambda ids: {p.id: p for p in products}),
        vectors=SimpleNamespace(count=lambda kind: len(vectors), get_vectors=lambda kind, ids: vectors,
                                query=lambda kind, vector, n, metadata=False: [SimpleNamespace(id=nearest)]))


def test_when_no_type_leads_but_every_near_type_is_of_one_category_that_category_is_read():
    sandals, boots, lamp = [1.0, 0.8, 0.0, 0.0], [0.8, 1.0, 0.0, 0.0], [0.7, 0.7, 0.4, 0.0]
    queries = {"sandals": sandals, "boots": boots, "headlamp": lamp,
               "Schuhe": [1.0, 1.0, 0.0, 0.05], "Schuhe und Lampen": [1.0, 1.0, 0.2, 0.0]}
    products = [SimpleNamespace(id="p1", type="sandals"), SimpleNamespace(id="p2", type="boots"),
                SimpleNamespace(id="p3", type="headlamp")]
    unit = {pid: np.asarray(v, dtype=np.float32) / np.linalg.norm(v) for pid, v in (("p1", sandals), ("p2", boots), ("p3", lamp))}
    kb = _kb_with_products(queries, unit, products, "none")  # the nearest product is no type's: no votes
    finder = KindFinder(kb, ["sandals", "boots", "headlamp"],
                        {"sandals": "footwear", "boots": "footwear", "headlamp": "accessories"})
    assert finder.read("Schuhe") == ([], ["footwear"])  # as near sandals as boots: shoes of some kind
    assert finder.read("Schuhe und Lampen") == ([], [])  # near kinds of two categories: neither
    assert KindFinder(kb, ["sandals", "boots", "headlamp"]).read("Schuhe") == ([], [])  # no categories known

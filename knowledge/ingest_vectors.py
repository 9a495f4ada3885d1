"""The vector side of ingestion: passages embedded in batches and written with their records, undone on failure, repaired."""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

from knowledge import passages
from knowledge.base import KnowledgeBase
from knowledge.passages import document_passages, faq_passages, product_metadata, product_passages
from knowledge.schema import Document, Faq, Product
from knowledge.store import chunk_id

log = logging.getLogger(__name__)

Progress = Callable[[int, int], None]
Record = Product | Faq | Document
BATCH_ITEMS = 256


def _other_dimension(kb: KnowledgeBase, kind: str) -> int | None:
    """The length of the stored vectors of `kind` if it is not the current model's, else None."""
    dimension = kb.vectors.dimension(kind)
    return dimension if dimension is not None and dimension != kb.embedder_for(kind).dimension else None


def _embedder_name(kb: KnowledgeBase, kind: str) -> str:
    """Which model (and passage format) made the vectors, without loading the model; the two must not mix."""
    embedder = kb.embedder_for(kind)
    path = getattr(embedder, "path", None)
    name = "/".join(Path(str(path)).parts[-2:]) if path else type(embedder).__name__
    version = passages.VERSIONS.get(kind)  # bump it in passages.py to re-embed that kind on the next ingest
    return f"{name} passages:{version}" if version else name


def _model_part(name: str) -> str:
    """The model of an `_embedder_name`, without its passage format."""
    return name.split(" passages:")[0]


def _remove(kb: KnowledgeBase, kind: str, ids: list[str]) -> int:
    """Delete items (and, for products, their documents) from both stores; returns the documents removed."""
    doomed = set(ids)
    with kb.store.lock:
        rows = kb.store.db.execute("SELECT id, item_id FROM chunks WHERE kind = ?", [kind]).fetchall()
    vector_ids = [r[0] for r in rows if r[1] in doomed]
    kb.store.delete_items(kind, ids)  # records first: from here on the items are invisible
    kb.vectors.delete(kind, vector_ids)
    if kind != "product" or not doomed:
        return 0
    docs = kb.store.document_ids_of(ids)  # documents about a removed product would answer questions about nothing
    if docs:
        _remove(kb, "document", docs)
    return len(docs)


def _passages(kb: KnowledgeBase, kind: str, record: Record) -> list[str]:
    embedder = kb.embedder_for(kind)
    window = max(32, embedder.max_tokens - 2)
    count = embedder.count_tokens
    if kind == "product":
        return product_passages(record, max_tokens=window, count_tokens=count)  # type: ignore[arg-type]
    if kind == "faq":
        return faq_passages(record, max_tokens=window, count_tokens=count)  # type: ignore[arg-type]
    return document_passages(record, max_tokens=window, count_tokens=count)  # type: ignore[arg-type]


def _metadata(kind: str, record: Record, digest: str, seq: int) -> dict[str, Any]:
    if kind == "product":
        meta = product_metadata(record)  # type: ignore[arg-type]
    elif kind == "document":
        meta = {"item_id": record.id, "product_id": record.product_id, "source": record.source or ""}  # type: ignore[union-attr]
    else:
        meta = {"item_id": record.id}
    meta["hash"] = digest
    meta["seq"] = seq
    return meta


def _embed_and_write(
    kb: KnowledgeBase, kind: str, todo: list[tuple[Record, str]], progress: Progress | None
) -> int:
    """Embed changed items batch by batch; writing a batch overlaps with encoding the next."""
    if not todo:
        if progress:
            progress(0, 0)
        return 0
    total = len(todo)
    # Items of similar length in one batch: the encoder pads each batch to its longest text,
    # so a mixed batch spends much of its time on padding.
    todo = sorted(todo, key=lambda item: _text_length(item[0]))
    done = 0
    embedded = 0
    pending: Future[None] | None = None
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="ingest-writer") as writer:
        for start in range(0, total, BATCH_ITEMS):
            batch = todo[start:start + BATCH_ITEMS]
            chunk_lists = [_passages(kb, kind, record) for record, _ in batch]
            texts = [text for chunks in chunk_lists for text in chunks]
            vectors = kb.embedder_for(kind).encode(texts)
            embedded += len(texts)
            if pending is not None:
                pending.result()
            pending = writer.submit(_write_batch, kb, kind, batch, chunk_lists, vectors)
            done += len(batch)
            if progress:
                progress(done, total)
        if pending is not None:
            pending.result()
    return embedded


def _text_length(record: Record) -> int:
    return sum(len(getattr(record, name, None) or "") for name in ("title", "description", "question", "answer", "text"))


def _write_batch(kb: KnowledgeBase, kind: str, batch, chunk_lists, vectors) -> None:
    ids: list[str] = []
    metas: list[dict[str, Any]] = []
    stale_ids: list[str] = []
    old_counts = _chunk_counts(kb, kind, [r.id for r, _ in batch])
    for (record, digest), chunks in zip(batch, chunk_lists):
        for seq in range(len(chunks)):
            ids.append(chunk_id(kind, record.id, seq))
            metas.append(_metadata(kind, record, digest, seq))
        for seq in range(len(chunks), old_counts.get(record.id, 0)):
            stale_ids.append(chunk_id(kind, record.id, seq))
    before = kb.vectors.collection(kind).get(ids=ids, include=["embeddings", "metadatas"]) if old_counts else None
    try:
        kb.vectors.upsert(kind, ids, vectors, metas)
        kb.store.write_items(kind, [(record, digest, chunks) for (record, digest), chunks in zip(batch, chunk_lists)])
    except BaseException:
        _restore(kb, kind, ids, before)
        raise
    if stale_ids:
        kb.vectors.delete(kind, stale_ids)


def _restore(kb: KnowledgeBase, kind: str, ids: list[str], before: dict[str, Any] | None) -> None:
    """Undo a batch's vector writes after a failure, so its items stay fully old."""
    try:
        old_ids = list(before["ids"]) if before else []
        kb.vectors.delete(kind, [i for i in ids if i not in set(old_ids)])
        if old_ids:
            kb.vectors.upsert(kind, old_ids, before["embeddings"], before["metadatas"])  # type: ignore[index]
    except Exception:
        log.exception("could not restore the vectors of a failed %s batch; the next ingest repairs them", kind)


def _chunk_counts(kb: KnowledgeBase, kind: str, item_ids: list[str]) -> dict[str, int]:
    if not item_ids:
        return {}
    marks = ",".join("?" * len(item_ids))
    with kb.store.lock:
        rows = kb.store.db.execute(
            f"SELECT item_id, count(*) FROM chunks WHERE kind = ? AND item_id IN ({marks}) GROUP BY item_id",
            [kind, *item_ids],
        ).fetchall()
    return {r[0]: r[1] for r in rows}


def _repair(kb: KnowledgeBase, kind: str) -> set[str]:
    """After an interrupted ingest: drop orphan vectors, and return items whose vectors are stale."""
    with kb.store.lock:
        rows = kb.store.db.execute("SELECT id, item_id, hash FROM chunks WHERE kind = ?", [kind]).fetchall()
    expected = {r[0]: (r[1], r[2]) for r in rows}
    seen = kb.vectors.hashes(kind)
    orphans: list[str] = []
    stale: set[str] = set()
    for vid, digest in seen.items():
        if vid not in expected:
            orphans.append(vid)
        elif digest != expected[vid][1]:
            stale.add(expected[vid][0])
    for vid, (item_id, _) in expected.items():
        if vid not in seen:
            stale.add(item_id)
    if orphans:
        kb.vectors.delete(kind, orphans)
    log.warning("repaired an interrupted %s ingest: %d orphan vectors removed, %d items to re-embed",
                kind, len(orphans), len(stale))
    return stale

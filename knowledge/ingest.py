"""Idempotent ingestion: validate rows, skip unchanged items by content hash, embed the rest.

Order of writes per batch: vectors into Chroma first, then records into SQLite in one
transaction. If either write raises, the batch's previous vectors are put back, so its items
stay fully old. Search only trusts a vector whose hash matches the committed SQLite chunk, so
even a killed process leaves nothing half-visible, and the next run repairs the index.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from knowledge.base import KnowledgeBase
from knowledge import passages
from knowledge.loaders import RawRow, detect_format, read_rows
from knowledge.passages import document_passages, faq_passages, product_metadata, product_passages
from knowledge.schema import (
    Document, Faq, Product, RowError, aliases_for, content_hash, missing_columns, parse_document, parse_faq,
    parse_product, raw_id,
)
from knowledge.shop_formats import expected_columns
from knowledge.shop_readers import ShopReader, detect_shop_format
from knowledge.store import chunk_id, ingest_marker
from shopguide.errors import IngestError

log = logging.getLogger(__name__)

PARSERS = {"product": parse_product, "faq": parse_faq, "document": parse_document}
Progress = Callable[[int, int], None]
Record = Product | Faq | Document
BATCH_ITEMS = 256


@dataclass
class RowProblem:
    """A rejected row: where it is and why."""

    file: str
    line: int
    reason: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.reason}"


@dataclass
class IngestReport:
    """What an ingest did."""

    kind: str
    file: str = ""
    rows: int = 0
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    removed: int = 0
    rejected: int = 0
    skipped: int = 0  # products a shop export marks as not for sale (draft, archived)
    embedded_chunks: int = 0
    problems: list[RowProblem] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    ids: list[str] | None = None  # the ids of the records written (None when nothing was: a feed keeps its state)

    @property
    def exit_code(self) -> int:
        """1 when any row was rejected, else 0."""
        return 1 if self.rejected else 0

    def summary(self) -> str:
        """One line for people."""
        return (
            f"{self.kind}s from {self.file or 'records'}: {self.added} added, {self.updated} updated, "
            f"{self.unchanged} unchanged, {self.removed} removed, {self.rejected} rejected"
        )

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "kind": self.kind, "file": self.file, "rows": self.rows, "added": self.added,
            "updated": self.updated, "unchanged": self.unchanged, "removed": self.removed,
            "rejected": self.rejected, "skipped": self.skipped, "embedded_chunks": self.embedded_chunks,
            "problems": [{"file": p.file, "line": p.line, "reason": p.reason} for p in self.problems],
            "notes": self.notes,
        }


@dataclass
class ParsedFile:
    """A file's valid records with the line of each, and its rejected rows."""

    name: str = ""
    records: list[Record] = field(default_factory=list)
    lines: dict[str, int] = field(default_factory=dict)
    problems: list[RowProblem] = field(default_factory=list)
    rows: int = 0
    rejected_ids: set[str] = field(default_factory=set)  # ids of rejected rows, never pruned
    skipped: dict[str, int] = field(default_factory=dict)  # products not for sale (draft, archived), by status
    unidentified: int = 0  # rejected rows whose id could not be read

    def reject(self, line: int, reason: str, item_id: str | None) -> None:
        """Record a rejected row."""
        self.problems.append(RowProblem(self.name, line, reason))
        if item_id is None:
            self.unidentified += 1
        else:
            self.rejected_ids.add(item_id)


def read_file(kind: str, path: Path, fmt: str | None = None, *, currency: str | None = None) -> ParsedFile:
    """Valid records of a file with their lines, plus the rejected rows; repeated ids after the first are rejected.

    A product file may be a Shopify, WooCommerce or Google Merchant export (by `fmt` or its header):
    its variants are grouped into products, and `currency` is the one a format without prices' currency uses.
    """
    path = Path(path)
    parser = PARSERS[kind]
    shop = detect_shop_format(path, fmt) if kind == "product" else None
    if shop:
        if shop != "merchant" and not currency:
            raise IngestError(f"{path}: a {shop} export names no currency: set SHOPGUIDE_CURRENCY to the shop's "
                              "currency code (for example EUR)")
        rows: Iterable[RawRow] = ShopReader(path, shop, currency)
        is_csv = False
    else:
        is_csv = detect_format(path, fmt, kind) == "csv"
        rows = read_rows(path, fmt)
    out = ParsedFile(name=str(path))
    for raw in rows:
        if is_csv and out.rows == 0 and isinstance(raw.data, dict):
            _check_header(kind, path, list(raw.data))
        out.rows += 1
        if raw.error:
            out.reject(raw.line, raw.error, raw.item_id(lambda data: raw_id(kind, data)))
            continue
        try:
            record = parser(raw.data)
        except RowError as exc:
            out.reject(raw.line, str(exc), raw.item_id(lambda data: raw_id(kind, data)))
            continue
        if record.id in out.lines:
            out.reject(raw.line, f"duplicate id {record.id!r} (first on line {out.lines[record.id]})", record.id)
            continue
        out.lines[record.id] = raw.line
        out.records.append(record)
    if isinstance(rows, ShopReader):
        out.rows, out.skipped = rows.physical_rows, rows.skipped
    return out


def parse_file(kind: str, path: Path, fmt: str | None = None) -> tuple[list[Record], list[RowProblem], int]:
    """Valid records of a file, the rejected rows and the number of rows read."""
    parsed = read_file(kind, path, fmt)
    return parsed.records, parsed.problems, parsed.rows


def _check_header(kind: str, path: Path, columns: list[str]) -> None:
    """A CSV without a required column cannot give one valid row: say so once, not per row."""
    missing = missing_columns(kind, columns)
    if missing:
        name = missing[0]
        aliases = sorted(a for a, canon in aliases_for(kind).items() if canon == name)
        also = f" (or {', '.join(aliases)})" if aliases else ""
        hint = f"; {expected_columns()}" if kind == "product" else ""
        raise IngestError(f"{path}:1: the CSV header has no {name!r} column{also}; "
                          f"it has: {', '.join(columns)}{hint}")


def ingest_file(
    kb: KnowledgeBase,
    kind: str,
    path: Path,
    *,
    fmt: str | None = None,
    strict: bool = False,
    prune: bool = False,
    progress: Progress | None = None,
    currency: str | None = None,
) -> IngestReport:
    """Ingest one file of `kind` ("product", "faq" or "document"); raises `IngestError` if it cannot be read."""
    parsed = read_file(kind, Path(path), fmt, currency=currency)
    if kind == "document":
        _check_products_exist(kb, parsed)
    problems = sorted(parsed.problems, key=lambda p: p.line)
    report = IngestReport(kind=kind, file=str(path), rows=parsed.rows, problems=problems, rejected=len(problems),
                          skipped=sum(parsed.skipped.values()))
    if parsed.skipped:
        report.notes.append("skipped " + ", ".join(f"{n} {status}" for status, n in sorted(parsed.skipped.items()))
                            + " products (not for sale)" + ("; --prune removes them from the store" if prune else ""))
    if strict and problems:
        report.notes.append(f"--strict: {len(problems)} bad rows, so the whole file was rejected; nothing was ingested")
        return report
    if not parsed.records:
        what = "the file holds no rows" if parsed.rows == 0 else "no row of the file is valid"
        report.notes.append(f"{what}; nothing was ingested" + (" and nothing was pruned" if prune else ""))
        return report
    if prune and parsed.unidentified:
        report.notes.append(f"--prune skipped: {parsed.unidentified} rejected rows have no readable id, "
                            "so absent items cannot be told from unreadable ones; fix the rows and run again")
        prune = False
    report.ids = [r.id for r in parsed.records]
    return ingest_records(kb, kind, parsed.records, prune=prune, keep=parsed.rejected_ids, progress=progress,
                          report=report)


def _check_products_exist(kb: KnowledgeBase, parsed: ParsedFile) -> None:
    known = set(kb.store.hashes("product"))
    kept: list[Record] = []
    for record in parsed.records:
        product_id = record.product_id  # type: ignore[union-attr]
        if product_id in known:
            kept.append(record)
        else:
            parsed.reject(parsed.lines.pop(record.id), f"document {record.id!r} refers to unknown product "
                          f"{product_id!r}; ingest that product first", record.id)
    parsed.records = kept


def ingest_records(
    kb: KnowledgeBase,
    kind: str,
    records: Sequence[Record],
    *,
    prune: bool = False,
    keep: Iterable[str] = (),
    progress: Progress | None = None,
    report: IngestReport | None = None,
) -> IngestReport:
    """Upsert validated records: unchanged ones are skipped, changed ones re-embedded.

    With `prune`, stored items that are neither in `records` nor in `keep` are removed.
    """
    report = report or IngestReport(kind=kind, rows=len(records))
    marker = ingest_marker(kind)
    broken = _repair(kb, kind) if kb.store.get_meta(marker) else set()
    kb.store.set_meta(marker, "1")
    stored = kb.store.hashes(kind)
    stale = set(broken)
    model_key, model = f"embedder:{kind}", _embedder_name(kb, kind)
    previous_model = kb.store.get_meta(model_key)
    other = _other_dimension(kb, kind) if stored else None
    if other:  # e.g. a store from before the model was recorded
        previous_model = f"a model of dimension {other}"
    new_model = previous_model is not None and _model_part(previous_model) != _model_part(model)
    if new_model:
        kb.vectors.drop(kind)  # vectors of two models must not mix (nor can they, at another dimension)
    if stored and previous_model is not None and previous_model != model:
        kept = "are re-embedded from the store" if new_model else "keep their old vectors until re-ingested"
        report.notes.append(f"the embedding model or passage format changed ({previous_model} -> {model}): every item of "
                            f"the file is re-embedded; stored items absent from it {kept}")
        stale |= set(stored)
    repaired = 0
    todo: list[tuple[Record, str]] = []
    for record in records:
        digest = content_hash(record)
        old = stored.get(record.id)
        if old == digest and record.id not in stale:
            report.unchanged += 1
            continue
        if old is None:
            report.added += 1
        else:
            report.updated += 1
            repaired += old == digest and record.id in broken
        todo.append((record, digest))
    if repaired:
        report.notes.append(f"repaired {repaired} items left stale by an interrupted ingest")
    if new_model:  # their old vectors are gone: embed them from their stored records
        in_file, kept = {r.id for r in records}, set(keep)
        rest = [i for i in stored if i not in in_file and (not prune or i in kept)]
        todo += [(record, stored[record.id]) for record in kb.store.get_records(kind, rest).values()]
    report.embedded_chunks = _embed_and_write(kb, kind, todo, progress)
    kb.store.set_meta(model_key, model)
    if prune:
        kept = {r.id for r in records} | set(keep)
        gone = [item_id for item_id in stored if item_id not in kept]
        if gone:
            documents = _remove(kb, kind, gone)
            report.removed = len(gone)
            if documents:
                report.notes.append(f"removed {documents} documents of the removed products")
    kb.store.set_meta(marker, None)
    log.info(report.summary())
    return report


def store_description(kb: KnowledgeBase, product: Product, text: str) -> IngestReport:
    """Store `text` as the product's description (an approved staff draft); only that product is re-embedded."""
    return ingest_records(kb, "product", [replace(product, description=text)])


def remove_items(kb: KnowledgeBase, kind: str, ids: Iterable[str]) -> int:
    """Delete items from both stores; returns how many existed."""
    stored = kb.store.hashes(kind)
    gone = [i for i in ids if i in stored]
    _remove(kb, kind, gone)
    return len(gone)


def refresh_embeddings(kb: KnowledgeBase, kind: str, progress: Progress | None = None) -> IngestReport | None:
    """Re-embed the stored items of `kind` if another model embedded them; None when nothing was due."""
    if not kb.store.count(kind) or embeddings_current(kb, kind):
        return None
    records = kb.store.get_records(kind, list(kb.store.hashes(kind)))
    log.warning("re-embedding the %d stored %s items with the current model (once)", len(records), kind)
    return ingest_records(kb, kind, list(records.values()), progress=progress)


def embeddings_current(kb: KnowledgeBase, kind: str) -> bool:
    """Whether the stored vectors of `kind` come from the current model and passage format."""
    return kb.store.get_meta(f"embedder:{kind}") == _embedder_name(kb, kind) and _other_dimension(kb, kind) is None


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

"""Idempotent ingestion: validate rows, skip unchanged items by content hash, embed the rest.

Order of writes per batch: vectors into Chroma first, then records into SQLite in one
transaction. If either write raises, the batch's previous vectors are put back, so its items
stay fully old. Search only trusts a vector whose hash matches the committed SQLite chunk, so
even a killed process leaves nothing half-visible, and the next run repairs the index.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from knowledge.base import KnowledgeBase
from knowledge.loaders import RawRow, detect_format, read_rows
from knowledge.schema import (
    Document, Faq, Product, RowError, aliases_for, content_hash, missing_columns, parse_document, parse_faq,
    parse_product, raw_id,
)
from knowledge.shop_formats import expected_columns
from knowledge.shop_readers import ShopReader, detect_shop_format
from knowledge.ingest_vectors import (
    Progress, Record, _embed_and_write, _embedder_name, _model_part, _other_dimension, _remove, _repair,
)
from knowledge.store import ingest_marker
from shopguide.errors import IngestError

log = logging.getLogger(__name__)

PARSERS = {"product": parse_product, "faq": parse_faq, "document": parse_document}


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


def store_faq(kb: KnowledgeBase, question: str, answer: str, lang: str | None = None) -> tuple[str, IngestReport]:
    """Store a FAQ entry staff wrote (an answer saved from a handoff); its id is stable for its question's words,
    so saving the same question again updates that entry. Returns the id and the ingest report."""
    words = " ".join(question.lower().split())
    lang = None if lang in (None, "", "en") else lang
    faq_id = "staff-" + hashlib.sha1(words.encode()).hexdigest()[:12] + (f"-{lang}" if lang else "")
    return faq_id, ingest_records(kb, "faq", [Faq(faq_id, question.strip(), answer.strip(), lang=lang)])


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

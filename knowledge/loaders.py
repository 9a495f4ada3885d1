"""Read CSV, JSON (an array) and JSONL files into raw rows that remember their line numbers.

A row that cannot be read (bad JSON, wrong encoding, ragged CSV) becomes a `RawRow` with an
error instead of stopping the whole file.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from shopguide.errors import IngestError

FORMATS = ("csv", "json", "jsonl")
_EXTENSIONS = {".csv": "csv", ".json": "json", ".jsonl": "jsonl", ".ndjson": "jsonl"}


@dataclass(frozen=True)
class RawRow:
    """One row of a file: its data, or why it could not be read."""

    line: int
    data: Any = None
    error: str | None = None


def detect_format(path: Path, fmt: str | None = None) -> str:
    """The file format from `fmt` or the file's extension."""
    if fmt:
        fmt = fmt.lower()
        if fmt not in FORMATS:
            raise IngestError(f"unknown format {fmt!r}; use one of {', '.join(FORMATS)}")
        return fmt
    found = _EXTENSIONS.get(path.suffix.lower())
    if not found:
        raise IngestError(f"{path}: cannot tell the format from the extension; pass --format csv|json|jsonl")
    return found


def read_rows(path: Path, fmt: str | None = None) -> Iterator[RawRow]:
    """Yield every row of `path` with its 1-based line number."""
    fmt = detect_format(path, fmt)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise IngestError(f"{path}: cannot read file: {exc.strerror or exc}") from None
    if raw.startswith(b"\xef\xbb\xbf"):
        raw = raw[3:]
    text = raw.decode("utf-8", errors="surrogateescape")
    if fmt == "jsonl":
        yield from _jsonl(text)
    elif fmt == "json":
        yield from _json_array(text)
    else:
        yield from _csv(text)


def _bad_encoding(text: str) -> bool:
    return any("\udc80" <= ch <= "\udcff" for ch in text)


def _jsonl(text: str) -> Iterator[RawRow]:
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        if _bad_encoding(line):
            yield RawRow(number, error="line is not valid UTF-8")
            continue
        try:
            yield RawRow(number, data=json.loads(line))
        except json.JSONDecodeError as exc:
            yield RawRow(number, error=f"invalid JSON: {exc.msg} (column {exc.colno})")


def _json_array(text: str) -> Iterator[RawRow]:
    decoder = json.JSONDecoder()
    pos = _skip_ws(text, 0)
    if pos >= len(text):
        return
    if text[pos] != "[":
        try:
            value = json.loads(text)
        except json.JSONDecodeError as exc:
            yield RawRow(exc.lineno, error=f"invalid JSON: {exc.msg}")
            return
        if isinstance(value, dict):
            items = value.get("items") or value.get("products") or value.get("faqs") or value.get("documents")
            if isinstance(items, list):
                for item in items:
                    yield RawRow(1, data=item)
                return
        yield RawRow(1, error="a JSON file must hold an array of objects")
        return
    pos += 1
    while True:
        pos = _skip_ws(text, pos)
        if pos >= len(text):
            yield RawRow(_line_of(text, pos), error="invalid JSON: the array is not closed")
            return
        if text[pos] == "]":
            return
        if text[pos] == ",":
            pos += 1
            continue
        line = _line_of(text, pos)
        try:
            value, end = decoder.raw_decode(text, pos)
        except json.JSONDecodeError as exc:
            yield RawRow(line, error=f"invalid JSON: {exc.msg}")
            pos = _resync(text, exc.pos)
            if pos < 0:
                return
            continue
        snippet = text[pos:end]
        if _bad_encoding(snippet):
            yield RawRow(line, error="row is not valid UTF-8")
        else:
            yield RawRow(line, data=value)
        pos = end


def _skip_ws(text: str, pos: int) -> int:
    while pos < len(text) and text[pos] in " \t\r\n":
        pos += 1
    return pos


def _line_of(text: str, pos: int) -> int:
    return text.count("\n", 0, pos) + 1


def _resync(text: str, pos: int) -> int:
    """Position of the next object that starts a line after a syntax error, or -1."""
    while True:
        nl = text.find("\n", pos)
        if nl < 0:
            return -1
        pos = _skip_ws(text, nl + 1)
        if pos < len(text) and text[pos] in "{]":
            return pos


def _csv(text: str) -> Iterator[RawRow]:
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader)
    except StopIteration:
        return
    except csv.Error as exc:
        yield RawRow(1, error=f"unreadable CSV header: {exc}")
        return
    header = [h.strip() for h in header]
    if not any(header):
        yield RawRow(1, error="CSV header is empty")
        return
    line = reader.line_num
    while True:
        start = line + 1
        try:
            values = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            line = reader.line_num
            yield RawRow(start, error=f"unreadable CSV row: {exc}")
            continue
        line = reader.line_num
        if not any(v.strip() for v in values):
            continue
        if any(_bad_encoding(v) for v in values):
            yield RawRow(start, error="row is not valid UTF-8")
            continue
        if len(values) > len(header):
            yield RawRow(start, error=f"row has {len(values)} values but the header has {len(header)} columns")
            continue
        row = {h: (values[i] if i < len(values) else "") for i, h in enumerate(header) if h}
        yield RawRow(start, data=row)

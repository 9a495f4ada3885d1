"""Read CSV, JSON (an array) and JSONL files into raw rows that remember their line numbers.

A row that cannot be read (bad JSON, wrong encoding, ragged CSV, an unclosed quote) becomes
a `RawRow` with an error instead of stopping the whole file; reading resumes at the next row.
A file that cannot be read at all raises `IngestError`.
"""

from __future__ import annotations

import codecs
import csv
import io
import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from shopguide.errors import IngestError

FORMATS = ("csv", "json", "jsonl")
_EXTENSIONS = {".csv": "csv", ".json": "json", ".jsonl": "jsonl", ".ndjson": "jsonl"}
WRAPPER_KEYS = ("items", "products", "faqs", "documents")  # {"products": [...]} is read like [...]
_DELIMITERS = (",", ";", "\t", "|")
_BOUNDARY = re.compile(r"}\s*,\s*{")

csv.field_size_limit(max(csv.field_size_limit(), 1 << 30))  # long descriptions are not an error


@dataclass(frozen=True)
class RawRow:
    """One row of a file: its data, or why it could not be used (`data` is kept when known)."""

    line: int
    data: Any = None
    error: str | None = None
    id_trusted: bool = True  # False when the row's values may sit under the wrong columns

    def item_id(self, read_id: Callable[[Any], str | None]) -> str | None:
        """The id this row names, when it can be trusted: a shifted or mis-decoded row names none."""
        if not self.id_trusted:
            return None
        item = read_id(self.data)
        return None if item is None or _bad_encoding(item) else item


def detect_format(path: Path, fmt: str | None = None, kind: str | None = None) -> str:
    """The file format from `fmt` or the file's extension."""
    shops = "|shopify|woocommerce|merchant" if kind == "product" else ""
    if fmt:
        fmt = fmt.lower()
        if fmt not in FORMATS:
            raise IngestError(f"unknown format {fmt!r}; use one of {', '.join(FORMATS)}{shops.replace('|', ', ')}")
        return fmt
    found = _EXTENSIONS.get(path.suffix.lower())
    if not found:
        raise IngestError(f"{path}: cannot tell the format from the extension or the header; "
                          f"pass --format csv|json|jsonl{shops}")
    return found


def read_text(path: Path) -> str:
    """The file's text; bytes that are not UTF-8 become surrogates, flagged later per row."""
    try:
        raw = path.read_bytes()
    except IsADirectoryError:
        raise IngestError(f"{path}: is a directory, not a file") from None
    except FileNotFoundError:
        raise IngestError(f"{path}: no such file") from None
    except OSError as exc:
        raise IngestError(f"{path}: cannot read file: {exc.strerror or exc}") from None
    if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return raw.decode("utf-16")
        except UnicodeDecodeError:
            raise IngestError(f"{path}: not valid UTF-16 despite its byte-order mark; save it as UTF-8") from None
    if b"\x00" in raw[:8192]:
        raise IngestError(f"{path}: looks like a binary file (or UTF-16 without a byte-order mark), "
                          "not UTF-8 text; save it as UTF-8 CSV, JSON or JSONL")
    if raw.startswith(codecs.BOM_UTF8):
        raw = raw[len(codecs.BOM_UTF8):]
    return raw.decode("utf-8", errors="surrogateescape")


def read_rows(path: Path, fmt: str | None = None) -> Iterator[RawRow]:
    """Yield every row of `path` with the 1-based line on which it starts."""
    fmt = detect_format(path, fmt)
    text = read_text(path)
    if fmt == "jsonl":
        yield from _jsonl(text)
    elif fmt == "json":
        yield from _json_array(text)
    else:
        yield from _csv(text)


_UNDECODED = re.compile("[\udc80-\udcff]")  # bytes that were not UTF-8, kept by "surrogateescape"


def _bad_encoding(text: str) -> bool:
    return _UNDECODED.search(text) is not None


def _encoding_error(text: str) -> str:
    """Name the first byte that is not UTF-8, with the text before it."""
    at = _UNDECODED.search(text).start()  # type: ignore[union-attr]
    before = "".join(ch if not "\udc80" <= ch <= "\udcff" else "?" for ch in text[max(0, at - 20):at])
    byte = ord(text[at]) - 0xDC00
    return (f"not valid UTF-8: byte 0x{byte:02x} after {before.lstrip()!r} "
            "(is the file Latin-1 or Windows-1252? save it as UTF-8)")


# ----- JSONL ----------------------------------------------------------------------------------
def _jsonl(text: str) -> Iterator[RawRow]:
    # Only "\n" ends a line: str.splitlines() would also split on U+2028 and friends,
    # which JSON strings may hold unescaped.
    for number, line in enumerate(text.split("\n"), start=1):
        if not line.strip():
            continue
        try:
            value = json.loads(line)
        except json.JSONDecodeError as exc:
            if _bad_encoding(line):
                yield RawRow(number, error=_encoding_error(line))
                continue
            hint = "; this looks like a JSON array, use --format json" if number == 1 and line.strip() == "[" else ""
            yield RawRow(number, error=f"invalid JSON: {exc.msg} (column {exc.colno}){hint}")
            continue
        if _bad_encoding(line):
            yield RawRow(number, data=value, error=_encoding_error(line))
        else:
            yield RawRow(number, data=value)


# ----- JSON array -----------------------------------------------------------------------------
class _LineCounter:
    """Line numbers of increasing positions in one text, counted incrementally."""

    def __init__(self, text: str) -> None:
        self.text, self.pos, self.line = text, 0, 1

    def at(self, pos: int) -> int:
        if pos < self.pos:
            return self.text.count("\n", 0, pos) + 1
        self.line += self.text.count("\n", self.pos, pos)
        self.pos = pos
        return self.line


def _json_array(text: str) -> Iterator[RawRow]:
    lines = _LineCounter(text)
    pos = _skip_ws(text, 0)
    if pos >= len(text):
        return
    if text[pos] == "{":
        start = _wrapped_array(text, pos)
        if start < 0:
            if _bad_encoding(text):
                yield RawRow(1, error=_encoding_error(text))
                return
            yield RawRow(1, error="a JSON file must hold an array of objects, or an object with an "
                                  f"array under one of {', '.join(WRAPPER_KEYS)}; for one object a line use JSONL")
            return
        pos = start
    elif text[pos] != "[":
        yield RawRow(1, error="a JSON file must hold an array of objects")
        return
    yield from _array_items(text, pos + 1, lines, wrapped=text[_skip_ws(text, 0)] == "{")


def _wrapped_array(text: str, pos: int) -> int:
    """Position of the "[" of the wrapper key's array in a top-level object, or -1."""
    decoder = json.JSONDecoder()
    pos += 1
    try:
        while True:
            pos = _skip_ws(text, pos)
            if pos >= len(text) or text[pos] != '"':
                return -1
            key, pos = decoder.raw_decode(text, pos)
            pos = _skip_ws(text, pos)
            if pos >= len(text) or text[pos] != ":":
                return -1
            pos = _skip_ws(text, pos + 1)
            if key in WRAPPER_KEYS and pos < len(text) and text[pos] == "[":
                return pos
            _, pos = decoder.raw_decode(text, pos)
            pos = _skip_ws(text, pos)
            if pos < len(text) and text[pos] == ",":
                pos += 1
                continue
            return -1
    except json.JSONDecodeError:
        return -1


def _array_items(text: str, pos: int, lines: _LineCounter, *, wrapped: bool) -> Iterator[RawRow]:
    decoder = json.JSONDecoder()
    resynced = False
    while True:
        pos = _skip_ws(text, pos)
        if pos >= len(text):
            yield RawRow(lines.at(pos), error="invalid JSON: the array is not closed")
            return
        if text[pos] == "]":
            if not resynced or _ends_array(text[pos + 1:], wrapped):
                return
            pos += 1  # after a resync, a "]" before the end belongs to the broken element
            continue
        if text[pos] == ",":
            pos += 1
            continue
        line = lines.at(pos)
        try:
            value, end = decoder.raw_decode(text, pos)
        except json.JSONDecodeError as exc:
            snippet = text[pos:exc.pos + 1]
            where = f" (line {exc.lineno})" if exc.lineno != line else ""
            reason = _encoding_error(snippet) if _bad_encoding(snippet) else f"invalid JSON: {exc.msg}{where}"
            yield RawRow(line, error=reason)
            pos = _resync(text, max(exc.pos, pos + 1), pos)
            if pos < 0:
                yield RawRow(line, error="could not find the next element after this broken one; "
                                         "the rest of the file was not read")
                return
            resynced = True
            continue
        snippet = text[pos:end]
        if _bad_encoding(snippet):
            yield RawRow(line, data=value, error=_encoding_error(snippet))
        else:
            yield RawRow(line, data=value)
        pos = end


def _ends_array(rest: str, wrapped: bool) -> bool:
    """Whether `rest`, after a "]", is what may follow the top-level array."""
    if not wrapped:
        return not rest.strip()
    try:
        json.loads('{"_": 0' + rest)
        return True
    except json.JSONDecodeError:
        return False


def _skip_ws(text: str, pos: int) -> int:
    while pos < len(text) and text[pos] in " \t\r\n":
        pos += 1
    return pos


def _resync(text: str, pos: int, element: int) -> int:
    """Where the next element starts after a syntax error at `pos` in the element at `element`, or -1.

    Pretty-printed files: the next line indented like the broken element (or a closing "]").
    Other files: the next line starting with "{" or "]", else the next "}, {" boundary.
    """
    line_start = text.rfind("\n", 0, element) + 1
    indent = element - line_start if not text[line_start:element].strip() else None
    before = text.rfind("\n", element, pos)
    scan = before if before >= 0 else pos  # from the line of the error: it may start the next element
    while True:
        nl = text.find("\n", scan)
        if nl < 0:
            break
        scan = nl + 1
        first = scan
        while first < len(text) and text[first] in " \t":
            first += 1
        if first >= len(text) or text[first] in "\r\n":
            continue
        col, ch = first - scan, text[first]
        if indent is None and ch in "{]":
            return first
        if indent is not None and ((ch == "]" and col <= indent and first > pos)
                                   or (col == indent and ch in '{["-0123456789tfn')):
            return first
    match = _BOUNDARY.search(text, pos)
    if match:
        return match.end() - 1
    rest = text.rfind("]")
    return rest if rest >= pos and not text[rest + 1:].strip() else -1


# ----- CSV ------------------------------------------------------------------------------------
class _LineFeed:
    """Physical lines handed to `csv.reader` one at a time; `index` can be moved back to resync."""

    def __init__(self, lines: list[str]) -> None:
        self.lines, self.index = lines, 0

    def __iter__(self) -> _LineFeed:
        return self

    def __next__(self) -> str:
        if self.index >= len(self.lines):
            raise StopIteration
        self.index += 1
        return self.lines[self.index - 1]


def _sniff_delimiter(first_line: str) -> str:
    counts = {d: first_line.count(d) for d in _DELIMITERS}
    best = max(_DELIMITERS, key=lambda d: counts[d])
    return best if counts[best] > 0 else ","


def _header_names(header: list[str]) -> list[str]:
    """Stripped names; a blank one becomes column_N and a repeated one name_2, so no value is lost."""
    names: list[str] = []
    for i, name in enumerate(header, start=1):
        name = name.strip() or f"column_{i}"
        base, n = name, 2
        while name in names:
            name, n = f"{base}_{n}", n + 1
        names.append(name)
    return names


def _span(start: int, end: int) -> str:
    return f" (the row spans lines {start}-{end})" if end > start else ""


def _swallowed_rows(values: list[str], columns: int, delimiter: str) -> bool:
    """Whether a multi-line value holds whole rows, the mark of a quote left open."""
    for value in values:
        for line in value.splitlines()[1:]:
            if len(next(csv.reader([line], delimiter=delimiter), [])) == columns:
                return True
    return False


def _csv(text: str) -> Iterator[RawRow]:
    lines = list(io.StringIO(text, newline=""))
    if not lines:
        return
    feed = _LineFeed(lines)
    delimiter = _sniff_delimiter(lines[0])
    reader = csv.reader(feed, delimiter=delimiter, strict=True)
    try:
        header = next(reader)
    except StopIteration:
        return
    except csv.Error as exc:
        yield RawRow(1, error=f"unreadable CSV header: {exc}")
        return
    if not any(h.strip() for h in header):
        yield RawRow(1, error="the CSV header (line 1) is empty")
        return
    if _bad_encoding("".join(header)):
        yield RawRow(1, error="CSV header " + _encoding_error("".join(header)))
        return
    names = _header_names(header)
    while feed.index < len(lines):
        start = feed.index + 1
        try:
            values = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            end = feed.index
            if end == start and "expected after" in str(exc):
                values = next(csv.reader([lines[start - 1]], delimiter=delimiter))  # stray char after a quote
            else:
                if "unexpected end of data" in str(exc):
                    reason = "unclosed quote: the quoted field runs to the end of the file"
                elif end > start:
                    reason = f"malformed CSV: a quote opened on line {start} is probably not closed ({exc})"
                else:
                    reason = f"malformed CSV ({exc})"
                first = next(csv.reader([lines[start - 1]], delimiter=delimiter), [])
                yield RawRow(start, data=dict(zip(names, first)), error=reason, id_trusted=False)
                feed.index = start  # read again from the next line: rows an open quote swallowed are kept
                continue
        end = feed.index
        if not any(v.strip() for v in values):
            continue
        row = {name: (values[i] if i < len(values) else "") for i, name in enumerate(names)}
        if len(values) != len(names):
            yield RawRow(start, data=row, error=f"row has {len(values)} values but the header has "
                                                f"{len(names)} columns{_span(start, end)}", id_trusted=False)
            if end > start and _swallowed_rows(values, len(names), delimiter):
                feed.index = start  # an unclosed quote: read the swallowed lines as rows again
            continue
        if any(_bad_encoding(v) for v in values):
            yield RawRow(start, data=row, error=_encoding_error(next(v for v in values if _bad_encoding(v))))
            continue
        yield RawRow(start, data=row)

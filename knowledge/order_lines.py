"""Order lines as the recommender reads them: the tuple, and a CSV reader that reports bad lines."""

from __future__ import annotations

import csv
import math
from collections.abc import Container, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import NamedTuple

from shopguide.errors import UserFacingError

COLUMNS = ("user_id", "product_id", "timestamp", "quantity")


class OrderLine(NamedTuple):
    """One product on one order: who bought it, what, when, how many."""

    customer: str
    product_id: str
    timestamp: datetime
    quantity: float


@dataclass
class LinesReport:
    """Lines read and lines rejected, each rejection as `FILE:LINE: why`."""

    read: int = 0
    problems: list[str] = field(default_factory=list)

    def summary(self) -> str:
        return f"{self.read} order lines read, {len(self.problems)} rejected"


def parse_timestamp(text: str) -> datetime:
    """An ISO-8601 timestamp as a naive UTC datetime (an offset is converted, none means UTC)."""
    value = datetime.fromisoformat(text.strip())
    if value.tzinfo is not None:
        value = value.astimezone(timezone.utc).replace(tzinfo=None)
    return value


def read_order_csv(path: Path, known_products: Container[str] | None = None,
                   report: LinesReport | None = None) -> Iterator[OrderLine]:
    """The good lines of a `user_id,product_id,timestamp,quantity` CSV; bad ones go to `report`.

    A line is bad when a field is missing or empty, the timestamp is not ISO-8601, the quantity is
    not a finite number, or (with `known_products`) the product is not in the catalog. A file
    without the four columns raises `UserFacingError`.
    """
    report = report if report is not None else LinesReport()
    try:
        fh = Path(path).open(encoding="utf-8-sig", newline="")
    except OSError as exc:
        raise UserFacingError(f"cannot read {path}: {exc.strerror or exc}") from None
    with fh:
        reader = csv.DictReader(fh)
        missing = [c for c in COLUMNS if c not in (reader.fieldnames or [])]
        if missing:
            raise UserFacingError(f"{path}: expected the columns {','.join(COLUMNS)}; missing {', '.join(missing)}")
        for row in reader:
            number = reader.line_num
            why, line = _parse_row(row, known_products)
            if why:
                report.problems.append(f"{path}:{number}: {why}")
                continue
            report.read += 1
            yield line


def _parse_row(row: dict[str, str | None], known: Container[str] | None) -> tuple[str | None, OrderLine | None]:
    values = {c: (row.get(c) or "").strip() for c in COLUMNS}
    empty = [c for c in COLUMNS if not values[c]]
    if empty:
        return f"empty {', '.join(empty)}", None
    try:
        when = parse_timestamp(values["timestamp"])
    except ValueError:
        return f"timestamp {values['timestamp'][:40]!r} is not ISO-8601", None
    try:
        quantity = float(values["quantity"])
        if not math.isfinite(quantity):
            raise ValueError
    except ValueError:
        return f"quantity {values['quantity'][:40]!r} is not a number", None
    if known is not None and values["product_id"] not in known:
        return f"unknown product {values['product_id'][:40]!r}", None
    return None, OrderLine(values["user_id"], values["product_id"], when, quantity)

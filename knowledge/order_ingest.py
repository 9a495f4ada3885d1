"""`shopguide ingest orders FILE`: read an orders file, keep what order status needs, write it in one transaction."""

from __future__ import annotations

import logging
from pathlib import Path

from knowledge.ingest import IngestReport, RowProblem
from knowledge.orders import read_orders
from knowledge.store import CatalogStore

log = logging.getLogger(__name__)


def ingest_orders(store: CatalogStore, path: Path) -> IngestReport:
    """Upsert the orders of `path`; bad rows and lines naming unknown products are reported, not fatal."""
    known = set(store.hashes("product"))
    cache: dict[str, str | None] = {}

    def product_of(code: str) -> str | None:
        if code in known:
            return code
        if code not in cache:
            found = store.products_by_code([code])
            cache[code] = found[0] if len(found) == 1 else None
        return cache[code]

    parsed = read_orders(Path(path), store.orders.salt(), product_of)
    problems = [RowProblem(str(path), line, reason) for line, reason in parsed.problems]
    report = IngestReport(kind="order", file=str(path), rows=parsed.rows, problems=problems, rejected=len(problems))
    report.added, report.updated, report.unchanged = store.orders.write(parsed.orders.values())
    if parsed.unknown_products:
        lines = parsed.unknown_products
        shown = ", ".join(str(n) for n in lines[:5]) + (", ..." if len(lines) > 5 else "")
        report.notes.append(f"{len(lines)} order lines name a product that is not in the catalog (lines {shown}); "
                            "they are not linked to a product (ingest the products first)")
    log.info(report.summary())
    return report

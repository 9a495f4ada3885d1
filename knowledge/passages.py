"""What gets embedded for each record: the passages (chunks) and their filterable metadata."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from knowledge.schema import Document, Faq, Product
from knowledge.text import chunk_text


def product_passages(p: Product, *, max_tokens: int, count_tokens: Callable[[str], int]) -> list[str]:
    """Title-prefixed passages covering the whole description, each within the embedder's window."""
    head = p.title.strip()
    if not head.endswith((".", "!", "?")):
        head += "."
    description = (p.description or "").strip()
    if not description:
        return [head]
    return chunk_text(description, max_tokens=max_tokens, count_tokens=count_tokens, prefix=head + " ")


def faq_passages(f: Faq, *, max_tokens: int, count_tokens: Callable[[str], int]) -> list[str]:
    """The question alone, then the question with its answer (chunked if long)."""
    qa = chunk_text(f.answer, max_tokens=max_tokens, count_tokens=count_tokens, prefix=f.question.strip() + " ")
    return [f.question.strip(), *qa]


def document_passages(d: Document, *, max_tokens: int, count_tokens: Callable[[str], int]) -> list[str]:
    """The document text in window-sized chunks."""
    return chunk_text(d.text, max_tokens=max_tokens, count_tokens=count_tokens)


def product_metadata(p: Product) -> dict[str, Any]:
    """Scalar fields Chroma can filter on; list fields become one flag per value."""
    meta: dict[str, Any] = {"item_id": p.id}
    if p.category:
        meta["category"] = p.category.lower()
    if p.type:
        meta["type"] = p.type.lower()
    if p.brand:
        meta["brand"] = p.brand.lower()
    if p.price is not None:
        meta["price"] = float(p.price)
    if p.in_stock is not None:
        meta["in_stock"] = bool(p.in_stock)
    if p.rating is not None:
        meta["rating"] = float(p.rating)
    for color in p.colors:
        meta[f"color:{color.lower()}"] = True
    for size in p.sizes:
        meta[f"size:{size.lower()}"] = True
    for key, value in p.attributes.items():
        if isinstance(value, (bool, int, float)):
            meta[f"attr:{key.lower()}"] = value
        elif isinstance(value, str) and len(value) <= 100:
            meta[f"attr:{key.lower()}"] = value.lower()
    return meta

"""What gets embedded for each record: the passages (chunks) and their filterable metadata."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from knowledge.schema import Document, Faq, Product
from knowledge.text import chunk_text, split_sentences

# The passage format of each kind: ingest re-embeds the stored items of a kind when its number
# changes. Products 2: the title alone is passage 0. FAQs 2: a descriptive id's words are a last
# passage. Documents 2: a question-and-answer document embeds its answer only.
VERSIONS = {"product": 2, "faq": 3, "document": 2}


def product_passages(p: Product, *, max_tokens: int, count_tokens: Callable[[str], int]) -> list[str]:
    """The title alone (always passage 0), then title-prefixed passages covering the whole description."""
    # Search scores the title vector and the best description passage separately: a short title
    # embeds what the product is more sharply than a title diluted by a long description.
    head = product_head(p)
    description = (p.description or "").strip()
    if not description:
        return [head]
    return [head, *chunk_text(description, max_tokens=max_tokens, count_tokens=count_tokens, prefix=head + " ")]


def product_head(p: Product) -> str:
    """The product's title as embedded: stripped, ending with a full stop."""
    return title_head(p.title)


def title_head(title: str) -> str:
    """A title as embedded: stripped, ending with a full stop."""
    head = (title or "").strip()
    return head if head.endswith((".", "!", "?")) else head + "."


def faq_passages(f: Faq, *, max_tokens: int, count_tokens: Callable[[str], int]) -> list[str]:
    """The question alone, the question with its answer (chunked if long), the id's words if any, the answer alone."""
    qa = chunk_text(f.answer, max_tokens=max_tokens, count_tokens=count_tokens, prefix=f.question.strip() + " ")
    name = faq_name(f)
    reply = chunk_text(f.answer, max_tokens=max_tokens, count_tokens=count_tokens)
    return [f.question.strip(), *qa, *([name] if name else []), *reply]


_GENERIC_ID_WORDS = frozenset({"faq", "faqs", "q", "qa", "question", "questions", "entry", "item", "id", "no", "nr"})


def faq_name(f: Faq) -> str | None:
    """The words of a descriptive FAQ id ("get_invoice" -> "get invoice"); None for ids like "faq-017"."""
    words = [w for w in re.split(r"[\W_]+", f.id.lower()) if w]
    named = [w for w in words if w.isalpha() and len(w) >= 2 and w not in _GENERIC_ID_WORDS]
    if not named or len(named) < len(words) / 2:
        return None
    text = " ".join(named)
    return text if text != f.question.strip().lower() else None


def document_passages(d: Document, *, max_tokens: int, count_tokens: Callable[[str], int]) -> list[str]:
    """The document text in window-sized chunks; of a question-and-answer document, its answer only."""
    # The answer is what answers a shopper's question; the question it was written for mostly
    # says what was asked, and a similar question with an unhelpful answer would rank high.
    return chunk_text(qa_answer(d.text) or d.text, max_tokens=max_tokens, count_tokens=count_tokens)


_LEADING_BULLET = re.compile(r"^[-*•·]\s+")
_LINE_BREAK = re.compile(r"\s*(?:[\r\n]+\s*[-*•·]?|[•·]|\s-\s)\s*")


def _join(first: str, second: str) -> str:
    return f"{first} {second}" if first.endswith((".", "!", "?", ":", ";", ",")) else f"{first}; {second}"


def description_passages(text: str, *, min_words: int = 6, max_words: int = 60) -> list[str]:
    """A description as evidence: its sentences (and lines), a short one joined to the next, a long one split."""
    # One sentence answers one question ("A rubber toe cap protects ..."); a whole description
    # embedded at once mostly says what the product is, and a narrower snippet outranks it.
    pieces: list[str] = []
    for line in _LINE_BREAK.split(_LEADING_BULLET.sub("", (text or "").strip())):
        for sentence in split_sentences(line):
            words = sentence.split()
            pieces += [" ".join(words[i:i + max_words]) for i in range(0, len(words), max_words)]
    passages: list[str] = []
    for piece in pieces:
        if passages and len(passages[-1].split()) < min_words and len(passages[-1].split()) + len(piece.split()) <= max_words:
            passages[-1] = _join(passages[-1], piece)
        else:
            passages.append(piece)
    if len(passages) > 1 and len(passages[-1].split()) < min_words \
            and len(passages[-2].split()) + len(passages[-1].split()) <= max_words:
        passages[-2:] = [_join(passages[-2], passages[-1])]
    return passages


# "ANSWER Question: QUESTION" (answer first) or "Q: QUESTION A: ANSWER" (question first)
_QA_ANSWER_FIRST = re.compile(r"^(?P<answer>\S.*?)\s+Question:\s*(?P<question>\S.*)$", re.S)
_QA_QUESTION_FIRST = re.compile(
    r"^\s*(?:Q|Question)\s*[:.)]\s*(?P<question>\S.*?)\s+(?:A|Answer)\s*[:.)]\s*(?P<answer>\S.*)$", re.S | re.I)


def qa_answer(text: str) -> str | None:
    """The answer part of a question-and-answer text, or None if the text has no such shape."""
    m = _QA_QUESTION_FIRST.match(text) or _QA_ANSWER_FIRST.match(text)
    return m.group("answer").strip() if m else None


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

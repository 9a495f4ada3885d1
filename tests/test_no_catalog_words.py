"""The code holds no product word of the demo catalog: a new store's words come from its catalog, not from code."""

from __future__ import annotations

import json
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _demo_words() -> set[str]:
    words = set()
    with (ROOT / "shopguide" / "demo" / "products.jsonl").open(encoding="utf-8") as fh:
        for line in fh:
            record = json.loads(line)
            words |= {str(record[k]).lower() for k in ("type", "brand") if record.get(k)}
    return words


def test_no_demo_type_or_brand_appears_in_bot_or_knowledge_code():
    words = _demo_words()
    assert len(words) > 10  # the demo catalog was read
    found = []
    for path in sorted([*(ROOT / "bot").rglob("*.py"), *(ROOT / "knowledge").rglob("*.py")]):
        text = path.read_text(encoding="utf-8").lower()
        for word in words:
            for m in re.finditer(rf"(?<![\w-]){re.escape(word)}(?![\w-])", text):
                line = text.count("\n", 0, m.start()) + 1
                found.append(f"{path.relative_to(ROOT)}:{line}: {word}")
    assert not found, "demo catalog words in code:\n" + "\n".join(found)

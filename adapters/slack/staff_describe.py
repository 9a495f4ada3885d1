"""Staff `/shop describe`: a marketing description drafted from the record, checked against it, approved by staff."""

from __future__ import annotations

import asyncio
import json
import logging
import re
from collections.abc import Sequence
from functools import cache
from pathlib import Path

from adapters.slack import render
from adapters.slack.staff_catalog import CatalogTools, attribute_label
from adapters.slack.staff_output import StaffOutput, mrkdwn_output, text_output
from bot.present import attr_value
from bot.runtime import Runtime
from knowledge.ingest import store_description
from knowledge.schema import Product

log = logging.getLogger(__name__)

DESCRIBE_SYSTEM = (
    "You write short product descriptions for the catalog of {seller}. Use only the FACTS. "
    "Never mention prices, discounts, numbers or products that are not in the FACTS. "
    "Write two or three plain sentences, no lists, no markup."
)
# One worked example steers a small model far better than instructions alone (a made-up product).
DESCRIBE_EXAMPLE = [
    {"role": "user", "content": "FACTS:\nProduct: Example Trail Sock\nType: socks\nMaterial: wool blend\n"
                                "Colours: grey, blue\nFeatures: cushioned\n\nDescription:"},
    {"role": "assistant", "content": "The Example Trail Sock is made of a wool blend and comes in grey and blue. "
                                     "Its cushioned sole keeps every step comfortable."},
]
CLAIM_WORDS_FILE = Path(__file__).with_name("claim_words.txt")  # selling points a draft may only claim from the record


@cache
def claim_words() -> tuple[str, ...]:
    """The selling points a description may claim only when the record states them (one a line, `#` comments)."""
    lines = CLAIM_WORDS_FILE.read_text(encoding="utf-8").splitlines()
    return tuple(w.strip().lower() for w in lines if w.strip() and not w.lstrip().startswith("#"))
DESCRIPTION_MAX_CHARS = 1200
DRAFT_MAX_TOKENS = 90
DRAFT_TIMEOUT_S = 20.0


def _join(items: Sequence[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def describe_facts(product: Product) -> str:
    """The record's attributes as the facts a description may use (no price, stock or old text)."""
    lines = [f"Product: {product.title}"]
    for label, value in (("Brand", product.brand), ("Category", product.category), ("Type", product.type),
                         ("Material", product.material)):
        if value:
            lines.append(f"{label}: {value}")
    if product.colors:
        lines.append("Colours: " + ", ".join(product.colors))
    if product.sizes:
        lines.append("Sizes: " + ", ".join(product.sizes))
    features = [attribute_label(k) for k, v in product.attributes.items() if v is True]
    if features:
        lines.append("Features: " + ", ".join(features))
    details = [f"{attribute_label(k)}: {attr_value(v)}" for k, v in product.attributes.items() if not isinstance(v, bool)]
    if details:
        lines.append("Details: " + "; ".join(details))
    return "\n".join(lines)


def template_description(product: Product) -> str:
    """A description built only from the record, used when the model's draft fails the check."""
    lead = f"The {product.title}"
    if product.brand and product.brand.lower() not in product.title.lower():
        lead += f" by {product.brand}"
    parts = [lead + (f" is made of {product.material}." if product.material else ".")]
    kind = " / ".join(x for x in (product.category, product.type) if x)
    gender = product.attributes.get("gender")
    if kind:
        who = "" if not isinstance(gender, str) else ", unisex" if gender.lower() == "unisex" else f", for {gender}"
        parts.append(f"Category: {kind}{who}.")
    if product.colors:
        parts.append(f"It comes in {_join(list(product.colors))}.")
    if product.sizes:
        parts.append(f"Sizes: {', '.join(product.sizes)}.")
    features = [attribute_label(k) for k, v in product.attributes.items() if v is True]
    if features:
        parts.append("Features: " + ", ".join(features) + ".")
    details = [f"{attribute_label(k)}: {attr_value(v)}" for k, v in product.attributes.items()
               if not isinstance(v, bool) and k != "gender"]
    if details:
        parts.append("Details: " + "; ".join(details) + ".")
    return " ".join(parts)


def clean_draft(text: str | None) -> str:
    """A model draft as plain text: no label or quotes, at most three sentences."""
    text = " ".join((text or "").split()).strip().strip('"').strip()
    text = re.sub(r"^(description|answer)\s*:\s*", "", text, flags=re.I)
    sentences = re.split(r"(?<=[.!?])\s+", text)
    text = " ".join(sentences[:3]).strip()
    if text and text[-1] not in ".!?":
        text = text.rsplit(".", 1)[0] + "." if "." in text else ""
    return text[:DESCRIPTION_MAX_CHARS]


class Describer:
    """Drafts descriptions with the runtime's chat model, checks them against the record, and stores approved ones."""

    def __init__(self, runtime: Runtime, catalog: CatalogTools) -> None:
        self.runtime = runtime
        self.catalog = catalog
        self.check = runtime.services.writer.check  # the catalog's names, as the replies' post-check knows them

    def description_problems(self, text: str, product: Product) -> list[str]:
        """Why `text` may not describe `product`: numbers, names or claims absent from its record."""
        facts = describe_facts(product)
        problems = list(self.check.violations(text, facts))
        low, low_facts = text.lower(), facts.lower()
        for key, value in product.attributes.items():
            if value is False and re.search(rf"\b{re.escape(attribute_label(key).lower())}\b", low):
                problems.append(f"claims {attribute_label(key)!r}, the record says no")
        for word in claim_words():
            if re.search(rf"(?<![\w-]){re.escape(word)}(?![\w-])", low) and word not in low_facts:
                problems.append(f"claim {word!r} not in the record")
        for sentence in re.split(r"(?<=[.!?:;])\s+", text):  # proper names must come from the record
            for word in re.findall(r"[A-Za-z][\w'-]*", sentence)[1:]:
                name = re.sub(r"'s$", "", word)
                if word[0].isupper() and len(name) > 1 and name.lower() not in low_facts:
                    problems.append(f"name {name!r} not in the record")
        return problems

    async def draft(self, product: Product) -> tuple[str, str]:
        """A checked description and where it came from ("model", or "template" with the reason)."""
        worker = self.runtime.worker
        if worker is None:
            return template_description(product), "template (no language model loaded)"
        system = DESCRIBE_SYSTEM.format(seller=self.runtime.services.storefront.seller)
        messages = [{"role": "system", "content": system}, *DESCRIBE_EXAMPLE,
                    {"role": "user", "content": f"FACTS:\n{describe_facts(product)}\n\nDescription:"}]
        raw = await worker.complete(messages, max_tokens=DRAFT_MAX_TOKENS, timeout=DRAFT_TIMEOUT_S)
        text = clean_draft(raw)
        if not text:
            return template_description(product), "template (the model gave no usable text)"
        problems = self.description_problems(text, product)
        if problems:
            log.info("description draft for %s rejected: %s", product.id, "; ".join(problems))
            return template_description(product), "template (the model's draft failed the check: " + "; ".join(problems[:3]) + ")"
        return text, "language model, passed the fact check"

    async def describe(self, args: str) -> StaffOutput:
        """`/shop describe ID`: a draft with Approve and Regenerate buttons."""
        code = args.strip().split()[0] if args.strip() else ""
        if not code:
            return text_output("Which product? `/shop describe ID`")
        product = self.catalog.find(code)
        if product is None:
            return await self.catalog.not_found(code)
        text, source = await self.draft(product)
        text = text[:DESCRIPTION_MAX_CHARS]  # the Approve button's value holds at most 2000 characters
        head = f"*Draft description for {render.escape(product.title)}* (`{render.escape(product.id)}`)"
        value = json.dumps({"id": product.id, "text": text}, ensure_ascii=False)
        blocks = [render.section(head), render.section(render.escape(text)),
                  render.context(f"Source: {render.escape(source)}. Approve stores it as the product's description."),
                  render.actions([render.button("Approve", "staff_approve", value, "primary"),
                                  render.button("Regenerate", "staff_regenerate", product.id)], block_id="describe")]
        message = {"text": render.escape(f"Draft description for {product.title} ({product.id}): {text}"), "blocks": blocks}
        return StaffOutput([message], notes={"product": product.id, "text": text, "source": source})

    async def approve(self, value: str, actor: str) -> StaffOutput:
        """Store an approved draft as the product's description, with an audit entry of who and when."""
        try:
            data = json.loads(value)
            product_id, text = str(data["id"]), str(data["text"]).strip()
        except (ValueError, KeyError, TypeError):
            return text_output("That approval button is broken; run `/shop describe ID` again.")
        product = self.runtime.kb.store.get_product(product_id)
        if product is None:
            return text_output(f"{product_id} is no longer in the catalog; nothing was stored.")
        problems = self.description_problems(text, product)
        if problems and text != template_description(product):
            return text_output("Not stored: the text no longer matches the record (" + "; ".join(problems[:3]) + ").")
        await asyncio.to_thread(store_description, self.runtime.kb, product, text[:DESCRIPTION_MAX_CHARS])
        self.runtime.memory.audit(actor, "approve_description", product.id, text)
        entry = self.runtime.memory.audit_log(product.id)[-1]
        log.info("description of %s approved by %s", product.id, actor)
        return mrkdwn_output(f"✅ Approved by <@{render.escape(actor.rsplit(':', 1)[-1])}> at {entry['created_at']}: "
                              f"stored as the description of `{render.escape(product.id)}`.\n>{render.escape(text)}")

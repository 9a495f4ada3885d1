"""The staff `/shop` command: catalog search, SKU records, FAQ, checked descriptions and statistics."""

from __future__ import annotations

import asyncio
import io
import json
import logging
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from adapters.slack import render, staff_recs
from adapters.slack.convert import FILTER_HELP, parse_command, parse_search
from bot.grounding import GroundingCheck
from bot.present import attr_value, format_price, product_card, stock_text
from bot.types import Reply
from knowledge.ingest import ingest_records
from knowledge.schema import Product
from knowledge.search import ProductSearch

if TYPE_CHECKING:
    from bot.runtime import Runtime

log = logging.getLogger(__name__)

REFUSAL = ("Sorry, `/shop` is only for store staff. If you are looking for a product, "
           "send me a direct message and I'll gladly help.")
HELP = "\n".join([
    "*`/shop` — store tools for staff*",
    "• `/shop search TEXT [filters]` — search the catalog. " + FILTER_HELP,
    "• `/shop sku ID` — the full record of one product, including stock",
    "• `/shop faq QUESTION` — the FAQ entry that answers a question",
    "• `/shop describe ID` — draft a marketing description from the record, to approve or regenerate",
    "• `/shop stats [days]` — conversations, top queries, top sellers, zero-result and unanswered questions, with a chart (default 7 days)",
    "• `/shop export PLATFORM USER` — a customer's data as a JSON file; `/shop forget PLATFORM USER` erases it (confirmed)",
    "• `/shop recs SKU` — the products most often ordered together with one, with counts",
    "• `/shop help` — this text",
])
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
# Selling points a description may only claim when the record states them.
CLAIM_WORDS = (
    "waterproof", "water-resistant", "water resistant", "windproof", "breathable", "insulated", "lightweight",
    "ultralight", "durable", "recycled", "organic", "vegan", "merino", "down", "gore-tex", "gtx", "warranty",
    "guarantee", "guaranteed", "lifetime", "handmade", "handcrafted", "sustainable", "eco-friendly", "award",
    "award-winning", "best", "best-selling", "bestseller", "top-rated", "rated", "review", "reviews", "favorite",
    "favourite", "popular", "luxury", "luxurious", "premium", "high-end", "professional", "certified", "patented",
    "uv", "upf", "polarized", "reflective", "quick-dry", "quick dry", "hood", "hooded", "new", "exclusive",
)
UNITS = {"g": "g", "kg": "kg", "mm": "mm", "cm": "cm", "in": "in", "l": "l", "ml": "ml", "c": "°C"}
DESCRIPTION_MAX_CHARS = 1200
DRAFT_MAX_TOKENS = 90
DRAFT_TIMEOUT_S = 20.0
MAX_DAYS = 365
TOP_N = 10


@dataclass
class StaffOutput:
    """What a staff command answers: messages, an optional chart file, and details for logs and tests."""

    messages: list[dict[str, Any]]
    chart: bytes | None = None
    chart_name: str = "chart.png"
    chart_title: str = ""
    notes: dict[str, Any] = field(default_factory=dict)


def _label(key: str) -> str:
    """An attribute key as words: `weight_g` → `weight (g)`."""
    head, _, unit = key.rpartition("_")
    if head and unit.lower() in UNITS:
        return f"{head.replace('_', ' ')} ({UNITS[unit.lower()]})"
    return key.replace("_", " ")


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
    features = [_label(k) for k, v in product.attributes.items() if v is True]
    if features:
        lines.append("Features: " + ", ".join(features))
    details = [f"{_label(k)}: {attr_value(v)}" for k, v in product.attributes.items() if not isinstance(v, bool)]
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
    features = [_label(k) for k, v in product.attributes.items() if v is True]
    if features:
        parts.append("Features: " + ", ".join(features) + ".")
    details = [f"{_label(k)}: {attr_value(v)}" for k, v in product.attributes.items()
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


class StaffTools:
    """Implements `/shop` on one runtime; every answer is built from stored records."""

    def __init__(self, runtime: "Runtime") -> None:
        self.runtime = runtime
        self.kb = runtime.kb
        self.memory = runtime.memory
        self.settings = runtime.settings
        self.search_engine = ProductSearch(runtime.kb)
        self.faq = runtime.services.faq
        names = [p.title for p in self.kb.store.all_products()] + self.kb.store.vocabulary().get("brands", [])
        self.check = GroundingCheck(names)

    def allowed(self, user_id: str | None, channel_id: str | None) -> bool:
        """Staff are listed by user id, or work in a listed channel."""
        staff = self.settings.staff_ids()
        return bool(staff) and (user_id in staff or channel_id in staff)

    async def run(self, text: str, user_id: str) -> StaffOutput:
        """Answer one `/shop` command (the caller has checked `allowed`)."""
        sub, rest = parse_command(text)
        handlers = {"search": self.search, "sku": self.sku, "faq": self.faq_answer, "describe": self.describe,
                    "stats": self.stats, "recs": lambda a: staff_recs.recs(self, a)}
        handler = handlers.get(sub)
        if handler is None:
            note = "" if sub == "help" else f"I don't know `{render.escape(sub[:40])}`.\n\n"
            return _mrkdwn_output(note + HELP)
        log.info("staff command %s by %s", sub, user_id)
        return await handler(rest)

    # ----- catalog --------------------------------------------------------------------------
    async def search(self, args: str) -> StaffOutput:
        """`/shop search TEXT [filters]`: ranked products as cards."""
        request = parse_search(args)
        if request.problems:
            return _text_output("Could not read the filters: " + "; ".join(request.problems) + "\n" + FILTER_HELP)
        if not request.query and request.filters.is_empty():
            return _text_output("What should I search for? " + "`/shop search TEXT [filters]`. " + FILTER_HELP)
        result = await asyncio.to_thread(self.search_engine.search, request.query, request.filters, top_k=10)
        products = [h.product for h in result.hits]
        active = ", ".join(request.filters.active())
        what = f"“{request.query}”" if request.query else "the filters"
        if not products:
            return _text_output(f"No products match {what}" + (f" (filters: {active})." if active else "."))
        intro = f"{len(products)} products for {what}" + (f" (filters: {active})" if active else "") + \
            f", confidence {result.confidence:.2f}:"
        lines = [f"{i}. {p.title} [{p.id}] — {format_price(p.price, p.currency)} · {stock_text(p)}"
                 for i, p in enumerate(products, start=1)]
        reply = Reply(text=intro + "\n\n" + "\n".join(lines), products=tuple(product_card(p, actions=False) for p in products),
                      data={"intro": intro, "start": 1})
        return StaffOutput(render.render_reply(reply))

    def _find(self, code: str) -> Product | None:
        product = self.kb.store.get_product(code)
        if product is None:
            ids = self.kb.store.products_by_code([code])
            if len(ids) == 1:
                product = self.kb.store.get_product(ids[0])
        return product

    async def _not_found(self, code: str) -> StaffOutput:
        result = await asyncio.to_thread(self.search_engine.search, code, None, top_k=5)
        lines = [f"• {p.title} — `{p.id}`" for p in (h.product for h in result.hits)]
        closest = "\nClosest matches:\n" + "\n".join(lines) if lines else "\nNothing in the catalog is close."
        return _mrkdwn_output(f"SKU `{render.escape(code[:80])}` not found.{render.escape(closest)}")

    async def sku(self, args: str) -> StaffOutput:
        """`/shop sku ID`: every field of the record, including the stock count."""
        code = args.strip().split()[0] if args.strip() else ""
        if not code:
            return _text_output("Which product? `/shop sku ID`")
        product = self._find(code)
        if product is None:
            return await self._not_found(code)
        return StaffOutput(render.record_messages(product, [f"{_label(k).capitalize()}: {attr_value(v)}" for k, v in product.attributes.items()]))

    async def faq_answer(self, args: str) -> StaffOutput:
        """`/shop faq TEXT`: the best FAQ entry with its confidence, and the runners-up."""
        if not args.strip():
            return _text_output("Which question? `/shop faq TEXT`")
        ranked = await asyncio.to_thread(self.faq.rank, args, 3)
        if not ranked:
            return _text_output("No FAQ entries are stored.")
        best = ranked[0]
        sure = best.score >= self.settings.faq_threshold
        head = f"Best match ({best.faq.id}, confidence {best.score:.2f}{'' if sure else ', below the threshold'}):"
        others = "\n".join(f"• {h.faq.question} ({h.faq.id}, {h.score:.2f})" for h in ranked[1:])
        text = f"{head}\nQ: {best.faq.question}\nA: {best.faq.answer}" + (f"\n\nAlso close:\n{others}" if others else "")
        return _text_output(text)

    # ----- descriptions -----------------------------------------------------------------------
    def description_problems(self, text: str, product: Product) -> list[str]:
        """Why `text` may not describe `product`: numbers, names or claims absent from its record."""
        facts = describe_facts(product)
        problems = list(self.check.violations(text, facts))
        low, low_facts = text.lower(), facts.lower()
        for key, value in product.attributes.items():
            if value is False and re.search(rf"\b{re.escape(_label(key).lower())}\b", low):
                problems.append(f"claims {_label(key)!r}, the record says no")
        for word in CLAIM_WORDS:
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
            return _text_output("Which product? `/shop describe ID`")
        product = self._find(code)
        if product is None:
            return await self._not_found(code)
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
            return _text_output("That approval button is broken; run `/shop describe ID` again.")
        product = self.kb.store.get_product(product_id)
        if product is None:
            return _text_output(f"{product_id} is no longer in the catalog; nothing was stored.")
        problems = self.description_problems(text, product)
        if problems and text != template_description(product):
            return _text_output("Not stored: the text no longer matches the record (" + "; ".join(problems[:3]) + ").")
        updated = replace(product, description=text[:DESCRIPTION_MAX_CHARS])
        await asyncio.to_thread(ingest_records, self.kb, "product", [updated])
        self.memory.audit(actor, "approve_description", product.id, text)
        entry = self.memory.audit_log(product.id)[-1]
        log.info("description of %s approved by %s", product.id, actor)
        return _mrkdwn_output(f"✅ Approved by <@{render.escape(actor.rsplit(':', 1)[-1])}> at {entry['created_at']}: "
                              f"stored as the description of `{render.escape(product.id)}`.\n>{render.escape(text)}")

    async def regenerate(self, product_id: str) -> StaffOutput:
        """A fresh draft for the Regenerate button."""
        return await self.describe(product_id)

    # ----- statistics ---------------------------------------------------------------------------
    async def stats(self, args: str) -> StaffOutput:
        """`/shop stats [days]`: usage over the period, with a PNG chart."""
        arg = args.strip().split()[0] if args.strip() else "7"
        if not arg.isdigit() or not 1 <= int(arg) <= MAX_DAYS:
            return _text_output(f"`/shop stats [days]` takes a whole number of days from 1 to {MAX_DAYS}.")
        days = int(arg)
        summary = summarize(self.memory.events_since(days))
        summary.update({k: summary[k] + n for k, n in self.memory.purged_counts(days).items()})  # purged: counts only
        chart = await asyncio.to_thread(stats_chart, summary, days)
        sales = staff_recs.sellers(self, days)
        text = stats_text(summary, days) + "\n" + staff_recs.sellers_text(sales, summary, days)
        return StaffOutput(render.plain_messages(text), chart=chart, chart_name=f"shop-stats-{days}d.png",
                           chart_title=f"Shop assistant, last {days} days", notes={**summary, **sales})


def summarize(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Conversations, top queries, zero-result queries and unanswered questions from event rows."""
    def top(texts: list[str]) -> list[tuple[str, int]]:
        return Counter(" ".join(t.lower().split()) for t in texts if t and t.strip()).most_common(TOP_N)

    return {
        "turns": len(rows),
        "conversations": len({r["user_key"] for r in rows}),
        "top_queries": top([r["text"] for r in rows if r.get("intent") == "search"]),
        "zero_result": top([r["text"] for r in rows if r.get("results") == 0]),
        "unanswered": top([r["text"] for r in rows if r.get("answered") == 0]),
        "zero_result_count": sum(1 for r in rows if r.get("results") == 0),
        "unanswered_count": sum(1 for r in rows if r.get("answered") == 0),
    }


def stats_text(summary: dict[str, Any], days: int) -> str:
    """The statistics as plain text."""
    def listing(pairs: list[tuple[str, int]]) -> str:
        return "\n".join(f"  {n}× {t[:120]}" for t, n in pairs) or "  (none)"

    return "\n".join([
        f"Shop assistant, last {days} day{'s' if days != 1 else ''}",
        f"Conversations: {summary['conversations']} (messages: {summary['turns']})",
        f"Top queries:\n{listing(summary['top_queries'])}",
        f"Zero-result queries: {summary['zero_result_count']}\n{listing(summary['zero_result'])}",
        f"Unanswered questions: {summary['unanswered_count']}\n{listing(summary['unanswered'])}",
    ])


def stats_chart(summary: dict[str, Any], days: int) -> bytes:
    """A PNG: the period's totals and the top queries (matplotlib's Agg canvas, no GUI)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(9, 4.5), dpi=100)
    FigureCanvasAgg(fig)
    left, right = fig.subplots(1, 2, gridspec_kw={"width_ratios": [1, 1.6]})
    labels = ["conversations", "messages", "zero-result", "unanswered"]
    values = [summary["conversations"], summary["turns"], summary["zero_result_count"], summary["unanswered_count"]]
    left.bar(labels, values, color=["#2e86de", "#54a0ff", "#ee5253", "#ff9f43"])
    left.set_title(f"Last {days} days")
    left.tick_params(axis="x", labelrotation=30, labelsize=8)
    queries = summary["top_queries"][:8][::-1]
    if queries:
        right.barh([t[:28] for t, _ in queries], [n for _, n in queries], color="#10ac84")
    else:
        right.text(0.5, 0.5, "no searches yet", ha="center", va="center")
    right.set_title("Top queries")
    right.tick_params(axis="y", labelsize=8)
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    return buf.getvalue()


def _mrkdwn_message(text: str) -> dict[str, Any]:
    """One message of already-escaped mrkdwn (split if long)."""
    pieces = render.split_text(text) or [" "]
    return {"text": text[: render.MAX_FALLBACK_CHARS], "blocks": [render.section(p) for p in pieces[: render.MAX_BLOCKS]]}


def _mrkdwn_output(text: str) -> StaffOutput:
    return StaffOutput([_mrkdwn_message(text)])


def _text_output(text: str) -> StaffOutput:
    return StaffOutput(render.plain_messages(text))

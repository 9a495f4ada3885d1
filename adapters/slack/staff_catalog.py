"""Staff `/shop search`, `/shop sku` and `/shop faq`: the catalog and FAQ through the core's search and FAQ services."""

from __future__ import annotations

import asyncio

from adapters.slack import render
from adapters.slack.convert import FILTER_HELP, parse_search
from adapters.slack.staff_output import StaffOutput, mrkdwn_output, text_output
from bot.present import attr_value, format_price, product_card, stock_text
from bot.runtime import Runtime
from bot.types import Reply
from knowledge.schema import Product

UNITS = {"g": "g", "kg": "kg", "mm": "mm", "cm": "cm", "in": "in", "l": "l", "ml": "ml", "c": "°C"}


def attribute_label(key: str) -> str:
    """An attribute key as words: `weight_g` → `weight (g)`."""
    head, _, unit = key.rpartition("_")
    if head and unit.lower() in UNITS:
        return f"{head.replace('_', ' ')} ({UNITS[unit.lower()]})"
    return key.replace("_", " ")


class CatalogTools:
    """Products and FAQ entries for staff, from the runtime's services."""

    def __init__(self, runtime: Runtime) -> None:
        self.store = runtime.kb.store
        self.search_engine = runtime.services.search
        self.faq = runtime.services.faq
        self.settings = runtime.settings

    async def search(self, args: str) -> StaffOutput:
        """`/shop search TEXT [filters]`: ranked products as cards."""
        request = parse_search(args)
        if request.problems:
            return text_output("Could not read the filters: " + "; ".join(request.problems) + "\n" + FILTER_HELP)
        if not request.query and request.filters.is_empty():
            return text_output("What should I search for? " + "`/shop search TEXT [filters]`. " + FILTER_HELP)
        result = await asyncio.to_thread(self.search_engine.search, request.query, request.filters, top_k=10)
        products = [h.product for h in result.hits]
        active = ", ".join(request.filters.active())
        what = f"“{request.query}”" if request.query else "the filters"
        if not products:
            return text_output(f"No products match {what}" + (f" (filters: {active})." if active else "."))
        intro = f"{len(products)} products for {what}" + (f" (filters: {active})" if active else "") + \
            f", confidence {result.confidence:.2f}:"
        lines = [f"{i}. {p.title} [{p.id}] — {format_price(p.price, p.currency)} · {stock_text(p)}"
                 for i, p in enumerate(products, start=1)]
        reply = Reply(text=intro + "\n\n" + "\n".join(lines), products=tuple(product_card(p, actions=False) for p in products),
                      data={"intro": intro, "start": 1})
        return StaffOutput(render.render_reply(reply))

    def find(self, code: str) -> Product | None:
        """The product with this id, else the one product with this code."""
        product = self.store.get_product(code)
        if product is None:
            ids = self.store.products_by_code([code])
            if len(ids) == 1:
                product = self.store.get_product(ids[0])
        return product

    async def not_found(self, code: str) -> StaffOutput:
        """The answer for an unknown SKU: the closest matches."""
        result = await asyncio.to_thread(self.search_engine.search, code, None, top_k=5)
        lines = [f"• {p.title} — `{p.id}`" for p in (h.product for h in result.hits)]
        closest = "\nClosest matches:\n" + "\n".join(lines) if lines else "\nNothing in the catalog is close."
        return mrkdwn_output(f"SKU `{render.escape(code[:80])}` not found.{render.escape(closest)}")

    async def sku(self, args: str) -> StaffOutput:
        """`/shop sku ID`: every field of the record, including the stock count."""
        code = args.strip().split()[0] if args.strip() else ""
        if not code:
            return text_output("Which product? `/shop sku ID`")
        product = self.find(code)
        if product is None:
            return await self.not_found(code)
        return StaffOutput(render.record_messages(product, [f"{attribute_label(k).capitalize()}: {attr_value(v)}"
                                                            for k, v in product.attributes.items()]))

    async def faq_answer(self, args: str) -> StaffOutput:
        """`/shop faq TEXT`: the best FAQ entry with its confidence, and the runners-up."""
        if not args.strip():
            return text_output("Which question? `/shop faq TEXT`")
        ranked = await asyncio.to_thread(self.faq.rank, args, 3)
        if not ranked:
            return text_output("No FAQ entries are stored.")
        best = ranked[0]
        sure = best.score >= self.settings.faq_threshold
        head = f"Best match ({best.faq.id}, confidence {best.score:.2f}{'' if sure else ', below the threshold'}):"
        others = "\n".join(f"• {h.faq.question} ({h.faq.id}, {h.score:.2f})" for h in ranked[1:])
        text = f"{head}\nQ: {best.faq.question}\nA: {best.faq.answer}" + (f"\n\nAlso close:\n{others}" if others else "")
        return text_output(text)

"""The staff `/shop` command: who may use it, and which tool answers each subcommand (one concern per module:
`staff_catalog` search, sku and faq; `staff_describe` descriptions; `staff_stats` statistics; `staff_recs`
co-purchases; export and forget live in `privacy`)."""

from __future__ import annotations

import logging

from adapters.slack import render
from adapters.slack.convert import FILTER_HELP, parse_command
from adapters.slack.staff_catalog import CatalogTools
from adapters.slack.staff_describe import Describer, template_description
from adapters.slack.staff_output import StaffOutput, mrkdwn_output
from adapters.slack.staff_recs import recs
from adapters.slack.staff_stats import stats
from bot.runtime import Runtime
from knowledge.schema import Product

__all__ = ["HELP", "REFUSAL", "StaffOutput", "StaffTools", "template_description"]

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


class StaffTools:
    """Implements `/shop` on one runtime; every answer is built from stored records."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self.settings = runtime.settings
        self.catalog = CatalogTools(runtime)
        self.describer = Describer(runtime, self.catalog)

    def allowed(self, user_id: str | None, channel_id: str | None) -> bool:
        """Staff are listed by user id, or work in a listed channel."""
        staff = self.settings.staff_ids()
        return bool(staff) and (user_id in staff or channel_id in staff)

    async def run(self, text: str, user_id: str) -> StaffOutput:
        """Answer one `/shop` command (the caller has checked `allowed`)."""
        sub, rest = parse_command(text)
        handlers = {"search": self.catalog.search, "sku": self.catalog.sku, "faq": self.catalog.faq_answer,
                    "describe": self.describer.describe, "stats": lambda a: stats(self.runtime, a),
                    "recs": lambda a: recs(self.runtime, self.catalog, a)}
        handler = handlers.get(sub)
        if handler is None:
            note = "" if sub == "help" else f"I don't know `{render.escape(sub[:40])}`.\n\n"
            return mrkdwn_output(note + HELP)
        log.info("staff command %s by %s", sub, user_id)
        return await handler(rest)

    def description_problems(self, text: str, product: Product) -> list[str]:
        """Why `text` may not describe `product`: numbers, names or claims absent from its record."""
        return self.describer.description_problems(text, product)

    async def describe(self, args: str) -> StaffOutput:
        """`/shop describe ID`: a draft with Approve and Regenerate buttons."""
        return await self.describer.describe(args)

    async def approve(self, value: str, actor: str) -> StaffOutput:
        """The Approve button: store the draft as the product's description, audited."""
        return await self.describer.approve(value, actor)

    async def regenerate(self, product_id: str) -> StaffOutput:
        """The Regenerate button: a fresh draft."""
        return await self.describer.describe(product_id)

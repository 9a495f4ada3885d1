"""What the shop sells, in words and example buttons: from the settings or from the catalog itself.

Help texts, the out-of-scope reply, example buttons and the model's prompts all describe the
shop through one `Storefront`, so a store with another catalog never sees another shop's wording.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.types import Button

DEFAULT_BUDGET = 100
MAX_ACTION_BYTES = 64  # the smallest platform limit on a button's payload (Telegram's callback data)
MAX_LABEL_CHARS = 40


@dataclass(frozen=True)
class Storefront:
    """The shop as the assistant presents it."""

    goods: str  # what the shop sells, to follow "our": "footwear, clothing and accessories"
    examples: tuple[Button, ...]  # a few example searches and one store question
    search_example: str  # a search to show in help texts: "desk lamps under 150"
    brand_example: str | None  # a brand to show in "only <brand>"
    size_example: str | None  # a size to show in "I wear size <size>"
    kinds: tuple[str, ...] = ()  # the largest product types (or categories), lower case
    currency: str | None = None  # the code most products are priced in ("EUR", "INR"); None when none says

    @property
    def example_searches(self) -> str:
        """Two kinds of product to suggest in words: "desk lamps or wall clocks"."""
        return " or ".join(self.kinds[:2])

    @property
    def capabilities(self) -> str:
        """The help text: what the assistant can do, with examples from this shop."""
        brand = f", “only {self.brand_example}”" if self.brand_example else ""
        size = f"“I wear size {self.size_example}”, " if self.size_example else ""
        return (
            "I can help you:\n"
            f"• find products — “{self.search_example}”\n"
            f"• narrow results — “cheaper”, “in black”{brand}, “show more”\n"
            "• tell you more — “details of the second one”, “what is the second one made of?”\n"
            "• compare — “compare 1 and 3”\n"
            "• answer store questions — returns, shipping, payment, warranty\n"
            f"• remember what you like — {size}“my budget is 80”\n"
            "• your data — “show my data”, “export my data”, “forget me”\n"
            "Ask for a person at any time."
        )

    @property
    def out_of_scope(self) -> str:
        """The reply to a request the shop can't help with."""
        return (f"Sorry, I can only help with our {self.goods}, and with store questions such as shipping and "
                "returns. What are you looking for?")

    @property
    def seller(self) -> str:
        """The shop in a phrase for the model's prompts: "a shop selling footwear, clothing and accessories"."""
        return f"a shop selling {self.goods}"


def build_storefront(
    *,
    description: str | None,
    categories: list[tuple[str, int]],
    types: list[tuple[str, int]],
    brands: list[tuple[str, int]],
    sizes: list[tuple[str, int]],
    median_price: float | None,
    faq_question: str | None,
    currency: str | None = None,
) -> Storefront:
    """A storefront from the configured description, or from the catalog's largest categories and types.

    Each list holds (value, number of products), in any order; `faq_question` is a stored FAQ
    question to offer as a button; `currency` the code most products are priced in.
    """
    def ranked(pairs: list[tuple[str, int]]) -> list[str]:
        return [v for v, _ in sorted(pairs, key=lambda p: (-p[1], p[0].lower())) if v and v.strip()]

    all_categories = [c.lower() for c in ranked(categories)]
    top = all_categories[:3] + (["more"] if len(all_categories) > 3 else [])
    goods = (description or "").strip() or _listing(top) or "products"
    kinds = ranked(types) or ranked(categories)
    examples = [Button(kind[:1].upper() + kind[1:], f"q:{kind}") for kind in kinds[:2]]
    if faq_question and faq_question.strip():
        question = " ".join(faq_question.split())
        label = question if len(question) <= MAX_LABEL_CHARS else question[: MAX_LABEL_CHARS - 1] + "…"
        examples.append(Button(label, "q:" + _fit(question, MAX_ACTION_BYTES - 2)))
    budget = _round_price(median_price) if median_price else DEFAULT_BUDGET
    search = f"{kinds[0].lower()} under {budget}" if kinds else f"gift ideas under {budget}"
    top_brands, top_sizes = ranked(brands), ranked(sizes)
    return Storefront(goods=goods, examples=tuple(examples), search_example=search,
                      kinds=tuple(k.lower() for k in kinds[:2]),
                      brand_example=top_brands[0] if top_brands else None,
                      size_example=top_sizes[0] if top_sizes else None, currency=currency)


def _fit(text: str, limit: int) -> str:
    """`text`, cut at a word boundary to at most `limit` UTF-8 bytes."""
    while len(text.encode("utf-8")) > limit:
        cut = text.rfind(" ")
        text = text[:cut] if cut > 0 else text.encode("utf-8")[:limit].decode("utf-8", "ignore")
    return text


def _listing(words: list[str]) -> str:
    """"a", "a and b", "a, b and c"."""
    if len(words) <= 1:
        return "".join(words)
    return ", ".join(words[:-1]) + " and " + words[-1]


def _round_price(price: float) -> int:
    """A round budget a little above `price`: 37 → 40, 146 → 150, 1234 → 1300."""
    step = 10 if price < 200 else 50 if price < 1000 else 100
    return int(-(-price // step) * step)

"""What the shop sells, in words and example buttons: from the settings or from the catalog itself.

Help texts, the out-of-scope reply, example buttons and the model's prompts all describe the
shop through one `Storefront`, so a store with another catalog never sees another shop's wording.
"""

from __future__ import annotations

from dataclasses import dataclass

from babel.lists import format_list

from bot.i18n import LOCALES, N_, language, tr
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
    described: bool = False  # `goods` is the configured description (quoted as written in every language)
    categories: tuple[str, ...] = ()  # the largest categories `goods` lists, lower case ("more" when there are others)
    budget: int = DEFAULT_BUDGET  # the round budget of `search_example`

    @property
    def example_searches(self) -> str:
        """Two kinds of product to suggest in words: "desk lamps or wall clocks"."""
        return self.searches_in("en")

    def searches_in(self, lang: str) -> str:
        """Two kinds of product to suggest, joined with "or" in `lang` (the kinds as the catalog names them)."""
        if lang == "en" or len(self.kinds) < 2:
            return " or ".join(self.kinds[:2])
        return format_list(list(self.kinds[:2]), style="or", locale=LOCALES[language(lang)])

    def goods_in(self, lang: str) -> str:
        """What the shop sells, listed in `lang`: "footwear, clothing und accessories"."""
        if lang == "en" or self.described:
            return self.goods
        if not self.categories:
            return tr(lang, "products")
        words = [tr(lang, "more") if c == _MORE else c for c in self.categories]
        return format_list(words, locale=LOCALES[language(lang)])

    def search_example_in(self, lang: str) -> str:
        """The help texts' example search in `lang`: "desk lamps under 150" / "desk lamps unter 150"."""
        if lang == "en":
            return self.search_example
        kind = self.kinds[0] if self.kinds else None
        if kind is None:
            return tr(lang, "gift ideas under {budget}", budget=self.budget)
        return tr(lang, "{kind} under {budget}", kind=kind, budget=self.budget)

    @property
    def capabilities(self) -> str:
        """The help text: what the assistant can do, with examples from this shop."""
        return self.capabilities_in("en")

    def capabilities_in(self, lang: str) -> str:
        """The help text in `lang`."""
        brand = tr(lang, ", “only {brand}”", brand=self.brand_example) if self.brand_example else ""
        size = tr(lang, "“I wear size {size}”, ", size=self.size_example) if self.size_example else ""
        return tr(
            lang,
            "I can help you:\n"
            "• find products — “{search}”\n"
            "• narrow results — “cheaper”, “in black”{brand}, “show more”\n"
            "• tell you more — “details of the second one”, “what is the second one made of?”\n"
            "• compare — “compare 1 and 3”\n"
            "• answer store questions — returns, shipping, payment, warranty\n"
            "• remember what you like — {size}“my budget is 80”\n"
            "• your data — “show my data”, “export my data”, “forget me”\n"
            "Ask for a person at any time.",
            search=self.search_example_in(lang), brand=brand, size=size,
        )

    @property
    def out_of_scope(self) -> str:
        """The reply to a request the shop can't help with."""
        return self.out_of_scope_in("en")

    def out_of_scope_in(self, lang: str) -> str:
        """The reply to a request the shop can't help with, in `lang`."""
        return tr(lang, "Sorry, I can only help with our {goods}, and with store questions such as shipping and "
                        "returns. What are you looking for?", goods=self.goods_in(lang))

    @property
    def seller(self) -> str:
        """The shop in a phrase for the model's prompts: "a shop selling footwear, clothing and accessories"."""
        return f"a shop selling {self.goods}"


_MORE = "more"


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
    top = all_categories[:3] + ([N_("more")] if len(all_categories) > 3 else [])
    described = bool((description or "").strip())
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
                      size_example=top_sizes[0] if top_sizes else None, currency=currency,
                      described=described, categories=tuple(top), budget=budget)


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

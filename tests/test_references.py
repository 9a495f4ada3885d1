"""References to shown products: numbers across pages, out-of-range numbers, questions about the one in view."""

from __future__ import annotations

from bot.types import IncomingMessage


def message(text: str = "", action: str | None = None) -> IncomingMessage:
    return IncomingMessage(platform="test", user_id="refs", chat_id="refs", text=text, action=action)


async def test_numbers_keep_meaning_the_same_results_after_show_more(runtime_no_llm):
    core = runtime_no_llm.assistant
    [first_page] = await core.handle(message("t-shirts"))
    page_one = [c.id for c in first_page.products]
    [second_page] = await core.handle(message("show more"))
    assert second_page.products and second_page.data["start"] == len(page_one) + 1
    [second] = await core.handle(message("number 2"))
    assert [c.id for c in second.products] == [page_one[1]]  # the 2nd result, not the 2nd card on page two
    [later] = await core.handle(message(f"number {len(page_one) + 1}"))
    assert [c.id for c in later.products] == [second_page.products[0].id]


async def test_compare_names_the_numbers_that_exist(runtime_no_llm):
    core = runtime_no_llm.assistant
    [shown] = await core.handle(message("dry bags"))
    [reply] = await core.handle(message("compare 1 and 99"))
    assert reply.text == f"I only showed {len(shown.products)} products: pick a number from 1 to {len(shown.products)}."
    assert not reply.products


async def test_how_much_does_it_weigh_is_about_weight_not_price(runtime_no_llm, demo_kb):
    core = runtime_no_llm.assistant
    product = demo_kb.store.get_product("SG-HB-1001")
    await core.handle(message("SG-HB-1001"))
    [reply] = await core.handle(message("how much does it weigh?"))
    assert reply.text == f"{product.title} weighs {product.attributes['weight_g']} g."
    [price] = await core.handle(message("how much is it?"))
    assert "€147.99" in price.text


async def test_a_question_naming_an_attribute_gets_the_record_value(runtime_no_llm, demo_kb):
    core = runtime_no_llm.assistant
    lamp = next(p for p in demo_kb.store.all_products() if isinstance(p.attributes.get("battery"), str))
    await core.handle(message(lamp.id))
    [reply] = await core.handle(message("what batteries does it use?"))
    assert reply.text == f"{lamp.title}: battery {lamp.attributes['battery']}."
    jacket = next(p for p in demo_kb.store.all_products() if "fill_power" in p.attributes)
    await core.handle(message(jacket.id))
    [reply] = await core.handle(message("what is its fill power?"))
    assert reply.text == f"{jacket.title}: fill power {jacket.attributes['fill_power']}."


async def test_a_product_named_by_brand_and_model_is_the_one_answered_about(runtime_no_llm, demo_kb):
    core = runtime_no_llm.assistant
    by_title = {p.title: p for p in demo_kb.store.all_products()}
    upland = next(p for t, p in by_title.items() if t.startswith("Ridgeline Upland"))
    [reply] = await core.handle(message("is the Ridgeline Upland waterproof?"))
    waterproof = upland.attributes.get("waterproof")
    assert reply.intent == "product_question"
    assert reply.text == f"{'Yes' if waterproof else 'No'}, {upland.title} is {'' if waterproof else 'not '}waterproof."
    kite = next(p for t, p in by_title.items() if t.startswith("Trailwisp Kite") and "Boot" in t)
    [reply] = await core.handle(message("do you have the Trailwisp Kite boots in stock?"))  # not the Kite daypack
    assert reply.text.startswith(kite.title) and ("out of stock" in reply.text) == (kite.stock == 0)
    [reply, *_] = await core.handle(message("compare the Skyforge Mistral and the Ridgeline Ember"))
    assert {c.title.split()[1] for c in reply.products} == {"Mistral", "Ember"}
    [reply] = await core.handle(message("do you have waterproof Ridgeline boots?"))  # brand and kind: a search
    assert reply.intent == "search" and len(reply.products) >= 2


async def test_the_lightest_one_sorts_the_list_by_the_records_weights(runtime_no_llm, demo_kb):
    core = runtime_no_llm.assistant
    [shown] = await core.handle(message("tents"))
    [lightest] = await core.handle(message("which is the lightest one?"))
    weights = [demo_kb.store.get_product(c.id).attributes["weight_g"] for c in lightest.products]
    assert lightest.intent == "refine" and len(weights) >= 2 and weights == sorted(weights)
    first = demo_kb.store.get_product(lightest.products[0].id)
    assert lightest.text.startswith(f"Sorted by weight, lightest first; {first.title} weighs {weights[0]} g")
    assert weights[0] <= min(demo_kb.store.get_product(c.id).attributes["weight_g"] for c in shown.products)
    [heaviest] = await core.handle(message("and the heaviest?"))
    heavy = [demo_kb.store.get_product(c.id).attributes["weight_g"] for c in heaviest.products]
    assert heavy == sorted(heavy, reverse=True) and heavy[0] > weights[0]
    assert "kg:" in heaviest.text.split("\n")[0]  # 14,250 g and more read as kilograms


async def test_a_wish_to_buy_names_price_stock_and_where_to_order_from_the_record(runtime_no_llm, demo_kb):
    core = runtime_no_llm.assistant
    runtime_no_llm.services.settings.shop_url = "https://shop.example/"
    [shown] = await core.handle(message("hiking boots"))
    second = demo_kb.store.get_product(shown.products[1].id)
    [reply] = await core.handle(message("add the second one to my cart"))
    assert reply.intent == "buy"
    assert reply.text == (f"I can't take orders or fill a basket in this chat. {second.title} costs "
                          f"€{second.price:.2f} and is in stock. You can order it at https://shop.example/ "
                          f"with its code {second.id}.")
    assert [b.action for b in reply.buttons] == [f"s:{second.id}", "human"]
    [saved] = await core.handle(message(action=f"s:{second.id}"))
    assert second.title in saved.text


async def test_an_attribute_name_used_as_a_verb_is_not_answered_with_that_attribute(runtime_no_llm, demo_kb):
    core = runtime_no_llm.assistant
    jacket = next(p for p in demo_kb.store.all_products() if isinstance(p.attributes.get("fit"), str))
    await core.handle(message(jacket.id))
    [what_fit] = await core.handle(message("what fit is it?"))
    assert what_fit.text == f"{jacket.title}: fit {jacket.attributes['fit']}."
    [laptop] = await core.handle(message("does it fit a laptop?"))
    assert laptop.intent == "product_question" and f"fit {jacket.attributes['fit']}" not in laptop.text

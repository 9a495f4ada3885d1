"""Unit tests of the generic slot parsers: prices in every direction, currencies from the catalog, head counts."""

from __future__ import annotations

import pytest

from bot.filtering import describe_filters
from bot.grounding import GroundingCheck
from bot.present import format_price
from bot.slots import Vocabulary, parse_price, party_size
from bot.storefront import build_storefront
from knowledge.currency import currency_code, dominant_currency, format_amount
from knowledge.filters import SearchFilters


@pytest.mark.parametrize("text, low, high", [
    # an upper bound
    ("boots under 150", None, 150), ("below €80", None, 80), ("less than 60 euros", None, 60), ("max 90", None, 90),
    ("up to 120", None, 120), ("at most 99.50", None, 99.5), ("within 100", None, 100), ("cheaper than 70", None, 70),
    ("budget is 60", None, 60), ("a daypack, my budget is 60 quid", None, 60), ("100 or less", None, 100),
    ("CHF 200 max", None, 200), ("hiking boots 80 bucks", None, 80),
    # a lower bound turned around by a negation
    ("trail running shoes, nothing above 100", None, 100), ("nothing over 100", None, 100),
    ("nothing more than 100", None, 100), ("no more than 100", None, 100), ("not more than 70", None, 70),
    ("I don't want to spend more than 160 euros", None, 160), ("can't pay over 90 euros", None, 90),
    ("I'm not paying more than 80", None, 80), ("no less than 40", 40, None),
    # a lower bound
    ("over 200", 200, None), ("above 50", 50, None), ("more than 50 euros", 50, None), ("at least 50", 50, None),
    ("from €40", 40, None), ("50 or more", 50, None), ("100+", 100, None),
    # both
    ("between 50 and 80", 50, 80), ("from €20 to €40", 20, 40), ("30-40 euros", 30, 40), ("€30-40", 30, 40),
    ("50 to 80 euros", 50, 80), ("price range 50-80", 50, 80), ("£20-£40", 20, 40),
    # about
    ("around 100", 80, 120), ("about 80", 64, 96), ("approx. 120 euros", 96, 144), ("100ish", 80, 120),
    ("budget around 100", 80, 120),
])
def test_price_in_every_direction(text, low, high):
    price = parse_price(text)
    assert price is not None and (price.min, price.max) == (low, high), (text, price)


@pytest.mark.parametrize("text, amount, code", [
    ("bluetooth earbuds under 2000", 2000, None), ("under 2,000", 2000, None), ("under ₹2,000", 2000, "INR"),
    ("rs 500", 500, "INR"), ("under rs.500", 500, "INR"), ("2000 rs", 2000, "INR"), ("500 inr", 500, "INR"),
    ("500元", 500, "CNY"), ("300 yuan", 300, "CNY"), ("under 300 rmb", 300, "CNY"), ("¥3000", 3000, "JPY"),
    ("60 quid", 60, "GBP"), ("under £50", 50, "GBP"), ("$40", 40, "USD"), ("under 50 CHF", 50, "CHF"),
    ("under 2k", 2000, None), ("under 1,00,000", 100000, None), ("under 1.299", 1299, None), ("under 99,50", 99.5, None),
])
def test_amounts_with_any_currency_and_grouping(text, amount, code):
    price = parse_price(text)
    assert price is not None and price.max == amount and price.currency == code


def test_the_price_phrase_is_what_the_search_leaves_out():
    assert parse_price("trail running shoes, nothing above 100").text == "nothing above 100"
    assert parse_price("a daypack, my budget is 60 quid").text == "budget is 60 quid"
    assert parse_price("hiking boots 80 bucks").bare and not parse_price("under 80 bucks").bare


@pytest.mark.parametrize("text", [
    "size 42 boots", "a 2-person tent", "from 42", "backpacks between 30 and 40 litres", "backpacks between 30 and 40 l",
    "a sleeping bag under 1000 g", "a headlamp over 300 lumens", "a sleeping bag rated below -10", "warm to -10",
    "compare 1 and 3", "50 to 80", "sizes between 40 and 44", "SG-HB-1001", "a stove for 2-3 days",
    "I'm looking for a backpack for a 3 day hike", "at least 20% off", "try 2 tents", "show me the 2nd one",
])
def test_numbers_that_are_no_prices(text):
    assert parse_price(text) is None


def test_a_negation_turns_only_the_bound_it_touches():
    assert (parse_price("not waterproof boots under 100").max, parse_price("no, over 100").min) == (100, 100)
    assert parse_price("a tent for 4 people under 300").max == 300
    assert parse_price("boots under 150 in black").max == 150  # "in" is no unit


@pytest.mark.parametrize("text, count", [
    ("two adults and three children", 5), ("a tent for two adults and three children", 5),
    ("for me and two friends", 3), ("a family of four", 4), ("a family of 6", 6), ("the three of us", 3),
    ("we are 4", 4), ("camping with my two kids", 3), ("with our 2 children", 4), ("a tent for me and my wife", 2),
    ("my partner and I need a tent", 2), ("me and 3 friends", 4), ("my wife, my son and me", 3),
    ("one adult and one child", 2), ("a tent for my wife and two kids", 3), ("2 adults + 2 kids", 4),
    ("two small kids and me", 3), ("a tent for a couple", 2), ("a couple of friends and me", 3),
    ("me and my wife and our twins", 4), ("show me a tent for two adults", 2),
    # no party named, or no count
    ("a tent for my kids", None), ("hiking boots for men", None), ("boots for a man", None), ("a tent for me", None),
    ("a stove for 2 days", None), ("a stove for a couple of days", None), ("I'm a 40 year old man", None),
    ("one of us", None), ("a gift for my son", None),
])
def test_head_counts_from_the_people_named(text, count):
    assert party_size(text) == count


def test_a_party_becomes_the_catalogs_person_sizes():
    vocab = Vocabulary(sizes=["1-person", "2-person", "3-person", "5-person", "6-person"])
    assert vocab.find_capacity("a tent for two adults and three children") == ["5-person"]
    assert vocab.find_capacity("for me and two friends") == ["3-person"]
    assert vocab.find_capacity("a family of four") == ["5-person", "6-person"]


def test_currencies_are_read_and_written_from_one_table():
    assert [currency_code(t) for t in ("₹", "rs", "quid", "元", "rmb", "CHF", "€", "try")] == [
        "INR", "INR", "GBP", "CNY", "CNY", "CHF", "EUR", None]
    assert (format_amount(2000, "INR"), format_amount(147.99, "EUR"), format_amount(1299, "JPY")) == (
        "₹2,000.00", "€147.99", "¥1,299")
    assert (format_amount(5, "CHF"), format_amount(5, None), format_amount(None, "EUR")) == (
        "5.00 CHF", "5.00", "price on request")
    assert format_price(2000, "INR") == "₹2,000.00"
    assert dominant_currency([("INR", 2990), ("USD", 10), (None, 5)]) == "INR"
    assert dominant_currency([(None, 3)]) is None


def test_filters_are_worded_in_the_catalogs_currency():
    assert describe_filters(SearchFilters(max_price=2000), "INR") == "up to ₹2,000.00"
    assert describe_filters(SearchFilters(min_price=20, max_price=40), "GBP") == "between £20.00 and £40.00"
    assert describe_filters(SearchFilters(min_price=50), "CHF") == "from 50.00 CHF"
    assert describe_filters(SearchFilters(max_price=150), None) == "up to 150.00"  # a catalog with no currency
    shop = build_storefront(description=None, categories=[], types=[], brands=[], sizes=[], median_price=None,
                            faq_question=None, currency="INR")
    assert shop.currency == "INR"


def test_the_grounding_check_knows_every_currency():
    check = GroundingCheck([])
    facts = "5 products found for: bluetooth earbuds. up to ₹2,000.00"
    assert not check.accept("These earbuds cost only 500 rupees.", facts)
    assert not check.accept("Earbuds from ¥ deals.", facts)
    assert check.accept("Try these bluetooth earbuds for your commute.", facts, "bluetooth earbuds")

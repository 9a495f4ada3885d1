"""Currencies as people write them: one table of codes, signs and words, for records and for messages.

A record's price ("₹1,299", "Rs. 499", "CHF 5") and a customer's budget ("60 quid", "2000 rs", "500元")
are read with the same table, and prices are written back in the catalog's own currency.
"""

from __future__ import annotations

import re

# code: (the sign written before an amount, or None to write the code after it; the ways people write it).
# A code that is also an English word ("try", "rub") is left out of the words. Order matters only where a sign
# is shared: "¥" alone reads as the first code that lists it.
CURRENCIES: dict[str, tuple[str | None, tuple[str, ...]]] = {
    "EUR": ("€", ("eur", "euro", "euros")),
    "USD": ("$", ("us$", "usd", "dollar", "dollars", "buck", "bucks")),
    "GBP": ("£", ("gbp", "pound", "pounds", "quid", "sterling")),
    "INR": ("₹", ("inr", "rs", "rs.", "rupee", "rupees")),
    "JPY": ("¥", ("jpy", "yen", "円")),
    "CNY": ("¥", ("cny", "rmb", "yuan", "renminbi", "元", "cn¥")),
    "CHF": (None, ("chf", "franc", "francs", "sfr")),
    "KRW": ("₩", ("krw",)),
    "RUB": ("₽", ("ruble", "rubles", "rouble", "roubles")),
    "TRY": ("₺", ("lira", "liras")),
    "PLN": (None, ("pln", "zł", "zloty", "zlotys")),
    "SEK": (None, ("sek", "kronor")),
    "NOK": (None, ("nok", "kroner")),
    "DKK": (None, ("dkk",)),
    "CAD": ("C$", ("ca$", "cad")),
    "AUD": ("A$", ("aud", "au$")),
    "BRL": ("R$", ("brl", "reais")),
    "MXN": (None, ("mxn", "pesos")),
    "ZAR": (None, ("zar", "rand")),
}
ZERO_DECIMALS = frozenset({"JPY", "KRW"})  # amounts written without cents


def _tokens() -> dict[str, str]:
    """Every sign and word of the table, lower case, to the first code that lists it."""
    out: dict[str, str] = {}
    for code, (sign, words) in CURRENCIES.items():
        for token in (sign, *words):
            if token:
                out.setdefault(token.lower(), code)
    return out


TOKENS = _tokens()
# Signs hold a character that is no letter ("€", "C$", "Rs."): they may touch the number. Words may not.
SIGNS = tuple(sorted((t for t in TOKENS if not t.isalpha()), key=len, reverse=True))
WORDS = tuple(sorted((t for t in TOKENS if t.isalpha()), key=len, reverse=True))
# A currency next to a number, for building patterns over lower-case text.
PATTERN = ("(?:" + "|".join(re.escape(s) for s in SIGNS)
           + r"|(?<![^\W\d_])(?:" + "|".join(re.escape(w) for w in WORDS) + r")(?![^\W\d_]))")


def currency_code(token: str | None) -> str | None:
    """The code a sign, word or code names ("₹", "quid", "usd"), or None."""
    return TOKENS.get(token.strip().lower()) if token else None


def currency_sign(code: str | None) -> str | None:
    """The sign to write before an amount in `code` ("€" for EUR), or None when the code is written after."""
    entry = CURRENCIES.get((code or "").upper())
    return entry[0] if entry else None


def format_amount(amount: float | None, currency: str | None) -> str:
    """An amount as people read it: "€147.99", "₹2,000.00", "5.00 CHF"; unknown amounts say so."""
    if amount is None:
        return "price on request"
    code = (currency or "").upper()
    text = f"{amount:,.0f}" if code in ZERO_DECIMALS else f"{amount:,.2f}"
    sign = currency_sign(code)
    if sign:
        return f"{sign}{text}"
    return f"{text} {code}" if code else text


def dominant_currency(counts: list[tuple[str | None, int]]) -> str | None:
    """The currency most products are priced in, from (code, number of products) pairs; None when none is."""
    named = [(code.upper(), n) for code, n in counts if code]
    return max(named, key=lambda p: (p[1], p[0]))[0] if named else None

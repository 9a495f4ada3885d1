"""One field of a catalog or order row read strictly: prices with the currency they name, stock counts, blanks.

`RowError` says why a row cannot become a record; the record readers (schema, shop formats, orders) share these.
"""

from __future__ import annotations

import math
import re
from typing import Any

from knowledge.currency import SIGNS, TOKENS

SQLITE_MAX_INT = 2**63 - 1
_SIGN_RE = re.compile("|".join(re.escape(sign) for sign in SIGNS), re.I)  # longest first: "C$" before "$"


class RowError(ValueError):
    """A row that cannot become a record; the message says why."""


def _blank(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, str):
        return not value.strip()
    if isinstance(value, float):
        return math.isnan(value)
    if isinstance(value, (list, tuple, dict)):
        return len(value) == 0
    return False


_PRICE = re.compile(r"([A-Za-z]{3})?\s*(-?\d[\d.,' \u00a0\u202f]*)\s*([A-Za-z]{3})?")
_GROUP_SEPARATOR = r"[ '\u00a0\u202f]"
# Codes read case-insensitively; any other code counts only in capitals ("CHF 5", never "per 5").
_COMMON_CODES = {"EUR", "USD", "GBP", "CHF", "JPY", "CNY", "SEK", "NOK", "DKK", "PLN", "CZK", "HUF", "RON", "BGN",
                 "CAD", "AUD", "NZD", "INR", "BRL", "MXN", "ZAR", "TRY", "KRW", "SGD", "HKD", "AED", "ILS", "THB"}


def _currency_code(code: str | None) -> str | None:
    """A currency code as written next to a price, or None if it is not one."""
    if code and (code.isupper() or code.upper() in _COMMON_CODES):
        return code.upper()
    return None


def _decimal(text: str) -> str | None:
    """Plain decimal digits from a number written with thousands separators; None when ambiguous or malformed."""
    text = text.strip()
    if re.search(_GROUP_SEPARATOR, text) and not re.fullmatch(
            rf"-?\d{{1,3}}(?:{_GROUP_SEPARATOR}\d{{3}})+(?:[.,]\d+)?", text):
        return None  # "5 10" or "19 99" is two numbers, not 510 or 1999
    text = re.sub(_GROUP_SEPARATOR, "", text)
    if "," in text and "." in text:  # the last one is the decimal point
        thousands = "," if text.rfind(".") > text.rfind(",") else "."
        text = text.replace(thousands, "").replace(",", ".")
    elif "," in text:
        if re.fullmatch(r"-?\d+,\d{1,2}", text):
            text = text.replace(",", ".")
        elif re.fullmatch(r"-?\d{1,3}(?:,\d{3})+", text):
            text = text.replace(",", "")
        else:
            return None
    elif text.count(".") > 1:
        if not re.fullmatch(r"-?\d{1,3}(?:\.\d{3})+", text):
            return None
        text = text.replace(".", "")
    return text if re.fullmatch(r"-?\d+(?:\.\d+)?", text) else None


def _stock(value: Any) -> int | None:
    if _blank(value):
        return None
    if isinstance(value, bool):
        raise RowError(f"stock is not a whole number: {value!r}")
    try:
        number = float(str(value).strip()) if not isinstance(value, (int, float)) else float(value)
    except ValueError:
        raise RowError(f"stock is not a whole number: {str(value)[:40]!r}") from None
    if not number.is_integer():
        raise RowError(f"stock is not a whole number: {value!r}")
    if number < 0:
        raise RowError(f"stock is negative: {int(number)}")
    if number > SQLITE_MAX_INT:
        raise RowError(f"stock is too large: {value!r}")
    return int(number)


def _price(value: Any) -> tuple[float | None, str | None]:
    """A price and the currency its text names: "12.50", "€12,50", "1.299,00 EUR", "EUR 1,299.00"."""
    if _blank(value):
        return None, None
    if isinstance(value, bool):
        raise RowError(f"price is not a number: {value!r}")
    if isinstance(value, (int, float)):
        number, currency = float(value), None
    else:
        text = str(value).strip()
        sign = _SIGN_RE.search(text)
        currency = TOKENS[sign.group(0).lower()] if sign else None
        match = _PRICE.fullmatch(_SIGN_RE.sub("", text).strip())
        digits = _decimal(match.group(2)) if match else None
        if digits is None:
            raise RowError(f"price is not a number: {text[:40]!r}")
        written = match.group(1) or match.group(3)  # type: ignore[union-attr]
        code = _currency_code(written)
        if written and code is None:
            raise RowError(f"price is not a number: {text[:40]!r}")
        currency = code or currency
        number = float(digits)
    if math.isnan(number) or math.isinf(number):
        raise RowError("price is not a finite number")
    if number < 0:
        raise RowError(f"price is negative: {number:g}")
    return number, currency

"""Replies in the customer's language: gettext catalogs read through Babel, plurals, and number, price and date formats.

Every fixed text of the assistant is an English message id with named placeholders
(`tr("de", "Found {n} products", n=3)`). The catalogs are `bot/locale/LANG/LC_MESSAGES/shopguide.po`,
read with Babel and compiled in memory on first use, so a checkout and an installed package work alike.
A message missing from a catalog falls back to English and is logged once, never shown as its id.
"""

from __future__ import annotations

import functools
import gettext
import io
import logging
import threading
from datetime import date, datetime
from pathlib import Path

from babel import Locale
from babel.dates import format_date
from babel.lists import format_list
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import UnknownCurrencyError, format_currency, format_decimal

from knowledge.currency import format_amount

log = logging.getLogger(__name__)

DOMAIN = "shopguide"
LOCALE_DIR = Path(__file__).parent / "locale"
DEFAULT = "en"
LANGUAGES = ("en", "zh", "de", "fr", "es")  # English is the message ids themselves
# The CLDR locale whose number, currency and date formats each language's replies use.
LOCALES = {"en": "en_US", "zh": "zh_Hans_CN", "de": "de_DE", "fr": "fr_FR", "es": "es_ES"}

_warned: set[tuple[str, str]] = set()
_lock = threading.Lock()


def language(code: str | None) -> str:
    """One of LANGUAGES for a language tag ("de-AT", "zh_Hans", "FR"), else English."""
    if not code:
        return DEFAULT
    primary = code.replace("_", "-").split("-", 1)[0].lower()
    return primary if primary in LANGUAGES else DEFAULT


def language_hint(code: str | None) -> str | None:
    """The language a platform's locale names ("pt-BR" → "pt", "zh-hans" → "zh"), or None; a hint only."""
    if not code or not isinstance(code, str):
        return None
    primary = code.replace("_", "-").split("-", 1)[0].lower()
    return primary if primary.isalpha() and 2 <= len(primary) <= 3 else None


def po_path(lang: str) -> Path:
    """Where the catalog of `lang` lives."""
    return LOCALE_DIR / lang / "LC_MESSAGES" / f"{DOMAIN}.po"


@functools.cache
def _catalog(lang: str):
    """The Babel catalog of `lang` (None for English or a missing file)."""
    path = po_path(lang)
    if lang == DEFAULT or not path.exists():
        if lang != DEFAULT:
            log.warning("no message catalog for %r at %s: replies fall back to English", lang, path)
        return None
    with path.open("rb") as f:
        return read_po(f, locale=LOCALES.get(lang, lang), domain=DOMAIN)


@functools.cache
def _translations(lang: str) -> gettext.NullTranslations:
    """The catalog of `lang` compiled in memory to gettext's form (plural rules included)."""
    catalog = _catalog(lang)
    if catalog is None:
        return gettext.NullTranslations()
    buf = io.BytesIO()
    write_mo(buf, catalog)
    buf.seek(0)
    return gettext.GNUTranslations(buf)


def _translated(lang: str, msgid: str) -> bool:
    """Whether the catalog of `lang` holds a (complete, non-fuzzy) translation of `msgid`."""
    catalog = _catalog(lang)
    message = catalog.get(msgid) if catalog is not None else None
    if message is None or message.fuzzy:
        return False
    strings = message.string if isinstance(message.string, (tuple, list)) else (message.string,)
    return all(strings)


def _missing(lang: str, msgid: str, why: str = "no translation") -> None:
    """Log a missing or broken translation once per language and message, however often it is asked for."""
    with _lock:
        if (lang, msgid) in _warned:
            return
        _warned.add((lang, msgid))
    log.warning("%s of %r in the %s catalog; replying in English", why, msgid[:80], lang)


def _fill(lang: str, msgid: str, text: str, english: str, kw: dict) -> str:
    """`text` with its placeholders filled; the English text when the translation's placeholders are broken."""
    if not kw:
        return text
    try:
        return text.format(**kw)
    except (KeyError, IndexError, ValueError):
        if text is english:
            raise
        _missing(lang, msgid, "broken placeholders in the translation")
        return english.format(**kw)


def tr(lang: str | None, msgid: str, /, **kw: object) -> str:
    """`msgid` in `lang` with its `{placeholders}` filled from `kw`; English when not translated."""
    lang = language(lang)
    text = msgid
    if lang != DEFAULT:
        if _translated(lang, msgid):
            text = _translations(lang).gettext(msgid)
        else:
            _missing(lang, msgid)
    return _fill(lang, msgid, text, msgid, kw)


def ntr(lang: str | None, singular: str, plural: str, n: int, /, **kw: object) -> str:
    """The form of a counted message for `n` in `lang` (`{n}` is filled with the count); English when not translated."""
    lang = language(lang)
    english = singular if n == 1 else plural
    text = english
    if lang != DEFAULT:
        if _translated(lang, singular):
            text = _translations(lang).ngettext(singular, plural, n)
        else:
            _missing(lang, singular)
    return _fill(lang, singular, text, english, {"n": n, **kw})


def N_(msgid: str) -> str:
    """Mark a text for the catalogs where it is defined (a table), translated where it is shown with `tr`."""
    return msgid


def joined(lang: str | None, items: list[str], word: str = "and") -> str:
    """Items joined with "and" or "or" as `lang` lists them ("a und b", "a、b和c"); English as the replies always had."""
    lang = language(lang)
    if lang == DEFAULT or len(items) < 2:
        return f" {word} ".join(items)
    return format_list(list(items), style="or" if word == "or" else "standard", locale=LOCALES[lang])


def money(lang: str | None, amount: float | None, currency: str | None) -> str:
    """A price as the customer's language writes it ("€147.99", "147,99 €", "1 299,00 €"); unknown prices say so."""
    lang = language(lang)
    if amount is None:
        return tr(lang, "price on request")
    if lang == DEFAULT:
        return format_amount(amount, currency)  # the English form the replies have always had
    code = (currency or "").upper()
    locale = LOCALES[lang]
    if code:
        try:
            return format_currency(amount, code, locale=locale)
        except UnknownCurrencyError:
            return f"{format_decimal(amount, '#,##0.00', locale=locale)} {code}"
    return format_decimal(amount, "#,##0.00", locale=locale)


def number(lang: str | None, value: float, pattern: str | None = None) -> str:
    """A number as the customer's language writes it ("1,000" / "1.000" / "1 000")."""
    lang = language(lang)
    if lang == DEFAULT and pattern is None:
        return f"{value:,}"
    return format_decimal(value, pattern, locale=LOCALES[lang])


def date_text(lang: str | None, value: date | datetime) -> str:
    """A date as the customer's language writes it ("Mar 5, 2025", "05.03.2025", "2025年3月5日")."""
    return format_date(value, format="medium", locale=LOCALES[language(lang)])


def language_name(code: str, in_lang: str | None = DEFAULT) -> str:
    """A language's own name in `in_lang` ("German", "Deutsch", "德语"), from CLDR."""
    name = Locale.parse(LOCALES.get(language(in_lang), "en_US")).languages.get(code)
    return name or code

"""Order status in the chat: answered only for the order's own e-mail or a chat linked with `/link`.

Any other pair of order number and e-mail discloses nothing (not even whether the order exists) and
says what is needed; repeated wrong pairs from one chat are throttled and logged.
"""

from __future__ import annotations

import logging
import re
from datetime import datetime, timedelta, timezone

from babel.dates import format_datetime, format_skeleton

from bot.context import Reroute, Services, Turn
from bot.i18n import DEFAULT, LOCALES, N_, date_text, language
from bot.nlu import Understanding
from bot.types import Reply

log = logging.getLogger(__name__)

_EMAIL = re.compile(r"[\w.+'-]+@[\w-]+(?:\.[\w-]+)+")
_NUMBER = re.compile(r"#\s*([A-Za-z0-9-]*\d[A-Za-z0-9-]*)|\b(\d{3,12})\b")
_LINK = re.compile(r"^\s*/link(?:@\S+)?(?:\s+(.*))?$", re.I | re.S)
THROTTLE_WINDOW = timedelta(hours=1)

# Reply texts, one place each: English message ids, worded in the customer's language where they are sent (`turn.t`).
NEED_BOTH = N_("To keep orders private I need the order number and the e-mail address it was placed with, "
               "for example: “#1043 you@example.com”. Or link your orders once with /link ORDER-NUMBER EMAIL.")
NEED_EMAIL = N_("To keep orders private I need the e-mail address order {number} was placed with: write "
                "“{number} you@example.com”, or link your orders once with /link {number} EMAIL.")
NOT_FOUND = N_("I couldn't find an order with that number and e-mail address. Please check both; the e-mail "
               "must be the one the order was placed with.")
THROTTLED = N_("That didn't match too many times, so I've paused order look-ups for this chat. Please try again "
               "later.")
LINK_USAGE = N_("To link your orders, write /link ORDER-NUMBER EMAIL, for example: /link #1043 you@example.com")
LINKED = N_("Done: this chat is linked to the orders of {number}'s e-mail address. Ask me “where is my order?” "
            "any time.")
NO_ORDERS = N_("I don't have any orders of yours yet. Give me an order number and its e-mail address.")
# TRANSLATORS: {status} is one of the order statuses ("shipped on 3 May 2024", "not shipped yet", ...)
STATUS = N_("Order {number}, placed {date}: {status}.")
CARRIER = N_("Shipped with {carrier}.")
TRACKING = N_("Track it here: {url}")
ITEMS = N_("Items: {items}.")
TOTAL = N_("Total: {total}.")
AS_OF = N_("(as of {when})")
SHIPPED_ON = N_("shipped on {date}")
STATUS_WORDS = {"fulfilled": N_("shipped"), "partial": N_("partly shipped"), "unfulfilled": N_("not shipped yet"),
                "restocked": N_("cancelled and restocked"), None: N_("received, not shipped yet")}


def find_email(text: str) -> str | None:
    """The first e-mail address in a message."""
    m = _EMAIL.search(text)
    return m.group(0) if m else None


def find_order_number(text: str) -> str | None:
    """An order number in a message: "#1043", "order 1043" (with e-mail addresses taken out first)."""
    m = _NUMBER.search(_EMAIL.sub(" ", text))
    return (m.group(1) or m.group(2)) if m else None


def mask_emails(text: str) -> str:
    """A message as it may be logged: e-mail addresses replaced by a mark."""
    return _EMAIL.sub("[e-mail]", text)


def is_link_command(text: str) -> bool:
    return _LINK.match(text) is not None


def handle_link(services: Services, turn: Turn) -> list[Reply]:
    """`/link ORDER-NUMBER EMAIL`: link this chat to the customer of that order, when the e-mail is its own."""
    turn.intent = "link"
    rest = (_LINK.match(turn.text).group(1) or "")  # type: ignore[union-attr]
    number, email = find_order_number(rest), find_email(rest)
    if not number or not email:
        turn.answered = False
        return [Reply(text=turn.t(LINK_USAGE), intent="link")]
    if _throttled(services, turn):
        return [Reply(text=turn.t(THROTTLED), intent="link")]
    order = services.kb.store.orders.link(turn.user, number, email)
    if order is None:
        return _wrong_pair(services, turn, "link")
    log.info("a chat linked its orders (%s)", turn.msg.platform)
    return [Reply(text=turn.t(LINKED, number=order.number), intent="link")]


def handle_order_status(services: Services, turn: Turn, u: Understanding) -> list[Reply]:
    """"Where is my order #1043?": its status from the ingested orders, for its e-mail or a linked chat only."""
    orders = services.kb.store.orders
    if orders.count() == 0:
        raise Reroute("faq")  # no order history: the FAQ's general answer
    number, email = find_order_number(turn.text), find_email(turn.text)
    linked = orders.linked_customer(turn.user)
    if number is None:
        if linked:
            latest = orders.latest_for(linked)
            return [_status_reply(services, turn, latest)] if latest else [Reply(text=turn.t(NO_ORDERS),
                                                                                  intent=turn.intent)]
        turn.answered = False
        return [Reply(text=turn.t(NEED_BOTH), intent=turn.intent)]
    if linked and email is None:
        order = orders.for_linked(turn.user, number)
        if order is not None:
            return [_status_reply(services, turn, order)]
    if email is None:
        turn.answered = False
        shown = number if number.startswith("#") or not number.isdigit() else f"#{number}"
        return [Reply(text=turn.t(NEED_EMAIL, number=shown), intent=turn.intent)]
    if _throttled(services, turn):
        return [Reply(text=turn.t(THROTTLED), intent=turn.intent)]
    order = orders.find(number, email)
    if order is None:
        return _wrong_pair(services, turn, turn.intent or "order_status")
    return [_status_reply(services, turn, order)]


def _throttled(services: Services, turn: Turn) -> bool:
    since = datetime.now(timezone.utc) - THROTTLE_WINDOW
    failures = services.kb.store.orders.failures(turn.user, since.isoformat(timespec="seconds"))
    if failures >= services.settings.order_attempts:
        turn.answered = False
        log.warning("order look-ups throttled for %s: %d wrong order/e-mail pairs within an hour",
                    turn.msg.platform + " chat", failures)
        return True
    return False


def _wrong_pair(services: Services, turn: Turn, intent: str) -> list[Reply]:
    services.kb.store.orders.record_failure(turn.user)
    log.info("an order number and e-mail did not match (%s)", turn.msg.platform)
    turn.answered = False
    return [Reply(text=turn.t(NOT_FOUND), intent=intent)]


def _status_reply(services: Services, turn: Turn, order) -> Reply:
    """An order's status, shipping, items and total in the turn's language (the record's own words as stored)."""
    key = (order.fulfillment_status or "").lower() or None
    status = turn.t(STATUS_WORDS[key]) if key in STATUS_WORDS else order.fulfillment_status  # unknown: as stored
    if order.fulfilled_at and STATUS_WORDS.get(key, order.fulfillment_status) == "shipped":
        status = turn.t(SHIPPED_ON, date=_date(order.fulfilled_at, turn.lang))
    created = _date(order.created_at, turn.lang) if order.created_at else "—"
    parts = [turn.t(STATUS, number=order.number, date=created, status=status)]
    if order.carrier:
        parts.append(turn.t(CARRIER, carrier=order.carrier))
    if order.tracking_url:
        parts.append(turn.t(TRACKING, url=order.tracking_url))
    items = [f"{line.quantity} × {line.title or line.sku or line.product_id}" for line in order.lines]
    if items:
        parts.append(turn.t(ITEMS, items=", ".join(items)))
    if order.total is not None:
        parts.append(turn.t(TOTAL, total=turn.price(order.total, order.currency)))
    age = fact_age(order.synced_at, services.settings.sync_interval_s, lang=turn.lang)
    if age:
        parts.append(turn.t(AS_OF, when=age))
    return Reply(text=" ".join(parts), intent="order_status", data={"order": order.number})


def fact_age(synced_at: str | None, interval_s: int, now: datetime | None = None,
             lang: str | None = DEFAULT) -> str | None:
    """"09:00" (today) or "3 May 09:00" (as `lang` writes a day: "3. Mai 09:00", "5月3日 09:00") when a synced
    fact is older than the sync interval; else None."""
    if not synced_at:
        return None
    when = datetime.fromisoformat(synced_at)
    now = now or datetime.now(timezone.utc)
    if (now - when).total_seconds() <= interval_s:
        return None
    lang = language(lang)
    if lang == DEFAULT:
        return when.strftime("%H:%M") if when.date() == now.date() else f"{when.day} {when.strftime('%b %H:%M')}"
    locale = LOCALES[lang]
    time = format_datetime(when, "HH:mm", locale=locale)
    return time if when.date() == now.date() else f"{format_skeleton('MMMd', when, locale=locale)} {time}"


def _date(iso: str, lang: str | None = DEFAULT) -> str:
    """An order's date: "3 May 2024" in English (as it always was), else as `lang` writes a date."""
    when = datetime.fromisoformat(iso)
    if language(lang) == DEFAULT:
        return f"{when.day} {when.strftime('%b %Y')}"
    return date_text(lang, when)

"""Order status in the chat: answered only for the order's own e-mail or a chat linked with `/link`.

Any other pair of order number and e-mail discloses nothing (not even whether the order exists) and
says what is needed; repeated wrong pairs from one chat are throttled and logged.
"""

from __future__ import annotations

import logging
import re
from datetime import datetime, timedelta, timezone

from bot.context import Reroute, Services, Turn
from bot.nlu import Understanding
from bot.present import format_price
from bot.types import Reply

log = logging.getLogger(__name__)

_EMAIL = re.compile(r"[\w.+'-]+@[\w-]+(?:\.[\w-]+)+")
_NUMBER = re.compile(r"#\s*([A-Za-z0-9-]*\d[A-Za-z0-9-]*)|\b(\d{3,12})\b")
_LINK = re.compile(r"^\s*/link(?:@\S+)?(?:\s+(.*))?$", re.I | re.S)
THROTTLE_WINDOW = timedelta(hours=1)

# Reply texts, one place each (wrapped for translation by the i18n work).
NEED_BOTH = ("To keep orders private I need the order number and the e-mail address it was placed with, "
             "for example: “#1043 you@example.com”. Or link your orders once with /link ORDER-NUMBER EMAIL.")
NEED_EMAIL = ("To keep orders private I need the e-mail address order {number} was placed with: write "
              "“{number} you@example.com”, or link your orders once with /link {number} EMAIL.")
NOT_FOUND = ("I couldn't find an order with that number and e-mail address. Please check both; the e-mail "
             "must be the one the order was placed with.")
THROTTLED = "That didn't match too many times, so I've paused order look-ups for this chat. Please try again later."
LINK_USAGE = "To link your orders, write /link ORDER-NUMBER EMAIL, for example: /link #1043 you@example.com"
LINKED = "Done: this chat is linked to the orders of {number}'s e-mail address. Ask me “where is my order?” any time."
NO_ORDERS = "I don't have any orders of yours yet. Give me an order number and its e-mail address."
STATUS = "Order {number}, placed {date}: {status}."
CARRIER = "Shipped with {carrier}."
TRACKING = "Track it here: {url}"
ITEMS = "Items: {items}."
AS_OF = "(as of {when})"
STATUS_WORDS = {"fulfilled": "shipped", "partial": "partly shipped", "unfulfilled": "not shipped yet",
                "restocked": "cancelled and restocked", None: "received, not shipped yet"}


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
        return [Reply(text=LINK_USAGE, intent="link")]
    if _throttled(services, turn):
        return [Reply(text=THROTTLED, intent="link")]
    order = services.kb.store.orders.link(turn.user, number, email)
    if order is None:
        return _wrong_pair(services, turn, "link")
    log.info("a chat linked its orders (%s)", turn.msg.platform)
    return [Reply(text=LINKED.format(number=order.number), intent="link")]


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
            return [_status_reply(services, latest)] if latest else [Reply(text=NO_ORDERS, intent=turn.intent)]
        turn.answered = False
        return [Reply(text=NEED_BOTH, intent=turn.intent)]
    if linked and email is None:
        order = orders.for_linked(turn.user, number)
        if order is not None:
            return [_status_reply(services, order)]
    if email is None:
        turn.answered = False
        shown = number if number.startswith("#") or not number.isdigit() else f"#{number}"
        return [Reply(text=NEED_EMAIL.format(number=shown), intent=turn.intent)]
    if _throttled(services, turn):
        return [Reply(text=THROTTLED, intent=turn.intent)]
    order = orders.find(number, email)
    if order is None:
        return _wrong_pair(services, turn, turn.intent or "order_status")
    return [_status_reply(services, order)]


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
    return [Reply(text=NOT_FOUND, intent=intent)]


def _status_reply(services: Services, order) -> Reply:
    status = STATUS_WORDS.get((order.fulfillment_status or "").lower() or None, order.fulfillment_status)
    if order.fulfilled_at and status == "shipped":
        status += f" on {_date(order.fulfilled_at)}"
    parts = [STATUS.format(number=order.number, date=_date(order.created_at) if order.created_at else "—", status=status)]
    if order.carrier:
        parts.append(CARRIER.format(carrier=order.carrier))
    if order.tracking_url:
        parts.append(TRACKING.format(url=order.tracking_url))
    items = [f"{line.quantity} × {line.title or line.sku or line.product_id}" for line in order.lines]
    if items:
        parts.append(ITEMS.format(items=", ".join(items)))
    if order.total is not None:
        parts.append(f"Total: {format_price(order.total, order.currency)}.")
    age = fact_age(order.synced_at, services.settings.sync_interval_s)
    if age:
        parts.append(AS_OF.format(when=age))
    return Reply(text=" ".join(parts), intent="order_status", data={"order": order.number})


def fact_age(synced_at: str | None, interval_s: int, now: datetime | None = None) -> str | None:
    """"09:00" (today) or "3 May 09:00" when a synced fact is older than the sync interval; else None."""
    if not synced_at:
        return None
    when = datetime.fromisoformat(synced_at)
    now = now or datetime.now(timezone.utc)
    if (now - when).total_seconds() <= interval_s:
        return None
    return when.strftime("%H:%M") if when.date() == now.date() else f"{when.day} {when.strftime('%b %H:%M')}"


def _date(iso: str) -> str:
    when = datetime.fromisoformat(iso)
    return f"{when.day} {when.strftime('%b %Y')}"

"""Handing a conversation to a person: when it starts, what the customer is told, and staying quiet meanwhile.

The core records handoffs and their messages in `HandoffStore`; adapters deliver what waits in its outbox
(the staff thread in Slack, staff replies to the customer's chat). Nothing here knows a chat SDK.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import datetime, time as dtime, timedelta, timezone
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from babel.dates import format_datetime

from bot.handoff_store import Handoff, HandoffStore, customer_target, desk_target
from bot.i18n import DEFAULT, LOCALES, N_, language, tr
from bot.memory import ConversationState
from bot.present import format_price
from bot.types import Reply
from shopguide.errors import NotConfigured
from shopguide.storage import database_errors

if TYPE_CHECKING:
    from bot.context import Services, Turn
    from shopguide.settings import Settings

log = logging.getLogger(__name__)

# Every text the customer reads about a handoff, in one place: English message ids, worded in the customer's language
# where they are sent (`turn.t` within a turn; `tr(self.customer_lang(handoff), ...)` for what is relayed later).
TEXTS = {
    "started": N_("I've passed your message to our team. A person from the shop will answer you here in this chat; "
                  "until they hand you back to me, I'll stay quiet."),
    "started_away": N_("I've passed your message to our team, but no one is in right now: they answer {hours}, so "
                       "they will see it from {next}. Until then I'm happy to keep helping.{contact}"),
    "no_staff": N_("I'm sorry: our team can't be reached through this chat, so no one would see your message "
                   "here.{contact}"),
    "contact": N_(" You can reach the shop at {contact}."),
    "already": N_("Your request is already with our team; a person will answer you here."),
    "person_with_you": N_("A person from the shop is looking after this conversation and will answer here. "
                          "I'll stay quiet until they hand you back to me."),
    "staff_says": N_("{name} from the shop: {text}"),
    "staff_attachment": N_("(sent an attachment: {name}, which can't be shown here)"),
    "handed_back": N_("{name} from the shop has handed you back to me, the shop's assistant. Anything else I can "
                      "find for you?"),
    # TRANSLATORS: {hours:g} is a number of hours (24, 0.5); keep the ":g" so it is written without a needless ".0"
    "timed_out": N_("No one from the shop has answered for {hours:g} hours, so I've closed your request for a "
                    "person; I'm answering again.{contact}"),
    "erased_note": N_(" The messages already passed to our staff's Slack are removed where our access allows."),
}
ANONYMOUS_STAFF = N_("A member of our team")
STAFF_PLATFORM_TARGET = "slack"
_PASS_THROUGH = frozenset({"forget", "show_data", "export"})  # data rights work while a person holds the chat
_NOT_A_QUESTION = frozenset({"empty", "other_language", "cancel", "unknown_action", "human", "forget", "confirm",
                             "greeting", "thanks"})
_DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_HOURS = re.compile(r"^\s*(?P<days>[A-Za-z]{3}(?:-[A-Za-z]{3})?(?:,[A-Za-z]{3}(?:-[A-Za-z]{3})?)*)\s+"
                    r"(?P<start>\d{1,2}:\d{2})-(?P<end>\d{1,2}:\d{2})(?:\s+(?P<tz>\S+))?\s*$")
MAX_TURNS = 6
MAX_PRODUCTS = 5


@dataclass(frozen=True)
class StaffHours:
    """When staff answer, e.g. `Mon-Fri 09:00-17:00 Europe/Berlin` (days, hours, an IANA time zone; UTC if none)."""

    spec: str
    days: frozenset[int]
    start: dtime
    end: dtime
    tz: ZoneInfo

    @classmethod
    def parse(cls, spec: str) -> "StaffHours":
        """Read the setting; a malformed one stops start-up naming SHOPGUIDE_STAFF_HOURS."""
        m = _HOURS.match(spec or "")
        try:
            if not m:
                raise ValueError("expected e.g. 'Mon-Fri 09:00-17:00 Europe/Berlin'")
            days: set[int] = set()
            for part in m["days"].lower().split(","):
                first, _, last = part.partition("-")
                a, b = _DAYS.index(first), _DAYS.index(last or first)
                days.update(range(a, b + 1) if a <= b else [*range(a, 7), *range(0, b + 1)])
            start, end = dtime.fromisoformat(m["start"].zfill(5)), dtime.fromisoformat(m["end"].zfill(5))
            if end <= start:
                raise ValueError("the end time must be after the start time")
            tz = ZoneInfo(m["tz"] or "UTC")
        except (ValueError, ZoneInfoNotFoundError) as exc:
            raise NotConfigured(f"SHOPGUIDE_STAFF_HOURS is not understood ({exc})") from None
        return cls(spec.strip(), frozenset(days), start, end, tz)

    def is_open(self, now: datetime) -> bool:
        """True while staff are in."""
        local = now.astimezone(self.tz)
        return local.weekday() in self.days and self.start <= local.time() < self.end

    def next_open(self, now: datetime) -> datetime:
        """The next start of staff hours after `now`, in the shop's time zone."""
        local = now.astimezone(self.tz)
        for ahead in range(0, 8):
            day = (local + timedelta(days=ahead)).date()
            start = datetime.combine(day, self.start, tzinfo=self.tz)
            if day.weekday() in self.days and start > local:
                return start
        return local


@dataclass
class Handoffs:
    """The core's side of handoffs: open one, hold a conversation a person answers, hand it back."""

    store: HandoffStore
    settings: "Settings"
    hours: StaffHours | None = None

    @classmethod
    def build(cls, store: HandoffStore, settings: "Settings") -> "Handoffs":
        return cls(store, settings, StaffHours.parse(settings.staff_hours) if settings.staff_hours else None)

    @property
    def desk(self) -> str | None:
        """Where staff see handoffs: Slack when a channel is configured, else the console when enabled."""
        if self.settings.slack_handoff_channel:
            return STAFF_PLATFORM_TARGET
        return "console" if self.settings.handoff_console else None

    def contact(self, lang: str | None = DEFAULT) -> str:
        """" You can reach the shop at ..." in `lang`, or nothing when no contact is configured."""
        contact = self.settings.shop_contact or self.settings.shop_url
        return tr(lang, TEXTS["contact"], contact=contact) if contact else ""

    def customer_lang(self, handoff: Handoff) -> str:
        """The language of a message sent to the customer outside a turn (a staff reply, a hand-back, a timeout):
        the conversation's as memory keeps it (it follows the customer's latest messages), else the one recorded
        when the handoff opened, else English."""
        lang = None
        if handoff.user_key:
            try:  # the handoff store lives on the memory database: its conversation state is read where it is
                with self.store.lock:
                    row = self.store.db.execute("SELECT state FROM conversations WHERE user_key = ?",
                                                [handoff.user_key]).fetchone()
                lang = ConversationState.from_json(row[0] if row else None).lang
            except (*database_errors(), ValueError, TypeError):
                log.warning("the conversation language of handoff %d could not be read", handoff.id, exc_info=True)
        return language(lang or handoff.lang)

    # ----- starting --------------------------------------------------------------------------------
    def start(self, services: "Services", turn: "Turn", origin: str, reason: str | None = None) -> list[Reply]:
        """Hand the conversation to staff, telling the customer the truth about when someone will answer."""
        services.memory.record(turn.user, "handoff", None, turn.text)
        desk = self.desk
        if desk is None:
            return [Reply(text=turn.t(TEXTS["no_staff"], contact=self.contact(turn.lang)), intent="human")]
        now = datetime.now(timezone.utc)
        away = self.hours is not None and not self.hours.is_open(now)
        msg = turn.msg
        words = reason or turn.text or self.last_question(services, turn) or ""
        handoff, new = self.store.open(
            user_key=turn.user, platform=msg.platform, chat_id=msg.chat_id, user_name=msg.user_name,
            lang=turn.lang or msg.locale, origin=origin, reason=words, context=self._context(services, turn),
            desk=desk, mode="bot" if away else "person")
        if not new:
            return [Reply(text=turn.t(TEXTS["already"]), intent="human")]
        log.info("handoff %d opened (%s, %s)", handoff.id, origin, "away" if away else "staff in")
        if away:
            assert self.hours is not None
            nxt = _weekday_time(self.hours.next_open(now), turn.lang)
            text = turn.t(TEXTS["started_away"], hours=self.hours.spec, next=nxt, contact=self.contact(turn.lang))
            return [Reply(text=text, intent="human", data={"handoff": handoff.id})]
        self.store.mark_told(handoff)
        return [Reply(text=turn.t(TEXTS["started"]), intent="human", data={"handoff": handoff.id})]

    def last_question(self, services: "Services", turn: "Turn") -> str | None:
        """The customer's last words before "yes, ask a person" (the question that went unanswered)."""
        for event in reversed(services.memory.recent_events(turn.user, 3)):
            if event["intent"] not in _NOT_A_QUESTION and event["text"]:
                return event["text"]
        return None

    def _context(self, services: "Services", turn: "Turn") -> dict:
        """The last turns and the products in view, with titles and prices from the records."""
        turns = [{"intent": e["intent"], "text": e["text"], "answered": bool(e["answered"])}
                 for e in services.memory.recent_events(turn.user, MAX_TURNS)]
        turns.append({"intent": turn.intent, "text": turn.text, "answered": True})
        ids = list(dict.fromkeys([*([turn.state.focus] if turn.state.focus else []), *turn.state.shown]))[:MAX_PRODUCTS]
        records = services.kb.store.get_products(ids) if ids else {}
        products = [{"id": p.id, "title": p.title, "price": format_price(p.price, p.currency) if p.price is not None
                     else None} for i in ids if (p := records.get(i)) is not None]
        return {"turns": turns[-MAX_TURNS:], "products": products}

    # ----- while a person holds the conversation ----------------------------------------------------
    def hold(self, turn: "Turn", pending: str | None) -> list[Reply] | None:
        """The replies for a turn a person answers (the customer's words go to staff), or None when the
        assistant answers it (no handoff, the assistant's mode, a data-rights request)."""
        handoff = self.store.active(turn.user)
        if handoff is None:
            return None
        if self._timed_out(handoff):
            self.store.close(handoff, "timeout", "timeout", None)
            turn.notices.append(turn.t(TEXTS["timed_out"], hours=self.settings.handoff_timeout_h, contact=""))
            return None
        action = turn.msg.action or ""
        if pending == "confirm_forget" or action.startswith("forget") or turn.intent in _PASS_THROUGH:
            turn.passes_handoff = True
            return None
        text = turn.text or (f"(pressed: {action[:60]})" if action else "")
        self.store.add(handoff.id, "customer", text, author=turn.msg.user_name, target=desk_target(handoff.desk))
        if handoff.mode in ("bot", "assist"):  # the assistant answers: to the customer, or as a draft for staff
            return None
        turn.state.pending = pending
        turn.intent = "handoff_held"
        if self.store.mark_told(handoff):
            return [Reply(text=turn.t(TEXTS["person_with_you"]), intent="handoff_held")]
        return []

    def after_turn(self, services: "Services", turn: "Turn", replies: list[Reply], held: bool) -> list[Reply]:
        """Show staff the assistant's answer in a thread it answers; hand over after two unanswered questions."""
        if held or turn.forgotten:
            return replies
        handoff = self.store.active(turn.user)
        if handoff is not None:
            if handoff.mode == "assist" and not turn.passes_handoff:
                if replies:  # staff approve, edit or discard it; nothing reaches the customer meanwhile
                    self.store.add(handoff.id, "assistant", draft_text(replies), kind="draft",
                                   target=desk_target(handoff.desk))
                told = self.store.mark_told(handoff)
                return [Reply(text=turn.t(TEXTS["person_with_you"]), intent="handoff_held")] if told else []
            if handoff.mode == "bot" and replies:
                text = "\n\n".join(r.text for r in replies if r.text)
                self.store.add(handoff.id, "assistant", text, target=desk_target(handoff.desk))
            return replies
        if turn.answered or turn.intent in _NOT_A_QUESTION or self.desk is None:
            return replies
        previous = services.memory.recent_events(turn.user, 1)
        if previous and not previous[0]["answered"] and previous[0]["intent"] not in _NOT_A_QUESTION:
            reason = f"{previous[0]['text']}\n{turn.text}"
            return [*replies, *self.start(services, turn, "unanswered", reason)]
        return replies

    def _timed_out(self, handoff: Handoff) -> bool:
        since = datetime.fromisoformat(handoff.last_staff_at or handoff.created_at)
        return datetime.now(timezone.utc) - since > timedelta(hours=self.settings.handoff_timeout_h)

    # ----- handing back ---------------------------------------------------------------------------------
    def close(self, handoff: Handoff, by: str, name: str | None, reason: str = "closed") -> bool:
        """Staff hand the conversation back; the customer is told (in the conversation's language)."""
        lang = self.customer_lang(handoff)
        return self.store.close(handoff, by, reason,
                                tr(lang, TEXTS["handed_back"], name=name or tr(lang, ANONYMOUS_STAFF)))

    def expire(self) -> int:
        """Hand back every handoff without a staff reply for the timeout; each customer is told."""
        hours = self.settings.handoff_timeout_h
        count = 0
        for handoff in self.store.expired(hours):
            lang = self.customer_lang(handoff)
            count += self.store.close(handoff, "timeout", "timeout",
                                      tr(lang, TEXTS["timed_out"], hours=hours, contact=self.contact(lang)))
        return count

    def staff_reply(self, handoff: Handoff, staff_id: str, name: str | None, text: str, dedup: str,
                    attachments: list[str] = (), remote_id: str | None = None) -> bool:  # type: ignore[assignment]
        """A staff member's words for the customer, marked as from a person (in the conversation's language);
        False for a repeat delivery."""
        if handoff.taken_by is None:  # the first staff word takes the conversation (also outside staff hours)
            handoff = self.store.take(handoff, staff_id)
        parts = [text.strip()] if text.strip() else []
        lang = self.customer_lang(handoff)
        parts += [tr(lang, TEXTS["staff_attachment"], name=a) for a in attachments]
        body = tr(lang, TEXTS["staff_says"], name=name or tr(lang, ANONYMOUS_STAFF), text="\n".join(parts))
        return self.store.staff_reply(handoff, staff_id, body, dedup, remote_id, said=text)


    def send_draft(self, draft_id: int, staff_id: str, name: str | None, edited: str | None = None) -> bool:
        """Staff approve an assisted-mode draft: as drafted (the assistant's words) or as edited (then marked as
        from the person); False when it was already sent or discarded (a second press sends nothing)."""
        decided = self.store.decide_draft(draft_id, staff_id, send=True)
        if decided is None:
            return False
        handoff, text = decided
        if edited is not None and edited.strip() != text.strip():
            return self.staff_reply(handoff, staff_id, name, edited, dedup=f"draft:{draft_id}")
        self.store.add(handoff.id, "assistant", text, target=customer_target(handoff.platform), dedup=f"draft:{draft_id}")
        return True


def draft_text(replies: list[Reply]) -> str:
    """The assistant's answer as one text a person can approve: each reply's text-only form (a result list's
    numbered lines with record prices included), and a line for any product card its text does not name."""
    parts: list[str] = []
    for reply in replies:
        lines = [reply.text] if reply.text else []
        for i, card in enumerate(reply.products, 1):
            if card.title not in reply.text:
                price = f" — {format_price(card.price, card.currency)}" if card.price is not None else ""
                lines.append(f"{i}. {card.title}{price}")
        if lines:
            parts.append("\n".join(lines))
    return "\n\n".join(parts)


def _weekday_time(when: datetime, lang: str | None) -> str:
    """"Mon 09:00" as `lang` writes a weekday and time ("Mo. 09:00", "周一 09:00"); English as it always was."""
    lang = language(lang)
    if lang == DEFAULT:
        return when.strftime("%a %H:%M")
    return format_datetime(when, "EEE HH:mm", locale=LOCALES[lang])

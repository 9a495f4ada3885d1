"""The one message type that enters the core and the one reply type that leaves it."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True)
class IncomingMessage:
    """A user's turn, already translated from the platform's event."""

    platform: str
    user_id: str
    chat_id: str
    text: str = ""
    action: str | None = None  # payload of a pressed button, e.g. "d:SG-HB-1001"
    locale: str | None = None
    user_name: str | None = None

    @property
    def user_key(self) -> str:
        """The key under which this user's memory is stored."""
        return f"{self.platform}:{self.user_id}"


@dataclass(frozen=True)
class Button:
    """A quick-reply button; `action` comes back as `IncomingMessage.action`."""

    label: str
    action: str


@dataclass(frozen=True)
class ProductCard:
    """A product as shown to a user; every field is copied from the stored record."""

    id: str
    title: str
    price: float | None = None
    currency: str | None = None
    in_stock: bool | None = None
    stock: int | None = None
    image: str | None = None
    attributes: dict[str, str] = field(default_factory=dict)
    buttons: tuple[Button, ...] = ()
    lang: str = "en"  # the language of its labels and stock wording (renderers follow it)
    as_of: str | None = None  # "(as of 09:00)": the age of a price and stock from a feed not read lately

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready form."""
        data = asdict(self)
        data["buttons"] = [asdict(b) for b in self.buttons]
        return data


@dataclass(frozen=True)
class Reply:
    """One message to send back. Renderers need only `text`; the rest are extras."""

    text: str
    products: tuple[ProductCard, ...] = ()
    buttons: tuple[Button, ...] = ()
    image: str | None = None
    intent: str | None = None
    data: dict[str, Any] | None = None  # machine-readable attachment, e.g. an export

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready form, as printed by `shopguide console --json`."""
        out: dict[str, Any] = {
            "text": self.text,
            "products": [p.to_dict() for p in self.products],
            "buttons": [asdict(b) for b in self.buttons],
            "image": self.image,
            "intent": self.intent,
        }
        if self.data is not None:
            out["data"] = self.data
        return out

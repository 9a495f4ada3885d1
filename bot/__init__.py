"""The platform-agnostic dialogue core: one message type in, a list of replies out."""

from bot.types import Button, IncomingMessage, ProductCard, Reply

__all__ = ["Button", "IncomingMessage", "ProductCard", "Reply"]

"""The small contracts the rest of shopguide codes against."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Protocol, TypedDict

import numpy as np


class ChatMessage(TypedDict):
    """One chat turn in the OpenAI-style shape llama.cpp's chat templates take."""

    role: str
    content: str


class ChatModel(Protocol):
    """A chat model that completes a conversation, whole or as a stream of text pieces."""

    def generate(
        self, messages: Sequence[ChatMessage], *, max_tokens: int, stream: bool = False,
        json_schema: dict | None = None,
    ) -> str | Iterator[str]:
        """Complete `messages`; with `stream=True` return an iterator of text pieces.

        `json_schema`, where supported, constrains the output to JSON of that schema."""
        ...


class Embedder(Protocol):
    """Turns texts into L2-normalised vectors."""

    dimension: int
    max_tokens: int

    def encode(self, texts: Sequence[str], *, batch_size: int | None = None) -> np.ndarray:
        """Embed many texts; rows are L2-normalised float32."""
        ...

    def encode_query(self, text: str) -> np.ndarray:
        """Embed one query, cached."""
        ...

    def count_tokens(self, text: str) -> int:
        """Number of model tokens of `text`, special tokens excluded."""
        ...

"""The chat model on llama-cpp-python, using the chat template stored in the GGUF file."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path

from models.base import ChatMessage
from models.resolve import resolve_gguf
from shopguide.errors import ModelError, NotConfigured

log = logging.getLogger(__name__)


class LlamaChatModel:
    """A GGUF chat model. Not thread-safe by design: share it through `ModelWorker`."""

    def __init__(
        self,
        model_path: Path | None = None,
        *,
        n_ctx: int = 2048,
        n_threads: int = 2,
        temperature: float = 0.2,
        seed: int = 7,
    ) -> None:
        self.path = resolve_gguf(model_path)
        self.n_ctx = n_ctx
        self.temperature = temperature
        self._busy = threading.Lock()
        try:
            from llama_cpp import Llama

            self._llm = Llama(
                model_path=str(self.path),
                n_ctx=n_ctx,
                n_threads=n_threads,
                n_threads_batch=n_threads,
                n_batch=512,
                seed=seed,
                verbose=False,
            )
        except Exception as exc:
            log.debug("llama.cpp failed to load %s", self.path, exc_info=True)
            raise NotConfigured(
                f"model file {self.path} could not be loaded by llama.cpp (setting SHOPGUIDE_LLM_MODEL_PATH): "
                f"{type(exc).__name__}"
            ) from None
        log.info("loaded chat model %s (n_ctx=%d, threads=%d)", self.path.name, n_ctx, n_threads)

    @property
    def name(self) -> str:
        """File name of the loaded model."""
        return self.path.name

    def count_tokens(self, text: str) -> int:
        """Number of model tokens in `text`."""
        return len(self._llm.tokenize(text.encode("utf-8"), add_bos=False, special=True))

    def generate(
        self, messages: Sequence[ChatMessage], *, max_tokens: int, stream: bool = False,
        json_schema: dict | None = None,
    ) -> str | Iterator[str]:
        """Complete the conversation with the model's own chat template; `json_schema` constrains the output."""
        if stream:
            return self._stream(messages, max_tokens, json_schema)
        return "".join(self._stream(messages, max_tokens, json_schema))

    def _stream(self, messages: Sequence[ChatMessage], max_tokens: int, json_schema: dict | None = None) -> Iterator[str]:
        if not self._busy.acquire(blocking=False):
            raise ModelError("the llama.cpp context is already running a completion")
        try:
            chunks = self._llm.create_chat_completion(
                messages=list(messages),
                max_tokens=max_tokens,
                temperature=self.temperature,
                stream=True,
                **({"response_format": {"type": "json_object", "schema": json_schema}} if json_schema else {}),
            )
            for chunk in chunks:
                delta = chunk["choices"][0].get("delta", {})
                piece = delta.get("content")
                if piece:
                    yield piece
        finally:
            self._busy.release()

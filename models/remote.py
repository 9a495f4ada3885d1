"""The chat model on an OpenAI-compatible server (llama.cpp's or llama-cpp-python's server, vLLM), through the
`openai` client: the same `ChatModel` contract as the in-process GGUF model, so `ModelWorker` keeps its queue
and deadlines and the writer its grounding check; a failing server raises `ModelError`, logged once a minute."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator, Sequence
from urllib.parse import urlparse

from models.base import ChatMessage
from shopguide.errors import ModelError, NotConfigured

log = logging.getLogger(__name__)

LOG_EVERY_S = 60.0


class RemoteChatModel:
    """Completions from a model server; thread-safe (the server queues), but shared through `ModelWorker` alike."""

    def __init__(self, base_url: str, *, api_key: str | None = None, model: str | None = None,
                 temperature: float = 0.2, timeout_s: float = 10.0, seed: int = 7,
                 clock=time.monotonic) -> None:
        from openai import OpenAI

        if urlparse(base_url).scheme not in ("http", "https"):
            raise NotConfigured("SHOPGUIDE_LLM_URL must be an http(s) URL ending in /v1")
        self.base_url = base_url.rstrip("/")
        self.host = urlparse(base_url).netloc
        # no retries: the worker's deadline is the budget, and templates answer when it runs out
        self.client = OpenAI(base_url=self.base_url, api_key=api_key or "none", timeout=timeout_s, max_retries=0)
        self.model = model
        self.temperature = temperature
        self.seed = seed
        self.clock = clock
        self._last_logged = -LOG_EVERY_S
        self._lock = threading.Lock()

    @property
    def name(self) -> str:
        """The model's name on the server (asked of it when not configured)."""
        return self._model_name()

    def _model_name(self) -> str:
        if self.model is None:
            models = self.client.models.list().data
            if not models:
                raise ModelError(f"the model server at {self.host} lists no model (set SHOPGUIDE_LLM_MODEL_NAME)")
            self.model = models[0].id
        return self.model

    def check(self) -> str:
        """Ask the server for its models; returns the one used. Raises NotConfigured naming the setting."""
        try:
            name = self._model_name()
            listed = {m.id for m in self.client.models.list().data}
        except Exception as exc:
            raise NotConfigured(_describe(exc, self.host)) from None
        if listed and name not in listed:
            raise NotConfigured(f"the model server at {self.host} has no model {name!r} "
                                f"(SHOPGUIDE_LLM_MODEL_NAME; it lists {', '.join(sorted(listed))})")
        return name

    def generate(self, messages: Sequence[ChatMessage], *, max_tokens: int, stream: bool = False,
                 json_schema: dict | None = None) -> str | Iterator[str]:
        """Complete the conversation on the server; `json_schema` constrains the output where the server can."""
        pieces = self._stream(messages, max_tokens, json_schema)
        return pieces if stream else "".join(pieces)

    def _stream(self, messages: Sequence[ChatMessage], max_tokens: int, json_schema: dict | None) -> Iterator[str]:
        extra = {"response_format": {"type": "json_object", "schema": json_schema}} if json_schema else {}
        try:
            chunks = self.client.chat.completions.create(
                model=self._model_name(), messages=list(messages), max_tokens=max_tokens,  # type: ignore[arg-type]
                temperature=self.temperature, seed=self.seed, stream=True, **extra)
            received = False
            for chunk in chunks:
                received = True
                if not getattr(chunk, "choices", None):
                    continue
                piece = chunk.choices[0].delta.content
                if piece:
                    yield piece
            if not received:  # an answer that is no event stream at all (an HTML page, a proxy's error)
                raise ValueError("no completion events in the answer")
        except GeneratorExit:
            raise
        except ModelError as exc:
            self._report(exc)
            raise
        except Exception as exc:  # unreachable, 5xx, garbage: templates answer, and the log hears of it once a minute
            self._report(exc)
            raise ModelError(_describe(exc, self.host)) from None

    def _report(self, exc: BaseException) -> None:
        with self._lock:
            now = self.clock()
            if now - self._last_logged < LOG_EVERY_S:
                return
            self._last_logged = now
        log.warning("%s; answering with templates (logged at most once a minute)", _describe(exc, self.host))


def _describe(exc: BaseException, host: str) -> str:
    """What went wrong with the server, naming the setting, never the key."""
    import openai

    if isinstance(exc, openai.AuthenticationError):
        return f"the model server at {host} refused the key (SHOPGUIDE_LLM_API_KEY)"
    if isinstance(exc, openai.NotFoundError):
        return f"the model server at {host} has no such model or path (SHOPGUIDE_LLM_URL must end in /v1; " \
               f"SHOPGUIDE_LLM_MODEL_NAME)"
    if isinstance(exc, (openai.APIConnectionError, openai.APITimeoutError)):
        return f"the model server at {host} is unreachable (SHOPGUIDE_LLM_URL): {type(exc).__name__}"
    if isinstance(exc, openai.APIStatusError):
        return f"the model server at {host} answered HTTP {exc.status_code} (SHOPGUIDE_LLM_URL)"
    if isinstance(exc, ModelError):
        return str(exc)
    return f"the model server at {host} sent an answer that is not an OpenAI-compatible reply ({type(exc).__name__})"

"""`Runtime`: every long-lived service of one process, as the CLI builds it and hands it to an adapter."""

from __future__ import annotations

from dataclasses import dataclass, field

from bot.context import Services
from bot.core import Assistant
from bot.memory import Memory
from knowledge.base import KnowledgeBase
from models.worker import ModelWorker
from shopguide.settings import Settings


@dataclass
class Runtime:
    """Every long-lived service of one process."""

    settings: Settings
    kb: KnowledgeBase
    memory: Memory
    assistant: Assistant
    services: Services
    worker: ModelWorker | None = None
    owned: set[str] = field(default_factory=set)  # what this runtime created and so must close

    def close(self) -> None:
        """Release the models and databases this runtime opened."""
        if self.worker is not None and "worker" in self.owned:
            self.worker.close()
        self.memory.close()
        if "kb" in self.owned:
            self.kb.close()

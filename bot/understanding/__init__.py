"""The understanding layer: intents learned from example files, read in the conversation's state."""

from __future__ import annotations

from bot.understanding.classifier import IntentClassifier, Reading, State
from bot.understanding.examples import Examples, load_examples

__all__ = ["IntentClassifier", "Reading", "State", "Examples", "load_examples"]

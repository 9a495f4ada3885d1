"""Logging set-up: a log file with full tracebacks, short lines on stderr, secrets redacted everywhere."""

from __future__ import annotations

import logging
import logging.handlers
import re
import sys
from collections.abc import Iterable
from pathlib import Path

_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


class RedactSecrets(logging.Filter):
    """Replaces every known secret (and anything shaped like a bot token) with ***."""

    TOKEN_SHAPES = re.compile(r"(?<!\d)\d{6,12}:[A-Za-z0-9_-]{30,}|\bxox[abposr]-[A-Za-z0-9-]{10,}\b|\bxapp-[A-Za-z0-9-]{10,}\b")

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        super().__init__()
        self.secrets = sorted({s for s in secrets if s and len(s) >= 4}, key=len, reverse=True)

    def redact(self, text: str) -> str:
        """`text` with secrets replaced."""
        for secret in self.secrets:
            text = text.replace(secret, "***")
        return self.TOKEN_SHAPES.sub("***", text)

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        clean = self.redact(message)
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self.redact(record.exc_text)
        if clean != message or record.args:
            record.msg = clean
            record.args = None
        return True


def setup_logging(level: str = "INFO", *, log_file: Path | None = None, stderr_level: str | None = None,
                  secrets: Iterable[str] = ()) -> None:
    """Configure the root logger once per process."""
    root = logging.getLogger()
    for handler in list(root.handlers):
        root.removeHandler(handler)
    root.setLevel(logging.DEBUG)
    redactor = RedactSecrets(secrets)
    stream = logging.StreamHandler(sys.stderr)
    stream.setLevel(getattr(logging, (stderr_level or level).upper(), logging.INFO))
    stream.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    stream.addFilter(redactor)
    root.addHandler(stream)
    if log_file is not None:
        try:
            log_file.parent.mkdir(parents=True, exist_ok=True)
            fh = logging.handlers.RotatingFileHandler(log_file, maxBytes=5_000_000, backupCount=3, encoding="utf-8")
        except OSError:
            fh = None
        if fh is not None:
            fh.setLevel(getattr(logging, level.upper(), logging.INFO))
            fh.setFormatter(logging.Formatter(_FORMAT))
            fh.addFilter(redactor)
            root.addHandler(fh)
    for noisy in ("httpx", "httpcore", "chromadb", "sentence_transformers", "transformers", "urllib3",
                  "telegram.ext", "slack_bolt", "slack_sdk", "asyncio", "aiohttp.access", "filelock", "matplotlib"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    logging.captureWarnings(True)
    logging.getLogger("py.warnings").setLevel(logging.ERROR)

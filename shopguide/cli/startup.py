"""What every command does first: load the settings once and set up logging; a progress bar for long work."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from shopguide.settings import Settings, load_settings


def start(args: argparse.Namespace, *, stderr_level: str | None = None) -> Settings:
    """Load settings once and set up logging (file in the data dir, secrets redacted)."""
    from shopguide.logs import setup_logging

    settings = load_settings(getattr(args, "config", None))
    level = getattr(args, "log_level", None) or settings.log_level
    secrets = [s.get_secret_value() for s in (settings.telegram_token, settings.slack_bot_token, settings.slack_app_token,
                                                settings.slack_signing_secret, settings.telegram_webhook_secret,
                                                settings.llm_api_key, settings.chroma_token) if s]
    setup_logging(level, log_file=settings.data_dir / "logs" / "shopguide.log", stderr_level=stderr_level, secrets=secrets)
    return settings


def progress_bar(label: str):
    """A progress callback drawing a bar on a terminal, silent when stderr is piped."""
    if not sys.stderr.isatty():
        return None
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

    bar = Progress("[progress.description]{task.description}", BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
                   transient=True)
    state: dict[str, Any] = {}

    def update(done: int, total: int) -> None:
        if "task" not in state:
            bar.start()
            state["task"] = bar.add_task(label, total=max(total, 1))
        bar.update(state["task"], completed=done, total=max(total, 1))
        if done >= total:
            bar.stop()

    return update

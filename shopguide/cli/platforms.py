"""`shopguide telegram`, `slack`, `serve` and `handoffs`: load the settings, then hand an adapter the builder of
the runtime and the warm-up, so wiring flows from the CLI down into the adapters."""

from __future__ import annotations

import argparse
import logging

from bot.runtime import Runtime
from shopguide.cli.app import build_runtime, load_demo_store, open_knowledge
from shopguide.cli.startup import start
from shopguide.cli.warmup import warm_up
from shopguide.settings import Settings

log = logging.getLogger(__name__)


def serving_runtime(settings: Settings, *, log_demo: bool = True) -> Runtime:
    """The runtime a bot serves with: the configured store, or the bundled demo store when the catalog is empty."""
    kb = open_knowledge(settings)
    if kb.store.count("product") == 0:
        log.warning("the catalog is empty: loading the bundled demo store")
        for report in load_demo_store(kb):
            if log_demo:
                log.info(report.summary())
    runtime = build_runtime(settings, kb=kb)
    runtime.owned.add("kb")
    return runtime


def telegram(args: argparse.Namespace) -> int:
    """`shopguide telegram`."""
    from adapters.telegram.run import main

    settings = start(args, stderr_level="WARNING")
    return main(args, settings, lambda s: serving_runtime(s, log_demo=False), warm_up)


def slack(args: argparse.Namespace) -> int:
    """`shopguide slack`."""
    from adapters.slack.run import main

    return main(args, lambda: start(args, stderr_level="INFO"), serving_runtime, warm_up)


def serve(args: argparse.Namespace) -> int:
    """`shopguide serve`."""
    from adapters.serve import main

    return main(args, start(args, stderr_level="INFO"), serving_runtime, warm_up)


def handoffs(args: argparse.Namespace) -> int:
    """`shopguide handoffs`."""
    from adapters.console_handoffs import main

    return main(args, start(args, stderr_level="WARNING"))

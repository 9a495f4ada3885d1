"""The start-up warm-up: every model and index is loaded before a bot takes updates, and nothing is remembered."""

from __future__ import annotations

import logging

from bot.types import IncomingMessage
from shopguide.cli.warmup import PLATFORM, USER, warm_query, warm_up


async def test_warm_up_loads_each_model_answers_a_search_and_leaves_no_rows(runtime_no_llm):
    rt = runtime_no_llm
    assert warm_query(rt) in [b.action[2:] for b in rt.services.storefront.examples]
    timings = await warm_up(rt)
    assert {"product embedder", "FAQ embedder", "document embedder", "search index", "FAQ index",
            "first search turn", "total"} <= set(timings)
    assert all(seconds >= 0 for seconds in timings.values())
    key = IncomingMessage(platform=PLATFORM, user_id=USER, chat_id=USER).user_key
    assert rt.memory.count_rows(key) == 0 and rt.memory.events_since(1) == []


async def test_a_failing_step_is_logged_and_start_up_goes_on(runtime_no_llm, monkeypatch, caplog):
    def broken(*args, **kwargs):
        raise RuntimeError("index unavailable")

    monkeypatch.setattr(runtime_no_llm.services.search, "search", broken)
    with caplog.at_level(logging.WARNING, logger="shopguide.cli.warmup"):
        timings = await warm_up(runtime_no_llm)
    assert "search index" in timings and "total" in timings
    assert any("search index" in r.getMessage() for r in caplog.records)

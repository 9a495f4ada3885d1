"""`shopguide bench workers` on a small load: real worker processes, the fake Bot API and a fake Slack Web API, a
redelivery (or a Slack retry) in 10% and a killed worker; its counts come back (no figure is asserted but losses and order, which must hold at any speed)."""

from __future__ import annotations

from shopguide.bench.workers import run_load


def test_a_small_load_on_two_workers_with_a_kill(tmp_path, monkeypatch):
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    result = run_load(tmp_path, 2, users=12, messages=3, kill=True, lease_s=2.0, slack_users=4)
    assert result["killed"] == 1 and result["messages"] == 48
    assert result["lost"] == 0 and result["out_of_order"] == 0
    slack = result["by_platform"]["slack"]
    assert slack["lost"] == 0 and slack["out_of_order"] == 0 and slack["latency_s"]["max"] is not None
    # a repeat can only be a reply the killed worker sent just before it died (before it could record it)
    assert len(result["repeated_first_sent_vs_kill_s"]) == result["duplicates"]
    assert all(-2.0 < t <= 0.5 for t in result["repeated_first_sent_vs_kill_s"])
    assert {"p50", "p95", "max"} <= set(result["latency_s"])
    window = result["by_platform"]["telegram"]["sent_to_done_ms"]  # completed after the reply went: how much later
    assert window["p50"] is not None and 0 <= window["p50"] <= window["max"]

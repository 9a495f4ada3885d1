"""Staff `/shop stats [days]`: conversations, top and unanswered queries, top sellers, and a PNG chart."""

from __future__ import annotations

import asyncio
import io
from collections import Counter
from typing import Any

from adapters.slack import render
from adapters.slack.staff_output import StaffOutput, text_output
from adapters.slack.staff_recs import sellers, sellers_text
from bot.runtime import Runtime

MAX_DAYS = 365
TOP_N = 10


async def stats(runtime: Runtime, args: str) -> StaffOutput:
    """`/shop stats [days]`: usage over the period, with a PNG chart."""
    arg = args.strip().split()[0] if args.strip() else "7"
    if not arg.isdigit() or not 1 <= int(arg) <= MAX_DAYS:
        return text_output(f"`/shop stats [days]` takes a whole number of days from 1 to {MAX_DAYS}.")
    days = int(arg)
    summary = summarize(runtime.memory.events_since(days))
    summary.update({k: summary[k] + n for k, n in runtime.memory.purged_counts(days).items()})  # purged: counts only
    chart = await asyncio.to_thread(stats_chart, summary, days)
    sales = sellers(runtime, days)
    handoffs = runtime.services.handoffs
    counts = handoffs.store.stats(days) if handoffs is not None else None
    text = stats_text(summary, days) + "\n" + sellers_text(sales, summary, days) + handoff_text(counts)
    return StaffOutput(render.plain_messages(text), chart=chart, chart_name=f"shop-stats-{days}d.png",
                       chart_title=f"Shop assistant, last {days} days",
                       notes={**summary, **sales, "handoffs": counts})


def summarize(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Conversations, top queries, zero-result queries and unanswered questions from event rows."""
    def top(texts: list[str]) -> list[tuple[str, int]]:
        return Counter(" ".join(t.lower().split()) for t in texts if t and t.strip()).most_common(TOP_N)

    return {
        "turns": len(rows),
        "conversations": len({r["user_key"] for r in rows}),
        "top_queries": top([r["text"] for r in rows if r.get("intent") == "search"]),
        "zero_result": top([r["text"] for r in rows if r.get("results") == 0]),
        "unanswered": top([r["text"] for r in rows if r.get("answered") == 0]),
        "zero_result_count": sum(1 for r in rows if r.get("results") == 0),
        "unanswered_count": sum(1 for r in rows if r.get("answered") == 0),
    }


def stats_text(summary: dict[str, Any], days: int) -> str:
    """The statistics as plain text."""
    def listing(pairs: list[tuple[str, int]]) -> str:
        return "\n".join(f"  {n}× {t[:120]}" for t, n in pairs) or "  (none)"

    return "\n".join([
        f"Shop assistant, last {days} day{'s' if days != 1 else ''}",
        f"Conversations: {summary['conversations']} (messages: {summary['turns']})",
        f"Top queries:\n{listing(summary['top_queries'])}",
        f"Zero-result queries: {summary['zero_result_count']}\n{listing(summary['zero_result'])}",
        f"Unanswered questions: {summary['unanswered_count']}\n{listing(summary['unanswered'])}",
    ])


def handoff_text(counts: dict[str, Any] | None) -> str:
    """Handoffs to staff over the period: how many, what became of them, the first response, saved answers."""
    if counts is None:
        return ""
    median = counts["median_response_min"]
    first = f"{median:g} min" if median is not None else "no staff reply yet"
    return (f"\nHandoffs to staff: {counts['handoffs']} opened, {counts['taken']} taken, {counts['closed']} closed by "
            f"staff, {counts['timed_out']} timed out\n"
            f"  First staff reply (median, {counts['answered']} answered): {first}\n"
            f"  Staff answers saved as FAQ: {counts['saved_faqs']}")


def stats_chart(summary: dict[str, Any], days: int) -> bytes:
    """A PNG: the period's totals and the top queries (matplotlib's Agg canvas, no GUI)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(9, 4.5), dpi=100)
    FigureCanvasAgg(fig)
    left, right = fig.subplots(1, 2, gridspec_kw={"width_ratios": [1, 1.6]})
    labels = ["conversations", "messages", "zero-result", "unanswered"]
    values = [summary["conversations"], summary["turns"], summary["zero_result_count"], summary["unanswered_count"]]
    left.bar(labels, values, color=["#2e86de", "#54a0ff", "#ee5253", "#ff9f43"])
    left.set_title(f"Last {days} days")
    left.tick_params(axis="x", labelrotation=30, labelsize=8)
    queries = summary["top_queries"][:8][::-1]
    if queries:
        right.barh([t[:28] for t, _ in queries], [n for _, n in queries], color="#10ac84")
    else:
        right.text(0.5, 0.5, "no searches yet", ha="center", va="center")
    right.set_title("Top queries")
    right.tick_params(axis="y", labelsize=8)
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    return buf.getvalue()

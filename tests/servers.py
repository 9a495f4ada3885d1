"""Start real service processes (llama-cpp-python's OpenAI-compatible server, `chroma run`) on 127.0.0.1 for a
test module, and fail loudly (never skip) when one cannot start."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest


def free_port() -> int:
    """A TCP port nobody listens on now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def serving(command: list[str], health_url: str, log_path: Path, *, timeout_s: float = 120.0,
            headers: dict[str, str] | None = None) -> Iterator[subprocess.Popen]:
    """Run `command` until `health_url` answers (any HTTP status), yield the process, then stop it."""
    env = {**os.environ, "NO_PROXY": "127.0.0.1,localhost", "no_proxy": "127.0.0.1,localhost",
           "ANONYMIZED_TELEMETRY": "False"}
    log = open(log_path, "wb")
    proc = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=env)
    deadline = time.monotonic() + timeout_s
    try:
        while True:
            if proc.poll() is not None:
                pytest.fail(f"{command[0:3]} exited with {proc.returncode} before serving:\n{_tail(log_path)}")
            try:
                request = urllib.request.Request(health_url, headers=headers or {})
                with urllib.request.urlopen(request, timeout=2):
                    break
            except urllib.error.HTTPError:
                break  # it answers
            except OSError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"{command[0:3]} did not answer {health_url} within {timeout_s:.0f} s:\n{_tail(log_path)}")
            time.sleep(0.3)
        yield proc
    finally:
        proc.terminate()
        reap(proc, 15)
        log.close()


def reap(proc: subprocess.Popen, timeout_s: float) -> None:
    """Wait up to `timeout_s` for a process asked to stop, then kill it."""
    try:
        proc.wait(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def _tail(path: Path, n: int = 3000) -> str:
    return path.read_bytes()[-n:].decode("utf-8", "replace")


def python() -> str:
    """The interpreter running the tests (the project's venv)."""
    return sys.executable


def chroma_cli() -> str:
    """The `chroma` command next to the interpreter."""
    path = Path(sys.executable).with_name("chroma")
    if not path.exists():
        pytest.fail(f"the chroma CLI is missing at {path}: reinstall chromadb (scripts/setup.sh)")
    return str(path)


# ----- PostgreSQL ------------------------------------------------------------------------------------------------
PG_BIN = Path("/usr/lib/postgresql/15/bin")


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[str]:
    """A real PostgreSQL 15 on 127.0.0.1 (a free port, a temporary cluster owned by the `postgres` user, as
    `initdb` refuses root), for the session; yields its URL without a database name. Fails, never skips."""
    import shutil
    import tempfile

    if not (PG_BIN / "initdb").exists():
        pytest.fail(f"PostgreSQL 15 is missing ({PG_BIN}/initdb): run scripts/setup.sh --test-services (scripts/test does), which installs postgresql-15")
    as_postgres = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
    root = Path(tempfile.mkdtemp(prefix="shopguide-pg-"))
    if as_postgres:
        shutil.chown(root, "postgres", "postgres")
    data, log_path, port = root / "data", root / "server.log", free_port()
    try:
        init = subprocess.run([*as_postgres, str(PG_BIN / "initdb"), "-D", str(data), "-U", "postgres", "-A", "trust",
                               "-E", "UTF8", "--locale=C.UTF-8", "--no-sync"], capture_output=True, text=True)
        if init.returncode:
            pytest.fail(f"initdb failed ({init.returncode}):\n{init.stderr[-3000:]}")
        start = subprocess.run([*as_postgres, str(PG_BIN / "pg_ctl"), "-D", str(data), "-l", str(log_path), "-w",
                                "-t", "60", "-o", f"-p {port} -h 127.0.0.1 -k {root} -c fsync=off "
                                "-c synchronous_commit=off -c full_page_writes=off -c max_connections=200",
                                "start"], capture_output=True, text=True)
        if start.returncode:
            pytest.fail(f"PostgreSQL did not start ({start.returncode}):\n{start.stderr[-2000:]}\n{_tail(log_path)}")
        yield f"postgresql://postgres@127.0.0.1:{port}"
    finally:
        if (data / "postmaster.pid").exists():
            subprocess.run([*as_postgres, str(PG_BIN / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop"],
                           capture_output=True)
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def pg_url(postgres_server) -> Iterator[str]:
    """The URL of a fresh, empty database on the session's PostgreSQL, dropped after the test."""
    import uuid

    import psycopg

    name = f"t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(f"{postgres_server}/postgres", autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    yield f"{postgres_server}/{name}"
    with psycopg.connect(f"{postgres_server}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(params=["sqlite", "postgresql"])
def memory_target(request, tmp_path) -> str | Path:
    """Where a test's memory lives, once per backend: a SQLite file, then a fresh PostgreSQL database."""
    if request.param == "sqlite":
        return tmp_path / "m.db"
    return request.getfixturevalue("pg_url")

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
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


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

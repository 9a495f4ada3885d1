"""deploy/: with no Docker daemon here, the Compose file and systemd units are checked by parsing: every service
runs a known image or a real `shopguide` command line (parsed by the CLI's own parser), the proxy's upstreams
are the workers' ports, and the Dockerfile copies what exists."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest
import yaml

from shopguide.cli import build_parser

DEPLOY = Path(__file__).resolve().parents[1] / "deploy"
KNOWN_IMAGES = {"chromadb/chroma", "postgres", "ghcr.io/ggml-org/llama.cpp", "caddy"}


def _compose() -> dict:
    return yaml.safe_load((DEPLOY / "compose.yaml").read_text())


def _filled(args: list[str]) -> list[str]:
    """${VAR} placeholders (compose and systemd) and systemd's %i, filled as they would be at run time."""
    return [re.sub(r"\$\{[A-Z_]+\}", "https://shop.example.com", a).replace("%i", "1") for a in args]


def _parses(args: list[str]) -> None:
    try:
        build_parser().parse_args(_filled(args))
    except SystemExit:
        pytest.fail(f"not a shopguide command line: shopguide {' '.join(args)}")


def test_every_compose_service_runs_a_shopguide_command_or_a_known_image():
    services = _compose()["services"]
    assert {"chroma", "postgres", "llm", "worker1", "worker2", "proxy"} <= set(services)
    for name, service in services.items():
        if "build" in service:
            assert (DEPLOY / service["build"]["context"] / service["build"]["dockerfile"]).is_file()
            command = service["command"]
            assert command[0] == "shopguide", name
            _parses(command[1:])
        else:
            assert service["image"].rsplit(":", 1)[0] in KNOWN_IMAGES, name
    workers = [s for s in services.values() if "build" in s and s["command"][1] == "serve"]
    assert len(workers) == 2
    for w in workers:  # the servers, not the embedded stores, so that the workers share them
        assert w["environment"]["SHOPGUIDE_CHROMA_URL"].startswith("http://chroma:")
        assert w["environment"]["SHOPGUIDE_LLM_URL"].startswith("http://llm:") and w["environment"]["SHOPGUIDE_LLM_URL"].endswith("/v1")


def test_the_proxy_sends_each_platform_to_the_workers_ports():
    services = _compose()["services"]
    caddy = (DEPLOY / "Caddyfile").read_text()
    upstreams = re.findall(r"(\w+):(\d+)", caddy)
    assert upstreams
    for host, port in upstreams:
        command = services[host]["command"]
        ports = {command[i + 1] for i, a in enumerate(command) if a in ("--telegram-port", "--port")}
        assert port in ports, (host, port)
    assert "./Caddyfile:/etc/caddy/Caddyfile:ro" in services["proxy"]["volumes"]


def test_the_dockerfile_copies_what_exists():
    for line in (DEPLOY / "Dockerfile").read_text().splitlines():
        if line.startswith("COPY "):
            for source in line.split()[1:-1]:
                assert (DEPLOY.parent / source).exists(), source


@pytest.mark.parametrize("unit", sorted(p.name for p in (DEPLOY / "systemd").glob("*.service")))
def test_systemd_units_run_real_commands(unit):
    text = (DEPLOY / "systemd" / unit).read_text()
    lines = [line.split("=", 1)[1] for line in text.splitlines() if line.startswith(("ExecStart=", "ExecStartPre="))]
    assert lines
    for line in lines:
        argv = shlex.split(line)
        program = Path(argv[0]).name
        if program == "shopguide":
            _parses(argv[1:])
        elif program == "chroma":
            assert argv[1] == "run" and "--path" in argv
        else:
            assert program == "python" and argv[1:3] == ["-m", "llama_cpp.server"]
    assert "[Install]" in text

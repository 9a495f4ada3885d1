"""SHOPGUIDE_CHROMA_URL: ingest and search end to end against a real `chroma run` server on 127.0.0.1: the same
collections and ids, re-ingest idempotent (nothing re-embedded), and a server that is down named at start-up."""

from __future__ import annotations

import pytest

from knowledge.base import KnowledgeBase
from knowledge.ingest import ingest_records
from knowledge.schema import Product
from knowledge.search import ProductSearch
from knowledge.vector_server import http_client, remote_index
from knowledge.vectors import COLLECTIONS
from shopguide.cli.app import open_knowledge
from shopguide.errors import NotConfigured
from shopguide.settings import Settings
from tests.servers import chroma_cli, free_port, serving

PRODUCTS = [Product(id="P1", title="Trail running shoe", brand="Acme", price=89.0),
            Product(id="P2", title="Insulated water bottle", brand="Acme", price=25.0),
            Product(id="P3", title="Camping stove with fuel canister", brand="Brightflame", price=59.0)]


@pytest.fixture(scope="module")
def chroma_url(tmp_path_factory):
    port = free_port()
    base = tmp_path_factory.mktemp("chroma")
    command = [chroma_cli(), "run", "--host", "127.0.0.1", "--port", str(port), "--path", str(base / "data")]
    with serving(command, f"http://127.0.0.1:{port}/api/v2/heartbeat", base / "server.log", timeout_s=60):
        yield f"http://127.0.0.1:{port}"


def test_ingest_and_search_through_the_server(tmp_path, embedder, chroma_url):
    kb = KnowledgeBase(tmp_path / "kb", embedder, vectors=remote_index(chroma_url))
    try:
        first = ingest_records(kb, "product", PRODUCTS)
        assert first.added == 3 and kb.vectors.count("product") >= 3
        assert not (tmp_path / "kb" / "chroma").exists()  # nothing embedded on disk
        again = ingest_records(kb, "product", PRODUCTS)
        assert again.unchanged == 3 and again.embedded_chunks == 0  # idempotent by id and content hash
        names = {c.name for c in http_client(chroma_url).list_collections()}
        assert COLLECTIONS["product"] in names
        hits = ProductSearch(kb).search("something to cook on at a campsite", mode="vector", top_k=1)
        assert hits.ids() == ["P3"]
        assert ProductSearch(kb).search("water bottle", top_k=1).ids() == ["P2"]
    finally:
        kb.close()


def test_settings_open_the_server_and_a_wrong_url_is_named(tmp_path, chroma_url):
    kb = open_knowledge(Settings(data_dir=tmp_path / "d", chroma_url=chroma_url))
    try:
        assert kb.vectors.client.heartbeat()
    finally:
        kb.close()
    with pytest.raises(NotConfigured, match="SHOPGUIDE_CHROMA_URL"):
        open_knowledge(Settings(data_dir=tmp_path / "e", chroma_url=f"http://127.0.0.1:{free_port()}"))
    with pytest.raises(NotConfigured, match="SHOPGUIDE_CHROMA_URL"):
        http_client("chroma:8000")


def test_doctor_finds_the_server(tmp_path, chroma_url):
    from shopguide.cli.doctor import check_vectors

    check = check_vectors(Settings(data_dir=tmp_path, chroma_url=chroma_url))
    assert check.state == "ok" and chroma_url in check.detail


def test_the_embedded_store_is_uploaded_as_it_is(tmp_path, embedder, chroma_url, capsys, monkeypatch):
    from shopguide.cli import main

    data = tmp_path / "shop"
    kb = KnowledgeBase(data, embedder)  # an existing shop, embedded
    ingest_records(kb, "product", PRODUCTS[:2])
    hashes = kb.vectors.hashes("product")  # chunk id -> content hash
    before = kb.vectors.get_vectors("product", list(hashes))
    kb.close()
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SHOPGUIDE_DATA_DIR", str(data))
    monkeypatch.setenv("SHOPGUIDE_CHROMA_URL", chroma_url)
    assert main(["vectors", "upload"]) == 0
    assert f"product: {len(hashes)} vectors" in capsys.readouterr().out
    server = remote_index(chroma_url)
    assert {k: v for k, v in server.hashes("product").items() if k in hashes} == hashes
    after = server.get_vectors("product", list(hashes))
    assert all(abs(after[k] - before[k]).max() < 1e-6 for k in hashes)
    assert main(["vectors", "upload"]) == 0 and server.hashes("product").keys() >= hashes.keys()  # again: the same

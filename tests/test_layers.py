"""The package's layers and import graph: the import-linter contracts in pyproject.toml hold, and no cycles."""

from __future__ import annotations

import ast
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


def _located(graph: grimp.ImportGraph, importer: str, imported: str) -> str:
    lines = sorted({d["line_number"] for d in graph.get_import_details(importer=importer, imported=imported)})
    return f"{importer} -> {imported} (l.{', l.'.join(map(str, lines))})"


def test_no_module_imports_itself_through_others():
    """No import cycles between modules, counting imports inside functions; imports only for type checkers
    (`if TYPE_CHECKING:`) are left out, since annotations may name each other without a runtime cycle."""
    graph = grimp.build_graph(*PACKAGES, exclude_type_checking_imports=True, cache_dir=None)
    cycles: dict[frozenset[str], list[str]] = {}
    for module in sorted(graph.modules):
        for imported in sorted(graph.find_modules_directly_imported_by(module)):
            back = graph.find_shortest_chain(importer=imported, imported=module)
            if back is None:
                continue
            ring = [module, *back]
            cycles.setdefault(frozenset(ring), [_located(graph, a, b) for a, b in zip(ring, ring[1:])])
    assert not cycles, "import cycles:\n" + "\n".join("  " + "; ".join(steps) for steps in cycles.values())


def test_every_module_opens_with_a_line_saying_what_it_owns():
    missing = []
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            doc = ast.get_docstring(ast.parse(path.read_text(encoding="utf-8")))
            if not doc or not doc.splitlines()[0].strip():
                missing.append(str(path.relative_to(ROOT)))
    assert not missing, "modules without an opening docstring: " + ", ".join(missing)

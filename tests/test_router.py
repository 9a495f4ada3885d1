"""One router: handlers never import or call each other in a circle; the core dispatches a handler's Reroute."""

from __future__ import annotations

import ast
from pathlib import Path

BOT = Path(__file__).resolve().parent.parent / "bot"
HANDLERS = ("conversation", "products", "shopping", "ordering")


def _imports(module: str) -> set[str]:
    """Every bot module `module` imports, at the top or inside a function."""
    tree = ast.parse((BOT / f"{module}.py").read_text(encoding="utf-8"))
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("bot."):
            found.add(node.module.split(".")[1])
        elif isinstance(node, ast.Import):
            found |= {a.name.split(".")[1] for a in node.names if a.name.startswith("bot.")}
    return found


def test_the_handler_modules_import_each_other_in_one_direction_only():
    graph = {m: _imports(m) & set(HANDLERS) for m in HANDLERS}
    seen: set[str] = set()

    def visit(m: str, path: tuple[str, ...]) -> None:
        assert m not in path, "import cycle: " + " -> ".join((*path, m))
        if m in seen:
            return
        for n in graph[m]:
            visit(n, (*path, m))
        seen.add(m)

    for m in HANDLERS:
        visit(m, ())


async def test_a_handler_that_finds_the_turn_is_anothers_reroutes_it(runtime_no_llm):
    from bot.types import IncomingMessage

    core = runtime_no_llm.assistant
    [reply] = await core.handle(IncomingMessage("console", "u", "c", "do you have Patagonia?"))
    assert "couldn't find that in our catalog" in reply.text  # search -> not_in_catalog, through the core

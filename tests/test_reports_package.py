"""The reports package has no import circle: its modules import each other downward only."""

from __future__ import annotations

import ast
from graphlib import CycleError, TopologicalSorter
from pathlib import Path

import bot.services.reports as package

PACKAGE = package.__name__
FOLDER = Path(package.__file__).parent
MODULES = sorted(p.stem for p in FOLDER.glob("*.py") if p.stem != "__init__")


def imported(module: str) -> set[str]:
    """Modules of the package that `module` imports, at its top or inside a function."""
    found: set[str] = set()
    for node in ast.walk(ast.parse((FOLDER / f"{module}.py").read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module:
            if node.module == PACKAGE:  # from bot.services.reports import text
                found.update(f"{PACKAGE}.{alias.name}" for alias in node.names)
            elif node.module.startswith(PACKAGE + "."):
                found.add(node.module)
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.startswith(PACKAGE + "."))
    return {name.removeprefix(PACKAGE + ".") for name in found}


def test_the_modules_import_each_other_without_a_circle() -> None:
    graph = {module: imported(module) for module in MODULES}
    for module, targets in graph.items():
        # a name taken from the package itself would run __init__, which imports them all
        assert targets <= set(MODULES), f"{module} imports {targets - set(MODULES)}"
    try:
        order = list(TopologicalSorter(graph).static_order())
    except CycleError as exc:
        raise AssertionError(f"import circle: {exc.args[1]}") from None
    # the lowest layers first, the service on top
    assert order.index("period") < order.index("model") < order.index("service")
    assert "charts" not in graph["text"] and "service" not in graph["charts"]

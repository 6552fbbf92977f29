"""The import graph of the package, read from the source: layered and free of cycles.

Imports flow cli → compat → engine only, and no module may take part in a cycle.
Every import statement counts, also the deferred ones inside functions (a lazy
import still ties the modules together); imports only for type checkers
(``if TYPE_CHECKING:``) do not, since they never run.
"""

from __future__ import annotations

import ast
from pathlib import Path

from tests.support.corpus import REPO

PACKAGES = ("engine", "compat", "cli")
ALLOWED = {"engine": set(), "compat": {"engine"}, "cli": {"compat", "engine"}}


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(REPO).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(["pdfbinder", *parts])


def _modules() -> dict[str, Path]:
    return {
        _module_name(path): path for package in PACKAGES for path in (REPO / package).rglob("*.py")
    }


def _type_checking_only(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _imported(tree: ast.AST, name: str, is_package: bool) -> set[str]:
    """Absolute names this module imports (``from X import y``: X.y when that is a module)."""
    found: set[str] = set()
    pending: list[ast.AST] = [tree]
    while pending:
        node = pending.pop()
        if isinstance(node, ast.If) and _type_checking_only(node):
            pending.extend(node.orelse)
            continue
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                anchor = name.split(".")
                anchor = anchor[: len(anchor) - node.level + (1 if is_package else 0)]
                base = ".".join([*anchor, *([node.module] if node.module else [])])
            else:
                base = node.module or ""
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)
        pending.extend(ast.iter_child_nodes(node))
    return found


def _graph() -> dict[str, set[str]]:
    modules = _modules()
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        imported = _imported(tree, name, path.name == "__init__.py")
        graph[name] = {target for target in imported if target in modules} - {name}
    return graph


def _layer(module: str) -> str:
    return module.split(".")[1]


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(graph[node]):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                components.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return components


def test_the_graph_is_read_from_every_package() -> None:
    graph = _graph()
    assert {_layer(module) for module in graph} == set(PACKAGES)
    assert "pdfbinder.engine.errors" in graph["pdfbinder.engine.images.convert"]
    assert any(_layer(target) == "engine" for target in graph["pdfbinder.compat.executor"])


def test_imports_flow_cli_to_compat_to_engine_only() -> None:
    wrong = [
        f"{module} imports {target}"
        for module, targets in sorted(_graph().items())
        for target in sorted(targets)
        if _layer(target) != _layer(module) and _layer(target) not in ALLOWED[_layer(module)]
    ]
    assert not wrong, "\n".join(wrong)


def test_no_module_takes_part_in_an_import_cycle() -> None:
    cycles = _cycles(_graph())
    assert not cycles, "\n".join(" ↔ ".join(cycle) for cycle in cycles)


def test_the_checks_catch_a_cycle_and_a_wrong_direction() -> None:
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    tree = ast.parse("from ..compat import app\nfrom . import errors\nimport pdfbinder.cli.app")
    assert _imported(tree, "pdfbinder.engine.report", is_package=False) >= {
        "pdfbinder.compat.app",
        "pdfbinder.engine.errors",
        "pdfbinder.cli.app",
    }

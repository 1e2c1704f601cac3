"""The package's own import structure: no cycles, and every deferred import says why."""
from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "ganzoo"


def _modules() -> dict[str, Path]:
    out = {}
    for path in PACKAGE.rglob("*.py"):
        parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        out[".".join(parts)] = path
    return out


MODULES = _modules()


def _is_type_checking(node: ast.AST) -> bool:
    return isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test)


def _imports(name: str, path: Path) -> list[tuple[ast.stmt, bool]]:
    """(import statement, nested in a function) for every import outside TYPE_CHECKING blocks."""
    found: list[tuple[ast.stmt, bool]] = []

    def walk(node: ast.AST, nested: bool) -> None:
        for child in ast.iter_child_nodes(node):
            if _is_type_checking(child):
                continue
            if isinstance(child, (ast.Import, ast.ImportFrom)):
                found.append((child, nested))
            walk(child, nested or isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)))

    walk(ast.parse(path.read_text()), False)
    return found


def _targets(name: str, path: Path, node: ast.stmt) -> set[str]:
    """The ganzoo modules an import statement loads."""
    if isinstance(node, ast.Import):
        return {a.name for a in node.names if a.name in MODULES}
    assert isinstance(node, ast.ImportFrom)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    if node.level:
        base = package.split(".")[: len(package.split(".")) - node.level + 1]
        base_name = ".".join(base + ([node.module] if node.module else []))
    else:
        base_name = node.module or ""
    out = set()
    for alias in node.names:
        candidate = f"{base_name}.{alias.name}"
        if candidate in MODULES:
            out.add(candidate)
        elif base_name in MODULES:
            out.add(base_name)
    return out


def _graph() -> dict[str, set[str]]:
    return {
        name: set().union(*(_targets(name, path, node) for node, _ in _imports(name, path))) - {name}
        for name, path in MODULES.items()
    }


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    out: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                out.append(sorted(component))

    for v in graph:
        if v not in index:
            visit(v)
    return out


def test_no_import_cycles_between_ganzoo_modules() -> None:
    # Function-local imports count too: a cycle hidden inside a function is still a cycle.
    assert _cycles(_graph()) == []


def test_importing_hub_and_cards_loads_nothing_that_imports_them_back() -> None:
    code = "import sys, ganzoo.hub, ganzoo.cards; print(' '.join(m for m in sys.modules if m.startswith('ganzoo')))"
    loaded = set(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split())
    graph = _graph()
    for root in ("ganzoo.hub", "ganzoo.cards"):
        below, todo = set(), [root]
        while todo:  # everything root imports, directly or not
            for m in graph[todo.pop()] - below:
                below.add(m)
                todo.append(m)
        assert below <= loaded | {"ganzoo"}
        assert sorted(m for m in below if root in graph[m]) == [], f"modules imported by {root} import it back"


def test_every_deferred_import_says_why() -> None:
    # Imports belong at the top of a file; one inside a function (to keep `ganzoo list` and
    # `ganzoo --help` torch-free, or for an optional extra) carries a comment that says so.
    silent = []
    for name, path in MODULES.items():
        lines = path.read_text().splitlines()
        for node, nested in _imports(name, path):
            if not nested:
                continue
            nearby = lines[max(0, node.lineno - 3) : node.end_lineno]
            if not any("#" in line for line in nearby):
                silent.append(f"{path.relative_to(PACKAGE.parent)}:{node.lineno}")
    assert silent == []

"""No import cycles in mentormatch.solvers: every relative import, at module level or deferred
inside a function, read from the source (``from . import x`` counts as importing the package,
whose ``__init__`` runs first)."""
from __future__ import annotations

import ast
from pathlib import Path

import mentormatch

ROOT = Path(mentormatch.__file__).resolve().parent


def _module(path: Path) -> str:
    parts = list(path.relative_to(ROOT.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _exists(name: str) -> bool:
    base = ROOT.parent / name.replace(".", "/")
    return base.with_suffix(".py").exists() or (base / "__init__.py").exists()


def _graph() -> dict[str, set[str]]:
    edges: dict[str, set[str]] = {}
    for path in ROOT.rglob("*.py"):
        me = _module(path)
        package = me if path.name == "__init__.py" else me.rsplit(".", 1)[0]
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.level:
                base = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
                for name in [target] + [f"{target}.{a.name}" for a in node.names]:
                    if _exists(name) and name != me:
                        edges.setdefault(me, set()).add(name)
    return edges


def _cycle(edges: dict[str, set[str]], inside: str) -> list[str] | None:
    """A cycle among the modules under ``inside``, or None."""
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(edges.get(node, ())):
            if not nxt.startswith(inside):
                continue
            if state.get(nxt) == 1:
                return stack[stack.index(nxt):] + [nxt]
            if nxt not in state and (found := visit(nxt)):
                return found
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(edges):
        if node.startswith(inside) and node not in state and (found := visit(node)):
            return found
    return None


def test_no_import_cycle_in_solvers():
    edges = _graph()
    assert "mentormatch.solvers.bounded.remote" in edges["mentormatch.solvers.bounded.passes"]
    assert _cycle(edges, "mentormatch.solvers") is None, " -> ".join(_cycle(edges, "mentormatch.solvers"))


def test_the_cycle_finder_finds_a_cycle():
    assert _cycle({"a.x": {"a.y"}, "a.y": {"a.z"}, "a.z": {"a.x"}}, "a.") == ["a.x", "a.y", "a.z", "a.x"]
    assert _cycle({"a.x": {"a.y"}, "a.y": {"b.z"}, "b.z": {"a.x"}}, "a.") is None  # outside

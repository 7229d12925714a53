"""No import cycles in mentormatch: every relative import, at module level, deferred inside a
function or under ``if TYPE_CHECKING``, read from the source (``from . import x`` counts as
importing the package, whose ``__init__`` runs first).

``mentormatch.solvers`` has none. The whole package has none beyond the imports listed in
``KNOWN``, each of which closes a cycle still (found when the check was extended to every module,
2026-12): the test fails on any other cycle, and on a listed import that no longer closes one
(strike it from the list).
"""
from __future__ import annotations

import ast
import functools
from pathlib import Path

import mentormatch

ROOT = Path(mentormatch.__file__).resolve().parent


def _module(path: Path) -> str:
    parts = list(path.relative_to(ROOT.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _exists(name: str) -> bool:
    base = ROOT.parent / name.replace(".", "/")
    return base.with_suffix(".py").exists() or (base / "__init__.py").exists()


@functools.lru_cache(maxsize=1)  # read-only: each test builds its own variants
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


# (importer, imported): why the import is there; each closes a cycle under the rule above.
_TOP = "reaches up to the top package, whose __init__ imports matching and pipeline: `from .. import " \
       "constraints as C` (import the names instead) or `from .. import pipeline as knobs`"
_KNOBS = "the settings tests patch on the package (LARGE_PAIRS, USE_BOUNDS, ...), read at call time " \
         "from the package that imports this module"
_FACADE = "a method of the result object (Matching.revise, what_if, sensitivity) calling the module " \
          "above it, which imports Matching (for annotations only)"
_SIBLING = "`from . import ledger` (a sibling module) counts as importing the programme package, " \
           "whose __init__ imports core, which imports this module"
_PROGRAMME = "the Programme type of the signatures, under TYPE_CHECKING: core imports this module"
_STORE = "`from . import FORMAT, Snapshot, files` from the store package, which picks folder or " \
         "sqlite at call time; `files` as a module, so that what tests patch there (LOCK_TIMEOUT, " \
         "fault_hook) is read at call time"
KNOWN = {
    ("mentormatch.pipeline.large", "mentormatch"): _TOP,
    ("mentormatch.pipeline.matrix", "mentormatch"): _TOP,
    ("mentormatch.pipeline.reader", "mentormatch"): _TOP,
    ("mentormatch.pipeline.tables", "mentormatch"): _TOP,
    ("mentormatch.pipeline.wrap", "mentormatch"): _TOP,
    ("mentormatch.programme.locks", "mentormatch"): _TOP + " (a test patches constraints.rule_masks there)",
    ("mentormatch.pipeline.large", "mentormatch.pipeline"): _KNOBS,
    ("mentormatch.pipeline.tables", "mentormatch.pipeline"): _KNOBS,
    ("mentormatch.pipeline.wrap", "mentormatch.pipeline"): _KNOBS,
    ("mentormatch.matching", "mentormatch.decisions"): _FACADE,
    ("mentormatch.matching", "mentormatch.whatif"): _FACADE,
    ("mentormatch.decisions", "mentormatch.programme"): "record_decisions closes declined pairs in "
                                                        "the ledger: `from .programme import ledger`",
    ("mentormatch.programme.core", "mentormatch.programme"): _SIBLING,
    ("mentormatch.programme.locks", "mentormatch.programme"): _SIBLING,
    ("mentormatch.programme.outcomes", "mentormatch.programme"): _SIBLING,
    ("mentormatch.programme.rematch", "mentormatch.programme"): _SIBLING,
    ("mentormatch.programme.rounds", "mentormatch.programme"): _SIBLING,
    ("mentormatch.programme.locks", "mentormatch.programme.core"): _PROGRAMME,
    ("mentormatch.programme.outcomes", "mentormatch.programme.core"): _PROGRAMME,
    ("mentormatch.programme.rematch", "mentormatch.programme.core"): _PROGRAMME,
    ("mentormatch.programme.rounds", "mentormatch.programme.core"): _PROGRAMME,
    ("mentormatch.programme.store.folder", "mentormatch.programme.store"): _STORE,
    ("mentormatch.programme.store.legacy", "mentormatch.programme.store"): _STORE,
    ("mentormatch.programme.store.sqlite", "mentormatch.programme.store"): _STORE,
}


def _without(edges: dict[str, set[str]], known) -> dict[str, set[str]]:
    return {a: {b for b in bs if (a, b) not in known} for a, bs in edges.items()}


def _reaches(edges: dict[str, set[str]], start: str, goal: str) -> bool:
    seen, todo = {start}, [start]
    while todo:
        for nxt in edges.get(todo.pop(), ()):
            if nxt == goal:
                return True
            if nxt not in seen:
                seen.add(nxt)
                todo.append(nxt)
    return False


def test_no_import_cycle_in_solvers():
    edges = _graph()
    assert "mentormatch.solvers.bounded.remote" in edges["mentormatch.solvers.bounded.passes"]
    assert _cycle(edges, "mentormatch.solvers") is None, " -> ".join(_cycle(edges, "mentormatch.solvers"))


def test_the_cycle_finder_finds_a_cycle():
    assert _cycle({"a.x": {"a.y"}, "a.y": {"a.z"}, "a.z": {"a.x"}}, "a.") == ["a.x", "a.y", "a.z", "a.x"]
    assert _cycle({"a.x": {"a.y"}, "a.y": {"b.z"}, "b.z": {"a.x"}}, "a.") is None  # outside


def test_no_import_cycle_in_the_package_beyond_the_known_ones():
    edges = _graph()
    assert {"mentormatch.pipeline", "mentormatch.programme.store.folder", "mentormatch.synthetic.people",
            "mentormatch.careers.framework", "mentormatch.batch"} <= set(edges)  # every module is read
    found = _cycle(_without(edges, KNOWN), "mentormatch")
    assert found is None, "a new import cycle: " + " -> ".join(found)


def test_each_known_import_still_closes_a_cycle():
    edges = _graph()
    gone = [k for k in KNOWN if k[1] not in edges.get(k[0], ())]
    assert not gone, f"no longer imported: strike {gone} from KNOWN"
    open_ = [k for k in KNOWN if not _reaches(edges, k[1], k[0])]
    assert not open_, f"no longer on a cycle: strike {open_} from KNOWN"


def test_matching_and_batch_import_neither_the_other_nor_through_a_cycle():
    """Regression: matching imported batch (portable_data, when pickled) and batch imports
    Matching; what both need is in mentormatch.portable, below both. whatif takes JobError and
    the pickling check from there too, and batch is on no cycle besides the known ones."""
    edges = _graph()
    assert "mentormatch.batch" not in edges["mentormatch.matching"]
    assert not edges.get("mentormatch.portable", set()) & {"mentormatch.matching", "mentormatch.batch",
                                                          "mentormatch.whatif"}
    assert not _reaches(_without(edges, KNOWN), "mentormatch.batch", "mentormatch.batch")
    assert not _reaches(_without(edges, KNOWN), "mentormatch.matching", "mentormatch.matching")


def test_the_cycle_helpers():
    edges = {"a.x": {"a.y"}, "a.y": {"a.z"}, "a.z": {"a.x"}}
    assert _reaches(edges, "a.y", "a.x") and not _reaches({"a.x": {"a.y"}}, "a.y", "a.x")
    assert _cycle(_without(edges, {("a.z", "a.x")}), "a.") is None

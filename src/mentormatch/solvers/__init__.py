"""Solvers: arrays in, assignment out. See :mod:`mentormatch.solvers.base` for the interface."""
from __future__ import annotations

from ..errors import UnknownNameError
from .base import AssignmentProblem, SideConstraints, Solution, SolverFn, SolverOptions

SOLVERS: dict[str, SolverFn] = {}


def register(name: str, fn: SolverFn) -> None:
    SOLVERS[name] = fn


def get_solver(name: str) -> SolverFn:
    _load_builtin()
    if name not in SOLVERS:
        raise UnknownNameError("solver", name, list(SOLVERS))
    return SOLVERS[name]


def _load_builtin() -> None:
    # Imported lazily so that `import mentormatch` stays cheap; each module registers itself.
    for optional in ("flow", "hungarian", "baselines", "cpsat", "stable", "fair"):
        try:
            __import__(f"{__name__}.{optional}")
        except ModuleNotFoundError as exc:  # module not written yet
            if exc.name != f"{__name__}.{optional}":
                raise


__all__ = ["AssignmentProblem", "SideConstraints", "Solution", "SolverOptions", "SOLVERS",
           "get_solver", "register"]

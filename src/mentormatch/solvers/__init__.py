"""Solvers: arrays in, assignment out. See :mod:`mentormatch.solvers.base` for the interface."""
from __future__ import annotations

import importlib

from ..errors import UnknownNameError
from .base import AssignmentProblem, SideConstraints, Solution, SolverFn, SolverOptions

SOLVERS: dict[str, SolverFn] = {}

#: Built-in solver name -> the module that registers it (imported on first use, so that
#: `import mentormatch` and a plain flow solve do not pay for scipy.optimize or CP-SAT).
BUILTIN: dict[str, str] = {
    "flow": "flowsolver", "hungarian": "hungarian", "random": "baselines", "greedy": "baselines",
    "cpsat": "cpsat", "mip": "engine", "stable": "stable", "maxmin": "fair", "leximin": "leximin",
}


def register(name: str, fn: SolverFn) -> None:
    """Make ``fn`` available as ``solver=name`` (a user's own solver, or a built-in one)."""
    SOLVERS[name] = fn


def get_solver(name: str) -> SolverFn:
    """The solver registered as ``name``; an unknown name raises and lists the known ones."""
    if name not in SOLVERS and name in BUILTIN:
        importlib.import_module(f"{__name__}.{BUILTIN[name]}")
    if name not in SOLVERS:
        _load_builtin()
        raise UnknownNameError("solver", name, sorted(set(SOLVERS) | set(BUILTIN)))
    return SOLVERS[name]


def _load_builtin() -> None:
    for module in sorted(set(BUILTIN.values())):
        importlib.import_module(f"{__name__}.{module}")


__all__ = ["AssignmentProblem", "SideConstraints", "Solution", "SolverOptions", "SOLVERS",
           "BUILTIN", "get_solver", "register"]
